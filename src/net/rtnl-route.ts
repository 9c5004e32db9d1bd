// RTM_NEWROUTE / RTM_DELROUTE and RTM_NEWRULE / RTM_DELRULE bodies for the route and rule model of
// src/config/routes.ts, built as keepalived 2.2.7 builds them (vrrp/vrrp_iproute.c netlink_route, vrrp/vrrp_iprule.c
// netlink_rule), and the route / rule notifications read back for keepalived_netlink.c's route_is_ours / compare_rule.
// Pure encoding and decoding; Rtnl (rtnl.ts) sends.
import { parseIp } from './addr.js';
import { AF_INET, AF_INET6, RT_SCOPE_UNIVERSE } from './rtnl.js';
import type { NextHop, Prefix, RouteSpec, RuleSpec } from '../config/routes.js';
import { FR_ACT_GOTO, FR_ACT_TO_TBL, RT_TABLE_MAIN, RTAX } from '../config/routes.js';

// linux/rtnetlink.h
export const RTM_NEWROUTE = 24;
export const RTM_DELROUTE = 25;
export const RTM_NEWRULE = 32;
export const RTM_DELRULE = 33;
const RTA_DST = 1;
const RTA_SRC = 2;
const RTA_OIF = 4;
const RTA_GATEWAY = 5;
const RTA_PRIORITY = 6;
const RTA_PREFSRC = 7;
const RTA_METRICS = 8;
const RTA_MULTIPATH = 9;
const RTA_FLOW = 11;
const RTA_TABLE = 15;
const RTA_PREF = 20;
const RTA_EXPIRES = 23;
const RTA_TTL_PROPAGATE = 26;
const RT_TABLE_UNSPEC = 0;
const RT_SCOPE_NOWHERE = 255;
// linux/fib_rules.h
const FRA_DST = 1;
const FRA_SRC = 2;
const FRA_IFNAME = 3;
const FRA_GOTO = 4;
const FRA_PRIORITY = 6;
const FRA_FWMARK = 10;
const FRA_FLOW = 11;
const FRA_TUN_ID = 12;
const FRA_SUPPRESS_IFGROUP = 13;
const FRA_SUPPRESS_PREFIXLEN = 14;
const FRA_TABLE = 15;
const FRA_FWMASK = 16;
const FRA_OIFNAME = 17;
const FRA_L3MDEV = 19;
const FRA_UID_RANGE = 20;
const FRA_PROTOCOL = 21;
const FRA_IP_PROTO = 22;
const FRA_SPORT_RANGE = 23;
const FRA_DPORT_RANGE = 24;
const FIB_RULE_INVERT = 0x2;

const familyNumber = (f: 4 | 6): number => (f === 4 ? AF_INET : AF_INET6);

/** One rtattr, padded to 4 bytes (RTA_ALIGN). */
function attr(type: number, data: Buffer): Buffer {
  const len = 4 + data.length;
  const out = Buffer.alloc((len + 3) & ~3);
  out.writeUInt16LE(len, 0);
  out.writeUInt16LE(type, 2);
  data.copy(out, 4);
  return out;
}

const u8 = (n: number): Buffer => Buffer.from([n & 0xff]);
const u32 = (n: number): Buffer => {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(n >>> 0);
  return b;
};
const cstr = (s: string): Buffer => Buffer.concat([Buffer.from(s), Buffer.alloc(1)]);
/** struct fib_rule_port_range / fib_rule_uid_range: two host-order numbers. */
const range16 = ([a, b]: readonly [number, number]): Buffer => {
  const r = Buffer.alloc(4);
  r.writeUInt16LE(a, 0);
  r.writeUInt16LE(b, 2);
  return r;
};
const range32 = ([a, b]: readonly [number, number]): Buffer => Buffer.concat([u32(a), u32(b)]);

export interface NetlinkBody {
  readonly type: number;
  /** NLM_F_* beyond NLM_F_REQUEST (and NLM_F_ACK, which the sender adds). */
  readonly flags: number;
  readonly body: Buffer;
}

// linux/netlink.h
const NLM_F_EXCL = 0x200;
const NLM_F_CREATE = 0x400;
const NLM_F_APPEND = 0x800;

/** Links by name, for RTA_OIF and rtnh_ifindex. */
export type IfindexOf = (name: string) => number | undefined;

class UnknownInterfaceError extends Error {
  constructor(readonly ifname: string) {
    super(`interface ${ifname} does not exist`);
  }
}

function ifindexOrThrow(name: string, ifindexOf: IfindexOf): number {
  const i = ifindexOf(name);
  if (i === undefined) throw new UnknownInterfaceError(name);
  return i;
}

/** add_nexthops: RTA_MULTIPATH's rtnexthop entries, each with its own RTA_GATEWAY / RTA_FLOW. */
function multipath(nhs: readonly NextHop[], ifindexOf: IfindexOf): Buffer {
  return Buffer.concat(
    nhs.map((nh) => {
      const attrs = Buffer.concat([
        ...(nh.via ? [attr(RTA_GATEWAY, parseIp(nh.via.address))] : []),
        ...(nh.realms ? [attr(RTA_FLOW, u32(nh.realms))] : []),
      ]);
      const head = Buffer.alloc(8);
      head.writeUInt16LE(8 + attrs.length, 0);
      head.writeUInt8(nh.flags, 2);
      head.writeUInt8(nh.hops ?? 0, 3);
      head.writeInt32LE(nh.dev === undefined ? 0 : ifindexOrThrow(nh.dev, ifindexOf), 4);
      return Buffer.concat([head, attrs]);
    }),
  );
}

/** netlink_route: the request keepalived sends to add (as `ip route prepend`, unless `add`/`append`) or delete a route. */
export function routeRequest(r: RouteSpec, cmd: 'add' | 'del', ifindexOf: IfindexOf): NetlinkBody {
  const del = cmd === 'del';
  const hdr = Buffer.alloc(12);
  hdr.writeUInt8(familyNumber(r.family), 0);
  hdr.writeUInt8(r.dst.prefixlen, 1);
  hdr.writeUInt8(r.src?.prefixlen ?? 0, 2);
  hdr.writeUInt8(r.tos ?? 0, 3);
  hdr.writeUInt8(r.table < 256 ? r.table : RT_TABLE_UNSPEC, 4);
  hdr.writeUInt8(r.protocol, 5);
  hdr.writeUInt8(r.scope ?? (del ? RT_SCOPE_NOWHERE : RT_SCOPE_UNIVERSE), 6);
  hdr.writeUInt8(del && !r.typeSet ? 0 : r.type, 7);
  hdr.writeUInt32LE(r.flags, 8);
  const attrs: Buffer[] = [];
  if (r.table >= 256) attrs.push(attr(RTA_TABLE, u32(r.table)));
  attrs.push(attr(RTA_DST, parseIp(r.dst.address)));
  if (r.src) attrs.push(attr(RTA_SRC, parseIp(r.src.address)));
  if (r.prefSrc !== undefined) attrs.push(attr(RTA_PREFSRC, parseIp(r.prefSrc)));
  if (r.via) attrs.push(attr(RTA_GATEWAY, parseIp(r.via.address)));
  if (r.dev !== undefined) attrs.push(attr(RTA_OIF, u32(ifindexOrThrow(r.dev, ifindexOf))));
  if (r.metric !== undefined) attrs.push(attr(RTA_PRIORITY, u32(r.metric)));
  if (r.realms) attrs.push(attr(RTA_FLOW, u32(r.realms)));
  if (r.expires !== undefined) attrs.push(attr(RTA_EXPIRES, u32(r.expires)));
  if (r.pref !== undefined) attrs.push(attr(RTA_PREF, u8(r.pref)));
  if (r.ttlPropagate !== undefined) attrs.push(attr(RTA_TTL_PROPAGATE, u8(r.ttlPropagate)));
  if (r.metrics.length > 0) {
    const m = r.metrics.map(([k, v]) => attr(k, typeof v === 'string' ? Buffer.from(v) : u32(v)));
    if (r.lock) m.push(attr(RTAX.LOCK, u32(r.lock)));
    attrs.push(attr(RTA_METRICS, Buffer.concat(m)));
  }
  if (r.nexthops.length > 0) attrs.push(attr(RTA_MULTIPATH, multipath(r.nexthops, ifindexOf)));
  const flags = del ? 0 : NLM_F_CREATE | (r.create === 'add' ? NLM_F_EXCL : r.create === 'append' ? NLM_F_APPEND : 0);
  return { type: del ? RTM_DELROUTE : RTM_NEWROUTE, flags, body: Buffer.concat([hdr, ...attrs]) };
}

const prefixAttr = (type: number, p: Prefix): Buffer => attr(type, parseIp(p.address));

/** netlink_rule: the request keepalived sends to add (NLM_F_EXCL) or delete a rule. */
export function ruleRequest(r: RuleSpec, cmd: 'add' | 'del'): NetlinkBody {
  const hdr = Buffer.alloc(12);
  hdr.writeUInt8(familyNumber(r.family), 0);
  hdr.writeUInt8(r.to?.prefixlen ?? 0, 1);
  hdr.writeUInt8(r.from?.prefixlen ?? 0, 2);
  hdr.writeUInt8(r.tos, 3);
  const attrs: Buffer[] = [];
  let table = RT_TABLE_UNSPEC;
  if (r.action === FR_ACT_TO_TBL && !r.l3mdev) {
    if (r.table < 256) table = r.table || RT_TABLE_MAIN;
    else attrs.push(attr(FRA_TABLE, u32(r.table)));
  }
  hdr.writeUInt8(table, 4);
  hdr.writeUInt8(r.action, 7);
  hdr.writeUInt32LE(r.invert ? FIB_RULE_INVERT : 0, 8);
  if (r.from) attrs.push(prefixAttr(FRA_SRC, r.from));
  if (r.to) attrs.push(prefixAttr(FRA_DST, r.to));
  attrs.push(attr(FRA_PRIORITY, u32(r.priority)));
  if (r.fwmark !== undefined) attrs.push(attr(FRA_FWMARK, u32(r.fwmark)));
  if (r.fwmask !== undefined) attrs.push(attr(FRA_FWMASK, u32(r.fwmask)));
  if (r.realms) attrs.push(attr(FRA_FLOW, u32(r.realms)));
  if (r.suppressPrefixlen !== undefined) attrs.push(attr(FRA_SUPPRESS_PREFIXLEN, u32(r.suppressPrefixlen)));
  if (r.suppressIfgroup !== undefined) attrs.push(attr(FRA_SUPPRESS_IFGROUP, u32(r.suppressIfgroup)));
  if (r.iif !== undefined) attrs.push(attr(FRA_IFNAME, cstr(r.iif)));
  if (r.oif !== undefined) attrs.push(attr(FRA_OIFNAME, cstr(r.oif)));
  if (r.tunId !== undefined) {
    const b = Buffer.alloc(8);
    b.writeBigUInt64BE(BigInt(r.tunId));
    attrs.push(attr(FRA_TUN_ID, b));
  }
  if (r.uidRange) attrs.push(attr(FRA_UID_RANGE, range32(r.uidRange)));
  if (r.l3mdev) attrs.push(attr(FRA_L3MDEV, u8(1)));
  if (r.protocol !== undefined) attrs.push(attr(FRA_PROTOCOL, u8(r.protocol)));
  if (r.ipProto !== undefined) attrs.push(attr(FRA_IP_PROTO, u8(r.ipProto)));
  if (r.sport) attrs.push(attr(FRA_SPORT_RANGE, range16(r.sport)));
  if (r.dport) attrs.push(attr(FRA_DPORT_RANGE, range16(r.dport)));
  if (r.action === FR_ACT_GOTO) attrs.push(attr(FRA_GOTO, u32(r.gotoTarget ?? 0)));
  return { type: cmd === 'del' ? RTM_DELRULE : RTM_NEWRULE, flags: cmd === 'del' ? 0 : NLM_F_CREATE | NLM_F_EXCL, body: Buffer.concat([hdr, ...attrs]) };
}

/** A route notification, with what route_is_ours compares. */
export interface RouteNote {
  readonly family: number;
  readonly dstLen: number;
  readonly tos: number;
  readonly protocol: number;
  readonly table: number;
  readonly dst?: Buffer;
  readonly oif?: number;
  readonly priority: number;
}

function attrs(buf: Buffer, from: number): Map<number, Buffer> {
  const out = new Map<number, Buffer>();
  for (let off = from; off + 4 <= buf.length; ) {
    const len = buf.readUInt16LE(off);
    if (len < 4) break;
    out.set(buf.readUInt16LE(off + 2) & 0x3fff, buf.subarray(off + 4, off + len));
    off += (len + 3) & ~3;
  }
  return out;
}

/** An RTM_NEWROUTE / RTM_DELROUTE body (struct rtmsg and its attributes). */
export function parseRouteNote(body: Buffer): RouteNote | undefined {
  if (body.length < 12) return undefined;
  const a = attrs(body, 12);
  const dst = a.get(RTA_DST);
  const oif = a.get(RTA_OIF);
  return {
    family: body.readUInt8(0),
    dstLen: body.readUInt8(1),
    tos: body.readUInt8(3),
    protocol: body.readUInt8(5),
    table: a.get(RTA_TABLE)?.readUInt32LE(0) ?? body.readUInt8(4),
    ...(dst ? { dst } : {}),
    ...(oif ? { oif: oif.readUInt32LE(0) } : {}),
    priority: a.get(RTA_PRIORITY)?.readUInt32LE(0) ?? 0,
  };
}

/** keepalived_netlink.c route_is_ours for a virtual route (`oif`: the ifindex of the route's dev). */
export function routeMatches(n: RouteNote, r: RouteSpec, oif: number | undefined, virtual: boolean): boolean {
  if (n.table !== r.table || n.family !== familyNumber(r.family) || n.dstLen !== r.dst.prefixlen || n.tos !== (r.tos ?? 0)) return false;
  if (virtual) {
    if (n.priority !== (r.metric ?? 0)) return false;
    if (r.dev !== undefined && (n.oif === undefined || n.oif !== oif)) return false;
  }
  const want = parseIp(r.dst.address);
  return (n.dst ?? Buffer.alloc(want.length)).equals(want);
}

/** An RTM_NEWRULE / RTM_DELRULE body (struct fib_rule_hdr and its attributes). */
export interface RuleNote {
  readonly body: Buffer;
  readonly attrs: ReadonlyMap<number, Buffer>;
}

export function parseRuleNote(body: Buffer): RuleNote | undefined {
  return body.length < 12 ? undefined : { body, attrs: attrs(body, 12) };
}

/** FRA_PROTOCOL of a rule notification, when the kernel sends one. */
export const ruleProtocol = (n: RuleNote): number | undefined => n.attrs.get(FRA_PROTOCOL)?.readUInt8(0);

/** keepalived_netlink.c compare_rule: whether a rule notification is this rule. */
export function ruleMatches(n: RuleNote, r: RuleSpec): boolean {
  const { body, attrs: tb } = n;
  const u32At = (t: number): number | undefined => tb.get(t)?.readUInt32LE(0);
  if (r.noTrack || body.readUInt8(0) !== familyNumber(r.family)) return false;
  if (u32At(FRA_PRIORITY) !== r.priority) return false;
  if (body.readUInt8(7) !== r.action) return false;
  if (r.action === FR_ACT_GOTO && u32At(FRA_GOTO) !== r.gotoTarget) return false;
  if ((u32At(FRA_TABLE) ?? body.readUInt8(4)) !== r.table) return false;
  if (((body.readUInt32LE(8) & FIB_RULE_INVERT) !== 0) !== r.invert) return false;
  const prefix = (t: number, len: number, p: Prefix | undefined): boolean =>
    p === undefined ? !tb.has(t) : tb.has(t) && len === p.prefixlen && tb.get(t)!.equals(parseIp(p.address));
  if (!prefix(FRA_SRC, body.readUInt8(2), r.from) || !prefix(FRA_DST, body.readUInt8(1), r.to)) return false;
  if (body.readUInt8(3) !== r.tos) return false;
  if (u32At(FRA_FWMARK) !== r.fwmark) return false;
  const mask = u32At(FRA_FWMASK);
  if (r.fwmask !== undefined ? mask !== r.fwmask : mask !== undefined && mask !== 0xffffffff) return false;
  if ((u32At(FRA_FLOW) ?? 0) !== (r.realms ?? 0)) return false;
  const name = (t: number): string | undefined => tb.get(t)?.toString('latin1').replace(/\0.*$/s, '');
  if (name(FRA_IFNAME) !== r.iif || name(FRA_OIFNAME) !== r.oif) return false;
  return true;
}
