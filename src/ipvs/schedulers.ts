// The IPVS schedulers as pure code over destination state, following net/netfilter/ipvs/ip_vs_<name>.c.
// Destinations are kept in the kernel's list order: a new destination goes to the head (list_add_rcu), so the
// newest is first. A scheduler returns an index into that list, or -1 ("no destination available").
// Weight 0 (quiesced) and overloaded (upper threshold reached) destinations are never chosen for new connections.
import { ipv4ToInt, ipv6ToBig } from '../config/address.js';
import type { AddressFamily, Scheduler, ServiceFlags } from './types.js';
import { IP_VS_SVC_F_SCHED_MH_FALLBACK, IP_VS_SVC_F_SCHED_MH_PORT, IP_VS_SVC_F_SCHED_SH_FALLBACK, IP_VS_SVC_F_SCHED_SH_PORT } from './uapi.js';

const hasFlag = (flags: ServiceFlags, bit: number): boolean => ((flags.schedFlags ?? 0) & bit) !== 0;

/** What a scheduler reads about one destination; the driver owns and updates it. */
export interface SchedDest {
  readonly family: AddressFamily;
  readonly address: string;
  readonly port: number;
  readonly weight: number;
  /** The last non-zero weight (kernel dest->last_weight): mh keeps a quiesced destination's table slots. */
  readonly lastWeight: number;
  readonly activeConns: number;
  readonly inactiveConns: number;
  /** IP_VS_DEST_F_OVERLOAD: total connections reached the upper threshold. */
  readonly overloaded: boolean;
}

/** The packet facts the kernel schedulers look at. */
export interface SchedRequest {
  readonly clientAddress: string;
  readonly clientPort: number;
  /** The virtual address (dh and the locality schedulers hash the destination address). */
  readonly serviceAddress: string;
  readonly family: AddressFamily;
}

export interface SchedulerState {
  readonly name: Scheduler;
  pick(dests: readonly SchedDest[], req: SchedRequest): number;
  /** A destination was added at the head of the list (index 0). */
  added(dests: readonly SchedDest[]): void;
  /** A destination's weight or thresholds changed. */
  changed(dests: readonly SchedDest[]): void;
  /** The destination at `index` was removed; `dests` no longer holds it. */
  removed(dests: readonly SchedDest[], index: number): void;
}

const available = (d: SchedDest): boolean => d.weight > 0 && !d.overloaded;

/** ip_vs_dest_conn_overhead: active connections weigh 256 times an inactive one. */
const connOverhead = (d: SchedDest): number => d.activeConns * 256 + d.inactiveConns;

function gcd(a: number, b: number): number {
  while (b) [a, b] = [b, a % b];
  return a;
}

/** ip_vs_rr.c: the successor of the last chosen destination, skipping unavailable ones. */
class RoundRobin implements SchedulerState {
  readonly name = 'rr' as const;
  /** Index of the last chosen destination; -1 is the list head. */
  private last = -1;

  pick(dests: readonly SchedDest[]): number {
    const n = dests.length;
    for (let step = 1; step <= n; step++) {
      const i = (this.last + step) % n;
      if (available(dests[i]!)) {
        this.last = i;
        return i;
      }
    }
    return -1;
  }

  added(): void {
    // The new head shifts every index by one; the mark stays on the same destination.
    if (this.last >= 0) this.last++;
  }

  changed(): void {}

  removed(_dests: readonly SchedDest[], index: number): void {
    // ip_vs_rr_del_dest moves the mark to the previous entry, so the next pick is the removed one's successor.
    if (index <= this.last) this.last--;
  }
}

/** ip_vs_wrr.c: passes over the list with a current weight stepping down by the gcd of the weights. */
class WeightedRoundRobin implements SchedulerState {
  readonly name = 'wrr' as const;
  private cl = -1;
  private cw = 0;
  private mw = 0;
  private di = 1;

  constructor(dests: readonly SchedDest[]) {
    this.recompute(dests);
    this.cw = this.mw;
  }

  private recompute(dests: readonly SchedDest[]): void {
    let g = 0;
    let max = 0;
    for (const d of dests) {
      if (d.weight > 0) g = g > 0 ? gcd(d.weight, g) : d.weight;
      if (d.weight > max) max = d.weight;
    }
    this.di = g || 1;
    // Reduced by (di - 1) so the last pass runs at cw = 1 and catches weights that fell below di.
    this.mw = max - (this.di - 1);
  }

  changed(dests: readonly SchedDest[]): void {
    this.cl = -1;
    this.recompute(dests);
    if (this.cw > this.mw || !this.cw) this.cw = this.mw;
    else if (this.di > 1) this.cw = Math.trunc(this.cw / this.di) * this.di + 1;
  }

  added(dests: readonly SchedDest[]): void {
    this.changed(dests);
  }

  removed(dests: readonly SchedDest[]): void {
    this.changed(dests);
  }

  pick(dests: readonly SchedDest[]): number {
    if (this.mw <= 0 || dests.length === 0) return -1;
    const last = this.cl;
    let i = this.cl;
    let stop = -2;
    let lastPass = false;
    let restarted = false;
    for (;;) {
      for (i = i + 1; i < dests.length; i++) {
        const d = dests[i]!;
        if (!d.overloaded && d.weight >= this.cw) {
          this.cl = i;
          return i;
        }
        if (i === stop) {
          this.cl = i;
          return -1;
        }
      }
      i = -1;
      this.cw -= this.di;
      if (this.cw <= 0) {
        this.cw = this.mw;
        if (lastPass || last === -1) {
          this.cl = -1;
          return -1;
        }
        restarted = true;
      }
      lastPass = this.cw <= this.di;
      if (lastPass && restarted && last !== -1) stop = last;
    }
  }
}

/** Picks the destination minimising overhead/weight, first wins ties (wlc, sed and nq's comparison). */
function leastWeighted(dests: readonly SchedDest[], overhead: (d: SchedDest) => number, idleFirst: boolean): number {
  let best = -1;
  let bestOh = 0;
  for (let i = 0; i < dests.length; i++) {
    const d = dests[i]!;
    if (!available(d)) continue;
    if (idleFirst && d.activeConns === 0) return i;
    const oh = overhead(d);
    if (best < 0 || bestOh * d.weight > oh * dests[best]!.weight) {
      best = i;
      bestOh = oh;
    }
  }
  return best;
}

const stateless = (name: Scheduler, pick: (dests: readonly SchedDest[], req: SchedRequest) => number): SchedulerState => ({
  name,
  pick,
  added: () => undefined,
  changed: () => undefined,
  removed: () => undefined,
});

/** ip_vs_lc.c: least (active<<8)+inactive, weight only excludes zero. */
function leastConnection(dests: readonly SchedDest[]): number {
  let best = -1;
  let bestOh = 0;
  for (let i = 0; i < dests.length; i++) {
    const d = dests[i]!;
    if (!available(d)) continue;
    const oh = connOverhead(d);
    if (best < 0 || oh < bestOh) {
      best = i;
      bestOh = oh;
    }
  }
  return best;
}

/** ip_vs_fo.c: the available destination with the highest weight. */
function weightedFailover(dests: readonly SchedDest[]): number {
  let best = -1;
  for (let i = 0; i < dests.length; i++) {
    const d = dests[i]!;
    if (available(d) && (best < 0 || d.weight > dests[best]!.weight)) best = i;
  }
  return best;
}

/** ip_vs_ovf.c: the highest-weight destination whose active connections are still below its weight. */
function overflowConnection(dests: readonly SchedDest[]): number {
  let best = -1;
  for (let i = 0; i < dests.length; i++) {
    const d = dests[i]!;
    if (available(d) && d.activeConns < d.weight && (best < 0 || d.weight > dests[best]!.weight)) best = i;
  }
  return best;
}

/** ip_vs_twos.c: two weighted-random candidates, keep the one with less overhead per weight. */
function twoRandomChoices(random: () => number): (dests: readonly SchedDest[]) => number {
  return (dests) => {
    let total = 0;
    for (const d of dests) if (available(d)) total += d.weight;
    if (total === 0) return -1;
    let r1 = Math.floor(random() * total) + 1;
    let r2 = Math.floor(random() * total) + 1;
    let c1 = -1;
    let c2 = -1;
    for (let i = 0; i < dests.length && (c1 < 0 || c2 < 0); i++) {
      const d = dests[i]!;
      if (!available(d)) continue;
      r1 -= d.weight;
      r2 -= d.weight;
      if (c1 < 0 && r1 <= 0) c1 = i;
      if (c2 < 0 && r2 <= 0) c2 = i;
    }
    const a = dests[c1]!;
    const b = dests[c2]!;
    return connOverhead(b) * a.weight < connOverhead(a) * b.weight ? c2 : c1;
  };
}

/** ntohl(addr) for IPv4, the XOR of the four 32-bit words for IPv6 (the kernel's addr_fold). */
export function addrFold(family: AddressFamily, address: string): number {
  if (family === 'inet') return ipv4ToInt(address) >>> 0;
  const v = ipv6ToBig(address);
  let fold = 0;
  for (let w = 0; w < 4; w++) fold ^= Number((v >> BigInt(32 * w)) & 0xffffffffn);
  return fold >>> 0;
}

/** hash_32(val, bits) from include/linux/hash.h (GOLDEN_RATIO_32). */
function hash32(val: number, bits: number): number {
  return Math.imul(val >>> 0, 0x61c88647) >>> (32 - bits);
}

const SH_TAB_BITS = 8;
const SH_TAB_SIZE = 1 << SH_TAB_BITS;

/**
 * sh and mh share their lookup: a table of destination indexes, hashed by the client (with its port when asked),
 * and with `fallback` a walk along the probe sequence to the next available destination.
 */
abstract class ClientHashScheduler implements SchedulerState {
  abstract readonly name: Scheduler;
  private table: number[] = [];

  constructor(
    dests: readonly SchedDest[],
    private readonly fallback: boolean,
    private readonly usePort: boolean,
  ) {
    this.changed(dests);
  }

  protected abstract build(dests: readonly SchedDest[]): number[];

  /** The table slot for `clientKey`: offset 0 is the first choice, 1.. the fallback probe sequence. */
  protected abstract slot(clientKey: number, offset: number): number;

  changed(dests: readonly SchedDest[]): void {
    this.table = this.build(dests);
  }

  added(dests: readonly SchedDest[]): void {
    this.changed(dests);
  }

  removed(dests: readonly SchedDest[]): void {
    this.changed(dests);
  }

  pick(dests: readonly SchedDest[], req: SchedRequest): number {
    const clientKey = ((this.usePort ? req.clientPort : 0) + addrFold(req.family, req.clientAddress)) >>> 0;
    const first = this.table[this.slot(clientKey, 0)] ?? -1;
    if (first < 0) return -1;
    if (available(dests[first]!)) return first;
    if (!this.fallback) return -1;
    for (let offset = 1; offset <= this.table.length; offset++) {
      const d = this.table[this.slot(clientKey, offset)] ?? -1;
      if (d < 0) return -1;
      if (available(dests[d]!)) return d;
    }
    return -1;
  }
}

/** ip_vs_sh.c: 256 buckets filled in list order, each destination taking `weight` consecutive buckets. */
class SourceHash extends ClientHashScheduler {
  readonly name = 'sh' as const;

  protected build(dests: readonly SchedDest[]): number[] {
    const buckets = new Array<number>(SH_TAB_SIZE).fill(-1);
    if (dests.length === 0) return buckets;
    let p = 0;
    let count = 0;
    for (let i = 0; i < SH_TAB_SIZE; i++) {
      buckets[i] = p;
      if (++count >= dests[p]!.weight) {
        p = (p + 1) % dests.length;
        count = 0;
      }
    }
    return buckets;
  }

  protected slot(clientKey: number, offset: number): number {
    return (offset + hash32(clientKey, SH_TAB_BITS)) & (SH_TAB_SIZE - 1);
  }
}

/** ip_vs_dh.c: buckets hashed by the destination (virtual) address, one per destination in turn. */
class DestinationHash implements SchedulerState {
  readonly name = 'dh' as const;
  private buckets: number[] = [];

  constructor(dests: readonly SchedDest[]) {
    this.changed(dests);
  }

  changed(dests: readonly SchedDest[]): void {
    this.buckets = Array.from({ length: SH_TAB_SIZE }, (_, i) => (dests.length ? i % dests.length : -1));
  }

  added(dests: readonly SchedDest[]): void {
    this.changed(dests);
  }

  removed(dests: readonly SchedDest[]): void {
    this.changed(dests);
  }

  pick(dests: readonly SchedDest[], req: SchedRequest): number {
    const key = Math.imul(addrFold(req.family, req.serviceAddress), 2654435761) & (SH_TAB_SIZE - 1);
    const d = this.buckets[key] ?? -1;
    return d >= 0 && available(dests[d]!) ? d : -1;
  }
}

/** The MH table size: the smallest of the kernel's primes (CONFIG_IP_VS_MH_TAB_INDEX=8). */
export const MH_TAB_SIZE = 251;
const MH_TAB_BITS = 4;

/**
 * A 32-bit mix keyed by a seed. The kernel uses hsiphash with fixed keys; the userspace plane only needs the same
 * properties (uniform, stable across restarts), not the kernel's exact bucket for a given client.
 */
function mhHash(seed: number, v: number): number {
  let h = Math.imul((v ^ seed) >>> 0, 0xcc9e2d51);
  h = Math.imul((h << 15) | (h >>> 17), 0x1b873593) ^ seed;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

const MH_SEED1 = 2654435761 | 0;
const MH_SEED2 = 2654446892 | 0;

/** ip_vs_mh.c: Maglev lookup table; weights scale the turns each destination takes while filling it. */
class MaglevHash extends ClientHashScheduler {
  readonly name = 'mh' as const;

  protected build(dests: readonly SchedDest[]): number[] {
    const lookup = new Array<number>(MH_TAB_SIZE).fill(-1);
    let g = 0;
    let max = 0;
    for (const d of dests) {
      if (d.lastWeight > 0) g = g > 0 ? gcd(d.lastWeight, g) : d.lastWeight;
      if (d.lastWeight > max) max = d.lastWeight;
    }
    if (g < 1) return lookup;
    const shift = Math.max(0, 32 - Math.clz32(max / g) - MH_TAB_BITS);
    const setup = dests.map((d) => {
      const key = (d.port + addrFold(d.family, d.address)) >>> 0;
      const offset = mhHash(MH_SEED1, key) % MH_TAB_SIZE;
      const lw = d.lastWeight;
      return { perm: offset, skip: (mhHash(MH_SEED2, key) % (MH_TAB_SIZE - 1)) + 1, turns: (lw / g) >> shift || (lw !== 0 ? 1 : 0) };
    });
    const taken = new Uint8Array(MH_TAB_SIZE);
    let n = 0;
    while (n < MH_TAB_SIZE) {
      for (let p = 0; p < setup.length; p++) {
        const ds = setup[p]!;
        for (let turn = 0; turn < ds.turns; turn++) {
          while (taken[ds.perm]) {
            ds.perm += ds.skip;
            if (ds.perm >= MH_TAB_SIZE) ds.perm -= MH_TAB_SIZE;
          }
          taken[ds.perm] = 1;
          lookup[ds.perm] = p;
          if (++n === MH_TAB_SIZE) return lookup;
        }
      }
    }
    return lookup;
  }

  protected slot(clientKey: number, offset: number): number {
    const ihash = mhHash(MH_SEED1, clientKey) % MH_TAB_SIZE;
    return offset === 0 ? ihash : mhHash(MH_SEED1, (((offset - 1 + ihash) % MH_TAB_SIZE) + clientKey) >>> 0) % MH_TAB_SIZE;
  }
}

export interface CreatedScheduler {
  readonly state: SchedulerState;
  /** Set when the requested scheduler is replaced by another: the driver warns once. */
  readonly substitutedFor?: Scheduler;
}

/**
 * lblc and lblcr keep per-destination-IP caches for cache farms; in a userspace proxy the destination is always the
 * virtual address, so they would degenerate into one cache entry. They run as wlc, which is what both fall back to
 * when their cached server is overloaded.
 */
export function createScheduler(
  name: Scheduler,
  flags: ServiceFlags,
  dests: readonly SchedDest[],
  random: () => number = Math.random,
): CreatedScheduler {
  const wlc = (): SchedulerState => stateless('wlc', (d) => leastWeighted(d, connOverhead, false));
  switch (name) {
    case 'rr':
      return { state: new RoundRobin() };
    case 'wrr':
      return { state: new WeightedRoundRobin(dests) };
    case 'lc':
      return { state: stateless('lc', leastConnection) };
    case 'wlc':
      return { state: wlc() };
    case 'sed':
      return { state: stateless('sed', (d) => leastWeighted(d, (x) => x.activeConns + 1, false)) };
    case 'nq':
      return { state: stateless('nq', (d) => leastWeighted(d, (x) => x.activeConns + 1, true)) };
    case 'fo':
      return { state: stateless('fo', weightedFailover) };
    case 'ovf':
      return { state: stateless('ovf', overflowConnection) };
    case 'twos':
      return { state: stateless('twos', twoRandomChoices(random)) };
    case 'sh':
      return { state: new SourceHash(dests, hasFlag(flags, IP_VS_SVC_F_SCHED_SH_FALLBACK), hasFlag(flags, IP_VS_SVC_F_SCHED_SH_PORT)) };
    case 'mh':
      return { state: new MaglevHash(dests, hasFlag(flags, IP_VS_SVC_F_SCHED_MH_FALLBACK), hasFlag(flags, IP_VS_SVC_F_SCHED_MH_PORT)) };
    case 'dh':
      return { state: new DestinationHash(dests) };
    case 'lblc':
    case 'lblcr':
      return { state: wlc(), substitutedFor: name };
  }
}
