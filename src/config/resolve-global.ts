// global_defs → GlobalDefs with keepalived 2.2.7's defaults (core/global_data.c).
import { cpus } from 'node:os';
import { canonicalIp, ipFamily } from './address.js';
import type { Node } from './parser.js';
import type { Fifo, GlobalDefs, LvsSyncDaemon, ProcessNames } from './model.js';
import { secondsUs, strto, type Values } from './values.js';
import { umaskNumber } from '../fs/umask.js';

const INT_MAX = 2 ** 31 - 1;
const UINT_MAX = 2 ** 32 - 1;

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

/**
 * Integer keywords kept in `other` (no runtime effect here) that keepalived still checks: how it reads the number
 * (read_int or read_unsigned, whose messages differ), the range, and the line it adds when the value is refused.
 */
interface OtherNumber {
  readonly read: 'int' | 'unsigned';
  readonly min: number;
  readonly max: number;
  readonly refused?: (arg: string, kw: string) => string;
  /** The handler passes ignore_error: the daemon keeps the number as read (see Values.int). */
  readonly ignoreError?: true;
}
const UINT = 2 ** 32 - 1;
const BOOL_WORDS = new Set(['on', 'off', 'true', 'false', 'yes', 'no']);
const processPriority = (name: string): OtherNumber => ({ read: 'int', min: -20, max: 19, refused: () => `Invalid ${name} process priority specified`, ignoreError: true });
const rtLimit = (name: string): OtherNumber => ({ read: 'unsigned', min: 0, max: UINT, refused: (a) => `Invalid ${name} real-time limit - ${a}`, ignoreError: true });
const rcvBufs: OtherNumber = { read: 'unsigned', min: 0, max: UINT, refused: (a, kw) => `${kw} size (${a}) invalid` };
const OTHER_NUMBERS: Readonly<Record<string, OtherNumber>> = {
  max_auto_priority: { read: 'int', min: -1, max: 99, refused: (a) => `max_auto_priority '${a}' must be in [0, 99] (or -1 to disable) - ignoring`, ignoreError: true },
  min_auto_priority_delay: { read: 'int', min: 1, max: 10_000_000, refused: (a) => `min_auto_priority_delay '${a}' must be in [1, 10000000] - ignoring`, ignoreError: true },
  vrrp_priority: processPriority('vrrp'),
  checker_priority: processPriority('checker'),
  bfd_priority: processPriority('bfd'),
  vrrp_rlimit_rttime: rtLimit('vrrp'),
  vrrp_rlimit_rtime: rtLimit('vrrp'),
  checker_rlimit_rttime: rtLimit('checker'),
  checker_rlimit_rtime: rtLimit('checker'),
  bfd_rlimit_rttime: rtLimit('bfd'),
  bfd_rlimit_rtime: rtLimit('bfd'),
  startup_script_timeout: { read: 'unsigned', min: 1, max: 1000, refused: (a) => `startup_script_timeout '${a}' must be in [1, 1000] - ignoring`, ignoreError: true },
  shutdown_script_timeout: { read: 'unsigned', min: 1, max: 1000, refused: (a) => `shutdown_script_timeout '${a}' must be in [1, 1000] - ignoring`, ignoreError: true },
  vrrp_netlink_cmd_rcv_bufs: rcvBufs,
  vrrp_netlink_monitor_rcv_bufs: rcvBufs,
  process_monitor_rcv_bufs: rcvBufs,
  lvs_netlink_cmd_rcv_bufs: rcvBufs,
  lvs_netlink_monitor_rcv_bufs: rcvBufs,
  vrrp_rx_bufs_multiplier: { read: 'unsigned', min: 0, max: UINT, refused: (a) => `Invalid vrrp_rx_bufs_multiplier ${a}` },
  nftables_priority: { read: 'int', min: -(2 ** 31), max: 2 ** 31 - 1, refused: (a) => `invalid nftables chain priority '${a}'` },
  nftables_ipvs_priority: { read: 'int', min: -(2 ** 31), max: 2 ** 31 - 1, refused: (a) => `invalid ipvs nftables chain priority '${a}'` },
  nftables_ipvs_start_fwmark: { read: 'unsigned', min: 0, max: UINT, refused: (a) => `invalid ipvs nftables start_fwmark priority '${a}'` },
  random_seed: { read: 'unsigned', min: 0, max: UINT, refused: (a) => `random_seed ${a} invalid` },
  child_wait_time: { read: 'unsigned', min: 0, max: UINT, refused: (a) => `Invalid child_wait_time ${a}` },
};

/** Parsed-only flags whose value keepalived still checks. */
const OTHER_FLAGS = new Set([
  'vrrp_netlink_cmd_rcv_bufs_force', 'vrrp_netlink_monitor_rcv_bufs_force',
  'process_monitor_rcv_bufs_force', 'lvs_netlink_cmd_rcv_bufs_force', 'lvs_netlink_monitor_rcv_bufs_force',
  'data_use_instance',
]);

/** linux/netfilter/nf_tables.h */
const NFT_TABLE_MAXNAMELEN = 256;

export function defaultGlobals(hostname: string): Mutable<GlobalDefs> {
  return {
    routerId: hostname,
    notificationEmail: [],
    notificationEmailFrom: `keepalived@${hostname}`,
    smtpHeloName: hostname,
    smtpConnectTimeoutMs: 30_000,
    noEmailFaults: false,
    checkerLogAllFailures: false,
    enableScriptSecurity: false,
    vrrpMcastGroup4: '224.0.0.18',
    vrrpMcastGroup6: 'ff02::12',
    vrrpGarpMasterDelayMs: 5000,
    vrrpGarpMasterRepeat: 5,
    vrrpGarpMasterRefreshMs: 0,
    vrrpGarpMasterRefreshRepeat: 1,
    vrrpGarpLowerPrioDelayMs: 5000,
    vrrpGarpLowerPrioRepeat: 5,
    vrrpGarpIntervalMs: 0,
    vrrpGarpExtraIf: { intervalS: 0, all: false },
    vrrpGnaIntervalMs: 0,
    vrrpMinGarp: false,
    vrrpVersion: 2,
    vrrpStrict: false,
    nftables: { priority: -1, ifindex: false, counters: false },
    vrrpCheckUnicastSrc: false,
    vrrpSkipCheckAdvAddr: false,
    vrrpLowerPrioNoAdvert: false,
    vrrpHigherPrioSendAdvert: false,
    vrrpDownTimerAdverts: 3,
    vrrpStartupDelayMs: 0,
    v3ChecksumAsV2: false,
    lvsFlush: false,
    lvsFlushOnStop: 'off',
    vrrpNotifyPriorityChanges: false,
    fifoWriteVrrpStatesOnReload: false,
    rsInitNotifies: false,
    defaultInterface: 'eth0',
    dynamicInterfaces: false,
    logUnknownVrids: false,
    processNames: {},
    noCheckerEmails: false,
    other: {},
  };
}

function fifo(v: Values, node: Node): Fifo | undefined {
  const [path, user, group] = node.args;
  if (path === undefined) {
    v.report.error(node.src, `${node.kw} no FIFO name specified`, node.kw);
    return undefined;
  }
  return { path, ...(user !== undefined ? { user } : {}), ...(group !== undefined ? { group } : {}) };
}

/** sys/stat.h: the bit each symbolic name of global_parser.c umask_handler stands for. */
const UMASK_BITS: Readonly<Record<string, number>> = {
  IRUSR: 0o400, IWUSR: 0o200, IXUSR: 0o100, IRGRP: 0o040, IWGRP: 0o020, IXGRP: 0o010, IROTH: 0o004, IWOTH: 0o002, IXOTH: 0o001,
};

/**
 * global_parser.c umask_handler: a number in C notation (decimal, 0octal, 0xhex) alone on the line, or the names of
 * sys/stat.h's S_I* bits without S_ joined by `|` (spaces around `|` allowed). Refused values keep the mask as it was.
 */
function umaskValue(v: Values, n: Node): number | undefined {
  const err = (msg: string): undefined => {
    v.report.error(n.src, msg, n.kw);
    return undefined;
  };
  const first = n.args[0];
  // No word at all: the schema reports the missing parameter, as keepalived's parser does before the handler.
  if (first === undefined) return undefined;
  if (/^\d/.test(first)) {
    if (n.args.length !== 1) return err('Extra parameter(s) to umask option');
    return umaskNumber(first) ?? err(`invalid umask value ${first}`);
  }
  let bits = 0;
  let needOr = false;
  for (const word of n.args) {
    for (let p = 0; p < word.length; ) {
      if (needOr) {
        if (word[p] !== '|') return err(`Invalid umask syntax ${word}`);
        needOr = false;
        p++;
        continue;
      }
      const bit = UMASK_BITS[word.slice(p, p + 5)];
      if (bit === undefined) return err(`Unknown umask bit ${word.slice(p)}`);
      bits |= bit;
      p += 5;
      needOr = true;
    }
  }
  return needOr ? bits : err('umask missing bit value');
}

const PROCESS_NAME_ROLE: Readonly<Record<string, keyof ProcessNames>> = {
  process_name: 'parent', vrrp_process_name: 'vrrp', checker_process_name: 'checker', lvs_process_name: 'checker', bfd_process_name: 'bfd',
};

/** global_parser.c save_process_name: a name as long as the kernel's comm (TASK_COMM_LEN 16, with the NUL) at most. */
function processName(v: Values, n: Node, name: string): string {
  const bytes = Buffer.from(name);
  if (bytes.length < 16) return name;
  v.report.error(n.src, `Process name ${name} more than 15 characters, truncating`, n.kw);
  return bytes.subarray(0, 15).toString();
}

/**
 * `{vrrp,checker,bfd}_cpu_affinity`: CPU ids this host has, read as global_parser.c get_cpu_affinity reads them
 * (with ignore_error; the first refused id, shown as strtol read it, drops them all). The ids, or undefined.
 */
function cpuAffinity(v: Values, n: Node): string | undefined {
  const owner = n.kw.slice(0, n.kw.indexOf('_'));
  const ids: number[] = [];
  for (const a of n.args) {
    const id = v.int(n, a, 0, cpus().length - 1, true);
    if (id === undefined) {
      v.report.error(n.src, `Invalid cpu_id:${BigInt.asIntN(32, strto(a, true).value)} specified for ${owner} process`, n.kw);
      return undefined;
    }
    ids.push(id);
  }
  return ids.join(' ');
}

/**
 * `{vrrp,checker,bfd}_rt_priority`: global_parser.c get_realtime_priority reads any int (with ignore_error), then
 * brings it into SCHED_RR's [1, 99] with a line.
 */
function rtPriority(v: Values, n: Node): string | undefined {
  const owner = n.kw.slice(0, n.kw.indexOf('_'));
  const a = n.args[0] ?? '';
  const p = v.int(n, a, -(2 ** 31), INT_MAX, true);
  if (p === undefined) v.report.error(n.src, `${owner} process real-time priority '${a}' invalid`, n.kw);
  else if (p < 1) v.report.error(n.src, `${owner} process real-time priority ${p} less than minimum 1 - setting to minimum`, n.kw);
  else if (p > 99) v.report.error(n.src, `${owner} process real-time priority ${p} greater than maximum 99 - setting to maximum`, n.kw);
  return p === undefined ? undefined : String(Math.min(Math.max(p, 1), 99));
}

/** MTU, ADVERT (not both) or a number. */
function rxBufsPolicy(v: Values, n: Node): string | undefined {
  const words = new Set(n.args.filter((a) => a === 'MTU' || a === 'ADVERT'));
  if (words.size === 2) v.report.error(n.src, 'Cannot set both vrrp_rx_bufs_policy MTU and ADVERT, ignoring ADVERT', n.kw);
  for (const a of n.args) {
    if (a === 'MTU' || a === 'ADVERT') continue;
    if (v.unsigned(n, a, 0, UINT) === undefined) {
      v.report.error(n.src, `Invalid vrrp_rx_bufs_policy ${a}`, n.kw);
      return undefined;
    }
  }
  return words.size < 2 ? n.args.join(' ') : undefined;
}

/** Parsed-only keywords whose value has a syntax of its own: the text `other` keeps, or undefined when refused. */
const OTHER_SYNTAX: Readonly<Record<string, (v: Values, n: Node) => string | undefined>> = {
  vrrp_cpu_affinity: cpuAffinity,
  checker_cpu_affinity: cpuAffinity,
  bfd_cpu_affinity: cpuAffinity,
  vrrp_rx_bufs_policy: rxBufsPolicy,
  vrrp_rt_priority: rtPriority,
  checker_rt_priority: rtPriority,
  bfd_rt_priority: rtPriority,
};

/**
 * global_parser.c vrrp_garp_rep_handler / vrrp_garp_refresh_rep_handler, and vrrp_parser.c's of an instance (their
 * lines after `prefix`): 0 is taken (pre-2.0.7 configs) and made 1 with a line; a value read_unsigned refuses is
 * ignored with the handler's own line after its.
 */
export function garpRepeat(v: Values, n: Node, prefix = ''): number | undefined {
  const r = v.unsigned(n, n.args[0], 0, UINT_MAX, true);
  if (r === undefined) v.report.error(n.src, `${prefix}${n.kw} '${n.args[0] ?? ''}' invalid - ignoring`, n.kw);
  else if (r === 0) v.report.error(n.src, `${prefix}${n.kw} must be greater than 0, setting to 1`, n.kw);
  return r === 0 ? 1 : r;
}

/**
 * global_parser.c vrrp_garp_delay_handler / vrrp_garp_lower_prio_delay_handler, and vrrp_parser.c's of an instance:
 * whole seconds up to UINT_MAX / TIMER_HZ, in ms; a refused value ignored with the handler's line.
 */
export function garpDelayMs(v: Values, n: Node, prefix = ''): number | undefined {
  const ms = v.secondsMs(n, n.args[0], 0, Math.floor(UINT_MAX / 1e6), true);
  if (ms === undefined) v.report.error(n.src, `${prefix}${n.kw} '${n.args[0] ?? ''}' invalid - ignoring`, n.kw);
  return ms;
}

/**
 * `SECONDS [all]`, the words in any order (global_parser.c vrrp_vmac_garp_extra_if_handler, vrrp_parser.c
 * vrrp_garp_extra_if_handler): each number in [min, 86400], the last one kept; a word that is not one refuses the
 * rest of the line. `seconds` is undefined when refused or when no number was given (each reported); `all` is what
 * the words before any refusal said.
 */
export function garpExtraIf(
  v: Values, n: Node, min: number, invalid: (word: string) => string, noTime: string,
): { seconds?: number; all: boolean } {
  let all = false;
  let seconds: number | undefined;
  for (const w of n.args) {
    if (w === 'all') {
      all = true;
      continue;
    }
    seconds = v.unsigned(n, w, min, 86400, true);
    if (seconds === undefined) {
      v.report.error(n.src, invalid(w), n.kw);
      return { all };
    }
  }
  if (seconds === undefined) v.report.error(n.src, noTime, n.kw);
  return seconds === undefined ? { all } : { seconds, all };
}

/**
 * A parsed-only keyword's value checked as keepalived checks it: the text `other` keeps (a number read with
 * ignore_error as read, junk left out), or undefined when refused (and reported).
 */
function otherText(v: Values, n: Node): string | undefined {
  const a = n.args[0];
  const text = n.args.join(' ');
  if (a === undefined) return text;
  const syntax = OTHER_SYNTAX[n.kw];
  if (syntax) return syntax(v, n);
  const num = OTHER_NUMBERS[n.kw];
  if (num) {
    const ignoreError = num.ignoreError ?? false;
    const value = num.read === 'int' ? v.int(n, a, num.min, num.max, ignoreError) : v.unsigned(n, a, num.min, num.max, ignoreError);
    if (value === undefined) {
      if (num.refused) v.report.error(n.src, num.refused(a, n.kw), n.kw);
      return undefined;
    }
    if (ignoreError) return String(value);
  }
  if (OTHER_FLAGS.has(n.kw) && !BOOL_WORDS.has(a.toLowerCase())) {
    // keepalived 2.2.7 spells data_use_instance this way in its message.
    v.report.error(n.src, `Invalid value '${a}' for global ${n.kw === 'data_use_instance' ? 'date_use_instance' : n.kw} specified`, n.kw);
    return undefined;
  }
  return text;
}

export function resolveGlobals(
  v: Values, blocks: readonly Node[], rootNodes: readonly Node[], host: { readonly hostname: string; inHostsFile(name: string): boolean },
): GlobalDefs {
  const g = defaultGlobals(host.hostname);
  const other: Record<string, string> = {};
  let lowerDelaySet = false;
  let lowerRepeatSet = false;
  const fifoScripts = new Map<string, Node>();
  for (const node of rootNodes) {
    if (otherText(v, node) === undefined) continue;
    // global_parser.c net_namespace_handler, net_namespace_ipvs_handler: the first one stays. A bare net_namespace
    // sets nothing; a bare net_namespace_ipvs names the default namespace.
    const set = other[node.kw];
    if (set !== undefined && (node.kw === 'net_namespace_ipvs' || (node.kw === 'net_namespace' && set !== ''))) {
      v.report.error(node.src, `Duplicate ${node.kw} definition ${node.args[0]} - ignoring`, node.kw);
      continue;
    }
    other[node.kw] = node.args.join(' ');
  }
  for (const b of blocks) {
    for (const n of b.children ?? []) {
      const a = n.args[0];
      switch (n.kw) {
        case 'router_id':
          if (a === undefined) v.report.error(n.src, 'routerid name missing - ignoring', n.kw);
          else g.routerId = a;
          break;
        case 'notification_email':
          // global_parser.c email_handler: read_value_block found nothing, reported once the block is read.
          if ((n.children ?? []).length === 0) v.report.error(n.end ?? n.src, 'Warning - empty notification_email block', n.kw);
          g.notificationEmail = [...g.notificationEmail, ...(n.children ?? []).flatMap((c) => [c.kw, ...c.args])];
          break;
        case 'notification_email_from':
          if (a !== undefined) g.notificationEmailFrom = a;
          break;
        case 'smtp_server': {
          if (a === undefined) break;
          // global_parser.c smtp_server_handler: an address, else domain_stosockaddr (getaddrinfo) at parse time. Names
          // are taken from /etc/hosts only: a lookup that needs DNS would make -t depend on the network.
          if (ipFamily(a, { zone: true }) === undefined && !host.inHostsFile(a)) {
            // The port as written, or SMTP_PORT_STR (smtp.h) when none is.
            v.report.error(n.src, `Invalid smtp server ${a} ${n.args[1] ?? '25'}`, n.kw);
            break;
          }
          // utils.c inet_stosockaddr / domain_stosockaddr read the port with ignore_error.
          const port = n.args[1] !== undefined ? v.unsigned(n, n.args[1], 1, 65535, true) : 25;
          g.smtpServer = { host: a, port: port ?? 25 };
          break;
        }
        case 'smtp_helo_name':
          if (a !== undefined) g.smtpHeloName = a;
          break;
        case 'smtp_connect_timeout': {
          const s = v.unsigned(n, a, 0, 4294, true);
          if (s === undefined) v.report.error(n.src, `smtp_connect_timeout '${a ?? ''}' must be in [0, 4294] - ignoring`, n.kw);
          else {
            // global_parser.c smtpto_handler, its spelling.
            if (s === 0) v.report.error(n.src, 'smtp_conect_timeout must be greater than 0, setting to 1', n.kw);
            g.smtpConnectTimeoutMs = Math.max(s, 1) * 1000;
          }
          break;
        }
        case 'smtp_alert':
          g.smtpAlert = v.flag(n, (x) => `Invalid value '${x}' for global smtp_alert specified`) ?? g.smtpAlert;
          break;
        case 'smtp_alert_vrrp':
          g.smtpAlertVrrp = v.flag(n, (x) => `Invalid value '${x}' for global smtp_alert_vrrp specified`) ?? g.smtpAlertVrrp;
          break;
        case 'smtp_alert_checker':
          g.smtpAlertChecker = v.flag(n, (x) => `Invalid value '${x}' for global smtp_alert_checker specified`) ?? g.smtpAlertChecker;
          break;
        case 'no_email_faults':
          g.noEmailFaults = true;
          break;
        case 'checker_log_all_failures':
          g.checkerLogAllFailures = v.flag(n, () => 'Invalid value for checker_log_all_failures specified') ?? g.checkerLogAllFailures;
          break;
        case 'script_user':
          if (a === undefined) v.report.error(n.src, 'No script username specified', n.kw);
          else {
            g.scriptUser = a;
            if (n.args[1] !== undefined) g.scriptGroup = n.args[1];
          }
          break;
        case 'enable_script_security':
          g.enableScriptSecurity = true;
          break;
        case 'vrrp_mcast_group4':
        case 'vrrp_mcast_group6': {
          const fam = n.kw === 'vrrp_mcast_group4' ? 'inet' : 'inet6';
          if (a === undefined || ipFamily(a) !== fam) v.report.error(n.src, `Can't parse ${n.kw} [${a ?? ''}]. Skipping`, n.kw);
          else if (fam === 'inet') g.vrrpMcastGroup4 = a;
          else g.vrrpMcastGroup6 = canonicalIp(a);
          break;
        }
        case 'vrrp_garp_master_delay': {
          const ms = garpDelayMs(v, n);
          if (ms !== undefined) g.vrrpGarpMasterDelayMs = ms;
          break;
        }
        case 'vrrp_garp_master_repeat': {
          const r = garpRepeat(v, n);
          if (r !== undefined) g.vrrpGarpMasterRepeat = r;
          break;
        }
        case 'vrrp_garp_master_refresh': {
          const ms = v.secondsMs(n, a, 0, INT_MAX / 1000, true);
          // global_parser.c vrrp_garp_refresh_handler: a refused value turns the refresh off.
          if (ms === undefined) v.report.error(n.src, `Invalid vrrp_garp_master_refresh '${a ?? ''}' - ignoring`, n.kw);
          g.vrrpGarpMasterRefreshMs = ms ?? 0;
          break;
        }
        case 'vrrp_garp_master_refresh_repeat': {
          const r = garpRepeat(v, n);
          if (r !== undefined) g.vrrpGarpMasterRefreshRepeat = r;
          break;
        }
        case 'vrrp_garp_lower_prio_delay': {
          const ms = garpDelayMs(v, n);
          if (ms !== undefined) {
            g.vrrpGarpLowerPrioDelayMs = ms;
            lowerDelaySet = true;
          }
          break;
        }
        case 'vrrp_garp_lower_prio_repeat': {
          const r = v.unsigned(n, a, 0, INT_MAX, true);
          if (r === undefined) v.report.error(n.src, `Invalid vrrp_garp_lower_prio_repeat '${a ?? ''}'`, n.kw);
          else {
            g.vrrpGarpLowerPrioRepeat = r;
            lowerRepeatSet = true;
          }
          break;
        }
        case 'vrrp_garp_interval': {
          // global_parser.c vrrp_garp_interval_handler: read_decimal_unsigned_strvec in [1, UINT_MAX] µs, then its own line.
          const ms = v.timerMs(n, a, 1n, 4_294_967_295n, (x) => `vrrp_garp_interval '${x}' is invalid`);
          if (ms !== undefined) g.vrrpGarpIntervalMs = ms;
          break;
        }
        case 'vrrp_gna_interval': {
          // global_parser.c vrrp_gna_interval_handler: read_decimal_unsigned_strvec in [1, UINT_MAX] µs, then its own line.
          const ms = v.timerMs(n, a, 1n, 4_294_967_295n, (x) => `vrrp_gna_interval '${x}' is invalid`);
          if (ms !== undefined) g.vrrpGnaIntervalMs = ms;
          break;
        }
        case 'vrrp_min_garp':
          g.vrrpMinGarp = v.flag(n, () => 'Invalid value for vrrp_min_garp specified') ?? g.vrrpMinGarp;
          // global_parser.c vrrp_min_garp_handler: one GARP/NA, no repeat, no refresh, no delayed burst — in place
          // of whichever of those still hold their default at this line.
          if (g.vrrpMinGarp) {
            if (g.vrrpGarpMasterRepeat === 5) g.vrrpGarpMasterRepeat = 1;
            if (g.vrrpGarpMasterRefreshRepeat === 1) g.vrrpGarpMasterRefreshRepeat = 0;
            if (g.vrrpGarpMasterDelayMs === 5000) g.vrrpGarpMasterDelayMs = 0;
          }
          break;
        case 'vrrp_version': {
          const ver = v.int(n, a, 2, 3, true);
          if (ver !== undefined) g.vrrpVersion = ver as 2 | 3;
          else v.report.error(n.src, 'VRRP Error: Version must be either 2 or 3', n.kw);
          break;
        }
        // keepalived reads no value for these three: any word after them still turns them on.
        case 'vrrp_strict':
          g.vrrpStrict = true;
          break;
        case 'vrrp_check_unicast_src':
          g.vrrpCheckUnicastSrc = true;
          break;
        case 'vrrp_skip_check_adv_addr':
          g.vrrpSkipCheckAdvAddr = true;
          break;
        case 'vrrp_lower_prio_no_advert':
          g.vrrpLowerPrioNoAdvert = v.flag(n, () => 'Invalid value for vrrp_lower_prio_no_advert specified') ?? g.vrrpLowerPrioNoAdvert;
          break;
        case 'vrrp_higher_prio_send_advert':
          g.vrrpHigherPrioSendAdvert = v.flag(n, () => 'Invalid value for vrrp_higher_prio_send_advert specified') ?? g.vrrpHigherPrioSendAdvert;
          break;
        case 'vrrp_down_timer_adverts': {
          const d = v.unsigned(n, a, 1, 100, true);
          if (d !== undefined) g.vrrpDownTimerAdverts = d;
          else v.report.error(n.src, `Invalid vrrp_down_timer_adverts [1:100] '${a ?? ''}'`, n.kw);
          break;
        }
        case 'vrrp_startup_delay': {
          const ms = v.timerMs(n, a, secondsUs(0), secondsUs(3600));
          if (ms !== undefined) g.vrrpStartupDelayMs = ms;
          break;
        }
        case 'lvs_flush':
          g.lvsFlush = true;
          break;
        case 'lvs_flush_on_stop':
        case 'lvs_flush_onstop':
          g.lvsFlushOnStop = a === undefined ? 'all' : a.toUpperCase() === 'VS' ? 'vs' : v.bool(n) ? 'all' : 'off';
          break;
        case 'lvs_timeouts':
          g.lvsTimeouts = lvsTimeouts(v, n);
          break;
        case 'lvs_sync_daemon':
          if (g.lvsSyncDaemon) v.report.error(n.src, `lvs_sync_daemon has already been specified as ${g.lvsSyncDaemon.interface} ${g.lvsSyncDaemon.instance ?? ''} - ignoring`, n.kw);
          else if (a === undefined) v.report.error(n.src, 'lvs_sync_daemon requires interface', n.kw);
          else g.lvsSyncDaemon = lvsSyncDaemon(v, n, a);
          break;
        case 'notify_fifo':
        case 'vrrp_notify_fifo':
        case 'lvs_notify_fifo': {
          const f = fifo(v, n);
          if (f !== undefined) {
            if (n.kw === 'notify_fifo') g.notifyFifo = f;
            else if (n.kw === 'vrrp_notify_fifo') g.vrrpNotifyFifo = f;
            else g.lvsNotifyFifo = f;
          }
          break;
        }
        case 'notify_fifo_script':
        case 'vrrp_notify_fifo_script':
        case 'lvs_notify_fifo_script':
          fifoScripts.set(n.kw.replace(/_script$/, ''), n);
          break;
        case 'startup_script':
        case 'shutdown_script': {
          const key = n.kw === 'startup_script' ? 'startupScript' : 'shutdownScript';
          const type = n.kw === 'startup_script' ? 'startup' : 'shutdown';
          if (g[key] !== undefined) {
            v.report.error(n.src, `${type} script already specified`, n.kw);
            break;
          }
          const script = a === undefined ? undefined : v.script(n);
          if (script !== undefined) g[key] = script;
          break;
        }
        case 'vrrp_notify_priority_changes':
          g.vrrpNotifyPriorityChanges = v.flag(n, (x) => `Invalid value '${x}' for global vrrp_notify_priority_changes specified`) ?? g.vrrpNotifyPriorityChanges;
          break;
        // global_parser.c reads no value: any word after it still turns it on.
        case 'fifo_write_vrrp_states_on_reload':
          g.fifoWriteVrrpStatesOnReload = true;
          break;
        case 'rs_init_notifies':
          if (a === undefined || BOOL_WORDS.has(a.toLowerCase())) g.rsInitNotifies = a === undefined || v.bool(n);
          else v.report.error(n.src, `Invalid value '${a}' for global rs_init_notifies specified`, n.kw);
          break;
        case 'no_checker_emails':
          if (a === undefined || BOOL_WORDS.has(a.toLowerCase())) g.noCheckerEmails = a === undefined || v.bool(n);
          else v.report.error(n.src, `Invalid value '${a}' for global no_checker_emails specified`, n.kw);
          break;
        case 'default_interface':
          if (a !== undefined) g.defaultInterface = a;
          break;
        // global_parser.c vrrp_vmac_prefix_handler / vrrp_vmac_addr_prefix_handler: the first one counts.
        case 'vmac_prefix':
          if (g.vmacPrefix !== undefined) v.report.error(n.src, `vmac prefix has already been specified - ignoring ${a ?? ''}`, n.kw);
          else if (a !== undefined) g.vmacPrefix = a;
          break;
        case 'vmac_addr_prefix':
          if (g.vmacAddrPrefix !== undefined) v.report.error(n.src, `vmac_addr prefix has already been specified - ignoring ${a ?? ''}`, n.kw);
          else if (a !== undefined) g.vmacAddrPrefix = a;
          break;
        case 'umask': {
          const mask = umaskValue(v, n);
          if (mask !== undefined) g.umask = mask;
          break;
        }
        case 'log_unknown_vrids':
          g.logUnknownVrids = true;
          break;
        case 'reload_check_config':
          g.reloadCheckConfig = a ?? true;
          break;
        case 'dynamic_interfaces':
          if (a !== undefined && a !== 'allow_if_changes') v.report.error(n.src, `Unknown dynamic_interfaces option '${a}'`, n.kw);
          else g.dynamicInterfaces = true;
          break;
        case 'process_names':
          g.processNames = { ...g.processNames, vrrp: 'keepalived_vrrp', checker: 'keepalived_lvs', bfd: 'keepalived_bfd' };
          break;
        case 'process_name':
        case 'vrrp_process_name':
        case 'checker_process_name':
        case 'lvs_process_name':
        case 'bfd_process_name':
          if (a !== undefined) g.processNames = { ...g.processNames, [PROCESS_NAME_ROLE[n.kw]!]: processName(v, n, a) };
          break;
        // Parsed only, but reported in the words of Debian's 2.2.7, which is built with nftables and without iptables.
        case 'vrrp_iptables':
          v.report.error(n.src, "iptables not supported, using nftables instead. Please replace 'vrrp_iptables and 'vrrp_ipsets' with 'nftables' config option", n.kw);
          g.nftables = { ...g.nftables, table: 'keepalived', priority: -1 };
          other[n.kw] = n.args.join(' ');
          break;
        // global_parser.c vrrp_nftables_handler and the three after it; `nftables` resets an earlier priority.
        case 'nftables':
          if (g.nftables.table !== undefined) v.report.error(n.src, 'nftables already specified - ignoring', n.kw);
          else if (a !== undefined && a.length >= NFT_TABLE_MAXNAMELEN) v.report.error(n.src, 'nftables table name too long - ignoring', n.kw);
          else g.nftables = { ...g.nftables, table: a ?? 'keepalived', priority: -1 };
          other[n.kw] = n.args.join(' ');
          break;
        case 'nftables_priority':
          if (otherText(v, n) !== undefined && a !== undefined) g.nftables = { ...g.nftables, priority: v.int(n, a, -(2 ** 31), 2 ** 31 - 1)! };
          other[n.kw] = n.args.join(' ');
          break;
        case 'nftables_ifindex':
        case 'nftables_counters':
          g.nftables = { ...g.nftables, [n.kw === 'nftables_ifindex' ? 'ifindex' : 'counters']: true };
          other[n.kw] = n.args.join(' ');
          break;
        case 'vrrp_vmac_garp_intvl':
        case 'vrrp_garp_extra_if': {
          if (n.kw === 'vrrp_vmac_garp_intvl') v.report.error(n.src, 'Keyword "vrrp_vmac_garp_intvl" is deprecated - please use "vrrp_garp_extra_if"', n.kw);
          const r = garpExtraIf(v, n, 1, (w) => `${n.kw} '${w}' invalid - ignoring`, `${n.kw} specified without time - ignoring`);
          // global_parser.c vrrp_vmac_garp_extra_if_handler: `all` is kept even from a line then refused.
          g.vrrpGarpExtraIf = { intervalS: r.seconds ?? g.vrrpGarpExtraIf.intervalS, all: g.vrrpGarpExtraIf.all || r.all };
          break;
        }
        default:
          const text = otherText(v, n);
          if (text !== undefined) other[n.kw] = text;
      }
    }
  }
  if (!lowerDelaySet) g.vrrpGarpLowerPrioDelayMs = g.vrrpGarpMasterDelayMs;
  if (!lowerRepeatSet) g.vrrpGarpLowerPrioRepeat = g.vrrpGarpMasterRepeat;
  for (const [kw, node] of fifoScripts) {
    const script = v.script(node);
    const key = kw === 'notify_fifo' ? 'notifyFifo' : kw === 'vrrp_notify_fifo' ? 'vrrpNotifyFifo' : 'lvsNotifyFifo';
    const f = g[key];
    if (script === undefined) continue;
    // Without its FIFO keepalived keeps the script silently and never runs it.
    if (f !== undefined) g[key] = { ...f, script };
  }
  g.other = other;
  return g;
}

function lvsTimeouts(v: Values, n: Node): GlobalDefs['lvsTimeouts'] {
  const t: { tcpS?: number; udpS?: number; tcpFinS?: number } = {};
  for (let i = 0; i < n.args.length; i += 2) {
    const key = n.args[i]!;
    const val = v.int(n, n.args[i + 1], 0, 86400 * 31);
    if (val === undefined) continue;
    if (key === 'tcp') t.tcpS = val;
    else if (key === 'tcpfin') t.tcpFinS = val;
    else if (key === 'udp') t.udpS = val;
    else v.report.error(n.src, `Unknown option ${key} specified for lvs_timeouts`, n.kw);
  }
  if (Object.keys(t).length === 0) v.report.error(n.src, 'No parameters specified for lvs_timeouts', n.kw);
  return t;
}

/** keepalived's lvs_syncd_handler (core/global_parser.c), its messages word for word. */
function lvsSyncDaemon(v: Values, n: Node, iface: string): GlobalDefs['lvsSyncDaemon'] {
  const err = (text: string): void => v.report.error(n.src, text, n.kw);
  if (iface.length >= 16) {
    err(`lvs_sync_daemon interface name '${iface}' too long - ignoring`);
    return undefined;
  }
  const w = n.args;
  let instance: string | undefined;
  let syncId: number | undefined, maxlen: number | undefined, port: number | undefined, ttl: number | undefined;
  let group: LvsSyncDaemon['group'];
  // Each keyword's value; keepalived reports a keyword in last place and carries on.
  const value = (i: number, missing: string): string | undefined => {
    if (i === w.length - 1) err(missing);
    return w[i + 1];
  };
  for (let i = 1; i < w.length; i++) {
    const word = w[i]!;
    const option = (missing: string, min: number, max: number, invalid: (s: string) => string): number | undefined => {
      const s = value(i, missing);
      if (s === undefined) return undefined;
      i++;
      // read_unsigned_strvec reports the number, then the handler its own line.
      const num = v.unsigned(n, s, min, max);
      if (num === undefined) err(invalid(s));
      return num;
    };
    switch (word) {
      case 'inst':
        if (instance !== undefined) err(`lvs_sync_daemon vrrp instance has already been specified as ${instance} - ignoring`);
        else instance = w[i + 1];
        i++;
        continue;
      case 'id':
        syncId = option('No value specified for lvs_sync_daemon id, defaulting to vrid', 0, 255, (s) => `Invalid syncid (${s}) - defaulting to vrid`) ?? syncId;
        continue;
      case 'maxlen':
        maxlen = option('No value specified for lvs_sync_daemon maxlen - ignoring', 1, 65535 - 20 - 8, (s) => `Invalid lvs_sync_daemon maxlen (${s}) - ignoring`) ?? maxlen;
        continue;
      case 'port':
        port = option('No value specified for lvs_sync_daemon port - ignoring', 1, 65535, (s) => `Invalid lvs_sync_daemon port (${s}) - ignoring`) ?? port;
        continue;
      case 'ttl':
        ttl = option('No value specified for lvs_sync_daemon ttl - ignoring', 1, 255, (s) => `Invalid lvs_sync_daemon ttl (${s}) - ignoring`) ?? ttl;
        continue;
      case 'group': {
        const s = value(i, 'No value specified for lvs_sync_daemon group - ignoring');
        if (s === undefined) continue;
        i++;
        const family = ipFamily(s);
        if (family === undefined) err(`Invalid lvs_sync_daemon group (${s}) - ignoring`);
        else if (!isMulticast(family, canonicalIp(s))) err(`lvs_sync_daemon group address ${s} is not multicast - ignoring`);
        else group = { family, address: canonicalIp(s) };
        continue;
      }
    }
    // The old form, lvs_sync_daemon IF VRRP_INSTANCE [SYNC_ID].
    if (i === 1) {
      instance = word;
    } else if (i === 2) {
      const id = v.unsigned(n, word, 0, 255);
      if (id === undefined) err(`Invalid syncid (${word}) - defaulting to vrid`);
      else {
        err('Please use keyword "id" before lvs_sync_daemon SYNCID');
        syncId = id;
      }
    } else {
      err(`Unknown option ${word} specified for lvs_sync_daemon`);
    }
  }
  return {
    interface: iface,
    raw: w.join(' '),
    src: n.src,
    ...(instance !== undefined ? { instance } : {}),
    ...(syncId !== undefined ? { syncId } : {}),
    ...(maxlen !== undefined ? { maxlen } : {}),
    ...(port !== undefined ? { port } : {}),
    ...(ttl !== undefined ? { ttl } : {}),
    ...(group !== undefined ? { group } : {}),
  };
}

/** IN_MULTICAST / IN6_IS_ADDR_MULTICAST. */
function isMulticast(family: 'inet' | 'inet6', address: string): boolean {
  if (family === 'inet6') return /^ff/i.test(address);
  const first = Number(address.split('.')[0]);
  return first >= 224 && first <= 239;
}

/**
 * vrrp_parser.c vrrp_lvs_syncd_handler: `lvs_sync_daemon_interface IF` in a vrrp_instance (deprecated, reported
 * where the instance is read) runs the sync daemon on IF following that instance, unless one is set already: by
 * global_defs wherever it stands (keepalived reads the global keywords before the instances) or by an earlier instance.
 * The instance refused says so where it is read (resolve-vrrp.ts).
 */
export function withInstanceSyncDaemon(g: GlobalDefs, tree: readonly Node[]): GlobalDefs {
  if (g.lvsSyncDaemon !== undefined) return g;
  for (const node of tree) {
    if (node.kw !== 'vrrp_instance' || node.args[0] === undefined) continue;
    const n = node.children?.find((c) => c.kw === 'lvs_sync_daemon_interface' && c.args[0] !== undefined);
    if (n) return { ...g, lvsSyncDaemon: { interface: n.args[0]!, instance: node.args[0], raw: n.args[0]!, src: n.src } };
  }
  return g;
}
