// vrrp_garp_interval / vrrp_gna_interval (keepalived 2.2.7 vrrp_arp.c send_gratuitous_arp / queue_garp,
// vrrp_scheduler.c vrrp_arp_thread / vrrp_arpna_send): the least time between two gratuitous ARPs, or two unsolicited
// NAs, on one interface. A frame due sooner is queued; an address already queued is not queued twice (keepalived
// keeps one garp_gna_pending flag per address, so a burst's repeats collapse), and each time the interval has passed
// the queued address first in its instance's list goes.
//
//   class AnnouncePacer
//     constructor(clock: Clock)
//     send(key, intervalMs, item: { id, rank }, fn): void   key: interface and kind (`4/IFINDEX`); id: the address;
//                                                           rank: its place in the VIP list; 0 ms sends at once
import type { Clock, TimerHandle } from '../clock.js';

interface Lane {
  /** The earliest time the next frame may go. */
  next: number;
  readonly pending: Map<string, { readonly rank: number; readonly fn: () => void }>;
  timer?: TimerHandle;
}

export class AnnouncePacer {
  private readonly lanes = new Map<string, Lane>();

  constructor(private readonly clock: Clock) {}

  send(key: string, intervalMs: number, item: { readonly id: string; readonly rank: number }, fn: () => void): void {
    if (intervalMs <= 0) {
      fn();
      return;
    }
    let lane = this.lanes.get(key);
    if (!lane) {
      lane = { next: 0, pending: new Map() };
      this.lanes.set(key, lane);
    }
    const now = this.clock.now();
    if (lane.pending.size === 0 && now >= lane.next) {
      fn();
      lane.next = now + intervalMs;
      return;
    }
    if (lane.pending.has(item.id)) return;
    lane.pending.set(item.id, { rank: item.rank, fn });
    this.arm(lane, intervalMs);
  }

  private arm(lane: Lane, intervalMs: number): void {
    if (lane.timer !== undefined) return;
    lane.timer = this.clock.setTimeout(() => {
      delete lane.timer;
      let first: [string, { rank: number; fn: () => void }] | undefined;
      for (const e of lane.pending) if (!first || e[1].rank < first[1].rank) first = e;
      if (!first) return;
      lane.pending.delete(first[0]);
      first[1].fn();
      lane.next = this.clock.now() + intervalMs;
      if (lane.pending.size > 0) this.arm(lane, intervalMs);
    }, Math.max(0, lane.next - this.clock.now()));
  }
}
