// Config → kernel-level IPVS entries: the services a virtual_server expands to and the destination each real
// server (or the sorry server) becomes. Pure: the pool decides which destinations are present and with what weight.
import { canonicalIp, intToIpv4, ipv4ToInt, ipv6ToBig, bigToIpv6 } from '../config/address.js';
import type { RealServer, SorryServer, TunnelOptions, VirtualServer, VirtualServerGroup } from '../config/model.js';
import { fullNetmask, type AddressFamily, type Destination, type IpvsTable, type Service, type ServiceKey } from './types.js';

/** A group range larger than this is a config mistake (e.g. `/8`), not something to install entry by entry. */
export const MAX_GROUP_EXPANSION = 65536;

/**
 * Stable string for a service key, with the address in canonical text: the reconciler's index key.
 *
 * The keys here are joined, not concatenated: `a + b` makes a cons string per `+` (V8 keeps the parts), and these
 * keys stay in the tables' maps, one per destination. At 30,000 real servers a concatenated key held 3 cons strings
 * and its `inet|` part, about 120 bytes against 40 for a joined one, 6.8 MB live in the two processes
 * (`npm run bench:heap`); a Map hashes a joined key without flattening it first, too.
 */
export function serviceKeyId(key: ServiceKey): string {
  if (key.fwmark !== undefined) return [key.family, 'fwm', key.fwmark].join('|');
  return [key.family, key.protocol, normAddr(key.address), key.port].join('|');
}

/** The services of `table` that `keys` name, in the table's order: a read of a few services from a whole table. */
export function servicesOf(table: IpvsTable, keys: readonly ServiceKey[]): IpvsTable {
  const wanted = new Set(keys.map(serviceKeyId));
  return { services: table.services.filter((s) => wanted.has(serviceKeyId(s.service.key))) };
}

/** Stable string for a destination within its service. */
export function destKeyId(d: Pick<Destination, 'family' | 'address' | 'port'>): string {
  return [d.family, normAddr(d.address), d.port].join('|');
}

/** destKeyId(a) === destKeyId(b), without making either string: for a scan of a service's destinations. */
export function sameDestKey(a: Pick<Destination, 'family' | 'address' | 'port'>, b: Pick<Destination, 'family' | 'address' | 'port'>): boolean {
  return a.port === b.port && a.family === b.family && (a.address === b.address || normAddr(a.address) === normAddr(b.address));
}

const v6Cache = new Map<string, string>();

/** IPv6 text compares only after canonicalisation (`2001:DB8:0::1` = `2001:db8::1`); IPv4 text is already canonical. */
export function normAddr(address: string): string {
  if (!address.includes(':')) return address;
  let c = v6Cache.get(address);
  if (c === undefined) {
    c = canonicalIp(address);
    if (v6Cache.size > 100_000) v6Cache.clear();
    v6Cache.set(address, c);
  }
  return c;
}

/** The family a fwmark service uses when the config does not say: ip_family, else that of the first real server. */
function vsFamily(vs: VirtualServer): AddressFamily {
  return vs.ipFamily ?? vs.realServers[0]?.family ?? vs.sorryServer?.family ?? 'inet';
}

/** Every kernel service key a virtual_server stands for (one, or one per group member). */
export function serviceKeysFor(vs: VirtualServer, groups: readonly VirtualServerGroup[]): ServiceKey[] {
  const k = vs.key;
  if (k.kind === 'ip') return [{ family: k.family, protocol: vs.protocol, address: normAddr(k.address), port: k.port }];
  if (k.kind === 'fwmark') return [{ family: k.family, fwmark: k.fwmark }];
  const group = groups.find((g) => g.name === k.name);
  if (!group) return [];
  const keys: ServiceKey[] = [];
  for (const e of group.entries) {
    if (e.kind === 'fwmark') {
      keys.push({ family: e.family ?? vsFamily(vs), fwmark: e.fwmark });
      continue;
    }
    for (const address of expandRange(e.family, e.first, e.last)) {
      keys.push({ family: e.family, protocol: vs.protocol, address, port: e.port });
    }
  }
  return keys;
}

/** Addresses first..last inclusive (an `IPa-b` or `IP/nn` group entry). */
export function expandRange(family: AddressFamily, first: string, last: string): string[] {
  const out: string[] = [];
  if (family === 'inet') {
    const a = ipv4ToInt(first);
    const b = ipv4ToInt(last);
    if (b - a + 1 > MAX_GROUP_EXPANSION) throw new RangeError(`group range ${first}-${last} exceeds ${MAX_GROUP_EXPANSION} addresses`);
    for (let n = a; n <= b; n++) out.push(intToIpv4(n));
    return out;
  }
  const a = ipv6ToBig(first);
  const b = ipv6ToBig(last);
  if (b - a + 1n > BigInt(MAX_GROUP_EXPANSION)) throw new RangeError(`group range ${first}-${last} exceeds ${MAX_GROUP_EXPANSION} addresses`);
  for (let n = a; n <= b; n++) out.push(bigToIpv6(n));
  return out;
}

export function serviceFor(vs: VirtualServer, key: ServiceKey): Service {
  return {
    key,
    scheduler: vs.lbAlgo,
    flags: {
      ...(vs.ops ? { onePacket: true } : {}),
      ...(vs.schedFlags !== 0 ? { schedFlags: vs.schedFlags } : {}),
    },
    persistenceTimeoutS: vs.persistenceTimeoutS,
    // ipvswrapper.c ipvs_group_range_cmd / the vfwmark loop: a group's entries go in with a full netmask, whatever
    // persistence_granularity says (only ipvs_set_srule, for a plain virtual server, applies it).
    persistenceNetmask: (vs.key.kind === 'group' ? undefined : vs.persistenceNetmask) ?? fullNetmask(key.family),
    ...(vs.persistenceEngine !== undefined ? { persistenceEngine: vs.persistenceEngine } : {}),
  };
}

function tunnelFields(t: TunnelOptions | undefined): Pick<Destination, 'tunnelType' | 'tunnelPort' | 'tunnelFlags'> {
  if (!t) return {};
  return {
    tunnelType: t.type,
    ...(t.port !== undefined ? { tunnelPort: t.port } : {}),
    ...(t.checksum === 'nocsum' ? { tunnelFlags: { noCsum: true } } : {}),
    ...(t.checksum === 'csum' ? { tunnelFlags: { csum: true } } : {}),
    ...(t.checksum === 'remcsum' ? { tunnelFlags: { remCsum: true } } : {}),
  };
}

/** A real server as a destination, with the weight the pool decided. RS port rules are already applied by the parser. */
export function destinationFor(rs: RealServer, weight: number): Destination {
  return {
    family: rs.family,
    address: normAddr(rs.address),
    port: rs.port,
    forward: rs.lbKind,
    weight,
    upperThreshold: rs.uthreshold,
    lowerThreshold: rs.lthreshold,
    ...(rs.lbKind === 'TUN' ? tunnelFields(rs.tunnel) : {}),
  };
}

/** Whether two tunnel settings make the same destination: type, GUE port and checksum mode. */
function sameTunnel(a: TunnelOptions | undefined, b: TunnelOptions | undefined): boolean {
  return a === b || (a !== undefined && b !== undefined && a.type === b.type && a.port === b.port && a.checksum === b.checksum);
}

/** Whether destinationFor(a, w) and destinationFor(b, w) are the same destination for every weight w. */
export function sameDestinationOf(a: RealServer, b: RealServer): boolean {
  return a.family === b.family && a.address === b.address && a.port === b.port && a.lbKind === b.lbKind &&
    a.uthreshold === b.uthreshold && a.lthreshold === b.lthreshold && (a.lbKind !== 'TUN' || sameTunnel(a.tunnel, b.tunnel));
}

/** Whether sorryDestinationFor(a, w) and sorryDestinationFor(b, w) are the same for every weight w (or both absent). */
export function sameSorryDestinationOf(a: SorryServer | undefined, b: SorryServer | undefined): boolean {
  if (a === undefined || b === undefined) return a === b;
  return a.family === b.family && a.address === b.address && a.port === b.port && a.forward === b.forward &&
    (a.forward !== 'TUN' || sameTunnel(a.tunnel, b.tunnel));
}

/**
 * The destinations as one kernel service holds them: ipvswrapper.c ipvs_group_cmd / ipvs_cmd give a DR or TUN
 * destination the service's own port (each group member's; 0 under a fwmark), NAT keeps the real server's.
 */
export function destinationsOn(key: ServiceKey, dests: readonly Destination[]): readonly Destination[] {
  const port = key.fwmark !== undefined ? 0 : key.port;
  if (dests.every((d) => d.forward === 'NAT' || d.port === port)) return dests;
  return dests.map((d) => (d.forward === 'NAT' || d.port === port ? d : { ...d, port }));
}

/** The sorry server as a destination. */
export function sorryDestinationFor(s: SorryServer, weight: number): Destination {
  return {
    family: s.family,
    address: normAddr(s.address),
    // A NAT sorry server keeps its port under a fwmark, as keepalived installs it; DR/TUN ones were cleared to 0
    // with the config (check_data.c validate_check_config).
    port: s.port,
    forward: s.forward,
    weight,
    upperThreshold: 0,
    lowerThreshold: 0,
    ...(s.forward === 'TUN' ? tunnelFields(s.tunnel) : {}),
  };
}

export interface Connections {
  readonly active: number;
  readonly inactive: number;
}

/**
 * Counts a real server's connections, summed over every service its virtual server expands to: ipvsadm's ActiveConn
 * and InActConn (IPVS_DEST_ATTR_ACTIVE_CONNS / _INACT_CONNS), or the userspace plane's own counts. The table is
 * indexed once, for the many servers a console refresh asks about.
 */
export function connectionCounter(table: IpvsTable): (keys: readonly ServiceKey[], rs: RealServer) => Connections {
  const index = new Map<string, Map<string, Connections>>();
  for (const e of table.services) {
    const dests = new Map<string, Connections>();
    for (const d of e.dests) dests.set(destKeyId(d.dest), { active: d.activeConns ?? 0, inactive: d.inactiveConns ?? 0 });
    index.set(serviceKeyId(e.service.key), dests);
  }
  return (keys, rs) => {
    let active = 0;
    let inactive = 0;
    for (const k of keys) {
      const c = index.get(serviceKeyId(k))?.get(destKeyId(destinationsOn(k, [destinationFor(rs, 0)])[0]!));
      active += c?.active ?? 0;
      inactive += c?.inactive ?? 0;
    }
    return { active, inactive };
  };
}
