// `virtual_routes` / `static_routes` and `virtual_rules` / `static_rules` lines read into a route / rule model, as
// keepalived 2.2.7's vrrp/vrrp_iproute.c alloc_route and parse_nexthops, and vrrp/vrrp_iprule.c alloc_rule read them,
// with their config-time lines (each a config error, -t exit 5). I/O-free: names from /etc/iproute2 come in `names`.
// The netlink encoding is src/net/rtnl-route.ts's.
import type { Node } from './parser.js';
import type { Reporter } from './errors.js';
import { InterfaceLookup } from './interfaces.js';
import { canonicalIp, ipFamily } from './address.js';

// linux/rtnetlink.h
export const RTN_UNICAST = 1;
export const RTN_BLACKHOLE = 6;
export const RTN_UNREACHABLE = 7;
export const RTN_PROHIBIT = 8;
export const RT_TABLE_MAIN = 254;
/** linux/rtnetlink.h RTPROT_KEEPALIVED: the protocol of every tracked route and rule. */
export const RTPROT_KEEPALIVED = 18;
export const RTNH_F_ONLINK = 4;
// linux/fib_rules.h
export const FR_ACT_UNSPEC = 0;
export const FR_ACT_TO_TBL = 1;
export const FR_ACT_GOTO = 2;
export const FR_ACT_NOP = 3;
export const FR_ACT_BLACKHOLE = 6;
export const FR_ACT_UNREACHABLE = 7;
export const FR_ACT_PROHIBIT = 8;
// linux/rtnetlink.h RTAX_*
export const RTAX = {
  LOCK: 1, MTU: 2, WINDOW: 3, RTT: 4, RTTVAR: 5, SSTHRESH: 6, CWND: 7, ADVMSS: 8, REORDERING: 9, HOPLIMIT: 10,
  INITCWND: 11, FEATURES: 12, RTO_MIN: 13, INITRWND: 14, QUICKACK: 15, CC_ALGO: 16, FASTOPEN_NO_COOKIE: 17,
} as const;
const RTAX_FEATURE_ECN = 1;

/** lib/rttables.c rtntypes. */
const RTN_NAMES: Readonly<Record<string, number>> = {
  local: 2, nat: 10, broadcast: 3, brd: 3, anycast: 4, multicast: 5, prohibit: RTN_PROHIBIT, unreachable: RTN_UNREACHABLE,
  blackhole: RTN_BLACKHOLE, xresolve: 11, unicast: RTN_UNICAST, throw: 9,
};

/** Names iproute2 keeps in /etc/iproute2 (rt_tables, rt_protos, rt_scopes, rt_dsfield, rt_realms, group), with lib/rttables.c's defaults. */
export interface RtNames {
  readonly tables: ReadonlyMap<string, number>;
  readonly protos: ReadonlyMap<string, number>;
  readonly scopes: ReadonlyMap<string, number>;
  readonly dsfields: ReadonlyMap<string, number>;
  readonly realms: ReadonlyMap<string, number>;
  readonly groups: ReadonlyMap<string, number>;
}

export const DEFAULT_RT_NAMES: RtNames = {
  tables: new Map([['default', 253], ['main', 254], ['local', 255]]),
  protos: new Map([['none', 0], ['redirect', 1], ['kernel', 2], ['boot', 3], ['static', 4], ['gated', 8], ['ra', 9], ['mrt', 10],
    ['zebra', 11], ['bird', 12], ['babel', 42], ['dnrouted', 13], ['xorp', 14], ['ntk', 15], ['dhcp', 16]]),
  scopes: new Map([['global', 0], ['nowhere', 255], ['host', 254], ['link', 253], ['site', 200]]),
  dsfields: new Map(),
  realms: new Map(),
  groups: new Map(),
};

export interface Prefix {
  readonly address: string;
  readonly prefixlen: number;
}

export interface NextHop {
  readonly via?: { readonly family: 4 | 6; readonly address: string };
  readonly dev?: string;
  /** rtnh_hops: the configured weight less one. */
  readonly hops?: number;
  readonly flags: number;
  readonly realms?: number;
}

/** One route as keepalived's ip_route_t holds it. */
export interface RouteSpec {
  /** The line as written, for logs. */
  readonly text: string;
  readonly family: 4 | 6;
  readonly dst: Prefix;
  readonly type: number;
  /** IPROUTE_BIT_TYPE: the type is sent with RTM_DELROUTE too. */
  readonly typeSet: boolean;
  readonly table: number;
  readonly protocol: number;
  readonly scope?: number;
  /** `from` (IPv6 source routing): RTA_SRC. */
  readonly src?: Prefix;
  /** `src`: RTA_PREFSRC. */
  readonly prefSrc?: string;
  readonly via?: { readonly family: 4 | 6; readonly address: string };
  readonly dev?: string;
  readonly metric?: number;
  readonly tos?: number;
  readonly flags: number;
  readonly realms?: number;
  readonly expires?: number;
  readonly pref?: number;
  readonly ttlPropagate?: number;
  /** RTA_METRICS entries, in keepalived's order: [RTAX_*, value]; RTAX_CC_ALGO carries a name. */
  readonly metrics: readonly (readonly [number, number | string])[];
  readonly lock: number;
  readonly nexthops: readonly NextHop[];
  /** NLM_F_EXCL (`add`), NLM_F_APPEND (`append`) or neither (`prepend`, keepalived's default). */
  readonly create: 'prepend' | 'add' | 'append';
  readonly noTrack: boolean;
}

/** One rule as keepalived's ip_rule_t holds it. */
export interface RuleSpec {
  readonly text: string;
  readonly family: 4 | 6;
  readonly action: number;
  readonly table: number;
  readonly invert: boolean;
  readonly from?: Prefix;
  readonly to?: Prefix;
  readonly priority: number;
  readonly tos: number;
  readonly fwmark?: number;
  readonly fwmask?: number;
  readonly realms?: number;
  readonly suppressPrefixlen?: number;
  readonly suppressIfgroup?: number;
  readonly iif?: string;
  readonly oif?: string;
  /** FRA_TUN_ID, decimal text (a u64). */
  readonly tunId?: string;
  readonly uidRange?: readonly [number, number];
  readonly l3mdev: boolean;
  readonly protocol?: number;
  readonly ipProto?: number;
  readonly sport?: readonly [number, number];
  readonly dport?: readonly [number, number];
  readonly gotoTarget?: number;
  readonly noTrack: boolean;
}

/** The next preference keepalived gives a rule without one, per family (vrrp_iprule.c RULE_START_PRIORITY, counting down). */
export interface RulePreferences { inet: number; inet6: number }

export const rulePreferences = (): RulePreferences => ({ inet: 16384, inet6: 16384 });

class ParseError extends Error {}
/** An option lvskeeper does not carry out: the route or rule is not installed, and schema/uses.ts routingUses names it. */
class Unsupported extends Error {}

/** lib/rttables.c find_entry: a number (strtoul base 0) up to `max`, or a name. */
function lookup(word: string | undefined, names: ReadonlyMap<string, number>, max: number): number | undefined {
  if (word === undefined) return undefined;
  const n = parseCNumber(word);
  if (n !== undefined) return n <= max ? n : undefined;
  return names.get(word);
}

/** strtoul(…, 0) of a whole word: decimal, 0x hex or 0 octal. */
function parseCNumber(w: string): number | undefined {
  if (/^0[xX][0-9a-fA-F]+$/.test(w)) return parseInt(w.slice(2), 16);
  if (/^0[0-7]*$/.test(w)) return parseInt(w, 8);
  if (/^[1-9]\d*$/.test(w)) return Number(w);
  return undefined;
}

type Err = (msg: string) => void;

/**
 * vrrp_ipaddress.c parse_ipaddress: an address, with a /len when `subnet` (a bad length is reported and the full
 * length used); a bad address is reported and refused.
 */
function parseAddress(text: string | undefined, subnet: boolean, err: Err): { family: 4 | 6; prefix: Prefix } | undefined {
  if (text === undefined) return undefined;
  const slash = subnet ? text.indexOf('/') : -1;
  const addr = slash < 0 ? text : text.slice(0, slash);
  const family = text.includes(':') ? 6 : 4;
  const max = family === 4 ? 32 : 128;
  let prefixlen = max;
  if (slash >= 0) {
    const len = text.slice(slash + 1);
    if (/^\d+$/.test(len) && Number(len) <= max) prefixlen = Number(len);
    else err(`Invalid address prefix len ${len} for address ${text} - using ${max}`);
  }
  if (ipFamily(addr) !== (family === 4 ? 'inet' : 'inet6')) {
    err(`VRRP parsed invalid IP ${text}. skipping IP...`);
    return undefined;
  }
  return { family, prefix: { address: canonicalIp(addr), prefixlen } };
}

/** vrrp_ipaddress.c parse_route: default/any/all (family left open), or an address with an optional /len. */
function parseRouteAddr(text: string | undefined, err: Err): { family?: 4 | 6; prefix: Prefix } | undefined {
  if (text === 'default' || text === 'any' || text === 'all') return { prefix: { address: '', prefixlen: 0 } };
  if (text === 'default6') return { family: 6, prefix: { address: '::', prefixlen: 0 } };
  return parseAddress(text, true, err);
}

function parseAddr(text: string | undefined, err: Err): { family: 4 | 6; address: string } | undefined {
  const a = parseAddress(text, false, err);
  return a && { family: a.family, address: a.prefix.address };
}

/** lib/rttables.c get_realms: `[SRC/]DST`, each a number or an rt_realms name; SRC in the top 16 bits. */
function parseRealms(text: string | undefined, names: RtNames): number | undefined {
  if (text === undefined) return undefined;
  const parts = text.split('/');
  if (parts.length > 2) return undefined;
  const vals = parts.map((p) => lookup(p, names.realms, 0xffff));
  if (vals.some((v) => v === undefined)) return undefined;
  return parts.length === 2 ? vals[0]! * 0x10000 + vals[1]! : vals[0]!;
}

const unsignedMax = (w: string | undefined, max: number): number | undefined => {
  if (w === undefined || !/^\d+$/.test(w)) return undefined;
  const n = Number(w);
  return n <= max ? n : undefined;
};

const U32 = 0xffffffff;

/**
 * vrrp_iproute.c alloc_route (and parse_nexthops): a route line, its config errors reported as keepalived words them.
 * Returns undefined where keepalived drops the route.
 */
export function parseRouteLine(
  report: Reporter, line: Node, names: RtNames, isStatic: boolean, ifs = new InterfaceLookup(),
): RouteSpec | undefined {
  const words = [line.kw, ...line.args];
  const err = (msg: string): void => report.error(line.src, msg, line.kw);
  let family: 4 | 6 | undefined;
  const setFamily = (f: 4 | 6, msg: string): void => {
    if (family === undefined) family = f;
    else if (family !== f) throw new ParseError(msg);
  };
  let dst: { family?: 4 | 6; prefix: Prefix } | undefined;
  let dest: string | undefined;
  let type = RTN_UNICAST;
  let typeSet = false;
  let table = RT_TABLE_MAIN;
  let protocol: number | undefined;
  let scope: number | undefined;
  let src: Prefix | undefined;
  let prefSrc: string | undefined;
  let via: { family: 4 | 6; address: string } | undefined;
  let dev: string | undefined;
  let metric: number | undefined;
  let tos: number | undefined;
  let flags = 0;
  let realms: number | undefined;
  let expires: number | undefined;
  let pref: number | undefined;
  let ttlPropagate: number | undefined;
  const metrics = new Map<number, number | string>();
  let lock = 0;
  let create: RouteSpec['create'] = 'prepend';
  let noTrack = false;
  const nexthops: NextHop[] = [];
  let i = 0;
  const num = (max: number, msg: string): number => {
    const v = unsignedMax(words[++i], max);
    if (v === undefined) throw new ParseError(msg.replace('%s', words[i] ?? '(null)'));
    return v;
  };
  /** A metric that may be preceded by `lock`. */
  const lockable = (rtax: number, msg: string): void => {
    if (words[i + 1] === 'lock') {
      lock |= 1 << rtax;
      i++;
    }
    metrics.set(rtax, num(U32, msg));
  };
  try {
    for (; i < words.length; i++) {
      const w = words[i]!;
      switch (w) {
        case 'inet6':
          setFamily(6, 'inet6 specified for IPv4 route');
          break;
        case 'inet':
          setFamily(4, 'inet specified for IPv6 route');
          break;
        case 'src': {
          const a = parseAddr(words[++i], err);
          if (!a) throw new ParseError(`invalid route src address ${words[i]}`);
          setFamily(a.family, 'Cannot mix IPv4 and IPv6 addresses for route');
          prefSrc = a.address;
          break;
        }
        case 'via':
        case 'gw': {
          if (w === 'gw') err('"gw" for routes is deprecated. Please use "via"');
          let text = words[++i];
          let f: 4 | 6 | undefined = family;
          if (text === 'inet' || text === 'inet6') {
            f = text === 'inet' ? 4 : 6;
            text = words[++i];
          }
          if (f !== undefined) setFamily(f, 'Cannot mix IPv4 and IPv6 addresses for route');
          const a = parseAddr(text, err);
          if (!a) throw new ParseError(`invalid route via address ${text}`);
          via = a;
          // keepalived compares the gateway's family with the route's (an inet6 gateway for IPv4 goes as RTA_VIA).
          if (f === undefined) setFamily(a.family, 'Cannot mix IPv4 and IPv6 addresses for route');
          else if (a.family !== f) throw new ParseError('Cannot mix IPv4 and IPv6 addresses for route');
          break;
        }
        case 'from': {
          const a = parseRouteAddr(words[++i], err);
          if (!a) throw new ParseError(`invalid route from address ${words[i]}`);
          if (a.family !== 6) throw new ParseError(`route from address only supported with IPv6 (${words[i]})`);
          setFamily(6, 'Cannot mix IPv4 and IPv6 addresses for route');
          src = a.prefix;
          break;
        }
        case 'tos':
        case 'dsfield': {
          const v = lookup(words[++i], names.dsfields, 255);
          if (v === undefined) throw new ParseError(`TOS value ${words[i]} is invalid`);
          tos = v;
          break;
        }
        case 'table': {
          const v = lookup(words[++i], names.tables, U32);
          if (v === undefined) throw new ParseError(`Routing table ${words[i]} not found for route`);
          table = v;
          break;
        }
        case 'protocol': {
          const v = lookup(words[++i], names.protos, 255);
          if (v === undefined) throw new ParseError(`Protocol ${words[i]} not found or invalid for route`);
          protocol = v;
          break;
        }
        case 'scope': {
          const v = lookup(words[++i], names.scopes, 255);
          if (v === undefined) throw new ParseError(`Scope ${words[i]} not found or invalid for route`);
          scope = v;
          break;
        }
        case 'metric':
        case 'priority':
        case 'preference':
          metric = num(U32, 'Invalid metric %s specified for route');
          break;
        case 'dev':
        case 'oif':
          dev = device(ifs, words[++i], 'VROUTE nexthop');
          break;
        case 'onlink':
          flags |= RTNH_F_ONLINK;
          break;
        case 'expires':
          if (family === 4) throw new ParseError('expires is only valid for IPv6');
          family = 6;
          expires = num(U32, 'Invalid expires time %s specified for route');
          break;
        case 'mtu':
          lockable(RTAX.MTU, 'Invalid MTU %s specified for route');
          break;
        case 'hoplimit':
          metrics.set(RTAX.HOPLIMIT, num(255, 'Invalid hoplimit %s specified for route'));
          break;
        case 'advmss':
          lockable(RTAX.ADVMSS, 'Invalid advmss %s specified for route');
          break;
        case 'reordering':
          lockable(RTAX.REORDERING, 'Invalid reordering value %s specified for route');
          break;
        case 'window':
          metrics.set(RTAX.WINDOW, num(U32, 'Invalid window value %s specified for route'));
          break;
        case 'cwnd':
          lockable(RTAX.CWND, 'Invalid cwnd value %s specified for route');
          break;
        case 'ssthresh':
          lockable(RTAX.SSTHRESH, 'Invalid ssthresh value %s specified for route');
          break;
        case 'initcwnd':
          metrics.set(RTAX.INITCWND, num(U32, 'Invalid initcwnd value %s specified for route'));
          break;
        case 'initrwnd':
          metrics.set(RTAX.INITRWND, num(U32, 'Invalid initrwnd value %s specified for route'));
          break;
        case 'quickack':
          metrics.set(RTAX.QUICKACK, num(1, 'Invalid quickack value %s specified for route'));
          break;
        case 'fastopen_no_cookie':
          metrics.set(RTAX.FASTOPEN_NO_COOKIE, num(1, 'Invalid fastopen_no_cookie value %s specified for route'));
          break;
        case 'features':
          if (words[++i] === 'ecn') metrics.set(RTAX.FEATURES, RTAX_FEATURE_ECN);
          else err(`feature ${words[i]} not supported`);
          break;
        case 'congctl':
          if (words[++i] === 'lock') {
            lock |= 1 << RTAX.CC_ALGO;
            i++;
          }
          metrics.set(RTAX.CC_ALGO, words[i] ?? '');
          break;
        case 'rtt':
        case 'rttvar':
        case 'rto_min': {
          // get_time_rtt: a time in s or ms (ms when bare), in 1/8000, 1/4000 and 1/1000 s units.
          const rtax = w === 'rtt' ? RTAX.RTT : w === 'rttvar' ? RTAX.RTTVAR : RTAX.RTO_MIN;
          if (words[i + 1] === 'lock') {
            lock |= 1 << rtax;
            i++;
          }
          const v = rttUnits(words[++i], w === 'rtt' ? 8 : w === 'rttvar' ? 4 : 1);
          if (v === undefined) throw new ParseError(w === 'rto_min' ? `Invalid rto_min value ${words[i]} specified for route` : `Invalid ${w} ${words[i]} for route`);
          metrics.set(rtax, v);
          break;
        }
        case 'realms': {
          const v = parseRealms(words[++i], names);
          if (v === undefined) throw new ParseError(`Invalid realms ${words[i]} for route`);
          if (family === 6) throw new ParseError('realms are only valid for IPv4');
          family = 4;
          realms = v;
          break;
        }
        case 'pref': {
          if (family === 4) throw new ParseError('pref is only valid for IPv6');
          family = 6;
          const t = words[++i];
          // linux/icmpv6.h ICMPV6_ROUTER_PREF_*
          const named: Record<string, number> = { low: 3, medium: 0, high: 1 };
          const v = t !== undefined && t in named ? named[t] : unsignedMax(t, 255);
          if (v === undefined) throw new ParseError(`Invalid pref value ${t} specified for route`);
          pref = v;
          break;
        }
        case 'ttl-propagate': {
          const t = words[++i];
          if (t === 'enabled') ttlPropagate = 1;
          else if (t === 'disabled') ttlPropagate = 0;
          else err(`ttl-propagate value ${t} not recognised`);
          ttlPropagate ??= 0;
          break;
        }
        case 'add':
          create = 'add';
          break;
        case 'prepend':
          create = 'prepend';
          break;
        case 'append':
          create = 'append';
          break;
        case 'or': {
          err('"or" for routes is deprecated. Please use "nexthop"');
          if (nexthops.length > 0) {
            err('"or" route already specified - ignoring subsequent');
            i++;
            break;
          }
          const a = parseAddr(words[++i], err);
          if (!a) throw new ParseError(`Invalid "or" address ${words[i]}`);
          nexthops.push({ ...(via ? { via } : {}), flags: 0 }, { via: a, flags: 0 });
          via = undefined;
          break;
        }
        case 'nexthop':
          if (nexthops.length > 0) err('Cannot specify nexthops with "or" route');
          else {
            try {
              parseNexthops(words, i, nexthops, names, (f) => setFamily(f, 'Address family mismatch for next hop'), () => family, err, ifs);
            } catch (e) {
              // parse_nexthops' err: the hop in hand is dropped, the route keeps the ones before it.
              if (!(e instanceof ParseError)) throw e;
              err(e.message);
            }
          }
          i = words.length;
          break;
        case 'no_track':
          noTrack = true;
          break;
        case 'as':
          if (words[++i] === 'to') i++;
          err('"as to" for MPLS only - ignoring');
          break;
        case 'encap':
        case 'vrf':
          throw new Unsupported();
        default: {
          if (w === 'track_group' && isStatic) throw new Unsupported();
          if (w === 'to') i++;
          const t = words[i];
          if (t !== undefined && t in RTN_NAMES) {
            type = RTN_NAMES[t]!;
            typeSet = true;
            i++;
          }
          dest = words[i];
          const d = parseRouteAddr(dest, err);
          if (!d) throw new ParseError(`unknown route keyword ${dest}`);
          if (d.family !== undefined) setFamily(d.family, `Cannot mix IPv4 and IPv6 addresses for route (${dest})`);
          dst = d;
        }
      }
    }
    if (!dst) throw new ParseError('Route must have a destination');
  } catch (e) {
    if (e instanceof Unsupported) return undefined;
    if (!(e instanceof ParseError)) throw e;
    err(e.message);
    return undefined;
  }
  if (!noTrack) {
    if (protocol !== undefined && protocol !== RTPROT_KEEPALIVED) {
      err(`Route cannot be tracked if protocol is not RTPROT_KEEPALIVED(${RTPROT_KEEPALIVED}), resetting protocol`);
    }
    protocol = RTPROT_KEEPALIVED;
    if (dev === undefined) {
      err(`Warning - cannot track route ${dest} with no interface specified, not tracking`);
      noTrack = true;
    }
  }
  const fam: 4 | 6 = family ?? 4;
  const dstPrefix = dst.prefix.address === '' ? { address: fam === 4 ? '0.0.0.0' : '::', prefixlen: 0 } : dst.prefix;
  return {
    text: words.join(' '),
    family: fam,
    dst: dstPrefix,
    type,
    typeSet,
    table,
    // netlink_route: a route without a protocol goes as RTPROT_KEEPALIVED.
    protocol: protocol ?? RTPROT_KEEPALIVED,
    ...(scope !== undefined ? { scope } : {}),
    ...(src ? { src } : {}),
    ...(prefSrc !== undefined ? { prefSrc } : {}),
    ...(via ? { via } : {}),
    ...(dev !== undefined ? { dev } : {}),
    ...(metric !== undefined ? { metric } : {}),
    ...(tos !== undefined ? { tos } : {}),
    flags,
    ...(realms !== undefined ? { realms } : {}),
    ...(expires !== undefined ? { expires } : {}),
    ...(pref !== undefined ? { pref } : {}),
    ...(ttlPropagate !== undefined ? { ttlPropagate } : {}),
    metrics: METRIC_ORDER.filter((k) => metrics.has(k)).map((k) => [k, metrics.get(k)!] as const),
    lock,
    nexthops,
    create,
    noTrack,
  };
}

/** netlink_route's order of the RTA_METRICS entries. */
const METRIC_ORDER = [
  RTAX.CC_ALGO, RTAX.RTT, RTAX.RTTVAR, RTAX.RTO_MIN, RTAX.FEATURES, RTAX.MTU, RTAX.WINDOW, RTAX.SSTHRESH, RTAX.CWND,
  RTAX.ADVMSS, RTAX.REORDERING, RTAX.HOPLIMIT, RTAX.INITCWND, RTAX.INITRWND, RTAX.QUICKACK, RTAX.FASTOPEN_NO_COOKIE,
];

/** lib/parser.c get_time_rtt: `N`, `Nms`, `Nmsec(s)`, `Ns`, `Nsec(s)` (ms when bare) → units of 1/(`per_ms`·1000) s. */
function rttUnits(text: string | undefined, perMs: number): number | undefined {
  const m = text === undefined ? null : /^(\d+(?:\.\d+)?)(ms|msec|msecs|s|sec|secs)?$/.exec(text);
  if (!m) return undefined;
  const ms = Number(m[1]) * (m[2] === undefined || m[2].startsWith('ms') ? 1 : 1000);
  const v = Math.round(ms * perMs);
  return v <= U32 ? v : undefined;
}

function parseNexthops(
  words: readonly string[],
  start: number,
  out: NextHop[],
  names: RtNames,
  setFamily: (f: 4 | 6) => void,
  family: () => 4 | 6 | undefined,
  err: Err,
  ifs: InterfaceLookup,
): void {
  let i = start;
  while (i < words.length && words[i] === 'nexthop') {
    i++;
    const nh: { via?: { family: 4 | 6; address: string }; dev?: string; hops?: number; flags: number; realms?: number } = { flags: 0 };
    for (; i < words.length; i++) {
      const w = words[i]!;
      if (w === 'via') {
        let text = words[++i];
        if (text === 'inet' || text === 'inet6') {
          setFamily(text === 'inet' ? 4 : 6);
          text = words[++i];
        }
        const a = parseAddr(text, err);
        if (!a) throw new ParseError(`invalid nexthop address ${text}`);
        setFamily(a.family);
        nh.via = a;
      } else if (w === 'dev') nh.dev = device(ifs, words[++i], 'VROUTE nexthop');
      else if (w === 'weight') {
        const v = unsignedMax(words[++i], 256);
        if (v === undefined) throw new ParseError(`Invalid weight ${words[i]} specified for route`);
        if (v === 0) throw new ParseError('Invalid weight 0 specified for route');
        nh.hops = v - 1;
      } else if (w === 'onlink') nh.flags |= RTNH_F_ONLINK;
      else if (w === 'realms') {
        const v = parseRealms(words[++i], names);
        if (v === undefined) throw new ParseError(`Invalid realms ${words[i]} for route`);
        if (family() === 6) throw new ParseError('realms are only supported for IPv4');
        setFamily(4);
        nh.realms = v;
      } else if (w === 'as') {
        if (words[++i] === 'to') i++;
        throw new ParseError("'as [to]' (nat) not supported");
      } else if (w === 'encap') throw new Unsupported();
      else break;
    }
    out.push(nh);
  }
  if (i < words.length) throw new ParseError(`Route has trailing nonsense after nexthops - ${words[i]}`);
}

/**
 * vrrp_iprule.c alloc_rule: a rule line, its config errors as keepalived words them; a rule without a preference
 * gets the next one counting down from 16384 (a config error too). Returns undefined where keepalived drops the rule.
 */
export function parseRuleLine(
  report: Reporter, line: Node, next: RulePreferences, names: RtNames, isStatic: boolean, ifs = new InterfaceLookup(),
): RuleSpec | undefined {
  const words = [line.kw, ...line.args];
  const err = (msg: string): void => report.error(line.src, msg, line.kw);
  let family: 4 | 6 | undefined;
  const r: {
    action: number; table: number; invert: boolean; from?: Prefix; to?: Prefix; priority?: number; tos: number; fwmark?: number;
    fwmask?: number; realms?: number; suppressPrefixlen?: number; suppressIfgroup?: number; iif?: string; oif?: string;
    tunId?: string; uidRange?: [number, number]; l3mdev: boolean; protocol?: number; ipProto?: number; sport?: [number, number];
    dport?: [number, number]; gotoTarget?: number; noTrack: boolean;
  } = { action: FR_ACT_UNSPEC, table: 0, invert: false, tos: 0, l3mdev: false, noTrack: false };
  let tableOption = false;
  let i = 0;
  const mixed = (f: 4 | 6 | undefined): void => {
    if (f === undefined) return;
    if (family === undefined) family = f;
    else if (family !== f) throw new ParseError('rule specification has mixed IPv4 and IPv6');
  };
  try {
    for (; i < words.length; i++) {
      const w = words[i]!;
      switch (w) {
        case 'inet6':
        case 'inet': {
          const f = w === 'inet' ? 4 : 6;
          if (family !== undefined && family !== f) throw new ParseError(`${w} specified for IPv${family} rule`);
          family = f;
          break;
        }
        case 'from':
        case 'to': {
          const text = words[++i];
          const a = parseRouteAddr(text, err);
          if (!a) throw new ParseError(`Invalid rule ${w} address ${text}`);
          mixed(a.family);
          r[w] = a.prefix;
          break;
        }
        case 'table':
        case 'lookup': {
          const v = lookup(words[++i], names.tables, U32);
          if (v === undefined) throw new ParseError(`Routing table ${words[i]} not found for rule`);
          if (v === 0) throw new ParseError('Table 0 is not valid');
          r.table = v;
          if (r.action !== FR_ACT_UNSPEC) throw new ParseError('Cannot specify more than one of table/nop/goto/blackhole/prohibit/unreachable for rule');
          r.action = FR_ACT_TO_TBL;
          break;
        }
        case 'not':
          r.invert = true;
          break;
        case 'preference':
        case 'order':
        case 'priority': {
          const v = parseCNumber(words[++i] ?? '');
          if (v === undefined || v > U32) throw new ParseError(`Invalid rule preference ${w} specified`);
          r.priority = v;
          break;
        }
        case 'tos':
        case 'dsfield': {
          const v = lookup(words[++i], names.dsfields, 255);
          if (v === undefined) throw new ParseError(`TOS value ${words[i]} is invalid`);
          r.tos = v;
          break;
        }
        case 'fwmark': {
          const text = words[++i] ?? '';
          const m = /^([^/]+)(?:\/(.+))?$/.exec(text);
          const mark = m ? parseCNumber(m[1]!) : undefined;
          const mask = m?.[2] !== undefined ? parseCNumber(m[2]) : 0;
          if (mark === undefined || mask === undefined || mark > U32 || mask > U32) throw new ParseError(`Invalid rule fwmark ${text} specified`);
          r.fwmark = mark;
          if (m?.[2] !== undefined) r.fwmask = mask;
          break;
        }
        case 'realms': {
          const v = parseRealms(words[++i], names);
          if (v === undefined) throw new ParseError(`invalid realms ${words[i]} for rule`);
          r.realms = v;
          tableOption = true;
          if (family === 6) throw new ParseError('realms is only valid for IPv4');
          family = 4;
          break;
        }
        case 'suppress_prefixlength':
        case 'sup_pl': {
          const v = unsignedMax(words[++i], 0x7fffffff);
          if (v === undefined) throw new ParseError(`Invalid suppress_prefixlength ${w} specified`);
          r.suppressPrefixlen = v;
          tableOption = true;
          break;
        }
        case 'suppress_ifgroup':
        case 'sup_group': {
          const v = lookup(words[++i], names.groups, U32);
          if (v === undefined) throw new ParseError(`suppress_group ${words[i]} is invalid`);
          r.suppressIfgroup = v;
          tableOption = true;
          break;
        }
        case 'dev':
        case 'iif':
          r.iif = device(ifs, words[++i], 'rule');
          break;
        case 'oif':
          r.oif = device(ifs, words[++i], 'rule');
          break;
        case 'tunnel-id': {
          const t = words[++i] ?? '';
          if (!/^\d+$/.test(t) || BigInt(t) >= 2n ** 64n) throw new ParseError(`Invalid tunnel-id ${w} specified`);
          r.tunId = t;
          break;
        }
        case 'uidrange': {
          const m = /^(\d+)-(\d+)/.exec(words[++i] ?? '');
          if (!m) throw new ParseError(`Invalid uidrange ${w} specified`);
          r.uidRange = [Number(m[1]), Number(m[2])];
          break;
        }
        case 'l3mdev':
          r.l3mdev = true;
          if (r.action !== FR_ACT_UNSPEC) throw new ParseError('Cannot specify l3mdev with other action');
          r.action = FR_ACT_TO_TBL;
          break;
        case 'protocol': {
          const v = unsignedMax(words[++i], 255);
          if (v === undefined) err(`Invalid protocol ${words[i]}`);
          else r.protocol = v;
          break;
        }
        case 'ipproto': {
          const v = ipProtoNumber(words[++i]);
          if (v === undefined) err(`Invalid ipproto ${words[i]}`);
          else r.ipProto = v;
          break;
        }
        case 'sport':
        case 'dport': {
          // sscanf("%hu-%hu") must fill both: keepalived 2.2.7 refuses a single port.
          const m = /^(\d+)-(\d+)/.exec(words[++i] ?? '');
          if (!m) err(`invalid ${w} range ${words[i]}`);
          else r[w] = [Number(m[1]) & 0xffff, Number(m[2]) & 0xffff];
          break;
        }
        case 'no_track':
          r.noTrack = true;
          break;
        default: {
          if (w === 'track_group' && isStatic) throw new Unsupported();
          let t = w;
          if (t === 'type') t = words[++i] ?? '';
          let action: number;
          if (t === 'goto') {
            const v = parseCNumber(words[++i] ?? '');
            if (v === undefined || v > U32) throw new ParseError(`Invalid target ${t} specified`);
            r.gotoTarget = v;
            action = FR_ACT_GOTO;
          } else if (t === 'nop') action = FR_ACT_NOP;
          else if (t in RTN_NAMES) {
            const rtn = RTN_NAMES[t];
            action = rtn === RTN_BLACKHOLE ? FR_ACT_BLACKHOLE : rtn === RTN_UNREACHABLE ? FR_ACT_UNREACHABLE : rtn === RTN_PROHIBIT ? FR_ACT_PROHIBIT : -1;
            if (action < 0) throw new ParseError(`Invalid rule action ${t}`);
          } else throw new ParseError(`Unknown rule option ${t}`);
          if (r.action !== FR_ACT_UNSPEC) throw new ParseError('Cannot specify more than one of table/nop/goto/blackhole/prohibit/unreachable/l3mdev for rule');
          r.action = action;
        }
      }
    }
    if (r.action === FR_ACT_GOTO) {
      if (r.priority === undefined) throw new ParseError(`Invalid rule - goto target ${r.gotoTarget} specified without preference`);
      if (r.priority >= r.gotoTarget!) throw new ParseError(`Invalid rule - preference ${r.priority} >= goto target ${r.gotoTarget}`);
    }
    if (r.action === FR_ACT_UNSPEC) throw new ParseError('No action specified for rule - ignoring');
    if (r.action !== FR_ACT_TO_TBL && tableOption) throw new ParseError('suppressor/realm specified for non table action - skipping');
    if (r.table !== 0 && r.l3mdev) throw new ParseError('table cannot be specified for l3mdev rules');
  } catch (e) {
    if (e instanceof Unsupported) return undefined;
    if (!(e instanceof ParseError)) throw e;
    err(e.message);
    return undefined;
  }
  if (!r.noTrack) {
    if (r.protocol !== undefined && r.protocol !== RTPROT_KEEPALIVED) {
      err(`Rule cannot be tracked if protocol is not RTPROT_KEEPALIVED(${RTPROT_KEEPALIVED}), resetting protocol`);
    }
    r.protocol = RTPROT_KEEPALIVED;
  }
  const fam: 4 | 6 = family ?? 4;
  const fill = (p: Prefix | undefined): Prefix | undefined =>
    p === undefined || p.address !== '' ? p : { address: fam === 4 ? '0.0.0.0' : '::', prefixlen: 0 };
  let priority = r.priority;
  if (priority === undefined) {
    priority = fam === 4 ? next.inet-- : next.inet6--;
    err(`Rule has no preference specified - setting to ${priority}. This is probably not what you want.`);
  }
  const from = fill(r.from);
  const to = fill(r.to);
  const { from: _f, to: _t, priority: _p, ...rest } = r;
  return { text: words.join(' '), family: fam, priority, ...(from ? { from } : {}), ...(to ? { to } : {}), ...rest };
}

/** vrrp_iprule.c inet_proto_a2n: a number up to 127 or a protocol name (the few /etc/protocols names rules use). */
/** vrrp_iproute.c / vrrp_iprule.c: a device is looked up where it is named; one that does not exist drops the line. */
function device(ifs: InterfaceLookup, name: string | undefined, what: string): string | undefined {
  if (name === undefined || ifs.found(name)) return name;
  throw new ParseError(`WARNING - interface ${name} for ${what} doesn't exist`);
}

function ipProtoNumber(text: string | undefined): number | undefined {
  if (text === undefined || text.startsWith('-')) return undefined;
  if (/^\d+$/.test(text)) return Number(text) <= 127 ? Number(text) : undefined;
  const byName: Record<string, number> = { icmp: 1, igmp: 2, tcp: 6, udp: 17, gre: 47, esp: 50, ah: 51, 'ipv6-icmp': 58, sctp: 132, udplite: 136, vrrp: 112 };
  return byName[text];
}
