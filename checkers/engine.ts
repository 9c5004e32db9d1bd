// The checker engine: runs every checker of every real server on its own schedule (one due queue for all of them,
// due-queue.ts), applies the up/down policy, and turns checker state into RS transitions (an RS is alive only while
// all its checkers are up, ipwrapper.c update_svr_checker_state). Identical checkers on the same target are one
// probe with several subscribers.
import { hash } from 'node:crypto';
import { closeSync, openSync } from 'node:fs';
import type { Clock, TimerHandle } from '../src/clock.js';
import { systemClock } from '../src/clock.js';
import type {
  BfdChecker, Checker, Config, FileChecker, HttpChecker, PingChecker, RealServer, TcpChecker, TrackFileDef, VirtualServer,
} from '../src/config/model.js';
import { formatEndpoint, ServerWalk, vsId as makeVsId } from '../src/config/identity.js';
import { silentLogger, type Logger } from '../src/log.js';
import { probeDns } from './dns.js';
import { DueQueue } from './due-queue.js';
import { fileVerdict, TrackFileWatcher } from './file.js';
import { flatCopy } from './flat-string.js';
import { probeHttp, startHttpGet, type Cancellable } from './http.js';
import { alertBody, attemptLine, downLine, upLine, type Names } from './messages.js';
import { probeMisc } from './misc.js';
import { Pinger, type PingDrops } from './ping.js';
import { firstDelayMs, initialState, notRun, notRunReason, step, type PolicyState } from './policy.js';
import { Slots } from './slots.js';
import { probeSmtp } from './smtp.js';
import { startTcp } from './tcp.js';
import type { CheckerEvent, CheckerSnapshot, EngineStats, ProbeResult, RealServerSnapshot } from './types.js';
import { probeUdp } from './udp.js';

/** A fixed abort reason: abort() without one builds a DOMException with a stack trace each time. */
const ABORTED = new Error('checker attempt aborted');

/** Checkers that run on a timer through the policy. */
type TimedChecker = Exclude<Checker, FileChecker | BfdChecker>;

/** Checkers whose attempts run as a promise with the engine's hard timeout (runDirect runs TCP_CHECK and HTTP_GET). */
type PromisedChecker = Exclude<TimedChecker, TcpChecker>;

export interface AttemptSample {
  readonly type: Checker['type'];
  /** How long after its scheduled moment the attempt started. */
  readonly lateMs: number;
  readonly ok: boolean;
  /** Set when the check could not be made (EMFILE …): no verdict, the state is kept. */
  readonly notRun?: string;
  /** How long the attempt took. */
  readonly durationMs: number;
  /** The probe's own words: the failure or success line's detail. */
  readonly detail: string;
  /** The real servers the probe checks for. */
  readonly servers: readonly { readonly vsId: string; readonly rsId: string }[];
}

export interface EngineOptions {
  readonly clock?: Clock;
  readonly logger?: Logger;
  /** Attempts in flight at once (default 512). */
  readonly concurrency?: number;
  /** Source of randomness for the warmup spread (default Math.random). */
  readonly random?: () => number;
  /** Called for each RS transition and weight change. */
  readonly onEvent?: (event: CheckerEvent) => void;
  /** Called after every attempt (bench, metrics). */
  readonly onAttempt?: (sample: AttemptSample) => void;
  /** Checkers' states a previous engine left, by checker key: such checkers resume instead of starting afresh. */
  readonly resume?: ReadonlyMap<string, ResumedState>;
  /**
   * Called when a checker's state is worth keeping for a successor (it changed up/down or misc_dynamic weight,
   * or ran for the first time), and with undefined when a reload removed the checker.
   */
  readonly onCheckerState?: (key: string, state: ResumedState | undefined) => void;
}

/** A probe as `lvskeeper plan` lists it; `up` for a running one. */
export interface PlannedProbe {
  readonly type: Checker['type'];
  readonly target: string;
  readonly up?: boolean;
}

export interface CheckerPlan {
  readonly keep: readonly PlannedProbe[];
  readonly add: readonly PlannedProbe[];
  readonly remove: readonly PlannedProbe[];
}

/** What a checker needs to resume: its policy state and misc_dynamic's last status. */
export interface ResumedState extends PolicyState {
  readonly dynamicStatus?: number;
}

/** One running probe: a checker, its policy state, its next check and the real servers that share it. */
interface Unit {
  readonly key: string;
  readonly checker: TimedChecker;
  readonly target: string;
  /** The ha_suspend virtual server this probe checks for (such a probe is shared with no other server). */
  readonly haSuspendVs?: string;
  state: PolicyState;
  /** The real servers that share this probe. */
  subscribers: readonly RsEntry[];
  /** Its place in the engine's due queue (due-queue.ts). */
  dueAt: number;
  queuedAt: number;
  queuedSeq: number;
  /** The attempt under way's controller, taken from the engine's pool; none between attempts. */
  abort?: AbortController;
  /** The attempt under way on the direct path (runDirect), to call off on retire. */
  cancel?: Cancellable;
  /** When that attempt started, by the engine's clock. */
  startedAt: number;
  running: boolean;
  /** misc_dynamic: the exit status 2..255 whose weight (status - 2) the RS has now (check_misc.c cur_weight). */
  dynamicStatus?: number;
  /** misc_dynamic: check_misc.c last_exit_code; a success that repeats it leaves the weight alone. */
  lastExit: number;
  lastDetail?: string;
  stopped: boolean;
  /** The build that last kept this probe: one that did not is retired when its build ends. */
  built: number;
  /** How many of `subscribers` that build has confirmed so far, and the build that made the list (subscribe). */
  subscribed: number;
  listBuilt: number;
}

interface FileEntry {
  readonly def: TrackFileDef;
  readonly checker: FileChecker;
}

/** A BFD_CHECK: up as the BFD child last said, or (before it said anything) as alpha says (check_bfd.c). */
interface BfdEntry {
  readonly checker: BfdChecker;
  up: boolean;
  hasRun: boolean;
}

interface RsEntry {
  readonly vsId: string;
  readonly rsId: string;
  vs: VirtualServer;
  rs: RealServer;
  units: readonly Unit[];
  files: readonly FileEntry[];
  bfds: readonly BfdEntry[];
  alive: boolean;
  weight: number;
}

/** The empty list every entry starts with; `added` replaces it, nothing writes to it. */
const NONE: readonly never[] = Object.freeze([]);

/**
 * `list` with `item` at its end. A first item makes an array of one: push on an empty array reserves 17 slots, and
 * with a list or two per server and per probe that was 10 MB of empty slots at 30,000 servers.
 */
function added<T>(list: readonly T[], item: T): readonly T[] {
  if (list.length === 0) return [item];
  (list as T[]).push(item);
  return list;
}

/**
 * `entry` as the next of `unit`'s subscribers in build `built`, which lists them in config order. A list that reads
 * the same as the last build's is kept, not made again; the build cuts off what it did not reach (build).
 */
function subscribe(unit: Unit, entry: RsEntry, built: number): void {
  if (unit.built !== built) {
    unit.built = built;
    unit.subscribed = 0;
  }
  const n = unit.subscribed++;
  const list = unit.subscribers;
  if (list[n] === entry) return;
  // A list this build made already ends at n: it grows in place. Another is the last build's, kept up to n.
  if (unit.listBuilt === built) {
    (list as RsEntry[]).push(entry);
    return;
  }
  unit.listBuilt = built;
  unit.subscribers = n === 0 ? [entry] : [...list.slice(0, n), entry];
}

/** How a checker line names its probe's target and one of the servers it checks for. */
function namesOf(u: Unit, e: RsEntry): Names {
  return { target: u.target, rs: e.rs.displayName, vs: e.vs.displayName };
}

/** Stable key of a checker's parameters: equal keys mean one probe (and, on reload, kept state). */
export function checkerKey(c: Checker): string {
  const { src: _src, ...rest } = c as Checker & { src: unknown };
  return JSON.stringify(rest);
}

/**
 * A probe's key: a digest of its parameters (132 bits, no chance of two probes meeting). The parameters' JSON runs to
 * 500 bytes for an HTTP_GET, kept for every probe here and in the supervisor's copy of the checkers' states: 12 MB in
 * each process at 30,000 servers. A checker of an ha_suspend virtual server is switched with that server
 * (activation.ts), so it shares its probe with no other server's checker.
 */
function unitKey(c: Checker, vs: VirtualServer): string {
  const params = vs.haSuspend ? `${checkerKey(c)} ha_suspend ${vs.displayName}` : checkerKey(c);
  // A flat copy: a slice of the digest's text is a sliced string that keeps all 43 characters besides its own header,
  // 1.6 MB more at 30,000 servers (npm run bench:heap).
  return flatCopy(hash('sha256', params, 'base64url').slice(0, 22));
}

/**
 * Whether two values are one checker parameter as checkerKey sees it (member order aside): undefined members count
 * as absent, and a checker's own `src` is not a parameter. A reload compares a real server's checkers with its previous ones this
 * way first: at 30,000 servers, building and hashing every key anew was most of the engine's share of a reload.
 */
function sameParams(a: unknown, b: unknown, top = false): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a)) {
    if (!Array.isArray(b) || a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) if (!sameParams(a[i], b[i])) return false;
    return true;
  }
  if (Array.isArray(b)) return false;
  const x = a as Record<string, unknown>;
  const y = b as Record<string, unknown>;
  let defined = 0;
  for (const k in x) {
    if (top && k === 'src') continue;
    const v = x[k];
    if (v === undefined) continue;
    defined++;
    if (!sameParams(v, y[k])) return false;
  }
  for (const k in y) if (!(top && k === 'src') && y[k] !== undefined) defined--;
  return defined === 0;
}

function sameCheckers(a: readonly Checker[], b: readonly Checker[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i]!.type !== b[i]!.type || !sameParams(a[i], b[i], true)) return false;
  return true;
}

/** Unchanged checkers keep their keys: the k-th timed checker is the k-th unit of the previous entry. */
function keptUnits(prev: RsEntry | undefined, vs: VirtualServer, rs: RealServer): readonly Unit[] | undefined {
  return prev !== undefined && prev.vs.haSuspend === vs.haSuspend && sameCheckers(prev.rs.checkers, rs.checkers) ? prev.units : undefined;
}

/**
 * How checker lines name what they check: keepalived's FMT_CHK is FMT_RS(rs, vs) (check_api.h), the real server's
 * address and its port after the forwarding-method corrections, with the service's protocol (`none` for a fwmark),
 * whatever address and port the checker connects to.
 */
function targetOf(rs: RealServer): string {
  return rs.displayName;
}

/** Longest an attempt may take before the engine gives up on it (probes have their own, shorter timeouts). */
function hardTimeoutMs(c: TimedChecker): number {
  if (c.type === 'MISC_CHECK') return c.miscTimeoutMs + 3000;
  // connect, then each read may take connect_timeout.
  return 2 * c.connectTimeoutMs + 1000;
}

/**
 * A failed check may have failed here rather than at the server: when this process (EMFILE) or the system (ENFILE)
 * has no descriptor left, whatever the probe said, it could not have been made. Asked only after a failure.
 */
function descriptorShortage(): string | undefined {
  try {
    closeSync(openSync('/dev/null', 'r'));
    return undefined;
  } catch (err) {
    return notRunReason((err as NodeJS.ErrnoException).code ?? '');
  }
}

export class CheckerEngine {
  private readonly clock: Clock;
  private readonly log: Logger;
  private readonly slots: Slots<Unit>;
  private readonly due: DueQueue<Unit>;
  private readonly random: () => number;
  private units = new Map<string, Unit>();
  /** In config order: a reload walks the new config along it. */
  private servers: RsEntry[] = [];
  private builds = 0;
  private watchers = new Map<string, TrackFileWatcher>();
  private config: Config;
  /** ha_suspend virtual servers whose checkers are disabled (activation.ts decides). */
  private suspendedVs: ReadonlySet<string> = new Set();
  private started = 0;
  private completed = 0;
  private readonly inFlight = new Set<Promise<void>>();
  /** Attempts under way on the direct path (runDirect), and who waits for there to be none. */
  private direct = 0;
  private directWaiters: (() => void)[] = [];
  private running = false;
  /** Checks not run since the last one that ran: a burst is logged once, at its start and at its end. */
  private notRunBurst = 0;
  /** PING_CHECK's shared echo sockets, opened by the first ping of each family. */
  private readonly pinger4: Pinger;
  private readonly pinger6: Pinger;
  /**
   * Abort controllers of finished attempts, for the next ones: at most one per attempt in flight exists, where a
   * controller per probe (an AbortSignal is an EventTarget with two maps) was 22 MB at 30,000 servers.
   */
  private readonly controllers: AbortController[] = [];

  constructor(
    config: Config,
    private readonly opts: EngineOptions = {},
  ) {
    this.config = config;
    this.clock = opts.clock ?? systemClock;
    this.log = opts.logger ?? silentLogger();
    this.slots = new Slots(opts.concurrency ?? 512, (u, done) => this.run(u, done));
    this.due = new DueQueue(this.clock, (u) => this.launch(u));
    this.random = opts.random ?? Math.random;
    this.pinger4 = new Pinger(4, this.log);
    this.pinger6 = new Pinger(6, this.log);
  }

  /**
   * Builds the probe set and arms every first check (1 s + random share of warmup). Its `Activating healthchecker`
   * lines are activation.ts's.
   */
  start(): void {
    if (this.running) return;
    this.running = true;
    this.build(this.config, []);
  }

  /**
   * The ha_suspend virtual servers whose checkers are disabled now: as keepalived's check threads do while
   * `!checker->enabled` (check_tcp.c tcp_connect_thread …), their probes make no check and look again after
   * delay_loop; an attempt already under way finishes.
   */
  suspend(vsIds: ReadonlySet<string>): void {
    this.suspendedVs = vsIds;
  }

  /** Reload: checkers that compare equal keep their state and timer; changed ones start afresh. */
  update(config: Config): void {
    this.config = config;
    if (!this.running) return;
    if (!this.rebind(config)) this.build(config, this.servers);
  }

  /**
   * `lvskeeper plan`: the probes update(config) would keep (with their state), start and retire, keyed as build
   * keys them; nothing changes.
   */
  plan(config: Config): CheckerPlan {
    const keep = new Map<string, PlannedProbe>();
    const add = new Map<string, PlannedProbe>();
    const servers = new Map(this.servers.map((e) => [e.rsId, e]));
    for (const vs of config.virtualServers) {
      for (const rs of vs.realServers) {
        const sameUnits = keptUnits(servers.get(rs.id), vs, rs);
        let timed = 0;
        for (const c of rs.checkers) {
          if (c.type === 'BFD_CHECK' || c.type === 'FILE_CHECK') continue;
          const key = sameUnits?.[timed]?.key ?? unitKey(c, vs);
          timed++;
          const unit = this.units.get(key);
          if (unit) keep.set(key, { type: unit.checker.type, target: unit.target, up: unit.state.up });
          else add.set(key, { type: c.type, target: targetOf(rs) });
        }
      }
    }
    const remove = [...this.units.values()].filter((u) => !keep.has(u.key)).map((u): PlannedProbe => ({ type: u.checker.type, target: u.target, up: u.state.up }));
    return { keep: [...keep.values()], add: [...add.values()], remove };
  }

  /** Cancels every timer, aborts attempts in flight and waits for them to settle. */
  async stop(): Promise<void> {
    this.running = false;
    for (const u of this.units.values()) this.retire(u);
    this.units.clear();
    this.due.clear();
    for (const w of this.watchers.values()) w.close();
    this.watchers.clear();
    for (const u of this.slots.clear()) u.running = false;
    this.pinger4.close();
    this.pinger6.close();
    await Promise.allSettled([...this.inFlight, this.directDrained()]);
  }

  /**
   * Each real server's verdict, read in place (no snapshot built): /metrics reads 30,000 of these a page at a time.
   * The engine's own list, not a generator over it, which took 8-23 ms to walk at 30,000.
   */
  verdicts(): readonly Pick<RealServerSnapshot, 'vsId' | 'rsId' | 'alive' | 'weight'>[] {
    return this.servers;
  }

  /** Per-RS state; at start-up this is the initial pool (non-alpha RSs alive) the IPVS manager installs. */
  snapshot(): RealServerSnapshot[] {
    return this.servers.map((e) => ({
      vsId: e.vsId,
      rsId: e.rsId,
      alive: e.alive,
      weight: e.weight,
      checkers: [
        ...e.units.map(
          (u): CheckerSnapshot => ({
            type: u.checker.type,
            probeKey: u.key,
            up: u.state.up,
            retryIt: u.state.retryIt,
            hasRun: u.state.hasRun,
            ...(this.isSuspended(u) ? { suspended: true } : {}),
            ...(u.lastDetail !== undefined ? { lastDetail: u.lastDetail } : {}),
          }),
        ),
        ...e.files.map(
          (f): CheckerSnapshot => ({
            type: 'FILE_CHECK',
            probeKey: checkerKey(f.checker),
            up: !this.fileState(f).failed,
            retryIt: 0,
            hasRun: true,
          }),
        ),
        ...e.bfds.map((b): CheckerSnapshot => ({ type: 'BFD_CHECK', probeKey: checkerKey(b.checker), up: b.up, retryIt: 0, hasRun: b.hasRun })),
      ],
    }));
  }

  /** PING_CHECK replies counted and dropped (malformed, or not answering one of our echoes), by family and reason. */
  pingDrops(): { readonly family: 4 | 6; readonly drops: PingDrops }[] {
    return [
      { family: 4, drops: this.pinger4.drops },
      { family: 6, drops: this.pinger6.drops },
    ];
  }

  stats(): EngineStats {
    return { checksStarted: this.started, checksCompleted: this.completed, inFlight: this.inFlight.size + this.direct, probes: this.units.size };
  }

  /** Resolves when no attempt is queued or running (tests step a FakeClock, then wait for I/O to finish). */
  async idle(): Promise<void> {
    while (this.inFlight.size > 0 || this.direct > 0) await Promise.allSettled([...this.inFlight, this.directDrained()]);
  }

  /** Resolves when no attempt is under way on the direct path. */
  private directDrained(): Promise<void> {
    return this.direct === 0 ? Promise.resolve() : new Promise((resolve) => this.directWaiters.push(resolve));
  }

  // ───────────── building ─────────────

  /**
   * `before`: the entries of the running config. A kept real server whose checkers are all timed and unchanged keeps
   * its entry, which takes the new server as rebind does; every other server gets a new one. At 30,000 servers a
   * reload that adds or removes some made 30,000 entries and 60,000 one-element lists anew, for the collector to copy.
   */
  private build(config: Config, before: readonly RsEntry[]): void {
    const built = ++this.builds;
    const nextServers: RsEntry[] = [];
    // What each server's entry said before the reload (-1: a server the reload adds), for the changes it reports.
    const total = config.virtualServers.reduce((n, vs) => n + vs.realServers.length, 0);
    const wasAlive = new Int8Array(total);
    const wasWeight = new Float64Array(total);
    const previous = new ServerWalk(before, (e) => e.rsId);
    const trackDefs = new Map(config.trackFiles.map((t) => [t.name, t]));
    for (const vs of config.virtualServers) {
      const vsName = makeVsId(vs);
      for (const rs of vs.realServers) {
        const prev = previous.find(rs.id);
        const i = nextServers.length;
        wasAlive[i] = prev === undefined ? -1 : prev.alive ? 1 : 0;
        wasWeight[i] = prev?.weight ?? 0;
        const sameUnits = keptUnits(prev, vs, rs);
        if (prev !== undefined && sameUnits !== undefined && sameUnits.length === rs.checkers.length) {
          prev.vs = vs;
          prev.rs = rs;
          for (const unit of sameUnits) subscribe(unit, prev, built);
          nextServers.push(prev);
          continue;
        }
        const entry: RsEntry = { vsId: vsName, rsId: rs.id, vs, rs, units: NONE, files: NONE, bfds: NONE, alive: true, weight: rs.weight };
        for (const c of rs.checkers) {
          if (c.type === 'BFD_CHECK') {
            // A kept server keeps what its BFD said; a new checker starts up unless alpha (check_bfd.c, checker.c).
            const kept = prev?.bfds.find((b) => b.checker.name === c.name);
            entry.bfds = added(entry.bfds, { checker: c, up: kept?.up ?? !c.alpha, hasRun: kept?.hasRun ?? false });
            continue;
          }
          if (c.type === 'FILE_CHECK') {
            const def = trackDefs.get(c.trackFile);
            if (def === undefined) {
              this.log.error(`FILE_CHECK for ${rs.displayName}: unknown track_file ${c.trackFile}; ignoring it`);
              continue;
            }
            entry.files = added(entry.files, { def, checker: c });
            continue;
          }
          const timed = c as TimedChecker;
          let unit = sameUnits?.[entry.units.length];
          if (unit === undefined) {
            const key = unitKey(timed, vs);
            unit = this.units.get(key);
            if (unit === undefined) {
              unit = this.newUnit(key, timed, rs, vs.haSuspend ? vsName : undefined);
              this.units.set(key, unit);
            }
          }
          subscribe(unit, entry, built);
          entry.units = added(entry.units, unit);
        }
        nextServers.push(entry);
      }
    }
    const pings: PingChecker[] = [];
    for (const [key, unit] of this.units) {
      if (unit.built === built) {
        // A server it checked for is gone from its end.
        if (unit.subscribed < unit.subscribers.length) unit.subscribers = unit.subscribers.slice(0, unit.subscribed);
        if (unit.checker.type === 'PING_CHECK') pings.push(unit.checker);
        continue;
      }
      this.retire(unit);
      this.units.delete(key);
      this.opts.onCheckerState?.(key, undefined);
    }
    this.servers = nextServers;
    this.pinger4.retain(pings.filter((c) => c.family !== 'inet6'));
    this.pinger6.retain(pings.filter((c) => c.family === 'inet6'));
    this.syncWatchers();
    for (const unit of this.units.values()) if (!this.due.has(unit) && !unit.running) this.arm(unit, firstDelayMs(unit.checker, this.random));
    for (let i = 0; i < nextServers.length; i++) {
      const e = nextServers[i]!;
      this.recompute(e);
      // Kept RSs report what the reload changed; new RSs start from the snapshot.
      if (wasAlive[i] === -1) continue;
      if ((wasAlive[i] === 1) !== e.alive) this.emitAlive(e);
      if (wasWeight[i] !== e.weight) this.emitWeight(e);
    }
  }

  /**
   * The common reload: the same real servers in the same order, each with the same timed checkers (weights and other
   * server settings may differ). Every probe, timer and subscriber stays; each entry takes its new server and
   * reports what changed. False, having changed nothing, when the reload needs a full build; at 30,000 servers that
   * build's maps cost hundreds of milliseconds.
   */
  private rebind(config: Config): boolean {
    let n = 0;
    for (const vs of config.virtualServers) {
      for (const rs of vs.realServers) {
        const prev = this.servers[n++];
        if (prev === undefined || prev.rsId !== rs.id) return false;
        // Only timed checkers (a FILE_CHECK's track_file, a BFD_CHECK's session come from a full build);
        // probes keyed for ha_suspend or not as before.
        if (prev.units.length !== rs.checkers.length || prev.vs.haSuspend !== vs.haSuspend || !sameCheckers(prev.rs.checkers, rs.checkers)) return false;
      }
    }
    if (n !== this.servers.length) return false;
    // As a build does: a probe left with no timer (its attempt failed inside the engine) is armed again.
    for (const unit of this.units.values()) if (!this.due.has(unit) && !unit.running) this.arm(unit, firstDelayMs(unit.checker, this.random));
    let i = 0;
    for (const vs of config.virtualServers) {
      for (const rs of vs.realServers) {
        const e = this.servers[i++]!;
        const { alive, weight } = e;
        e.vs = vs;
        e.rs = rs;
        this.recompute(e);
        if (alive !== e.alive) this.emitAlive(e);
        if (weight !== e.weight) this.emitWeight(e);
      }
    }
    return true;
  }

  private newUnit(key: string, checker: TimedChecker, rs: RealServer, haSuspendVs: string | undefined): Unit {
    const resumed = this.opts.resume?.get(key);
    const { dynamicStatus, ...state } = resumed ?? { ...initialState(checker), dynamicStatus: undefined };
    return {
      key, checker, target: targetOf(rs), state, subscribers: NONE, dueAt: 0, queuedAt: -1, queuedSeq: 0, startedAt: 0, running: false, stopped: false, built: 0, subscribed: 0, listBuilt: 0,
      lastExit: dynamicStatus ?? 0,
      ...(dynamicStatus !== undefined ? { dynamicStatus } : {}),
      ...(haSuspendVs !== undefined ? { haSuspendVs } : {}),
    };
  }

  private isSuspended(u: Unit): boolean {
    return u.haSuspendVs !== undefined && this.suspendedVs.has(u.haSuspendVs);
  }

  private retire(u: Unit): void {
    u.stopped = true;
    this.due.remove(u);
    // Only an attempt under way has anything to abort; dispatching 30,000 aborts cost a stop half a second.
    u.abort?.abort(ABORTED);
    u.cancel?.cancel();
  }

  private syncWatchers(): void {
    const wanted = new Set<string>();
    for (const e of this.servers) for (const f of e.files) wanted.add(f.def.file);
    for (const [path, w] of this.watchers) {
      if (!wanted.has(path)) {
        w.close();
        this.watchers.delete(path);
      }
    }
    for (const path of wanted) {
      if (this.watchers.has(path)) continue;
      this.watchers.set(path, new TrackFileWatcher(path, () => this.onFileChange(path)));
    }
  }

  /**
   * A BFD session went Up or Down (check_bfd.c bfd_check_handle_event): each BFD_CHECK on it that this changes, or
   * that never heard from it, logs its line and takes the state; the server's pool follows.
   */
  bfdState(name: string, up: boolean): void {
    for (const e of this.servers) {
      if (e.bfds.length === 0) continue;
      const hit = e.bfds.filter((b) => b.checker.name === name && (b.up !== up || !b.hasRun));
      if (hit.length === 0) continue;
      const was = e.alive;
      const moved = hit.some((b) => b.up !== up);
      for (const b of hit) {
        this.log.info(`BFD check of [${name}] RS(${e.rs.displayName}) is ${up ? 'UP' : 'DOWN'}`);
        b.up = up;
        b.hasRun = true;
      }
      this.recompute(e);
      if (was !== e.alive) this.emitAlive(e);
      // A verdict that moves the checker is mailed (smtp_alert; no_checker_emails keeps only those moving the RS).
      if (!moved) continue;
      const body = `=> BFD CHECK ${name} ${up ? 'succeeded' : 'failed'} on service <=`;
      this.opts.onEvent?.({ kind: 'rs-alert', vsId: e.vsId, rsId: e.rsId, alive: e.alive, rsChanged: was !== e.alive, body });
    }
  }

  private fileState(f: FileEntry): { failed: boolean; adjust: number } {
    const value = this.watchers.get(f.def.file)?.value ?? 0;
    return fileVerdict(value, f.checker.weight ?? f.def.weight, f.checker.reverse || f.def.reverse);
  }

  private onFileChange(path: string): void {
    for (const e of this.servers) {
      if (!e.files.some((f) => f.def.file === path)) continue;
      const was = { alive: e.alive, weight: e.weight };
      this.recompute(e);
      if (was.alive !== e.alive) this.emitAlive(e);
      if (was.weight !== e.weight) this.emitWeight(e);
    }
  }

  // ───────────── running ─────────────

  private arm(u: Unit, delayMs: number): void {
    this.due.add(u, delayMs);
  }

  private launch(u: Unit): void {
    if (u.stopped) return;
    if (this.isSuspended(u)) return this.arm(u, u.checker.delayLoopMs);
    u.running = true;
    this.slots.submit(u);
  }

  private run(u: Unit, done: () => void): void {
    const c = u.checker;
    if (c.type === 'TCP_CHECK' || c.type === 'HTTP_GET') this.runDirect(u, c);
    else this.runPromised(u, c, done);
  }

  /**
   * Apart from run: a function whose closures capture its variables makes their context at every call, on the direct
   * path too, where no closure is made.
   */
  private runPromised(u: Unit, c: PromisedChecker, done: () => void): void {
    const settle = (): void => {
      this.inFlight.delete(p);
      u.running = false;
      done();
    };
    const p: Promise<void> = this.attempt(u, c).then(settle, (err: unknown) => {
      this.log.error({ err }, `checker ${u.checker.type} on ${u.target}: internal error`);
      settle();
    });
    this.inFlight.add(p);
  }

  /**
   * TCP_CHECK and HTTP_GET run on the exchange set, whose deadlines (connect_timeout for the connect, then for the
   * whole reply) end every attempt before hardTimeoutMs would: so no promise, abort listener or hard timer per check.
   * At 5,000 checks/s those were most of the engine's own CPU (bench:checkers, --cpu-prof). The verdict comes back
   * to directSettled with the unit, so no closure either; both end with the slot's release, the `done` of every item
   * (slots.ts).
   */
  private runDirect(u: Unit, c: TcpChecker | HttpChecker): void {
    if (u.stopped) {
      u.running = false;
      return this.slots.release();
    }
    u.startedAt = this.clock.now();
    this.started++;
    this.direct++;
    u.cancel = c.type === 'TCP_CHECK' ? startTcp(c, u, this.directSettled) : startHttpGet(c, u.state.urlIndex, u.target, u, this.directSettled);
  }

  private readonly directSettled = (u: Unit, r: ProbeResult): void => {
    u.cancel = undefined;
    try {
      this.conclude(u, u.startedAt, r);
    } catch (err) {
      this.log.error({ err }, `checker ${u.checker.type} on ${u.target}: internal error`);
    }
    u.running = false;
    this.slots.release();
    if (--this.direct === 0) for (const wake of this.directWaiters.splice(0)) wake();
  };

  private async attempt(u: Unit, c: PromisedChecker): Promise<void> {
    if (u.stopped) return;
    const startedAt = this.clock.now();
    this.started++;
    const abort = this.controllers.pop() ?? new AbortController();
    u.abort = abort;
    let hard: TimerHandle | undefined;
    const timedOut = new Promise<ProbeResult>((resolve) => {
      hard = this.clock.setTimeout(() => {
        abort.abort(ABORTED);
        resolve({ ok: false, detail: 'timeout' });
      }, hardTimeoutMs(u.checker));
    });
    let result: ProbeResult;
    try {
      // Probes release their own sockets and listeners when they settle, so the signal fires only on the hard
      // timeout or a stop; a controller per attempt, aborted after each, cost an allocation and a dispatch per check.
      result = await Promise.race([this.probe(u, c, abort.signal), timedOut]);
    } finally {
      if (hard) this.clock.clearTimeout(hard);
      u.abort = undefined;
      // An aborted one stays so; an unfired one has no listener left (probes drop theirs when they settle).
      if (!abort.signal.aborted) this.controllers.push(abort);
    }
    this.conclude(u, startedAt, result);
  }

  /** An attempt's result: counted, then a verdict on the server unless the check could not be made here. */
  private conclude(u: Unit, startedAt: number, result: ProbeResult): void {
    this.completed++;
    const skipped = result.ok ? undefined : (result.notRun ?? descriptorShortage());
    // The same words come back at every check while nothing changes: the string kept is reused, where a new one
    // would be promoted at each check. A new one is kept flat: a template literal's result is a tree of pieces, seven
    // for an HTTP detail, which took 9 MB at 30,000 servers (the unit and the telemetry keep the same string). One the
    // probe keeps already is taken as it is: a copy of HTTP's success line cost 2.4 MB at 30,000 servers.
    const detail = result.detail === u.lastDetail ? u.lastDetail : result.detailKept ? result.detail : flatCopy(result.detail);
    this.opts.onAttempt?.({
      type: u.checker.type, lateMs: startedAt - u.dueAt, ok: result.ok, notRun: skipped,
      // A probe a reload retired checks for no server any more.
      durationMs: this.clock.now() - startedAt, detail, servers: u.stopped ? NONE : u.subscribers,
    });
    if (u.stopped) return;
    if (skipped !== undefined) return this.skip(u, skipped);
    if (this.notRunBurst > 0) {
      this.log.info(`Checks run again (${this.notRunBurst} not run for lack of local resources)`);
      this.notRunBurst = 0;
    }
    this.apply(u, result, detail);
  }

  /** A check this host could not make: no verdict on the server, whose state stays as it was. */
  private skip(u: Unit, reason: string): void {
    const s = notRun(u.state, u.checker, reason);
    if (this.notRunBurst++ === 0) {
      this.log.warn(`Checks not run: ${reason} on this host (${u.checker.type} for ${u.target}); real servers keep their state. Rescheduling.`);
    }
    this.arm(u, s.delayMs);
  }

  private probe(u: Unit, c: PromisedChecker, signal: AbortSignal): Promise<ProbeResult> {
    switch (c.type) {
      case 'HTTP_GET':
      case 'SSL_GET':
        return probeHttp(c, u.state.urlIndex, signal, u.target, this.config.ssl);
      case 'SMTP_CHECK':
        return probeSmtp(c, signal);
      case 'DNS_CHECK':
        return probeDns(c, signal);
      case 'UDP_CHECK':
        return probeUdp(c, signal);
      case 'PING_CHECK':
        return (c.family === 'inet6' ? this.pinger6 : this.pinger4).ping(c, signal);
      case 'MISC_CHECK':
        // Its user was resolved with the configuration (config/check-scripts.ts).
        return probeMisc(c, signal);
    }
  }

  private apply(u: Unit, r: ProbeResult, detail: string): void {
    const c = u.checker;
    const http = c.type === 'HTTP_GET' || c.type === 'SSL_GET';
    const s = step(u.state, c, r.ok, { urls: http ? c.urls.length : 1, http, fastRecovery: http && c.fastRecovery, misc: c.type === 'MISC_CHECK' });
    const firstRun = !u.state.hasRun;
    u.lastDetail = detail;
    const logAll = c.logAllFailures || this.config.global.checkerLogAllFailures;
    // A shared network probe logs once (its lines name the target); MISC lines name each RS and VS.
    const logged = c.type === 'MISC_CHECK' ? u.subscribers.length : Math.min(1, u.subscribers.length);
    // HTTP's per-URL success line only while the checker is down (check_http.c http_handle_response: !is_up).
    const wasDown = !u.state.up;
    u.state = s.state;
    // check_misc.c misc_check_child_thread: a success (0, or 2..255 with misc_dynamic) that differs from the last exit
    // status sets the weight (0 puts the configured one back) before the state changes; a final failure drops the
    // dynamic weight without a line.
    let weightTouched = false;
    let weightDropped = false;
    const st = r.exitStatus;
    if (c.type === 'MISC_CHECK' && c.miscDynamic && st !== undefined) {
      if (st === 0 || st >= 2) {
        if (st !== u.lastExit) {
          weightTouched = u.dynamicStatus !== (st === 0 ? undefined : st);
          if (st === 0) delete u.dynamicStatus;
          else u.dynamicStatus = st;
          u.lastExit = st;
        }
      } else if (s.log.kind === 'failed') {
        u.lastExit = st;
        weightDropped = u.dynamicStatus !== undefined;
        delete u.dynamicStatus;
      }
    }
    const upLogged = s.log.kind === 'success' && (s.transition || firstRun);
    for (let k = 0; k < logged; k++) {
      // Named only for a line: a passing check logs none.
      const e = u.subscribers[k]!;
      if (http && r.ok && wasDown) this.log.info(r.detail);
      if (upLogged && !weightTouched) this.log.info(upLine(c, namesOf(u, e), r.detail));
      const failure = s.log.kind === 'retrying' || s.log.kind === 'failed' || s.log.kind === 'still-down';
      // A failed attempt's own line, only under log_all_failures for TCP (check_tcp.c tcp_check_thread: while
      // is_up) and HTTP (check_http.c timeout_epilog: while is_up or before the first run).
      const attemptLogged = c.type === 'TCP_CHECK' ? logAll && failure && !wasDown
        : http ? logAll && failure && (!wasDown || firstRun)
          // check_misc.c: a failure with retries left is logged only under log_all_failures; the final one is the
          // down line; a checker already down and past its first run logs nothing.
          : logAll && s.log.kind === 'retrying';
      if (attemptLogged) this.log.info(attemptLine(c, namesOf(u, e), s.log, r.detail));
      if (s.log.kind === 'failed') this.log.info(downLine(c, namesOf(u, e), s.log, r.detail));
    }
    // ipwrapper.c update_svr_checker_state: an alpha checker whose first run fails leaves its server down yet has
    // notify_down run. HTTP's timeout_epilog marks has_run before and never gets there.
    if (firstRun && c.alpha && !http && s.log.kind === 'failed' && s.transition === undefined) {
      for (const e of u.subscribers) this.opts.onEvent?.({ kind: 'rs-notify', vsId: e.vsId, rsId: e.rsId });
    }
    if (s.transition || weightTouched || weightDropped || firstRun) {
      this.opts.onCheckerState?.(u.key, u.dynamicStatus !== undefined ? { ...u.state, dynamicStatus: u.dynamicStatus } : u.state);
    }
    // keepalived mails a verdict that moves the checker (its is_up); MISC_CHECK also its first verdict and each final
    // failure (check_misc.c: script_exit_type set, not message_only).
    const misc = c.type === 'MISC_CHECK';
    const mailUp = s.log.kind === 'success' && (s.transition === 'up' || (misc && firstRun));
    const mailDown = misc ? s.log.kind === 'failed' : s.transition === 'down';
    const body = mailUp || mailDown ? alertBody(c, mailUp, r.detail) : undefined;
    if (s.transition || weightTouched || body !== undefined) {
      for (const e of u.subscribers) {
        const was = { alive: e.alive, weight: e.weight };
        if (s.transition || weightTouched || weightDropped) {
          this.recompute(e);
          // ipwrapper.c update_svr_wgt comes before update_svr_checker_state: a server coming back logs its new
          // weight as inactive, then is enabled; a dropped weight follows the server out of service, unlogged.
          if (was.weight !== e.weight && !weightDropped) this.emitWeight(e);
          // check_misc.c: update_svr_wgt has logged the new weight before the `succeeded` line.
          if (upLogged && weightTouched) this.log.info(upLine(c, namesOf(u, e), r.detail));
          if (was.alive !== e.alive) this.emitAlive(e);
          if (was.weight !== e.weight && weightDropped) this.emitWeight(e, true);
        }
        if (body !== undefined) this.opts.onEvent?.({ kind: 'rs-alert', vsId: e.vsId, rsId: e.rsId, alive: e.alive, rsChanged: was.alive !== e.alive, body });
      }
    }
    this.arm(u, s.delayMs);
  }

  private recompute(e: RsEntry): void {
    let alive = e.units.every((u) => u.state.up) && e.bfds.every((b) => b.up);
    let weight = e.rs.weight;
    for (const u of e.units) if (u.dynamicStatus !== undefined) weight += u.dynamicStatus - 2 - e.rs.weight;
    for (const f of e.files) {
      const v = this.fileState(f);
      if (v.failed) alive = false;
      else weight += v.adjust;
    }
    e.alive = alive;
    e.weight = Math.max(0, weight);
  }

  // Pool lines (`Adding/Removing service …`, `Changing weight …`) belong to the IPVS side, as in keepalived's
  // ipwrapper.c: the pool logs them when it applies these events, so the engine only emits.
  private emitAlive(e: RsEntry): void {
    // notify_up/notify_down belong to the pool's rs-state event (ipvs/notify-scripts.ts runs them), not here.
    this.opts.onEvent?.({ kind: e.alive ? 'rs-up' : 'rs-down', vsId: e.vsId, rsId: e.rsId });
  }

  private emitWeight(e: RsEntry, silent = false): void {
    this.opts.onEvent?.({ kind: 'rs-weight', vsId: e.vsId, rsId: e.rsId, weight: e.weight, ...(silent ? { silent } : {}) });
  }

}
