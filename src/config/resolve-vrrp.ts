// vrrp_script, vrrp_instance, vrrp_sync_group and track_file blocks → the VRRP part of the model, with keepalived
// 2.2.7's defaults and corrections (vrrp_data.c alloc_vrrp, vrrp.c vrrp_complete_instance).
import type { RouteSpec, RuleSpec } from './routes.js';
import { canonicalIp, ipFamily, stosockaddr } from './address.js';
import { ref, secondsUs, strto, Values } from './values.js';
import { Reporter } from './errors.js';
import type { AddressFamily } from '../ipvs/types.js';
import { INFINITY_LIFE_TIME } from './model.js';
import { garpDelayMs, garpExtraIf, garpRepeat } from './resolve-global.js';
import { trackBfdRefs } from './bfd.js';
import type { Node } from './parser.js';
import type {
  Diagnostic, GlobalDefs, TrackedBfd, TrackFileDef, UpDownDelay, TrackProcessDef, TrackRef, UnicastPeer, Vip, VrrpInstance, VrrpNotify, VrrpScript, VrrpState,
  VrrpSyncGroup,
} from './model.js';

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

/**
 * An interface_up_down_delays line, `IFNAME DOWN_DELAY [UP_DELAY]` in seconds (vrrp_parser.c alloc_if_up_down_delay,
 * read_timer 0 to 255): the unknown interface is a config error, the rest only log lines.
 */
export function resolveUpDownDelay(v: Values, n: Node): UpDownDelay | undefined {
  const name = n.kw;
  if (!v.interfaces.exists(name)) {
    v.report.error(n.src, `unknown interface ${name} specified for up/down delay`, n.kw);
    return undefined;
  }
  const [down, up] = n.args;
  if (down === undefined) {
    v.report.add('info', n.src, `No timeouts specified for ${name} up/down delays`, n.kw);
    return undefined;
  }
  if (n.args.length > 2) v.report.add('info', n.src, `Too many parameters for ${name} up/down delays`, n.kw);
  const downMs = v.timerMs(n, down, 0n, secondsUs(255));
  if (downMs === undefined) {
    v.report.add('info', n.src, `Invalid down delay ${down} for ${name}`, n.kw);
    return undefined;
  }
  const upMs = up === undefined ? 0 : v.timerMs(n, up, 0n, secondsUs(255));
  if (upMs === undefined) {
    v.report.add('info', n.src, `Invalid up delay ${up ?? ''} for ${name}`, n.kw);
    return undefined;
  }
  return { name, downUs: Math.round(downMs * 1000), upUs: Math.round(upMs * 1000) };
}

export function resolveTrackFile(v: Values, node: Node): TrackFileDef | undefined {
  const name = node.args[0];
  if (name === undefined) {
    v.report.error(node.src, 'No track file name specified', node.kw);
    return undefined;
  }
  let file: string | undefined;
  let weight = 1;
  let reverse = false;
  let initFile: TrackFileDef['initFile'];
  for (const n of node.children ?? []) {
    if (n.kw === 'file') {
      if (file !== undefined) v.report.error(n.src, `File already set for track file ${name} - ignoring ${n.args[0] ?? ''}`, n.kw);
      else file = n.args[0];
    }
    else if (n.kw === 'weight') {
      const w = v.int(n, n.args[0], -254, 254, true);
      if (w !== undefined) weight = w;
      reverse = n.args[1] === 'reverse';
    } else if (n.kw === 'init_file') {
      let value = 0;
      let overwrite = false;
      for (const a of n.args) {
        if (a === 'overwrite') overwrite = true;
        else value = v.int(n, a, -(2 ** 31), 2 ** 31 - 1) ?? 0;
      }
      initFile = { value, overwrite };
    }
  }
  if (file === undefined) {
    // track_file.c track_file_end_handler: reported at the block's `}`.
    v.report.error(node.end ?? node.src, `No file set for track_file ${name} - ignoring`, node.kw);
    return undefined;
  }
  return { src: ref(node.src), name, file, weight, reverse, ...(initFile ? { initFile } : {}) };
}

/** keepalived's quorum_max default (vrrp_data.c alloc_vrrp_process: UINT_MAX). */
const QUORUM_MAX_DEFAULT = 2 ** 32 - 1;

/**
 * A vrrp_track_process block, each keyword as keepalived 2.2.7's vrrp_parser.c vrrp_tprocess_* handler takes it:
 * the first `process` wins and its parameters imply full_command with exact matching, `quorum_max 0` means "no
 * process may run", `delay` sets both terminate_delay and fork_delay; a block without a process is removed.
 */
export function resolveTrackProcess(v: Values, node: Node): TrackProcessDef | undefined {
  const name = node.args[0] ?? '';
  const range = (kw: string, a: string, bounds: string): string =>
    `${kw} (${a}) for vrrp_track_process ${name} must be between [${bounds}] inclusive. Ignoring...`;
  let processName: string | undefined;
  let params: string | undefined;
  let paramMatch: TrackProcessDef['paramMatch'] = 'none';
  let fullCommand = false;
  let weight = 0;
  let reverse = false;
  let quorum = 1;
  let quorumMax = QUORUM_MAX_DEFAULT;
  let terminateDelayMs = 0;
  let forkDelayMs = 0;
  for (const n of node.children ?? []) {
    const a = n.args[0];
    switch (n.kw) {
      case 'process':
        if (a === undefined) break;
        if (processName !== undefined) {
          v.report.error(n.src, `Process already set for track process ${name} - ignoring ${a}`, n.kw);
          break;
        }
        processName = a;
        if (n.args.length > 1) {
          params = n.args.slice(1).map((p) => `${p}\0`).join('');
          if (paramMatch === 'none') paramMatch = 'exact';
          fullCommand = true;
        }
        break;
      case 'param_match':
        if (a === undefined) paramMatch = 'exact';
        else if (a === 'initial' || a === 'partial') paramMatch = a;
        else {
          v.report.error(n.src, `Invalid param_match type ${a} - ignoring`, n.kw);
          break;
        }
        fullCommand = true;
        break;
      case 'weight': {
        if (a === undefined) {
          v.report.error(n.src, `No weight specified for track process ${name} - ignoring`, n.kw);
          break;
        }
        if (weight !== 0) {
          v.report.error(n.src, `Weight already set for track process ${name} - ignoring ${a}`, n.kw);
          break;
        }
        const w = v.int(n, a, -254, 254, true);
        if (w === undefined) {
          v.report.error(n.src, range('Weight', a, '-254..254'), n.kw);
          break;
        }
        const opt = n.args[1];
        if (opt === 'reverse') reverse = true;
        else if (opt !== undefined) v.report.error(n.src, `vrrp_track_process ${name} unknown weight option ${opt}`, n.kw);
        weight = w;
        break;
      }
      case 'quorum': {
        if (a === undefined) break;
        const q = v.unsigned(n, a, 1, 65535, true);
        if (q === undefined) v.report.error(n.src, range('Quorum', a, '1..65535'), n.kw);
        else if (q > quorumMax) v.report.error(n.src, 'Quorum is greater than quorum_max - ignoring', n.kw);
        else quorum = q;
        break;
      }
      case 'quorum_max': {
        if (a === undefined) break;
        const q = v.unsigned(n, a, 0, 65535, true);
        if (q === undefined) v.report.error(n.src, range('quorum_max', a, '0..65535'), n.kw);
        else if ((q !== 0 || quorum > 1) && q < quorum) v.report.error(n.src, 'quorum_max is less than quorum - ignoring', n.kw);
        else {
          quorumMax = q;
          if (q === 0) quorum = 0;
          else if (quorum === 0) quorum = 1;
        }
        break;
      }
      case 'delay':
      case 'terminate_delay':
      case 'fork_delay': {
        if (a === undefined) break;
        const ms = v.timerMs(n, a, 1n, secondsUs(3600));
        if (ms === undefined) {
          v.report.error(n.src, range(n.kw, a, '0.000001..3600'), n.kw);
          break;
        }
        if (n.kw !== 'fork_delay') terminateDelayMs = ms;
        if (n.kw !== 'terminate_delay') forkDelayMs = ms;
        break;
      }
      case 'full_command':
        fullCommand = true;
        break;
    }
  }
  if (processName === undefined) {
    v.report.error(node.src, `track process '${name}' process name not specified`, node.kw);
    return undefined;
  }
  return {
    src: ref(node.src), name, process: processName, ...(params !== undefined ? { params } : {}), paramMatch, fullCommand, weight,
    reverse, quorum, quorumMax, terminateDelayMs, forkDelayMs,
  };
}

/**
 * vrrp.c vrrp_complete_instance: the advert interval the version can carry (v2 whole seconds below 256 s, v3
 * centiseconds below 40.96 s), each correction a config error in keepalived's words, rounded half up.
 */
function checkAdvertInt(v: Values, node: Node, tag: string, ver: 2 | 3, ms: number): number {
  const us = Math.round(ms * 1000);
  const [unit, limit] = ver === 2 ? [1_000_000, 256] : [10_000, 40.96];
  if (us >= limit * 1e6) {
    const max = ver === 2 ? '255s' : '40.95s';
    v.report.error(node.src, `${tag} VRRPv${ver} advertisement interval ${(us / 1e6).toFixed(2)}s is out of range. Must be less than ${ver === 2 ? '256s' : '40.96s'}. Setting to ${max}`, 'advert_int');
    return ver === 2 ? 255_000 : 40_950;
  }
  if (us % unit === 0) return us / 1000;
  v.report.error(node.src, ver === 2
    ? `${tag} VRRPv2 advertisement interval ${(us / 1e6).toFixed(6)}s must be an integer. rounding`
    : `${tag} VRRPv3 advertisement interval ${(us / 1e6).toFixed(6)}s must be in units of 10ms - rounding`, 'advert_int');
  const rounded = us + unit / 2 - ((us + unit / 2) % unit);
  return (rounded === 0 ? unit : rounded) / 1000;
}

export function resolveVrrpScript(v: Values, node: Node): VrrpScript | undefined {
  const name = node.args[0];
  // A bare vrrp_script has stopped the read already (parser.ts, -t exit 2).
  if (name === undefined) return undefined;
  let script: VrrpScript['script'] | undefined;
  let intervalMs = 1000;
  let timeoutMs: number | undefined;
  let weight = 0;
  let weightReverse = false;
  let rise = 1;
  let fall = 1;
  let initFail = false;
  let user: string[] | undefined;
  for (const n of node.children ?? []) {
    const a = n.args[0];
    switch (n.kw) {
      case 'script':
        script = v.script(n, [a ?? '']);
        break;
      // vrrp_parser.c vrrp_vscript_interval_handler / vrrp_vscript_timeout_handler: 0 is taken (pre-2.0.7 configs)
      // and made 1 with a line.
      case 'interval': {
        const s = v.unsigned(n, a, 0, 4294, true);
        if (s === undefined) v.report.error(n.src, `(${name}): vrrp script interval '${a}' must be between 1 and 4294 - ignoring`, n.kw);
        else {
          if (s === 0) v.report.error(n.src, `(${name}): vrrp script interval must be greater than 0, setting to 1`, n.kw);
          intervalMs = Math.max(s, 1) * 1000;
        }
        break;
      }
      case 'timeout': {
        const s = v.unsigned(n, a, 0, 4294, true);
        if (s === undefined) v.report.error(n.src, `(${name}): vrrp script timeout '${a ?? ''}' invalid - ignoring`, n.kw);
        else {
          if (s === 0) v.report.error(n.src, `(${name}): vrrp script timeout must be greater than 0, setting to 1`, n.kw);
          timeoutMs = Math.max(s, 1) * 1000;
        }
        break;
      }
      case 'weight': {
        const w = v.int(n, a, -253, 253, true);
        if (w === undefined && a !== undefined) {
          v.report.error(n.src, `vrrp_script ${name} weight ${a} must be in [-253, 253]`, n.kw);
          // vrrp_parser.c vrrp_vscript_weight_handler assigns the weight refused or not: what read_int_func stored,
          // strtol's value cast to int (the priority it moves is clamped to 1..254 all the same).
          weight = Number(BigInt.asIntN(32, strto(a, true).value));
        } else if (w !== undefined) weight = w;
        const option = n.args[1];
        if (option === 'reverse') weightReverse = true;
        else if (option !== undefined) v.report.error(n.src, `vrrp_script ${name} unknown weight option ${option}`, n.kw);
        break;
      }
      case 'rise':
      case 'fall': {
        const count = v.unsigned(n, a, 1, 2 ** 31 - 1, true);
        if (count === undefined) v.report.error(n.src, `(${name}): vrrp script ${n.kw} value '${a ?? ''}' invalid, defaulting to 1`, n.kw);
        if (n.kw === 'rise') rise = count ?? 1;
        else fall = count ?? 1;
        break;
      }
      case 'user':
        user = [...n.args];
        break;
      case 'init_fail':
        initFail = true;
        break;
    }
  }
  if (script === undefined) {
    // vrrp_parser.c vrrp_vscript_end_handler: reported at the block's `}`.
    v.report.error(node.end ?? node.src, `No script set for vrrp_script ${name} - removing`, node.kw);
    return undefined;
  }
  if (user?.[0] !== undefined) {
    const [u, g] = user[0].includes(':') ? user[0].split(':', 2) : [user[0], user[1]];
    script = { ...script, ...(u ? { user: u } : {}), ...(g ? { group: g } : {}) };
  }
  return {
    src: ref(node.src), name, script, intervalMs, timeoutMs: timeoutMs ?? intervalMs, weight, weightReverse, rise,
    fall, initFail,
  };
}

/** `NAME [weight N [reverse|noreverse]]` items of track_* blocks; `ifOwner`: track_interface's, of that instance or group. */
/** What a track_* block tracks; each has its own lines and rules in keepalived. */
type Tracked = 'interface' | 'script' | 'file' | 'process';

/** keepalived's words for each kind in its lines: [option, weight option, weight range]. */
const TRACK_WORDS: Record<Tracked, { readonly option: string; readonly weightOption: string; readonly range: string }> = {
  interface: { option: 'track_interface', weightOption: 'track_interace', range: '' },
  script: { option: 'track script', weightOption: 'track_script', range: '' },
  file: { option: 'track file', weightOption: 'track file', range: '[-254..254]' },
  process: { option: 'track process', weightOption: 'track_process', range: '[-254..254]' },
};

/**
 * A track_* block's entries as keepalived's allocators read them (vrrp_track.c alloc_track_if, alloc_track_script,
 * alloc_track_process; track_file.c vrrp_alloc_track_file): the word after the name must be `weight` and have a
 * value, or the entry is dropped; the weight is read with ignore_error in -254..254, interfaces and scripts then
 * turn +/-254 into +/-253; an unknown word after it is reported (and drops a file's entry).
 */
function trackRefs(v: Values, node: Node, kind: Tracked, owner: string): TrackRef[] {
  const words = TRACK_WORDS[kind];
  const refs: TrackRef[] = [];
  for (const item of node.children ?? []) {
    const tracked = item.kw;
    const say = (line: string): void => v.report.error(item.src, `(${owner}) ${line}`, node.kw);
    // alloc_track_if: an interface is looked up before its options are read.
    if (kind === 'interface' && !v.interfaces.found(tracked)) {
      say(`tracked interface ${tracked} doesn't exist`);
      continue;
    }
    const [option, value, after] = item.args;
    if (option === undefined) {
      refs.push({ name: tracked, reverse: false });
      continue;
    }
    if (option !== 'weight') {
      say(kind === 'interface' ? `unknown track_interface ${tracked} option ${option} - ignoring` : `unknown ${words.option} option ${option} - ignoring`);
      continue;
    }
    if (value === undefined) {
      say(`weight without value specified for ${words.option} ${tracked} - ignoring`);
      continue;
    }
    let weight = v.int(item, value, -254, 254, true);
    if (weight === undefined) {
      if (kind === 'interface') say(`weight ${value} for ${tracked} must be between [-253..253] inclusive. Ignoring...`);
      else if (kind === 'script') say(`track script ${tracked}: weight must be between [-253..253] inclusive, ignoring...`);
      else say(`weight for ${words.option} ${tracked} must be in ${words.range} inclusive. Ignoring...`);
      // An interface's weight falls back to 0, the others' to the tracked object's own.
      if (kind === 'interface') weight = 0;
    } else if ((kind === 'interface' || kind === 'script') && Math.abs(weight) === 254) {
      say(`weight for ${tracked} cannot be +/-254. Setting to +/-253`);
      weight = Math.sign(weight) * 253;
    }
    let reverse = false;
    if (after === 'reverse') reverse = true;
    else if (after !== undefined && !(after === 'noreverse' && kind !== 'interface')) {
      say(`unknown ${words.weightOption} ${tracked} weight option ${after} - ignoring`);
      if (kind === 'file') continue;
    }
    refs.push({ name: tracked, ...(weight !== undefined ? { weight } : {}), reverse });
  }
  return refs;
}

/** VIP options followed by their value (vrrp_ipaddress.c alloc_ipaddress's param_avail). */
const VIP_VALUE_WORDS = new Set(['dev', 'scope', 'broadcast', 'brd', 'label', 'peer', 'preferred_lft', 'track_group']);

export function parseVip(v: Values, item: Node, block: string): Vip | undefined {
  // vrrp_ipaddress.c parse_ipaddress: the family from a ':' anywhere; the prefix length read first, a bad one
  // reported and replaced by the family's full length; then the address.
  const slash = item.kw.indexOf('/');
  const addr = slash < 0 ? item.kw : item.kw.slice(0, slash);
  const family: AddressFamily = item.kw.includes(':') ? 'inet6' : 'inet';
  const maxLen = family === 'inet' ? 32 : 128;
  let prefixLen = maxLen;
  if (slash >= 0) {
    const lenText = item.kw.slice(slash + 1);
    // read_unsigned's strtoul takes nothing after the '/' for 0, unreported.
    const n = lenText === '' ? 0 : v.unsigned(item, lenText, 0, maxLen, true);
    if (n === undefined) v.report.error(item.src, `Invalid address prefix len ${lenText} for address ${item.kw} - using ${maxLen}`, block);
    else prefixLen = n;
  }
  if (ipFamily(addr) !== family) {
    v.report.error(item.src, `VRRP parsed invalid IP ${item.kw}. skipping IP...`, block);
    return undefined;
  }
  const vip: Mutable<Vip> = {
    src: ref(item.src), family, address: canonicalIp(addr), prefixLen, dad: false, noPrefixRoute: false,
    noTrack: false, home: false, mngtmpaddr: false, autojoin: false,
  };
  // vrrp_ipaddress.c alloc_ipaddress: track_group belongs to static addresses, use_vmac to an instance's.
  const isStatic = block === 'static_ipaddress';
  let preferredLftSet = false;
  const a = item.args;
  for (let i = 0; i < a.length; i++) {
    const w = a[i]!;
    if (VIP_VALUE_WORDS.has(w) && (isStatic || w !== 'track_group') && i + 1 >= a.length) {
      v.report.error(item.src, `No ${w} parameter specified for ${item.kw}`, block);
      return undefined;
    }
    const next = (): string => a[++i]!;
    switch (w) {
      case 'brd':
      case 'broadcast':
        vip.broadcast = next();
        break;
      case 'dev':
        vip.dev = next();
        if (!v.interfaces.found(vip.dev)) {
          v.report.error(item.src, `WARNING - interface ${vip.dev} for ip address ${item.kw} doesn't exist`, block);
          return undefined;
        }
        break;
      case 'scope':
        vip.scope = next();
        break;
      case 'label':
        vip.label = next();
        break;
      case 'peer':
        vip.peer = next();
        break;
      case 'home':
        vip.home = true;
        break;
      case '-nodad':
        vip.dad = true;
        break;
      case 'mngtmpaddr':
        vip.mngtmpaddr = true;
        break;
      case 'noprefixroute':
        vip.noPrefixRoute = true;
        break;
      case 'autojoin':
        vip.autojoin = true;
        break;
      case 'no_track':
        vip.noTrack = true;
        break;
      case 'preferred_lft': {
        const lft = next();
        const n = lft === 'forever' ? INFINITY_LIFE_TIME : v.unsigned(item, lft, 0, INFINITY_LIFE_TIME, true);
        if (n === undefined) v.report.error(item.src, `preferred_lft ${lft} is invalid`, block);
        else {
          vip.preferredLft = n;
          preferredLftSet = true;
        }
        break;
      }
      case 'track_group':
        if (isStatic) {
          next();
          break;
        }
        v.report.error(item.src, `Unknown configuration entry '${w}' for ip address - ignoring`, block);
        break;
      case 'use_vmac':
        if (!isStatic) vip.useVmac = true;
        else v.report.error(item.src, `Unknown configuration entry '${w}' for ip address - ignoring`, block);
        break;
      default:
        v.report.error(item.src, `Unknown configuration entry '${w}' for ip address - ignoring`, block);
    }
  }
  // The old defaults when preferred_lft is not given: a /128 deprecated (not chosen as a source address), others
  // preferred forever. IPv4 addresses carry no lifetime.
  if (family === 'inet') delete vip.preferredLft;
  else if (!preferredLftSet) vip.preferredLft = prefixLen === 128 ? 0 : INFINITY_LIFE_TIME;
  return vip;
}

/**
 * A notify keyword into `notify`; the first of each counts, a later one is refused in keepalived's words
 * (vrrp_parser.c vrrp_notify_*_handler, vrrp_gnotify_*_handler). `owner` starts that line: `(VI_1)` for an
 * instance, `vrrp group G:` for a sync group.
 */
function notifyField(notify: Mutable<VrrpNotify>, v: Values, n: Node, owner: string): boolean {
  const map: Record<string, keyof VrrpNotify> = {
    notify_master: 'master', notify_backup: 'backup', notify_fault: 'fault', notify_stop: 'stop', notify: 'generic',
    notify_master_rx_lower_pri: 'masterRxLowerPri', notify_deleted: 'deleted',
  };
  const key = map[n.kw];
  if (key === undefined) return false;
  if (notify[key] !== undefined) {
    v.report.error(n.src, `${owner} ${n.kw}${key === 'deleted' ? '' : ' script'} already specified - ignoring ${n.args[0] ?? ''}`, n.kw);
    return true;
  }
  const s = key === 'deleted' && n.args[0] === undefined ? true : v.script(n);
  if (s !== undefined) (notify as Record<string, unknown>)[key] = s;
  else if (key === 'deleted') notify.deleted = true;
  return true;
}

/** A vrrp_instance block as vrrp.c vrrp_complete_init leaves it. */
export interface ResolvedInstance {
  readonly name: string;
  /** Absent when refused. */
  readonly instance?: VrrpInstance;
  /** What chk_min_cfg and vrrp_complete_instance report of it, in order (not yet in the main report). */
  readonly completion: readonly Diagnostic[];
  /** Which of the two refused it: keepalived's VRRP process then stops (vrrp_daemon.c start_vrrp). */
  readonly refusedBy?: 'chk_min_cfg' | 'vrrp_complete_instance';
}

export function resolveVrrpInstance(
  v: Values,
  node: Node,
  g: GlobalDefs,
  routing?: { readonly routes: readonly RouteSpec[]; readonly rules: readonly RuleSpec[] },
  bfds: readonly TrackedBfd[] = [],
): ResolvedInstance | undefined {
  const name = node.args[0];
  if (name === undefined) {
    v.report.error(node.src, 'vrrp_instance has no name - ignoring', node.kw);
    return undefined;
  }
  const notify: Mutable<VrrpNotify> = {};
  let state: VrrpState | undefined;
  let iface: string | undefined;
  let vrid: number | undefined;
  let priority: number | undefined;
  let advertIntMs = 1000;
  let version: 2 | 3 | undefined;
  let authType: 'PASS' | 'AH' | undefined;
  let authPass: string | undefined;
  let authSrc = node.src;
  let authTypeSrc = node.src;
  let nopreempt = false;
  let preemptDelayMs = 0;
  let preemptDelaySrc: Node | undefined;
  let strict = g.vrrpStrict;
  let accept: boolean | undefined;
  const vips: Vip[] = [];
  const evips: Vip[] = [];
  const peers: UnicastPeer[] = [];
  const inst: Partial<Mutable<VrrpInstance>> = {};
  const track = { ifs: [] as TrackRef[], scripts: [] as TrackRef[], files: [] as TrackRef[], procs: [] as TrackRef[], bfds: [] as TrackRef[] };
  const tag = `(${name})`;
  // Checked once the whole block is read, as keepalived's vrrp_complete_instance does.
  let unicastKeyword: Node | undefined;
  let unicastTtlSet = false;
  let ipvlan: Node | undefined;
  /**
   * The instance's family as keepalived 2.2.7 fixes it: by the first of a VIP, unicast_src_ip/mcast_src_ip,
   * mcast_dst_ip, unicast_peer, native_ipv6 or a use_ipvlan address, in file order; a later one of the other family
   * is refused (vrrp_data.c alloc_vrrp_vip, alloc_vrrp_unicast_peer; vrrp_parser.c vrrp_srcip_handler,
   * vrrp_mcast_dstip_handler, vrrp_native_ipv6_handler, vrrp_vmac_handler's ipvlan address).
   */
  let instFamily: AddressFamily | undefined;
  let garpExtraIfS: number | undefined;
  let garpExtraIfAll = false;
  const takesFamily = (f: AddressFamily): boolean => {
    instFamily ??= f;
    return instFamily === f;
  };

  for (const n of node.children ?? []) {
    const a = n.args[0];
    if (notifyField(notify, v, n, tag)) continue;
    switch (n.kw) {
      case 'state':
        if (a === 'MASTER' || a === 'BACKUP') state = a;
        else {
          v.report.error(n.src, `${tag} unknown state '${a ?? ''}', defaulting to BACKUP`, n.kw);
          state = 'BACKUP';
        }
        break;
      case 'interface':
        if (a === undefined) v.report.error(n.src, `${tag} interface name missing`, n.kw);
        // vrrp_parser.c vrrp_int_handler: strlen(name) >= IFNAMSIZ (16, include/uapi/linux/if.h), checked first.
        else if (Buffer.byteLength(a) >= 16) v.report.error(n.src, `Interface name '${a}' too long - ignoring`, n.kw);
        else if (!v.interfaces.found(a)) {
          v.report.error(n.src, `WARNING - interface ${a} for vrrp_instance ${name} doesn't exist`, n.kw);
        } else if (v.interfaces.isLoopback(a)) {
          v.report.error(n.src, `${tag} cannot use a loopback interface (${a}) for vrrp - ignoring`, n.kw);
        } else iface = a;
        break;
      case 'virtual_router_id': {
        const id = v.unsigned(n, a, 1, 255);
        if (id === undefined) v.report.error(n.src, `${tag}: VRID '${a ?? ''}' not valid - must be between 1 & 255`, n.kw);
        vrid = id;
        break;
      }
      case 'priority': {
        const p = v.unsigned(n, a, 1, 255);
        // vrrp_parser.c vrrp_prio_handler sets the default it names, so a bad priority is not derived from the state.
        if (p === undefined) v.report.error(n.src, `${tag} Priority not valid! must be between 1 & 255. Using default 100`, n.kw);
        priority = p ?? 100;
        break;
      }
      case 'advert_int': {
        const ms = v.timerMs(n, a, secondsUs(0.01), secondsUs(255));
        if (ms !== undefined) advertIntMs = ms;
        else v.report.error(n.src, `${tag} Advert interval (${a ?? ''}) not valid! Must be > 0 - ignoring`, n.kw);
        break;
      }
      case 'version': {
        const ver = v.int(n, a, 2, 3, true);
        if (ver !== undefined) version = ver as 2 | 3;
        else v.report.error(n.src, `${tag}: Version must be either 2 or 3`, n.kw);
        break;
      }
      case 'authentication':
        authSrc = n.src;
        for (const c of n.children ?? []) {
          if (c.kw === 'auth_type') {
            authTypeSrc = c.src;
            if (c.args[0] === 'PASS' || c.args[0] === 'AH') authType = c.args[0];
            else v.report.error(c.src, `${tag} unknown authentication type '${c.args[0] ?? ''}'`, c.kw);
          } else if (c.kw === 'auth_pass') {
            authPass = c.args[0] ?? '';
            if (authPass.length > 8) {
              v.report.error(c.src, 'Truncating auth_pass to 8 characters', c.kw);
              authPass = authPass.slice(0, 8);
            }
          }
        }
        break;
      case 'nopreempt':
        nopreempt = true;
        break;
      case 'preempt':
        nopreempt = false;
        break;
      case 'preempt_delay': {
        const ms = v.timerMs(n, a, secondsUs(0), secondsUs(1000));
        if (ms !== undefined) preemptDelayMs = ms;
        else v.report.error(n.src, `${tag} Preempt_delay not valid! must be between 0-1000`, n.kw);
        preemptDelaySrc = n;
        break;
      }
      case 'garp_master_delay':
        inst.garpMasterDelayMs = garpDelayMs(v, n, `${tag}: `) ?? inst.garpMasterDelayMs;
        break;
      case 'garp_master_repeat':
        inst.garpMasterRepeat = garpRepeat(v, n, `${tag}: `) ?? inst.garpMasterRepeat;
        break;
      case 'garp_master_refresh':
        inst.garpMasterRefreshMs = refused(v, n, v.secondsMs(n, a, 0, 2 ** 31 / 1000, true), `${tag}: Invalid garp_master_refresh '${a ?? ''}' - ignoring`) ?? inst.garpMasterRefreshMs;
        break;
      case 'garp_master_refresh_repeat':
        inst.garpMasterRefreshRepeat = garpRepeat(v, n, `${tag}: `) ?? inst.garpMasterRefreshRepeat;
        break;
      case 'garp_lower_prio_delay':
        inst.garpLowerPrioDelayMs = garpDelayMs(v, n, `${tag}: `) ?? inst.garpLowerPrioDelayMs;
        break;
      case 'garp_lower_prio_repeat':
        inst.garpLowerPrioRepeat = refused(v, n, v.unsigned(n, a, 0, 2 ** 31 - 1, true), `${tag}: Invalid garp_lower_prio_repeat '${a ?? ''}'`) ?? inst.garpLowerPrioRepeat;
        break;
      case 'down_timer_adverts':
        inst.downTimerAdverts = refused(v, n, v.unsigned(n, a, 1, 100, true), `${tag}: Invalid down_timer_adverts [1:100] '${a ?? ''}'`) ?? inst.downTimerAdverts;
        break;
      case 'unicast_src_ip':
      case 'mcast_src_ip':
      {
        if (n.kw === 'unicast_src_ip') unicastKeyword ??= n;
        const src = a === undefined ? undefined : stosockaddr(a);
        if (src === undefined) {
          v.report.error(n.src, `Configuration error: VRRP instance[${name}] malformed src address[${a ?? ''}]. Skipping...`, n.kw);
        }
        else if (!takesFamily(src.family)) {
          v.report.error(n.src, `Configuration error: VRRP instance[${name}] and src address[${a!}] MUST be of the same family !!! Skipping...`, n.kw);
        }
        else if (n.kw === 'unicast_src_ip') inst.unicastSrcIp = src.address;
        else inst.mcastSrcIp = src.address;
        break;
      }
      case 'unicast_peer':
        unicastKeyword ??= n;
        for (const item of n.children ?? []) {
          const at = stosockaddr(item.kw);
          if (at === undefined) {
            // vrrp_data.c alloc_vrrp_unicast_peer's words.
            v.report.error(item.src, `Configuration error: VRRP instance[${name}] malformed unicast peer address[${item.kw}]. Skipping...`, n.kw);
            continue;
          }
          if (!takesFamily(at.family)) {
            v.report.error(item.src, `Configuration error: VRRP instance[${name}] and unicast peer address[${item.kw}] MUST be of the same family !!! Skipping...`, n.kw);
            continue;
          }
          const peer: Mutable<UnicastPeer> = { address: at.address };
          for (let i = 0; i < item.args.length; i += 2) {
            const ttl = v.int(item, item.args[i + 1], 0, 255);
            if (item.args[i] === 'min_ttl' && ttl !== undefined) peer.minTtl = ttl;
            else if (item.args[i] === 'max_ttl' && ttl !== undefined) peer.maxTtl = ttl;
          }
          peers.push(peer);
        }
        break;
      case 'unicast_ttl': {
        const ttl = refused(v, n, v.unsigned(n, a, 0, 255), `${tag}: TTL '${a ?? ''}' not valid - must be between 0 & 255`);
        if (ttl !== undefined) {
          unicastTtlSet = true;
          inst.unicastTtl = ttl;
        }
        break;
      }
      case 'check_unicast_src':
        unicastKeyword ??= n;
        inst.checkUnicastSrc = true;
        break;
      case 'old_unicast_checksum':
        // vrrp_parser.c vrrp_unicast_chksum_handler: a unicast keyword even when its word is refused.
        unicastKeyword ??= n;
        if (a === undefined) inst.unicastChecksumCompat = 'config';
        else if (a === 'never') inst.unicastChecksumCompat = 'never';
        else v.report.error(n.src, `${tag} Unknown old_unicast_chksum mode ${a} - ignoring`, n.kw);
        break;
      case 'native_ipv6':
        if (instFamily === 'inet') v.report.error(n.src, `${tag} Cannot specify native_ipv6 with IPv4 addresses`, n.kw);
        else instFamily = 'inet6';
        break;
      case 'use_ipvlan':
        if (ipvlan) {
          v.report.error(n.src, `${tag} use_ipvlan already specified`, n.kw);
          break;
        }
        ipvlan = n;
        inst.useIpvlan = useIpvlan(v, n, tag, takesFamily);
        break;
      case 'linkbeat_use_polling':
        v.report.error(n.src, `${tag} 'linkbeat_use_polling' in vrrp instance deprecated - use linkbeat_interfaces block`, n.kw);
        break;
      case 'unicast_fault_no_peer':
        inst.unicastFaultNoPeer = true;
        break;
      case 'mcast_dst_ip':
      {
        const dst = a === undefined ? undefined : stosockaddr(a);
        if (dst === undefined) v.report.error(n.src, `${tag} malformed mcast dest address ${a ?? ''}. Skipping...`, n.kw);
        else if (!takesFamily(dst.family)) v.report.error(n.src, `${tag} mcast dest address ${a!} MUST match VRRP instance family. Skipping...`, n.kw);
        else inst.mcastDstIp = dst.address;
        break;
      }
      case 'use_vmac': {
        const vmac: { name?: string; mac?: string } = {};
        for (const w of n.args) {
          if (/^([0-9a-f]{2}:){5}[0-9a-f]{2}$/i.test(w)) vmac.mac = w.toLowerCase();
          else vmac.name = w;
        }
        inst.useVmac = vmac;
        break;
      }
      case 'vmac_xmit_base':
        inst.vmacXmitBase = true;
        break;
      case 'use_vmac_addr':
        inst.useVmacAddr = true;
        break;
      case 'track_interface':
        track.ifs.push(...trackRefs(v, n, 'interface', name));
        break;
      case 'track_script':
        track.scripts.push(...trackRefs(v, n, 'script', name));
        break;
      case 'track_file':
        track.files.push(...trackRefs(v, n, 'file', name));
        break;
      case 'track_process':
        track.procs.push(...trackRefs(v, n, 'process', name));
        break;
      case 'track_bfd':
        track.bfds.push(...trackBfdRefs(v, n, name, bfds));
        break;
      // Accepted and without effect, as in keepalived 2.2.7: its test of the flag never matches a real address
      // (keepalived_netlink.c netlink_if_address_filter compares vrrp->saddr's first bytes, not its sin_addr), and the
      // flag is dropped anyway without a configured source (vrrp.c vrrp_complete_instance). service.ts addressDeleted.
      case 'track_src_ip':
        break;
      case 'dont_track_primary':
        inst.dontTrackPrimary = true;
        break;
      case 'virtual_ipaddress':
      case 'virtual_ipaddress_excluded':
        for (const item of n.children ?? []) {
          const vip = parseVip(v, item, n.kw);
          if (vip && n.kw === 'virtual_ipaddress' && !takesFamily(vip.family)) {
            v.report.error(item.src, `${tag}: address family must match VRRP instance [${item.kw}] - ignoring`, n.kw);
          } else if (vip) (n.kw === 'virtual_ipaddress' ? vips : evips).push(vip);
        }
        break;
      case 'virtual_routes':
      case 'virtual_rules':
        // Read in file order with the static ones (resolve.ts), for the rule preferences keepalived hands out.
        break;
      case 'accept':
        accept = true;
        break;
      case 'no_accept':
        accept = false;
        break;
      case 'strict_mode':
        strict = v.flag(n, (x) => `${tag} invalid strict_mode ${x} specified`) ?? strict;
        break;
      case 'skip_check_adv_addr':
        inst.skipCheckAdvAddr = v.flag(n, (x) => `${tag} invalid skip_check_adv_addr ${x} specified`) ?? inst.skipCheckAdvAddr;
        break;
      case 'lower_prio_no_advert':
        inst.lowerPrioNoAdvert = v.flag(n, (x) => `${tag} invalid lower_prio_no_advert ${x} specified`) ?? inst.lowerPrioNoAdvert;
        break;
      case 'higher_prio_send_advert':
        inst.higherPrioSendAdvert = v.flag(n, (x) => `${tag} invalid higher_prio_send_advert ${x} specified`) ?? inst.higherPrioSendAdvert;
        break;
      case 'promote_secondaries':
        inst.promoteSecondaries = true;
        break;
      case 'notify_priority_changes':
        inst.notifyPriorityChanges = v.flag(n, (x) => `${tag} Invalid value '${x}' for notify_priority_changes specified`) ?? inst.notifyPriorityChanges;
        break;
      case 'smtp_alert':
        inst.smtpAlert = v.flag(n, (x) => `Invalid vrrp_instance smtp_alert parameter ${x}`) ?? inst.smtpAlert;
        break;
      case 'vmac_garp_intvl':
      case 'garp_extra_if': {
        if (n.kw === 'vmac_garp_intvl') v.report.error(n.src, 'Keyword "vmac_garp_intvl" is deprecated - please use "garp_extra_if"', n.kw);
        // 0 is taken here (it turns the global setting off); `all` is kept even from a line then refused.
        const r = garpExtraIf(v, n, 0, (w) => `${tag}: ${n.kw} '${w}' invalid - ignoring`, `${tag}: ${n.kw} specified without time - ignoring`);
        if (r.seconds !== undefined) garpExtraIfS = r.seconds;
        garpExtraIfAll ||= r.all;
        break;
      }
      case 'kernel_rx_buf_size':
        if (a === undefined || v.unsigned(n, a, 0, 2 ** 32 - 1) === undefined) v.report.error(n.src, `${tag} invalid kernel_rx_buf_size specified`, n.kw);
        break;
      case 'debug':
        if (v.unsigned(n, a, 0, 4, true) === undefined) v.report.error(n.src, `${tag} Debug value '${a ?? ''}' not valid; must be between 0-4`, n.kw);
        break;
      case 'vrf':
        if (iface !== undefined) v.report.error(n.src, `${tag} Cannot specify VRF interface and interface - ignoring`, n.kw);
        break;
      case 'lvs_sync_daemon_interface':
        v.report.error(n.src, `${tag} Specifying lvs_sync_daemon_interface against a vrrp is deprecated.`, n.kw);
        // Aligned under the instance name as keepalived's "      %*s" with strlen(iname) - 2 does it.
        v.report.error(n.src, `${' '.repeat(6 + Math.abs(name.length - 2))}Please use global lvs_sync_daemon`, n.kw);
        // The sync daemon went to global_defs or to an earlier instance (resolve-global.ts withInstanceSyncDaemon).
        if (g.lvsSyncDaemon !== undefined && g.lvsSyncDaemon.src !== n.src) {
          v.report.error(n.src, `${tag} lvs_sync_daemon_interface has already been specified as ${g.lvsSyncDaemon.interface} - ignoring`, n.kw);
        }
        break;
      default:
        break;
    }
  }

  // vrrp_parser.c vrrp_end_handler, at the block's '}': any unicast keyword counts (VRRP_FLAG_UNICAST_CONFIGURED).
  const blockEnd = node.end ?? node.src;
  if ((unicastKeyword !== undefined || inst.unicastFaultNoPeer) && (inst.useVmac || inst.useIpvlan)) {
    if (iface === undefined) {
      v.report.error(blockEnd, `${tag}: Cannot use VMAC/ipvlan with unicast and no interface - clearing use_vmac`, inst.useVmac ? 'use_vmac' : 'use_ipvlan');
      delete inst.useVmac;
      delete inst.useIpvlan;
    } else if (!inst.vmacXmitBase) {
      v.report.error(blockEnd, `${tag} unicast with use_vmac requires vmac_xmit_base - setting`, 'use_vmac');
      inst.vmacXmitBase = true;
    }
  }
  if (peers.length === 0 && unicastTtlSet) {
    v.report.error(blockEnd, `${tag}: Cannot use unicast_ttl without unicast peers - resetting`, 'unicast_ttl');
    delete inst.unicastTtl;
  }

  // Once every block is read, vrrp.c vrrp_complete_init runs chk_min_cfg over the instances, then
  // vrrp_complete_instance on each: these lines are kept apart, since keepalived never reaches those of the
  // instances after one that either refuses (its VRRP process stops there, vrrp_daemon.c start_vrrp).
  const c = new Values(new Reporter());
  const refusedBy = (by: ResolvedInstance['refusedBy']): ResolvedInstance => ({ name, completion: c.report.list, refusedBy: by });
  if (vrid === undefined) {
    c.report.error(node.src, `${tag} the virtual router id must be set`, 'virtual_router_id');
    return refusedBy('chk_min_cfg');
  }
  // No fallback to default_interface (that serves addresses only, vrrp_if.c get_default_if), and a unicast
  // instance is no exception: VRRP_FLAG_UNICAST is only set later, in vrrp_complete_instance.
  if (iface === undefined) {
    c.report.error(node.src, `${tag} Unknown interface!`, 'interface');
    return refusedBy('chk_min_cfg');
  }
  // vrrp.c vrrp_complete_instance: IPv4 when nothing fixed it (an instance without VIPs).
  const family: AddressFamily = instFamily ?? 'inet';
  let ver: 2 | 3 = version ?? g.vrrpVersion;
  if (family === 'inet6') ver = 3;
  // Checked twice: a config error first, a warning later (both lines printed).
  if (vips.length === 0) {
    if (ver === 3 || strict) {
      c.report.error(node.src, `${tag} No VIP specified; at least one is required`, 'virtual_ipaddress');
      return refusedBy('vrrp_complete_instance');
    }
    c.report.error(node.src, `${tag} No VIP specified; at least one is sensible`, 'virtual_ipaddress');
    c.report.warn(node.src, `${tag} No VIP specified; at least one is sensible`, 'virtual_ipaddress');
  }
  if (priority === undefined) priority = state === 'MASTER' ? 255 : 100;
  let initialState: VrrpState = state ?? (priority === 255 ? 'MASTER' : 'BACKUP');
  // vrrp.c vrrp_complete_instance: in strict mode the initial state follows address ownership.
  if (strict && state !== undefined && (state === 'MASTER') !== (priority === 255)) {
    c.report.error(node.src, `${tag} State MASTER must match being address owner`, 'state');
    initialState = priority === 255 ? 'MASTER' : 'BACKUP';
  }
  // AH needs a received advert's sequence number before taking over (vrrp_complete_instance).
  if (authType === 'AH' && authPass && !strict && version !== 3 && initialState === 'MASTER' && priority !== 255 &&
      !vips.some((x) => x.family === 'inet6')) {
    c.report.error(node.src, `${tag} Initial state master is incompatible with AH authentication - clearing`, 'authentication');
    initialState = 'BACKUP';
  }
  // vrrp_complete_instance: priority 255 first, then initial state MASTER, each clearing nopreempt; a preempt_delay
  // under MASTER, strict mode or nopreempt is cleared with its own line. All are config errors (-t exit 5).
  if (nopreempt && priority === 255) {
    c.report.error(node.src, `${tag} nopreempt is incompatible with priority 255. resetting nopreempt`, 'nopreempt');
    nopreempt = false;
  }
  if (initialState === 'MASTER') {
    if (nopreempt) c.report.error(node.src, `${tag} Warning - nopreempt will not work with initial state MASTER - clearing`, 'nopreempt');
    nopreempt = false;
    if (preemptDelayMs > 0) c.report.error(node.src, `${tag} Warning - preempt delay will not work with initial state MASTER - clearing`, 'preempt_delay');
    preemptDelayMs = 0;
  }
  if (preemptDelaySrc && preemptDelayMs > 0 && (nopreempt || strict)) {
    c.report.error(preemptDelaySrc.src, `${tag} preempt_delay is incompatible with ${strict ? 'strict mode' : 'nopreempt mode'} - resetting`, 'preempt_delay');
    preemptDelayMs = 0;
  }
  advertIntMs = checkAdvertInt(c, node, tag, ver, advertIntMs);
  // unicast_fault_no_peer: no multicast fallback, the instance stays in FAULT instead (vrrp.c vrrp_complete_instance).
  if (peers.length === 0 && unicastKeyword && !inst.unicastFaultNoPeer) {
    c.report.error(unicastKeyword.src, `${tag} A unicast keyword has been specified without any unicast peers. Defaulting to multicast. This usage is deprecated - please update your configuration.`, unicastKeyword.kw);
  }
  if (peers.length > 0 && inst.mcastDstIp !== undefined) {
    c.report.error(node.src, `${tag} multicast destination specified with unicast - ignoring`, 'mcast_dst_ip');
    delete inst.mcastDstIp;
  }
  if (inst.vmacXmitBase && !inst.useVmac) c.report.error(node.src, `${tag} vmac_xmit_base is only valid with a vmac`, 'vmac_xmit_base');
  if (ipvlan && family === 'inet' && !ipvlan.args.some((w) => ipFamily(w.split('/')[0] ?? '') === 'inet')) {
    c.report.error(ipvlan.src, `${tag} IPv4 ipvlan requires a source ip address to be configured. setting instance to fault state`, 'use_ipvlan');
  }
  const trackInterfaces = track.ifs.filter((t) => {
    if (t.name !== iface) return true;
    c.report.error(node.src, `${tag} Ignoring track_interface ${t.name} since own interface`, 'track_interface');
    return false;
  });
  let authentication: VrrpInstance['authentication'];
  if (authType !== undefined) {
    if (strict) c.report.error(node.src, `${tag} Strict mode does not support authentication. Ignoring.`, 'authentication');
    else if (ver === 3) c.report.error(node.src, `${tag} VRRP version 3 does not support authentication. Ignoring.`, 'authentication');
    else if (!authPass) c.report.error(authSrc, `${tag} Authentication specified but no password given. Ignoring`, 'authentication');
    else authentication = { type: authType, pass: authPass, src: ref(authTypeSrc) };
  }
  // vrrp.c vrrp_complete_instance: an address's own use_vmac is refused where the instance's VMAC, or use_vmac_addr,
  // already puts it on one.
  const ownVmac = (list: readonly Vip[]): Vip[] => list.map((x) => {
    if (!x.useVmac) return x;
    const onInstanceIf = x.dev === undefined || x.dev === iface;
    const text = `${x.address}${x.prefixLen === (x.family === 'inet' ? 32 : 128) ? '' : `/${x.prefixLen}`}`;
    if (onInstanceIf && inst.useVmac && x.family === family) {
      c.report.error(x.src, `${tag} use_vmac specified for VIP/eVIP ${text} and vrrp instance`, 'use_vmac');
    } else if ((!onInstanceIf || x.family !== family) && inst.useVmacAddr) {
      c.report.error(x.src, `${tag} use_vmac_addr specified and use_vmac specified for VIP/eVIP ${text}`, 'use_vmac');
    } else return x;
    const { useVmac: _refused, ...rest } = x;
    return rest;
  });
  const instance: VrrpInstance = {
    src: ref(node.src),
    name,
    initialState,
    ...(iface !== undefined ? { interface: iface } : {}),
    family,
    vrid,
    priority,
    advertIntMs,
    version: ver,
    ...(authentication ? { authentication } : {}),
    preempt: !nopreempt,
    preemptDelayMs,
    garpMasterDelayMs: inst.garpMasterDelayMs ?? g.vrrpGarpMasterDelayMs,
    garpMasterRepeat: inst.garpMasterRepeat ?? g.vrrpGarpMasterRepeat,
    garpMasterRefreshMs: inst.garpMasterRefreshMs ?? g.vrrpGarpMasterRefreshMs,
    garpMasterRefreshRepeat: inst.garpMasterRefreshRepeat ?? g.vrrpGarpMasterRefreshRepeat,
    garpLowerPrioDelayMs: inst.garpLowerPrioDelayMs ?? inst.garpMasterDelayMs ?? g.vrrpGarpLowerPrioDelayMs,
    garpLowerPrioRepeat: strict ? 0 : (inst.garpLowerPrioRepeat ?? inst.garpMasterRepeat ?? g.vrrpGarpLowerPrioRepeat),
    downTimerAdverts: inst.downTimerAdverts ?? g.vrrpDownTimerAdverts,
    ...(inst.unicastSrcIp !== undefined ? { unicastSrcIp: inst.unicastSrcIp } : {}),
    ...(inst.mcastSrcIp !== undefined ? { mcastSrcIp: inst.mcastSrcIp } : {}),
    unicastPeers: peers,
    unicastTtl: inst.unicastTtl ?? 255,
    checkUnicastSrc: inst.checkUnicastSrc ?? g.vrrpCheckUnicastSrc,
    unicastFaultNoPeer: inst.unicastFaultNoPeer ?? false,
    unicastChecksumCompat: inst.unicastChecksumCompat ?? 'none',
    oldChecksumDst: g.vrrpMcastGroup4,
    mcastDstIp: inst.mcastDstIp ?? (family === 'inet6' ? g.vrrpMcastGroup6 : g.vrrpMcastGroup4),
    ...(inst.useVmac ? { useVmac: inst.useVmac } : {}),
    // vrrp.c vrrp_complete_instance: create_vmac_name's prefix, vmac_addr_prefix falling back to vmac_prefix.
    ...(g.vmacPrefix !== undefined ? { vmacPrefix: g.vmacPrefix } : {}),
    ...((g.vmacAddrPrefix ?? g.vmacPrefix) !== undefined ? { vmacAddrPrefix: (g.vmacAddrPrefix ?? g.vmacPrefix)! } : {}),
    vmacXmitBase: strict || !inst.useVmac ? false : (inst.vmacXmitBase ?? false),
    useVmacAddr: inst.useVmacAddr ?? false,
    // vrrp.c vrrp_complete_instance: without its own interval the instance takes the global one and its `all`.
    garpExtraIf: garpExtraIfS === undefined
      ? { intervalS: g.vrrpGarpExtraIf.intervalS, all: garpExtraIfAll || g.vrrpGarpExtraIf.all }
      : { intervalS: garpExtraIfS, all: garpExtraIfAll },
    ...(inst.useIpvlan ? { useIpvlan: inst.useIpvlan } : {}),
    trackInterfaces,
    trackScripts: track.scripts,
    trackFiles: track.files,
    trackProcesses: track.procs,
    trackBfds: track.bfds,
    dontTrackPrimary: inst.dontTrackPrimary ?? false,
    virtualIpaddresses: ownVmac(vips),
    virtualIpaddressesExcluded: ownVmac(evips),
    // `no_virtual_ipaddress` came after 2.2.7, whose parser rejects it as an unknown keyword.
    noVirtualIpaddress: false,
    virtualRoutes: routing?.routes ?? [],
    virtualRules: routing?.rules ?? [],
    accept: acceptMode(c, node, tag, accept, strict, priority, ver),
    strictMode: strict,
    skipCheckAdvAddr: inst.skipCheckAdvAddr ?? g.vrrpSkipCheckAdvAddr,
    lowerPrioNoAdvert: strict ? true : (inst.lowerPrioNoAdvert ?? g.vrrpLowerPrioNoAdvert),
    higherPrioSendAdvert: strict ? false : (inst.higherPrioSendAdvert ?? g.vrrpHigherPrioSendAdvert),
    v3ChecksumAsV2: g.v3ChecksumAsV2,
    promoteSecondaries: inst.promoteSecondaries ?? false,
    notify,
    ...(inst.notifyPriorityChanges !== undefined ? { notifyPriorityChanges: inst.notifyPriorityChanges } : {}),
    smtpAlert: inst.smtpAlert ?? g.smtpAlertVrrp ?? g.smtpAlert ?? false,
  };
  return { name, instance, completion: c.report.list };
}

/** The value; after a refusal (already reported in keepalived's generic words) the handler's own line too. */
/**
 * Accept mode (vrrp.c vrrp_complete_instance): unset, it is on for the address owner and otherwise off in strict
 * mode only; strict VRRPv2 turns it off for a non-owner (RFC 3768 has no accept mode).
 */
function acceptMode(v: Values, node: Node, tag: string, accept: boolean | undefined, strict: boolean, priority: number, ver: 2 | 3): boolean {
  const on = accept ?? (priority === 255 ? true : !strict);
  if (on && priority !== 255 && strict && ver === 2) {
    v.report.error(node.src, `${tag} warning - accept mode for VRRP version 2 does not comply with RFC3768 - resetting`, 'accept');
    return false;
  }
  return on;
}

function refused<T>(v: Values, n: Node, value: T | undefined, line: string): T | undefined {
  if (value === undefined) v.report.error(n.src, line, n.kw);
  return value;
}

export function resolveSyncGroup(v: Values, node: Node, g: GlobalDefs, bfds: readonly TrackedBfd[] = []): VrrpSyncGroup | undefined {
  const name = node.args[0];
  if (name === undefined) {
    v.report.error(node.src, 'vrrp_sync_group has no name - ignoring', node.kw);
    return undefined;
  }
  const notify: Mutable<VrrpNotify> = {};
  const members: string[] = [];
  const track = { ifs: [] as TrackRef[], scripts: [] as TrackRef[], files: [] as TrackRef[], procs: [] as TrackRef[], bfds: [] as TrackRef[] };
  let smtpAlert: boolean | undefined;
  let trackingWeight = false;
  let prioChanges: boolean | undefined;
  for (const n of node.children ?? []) {
    if (notifyField(notify, v, n, `vrrp group ${name}:`)) continue;
    if (n.kw === 'group') members.push(...(n.children ?? []).flatMap((c) => [c.kw, ...c.args]));
    else if (n.kw === 'track_interface') track.ifs.push(...trackRefs(v, n, 'interface', name));
    else if (n.kw === 'track_script') track.scripts.push(...trackRefs(v, n, 'script', name));
    else if (n.kw === 'track_file') track.files.push(...trackRefs(v, n, 'file', name));
    else if (n.kw === 'track_process') track.procs.push(...trackRefs(v, n, 'process', name));
    else if (n.kw === 'track_bfd') track.bfds.push(...trackBfdRefs(v, n, name, bfds));
    else if (n.kw === 'smtp_alert') smtpAlert = v.flag(n, (x) => `Invalid vrrp_group smtp_alert parameter ${x}`) ?? smtpAlert;
    else if (n.kw === 'sync_group_tracking_weight') trackingWeight = true;
    else if (n.kw === 'global_tracking') {
      v.report.error(n.src, `(${name}) global_tracking is deprecated. Use track_interface/script/file on the sync group`, n.kw);
      trackingWeight = true;
    } else if (n.kw === 'notify_priority_changes') {
      prioChanges = v.flag(n, (x) => `(${name}) Invalid value '${x}' for sync group notify_priority_changes specified`) ?? prioChanges;
    }
  }
  return {
    src: ref(node.src), name, members, trackInterfaces: track.ifs, trackScripts: track.scripts,
    trackFiles: track.files, trackProcesses: track.procs, trackBfds: track.bfds, notify, smtpAlert: smtpAlert ?? g.smtpAlertVrrp ?? g.smtpAlert ?? false,
    syncGroupTrackingWeight: trackingWeight, ...(prioChanges !== undefined ? { notifyPriorityChanges: prioChanges } : {}),
  };
}

/**
 * Trackers that may not move a priority (keepalived 2.2.7 vrrp.c vrrp_complete_instance): a member of a sync group
 * without sync_group_tracking_weight, or an address owner (priority 255), keeps only fault-style trackers of its own.
 * A weighted track_interface becomes unweighted (an owner's is dropped), a weighted track_script is dropped, a
 * track_file of weight 1 (its default) becomes weight 0 and one of any other weight is dropped; each reported in
 * keepalived's words. The sync group's own trackers are not touched here (see groupTrackerRules).
 */
export function memberTrackerRules(
  report: Values['report'], inst: VrrpInstance, group: VrrpSyncGroup | undefined,
  scripts: readonly VrrpScript[], files: readonly TrackFileDef[],
): VrrpInstance {
  const sync = group !== undefined && !group.syncGroupTrackingWeight;
  if (!sync && inst.priority !== 255) return inst;
  const tag = `(${inst.name})`;
  const because = (owner: string): string => (sync ? 'SYNC group' : owner);
  const trackInterfaces = inst.trackInterfaces.flatMap((t): TrackRef[] => {
    if (!t.weight) return [t];
    report.error(inst.src, `${tag} ignoring ${t.name} tracked interface ${sync ? 'weight ' : ''}due to ${because('address owner')}`, 'track_interface');
    return sync ? [{ ...t, weight: 0 }] : [];
  });
  const trackScripts = inst.trackScripts.filter((t) => {
    if (!(t.weight ?? scripts.find((s) => s.name === t.name)?.weight)) return true;
    report.error(inst.src, `${tag} ignoring tracked script ${t.name} with weights due to ${because('address_owner')}`, 'track_script');
    return false;
  });
  const trackFiles = inst.trackFiles.flatMap((t): TrackRef[] => {
    const weight = t.weight ?? files.find((f) => f.name === t.name)?.weight ?? 0;
    if (weight === 1) {
      report.error(inst.src, `${tag} ignoring weight from tracked file ${t.name} due to ${because('address_owner')}. specify weight 0`, 'track_file');
      return [{ ...t, weight: 0 }];
    }
    if (weight === 0) return [t];
    report.error(inst.src, `${tag} ignoring tracked file ${t.name} with weight ${weight} due to ${because('address_owner')}`, 'track_file');
    return [];
  });
  const trackBfds = inst.trackBfds.filter((t) => {
    if (!t.weight) return true;
    report.error(inst.src, `${tag} ignoring tracked bfd ${t.name} with weight ${t.weight} due to ${because('address_owner')}`, 'track_bfd');
    return false;
  });
  return { ...inst, trackInterfaces, trackScripts, trackFiles, trackBfds };
}

/**
 * A sync group's trackers against its members (keepalived 2.2.7 vrrp.c sync_group_tracking_init): an interface a
 * member tracks itself is reported; with an address owner among the members the group's weights are cleared.
 */
export function groupTrackerRules(
  report: Values['report'], group: VrrpSyncGroup, members: readonly VrrpInstance[],
  scripts: readonly VrrpScript[], files: readonly TrackFileDef[], procs: readonly TrackProcessDef[],
): VrrpSyncGroup {
  const owner = members.some((m) => m.priority === 255);
  const clear = (t: TrackRef, kind: string, weight: number | undefined, then: string): TrackRef => {
    if (!owner || !weight) return t;
    report.error(group.src, `(${group.name}) Cannot have weighted track ${kind} '${t.name}' with member having priority 255 - ${then}`, `track_${kind}`);
    return { ...t, weight: 0 };
  };
  const trackScripts = group.trackScripts.map((t) => clear(t, 'script', t.weight ?? scripts.find((s) => s.name === t.name)?.weight, 'clearing weight'));
  const trackFiles = group.trackFiles.map((t) => clear(t, 'file', t.weight ?? files.find((f) => f.name === t.name)?.weight, 'setting weight 0'));
  const trackProcesses = group.trackProcesses.map((t) => clear(t, 'process', t.weight ?? procs.find((p) => p.name === t.name)?.weight, 'setting weight 0'));
  const trackBfds = group.trackBfds.map((t) => clear(t, 'bfd', t.weight, 'setting weight 0'));
  const trackInterfaces = group.trackInterfaces.map((t) => {
    const cleared = clear(t, 'interface', t.weight, 'clearing weight');
    // add_vrrp_to_interface: an interface the member already tracks itself (its own, or a track_interface).
    for (const m of members) {
      const own = (m.interface === t.name && !m.dontTrackPrimary) || m.trackInterfaces.some((x) => x.name === t.name);
      if (own) report.error(group.src, `(${m.name}) track_interface ${t.name} is configured on VRRP instance and sync group. Remove vrrp instance or sync group config`, 'track_interface');
    }
    return cleared;
  });
  return { ...group, trackScripts, trackFiles, trackProcesses, trackInterfaces, trackBfds };
}

/** vrrp_parser.c vrrp_ipvlan_handler: NAME, ADDR[/PREFIX] and one of bridge|private|vepa, in any order. */
function useIpvlan(v: Values, n: Node, tag: string, takesFamily: (f: AddressFamily) => boolean): NonNullable<VrrpInstance['useIpvlan']> {
  const out: { name?: string; address?: string; prefixLen?: number; flags: number } = { flags: 0 };
  let hadFlags = false;
  for (const w of n.args) {
    const flags = ({ bridge: 0, private: 1, vepa: 2 } as Record<string, number>)[w];
    if (flags !== undefined) {
      if (hadFlags) v.report.error(n.src, `${tag} ipvlan type already specified - ignoring '${w}'`, n.kw);
      else out.flags = flags;
      hadFlags = true;
      continue;
    }
    const [addr = '', plen] = w.split('/');
    const family = ipFamily(addr);
    if (family !== undefined && (plen === undefined || /^\d+$/.test(plen))) {
      if (out.address !== undefined) {
        v.report.error(n.src, `${tag} ipvlan address already specified - ignoring '${w}'`, n.kw);
        continue;
      }
      if (!takesFamily(family)) {
        v.report.error(n.src, `${tag} ipvlan address[${w}] MUST match vrrp instance family !!! Skipping...`, n.kw);
        continue;
      }
      out.address = canonicalIp(addr);
      out.prefixLen = plen === undefined ? (family === 'inet' ? 32 : 128) : Number(plen);
      continue;
    }
    if (out.name !== undefined) v.report.error(n.src, `${tag} IPVLAN interface already specified - ignoring '${w}'`, n.kw);
    else if (w.length >= 16) v.report.error(n.src, `${tag} IPVLAN interface name '${w}' too long - ignoring`, n.kw);
    else out.name = w;
  }
  return out;
}
