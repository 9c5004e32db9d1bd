// Checker blocks → typed checkers, with the VS → RS → checker inheritance and per-type defaults of keepalived
// 2.2.7 (check_data.c validate_check_config, check_*.c).
import { canonicalIp, ipFamily } from './address.js';
import { CONNECT_TIMEOUT_MAX_US, MAX_TIMER_US, ref, type Microseconds } from './values.js';
import type { AddressFamily } from '../ipvs/types.js';
import type { Node } from './parser.js';
import type { Values } from './values.js';
import type {
  Checker, CheckerConnection, CheckerTiming, DnsChecker, DnsQueryType, HttpChecker, HttpUrl, PingChecker,
  SmtpChecker, TcpChecker, UdpChecker,
} from './model.js';

type Mutable<T> = { -readonly [K in keyof T]: T[K] };
type NetworkType = 'TCP_CHECK' | 'PING_CHECK' | 'SMTP_CHECK' | 'DNS_CHECK' | 'UDP_CHECK' | 'HTTP_GET' | 'SSL_GET';

/** keepalived's default_retry / default_delay_before_retry per checker type (0 ms = use delay_loop). */
const TYPE_DEFAULTS: Readonly<Record<string, { retry: number; delayBeforeRetryMs: number }>> = {
  TCP_CHECK: { retry: 1, delayBeforeRetryMs: 1000 },
  HTTP_GET: { retry: 1, delayBeforeRetryMs: 3000 },
  SSL_GET: { retry: 1, delayBeforeRetryMs: 3000 },
  SMTP_CHECK: { retry: 1, delayBeforeRetryMs: 1000 },
  DNS_CHECK: { retry: 3, delayBeforeRetryMs: 0 },
  UDP_CHECK: { retry: 1, delayBeforeRetryMs: 1000 },
  PING_CHECK: { retry: 1, delayBeforeRetryMs: 1000 },
  MISC_CHECK: { retry: 0, delayBeforeRetryMs: 1000 },
};

type StatusCodes = HttpUrl['statusCodes'];

/** keepalived's default accepted status range, shared by every url that sets none (the model is read-only). */
const DEFAULT_STATUS_CODES: StatusCodes = Object.freeze([Object.freeze([200, 299] as const)]);
const DNS_TYPES = new Set<DnsQueryType>(['A', 'NS', 'CNAME', 'SOA', 'MX', 'TXT', 'AAAA', 'RRSIG', 'DNSKEY']);
const UINT_MAX = 2 ** 32 - 1;
const INT_MAX = 2 ** 31 - 1;

/** The RS values a checker inherits, already resolved against the VS. */
export interface CheckerParent {
  /** `[ip]:proto:port`, as keepalived names the real server in checker messages. */
  readonly displayName: string;
  readonly family: AddressFamily;
  readonly address: string;
  readonly port: number;
  readonly retry?: number;
  readonly delayBeforeRetryMs?: number;
  readonly warmupMs?: number;
  readonly delayLoopMs: number;
  readonly connectTimeoutMs: number;
  readonly alpha: boolean;
  readonly virtualhost?: string;
  /** The VS delay_loop: MISC_CHECK's default misc_timeout. */
  readonly vsDelayLoopMs: number;
}

/**
 * The track_file and bfd_instance blocks read before a checker: keepalived looks their names up while it reads, so
 * one declared further down the file is not found.
 */
export interface DeclaredSoFar {
  readonly trackFiles: ReadonlySet<string>;
  readonly bfdInstances: ReadonlySet<string>;
}

/** keepalived's refusal line with the value in place of its `%s`. */
function fill(line: string, value: string): string {
  const at = line.indexOf('%s');
  return line.slice(0, at) + value + line.slice(at + 2);
}

/**
 * A checker's own keywords, the last of each counting. Looked up by a scan from the end: checker blocks are a
 * handful of lines, and this runs for every checker of every real server, where building a Map cost more.
 */
class OwnKeywords {
  constructor(
    private readonly v: Values,
    private readonly kids: readonly Node[],
  ) {}

  get(kw: string): Node | undefined {
    for (let i = this.kids.length - 1; i >= 0; i--) {
      const n = this.kids[i]!;
      if (n.kw === kw) return n;
    }
    return undefined;
  }

  has(kw: string): boolean {
    return this.get(kw) !== undefined;
  }

  num(kw: string, min: number, max: number): number | undefined {
    const n = this.get(kw);
    return n ? this.v.int(n, n.args[0], min, max) : undefined;
  }

  /**
   * A timer refused with keepalived's checker-level line (see Values.timerMs). `refused` is that line with `%s` for
   * the value, as keepalived's format has it: a function written at each call would be made for every checker of
   * every real server, keyword present or not.
   */
  timer(kw: string, min: Microseconds, max: Microseconds, refused: string): number | undefined {
    const n = this.get(kw);
    return n ? this.v.timerMs(n, n.args[0], min, max, (a) => fill(refused, a)) : undefined;
  }

  /** An unsigned value refused with keepalived's checker-level line (`%s`: the value); `ignoreError` as Values.unsigned. */
  unsigned(kw: string, min: number, max: number, refused: string, ignoreError = false): number | undefined {
    const n = this.get(kw);
    if (n === undefined) return undefined;
    const r = this.v.unsigned(n, n.args[0], min, max, ignoreError);
    if (r === undefined) this.v.report.error(n.src, fill(refused, n.args[0] ?? ''), kw);
    return r;
  }

  /** A flag refused with keepalived's line (`Invalid alpha parameter x`); undefined when absent or refused. */
  flag(kw: string): boolean | undefined {
    const n = this.get(kw);
    return n ? this.v.flag(n, (x) => `Invalid ${kw} parameter ${x}`) : undefined;
  }
}

/** The connect family in effect where `at` appears: keepalived reads a checker's keywords in order. */
function familyAt(kids: readonly Node[], at: Node, rsFamily: AddressFamily): AddressFamily {
  let family = rsFamily;
  for (const k of kids) {
    if (k === at) break;
    if (k.kw === 'connect_ip') family = (k.args[0] !== undefined ? ipFamily(k.args[0]) : undefined) ?? family;
  }
  return family;
}

/**
 * connect_ip, connect_port, bindto, bind_port, bind_if, fwmark and connect_timeout over `base`, refused in
 * keepalived's words. SMTP_CHECK sets its connection up only when its block ends, so keepalived has no family to
 * check bindto against there.
 */
function readConnection(
  v: Values, own: OwnKeywords, kids: readonly Node[], smtp: boolean,
  base: Pick<CheckerConnection, 'connectIp' | 'connectPort' | 'family' | 'connectTimeoutMs'> & Partial<CheckerConnection>,
): CheckerConnection {
  const ipNode = own.get('connect_ip');
  let connectIp = base.connectIp;
  let family = base.family;
  if (ipNode) {
    const fam = ipNode.args[0] !== undefined ? ipFamily(ipNode.args[0]) : undefined;
    if (fam === undefined) v.report.error(ipNode.src, `Invalid connect_ip address ${ipNode.args[0] ?? ''} - ignoring`, 'connect_ip');
    else {
      connectIp = canonicalIp(ipNode.args[0]!);
      family = fam;
    }
  }
  const bindtoNode = own.get('bindto');
  let bindto = base.bindto;
  if (bindtoNode) {
    const text = bindtoNode.args[0] ?? '';
    const fam = ipFamily(text);
    if (fam === undefined) v.report.error(bindtoNode.src, `Invalid bindto address ${text} - ignoring`, 'bindto');
    else if (!smtp && fam !== familyAt(kids, bindtoNode, base.family)) {
      v.report.error(bindtoNode.src, `bindto address ${text} does not match address family of connect_ip - skipping`, 'bindto');
    } else bindto = canonicalIp(text);
  }
  return {
    connectIp,
    connectPort: own.unsigned('connect_port', 1, 65535, "Invalid checker connect_port '%s'", true) ?? base.connectPort,
    family,
    bindto,
    bindPort: own.unsigned('bind_port', 1, 65535, "Invalid checker bind_port '%s'", true) ?? base.bindPort,
    bindIf: own.get('bind_if')?.args[0] ?? base.bindIf,
    fwmark: own.unsigned('fwmark', 0, UINT_MAX, "Invalid fwmark connection value '%s'", true) ?? base.fwmark,
    connectTimeoutMs:
      own.timer('connect_timeout', 1n, CONNECT_TIMEOUT_MAX_US, 'connect_timeout %s invalid - ignoring') ?? base.connectTimeoutMs,
  };
}

/**
 * `logAllFailures` is left false here when the checker does not set it: the global default is applied once the
 * whole file is read (see applyCheckerGlobals), so checkers can be resolved as soon as their block closes.
 */
export function resolveChecker(v: Values, node: Node, rs: CheckerParent, declared: DeclaredSoFar): Checker | readonly Checker[] | undefined {
  const type = node.kw;
  const own = new OwnKeywords(v, node.children ?? []);

  // keepalived checks every keyword of a block before it drops the block, so values are read first.
  if (type === 'FILE_CHECK') {
    const w = own.get('weight');
    const weight = w ? v.int(w, w.args[0], -INT_MAX, INT_MAX, true) : undefined;
    if (w && weight === undefined) v.report.error(w.src, `weight for track file must be in [${-INT_MAX}..${INT_MAX}] inclusive. Ignoring...`, 'weight');
    const tf = own.get('track_file');
    if (tf?.args[0] !== undefined && !declared.trackFiles.has(tf.args[0])) v.report.error(tf.src, `track_file ${tf.args[0]} not found`, 'track_file');
    if (tf?.args[0] === undefined || !declared.trackFiles.has(tf.args[0])) {
      // check_file.c file_end_handler: reported at the block's `}`.
      v.report.error(node.end ?? node.src, 'FILE_CHECK has no track_file specified - ignoring', type);
      return undefined;
    }
    return {
      src: ref(node.src), type, trackFile: tf.args[0], ...(weight !== undefined ? { weight } : {}),
      reverse: w?.args[1] === 'reverse',
    };
  }
  if (type === 'BFD_CHECK') {
    const alpha = own.flag('alpha');
    let name: string | undefined;
    for (const n of node.children ?? []) {
      if (n.kw !== 'name' || n.args[0] === undefined) continue;
      if (!declared.bfdInstances.has(n.args[0])) v.report.error(n.src, `(${rs.displayName}) BFD_CHECK - BFD ${n.args[0]} not configured`, 'name');
      else if (name !== undefined) v.report.error(n.src, `(${rs.displayName}) BFD_CHECK - BFD ${n.args[0]} already specified as ${name}`, 'name');
      else name = n.args[0];
    }
    if (name === undefined) {
      // A name that is not configured has been reported already.
      if (!(node.children ?? []).some((n) => n.kw === 'name' && n.args[0] !== undefined)) {
        v.report.error(node.src, `(${rs.displayName}) No name has been specified for BFD_CHECKER - skipping`, type);
      }
      return undefined;
    }
    return { src: ref(node.src), type, name, alpha: alpha ?? rs.alpha };
  }

  const defaults = TYPE_DEFAULTS[type]!;
  const delayLoopMs = own.timer('delay_loop', 1n, MAX_TIMER_US, "delay_loop '%s' is invalid - ignoring") ?? rs.delayLoopMs;
  const nbGetRetry = own.get('nb_get_retry');
  // check_http.c http_get_retry_handler reports the deprecation as a config error (-t exit 5), not a warning.
  if (nbGetRetry) v.report.error(nbGetRetry.src, 'nb_get_retry is deprecated - please use \'retry\'', 'nb_get_retry');
  const retry = own.unsigned('retry', 0, UINT_MAX, "Invalid retry connection value '%s'", true) ??
    own.unsigned('nb_get_retry', 0, UINT_MAX, "Invalid nb_get_retry value '%s'", true);
  const timing: CheckerTiming = {
    src: ref(node.src),
    retry: retry ?? rs.retry ?? defaults.retry,
    delayBeforeRetryMs: own.timer('delay_before_retry', 0n, MAX_TIMER_US, "Invalid delay_before_retry connection value '%s'") ??
      rs.delayBeforeRetryMs ?? (defaults.delayBeforeRetryMs || delayLoopMs),
    delayLoopMs,
    warmupMs: own.timer('warmup', 0n, MAX_TIMER_US, "Invalid warmup connection value '%s'") ?? rs.warmupMs ?? delayLoopMs,
    alpha: own.flag('alpha') ?? rs.alpha,
    logAllFailures: own.flag('log_all_failures') ?? false,
  };

  if (type === 'MISC_CHECK') {
    const timeoutS = own.unsigned('misc_timeout', 0, Math.floor(UINT_MAX / 1000), "Invalid misc_timeout value '%s'", true);
    const p = own.get('misc_path');
    const script = p ? v.script(p, [p.args[0] ?? '']) : undefined;
    if (script === undefined) {
      // check_misc.c misc_end_handler: reported at the block's `}`.
      v.report.error(node.end ?? node.src, 'No script path has been specified for MISC_CHECKER - skipping', type);
      return undefined;
    }
    const user = own.get('user');
    return {
      type,
      ...timing,
      miscPath: { argv: script.argv, text: script.text, user: user?.args[0], group: user?.args[1] },
      miscTimeoutMs: timeoutS !== undefined && timeoutS > 0 ? timeoutS * 1000 : rs.vsDelayLoopMs,
      miscDynamic: own.has('misc_dynamic'),
    };
  }

  const conn = readConnection(v, own, node.children ?? [], type === 'SMTP_CHECK', {
    connectIp: rs.address, connectPort: rs.port, family: rs.family, connectTimeoutMs: rs.connectTimeoutMs,
  });

  switch (type) {
    case 'TCP_CHECK':
    case 'PING_CHECK':
      return networkChecker(type, timing, conn);
    case 'SMTP_CHECK': {
      const heloName = own.get('helo_name')?.args[0] ?? 'smtpchecker.keepalived.org';
      const smtp = (c: CheckerConnection): SmtpChecker => ({ ...(networkChecker(type, timing, c) as Mutable<SmtpChecker>), heloName });
      // Each deprecated `host { }` block is one more checker, its connection over the checker's (check_smtp.c).
      const hosts = (node.children ?? []).filter((n) => n.kw === 'host');
      if (hosts.length === 0) return smtp(conn);
      return [smtp(conn), ...hosts.map((h) => smtp(readConnection(v, new OwnKeywords(v, h.children ?? []), h.children ?? [], true, conn)))];
    }
    case 'DNS_CHECK': {
      const t = (own.get('type')?.args[0] ?? 'SOA').toUpperCase() as DnsQueryType;
      if (!DNS_TYPES.has(t)) v.report.error(own.get('type')!.src, `Unknown DNS check type ${own.get('type')!.args[0] ?? ''} - ignoring`, 'type');
      const c = networkChecker(type, timing, conn) as Mutable<DnsChecker>;
      c.queryType = DNS_TYPES.has(t) ? t : 'SOA';
      c.name = own.get('name')?.args[0] ?? '.';
      return c;
    }
    case 'UDP_CHECK': {
      const rr = own.get('require_reply');
      const c = networkChecker(type, timing, conn) as Mutable<UdpChecker>;
      c.payload = hexArg(v, own.get('payload'), 'payload');
      c.requireReply = rr ? (hexArg(v, rr, 'reply') ?? '') : undefined;
      c.minReplyLength = own.unsigned('min_reply_length', 0, 65535, 'UDP_CHECK min length %s not valid - must be between 0 & 65535') ?? 0;
      c.maxReplyLength = own.unsigned('max_reply_length', 0, 65535, 'UDP_CHECK max length %s not valid - must be between 0 & 65535') ?? 255;
      return c;
    }
    case 'HTTP_GET':
    case 'SSL_GET':
      return resolveHttp(v, node, type, timing, conn, own, rs);
    default:
      return undefined;
  }
}

/**
 * The fields every network checker shares, as one literal: object spread of these (with optional keys) costs
 * ~15 µs per checker in V8, which dominated `-t` on configs with thousands of real servers. Optional fields are
 * present with value undefined; JSON output omits them.
 */
function networkChecker<T extends NetworkType>(type: T, t: CheckerTiming, c: CheckerConnection): Mutable<TcpChecker | PingChecker> & { type: T } {
  return {
    type,
    src: t.src,
    retry: t.retry,
    delayBeforeRetryMs: t.delayBeforeRetryMs,
    delayLoopMs: t.delayLoopMs,
    warmupMs: t.warmupMs,
    alpha: t.alpha,
    logAllFailures: t.logAllFailures,
    connectIp: c.connectIp,
    connectPort: c.connectPort,
    family: c.family,
    bindto: c.bindto,
    bindPort: c.bindPort,
    bindIf: c.bindIf,
    fwmark: c.fwmark,
    connectTimeoutMs: c.connectTimeoutMs,
  } as Mutable<TcpChecker | PingChecker> & { type: T };
}

function resolveHttp(
  v: Values,
  node: Node,
  type: 'HTTP_GET' | 'SSL_GET',
  timing: CheckerTiming,
  conn: CheckerConnection,
  own: OwnKeywords,
  rs: CheckerParent,
): Checker | undefined {
  // Built up from a one-element literal: an array that starts empty and is pushed to gets room for 17.
  let urls: HttpUrl[] | undefined;
  for (const u of node.children ?? []) {
    if (u.kw !== 'url') continue;
    const url = resolveUrl(v, u);
    if (!url) continue;
    if (urls) urls.push(url);
    else urls = [url];
  }
  if (urls === undefined) {
    v.report.error(node.src, 'HTTP/SSL_GET checker has no urls specified - ignoring', type);
    return undefined;
  }
  const proto = own.get('http_protocol');
  let httpProtocol: '1.0' | '1.0C' | '1.1' = '1.0';
  if (proto) {
    const p = (proto.args[0] ?? '').toUpperCase();
    if (p === '1.0' || p === '1.1' || p === '1.0C') httpProtocol = p;
    else v.report.error(proto.src, `Invalid http_protocol version ${proto.args[0] ?? ''}`, 'http_protocol');
  }
  const vhost = own.get('virtualhost');
  const virtualhost = vhost?.args[0] ?? rs.virtualhost;
  if (vhost && vhost.args[0] === undefined) v.report.error(vhost.src, 'Missing HTTP_GET virtualhost name', 'virtualhost');
  const c = networkChecker(type, timing, conn) as unknown as Mutable<HttpChecker>;
  c.urls = urls;
  c.httpProtocol = httpProtocol;
  c.virtualhost = virtualhost;
  c.fastRecovery = own.flag('fast_recovery') ?? false;
  c.enableSni = own.flag('enable_sni') ?? false;
  c.tlsCompliant = false;
  return c;
}

/**
 * UDP_CHECK's payload and require_reply: every word after the keyword, hex digits (require_reply may use X for any
 * nibble). Invalid text is reported as keepalived words it and ignored.
 */
function hexArg(v: Values, n: Node | undefined, what: 'payload' | 'reply'): string | undefined {
  if (n === undefined || n.args.length === 0) return undefined;
  const text = n.args.join(' ');
  if ((what === 'reply' ? /^[\dA-Fa-fXx\s]*$/ : /^[\dA-Fa-f\s]*$/).test(text)) return text;
  v.report.error(n.src, `Invalid hex string for UDP_CHECK ${what}`, n.kw);
  return undefined;
}

/** keepalived's words for a digest that is not 32 hex digits. */
function digestProblem(text: string): string {
  if (text.length !== 32) return `digest '${text}' character length should be 32 rather than ${text.length}`;
  const at = text.search(/[^0-9a-fA-F]/);
  return `Unable to interpret hex digit in '${text}' at offset ${at}/${at + 1}`;
}

/**
 * A `status_code` line's ranges, one frozen list for each text: a config checks 30,000 servers for the same
 * `status_code 200`, and a list of its own for each took 3.4 MB of the checker process's heap. The lists kept are
 * bounded; a line past that gets its own, as a line with an error always does.
 */
const statusCodeLists = new Map<string, StatusCodes>();
const STATUS_CODE_LISTS_KEPT = 1024;

function statusCodesOf(v: Values, n: Node): StatusCodes {
  const text = n.args.length === 1 ? n.args[0]! : n.args.join(' ');
  const kept = statusCodeLists.get(text);
  if (kept) return kept;
  const list = parseStatusCodes(v, n);
  if (list.length !== n.args.length || statusCodeLists.size >= STATUS_CODE_LISTS_KEPT) return list;
  const frozen = Object.freeze(list.map((r) => Object.freeze(r)));
  statusCodeLists.set(text, frozen);
  return frozen;
}

function parseStatusCodes(v: Values, n: Node): [number, number][] {
  const out: [number, number][] = [];
  for (const a of n.args) {
    const m = /^(\d+)(?:-(\d+))?$/.exec(a);
    const lo = m ? Number(m[1]) : NaN;
    const hi = m?.[2] !== undefined ? Number(m[2]) : lo;
    if (!m || lo < 100 || hi > 599 || hi < lo) v.report.error(n.src, `Invalid HTTP_GET status code '${a}'`, n.kw);
    else out.push([lo, hi]);
  }
  return out;
}

function resolveUrl(v: Values, u: Node): HttpUrl | undefined {
  let path: string | undefined;
  let digest: string | undefined;
  let statusCodes: StatusCodes = [];
  let virtualhost: string | undefined;
  let regex: string | undefined;
  let regexNoMatch = false;
  let regexOptions: string | undefined;
  let regexMinOffset: number | undefined;
  let regexMaxOffset: number | undefined;
  // Indexed: until V8 optimises this code (all of `-t`, each reload's parse) a for-of allocates per element.
  const kids = u.children ?? [];
  for (let k = 0; k < kids.length; k++) {
    const n = kids[k]!;
    const a = n.args[0];
    switch (n.kw) {
      case 'path':
        path = a;
        break;
      case 'digest':
        if (a === undefined || !/^[0-9a-fA-F]{32}$/.test(a)) v.report.error(n.src, digestProblem(a ?? ''), n.kw);
        else digest = a.toLowerCase();
        break;
      case 'status_code':
        statusCodes = statusCodes.length === 0 ? statusCodesOf(v, n) : statusCodes.concat(statusCodesOf(v, n));
        break;
      case 'virtualhost':
        if (a === undefined) v.report.error(n.src, 'Missing HTTP_GET virtualhost name', n.kw);
        else virtualhost = a;
        break;
      case 'regex':
        regex = a;
        break;
      case 'regex_no_match':
        regexNoMatch = true;
        break;
      case 'regex_options':
        regexOptions = n.args.join(' ');
        break;
      // keepalived 2.2.7 passes over a missing or invalid offset without a word.
      case 'regex_min_offset':
        regexMinOffset = a !== undefined && /^\d+$/.test(a) && Number(a) <= UINT_MAX ? Number(a) : undefined;
        break;
      case 'regex_max_offset':
        regexMaxOffset = a !== undefined && /^\d+$/.test(a) && Number(a) <= UINT_MAX ? Number(a) : undefined;
        break;
    }
  }
  if (path === undefined) {
    v.report.error(u.src, 'HTTP/SSL_GET checker url has no path - ignoring', 'url');
    return undefined;
  }
  return {
    path,
    digest,
    statusCodes: statusCodes.length ? statusCodes : DEFAULT_STATUS_CODES,
    virtualhost,
    regex,
    regexNoMatch,
    regexOptions,
    regexMinOffset,
    regexMaxOffset,
  };
}
