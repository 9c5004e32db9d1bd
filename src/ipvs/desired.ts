// Config → kernel-level IPVS entries: the services a virtual_server expands to and the destination each real
// server (or the sorry server) becomes. Pure: the pool decides which destinations are present and with what weight.
import { canonicalIp, intToIpv4, ipv4ToInt, ipv6ToBig, bigToIpv6 } from '../config/address.js';
import type { RealServer, SorryServer, TunnelOptions, VirtualServer, VirtualServerGroup } from '../config/model.js';
import type { AddressFamily, Destination, Service, ServiceKey } from './types.js';

/** A group range larger than this is a config mistake (e.g. `/8`), not something to install entry by entry. */
export const MAX_GROUP_EXPANSION = 65536;

/** Stable string for a service key, with the address in canonical text: the reconciler's index key. */
export function serviceKeyId(key: ServiceKey): string {
  if (key.fwmark !== undefined) return `${key.family}|fwm|${key.fwmark}`;
  return `${key.family}|${key.protocol}|${normAddr(key.address)}|${key.port}`;
}

/** Stable string for a destination within its service. */
export function destKeyId(d: Pick<Destination, 'family' | 'address' | 'port'>): string {
  return `${d.family}|${normAddr(d.address)}|${d.port}`;
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

/**
 * `persistence_granularity` → prefix length. IPv4 takes a dotted mask (keepalived's form) or a prefix; IPv6 a prefix.
 * The kernel's netmask encoding (be32 mask for IPv4, prefix for IPv6: peers.md §3) is the driver's business; the
 * table model carries bits for both families so nothing here depends on byte order.
 */
export function granularityBits(family: AddressFamily, text: string | undefined): number {
  const full = family === 'inet' ? 32 : 128;
  if (text === undefined) return full;
  const t = text.trim().replace(/^\//, '');
  if (/^\d+$/.test(t)) {
    const n = Number(t);
    if (n < 1 || n > full) throw new RangeError(`persistence_granularity ${text} out of range 1..${full}`);
    return n;
  }
  if (family === 'inet' && /^\d+\.\d+\.\d+\.\d+$/.test(t)) {
    const m = ipv4ToInt(t);
    let bits = 0;
    while (bits < 32 && Math.floor(m / 2 ** (31 - bits)) % 2 === 1) bits++;
    if (bits === 0 || (bits < 32 && m % 2 ** (32 - bits) !== 0)) throw new RangeError(`persistence_granularity ${text} is not a contiguous netmask`);
    return bits;
  }
  throw new RangeError(`persistence_granularity ${text} is not a netmask or prefix length`);
}

export function serviceFor(vs: VirtualServer, key: ServiceKey): Service {
  return {
    key,
    scheduler: vs.lbAlgo,
    flags: {
      ...(vs.ops ? { onePacket: true } : {}),
      ...(vs.schedFlag1 ? { schedFlag1: true } : {}),
      ...(vs.schedFlag2 ? { schedFlag2: true } : {}),
      ...(vs.schedFlag3 ? { schedFlag3: true } : {}),
    },
    persistenceTimeoutS: vs.persistenceTimeoutS,
    persistenceNetmaskBits: granularityBits(key.family, vs.persistenceGranularity),
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

/** The sorry server as a destination; fwmark services carry port 0 as for real servers. */
export function sorryDestinationFor(vs: VirtualServer, s: SorryServer, weight: number): Destination {
  return {
    family: s.family,
    address: normAddr(s.address),
    port: vs.key.kind === 'fwmark' ? 0 : s.port,
    forward: s.forward,
    weight,
    upperThreshold: 0,
    lowerThreshold: 0,
    ...(s.forward === 'TUN' ? tunnelFields(s.tunnel) : {}),
  };
}
