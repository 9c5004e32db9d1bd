// Renders an IpvsTable as `ipvsadm -Ln` (and `-Ln --stats`, `-Ln --rate`) prints it, so the two can be diffed.
// Facts from ipvsadm 1.31 (ipvsadm.c print_title / print_service_entry / print_largenum, libipvs.c
// ipvs_cmp_services / ipvs_cmp_dests): services and destinations are sorted (the kernel's order is hash order),
// IPv4 service names are cut at 33 characters and destination names at 28, and large counters are abbreviated.
// Not rendered: the `Forward TunnelInfo` column ipvsadm adds when a GUE/GRE tunnel destination is present.
import { ipv4ToInt, ipv6ToBig, intToIpv4 } from '../config/address.js';
import { fullNetmask, type DestinationEntry, type ForwardMethod, type IpvsTable, type Scheduler, type ServiceEntry, type Stats, type SyncDaemon } from './types.js';
import {
  IP_VS_SVC_F_SCHED1, IP_VS_SVC_F_SCHED2, IP_VS_SVC_F_SCHED3, IP_VS_SVC_F_SCHED_MH_FALLBACK, IP_VS_SVC_F_SCHED_MH_PORT,
  IP_VS_SVC_F_SCHED_SH_FALLBACK, IP_VS_SVC_F_SCHED_SH_PORT,
} from './uapi.js';

export type IpvsadmListFormat = 'plain' | 'stats' | 'rate';

/** IP_VS_CONN_TAB_SIZE as a default kernel reports it (CONFIG_IP_VS_TAB_BITS=12). */
export const IPVS_CONN_TAB_SIZE = 4096;

const PROTO_NUMBER = { tcp: 6, udp: 17, sctp: 132 } as const;
const FORWARD_NAME: Record<ForwardMethod, string> = { NAT: 'Masq', DR: 'Route', TUN: 'Tunnel' };

const padEnd = (s: string, n: number): string => (s.length >= n ? s : s + ' '.repeat(n - s.length));
const padStart = (s: string, n: number): string => (s.length >= n ? s : ' '.repeat(n - s.length) + s);

/** print_largenum without --exact: 9 columns, then K/M/G/T suffixes. */
function largeNum(n: bigint): string {
  if (n < 100_000_000n) return padStart(n.toString(), 9);
  if (n < 1_000_000_000n) return padStart((n / 1000n).toString(), 8) + 'K';
  if (n < 100_000_000_000n) return padStart((n / 1_000_000n).toString(), 8) + 'M';
  if (n < 100_000_000_000_000n) return padStart((n / 1_000_000_000n).toString(), 8) + 'G';
  return padStart((n / 1_000_000_000_000n).toString(), 8) + 'T';
}

function endpoint(family: 'inet' | 'inet6', address: string, port: number): string {
  return family === 'inet6' ? `[${address}]:${port}` : `${address}:${port}`;
}

/** 32-bit words of an address, in network order, as ipvsadm compares them with ntohl(). */
function words(family: 'inet' | 'inet6', address: string): number[] {
  if (family === 'inet') return [ipv4ToInt(address) >>> 0];
  const v = ipv6ToBig(address);
  return [3, 2, 1, 0].map((w) => Number((v >> BigInt(32 * w)) & 0xffffffffn));
}

/**
 * `r = ntohl(a) - ntohl(b)` stored in an int: the difference wraps, so addresses more than 2^31 apart compare the
 * "wrong" way round (10.0.0.1 sorts after 192.0.2.1). Reproduced so the order matches ipvsadm's.
 */
function cmpAddr(family: 'inet' | 'inet6', a: string, b: string): number {
  const wa = words(family, a);
  const wb = words(family, b);
  for (let i = 0; i < wa.length; i++) {
    const r = ((wa[i]! - wb[i]!) | 0);
    if (r !== 0) return r;
  }
  return 0;
}

function cmpServices(x: ServiceEntry, y: ServiceEntry): number {
  const a = x.service.key;
  const b = y.service.key;
  const r = (a.fwmark ?? 0) - (b.fwmark ?? 0);
  if (r !== 0) return r;
  if (a.family !== b.family) return a.family === 'inet' ? -1 : 1;
  if (a.fwmark !== undefined || b.fwmark !== undefined) return 0;
  const p = PROTO_NUMBER[a.protocol] - PROTO_NUMBER[b.protocol];
  if (p !== 0) return p;
  return cmpAddr(a.family, a.address, b.address) || a.port - b.port;
}

function cmpDests(family: 'inet' | 'inet6', x: DestinationEntry, y: DestinationEntry): number {
  return cmpAddr(family, x.dest.address, y.dest.address) || x.dest.port - y.dest.port;
}

function serviceName(e: ServiceEntry): string {
  const k = e.service.key;
  if (k.fwmark !== undefined) return k.family === 'inet6' ? `FWM  ${k.fwmark} IPv6` : `FWM  ${k.fwmark}`;
  const name = `${padEnd(k.protocol.toUpperCase(), 4)} ${endpoint(k.family, k.address, k.port)}`;
  return k.family === 'inet6' ? name : name.slice(0, 33);
}

/** Scheduler flags as ipvsadm's print_sched_flags names them: sh-/mh- names for those schedulers, flag-N otherwise. */
export function schedFlagNames(scheduler: Scheduler, flags: number | undefined): string[] {
  const f = flags ?? 0;
  const out: string[] = [];
  if (scheduler === 'sh' || scheduler === 'mh') {
    const [fallback, port] = scheduler === 'sh'
      ? [IP_VS_SVC_F_SCHED_SH_FALLBACK, IP_VS_SVC_F_SCHED_SH_PORT]
      : [IP_VS_SVC_F_SCHED_MH_FALLBACK, IP_VS_SVC_F_SCHED_MH_PORT];
    if (f & fallback) out.push(`${scheduler}-fallback`);
    if (f & port) out.push(`${scheduler}-port`);
  } else {
    if (f & IP_VS_SVC_F_SCHED1) out.push('flag-1');
    if (f & IP_VS_SVC_F_SCHED2) out.push('flag-2');
  }
  if (f & IP_VS_SVC_F_SCHED3) out.push('flag-3');
  return out;
}

function schedFlags(e: ServiceEntry): string[] {
  return schedFlagNames(e.service.scheduler, e.service.flags.schedFlags);
}

function netmaskText(e: ServiceEntry): string | undefined {
  const { family } = e.service.key;
  const mask = e.service.persistenceNetmask;
  if (mask === fullNetmask(family)) return undefined;
  return family === 'inet6' ? String(mask) : intToIpv4(mask >>> 0);
}

function serviceLine(e: ServiceEntry): string {
  const s = e.service;
  let line = `${serviceName(e)} ${s.scheduler}`;
  const flags = schedFlags(e);
  if (flags.length) line += ` (${flags.join(',')})`;
  if (s.persistenceTimeoutS > 0) {
    line += ` persistent ${s.persistenceTimeoutS}`;
    const mask = netmaskText(e);
    if (mask !== undefined) line += ` mask ${mask}`;
    if (s.persistenceEngine) line += ` pe ${s.persistenceEngine}`;
  }
  if (s.flags.onePacket) line += ' ops';
  return line;
}

const ZERO: Stats = { conns: 0n, inPkts: 0n, outPkts: 0n, inBytes: 0n, outBytes: 0n, cps: 0n, inPps: 0n, outPps: 0n, inBps: 0n, outBps: 0n };

function statsColumns(st: Stats, format: 'stats' | 'rate'): string {
  const v = format === 'stats' ? [st.conns, st.inPkts, st.outPkts, st.inBytes, st.outBytes] : [st.cps, st.inPps, st.outPps, st.inBps, st.outBps];
  return v.map(largeNum).join('');
}

/** `ipvsadm -Ln`, `-Ln --stats` or `-Ln --rate` for this table, newline-terminated. */
export function formatIpvsadm(table: IpvsTable, format: IpvsadmListFormat = 'plain', connTabSize = IPVS_CONN_TAB_SIZE): string {
  const out: string[] = [`IP Virtual Server version 1.2.1 (size=${connTabSize})`];
  if (format === 'plain') {
    out.push('Prot LocalAddress:Port Scheduler Flags', '  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn');
  } else {
    const cols = format === 'stats' ? ['Conns', 'InPkts', 'OutPkts', 'InBytes', 'OutBytes'] : ['CPS', 'InPPS', 'OutPPS', 'InBPS', 'OutBPS'];
    out.push(`${padEnd('Prot LocalAddress:Port', 33)} ${cols.map((c) => padStart(c, 8)).join(' ')}`, '  -> RemoteAddress:Port');
  }
  for (const e of [...table.services].sort(cmpServices)) {
    const family = e.service.key.family;
    out.push(format === 'plain' ? serviceLine(e) : padEnd(serviceName(e), 33) + statsColumns(e.stats ?? ZERO, format));
    for (const d of [...e.dests].sort((x, y) => cmpDests(family, x, y))) {
      let name = endpoint(family, d.dest.address, d.dest.port);
      if (family !== 'inet6') name = name.slice(0, 28);
      const st = d.stats ?? ZERO;
      if (format === 'plain') {
        const fwd = padEnd(FORWARD_NAME[d.dest.forward], 7);
        out.push(`  -> ${padEnd(name, 28)} ${fwd} ${padEnd(String(d.dest.weight), 6)} ${padEnd(String(d.activeConns ?? 0), 10)} ${padEnd(String(d.inactiveConns ?? 0), 10)}`);
      } else if (format === 'stats') {
        out.push(`  -> ${padEnd(name, 28)}${statsColumns(st, 'stats')}`);
      } else {
        // The per-destination rate line prints cps and pps with %8u, not print_largenum.
        const small = [st.cps, st.inPps, st.outPps].map((n) => padStart(n.toString(), 8)).join(' ');
        out.push(`  -> ${padEnd(name, 28)} ${small}${largeNum(st.inBps)}${largeNum(st.outBps)}`);
      }
    }
  }
  return out.join('\n') + '\n';
}

/** `ipvsadm -L --daemon`: one line per running sync daemon, master first; the kernel reports every option. */
export function formatSyncDaemons(daemons: readonly SyncDaemon[]): string {
  const order = (d: SyncDaemon): number => (d.role === 'master' ? 0 : 1);
  return [...daemons].sort((a, b) => order(a) - order(b)).map((d) => {
    const parts = [`mcast=${d.interface}`, `syncid=${d.syncId}`];
    if (d.maxlen) parts.push(`maxlen=${d.maxlen}`);
    if (d.group) parts.push(`group=${d.group.address}`);
    if (d.port) parts.push(`port=${d.port}`);
    if (d.ttl) parts.push(`ttl=${d.ttl}`);
    return `${d.role} sync daemon (${parts.join(', ')})\n`;
  }).join('');
}
