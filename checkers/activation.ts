// Which checkers check: keepalived's per-checker `enabled` flag (check_api.c). Every checker starts enabled, except
// that one of a virtual server with ha_suspend whose address is on none of this host's interfaces starts disabled
// (register_checkers_thread); the host's address changes then switch the checkers of such a server
// (update_checker_activity, fed by the checker process's netlink reflector: every address, whatever put it there).
// A disabled checker makes no check and its real server keeps its state; the IPVS service stays as it is.
// I/O-free: the configuration and address events in; the log lines and the suspended virtual servers out.
import type { Config, VirtualServer } from '../src/config/model.js';
import { formatIp, parseIp } from '../src/net/addr.js';
import { launches } from './messages.js';

/** One address on one interface, as RTM_NEWADDR / RTM_DELADDR give it. */
export interface HostAddress {
  readonly ifindex: number;
  readonly family: 4 | 6;
  readonly address: string;
  readonly prefixlen: number;
}

/** One checker of an ha_suspend virtual server, in configuration order. */
interface Switch {
  readonly rs: string;
  /** FILE_CHECK and BFD_CHECK have no thread: register_checkers_thread neither logs nor disables them. */
  readonly launches: boolean;
  enabled: boolean;
}

interface Watched {
  readonly vs: VirtualServer;
  /** The canonical address the reflector's events are compared with; undefined for a group, which never matches. */
  readonly address?: string;
  readonly family?: 4 | 6;
  /** keepalived's ha_suspend_addr_count: how many interfaces carry the address (the same one twice counts twice). */
  count: number;
  readonly checkers: Switch[];
}

/** What to log: `detail` only under -D (keepalived's LOG_DETAIL_BIT). */
export interface Logged {
  readonly detail: readonly string[];
  readonly info: readonly string[];
}

export interface HaSuspendStatus {
  readonly vsId: string;
  /** Times the virtual server's address is on this host's interfaces. */
  readonly addresses: number;
  /** Its checkers make no checks. */
  readonly suspended: boolean;
}

const line = (what: 'Activating' | 'Deactivating' | 'Suspending', rs: string, vs: string): string =>
  `${what} healthchecker for service ${rs} for VS ${vs}`;

const reported = (kind: 'new' | 'del', a: HostAddress): string => `Netlink reflector reports IP ${a.address} ${kind === 'new' ? 'added' : 'removed'}`;

const matches = (w: Watched, a: HostAddress): boolean => w.family === a.family && w.address === a.address;

/** Launched checkers switch together: one off means all. */
const off = (w: Watched): boolean => w.checkers.some((c) => c.launches && !c.enabled);

/** Whether a configuration needs the reflector (check_data.c: using_ha_suspend, fwmark services already cleared). */
export const usesHaSuspend = (config: Pick<Config, 'virtualServers'>): boolean => config.virtualServers.some((vs) => vs.haSuspend);

const NOTHING: Logged = { detail: [], info: [] };

export class CheckerActivation {
  /**
   * The host's addresses by interface, address and prefix. keepalived counts every RTM_NEWADDR, so an address
   * reported again (IPv6 does when duplicate address detection ends; a changed lifetime does) counts twice and its
   * one removal leaves the checkers on; lvskeeper counts the addresses themselves.
   */
  private readonly present = new Map<string, HostAddress>();
  private watched: Watched[] = [];

  /**
   * register_checkers_thread, at start and at each reload: every launched checker's `Activating` line, or
   * `Deactivating` for one of an ha_suspend server whose address is not here. A reload keeps the counts
   * (ipwrapper.c clear_diff_services carries ha_suspend_addr_count): they are taken from the addresses seen so far.
   * keepalived starts a server that is new at a reload from 0 (its reflector dumps only when it opens), which leaves
   * its checkers off while its address is here; lvskeeper counts it as it counts the others.
   * `dumped`: the reflector has just read the addresses, which keepalived reports as it reads them (its dump comes
   * once the servers are known).
   */
  load(config: Pick<Config, 'virtualServers'>, dumped = false): Logged {
    const lines: string[] = [];
    this.watched = [];
    for (const vs of config.virtualServers) {
      const w = vs.haSuspend ? this.watch(vs) : undefined;
      for (const rs of vs.realServers) {
        for (const c of rs.checkers) {
          const launched = launches(c);
          const enabled = !(launched && w !== undefined && w.count === 0);
          w?.checkers.push({ rs: rs.displayName, launches: launched, enabled });
          if (launched) lines.push(line(enabled ? 'Activating' : 'Deactivating', rs.displayName, vs.displayName));
        }
      }
      if (w) this.watched.push(w);
    }
    const present = dumped ? [...this.present.values()].filter((a) => this.watched.some((w) => matches(w, a))) : [];
    return { detail: present.map((a) => reported('new', a)), info: lines };
  }

  /**
   * update_checker_activity: an address added to or removed from an interface. Each matching ha_suspend server's
   * count moves; its checkers start on any address, and stop when the last one goes.
   */
  address(kind: 'new' | 'del', a: HostAddress): Logged {
    const key = `${a.ifindex} ${a.address}/${a.prefixlen}`;
    if (kind === 'new' ? this.present.has(key) : !this.present.has(key)) return NOTHING;
    if (kind === 'new') this.present.set(key, a);
    else this.present.delete(key);
    const enable = kind === 'new';
    const lines: string[] = [];
    let matched = false;
    for (const w of this.watched) {
      if (!matches(w, a)) continue;
      matched = true;
      w.count += enable ? 1 : -1;
      for (const c of w.checkers) {
        if (enable === c.enabled || (!enable && w.count > 0)) continue;
        lines.push(line(enable ? 'Activating' : 'Suspending', c.rs, w.vs.displayName));
        c.enabled = enable;
      }
    }
    return { detail: matched ? [reported(kind, a)] : [], info: lines };
  }

  /**
   * The addresses a fresh dump found, after the reflector lost events (its socket overran): the differences, as
   * events, so counts and checkers end where the host is.
   */
  resync(addresses: readonly HostAddress[]): Logged {
    const now = new Map(addresses.map((a) => [`${a.ifindex} ${a.address}/${a.prefixlen}`, a]));
    const steps = [...this.present].filter(([key]) => !now.has(key)).map(([, a]) => this.address('del', a));
    for (const a of now.values()) steps.push(this.address('new', a));
    return { detail: steps.flatMap((l) => l.detail), info: steps.flatMap((l) => l.info) };
  }

  /** Virtual servers whose launched checkers are disabled. */
  suspended(): Set<string> {
    return new Set(this.watched.filter(off).map((w) => w.vs.displayName));
  }

  status(): HaSuspendStatus[] {
    return this.watched.map((w) => ({ vsId: w.vs.displayName, addresses: w.count, suspended: off(w) }));
  }

  private watch(vs: VirtualServer): Watched {
    // check_api.c addr_matches: a server given by a group never matches (it returns false for any vsg), so its
    // checkers stay off.
    if (vs.key.kind !== 'ip') return { vs, count: 0, checkers: [] };
    const address = formatIp(parseIp(vs.key.address));
    const family = vs.key.family === 'inet6' ? 6 : 4;
    let count = 0;
    for (const a of this.present.values()) if (a.family === family && a.address === address) count++;
    return { vs, address, family, count, checkers: [] };
  }
}
