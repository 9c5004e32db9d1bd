// interface_up_down_delays: a link going down (or up) is acted on only once it has stayed so for the interface's
// delay, as keepalived_netlink.c update_interface_flags / delayed_if_flags_change_thread do it. I/O-free: link
// notifications and the clock in, "act now" and log lines out; the adapter arms one timer for nextDue().
//
//   class LinkDebounce
//     setDelays(delays)                         a (re)load's interface_up_down_delays
//     seed(name, flags)                         an interface as listed at start (netlink_if_link_populate)
//     change(name, flags, deleted, now): LinkVerdict
//     nextDue(): number | undefined             the earliest delayed change's clock time
//     due(now): { name, up }[]                  the delayed changes whose time has come, now acted on
import type { UpDownDelay } from '../config/model.js';

// include/uapi/linux/if.h
const IFF_UP = 0x1;
const IFF_RUNNING = 0x40;

/** vrrp_if.h FLAGS_UP: up for VRRP means IFF_UP and IFF_RUNNING. */
const flagsUp = (flags: number): boolean => (flags & (IFF_UP | IFF_RUNNING)) === (IFF_UP | IFF_RUNNING);

interface Iface {
  /** The flags last acted on (keepalived's ifp->ifi_flags, only changed when up/down is acted on). */
  flags: number;
  /** ifp->seen_up: no delay before the interface has been seen up (nor after it was deleted). */
  seenUp: boolean;
  /** The delayed change (ifp->flags_change_thread): its flags and clock time. */
  pending?: { flags: number; readonly due: number };
}

export interface LinkVerdict {
  /** The up/down change is to be acted on now. */
  readonly act: boolean;
  readonly lines: readonly string[];
}

const NOTHING: LinkVerdict = { act: false, lines: [] };

export class LinkDebounce {
  private readonly ifaces = new Map<string, Iface>();
  private delays = new Map<string, UpDownDelay>();

  constructor(delays: readonly UpDownDelay[]) {
    this.setDelays(delays);
  }

  /** The later of two lines for an interface wins, as each overwrites ifp's timers (vrrp_parser.c alloc_if_up_down_delay). */
  setDelays(delays: readonly UpDownDelay[]): void {
    this.delays = new Map(delays.map((d) => [d.name, d]));
  }

  seed(name: string, flags: number): void {
    this.ifaces.set(name, { flags, seenUp: flagsUp(flags) });
  }

  /** A RTM_NEWLINK / RTM_DELLINK for the interface (a deleted one counts as flags 0, never delayed). */
  change(name: string, newFlags: number, deleted: boolean, now: number): LinkVerdict {
    const i = this.ifaces.get(name);
    if (i === undefined) {
      // A new interface is populated with its flags (netlink_if_link_populate): nothing delayed.
      this.seed(name, newFlags);
      return { act: true, lines: [] };
    }
    if (deleted) i.seenUp = false;
    const flags = deleted ? 0 : newFlags;
    // Back to the flags acted on: a delayed change is dropped without a word.
    if (flags === i.flags) {
      delete i.pending;
      return NOTHING;
    }
    const nowUp = flagsUp(flags);
    const lines: string[] = [];
    if (i.pending) {
      if (flags === i.pending.flags) return NOTHING;
      // Still the same way as the delayed change: it carries the newer flags.
      if (flagsUp(i.pending.flags) === nowUp) {
        i.pending.flags = flags;
        return NOTHING;
      }
      delete i.pending;
      lines.push(`Delay timer for ${name} cancelled`);
    }
    if (flagsUp(i.flags) === nowUp) return { act: false, lines };
    const d = this.delays.get(name);
    const us = d === undefined ? 0 : nowUp ? d.upUs : d.downUs;
    if (i.seenUp && us > 0) {
      i.pending = { flags, due: now + us / 1000 };
      lines.push(`${name}: Adding flags change from 0x${i.flags.toString(16)} to 0x${flags.toString(16)} delay by ${us}`);
      return { act: false, lines };
    }
    this.apply(i, flags);
    return { act: true, lines };
  }

  nextDue(): number | undefined {
    let next: number | undefined;
    for (const i of this.ifaces.values()) if (i.pending && (next === undefined || i.pending.due < next)) next = i.pending.due;
    return next;
  }

  due(now: number): { readonly name: string; readonly up: boolean }[] {
    const out: { name: string; up: boolean }[] = [];
    for (const [name, i] of this.ifaces) {
      if (!i.pending || i.pending.due > now) continue;
      this.apply(i, i.pending.flags);
      delete i.pending;
      out.push({ name, up: flagsUp(i.flags) });
    }
    return out;
  }

  private apply(i: Iface, flags: number): void {
    i.flags = flags;
    if (flagsUp(flags)) i.seenUp = true;
  }
}
