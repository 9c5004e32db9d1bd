// virtual_server_group, virtual_server, real_server and sorry_server → the LVS part of the model, with keepalived
// 2.2.7's defaults and its validate_check_config() corrections, each reported with keepalived's wording.
import { bigToIpv6, canonicalIp, intToIpv4, ipFamily, ipv4ToInt, ipv6ToBig, stosockaddr } from './address.js';
import { formatEndpoint, rsId } from './identity.js';
import { resolveChecker, type DeclaredSoFar } from './resolve-checkers.js';
import { CONNECT_TIMEOUT_MAX_US, MAX_TIMER_US, ref } from './values.js';
import type { AddressFamily, ForwardMethod, Protocol, Scheduler } from '../ipvs/types.js';
import {
  IP_VS_SVC_F_SCHED1, IP_VS_SVC_F_SCHED2, IP_VS_SVC_F_SCHED3, IP_VS_SVC_F_SCHED_MH_FALLBACK, IP_VS_SVC_F_SCHED_MH_PORT,
  IP_VS_SVC_F_SCHED_SH_FALLBACK, IP_VS_SVC_F_SCHED_SH_PORT,
} from '../ipvs/uapi.js';
import type { Node } from './parser.js';
import type { Values } from './values.js';
import type {
  Checker, GlobalDefs, RealServer, Script, SorryServer, SourceRef, TunnelOptions, VirtualServer,
  VirtualServerGroup, VirtualServerGroupEntry, VirtualServerKey,
} from './model.js';

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

const SCHEDULERS = new Set<Scheduler>(['rr', 'wrr', 'lc', 'wlc', 'lblc', 'lblcr', 'dh', 'sh', 'sed', 'nq', 'mh', 'fo', 'ovf', 'twos']);
const UINT_MAX = 2 ** 32 - 1;
const INT_MAX = 2 ** 31 - 1;
/** A netmask (255.255.255.0) or prefix length (24; up to 128 for IPv6). */
/**
 * An IPv4 address as glibc's inet_aton reads it (getaddrinfo with AI_NUMERICHOST): one to four parts, each decimal,
 * octal (leading 0) or hex (0x); the last part fills the remaining bytes. Host-order u32, or undefined.
 */
export function inetAton(text: string): number | undefined {
  const parts = text.split('.');
  if (parts.length > 4) return undefined;
  const values: number[] = [];
  for (const p of parts) {
    const m = /^(?:0[xX]([0-9a-fA-F]*)|(0[0-7]*)|([1-9]\d*))$/.exec(p);
    if (!m) return undefined;
    const n = m[1] !== undefined ? (m[1] === '' ? 0 : parseInt(m[1], 16)) : m[2] !== undefined ? parseInt(m[2], 8) : Number(m[3]);
    if (!Number.isFinite(n) || n > 0xffffffff) return undefined;
    values.push(n);
  }
  const last = values.pop()!;
  if (values.some((x) => x > 255) || last >= 2 ** (8 * (4 - values.length))) return undefined;
  return values.reduce((acc, x, i) => acc + x * 2 ** (24 - 8 * i), 0) + last;
}

/**
 * check_parser.c pgr_handler, the one rule for persistence_granularity: the service's family, or while it is not
 * known (fwmark, group) a '.' in the value, picks the reading. IPv6: a prefix length 1..128; IPv4: any address
 * inet_aton takes, used as the netmask solid or not (ipvsadm and the kernel take any). The result is
 * IPVS_SVC_ATTR_NETMASK's value, or undefined once keepalived's line is reported.
 */
function persistenceNetmask(v: Values, n: Node, a: string | undefined, family: AddressFamily | undefined): number | undefined {
  const text = a ?? '';
  const af = family ?? (text.includes('.') ? 'inet' : 'inet6');
  const r = af === 'inet6' ? v.unsigned(n, a, 1, 128) : inetAton(text);
  if (r === undefined) v.report.error(n.src, `Invalid ${af === 'inet6' ? 'IPv6' : 'IPv4'} persistence_granularity specified - ${text}`, n.kw);
  return r;
}

/**
 * keepalived's read_unsigned in [min, max], then the handler's own line when the value is refused. `ignoreError`:
 * the handler passes ignore_error (see Values.unsigned).
 */
function unsignedOr(v: Values, n: Node, a: string | undefined, min: number, max: number, refused: string, ignoreError = false): number | undefined {
  const r = v.unsigned(n, a, min, max, ignoreError);
  if (r === undefined) v.report.error(n.src, refused, n.kw);
  return r;
}

/** VS and RS retry. */
const retryValue = (v: Values, n: Node, a: string | undefined): number | undefined =>
  unsignedOr(v, n, a, 1, UINT_MAX, `retry value invalid - ${a ?? ''}`);
const PERSISTENCE_DEFAULT_S = 360;

/** The keywords that set a flag after `lb_algo sh` / `lb_algo mh`, with the kernel's names for the bits. */
const HASH_FLAGS: Record<'sh' | 'mh', Partial<Record<string, number>>> = {
  sh: { 'sh-port': IP_VS_SVC_F_SCHED_SH_PORT, 'sh-fallback': IP_VS_SVC_F_SCHED_SH_FALLBACK },
  mh: { 'mh-port': IP_VS_SVC_F_SCHED_MH_PORT, 'mh-fallback': IP_VS_SVC_F_SCHED_MH_FALLBACK },
};

const NO_NODES: Node[] = [];
const NO_CHECKERS: Checker[] = [];
const NO_FLAGS: (boolean | undefined)[] = [];

/**
 * `list` plus `x` in a new exact-size array (lists start as NO_CHECKERS/NO_FLAGS, never pushed to). An array that
 * starts empty and grows by push() reserves room for 17 elements, which for 10,000 real servers is megabytes of
 * retained heap for the garbage collector to copy.
 */
function append<T>(list: T[], x: T): T[] {
  return list.length === 0 ? [x] : [...list, x];
}

/**
 * An address's port as lib/utils.c inet_stosockaddr reads it, before the address: one of zeros only is no port (0),
 * any other is read_unsigned in [1, 65535].
 */
function port(v: Values, node: Node, text: string | undefined): number | undefined {
  if (portText(text) === undefined) return 0;
  return v.unsigned(node, text, 1, 65535, true);
}

/** check_data.c alloc_vs/alloc_rs: the port as passed to inet_stosockaddr (undefined for no port or zeros only). */
const portText = (text: string | undefined): string | undefined => (text === undefined || /^0*$/.test(text) ? undefined : text);

export function resolveVsGroup(v: Values, node: Node): VirtualServerGroup | undefined {
  const name = node.args[0];
  if (name === undefined) {
    v.report.error(node.src, 'virtual_server_group has no name - ignoring', node.kw);
    return undefined;
  }
  const entries: VirtualServerGroupEntry[] = [];
  for (const item of node.children ?? []) {
    const src = ref(item.src);
    if (item.kw === 'fwmark') {
      const mark = v.unsigned(item, item.args[0], 0, UINT_MAX, true);
      if (mark === undefined) {
        v.report.error(item.src, `(${name}): fwmark '${item.args[0] ?? ''}' must be in [0, ${UINT_MAX}] - ignoring`, item.kw);
        continue;
      }
      const famWord = item.args[1];
      const family = famWord === 'inet' ? 'inet' : famWord === 'inet6' ? 'inet6' : undefined;
      if (famWord !== undefined && family === undefined) {
        v.report.error(item.src, `(${name}): fwmark '${mark}' family ${famWord} unknown - ignoring`, node.kw);
        continue;
      }
      entries.push({ kind: 'fwmark', fwmark: mark, ...(family ? { family } : {}), src });
      continue;
    }
    const p = port(v, item, item.args[0]);
    const entry = groupRange(item.kw);
    if (!entry || p === undefined) {
      // check_data.c alloc_vsg_entry's words, its spacing included.
      const pt = portText(item.args[0]);
      v.report.error(item.src, `Invalid virtual server group IP address ${item.kw} ${pt !== undefined ? `/port/${pt}` : ''} - skipping`, node.kw);
      continue;
    }
    if ('error' in entry) {
      v.report.error(item.src, entry.error, node.kw);
      continue;
    }
    entries.push({ kind: 'range', ...entry, port: p, src });
  }
  if (entries.length === 0) {
    v.report.error(node.src, `virtual server group ${name} has no entries - removing`, node.kw);
    return undefined;
  }
  return { src: ref(node.src), name, entries };
}

interface GroupRange {
  readonly family: AddressFamily;
  readonly first: string;
  readonly last: string;
}

/**
 * A group entry's addresses as check_data.c alloc_vsg_entry reads them: `IP`, `IP/nn`, `IPa-IPb` or `IP-LAST` (the
 * last byte, or the last 16-bit word in hex). undefined when the address before `-` or `/` is not one (the caller's
 * line, lib/utils.c inet_stosockaddr); `error` holds keepalived's line for a bad mask or range.
 */
function groupRange(text: string): GroupRange | { readonly error: string } | undefined {
  const start = stosockaddr(text);
  if (start === undefined) return undefined;
  const { family, address: base } = start;
  const cut = text.includes('-') ? text.indexOf('-') : text.indexOf('/');
  const bits = family === 'inet' ? 32n : 128n;
  const toBig = (a: string): bigint => (family === 'inet' ? BigInt(ipv4ToInt(a)) : ipv6ToBig(a));
  const fromBig = (n: bigint): string => (family === 'inet' ? intToIpv4(Number(n)) : bigToIpv6(n));
  const lo = toBig(base);
  const slash = text.indexOf('/');
  if (slash >= 0) {
    const maskText = text.slice(slash + 1);
    const mask = /^\d+$/.test(maskText) ? BigInt(maskText) : 0n;
    if (mask === 0n || mask > bits) return { error: `Invalid netmask - ${text} - skipping` };
    const host = (1n << (bits - mask)) - 1n;
    if (lo & host) return { error: `Address mask bits not empty - ${text} - skipping` };
    return { family, first: fromBig(lo), last: fromBig(lo | host) };
  }
  if (cut < 0) return { family, first: canonicalIp(base), last: canonicalIp(base) };
  const endText = text.slice(cut + 1);
  if (endText.includes(family === 'inet' ? '.' : ':')) {
    const endBase = endText.split(/[-/]/)[0]!;
    const endFamily = ipFamily(endBase);
    if (endFamily === undefined) return { error: `Invalid range end ${text} - skipping` };
    if (endFamily !== family) return { error: `Range address families do not match ${text} - skipping` };
    if (toBig(endBase) < lo) return { error: `Address range end is less than address range start - ${text} - skipping` };
    return { family, first: canonicalIp(base), last: canonicalIp(endBase) };
  }
  // lib/utils.c inet_stor: strtoul in base 10 (a byte) or 16 (a word). Under -t, trailing characters drop the entry.
  const [, digits = '', rest = ''] = (family === 'inet' ? /^(\d*)(.*)$/s : /^([0-9a-fA-F]*)(.*)$/s).exec(endText)!;
  if (rest !== '') return { error: `Virtual server group range '${text}' has extra characters at end '${rest}'` };
  const end = digits === '' ? 0n : BigInt(family === 'inet' ? digits : `0x${digits}`);
  const width = family === 'inet' ? 8n : 16n;
  if (end >= 1n << width) return { error: `Virtual server group range '${text}' end '${endText}' too large` };
  if ((lo & ((1n << width) - 1n)) >= end) return { error: `Address range end is not greater than address range start - ${text} - skipping` };
  return { family, first: canonicalIp(base), last: fromBig((lo & ~((1n << width) - 1n)) | end) };
}

/** `owner` names the block in keepalived's message: virtual server, real server or sorry server. */
function parseForward(v: Values, n: Node, owner: string): { method: ForwardMethod; tunnel?: TunnelOptions } | undefined {
  const word = (n.args[0] ?? '').toUpperCase();
  if (word === 'NAT' || word === 'DR') return { method: word };
  if (word !== 'TUN') {
    v.report.error(n.src, `PARSER : unknown [${n.args[0] ?? ''}] routing method for ${owner}.`, n.kw);
    return undefined;
  }
  const t: Mutable<TunnelOptions> = { type: 'ipip' };
  for (let i = 1; i < n.args.length; i++) {
    const w = n.args[i]!;
    if (w === 'type') {
      const ty = n.args[++i];
      if (ty === 'ipip' || ty === 'gue' || ty === 'gre') t.type = ty;
      else v.report.error(n.src, `Unknown tunnel type ${ty ?? ''}`, n.kw);
    } else if (w === 'port') t.port = v.int(n, n.args[++i], 1, 65535);
    else if (w === 'nocsum' || w === 'csum' || w === 'remcsum') t.checksum = w;
    else v.report.error(n.src, `Unknown tunnel option ${w}`, n.kw);
  }
  if (t.type === 'gue' && t.port === undefined) v.report.error(n.src, 'GUE tunnel requires a port', n.kw);
  return { method: 'TUN', tunnel: t };
}

interface RawRs {
  src: SourceRef;
  family: AddressFamily;
  address: string;
  port: number;
  /**
   * The port as written: check_api.c queue_checker copies rs->addr into the checker's destination while the block
   * is read, before validate_check_config corrects the real server's port for DR/TUN and fwmark services.
   */
  readonly checkPort: number;
  weight?: number;
  forward?: { method: ForwardMethod; tunnel?: TunnelOptions };
  inhibit?: boolean;
  alpha?: boolean;
  retry?: number;
  delayBeforeRetryMs?: number;
  warmupMs?: number;
  connectTimeoutMs?: number;
  delayLoopMs?: number;
  notifyUp?: Script;
  notifyDown?: Script;
  uthreshold: number;
  lthreshold: number;
  virtualhost?: string;
  smtpAlert?: boolean;
  checkerNodes: Node[];
}

function parseRs(v: Values, node: Node): RawRs | undefined {
  const addr = node.args[0];
  const p = port(v, node, node.args[1]);
  const at = addr !== undefined ? stosockaddr(addr) : undefined;
  if (!at || p === undefined) {
    // glibc prints a NULL %s as (null).
    v.report.error(node.src, `Invalid real server ip address/port ${addr ?? ''}/${node.args[1] ?? '(null)'} - skipping`, node.kw);
    return undefined;
  }
  // Every field in the literal, so that each RS gets one object shape and no property array.
  const rs: RawRs = {
    src: ref(node.src), family: at.family, address: at.address, port: p, checkPort: p,
    weight: undefined, forward: undefined, inhibit: undefined, alpha: undefined, retry: undefined,
    delayBeforeRetryMs: undefined, warmupMs: undefined, connectTimeoutMs: undefined, delayLoopMs: undefined,
    notifyUp: undefined, notifyDown: undefined, uthreshold: 0, lthreshold: 0, virtualhost: undefined,
    smtpAlert: undefined, checkerNodes: NO_NODES,
  };
  // Indexed: until V8 optimises this code (all of `-t`, each reload's parse) a for-of allocates per element.
  const kids = node.children ?? NO_NODES;
  for (let k = 0; k < kids.length; k++) {
    const n = kids[k]!;
    const a = n.args[0];
    switch (n.kw) {
      case 'weight':
        rs.weight = unsignedOr(v, n, a, 0, INT_MAX, `Real server weight ${a ?? ''} is outside range 0-${INT_MAX}`, true) ?? rs.weight;
        break;
      case 'lvs_method': {
        const f = parseForward(v, n, 'real server');
        if (f) rs.forward = f;
        break;
      }
      case 'inhibit_on_failure':
        rs.inhibit = v.flag(n, (x) => `Invalid inhibit_on_failure parameter ${x}`) ?? rs.inhibit;
        break;
      case 'alpha':
        rs.alpha = v.flag(n, (x) => `Invalid alpha parameter ${x}`) ?? rs.alpha;
        break;
      case 'retry':
        rs.retry = retryValue(v, n, a) ?? rs.retry;
        break;
      case 'delay_before_retry':
        rs.delayBeforeRetryMs = v.timerMs(n, a, 0n, MAX_TIMER_US, (x) => `real server delay_before_retry '${x}' invalid - ignoring`) ?? rs.delayBeforeRetryMs;
        break;
      case 'warmup':
        rs.warmupMs = v.timerMs(n, a, 0n, MAX_TIMER_US, (x) => `real server warmup '${x}' invalid - ignoring`) ?? rs.warmupMs;
        break;
      case 'connect_timeout':
        rs.connectTimeoutMs = v.timerMs(n, a, 1n, CONNECT_TIMEOUT_MAX_US, (x) => `real server connect_timeout ${x} invalid - ignoring`) ?? rs.connectTimeoutMs;
        break;
      case 'delay_loop':
        rs.delayLoopMs = v.timerMs(n, a, 1n, MAX_TIMER_US, (x) => `real server delay_loop '${x}' invalid - ignoring`) ?? rs.delayLoopMs;
        break;
      case 'notify_up':
      case 'notify_down': {
        const field = n.kw === 'notify_up' ? 'notifyUp' : 'notifyDown';
        if (rs[field]) v.report.error(n.src, `(${addr}) ${n.kw} script already specified - ignoring ${a ?? ''}`, n.kw);
        else rs[field] = v.script(n);
        break;
      }
      case 'uthreshold':
        rs.uthreshold = unsignedOr(v, n, a, 0, UINT_MAX, `Invalid real_server uthreshold '${a ?? ''}' - ignoring`, true) ?? 0;
        break;
      case 'lthreshold':
        rs.lthreshold = unsignedOr(v, n, a, 0, UINT_MAX, `Invalid real_server lthreshold '${a ?? ''}' - ignoring`, true) ?? 0;
        break;
      case 'virtualhost':
        rs.virtualhost = a;
        break;
      case 'smtp_alert':
        rs.smtpAlert = v.flag(n, (x) => `Invalid real_server smtp_alert parameter ${x}`) ?? rs.smtpAlert;
        break;
      case 'snmp_name':
        break;
      default:
        if (n.children) rs.checkerNodes = append(rs.checkerNodes, n);
    }
  }
  return rs;
}

/**
 * The settings of a VS that fall back to global_defs, as written (undefined = not set). A VS is resolved as soon as
 * its block closes, before later global_defs blocks are read, so these defaults are applied at the end.
 */
export interface GlobalDependent {
  readonly vsSmtpAlert?: boolean;
  readonly rsSmtpAlert: readonly (boolean | undefined)[];
  readonly checkerLogAllFailures: readonly (readonly (boolean | undefined)[])[];
}

export interface ResolvedVs {
  readonly vs: VirtualServer;
  readonly pending: GlobalDependent;
}

/** Fills in the global_defs fallbacks recorded by resolveVirtualServer. */
export function applyGlobalDefaults(r: ResolvedVs, g: GlobalDefs): VirtualServer {
  const p = r.pending;
  const vs = r.vs as Mutable<VirtualServer>;
  vs.smtpAlert = p.vsSmtpAlert ?? g.smtpAlertChecker ?? g.smtpAlert ?? false;
  vs.realServers.forEach((rs, i) => {
    // Unlike the VS, an RS defaults to alerting when no global says otherwise (keepalived keeps this for compatibility).
    (rs as Mutable<RealServer>).smtpAlert = p.rsSmtpAlert[i] ?? g.smtpAlertChecker ?? g.smtpAlert ?? true;
    rs.checkers.forEach((c, j) => {
      if ('logAllFailures' in c) (c as Mutable<typeof c>).logAllFailures = p.checkerLogAllFailures[i]?.[j] ?? g.checkerLogAllFailures;
    });
  });
  return vs;
}

export function resolveVirtualServer(
  v: Values,
  node: Node,
  groups: ReadonlyMap<string, VirtualServerGroup>,
  declared: DeclaredSoFar,
): ResolvedVs | undefined {
  const [first, second] = node.args;
  let key: VirtualServerKey;
  let vsPort = 0;
  let group: VirtualServerGroup | undefined;
  if (first === 'group') {
    if (second === undefined) {
      v.report.error(node.src, 'virtual_server group has no name - ignoring', node.kw);
      return undefined;
    }
    group = groups.get(second);
    if (!group) {
      v.report.error(node.src, `Virtual server group ${second} specified but not configured - ignoring virtual server`, node.kw);
      return undefined;
    }
    key = { kind: 'group', name: second };
  } else if (first === 'fwmark') {
    const mark = v.unsigned(node, second, 1, UINT_MAX, true);
    if (mark === undefined) {
      v.report.error(node.src, `virtual server fwmark '${second ?? ''}' must be in [1, ${UINT_MAX}] - ignoring`, node.kw);
      return undefined;
    }
    key = { kind: 'fwmark', fwmark: mark, family: 'inet' };
  } else {
    const p = port(v, node, second);
    const at = first !== undefined ? stosockaddr(first) : undefined;
    if (!at || p === undefined) {
      const pt = portText(second);
      v.report.error(node.src, `Invalid virtual server IP address${pt !== undefined ? '/port' : ''} ${first ?? ''}${pt !== undefined ? `/${pt}` : ''} - skipping`, node.kw);
      return undefined;
    }
    vsPort = p;
    key = { kind: 'ip', family: at.family, address: at.address, port: p };
  }

  let protocol: Protocol | undefined;
  let lbAlgo: Scheduler | undefined;
  let forward: { method: ForwardMethod; tunnel?: TunnelOptions } | undefined;
  let persistenceTimeoutS = 0;
  let persistenceNetmaskValue: number | undefined;
  let persistenceEngine: string | undefined;
  let delayLoopMs = 60_000;
  let connectTimeoutMs = 5000;
  let retry: number | undefined;
  let delayBeforeRetryMs: number | undefined;
  let warmupMs: number | undefined;
  let quorum = 1;
  let hysteresis = 0;
  let weight = 1;
  let ipFamilyOpt: AddressFamily | undefined;
  // vs->af as keepalived's check_parser.c builds it, in config order: the address's family, else the first of
  // ip_family, persistence_granularity (pgr_handler) and a non-tunnelled real server (rs_end_handler) to set it.
  let af: AddressFamily | undefined = key.kind === 'ip' ? key.family : undefined;
  let sorryNode: Node | undefined;
  let sorryAddr: ReturnType<typeof stosockaddr>;
  let sorryPort = 0;
  let sorryForward: { method: ForwardMethod; tunnel?: TunnelOptions } | undefined;
  const flags = { ops: false, sched: 0, inhibit: false, alpha: false, omega: false, haSuspend: false, sorryInhibit: false };
  let quorumUp: Script | undefined;
  let quorumDown: Script | undefined;
  let virtualhost: string | undefined;
  let smtpAlert: boolean | undefined;
  const rsRaw: RawRs[] = [];

  const kids = node.children ?? NO_NODES;
  for (let k = 0; k < kids.length; k++) {
    const n = kids[k]!;
    const a = n.args[0];
    switch (n.kw) {
      case 'ip_family':
        if (a !== 'inet' && a !== 'inet6') v.report.error(n.src, `unknown address family ${a ?? ''}`, n.kw);
        else if (af !== undefined && af !== a) v.report.error(n.src, `Virtual server specified family ${a} conflicts with server family`, n.kw);
        else ipFamilyOpt = af = a;
        break;
      case 'retry':
        retry = retryValue(v, n, a) ?? retry;
        break;
      case 'delay_before_retry':
        delayBeforeRetryMs = v.timerMs(n, a, 0n, MAX_TIMER_US, (x) => `virtual server delay before retry '${x}' invalid - ignoring`) ?? delayBeforeRetryMs;
        break;
      case 'warmup':
        warmupMs = v.timerMs(n, a, 0n, MAX_TIMER_US, (x) => `virtual server warmup '${x}' invalid - ignoring`) ?? warmupMs;
        break;
      case 'connect_timeout':
        connectTimeoutMs = v.timerMs(n, a, 1n, CONNECT_TIMEOUT_MAX_US, (x) => `virtual server connect_timeout ${x} invalid - ignoring`) ?? connectTimeoutMs;
        break;
      case 'delay_loop':
        delayLoopMs = v.timerMs(n, a, 1n, MAX_TIMER_US, (x) => `virtual server delay loop '${x}' invalid - ignoring`) ?? delayLoopMs;
        break;
      case 'inhibit_on_failure':
        // keepalived's virtual_server handler reads no value here.
        flags.inhibit = true;
        break;
      case 'lb_algo':
      case 'lvs_sched':
        if (a !== undefined && SCHEDULERS.has(a as Scheduler)) lbAlgo = a as Scheduler;
        else v.report.error(n.src, `Invalid lvs_scheduler '${a ?? ''}' - ignoring`, n.kw);
        break;
      case 'ops':
        flags.ops = true;
        break;
      // check_parser.c lbflags_handler: after lb_algo sh only sh-port/sh-fallback set a flag, after mh only the
      // mh- pair; any other of these words is then silently ignored, and with another scheduler refused (its
      // message says sh for mh too).
      case 'hashed':
      case 'sh-port':
      case 'sh-fallback':
      case 'mh-port':
      case 'mh-fallback':
        if (lbAlgo !== 'sh' && lbAlgo !== 'mh') v.report.error(n.src, `${n.kw} only applies to sh scheduler - ignoring`, n.kw);
        else flags.sched |= HASH_FLAGS[lbAlgo][n.kw] ?? 0;
        break;
      case 'flag-1':
        flags.sched |= IP_VS_SVC_F_SCHED1;
        break;
      case 'flag-2':
        flags.sched |= IP_VS_SVC_F_SCHED2;
        break;
      case 'flag-3':
        flags.sched |= IP_VS_SVC_F_SCHED3;
        break;
      case 'lb_kind':
      case 'lvs_method': {
        const f = parseForward(v, n, 'virtual server');
        if (f) forward = f;
        break;
      }
      case 'persistence_engine':
        persistenceEngine = a;
        break;
      case 'persistence_timeout':
        persistenceTimeoutS = a === undefined ? PERSISTENCE_DEFAULT_S : (unsignedOr(v, n, a, 1, 2678400, 'persistence_timeout invalid') ?? persistenceTimeoutS);
        break;
      case 'persistence_granularity':
      {
        const pgrFamily = af ?? ((a ?? '').includes('.') ? 'inet' : 'inet6');
        const mask = persistenceNetmask(v, n, a, pgrFamily);
        if (mask !== undefined) {
          persistenceNetmaskValue = mask;
          af ??= pgrFamily;
        }
        break;
      }
      case 'protocol': {
        const p = (a ?? '').toLowerCase();
        if (p === 'tcp' || p === 'udp' || p === 'sctp') protocol = p;
        else v.report.error(n.src, `Unknown protocol ${a ?? ''} - ignoring`, n.kw);
        break;
      }
      case 'ha_suspend':
        flags.haSuspend = true;
        break;
      case 'smtp_alert':
        smtpAlert = v.flag(n, (x) => `Invalid virtual_server smtp_alert parameter ${x}`) ?? smtpAlert;
        break;
      case 'virtualhost':
        virtualhost = a;
        break;
      case 'alpha':
        flags.alpha = true;
        break;
      case 'omega':
        flags.omega = true;
        break;
      case 'quorum_up':
        quorumUp = v.script(n) ?? quorumUp;
        break;
      case 'quorum_down':
        quorumDown = v.script(n) ?? quorumDown;
        break;
      case 'quorum':
        quorum = unsignedOr(v, n, a, 1, UINT_MAX, `Quorum ${a ?? ''} must be in [1, ${UINT_MAX}]. Setting to 1.`, true) ?? 1;
        break;
      case 'hysteresis':
        hysteresis = unsignedOr(v, n, a, 0, UINT_MAX, `Hysteresis ${a ?? ''} must be in [0, ${UINT_MAX}] - ignoring`, true) ?? hysteresis;
        break;
      case 'weight':
        weight = unsignedOr(v, n, a, 1, INT_MAX, `Virtual server weight ${a ?? ''} is outside range 1-${INT_MAX}`, true) ?? weight;
        break;
      // check_data.c alloc_ssvr: refused where it is read, leaving the virtual server without one.
      case 'sorry_server': {
        const p = port(v, n, n.args[1]);
        const at = a === undefined ? undefined : stosockaddr(a);
        if (p === undefined || at === undefined) {
          v.report.error(n.src, `Invalid sorry server IP address ${a ?? ''} - skipping`, n.kw);
        } else {
          sorryNode = n;
          sorryAddr = at;
          sorryPort = p;
        }
        break;
      }
      // Both apply to a sorry_server read above them, as keepalived reads them; the inhibit takes no value.
      case 'sorry_server_inhibit':
        if (sorryNode === undefined) v.report.error(n.src, 'Ignoring sorry_server inhibit used before or without sorry_server', n.kw);
        else flags.sorryInhibit = true;
        break;
      case 'sorry_server_lvs_method':
        if (sorryNode === undefined) v.report.error(n.src, 'sorry_server forwarding used without sorry_server', n.kw);
        else sorryForward = parseForward(v, n, 'sorry server') ?? sorryForward;
        break;
      case 'real_server': {
        const r = parseRs(v, n);
        if (r === undefined) break;
        // check_parser.c rs_end_handler: a tunnelled real server may differ (IPVS_DEST_ATTR_ADDR_FAMILY).
        if ((r.forward ?? forward)?.method !== 'TUN') {
          if (af === undefined) af = r.family;
          else if (af !== r.family) {
            v.report.error(n.src, `Address family of virtual server and real server ${r.address} don't match - skipping real server.`, n.kw);
            break;
          }
        }
        rsRaw.push(r);
        break;
      }
    }
  }
  if (persistenceNetmaskValue !== undefined && persistenceTimeoutS === 0) persistenceTimeoutS = PERSISTENCE_DEFAULT_S;

  const name = (proto: string): string =>
    key.kind === 'group' ? `[${key.name}]:${vsPort}` : key.kind === 'fwmark' ? `FWM ${key.fwmark}` : formatEndpoint(key.address, proto, key.port);
  // check_parser.c vs_end_handler: a non-tunnelled sorry server sets the family or, differing, is dropped.
  if (sorryNode !== undefined && (sorryForward ?? forward)?.method !== 'TUN') {
    const sf = sorryAddr?.family;
    if (sf !== undefined && af === undefined) af = sf;
    else if (sf !== undefined && af !== sf) {
      v.report.error(sorryNode.src, `Address family of virtual server and sorry server ${sorryNode.args[0]!} don't match - skipping sorry server.`, 'sorry_server');
      sorryNode = undefined;
    }
  }
  if (group) {
    // ipwrapper.c link_vsg_to_vs: the group's families against the virtual server's.
    const has4 = group.entries.some((e) => e.family === 'inet');
    const has6 = group.entries.some((e) => e.family === 'inet6');
    // Logged as the checker starts (log_message), not a config error: `keepalived -t` neither prints nor counts them.
    if (has4 && has6 && af !== undefined) {
      v.report.warn(node.src, `${group.name}: virtual server group with IPv4 & IPv6 doesn't match virtual server ${name('')} - ignoring`, node.kw);
      return undefined;
    }
    if ((has4 && af === 'inet6') || (has6 && af === 'inet')) {
      v.report.warn(node.src, `${group.name}: address family doesn't match virtual server ${name('')} - ignoring`, node.kw);
      return undefined;
    }
    if (has4 !== has6) af ??= has4 ? 'inet' : 'inet6';
  } else if (af === undefined) {
    // vs_end_handler: only tunnelled servers: their one family, or IPv4 when they are mixed or absent.
    const fams = new Set([...(sorryNode !== undefined && sorryAddr ? [sorryAddr.family] : []), ...rsRaw.map((r) => r.family)]);
    af = fams.size === 1 ? [...fams][0] ?? 'inet' : 'inet';
  }
  const family: AddressFamily = key.kind === 'ip' ? key.family : (af ?? groupFamily(group) ?? 'inet');
  if (key.kind === 'fwmark') key = { ...key, family };
  if (key.kind !== 'ip' && ipFamilyOpt === undefined && af !== undefined) ipFamilyOpt = af;

  if (rsRaw.length === 0) {
    v.report.error(node.src, `Virtual server ${name(protocol ?? 'none')} has no real servers - ignoring`, node.kw);
    return undefined;
  }
  const hasFwmarks = key.kind === 'fwmark' || (group?.entries.some((e) => e.kind === 'fwmark') ?? false);
  const hasRanges = key.kind === 'ip' || (group?.entries.some((e) => e.kind === 'range') ?? false);
  if (flags.haSuspend && hasFwmarks) {
    v.report.error(node.src, `Virtual server ${name(protocol ?? 'none')}: cannot use ha_suspend with fwmarks - clearing ha_suspend`, node.kw);
    flags.haSuspend = false;
  }
  if (hasRanges) {
    if (protocol === undefined) {
      v.report.error(node.src, `Virtual server ${name('none')}: no protocol set - defaulting to UDP`, 'protocol');
      protocol = 'udp';
    }
    if (flags.ops && protocol !== 'udp') {
      v.report.error(node.src, `Virtual server ${name(protocol)}: one packet scheduling requires UDP - resetting`, 'ops');
      flags.ops = false;
    }
    if (!persistenceTimeoutS && key.kind === 'ip' && key.port === 0) {
      v.report.error(node.src, `Virtual server ${name(protocol)}: zero port only valid for persistent services - setting`, node.kw);
      persistenceTimeoutS = PERSISTENCE_DEFAULT_S;
    }
  }
  if (!persistenceTimeoutS && group?.entries.some((e) => e.kind === 'range' && e.port === 0)) {
    v.report.error(node.src, `Virtual server ${name(protocol ?? 'none')}: zero port only valid for persistent services - setting`, node.kw);
    persistenceTimeoutS = PERSISTENCE_DEFAULT_S;
  }
  const protoName = (): string => protocol ?? 'none';
  if (protocol !== undefined && hasFwmarks && !hasRanges) {
    v.report.error(node.src, `Warning: Virtual server ${name(protocol)}: protocol specified for fwmark - protocol will be ignored`, 'protocol');
    protocol = undefined;
  }
  if (lbAlgo === undefined) {
    v.report.error(node.src, `Virtual server ${name(protoName())}: no scheduler set, setting default 'wlc'`, 'lb_algo');
    lbAlgo = 'wlc';
  }
  const vsName = name(protoName());
  const rsName = (r: { address: string; port: number }): string => formatEndpoint(r.address, protoName(), r.port);

  const kept: RawRs[] = [];
  // Addresses seen, per port: no key string to build and hash for each real server.
  const seen = new Map<number, Set<string>>();
  for (let k = 0; k < rsRaw.length; k++) {
    const r = rsRaw[k]!;
    let onPort = seen.get(r.port);
    if (!onPort) seen.set(r.port, (onPort = new Set()));
    if (onPort.has(r.address)) {
      v.report.error(r.src, `VS ${vsName}: real server ${rsName(r)} is duplicated - removing second rs`, 'real_server');
      continue;
    }
    onPort.add(r.address);
    if (!r.forward) {
      if (!forward) {
        v.report.error(node.src, `Virtual server ${vsName}: no forwarding method set, setting default NAT`, 'lb_kind');
        forward = { method: 'NAT' };
      }
      r.forward = forward;
    }
    kept.push(r);
  }
  let sorry: Mutable<Omit<SorryServer, 'displayName'>> | undefined;
  if (sorryNode) {
    let f = sorryForward;
    if (!f) {
      if (!forward) {
        v.report.error(node.src, `Virtual server ${vsName}: no forwarding method set, setting default NAT`, 'lb_kind');
        forward = { method: 'NAT' };
      }
      f = forward;
    }
    sorry = {
      // Read and checked where the keyword stands (above).
      src: ref(sorryNode.src), ...sorryAddr!, port: sorryPort,
      forward: f.method, ...(f.tunnel ? { tunnel: f.tunnel } : {}),
    };
  }
  const weightSum = kept.reduce((s, r) => s + (r.weight ?? weight), 0);
  if (quorum > weightSum) {
    v.report.error(node.src, `Warning - quorum ${quorum} for ${vsName} exceeds total weight of real servers ${weightSum}, reducing quorum to ${weightSum}`, 'quorum');
    quorum = weightSum;
  }
  if (hysteresis >= quorum) {
    // keepalived's unsigned arithmetic: quorum 0 gives UINT_MAX; a hysteresis of 0 with quorum 0 is the only way in.
    const to = quorum === 0 ? UINT_MAX : quorum - 1;
    v.report.error(node.src, `Virtual server ${vsName}: hysteresis ${hysteresis} >= quorum ${quorum}; setting hysteresis to ${to}`, 'hysteresis');
    hysteresis = to;
  }
  // Port corrections: NAT keeps the RS port (0 → VS port); DR/TUN use the VS port; fwmark services use none.
  // A group's ports are only warned about, in check_data.c validate_check_config's order: every server against the
  // group's fwmarks, then each address entry against every server (the sorry server last each time).
  if (group) {
    const direct = kept.filter((r) => r.forward!.method !== 'NAT');
    const sorryDirect = sorry !== undefined && sorry.forward !== 'NAT' && sorry.port !== 0 ? sorry : undefined;
    if (group.entries.some((e) => e.kind === 'fwmark')) {
      for (const r of direct) {
        if (r.port !== 0) v.report.error(r.src, `WARNING - fwmark virtual server ${vsName}, real server ${rsName(r)} has port specified - port will be ignored`, 'real_server');
      }
      if (sorryDirect) v.report.error(sorryDirect.src, `WARNING - fwmark virtual server ${vsName}, sorry server has port specified - port will be ignored`, 'sorry_server');
    }
    for (const e of group.entries) {
      if (e.kind !== 'range') continue;
      for (const r of direct) {
        if (r.port !== 0 && e.port !== r.port) {
          v.report.error(r.src, `virtual server ${vsName}:[${e.first}${e.first !== e.last ? `-${e.last}` : ''},${e.port}] and real server ${rsName(r)} ports don't match`, 'real_server');
        }
      }
      if (sorryDirect && e.port !== sorryDirect.port) {
        v.report.error(sorryDirect.src, `WARNING - virtual server ${vsName}, sorry server has port specified - port will be ignored`, 'sorry_server');
      }
    }
  }
  for (const r of group ? [] : kept) {
    if (r.forward!.method === 'NAT') {
      if (key.kind !== 'fwmark' && r.port === 0) r.port = vsPort;
      continue;
    }
    if (key.kind === 'fwmark') {
      if (r.port !== 0) {
        v.report.error(r.src, `WARNING - fwmark virtual server ${vsName}, real server ${rsName(r)} has port specified - clearing`, 'real_server');
        r.port = 0;
      }
    } else if (r.port === 0) r.port = vsPort;
    else if (r.port !== vsPort) {
      v.report.error(r.src, `WARNING - virtual server ${vsName} and real server ${rsName(r)} ports don't match - resetting`, 'real_server');
      r.port = vsPort;
    }
  }
  if (sorry && !group && sorry.forward !== 'NAT') {
    if (key.kind === 'fwmark') {
      if (sorry.port !== 0) {
        v.report.error(sorry.src, `WARNING - virtual server ${vsName}, sorry server has port specified - clearing`, 'sorry_server');
        sorry.port = 0;
      }
    } else if (sorry.port === 0) sorry.port = vsPort;
    else if (sorry.port !== vsPort) {
      v.report.error(sorry.src, `WARNING - virtual server ${vsName} and sorry server ports don't match - resetting`, 'sorry_server');
      sorry.port = vsPort;
    }
  }

  const checkerLogAll: (boolean | undefined)[][] = [];
  const realServers: RealServer[] = kept.map((r) => {
    const rsDelayLoop = r.delayLoopMs ?? delayLoopMs;
    const parent = {
      displayName: rsName(r), family: r.family, address: r.address, port: r.checkPort,
      retry: r.retry ?? retry, delayBeforeRetryMs: r.delayBeforeRetryMs ?? delayBeforeRetryMs,
      warmupMs: r.warmupMs ?? warmupMs, delayLoopMs: rsDelayLoop, connectTimeoutMs: r.connectTimeoutMs ?? connectTimeoutMs,
      alpha: r.alpha ?? flags.alpha, virtualhost: r.virtualhost ?? virtualhost, vsDelayLoopMs: delayLoopMs,
    };
    // Exact-size arrays: these are kept for every real server (see append).
    let checkers: Checker[] = NO_CHECKERS;
    // Per checker, its own log_all_failures; left empty (shared) when none has one, the usual case.
    let logAll: (boolean | undefined)[] = NO_FLAGS;
    for (let k = 0; k < r.checkerNodes.length; k++) {
      const cn = r.checkerNodes[k]!;
      const resolved = resolveChecker(v, cn, parent, declared);
      if (!resolved) continue;
      const own = cn.children?.some((x) => x.kw === 'log_all_failures') ?? false;
      const list = Array.isArray(resolved) ? (resolved as readonly Checker[]) : undefined;
      for (let j = 0; j < (list?.length ?? 1); j++) {
        const c = list ? list[j]! : (resolved as Checker);
        if (own && logAll.length === 0) logAll = Array<boolean | undefined>(checkers.length).fill(undefined);
        if (own || logAll.length > 0) {
          logAll = append(logAll, own ? c.type !== 'FILE_CHECK' && c.type !== 'BFD_CHECK' && c.logAllFailures : undefined);
        }
        checkers = append(checkers, c);
      }
    }
    checkerLogAll.push(logAll);
    const rsRetry = r.retry ?? retry;
    const rsDbr = r.delayBeforeRetryMs ?? delayBeforeRetryMs;
    const rsWarmup = r.warmupMs ?? warmupMs;
    // A plain literal (optional fields present as undefined): object spread here costs more than the parse.
    return {
      src: r.src, family: r.family, address: r.address, port: r.port, displayName: parent.displayName,
      id: rsId({ displayName: vsName }, parent),
      weight: r.weight ?? weight, lbKind: r.forward!.method, tunnel: r.forward!.tunnel,
      inhibitOnFailure: r.inhibit ?? flags.inhibit, alpha: parent.alpha, connectTimeoutMs: parent.connectTimeoutMs,
      delayLoopMs: rsDelayLoop, retry: rsRetry, delayBeforeRetryMs: rsDbr, warmupMs: rsWarmup,
      notifyUp: r.notifyUp, notifyDown: r.notifyDown, uthreshold: r.uthreshold, lthreshold: r.lthreshold,
      virtualhost: parent.virtualhost, smtpAlert: true,
      checkers,
    };
  });

  const vs: VirtualServer = {
    src: ref(node.src), key, displayName: vsName, protocol: protocol ?? 'tcp', lbAlgo,
    ops: flags.ops, schedFlags: flags.sched,
    lbKind: forward?.method ?? 'NAT', ...(forward?.tunnel ? { tunnel: forward.tunnel } : {}),
    persistenceTimeoutS,
    ...(persistenceNetmaskValue !== undefined ? { persistenceNetmask: persistenceNetmaskValue } : {}),
    ...(persistenceEngine !== undefined ? { persistenceEngine } : {}),
    delayLoopMs, connectTimeoutMs,
    ...(retry !== undefined ? { retry } : {}),
    ...(delayBeforeRetryMs !== undefined ? { delayBeforeRetryMs } : {}),
    ...(warmupMs !== undefined ? { warmupMs } : {}),
    inhibitOnFailure: flags.inhibit, alpha: flags.alpha, omega: flags.omega, quorum, hysteresis,
    ...(quorumUp ? { quorumUp } : {}),
    ...(quorumDown ? { quorumDown } : {}),
    ...(sorry ? { sorryServer: { ...sorry, displayName: rsName(sorry) } } : {}),
    sorryServerInhibit: flags.sorryInhibit, haSuspend: flags.haSuspend,
    ...(virtualhost !== undefined ? { virtualhost } : {}),
    smtpAlert: false, weight,
    ...(ipFamilyOpt !== undefined ? { ipFamily: ipFamilyOpt } : {}),
    realServers,
  };
  return {
    vs,
    pending: { vsSmtpAlert: smtpAlert, rsSmtpAlert: kept.map((r) => r.smtpAlert), checkerLogAllFailures: checkerLogAll },
  };
}

function groupFamily(group: VirtualServerGroup | undefined): AddressFamily | undefined {
  for (const e of group?.entries ?? []) if (e.family) return e.family;
  return undefined;
}
