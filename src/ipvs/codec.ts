// Encode and decode of IPVS generic-netlink attributes (include/uapi/linux/ip_vs.h) to and from the shapes in
// types.ts. Pure: no socket, no addon. Wire rules, all from net/netfilter/ipvs/ip_vs_ctl.c:
// - every integer is host order (little-endian here) except ports, which are big-endian (`u16be`);
// - addresses are 4 or 16 raw bytes; the kernel always replies with a 16-byte buffer, sliced by family;
// - IPv4 NETMASK is the mask's bytes in network order; IPv6 NETMASK is the prefix length as a plain u32;
// - WEIGHT and thresholds are u32 both ways.
import { isIPv4, isIPv6 } from 'node:net';
import * as U from './uapi.js';
import {
  fullNetmask, type AddressFamily, type Destination, type DestinationEntry, type ForwardMethod, type IpvsTimeouts, type Protocol,
  type Scheduler, type Service, type ServiceFlags, type ServiceKey, type Stats, type SyncDaemon, type SyncRole, type TunnelType,
} from './types.js';

/** Thrown for malformed input (bad lengths, missing attributes, impossible values); the only error the decoder throws. */
export class IpvsCodecError extends Error {
  override readonly name = 'IpvsCodecError';
}

// ---- attribute writer ----

/**
 * Writes TLV attributes, and whole generic-netlink messages, into one buffer that grows as needed and is kept from one
 * use to the next (reset()), so encoding a request allocates nothing. `nest` fills in the nested attribute's length
 * once its contents are written.
 */
export class AttrWriter {
  private buf: Buffer;
  private end = 0;

  constructor(size = 256) {
    this.buf = Buffer.alloc(size);
  }

  /** Bytes written so far. */
  get length(): number { return this.end; }

  /** Starts over at `length` (0: empty), keeping the buffer. */
  reset(length = 0): this {
    this.end = length;
    return this;
  }

  /** Claims `n` more bytes (contents undefined) and returns where they start. */
  private room(n: number): number {
    const at = this.end;
    if (at + n > this.buf.length) {
      const bigger = Buffer.alloc(Math.max(2 * this.buf.length, at + n));
      this.buf.copy(bigger, 0, 0, at);
      this.buf = bigger;
    }
    this.end = at + n;
    return at;
  }

  /** An attribute header for a value of `len` bytes, padding zeroed (the buffer is reused); returns the value's offset. */
  private attr(type: number, len: number): number {
    const padded = (4 + len + 3) & ~3;
    const at = this.room(padded);
    this.buf.writeUInt16LE(4 + len, at);
    this.buf.writeUInt16LE(type, at + 2);
    this.buf.fill(0, at + 4 + len, at + padded);
    return at + 4;
  }

  u8(type: number, v: number): this { const at = this.attr(type, 1); this.buf.writeUInt8(v, at); return this; }
  u16(type: number, v: number): this { const at = this.attr(type, 2); this.buf.writeUInt16LE(v, at); return this; }
  u16be(type: number, v: number): this { const at = this.attr(type, 2); this.buf.writeUInt16BE(v, at); return this; }
  u32(type: number, v: number): this { const at = this.attr(type, 4); this.buf.writeUInt32LE(v >>> 0, at); return this; }
  u32be(type: number, v: number): this { const at = this.attr(type, 4); this.buf.writeUInt32BE(v >>> 0, at); return this; }
  bytes(type: number, v: Buffer): this { const at = this.attr(type, v.length); v.copy(this.buf, at); return this; }
  /** An address's raw bytes (4 or 16), written in place. */
  address(type: number, family: AddressFamily, address: string): this {
    const at = this.attr(type, family === 'inet' ? 4 : 16);
    writeAddress(this.buf, at, family, address);
    return this;
  }
  /** NUL-terminated string, as nla_strscpy expects. */
  str(type: number, v: string): this {
    const at = this.attr(type, v.length + 1);
    this.buf.write(v, at, 'latin1');
    this.buf.writeUInt8(0, at + v.length);
    return this;
  }
  nest(type: number, fill: (w: AttrWriter) => void): this {
    const at = this.room(4);
    fill(this);
    this.buf.writeUInt16LE(this.end - at, at);
    this.buf.writeUInt16LE(type | U.NLA_F_NESTED, at + 2);
    return this;
  }

  /**
   * One whole netlink message (include/uapi/linux/netlink.h struct nlmsghdr, then genetlink.h struct genlmsghdr) with
   * `fill`'s attributes; nlmsg_pid 0, as the kernel takes the sender from the socket. Every attribute is 4-aligned, so
   * the message ends NLMSG_ALIGNed. Returns where the message starts (for setFlags).
   */
  genlMessage(type: number, flags: number, seq: number, cmd: number, version: number, fill: (w: AttrWriter) => void): number {
    const at = this.room(U.NLMSG_HDRLEN + U.GENL_HDRLEN);
    this.buf.writeUInt16LE(type, at + 4);
    this.buf.writeUInt16LE(flags, at + 6);
    this.buf.writeUInt32LE(seq, at + 8);
    this.buf.writeUInt32LE(0, at + 12);
    this.buf.writeUInt8(cmd, at + 16);
    this.buf.writeUInt8(version, at + 17);
    this.buf.writeUInt16LE(0, at + 18);
    fill(this);
    this.buf.writeUInt32LE(this.end - at, at);
    return at;
  }

  /** Rewrites the nlmsg_flags of the message genlMessage started at `at`. */
  setFlags(at: number, flags: number): void { this.buf.writeUInt16LE(flags, at + 6); }

  /** What was written, as a view of the buffer: valid until the next write or reset. */
  view(): Buffer { return this.buf.subarray(0, this.end); }

  /** What was written, as a copy of its own. */
  toBuffer(): Buffer { return Buffer.from(this.view()); }
}

// ---- attribute reader ----

export interface Attr { readonly type: number; readonly value: Buffer }

/** Splits a TLV stream into attributes (flag bits masked off), checking every length against the buffer. */
export function parseAttrs(buf: Buffer): Attr[] {
  const out: Attr[] = [];
  let off = 0;
  while (off < buf.length) {
    if (buf.length - off < 4) throw new IpvsCodecError(`truncated attribute header at offset ${off}`);
    const len = buf.readUInt16LE(off);
    const type = buf.readUInt16LE(off + 2) & U.NLA_TYPE_MASK;
    if (len < 4 || off + len > buf.length) throw new IpvsCodecError(`attribute type ${type} length ${len} overruns buffer at offset ${off}`);
    out.push({ type, value: buf.subarray(off + 4, off + len) });
    off += (len + 3) & ~3;
  }
  return out;
}

function need(a: Attr, size: number, what: string): Buffer {
  if (a.value.length < size) throw new IpvsCodecError(`${what} (type ${a.type}): ${a.value.length} bytes, need ${size}`);
  return a.value;
}
const rdU8 = (a: Attr, w: string): number => need(a, 1, w).readUInt8(0);
const rdU16 = (a: Attr, w: string): number => need(a, 2, w).readUInt16LE(0);
const rdU16be = (a: Attr, w: string): number => need(a, 2, w).readUInt16BE(0);
const rdU32 = (a: Attr, w: string): number => need(a, 4, w).readUInt32LE(0);
const rdU32be = (a: Attr, w: string): number => need(a, 4, w).readUInt32BE(0);
const rdU64 = (a: Attr, w: string): bigint => need(a, 8, w).readBigUInt64LE(0);
function rdStr(a: Attr): string {
  const nul = a.value.indexOf(0);
  return a.value.subarray(0, nul < 0 ? a.value.length : nul).toString('latin1');
}

// ---- addresses and small enums ----

const afNumber = (f: AddressFamily): number => (f === 'inet' ? U.AF_INET : U.AF_INET6);
function afName(n: number): AddressFamily {
  if (n === U.AF_INET) return 'inet';
  if (n === U.AF_INET6) return 'inet6';
  throw new IpvsCodecError(`unknown address family ${n}`);
}

/** An address's 4 or 16 bytes at `at` in `b`. */
function writeAddress(b: Buffer, at: number, family: AddressFamily, address: string): void {
  if (family === 'inet') {
    if (!isIPv4(address)) throw new IpvsCodecError(`not an IPv4 address: ${address}`);
    // isIPv4 checked the form: four decimal octets, each ≤ 255, separated by dots.
    let octet = 0;
    let i = at;
    for (let c = 0; c < address.length; c++) {
      const ch = address.charCodeAt(c);
      if (ch === 0x2e) { b[i++] = octet; octet = 0; } else octet = octet * 10 + ch - 0x30;
    }
    b[i] = octet;
    return;
  }
  if (!isIPv6(address)) throw new IpvsCodecError(`not an IPv6 address: ${address}`);
  const [head = '', tail] = address.split('::') as [string, string?];
  const groups = (s: string): number[] => (s === '' ? [] : s.split(':').flatMap((g) => (g.includes('.') ? v4Groups(g) : [parseInt(g, 16)])));
  const h = groups(head);
  const t = tail === undefined ? [] : groups(tail);
  const all = tail === undefined ? h : [...h, ...new Array<number>(8 - h.length - t.length).fill(0), ...t];
  b.fill(0, at, at + 16);
  all.forEach((g, i) => b.writeUInt16BE(g, at + i * 2));
}
function v4Groups(s: string): number[] {
  const o = s.split('.').map(Number);
  return [((o[0] ?? 0) << 8) | (o[1] ?? 0), ((o[2] ?? 0) << 8) | (o[3] ?? 0)];
}

export function addressText(family: AddressFamily, b: Buffer): string {
  if (family === 'inet') {
    if (b.length < 4) throw new IpvsCodecError(`IPv4 address of ${b.length} bytes`);
    return `${b[0]}.${b[1]}.${b[2]}.${b[3]}`;
  }
  if (b.length < 16) throw new IpvsCodecError(`IPv6 address of ${b.length} bytes`);
  const g: number[] = [];
  for (let i = 0; i < 8; i++) g.push(b.readUInt16BE(i * 2));
  // RFC 5952: compress the longest run (≥ 2) of zero groups, the first one on a tie.
  let best = -1;
  let bestLen = 1;
  for (let i = 0; i < 8;) {
    if (g[i] !== 0) { i++; continue; }
    let j = i;
    while (j < 8 && g[j] === 0) j++;
    if (j - i > bestLen) { best = i; bestLen = j - i; }
    i = j;
  }
  // RFC 5952 §5: IPv4-mapped addresses keep their dotted quad.
  if (g.slice(0, 5).every((x) => x === 0) && g[5] === 0xffff) return `::ffff:${b[12]}.${b[13]}.${b[14]}.${b[15]}`;
  const hex = (xs: number[]): string => xs.map((x) => x.toString(16)).join(':');
  if (best < 0) return hex(g);
  return `${hex(g.slice(0, best))}::${hex(g.slice(best + bestLen))}`;
}

const PROTO: Record<Protocol, number> = { tcp: U.IPPROTO_TCP, udp: U.IPPROTO_UDP, sctp: U.IPPROTO_SCTP };
function protoName(n: number): Protocol {
  if (n === U.IPPROTO_TCP) return 'tcp';
  if (n === U.IPPROTO_UDP) return 'udp';
  if (n === U.IPPROTO_SCTP) return 'sctp';
  throw new IpvsCodecError(`unknown protocol ${n}`);
}

const FWD: Record<ForwardMethod, number> = { NAT: U.IP_VS_CONN_F_MASQ, TUN: U.IP_VS_CONN_F_TUNNEL, DR: U.IP_VS_CONN_F_DROUTE };
function fwdName(n: number): ForwardMethod {
  const m = n & U.IP_VS_CONN_F_FWD_MASK;
  if (m === U.IP_VS_CONN_F_MASQ) return 'NAT';
  if (m === U.IP_VS_CONN_F_TUNNEL) return 'TUN';
  if (m === U.IP_VS_CONN_F_DROUTE) return 'DR';
  throw new IpvsCodecError(`forwarding method ${m} is not NAT, TUN or DR`);
}

const TUN: Record<TunnelType, number> = {
  ipip: U.IP_VS_CONN_F_TUNNEL_TYPE_IPIP, gue: U.IP_VS_CONN_F_TUNNEL_TYPE_GUE, gre: U.IP_VS_CONN_F_TUNNEL_TYPE_GRE,
};
function tunName(n: number): TunnelType {
  if (n === U.IP_VS_CONN_F_TUNNEL_TYPE_IPIP) return 'ipip';
  if (n === U.IP_VS_CONN_F_TUNNEL_TYPE_GUE) return 'gue';
  if (n === U.IP_VS_CONN_F_TUNNEL_TYPE_GRE) return 'gre';
  throw new IpvsCodecError(`unknown tunnel type ${n}`);
}


// ---- service ----

/** The identifying attributes only (DEL_SERVICE, and the service part of *_DEST requests). */
function putServiceKey(w: AttrWriter, key: ServiceKey): void {
  w.u16(U.IPVS_SVC_ATTR_AF, afNumber(key.family));
  if (key.fwmark !== undefined) {
    w.u32(U.IPVS_SVC_ATTR_FWMARK, key.fwmark);
    return;
  }
  w.u16(U.IPVS_SVC_ATTR_PROTOCOL, PROTO[key.protocol]);
  w.address(U.IPVS_SVC_ATTR_ADDR, key.family, key.address);
  w.u16be(U.IPVS_SVC_ATTR_PORT, key.port);
}

function flagBits(s: Service): number {
  let f = 0;
  if (s.persistenceTimeoutS > 0) f |= U.IP_VS_SVC_F_PERSISTENT;
  if (s.flags.hashed) f |= U.IP_VS_SVC_F_HASHED;
  if (s.flags.onePacket) f |= U.IP_VS_SVC_F_ONEPACKET;
  f |= (s.flags.schedFlags ?? 0) & U.IP_VS_SVC_F_SCHED_MASK;
  return f;
}

/** IPv4: the mask in network order; IPv6: the prefix length. 0 means "not set" and becomes the full length. */
/** IPv4: the mask in network order; IPv6: the prefix length, which the kernel takes only in 1..128. */
function putNetmask(w: AttrWriter, family: AddressFamily, netmask: number): void {
  if (family === 'inet') w.u32be(U.IPVS_SVC_ATTR_NETMASK, netmask >>> 0);
  else if (netmask < 1 || netmask > 128) throw new IpvsCodecError(`netmask /${netmask} is not an IPv6 prefix length`);
  else w.u32(U.IPVS_SVC_ATTR_NETMASK, netmask);
}

/** What `write` writes into a writer of its own. */
function encoded(write: (w: AttrWriter) => void): Buffer {
  const w = new AttrWriter();
  write(w);
  return w.toBuffer();
}

/** IPVS_CMD_ATTR_SERVICE with the key only. */
export function writeServiceKey(w: AttrWriter, key: ServiceKey): void {
  w.nest(U.IPVS_CMD_ATTR_SERVICE, (n) => putServiceKey(n, key));
}
export const encodeServiceKey = (key: ServiceKey): Buffer => encoded((w) => writeServiceKey(w, key));

/** struct ip_vs_flags for IPVS_SVC_ATTR_FLAGS, filled in place (its bytes are copied into the message at once). */
const svcFlags = Buffer.alloc(8);

/** IPVS_CMD_ATTR_SERVICE as a "full entry" (NEW/SET_SERVICE): the kernel rejects new/set without all of these. */
export function writeService(w: AttrWriter, s: Service): void {
  if (s.scheduler.length >= U.IP_VS_SCHEDNAME_MAXLEN) throw new IpvsCodecError(`scheduler name too long: ${s.scheduler}`);
  w.nest(U.IPVS_CMD_ATTR_SERVICE, (n) => {
    putServiceKey(n, s.key);
    n.str(U.IPVS_SVC_ATTR_SCHED_NAME, s.scheduler);
    if (s.persistenceEngine) n.str(U.IPVS_SVC_ATTR_PE_NAME, s.persistenceEngine);
    svcFlags.writeUInt32LE(flagBits(s), 0);
    svcFlags.writeUInt32LE(0xffffffff, 4); // mask: every bit is ours to set, so a SET clears what we leave out
    n.bytes(U.IPVS_SVC_ATTR_FLAGS, svcFlags);
    n.u32(U.IPVS_SVC_ATTR_TIMEOUT, s.persistenceTimeoutS);
    putNetmask(n, s.key.family, s.persistenceNetmask);
  });
}
export const encodeService = (s: Service): Buffer => encoded((w) => writeService(w, s));

/** Unknown attribute ids met while decoding, so a newer kernel's additions are visible, not silently lost. */
export interface DecodeCounters { unknownAttrs: number }

function decodeStats(buf: Buffer, wide: boolean): Stats {
  const v: bigint[] = new Array<bigint>(11).fill(0n);
  for (const a of parseAttrs(buf)) {
    if (a.type < U.IPVS_STATS_ATTR_CONNS || a.type > U.IPVS_STATS_ATTR_OUTBPS) continue;
    const w = wide || a.type === U.IPVS_STATS_ATTR_INBYTES || a.type === U.IPVS_STATS_ATTR_OUTBYTES;
    v[a.type] = w ? rdU64(a, 'stats counter') : BigInt(rdU32(a, 'stats counter'));
  }
  return {
    conns: v[1]!, inPkts: v[2]!, outPkts: v[3]!, inBytes: v[4]!, outBytes: v[5]!,
    cps: v[6]!, inPps: v[7]!, outPps: v[8]!, inBps: v[9]!, outBps: v[10]!,
  };
}

export interface DecodedService { readonly service: Service; readonly stats?: Stats }

/** Decodes the contents of one IPVS_CMD_ATTR_SERVICE nest (attribute order does not matter). */
export function decodeServiceAttrs(buf: Buffer, counters?: DecodeCounters): DecodedService {
  let af: number | undefined, proto: number | undefined, addr: Buffer | undefined, port = 0, fwmark = 0;
  let sched: string | undefined, pe: string | undefined, flags = 0, timeout = 0, netmask: Attr | undefined;
  let stats: Stats | undefined, stats64: Stats | undefined;
  for (const a of parseAttrs(buf)) {
    switch (a.type) {
      case U.IPVS_SVC_ATTR_AF: af = rdU16(a, 'service AF'); break;
      case U.IPVS_SVC_ATTR_PROTOCOL: proto = rdU16(a, 'service protocol'); break;
      case U.IPVS_SVC_ATTR_ADDR: addr = a.value; break;
      case U.IPVS_SVC_ATTR_PORT: port = rdU16be(a, 'service port'); break;
      case U.IPVS_SVC_ATTR_FWMARK: fwmark = rdU32(a, 'service fwmark'); break;
      case U.IPVS_SVC_ATTR_SCHED_NAME: sched = rdStr(a); break;
      case U.IPVS_SVC_ATTR_PE_NAME: pe = rdStr(a); break;
      case U.IPVS_SVC_ATTR_FLAGS: flags = rdU32(a, 'service flags'); break;
      case U.IPVS_SVC_ATTR_TIMEOUT: timeout = rdU32(a, 'service timeout'); break;
      case U.IPVS_SVC_ATTR_NETMASK: netmask = a; break;
      case U.IPVS_SVC_ATTR_STATS: stats = decodeStats(a.value, false); break;
      case U.IPVS_SVC_ATTR_STATS64: stats64 = decodeStats(a.value, true); break;
      default: if (counters) counters.unknownAttrs++;
    }
  }
  if (af === undefined) throw new IpvsCodecError('service without IPVS_SVC_ATTR_AF');
  const family = afName(af);
  if (sched === undefined) throw new IpvsCodecError('service without IPVS_SVC_ATTR_SCHED_NAME');
  let key: ServiceKey;
  if (fwmark !== 0) key = { family, fwmark };
  else {
    if (proto === undefined || addr === undefined) throw new IpvsCodecError('service without protocol/address or fwmark');
    key = { family, protocol: protoName(proto), address: addressText(family, addr), port };
  }
  let mask = fullNetmask(family);
  if (netmask) mask = family === 'inet' ? rdU32be(netmask, 'service netmask') : rdU32(netmask, 'service netmask');
  const sf: { -readonly [K in keyof ServiceFlags]: ServiceFlags[K] } = {};
  if (flags & U.IP_VS_SVC_F_HASHED) sf.hashed = true;
  if (flags & U.IP_VS_SVC_F_ONEPACKET) sf.onePacket = true;
  if (flags & U.IP_VS_SVC_F_SCHED_MASK) sf.schedFlags = flags & U.IP_VS_SVC_F_SCHED_MASK;
  const service: Service = {
    key, scheduler: sched as Scheduler, flags: sf,
    persistenceTimeoutS: flags & U.IP_VS_SVC_F_PERSISTENT ? timeout : 0,
    persistenceNetmask: mask,
    ...(pe ? { persistenceEngine: pe } : {}),
  };
  const st = stats64 ?? stats;
  return st ? { service, stats: st } : { service };
}

// ---- destination ----

function putDestKey(w: AttrWriter, d: Pick<Destination, 'family' | 'address' | 'port'>): void {
  w.u16(U.IPVS_DEST_ATTR_ADDR_FAMILY, afNumber(d.family));
  w.address(U.IPVS_DEST_ATTR_ADDR, d.family, d.address);
  w.u16be(U.IPVS_DEST_ATTR_PORT, d.port);
}

/** The service key plus the destination key (DEL_DEST). */
export function writeDestKey(w: AttrWriter, key: ServiceKey, d: Pick<Destination, 'family' | 'address' | 'port'>): void {
  writeServiceKey(w, key);
  w.nest(U.IPVS_CMD_ATTR_DEST, (n) => putDestKey(n, d));
}

/** The service key plus a full destination (NEW/SET_DEST); tunnel attributes only for TUN. */
export function writeDest(w: AttrWriter, key: ServiceKey, d: Destination): void {
  writeServiceKey(w, key);
  w.nest(U.IPVS_CMD_ATTR_DEST, (n) => {
    putDestKey(n, d);
    n.u32(U.IPVS_DEST_ATTR_FWD_METHOD, FWD[d.forward]);
    n.u32(U.IPVS_DEST_ATTR_WEIGHT, d.weight);
    n.u32(U.IPVS_DEST_ATTR_U_THRESH, d.upperThreshold);
    n.u32(U.IPVS_DEST_ATTR_L_THRESH, d.lowerThreshold);
    if (d.forward === 'TUN') {
      n.u8(U.IPVS_DEST_ATTR_TUN_TYPE, TUN[d.tunnelType ?? 'ipip']);
      n.u16be(U.IPVS_DEST_ATTR_TUN_PORT, d.tunnelPort ?? 0);
      let tf = U.IP_VS_TUNNEL_ENCAP_FLAG_NOCSUM;
      if (d.tunnelFlags?.csum) tf |= U.IP_VS_TUNNEL_ENCAP_FLAG_CSUM;
      if (d.tunnelFlags?.remCsum) tf |= U.IP_VS_TUNNEL_ENCAP_FLAG_REMCSUM;
      n.u16(U.IPVS_DEST_ATTR_TUN_FLAGS, tf);
    }
  });
}
export const encodeDest = (key: ServiceKey, d: Destination): Buffer => encoded((w) => writeDest(w, key, d));

/**
 * Decodes the contents of one IPVS_CMD_ATTR_DEST nest. Kernels before 3.18 send no ADDR_FAMILY: the destination then
 * has the service's family, which is what those kernels required.
 */
export function decodeDestAttrs(buf: Buffer, serviceFamily: AddressFamily, counters?: DecodeCounters): DestinationEntry {
  let af: number | undefined, addr: Buffer | undefined, port: number | undefined, fwd = 0, weight = 0, uth = 0, lth = 0;
  let active: number | undefined, inact: number | undefined, persist: number | undefined;
  let tunType: number | undefined, tunPort = 0, tunFlags = 0;
  let stats: Stats | undefined, stats64: Stats | undefined;
  for (const a of parseAttrs(buf)) {
    switch (a.type) {
      case U.IPVS_DEST_ATTR_ADDR: addr = a.value; break;
      case U.IPVS_DEST_ATTR_PORT: port = rdU16be(a, 'dest port'); break;
      case U.IPVS_DEST_ATTR_FWD_METHOD: fwd = rdU32(a, 'dest forwarding method'); break;
      case U.IPVS_DEST_ATTR_WEIGHT: weight = rdU32(a, 'dest weight'); break;
      case U.IPVS_DEST_ATTR_U_THRESH: uth = rdU32(a, 'dest upper threshold'); break;
      case U.IPVS_DEST_ATTR_L_THRESH: lth = rdU32(a, 'dest lower threshold'); break;
      case U.IPVS_DEST_ATTR_ACTIVE_CONNS: active = rdU32(a, 'dest active conns'); break;
      case U.IPVS_DEST_ATTR_INACT_CONNS: inact = rdU32(a, 'dest inactive conns'); break;
      case U.IPVS_DEST_ATTR_PERSIST_CONNS: persist = rdU32(a, 'dest persistent conns'); break;
      case U.IPVS_DEST_ATTR_STATS: stats = decodeStats(a.value, false); break;
      case U.IPVS_DEST_ATTR_STATS64: stats64 = decodeStats(a.value, true); break;
      case U.IPVS_DEST_ATTR_ADDR_FAMILY: af = rdU16(a, 'dest address family'); break;
      case U.IPVS_DEST_ATTR_TUN_TYPE: tunType = rdU8(a, 'dest tunnel type'); break;
      case U.IPVS_DEST_ATTR_TUN_PORT: tunPort = rdU16be(a, 'dest tunnel port'); break;
      case U.IPVS_DEST_ATTR_TUN_FLAGS: tunFlags = rdU16(a, 'dest tunnel flags'); break;
      default: if (counters) counters.unknownAttrs++;
    }
  }
  if (addr === undefined || port === undefined) throw new IpvsCodecError('destination without address or port');
  const family = af === undefined ? serviceFamily : afName(af);
  const forward = fwdName(fwd);
  const tunnel: { -readonly [K in 'tunnelType' | 'tunnelPort' | 'tunnelFlags']?: Destination[K] } = {};
  if (forward === 'TUN') {
    tunnel.tunnelType = tunName(tunType ?? U.IP_VS_CONN_F_TUNNEL_TYPE_IPIP);
    if (tunPort) tunnel.tunnelPort = tunPort;
    if (tunFlags) {
      tunnel.tunnelFlags = {
        ...(tunFlags & U.IP_VS_TUNNEL_ENCAP_FLAG_CSUM ? { csum: true } : {}),
        ...(tunFlags & U.IP_VS_TUNNEL_ENCAP_FLAG_REMCSUM ? { remCsum: true } : {}),
      };
    }
  }
  const dest: Destination = {
    family, address: addressText(family, addr), port, forward, weight, upperThreshold: uth, lowerThreshold: lth, ...tunnel,
  };
  const st = stats64 ?? stats;
  return {
    dest,
    ...(active !== undefined ? { activeConns: active } : {}),
    ...(inact !== undefined ? { inactiveConns: inact } : {}),
    ...(persist !== undefined ? { persistentConns: persist } : {}),
    ...(st ? { stats: st } : {}),
  };
}

// ---- config (timeouts) ----

/** SET_CONFIG: only the timeouts given are sent; the kernel keeps the others (0 means "keep"). */
export function writeTimeouts(w: AttrWriter, t: Partial<IpvsTimeouts>): void {
  if (t.tcpS !== undefined) w.u32(U.IPVS_CMD_ATTR_TIMEOUT_TCP, t.tcpS);
  if (t.tcpFinS !== undefined) w.u32(U.IPVS_CMD_ATTR_TIMEOUT_TCP_FIN, t.tcpFinS);
  if (t.udpS !== undefined) w.u32(U.IPVS_CMD_ATTR_TIMEOUT_UDP, t.udpS);
}
export const encodeTimeouts = (t: Partial<IpvsTimeouts>): Buffer => encoded((w) => writeTimeouts(w, t));

export function decodeTimeouts(buf: Buffer, counters?: DecodeCounters): IpvsTimeouts {
  let tcpS = 0, tcpFinS = 0, udpS = 0;
  for (const a of parseAttrs(buf)) {
    if (a.type === U.IPVS_CMD_ATTR_TIMEOUT_TCP) tcpS = rdU32(a, 'tcp timeout');
    else if (a.type === U.IPVS_CMD_ATTR_TIMEOUT_TCP_FIN) tcpFinS = rdU32(a, 'tcp fin timeout');
    else if (a.type === U.IPVS_CMD_ATTR_TIMEOUT_UDP) udpS = rdU32(a, 'udp timeout');
    else if (counters) counters.unknownAttrs++;
  }
  return { tcpS, tcpFinS, udpS };
}

// ---- sync daemon (net/netfilter/ipvs/ip_vs_ctl.c: ip_vs_genl_new_daemon, ip_vs_genl_dump_daemon) ----
// Port and maxlen are plain u16, the group the address's own bytes.

const ROLE_STATE: Record<SyncRole, number> = { master: U.IP_VS_STATE_MASTER, backup: U.IP_VS_STATE_BACKUP };

/** IPVS_CMD_NEW_DAEMON: the options left 0 are not sent, so the kernel picks its defaults. */
export function encodeDaemon(d: SyncDaemon): Buffer {
  return new AttrWriter().nest(U.IPVS_CMD_ATTR_DAEMON, (w) => {
    w.u32(U.IPVS_DAEMON_ATTR_STATE, ROLE_STATE[d.role]);
    w.str(U.IPVS_DAEMON_ATTR_MCAST_IFN, d.interface);
    w.u32(U.IPVS_DAEMON_ATTR_SYNC_ID, d.syncId);
    if (d.maxlen) w.u16(U.IPVS_DAEMON_ATTR_SYNC_MAXLEN, d.maxlen);
    if (d.port) w.u16(U.IPVS_DAEMON_ATTR_MCAST_PORT, d.port);
    if (d.ttl) w.u8(U.IPVS_DAEMON_ATTR_MCAST_TTL, d.ttl);
    if (d.group) {
      w.address(d.group.family === 'inet' ? U.IPVS_DAEMON_ATTR_MCAST_GROUP : U.IPVS_DAEMON_ATTR_MCAST_GROUP6, d.group.family, d.group.address);
    }
  }).toBuffer();
}

/** IPVS_CMD_DEL_DAEMON: the kernel stops the daemon of that role (libipvs also sends the sync id). */
export function encodeDaemonKey(role: SyncRole, syncId: number): Buffer {
  return new AttrWriter().nest(U.IPVS_CMD_ATTR_DAEMON, (w) => {
    w.u32(U.IPVS_DAEMON_ATTR_STATE, ROLE_STATE[role]);
    w.u32(U.IPVS_DAEMON_ATTR_SYNC_ID, syncId);
  }).toBuffer();
}

/** One IPVS_CMD_GET_DAEMON dump reply → the daemon, every option as the kernel holds it. */
export function decodeDaemonMessage(payload: Buffer, counters?: DecodeCounters): SyncDaemon {
  const nest = parseGenl(payload).attrs.find((a) => a.type === U.IPVS_CMD_ATTR_DAEMON);
  if (!nest) throw new IpvsCodecError('reply without IPVS_CMD_ATTR_DAEMON');
  let state: number | undefined;
  let iface = '';
  let syncId = 0, maxlen = 0, port = 0, ttl = 0;
  let group: SyncDaemon['group'];
  for (const a of parseAttrs(nest.value)) {
    switch (a.type) {
      case U.IPVS_DAEMON_ATTR_STATE: state = rdU32(a, 'daemon state'); break;
      case U.IPVS_DAEMON_ATTR_MCAST_IFN: iface = rdStr(a); break;
      case U.IPVS_DAEMON_ATTR_SYNC_ID: syncId = rdU32(a, 'sync id'); break;
      case U.IPVS_DAEMON_ATTR_SYNC_MAXLEN: maxlen = rdU16(a, 'sync maxlen'); break;
      case U.IPVS_DAEMON_ATTR_MCAST_PORT: port = rdU16(a, 'mcast port'); break;
      case U.IPVS_DAEMON_ATTR_MCAST_TTL: ttl = rdU8(a, 'mcast ttl'); break;
      case U.IPVS_DAEMON_ATTR_MCAST_GROUP: group = { family: 'inet', address: addressText('inet', need(a, 4, 'mcast group')) }; break;
      case U.IPVS_DAEMON_ATTR_MCAST_GROUP6: group = { family: 'inet6', address: addressText('inet6', need(a, 16, 'mcast group6')) }; break;
      default: if (counters) counters.unknownAttrs++;
    }
  }
  if (state !== U.IP_VS_STATE_MASTER && state !== U.IP_VS_STATE_BACKUP) throw new IpvsCodecError(`sync daemon state ${String(state)}`);
  return {
    role: state === U.IP_VS_STATE_MASTER ? 'master' : 'backup', interface: iface, syncId, maxlen, port, ttl,
    ...(group ? { group } : {}),
  };
}

// ---- genl message bodies ----

/** genlmsghdr: cmd u8, version u8, reserved u16. */
export function genlHeader(cmd: number, version = U.IPVS_GENL_VERSION): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt8(cmd, 0);
  b.writeUInt8(version, 1);
  return b;
}

export interface GenlBody { readonly cmd: number; readonly attrs: Attr[] }

/** Splits a generic-netlink payload into its command and top-level attributes. */
export function parseGenl(payload: Buffer): GenlBody {
  if (payload.length < 4) throw new IpvsCodecError(`generic netlink payload of ${payload.length} bytes`);
  return { cmd: payload.readUInt8(0), attrs: parseAttrs(payload.subarray(4)) };
}

/** One GET_SERVICE dump reply message → service. */
export function decodeServiceMessage(payload: Buffer, counters?: DecodeCounters): DecodedService {
  const nest = parseGenl(payload).attrs.find((a) => a.type === U.IPVS_CMD_ATTR_SERVICE);
  if (!nest) throw new IpvsCodecError('reply without IPVS_CMD_ATTR_SERVICE');
  return decodeServiceAttrs(nest.value, counters);
}

/** One GET_DEST dump reply message → destination. */
export function decodeDestMessage(payload: Buffer, serviceFamily: AddressFamily, counters?: DecodeCounters): DestinationEntry {
  const nest = parseGenl(payload).attrs.find((a) => a.type === U.IPVS_CMD_ATTR_DEST);
  if (!nest) throw new IpvsCodecError('reply without IPVS_CMD_ATTR_DEST');
  return decodeDestAttrs(nest.value, serviceFamily, counters);
}
