// Desired table vs the table from ONE dump → the ordered IPVS operations that make the second the first. Pure.
// Order: services we drop (their destinations first, then the service); then per desired service the service
// add/edit, its destination adds and edits, and only then its destination deletes (make before break).
import { destKeyId, normAddr, serviceKeyId } from './desired.js';
import type { Destination, IpvsOp, IpvsTable, Service } from './types.js';

export interface DesiredService {
  readonly service: Service;
  readonly dests: readonly Destination[];
  /** `dests` are some of the service's, those whose weights moved: the others are left as they are. */
  readonly partial?: true;
}

export interface DesiredTable {
  readonly services: readonly DesiredService[];
}

/**
 * Keys of what we manage: `serviceKeyId` for services, `ownedDestId` for destinations. Only owned entries are ever
 * deleted; foreign services and destinations are left alone.
 */
export interface OwnedKeys {
  has(key: string): boolean;
}

export interface ReconcileOptions {
  /** Start with a flush (lvs_flush at first start): everything in `actual` goes, foreign entries included. */
  readonly flush?: boolean;
}

export function ownedDestId(serviceKey: string, d: Pick<Destination, 'family' | 'address' | 'port'>): string {
  // Joined, as desired.ts serviceKeyId says why.
  return [serviceKey, destKeyId(d)].join('/');
}

/** The kernel reports `hashed` on every service it holds; it is not something configuration controls. */
export function sameService(a: Service, b: Service): boolean {
  const fa = a.flags;
  const fb = b.flags;
  if (a.scheduler !== b.scheduler) return false;
  if (!!fa.onePacket !== !!fb.onePacket || (fa.schedFlags ?? 0) !== (fb.schedFlags ?? 0)) return false;
  if (a.persistenceTimeoutS !== b.persistenceTimeoutS) return false;
  // The netmask only means something for persistent services; the kernel keeps whatever it was given otherwise.
  if (a.persistenceTimeoutS > 0 && a.persistenceNetmask !== b.persistenceNetmask) return false;
  return (a.persistenceEngine ?? '') === (b.persistenceEngine ?? '');
}

/** Tunnel fields are compared only for TUN: the kernel reports a tunnel type (ipip = 0) for every destination. */
export function sameDest(a: Destination, b: Destination): boolean {
  if (a.forward !== b.forward || a.weight !== b.weight) return false;
  if (a.upperThreshold !== b.upperThreshold || a.lowerThreshold !== b.lowerThreshold) return false;
  if (a.forward !== 'TUN') return true;
  const ta = a.tunnelFlags ?? {};
  const tb = b.tunnelFlags ?? {};
  return (
    (a.tunnelType ?? 'ipip') === (b.tunnelType ?? 'ipip') &&
    (a.tunnelType === 'gue' ? (a.tunnelPort ?? 0) === (b.tunnelPort ?? 0) : true) &&
    !!ta.noCsum === !!tb.noCsum && !!ta.csum === !!tb.csum && !!ta.remCsum === !!tb.remCsum
  );
}

function destRef(d: Destination): Pick<Destination, 'family' | 'address' | 'port'> {
  return { family: d.family, address: normAddr(d.address), port: d.port };
}

/**
 * A service's destinations by address, then port. The keys are the address strings themselves: at 30,000
 * destinations, building a key string for each one on both sides was most of a pass.
 */
class DestIndex {
  private readonly first = new Map<string, Destination>();
  /** Further destinations on an address the first map holds (one server on several ports): rare. */
  private more: Map<string, Destination[]> | undefined;
  size = 0;

  constructor(readonly all: readonly Destination[]) {
    for (const d of all) {
      const a = normAddr(d.address);
      if (!this.first.has(a)) this.first.set(a, d);
      else {
        this.more ??= new Map();
        this.more.set(a, [...(this.more.get(a) ?? []), d]);
      }
      this.size++;
    }
  }

  get(d: Destination): Destination | undefined {
    const a = normAddr(d.address);
    const f = this.first.get(a);
    return f === undefined || f.port === d.port ? f : this.more?.get(a)?.find((x) => x.port === d.port);
  }
}

export function reconcile(desired: DesiredTable, actual: IpvsTable, owned: OwnedKeys, opts: ReconcileOptions = {}): IpvsOp[] {
  const ops: IpvsOp[] = [];
  const actualByKey = new Map<string, { service: Service; dests: DestIndex }>();
  if (opts.flush) ops.push({ kind: 'flush' });
  else {
    for (const e of actual.services) actualByKey.set(serviceKeyId(e.service.key), { service: e.service, dests: new DestIndex(e.dests.map((d) => d.dest)) });
  }

  const desiredKeys = new Set<string>();
  for (const d of desired.services) desiredKeys.add(serviceKeyId(d.service.key));

  for (const [key, a] of actualByKey) {
    if (desiredKeys.has(key) || !owned.has(key)) continue;
    for (const d of a.dests.all) ops.push({ kind: 'delDest', key: a.service.key, dest: destRef(d) });
    ops.push({ kind: 'delService', key: a.service.key });
  }

  const done = new Set<string>();
  for (const want of desired.services) {
    const key = serviceKeyId(want.service.key);
    // Two config entries naming one kernel service (overlapping groups): the first wins, as the kernel would allow.
    if (done.has(key)) continue;
    done.add(key);
    const have = actualByKey.get(key);
    if (!have) {
      ops.push({ kind: 'addService', service: want.service });
      for (const d of want.dests) ops.push({ kind: 'addDest', key: want.service.key, dest: d });
      continue;
    }
    if (!sameService(want.service, have.service)) ops.push({ kind: 'editService', service: want.service });
    const matched = new Set<Destination>();
    for (const d of want.dests) {
      const cur = have.dests.get(d);
      if (!cur) ops.push({ kind: 'addDest', key: want.service.key, dest: d });
      else {
        matched.add(cur);
        if (!sameDest(d, cur)) ops.push({ kind: 'editDest', key: want.service.key, dest: d });
      }
    }
    if (want.partial || matched.size === have.dests.size) continue;
    for (const d of have.dests.all) {
      if (!matched.has(d) && owned.has(`${key}/${destKeyId(d)}`)) ops.push({ kind: 'delDest', key: want.service.key, dest: destRef(d) });
    }
  }
  return ops;
}
