// The supervisor: lvskeeper's main process, as keepalived's parent (core/main.c). It reads the config (in a worker
// thread), logs its diagnostics once, and runs two children — VRRP (vrrp-process.ts) and the checkers with the
// IPVS manager (checker-process.ts) — restarting either when it dies or hangs. VRRP has a process of its own so that
// nothing the checker side does (a 30,000-server reload, a wedged probe, running out of heap) can delay an advert.
//
// It owns what outlives a child or concerns both: signals (HUP reload, TERM/INT stop, USR1/USR2 dumps, relayed),
// the pid file, the control socket, the metrics endpoint, the dump files, the event stream, the kernel's sync
// daemon (lvs_sync_daemon: it follows VRRP transitions and must outlive both children), the checkers' last states
// (so a restarted checker child resumes), and the embedded IPVS tables — the userspace data plane or the dry-run
// table — which, like the kernel's, must survive a checker restart with every forwarded connection.
import { appendFileSync, rmSync } from 'node:fs';
import type { Server } from 'node:http';
import { performance } from 'node:perf_hooks';
import type { ResumedState } from '../../checkers/engine.js';
import { cannotRun, formatDiagnostic, refusedAtReload } from '../config/errors.js';
import { startRefusals } from '../config/start-refusals.js';
import { dropRulesNeeded } from '../vrrp/nft-rules.js';
import { describeReload } from '../vrrp/reload-plan.js';
import { Nft } from '../net/nft.js';
import type { Channel, NoteMap, RequestMap } from '../ipc/channel.js';
import type {
  BfdStateNote, ChildRequests, DumpHead, EventNote, FromBfdNotes, FromChecker, FromCheckerNotes, FromVrrpNotes, IpvsCall, Nothing, OpsApplied, TableDriver,
  TableEntries, TablePage, ToBfd, ToChecker, ToCheckerNotes, ToVrrp, ToVrrpNotes, VrrpConfig, VrrpStates, VrrpTransition,
  ConfigRead,
} from '../ipc/protocol.js';
import type { IpvsTable, IpvsTimeouts } from '../ipvs/types.js';
import { TableHost } from '../ipvs/driver-remote.js';
import type { Logger } from '../log.js';
import { ChildSlot } from './child-slot.js';
import { readConfig } from './config-reader.js';
import { holdFreeMemoryRelease, keepMallocThresholds, releaseFreeMemorySoon } from './free-memory.js';
import { watchYoungGeneration, type YoungGenerationWatch } from './young-generation.js';
import { checkerNodeFlags } from './checker-node-flags.js';
import { runStartStopScript } from './start-stop-scripts.js';
import { ControlServer, CommandError, type ControlRequest } from './control.js';
import { OperatorConsole } from './console.js';
import type { ConsoleSnapshot, VrrpView } from './console-view.js';
import { dumpHeader, writeDumpFile } from './dumps.js';
import { writeFileSafe } from '../fs/safe-write.js';
import { applyConfigUmask } from '../fs/umask.js';
import { MetricsBusy, Registry, renderFamilies, serveMetrics } from './metrics.js';
import { childText, inBatches } from '../ipc/pages.js';
import { itemsOf, jsonPieces, LazyArray, withLazyLists } from './json-stream.js';
import { localPages } from './metrics-pages.js';
import { registerTableMetrics } from './table-metrics.js';
import type { DryRunIpvsDriver } from '../ipvs/driver-dryrun.js';
import type { UserspaceIpvsDriver } from '../ipvs/driver-userspace.js';
import { acquirePidFile } from './pidfile.js';
import { nameProcess } from './process-names.js';
import { registerProcessMetrics } from './process-metrics.js';
import { SyncDaemonOwner } from './sync-daemon-owner.js';
import { ensureIpvsFamily } from '../ipvs/load-module.js';
import type { NetlinkIpvsDriver } from '../ipvs/driver-netlink.js';
import { NotifyFifos } from './notify-fifos.js';
import type { ProcessMonitor } from './process-monitor.js';
import { ipvsNetnsPath, namespacedDefault } from './net-namespace.js';
import { netnsPath, netnsProblem } from '../net/netns-path.js';
import { systemClock } from '../clock.js';
import { formatIp, parseIp } from '../net/addr.js';
import { AnnounceOwner, type AnnounceSettings } from './announce-owner.js';
import { bfdTakeoverProblems, type BfdTakeover } from '../config/bfd-takeover.js';

export type DriverChoice = 'auto' | 'kernel' | 'userspace' | 'dry-run';

export interface DaemonOptions {
  readonly configFile: string;
  readonly configId?: string;
  /** `--strict-compat`: a keyword lvskeeper does not carry out makes the config one that cannot run. */
  readonly strictCompat?: boolean;
  readonly vrrpOnly?: boolean;
  readonly checkOnly?: boolean;
  /** keepalived's -B: no BFD child. */
  readonly noBfd?: boolean;
  readonly pidFile?: string;
  /** keepalived's per-child pid files (-r/-c), written by the supervisor with each child's pid. */
  readonly vrrpPidFile?: string;
  readonly checkersPidFile?: string;
  readonly bfdPidFile?: string;
  readonly controlSocket?: string;
  readonly stateFile?: string;
  readonly ipvsDriver: DriverChoice;
  /** Opt-in Prometheus endpoint. */
  readonly metrics?: { readonly host: string; readonly port: number };
  /** Opt-in operator console (console.ts). */
  readonly http?: { readonly host: string; readonly port: number };
  readonly log: { readonly console: boolean; readonly detail: boolean };
  /** A child that has not answered the heartbeat for this long is killed and respawned (default 15 s). */
  readonly childTimeoutMs?: number;
  /** `-s NAME`: keepalived's --namespace, overriding the config's net_namespace. */
  readonly namespace?: string;
  /** `-u MASK`: the file-creation mask, which a config's `umask` then does not change (core/main.c set_umask). */
  readonly umask?: number;
  /** `--announce-table` and its companions: health-driven VIP routes for BGP ECMP (announce-owner.ts). */
  readonly announce?: AnnounceSettings;
  /** `--bfd-takeover`: BACKUPs that take a BFD session to their master going Down as the master's loss (fsm.ts). */
  readonly bfdTakeover?: BfdTakeover;
  /** The paths left at their defaults, which net_namespace moves to /run/lvskeeper/NAME/ (net-namespace.ts). */
  readonly defaultPaths?: { readonly pid: boolean; readonly control: boolean };
}

type VrrpChannel = Channel<ToVrrp, Nothing, ToVrrpNotes, FromVrrpNotes>;
type CheckerChannel = Channel<ToChecker, FromChecker, ToCheckerNotes, FromCheckerNotes>;
type BfdChannel = Channel<ToBfd, Nothing, Nothing, FromBfdNotes>;
/** What every child answers (ChildRequests), whichever channel it is on. */
type ChildChannel = Pick<Channel<ChildRequests, RequestMap, NoteMap, NoteMap>, 'request'>;

/** A child's reply with each long list in it (PagedArray) read from the child a batch at a time (ipc/pages.ts). */
function lazyListsOf(channel: ChildChannel, reply: object): object {
  return withLazyLists(reply, (cursor) => channel.request('list-page', cursor, QUERY_MS),
    (cursor) => void channel.request('list-close', cursor, QUERY_MS).catch(() => undefined)) as object;
}

/** A child's section of a dump being written: read once its pages are all taken, else closed at the end. */
interface DumpSection {
  readonly role: string;
  readonly channel: ChildChannel;
  readonly head: DumpHead;
  read: boolean;
}

/** A graceful stop is a few packets and netlink calls for VRRP; the checker side may have a table to empty. */
const VRRP_STOP_MS = 1000;
const CHECKER_STOP_MS = 5000;
/** Status, dumps and metrics wait this long for a child; one that does not answer is left out. */
const QUERY_MS = 3000;
/** A reload of the checker side parses and diffs the whole config on its own loop. */
const CHECKER_RELOAD_MS = 300_000;
const DEFAULT_CHILD_TIMEOUT_MS = 15_000;

export class Supervisor {
  private vrrpConfig: VrrpConfig | undefined;
  /** The running config's real servers: a checker process spawned now is sized for them (checker-node-flags.ts). */
  private realServers = 0;
  private vrrp: ChildSlot<ToVrrp, Nothing, ToVrrpNotes, FromVrrpNotes> | undefined;
  private checker: ChildSlot<ToChecker, FromChecker, ToCheckerNotes, FromCheckerNotes> | undefined;
  private bfd: ChildSlot<ToBfd, Nothing, Nothing, FromBfdNotes> | undefined;
  /**
   * Each BFD session's last Up/Down, relayed to the VRRP child (unless the block said `checker` only) and the checker
   * child (unless `vrrp` only), and replayed to a child once it has started (bfd_event.c bfd_event_send).
   */
  private bfdStates = new Map<string, BfdStateNote & { readonly vrrp: boolean; readonly checker: boolean }>();
  /** Which children have answered their start: BFD events go to them from then on. */
  private readonly bfdListeners = { vrrp: false, checker: false };
  private table: DryRunIpvsDriver | UserspaceIpvsDriver | undefined;
  private tableHost: TableHost | undefined;
  private tableDriver: TableDriver | undefined;
  private kernelProbe: Promise<boolean> | undefined;
  private syncd: SyncDaemonOwner | undefined;
  private vrrpStates: VrrpStates = {};
  /** The last dump asked for, settled or not (writeDump): the next starts once it is written. */
  private dumpsWritten: Promise<unknown> = Promise.resolve();
  private readonly waitingDumps = new Map<'data' | 'stats' | 'json', Promise<string>>();
  /** vrrp_track_process counting, here rather than in the VRRP child (process-monitor.ts says why). */
  private processMonitor: ProcessMonitor | undefined;
  /** net_namespace (or -s): where the children run. */
  private netns: string | undefined;
  /** Where the IPVS sockets are made: net_namespace_ipvs, else net_namespace (ipvsNetnsPath). */
  private ipvsNetns: string | undefined;
  private paths: { pid?: string | undefined; vrrpPid?: string | undefined; checkersPid?: string | undefined; control?: string | undefined };
  private readonly checkerStates = new Map<string, ResumedState>();
  private readonly subscribers = new Set<(e: object) => void>();
  private readonly releasePids: (() => void)[] = [];
  private readonly childPidFiles = new Set<string>();
  private control: ControlServer | undefined;
  private announcer: AnnounceOwner | undefined;
  private metricsServer: Server | undefined;
  private operatorConsole: OperatorConsole | undefined;
  /** Each VRRP instance's last transition, for the console. */
  private readonly vrrpTransitions = new Map<string, VrrpTransition & { readonly at: number }>();
  private readonly registry = new Registry();
  private readonly restarts = this.registry.counter('lvskeeper_process_restarts_total', 'Child processes respawned after dying or hanging, by process');
  private stopping: Promise<void> | undefined;
  /** The look at V8's young generation (young-generation.ts), held while a reload runs. */
  private youngGeneration: YoungGenerationWatch | undefined;
  private readonly startedAt = Date.now();
  private fifos: NotifyFifos | undefined;
  private readonly consoleRender = this.registry.histogram(
    'lvskeeper_console_render_seconds', "Longest stretch each refresh of the operator console held the supervisor's loop", [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25],
  );
  private readonly fifoLines = this.registry.counter('lvskeeper_notify_fifo_lines_total', 'Lines for the notify FIFOs by FIFO: written, or dropped (FIFO full, reader gone, or not open)');

  constructor(
    private readonly opts: DaemonOptions,
    private readonly log: Logger,
  ) {
    registerProcessMetrics(this.registry, 'supervisor');
    this.paths = { pid: opts.pidFile, vrrpPid: opts.vrrpPidFile, checkersPid: opts.checkersPidFile, control: opts.controlSocket };
  }

  /**
   * Reads the config and logs its diagnostics. At start a config whose errors the parser corrected runs, as
   * keepalived does; a reload with errors (not mere warnings or script-security notes) keeps the running config:
   * keepalived's `reload_check_config`, always on here, whose LOGFILE also gets the messages appended.
   */
  private async read(reloading: boolean, checkerRead?: Promise<ConfigRead>): Promise<ConfigRead | undefined> {
    let read: ConfigRead;
    try {
      // The checker process's read, when it has one (a child that died meanwhile has none): the same file, the same
      // options, the same function (config-file-read.ts).
      read = (checkerRead && (await checkerRead.catch(() => undefined))) || (await readConfig({
        file: this.opts.configFile,
        ...(this.opts.configId !== undefined ? { configId: this.opts.configId } : {}),
        strictCompat: this.opts.strictCompat ?? false,
      }));
    } catch (err) {
      this.log.error(`${this.opts.configFile}: ${(err as Error).message}`);
      return undefined;
    }
    for (const d of read.diagnostics) {
      const level = d.severity === 'info' ? 'info' : d.severity === 'warning' || d.severity === 'security' || d.severity === 'unimplemented' ? 'warn' : 'error';
      this.log[level](formatDiagnostic(d));
    }
    const checkLog = this.vrrpConfig?.global.reloadCheckConfig;
    if (reloading && typeof checkLog === 'string' && read.diagnostics.length > 0) {
      try {
        appendFileSync(checkLog, read.diagnostics.map((d) => formatDiagnostic(d) + '\n').join(''));
      } catch (err) {
        this.log.warn(`cannot write reload_check_config log ${checkLog}: ${(err as Error).message}`);
      }
    }
    if (reloading ? refusedAtReload(read.code) : cannotRun(read.code)) return undefined;
    const refused = this.refusals(read);
    for (const line of refused) this.log.error(line);
    return refused.length > 0 ? undefined : read;
  }

  /** Why a config that parsed cannot run here, one line each (none: it can). */
  private refusals(read: ConfigRead): string[] {
    // keepalived's VRRP process exits with KEEPALIVED_EXIT_CONFIG on such a config and its parent then stops every
    // process (lib/scheduler.c report_child_status), checkers included; lvskeeper knows it before starting any.
    if (read.vrrp.vrrpStop !== undefined && !this.opts.checkOnly) return [`VRRP exited with permanent error CONFIG (${read.vrrp.vrrpStop}). Terminating`];
    const refused = startRefusals(read.vrrp.vrrpInstances);
    if (this.opts.bfdTakeover && !this.opts.checkOnly) refused.push(...bfdTakeoverProblems(this.opts.bfdTakeover, read.vrrp));
    // vrrp_strict / no_accept: the drop rules are installed with nft (net/nft.ts).
    const needNft = dropRulesNeeded(read.vrrp.vrrpInstances);
    if (!this.opts.checkOnly && needNft.length > 0 && !Nft.find()) {
      refused.push(`(${needNft[0]!.name}) no_accept/strict: its nftables drop rules need nft, which is not on PATH (Debian package nftables)`);
    }
    return refused;
  }

  /**
   * `lvskeeper plan -f FILE`: what reload() would do with FILE, from the same read and refusals, VRRP's planReload
   * and the checker process's own plan (checker-process.ts); nothing is applied and nothing logged.
   */
  private async plan(req: ControlRequest): Promise<object> {
    const file = String(req['file'] ?? '');
    const read = await readConfig({ file, ...(this.opts.configId !== undefined ? { configId: this.opts.configId } : {}), strictCompat: this.opts.strictCompat ?? false });
    const refused = refusedAtReload(read.code) ? [] : this.refusals(read);
    if (refusedAtReload(read.code) || refused.length > 0) {
      return { refused: { code: read.code, lines: [...read.diagnostics.map((d) => formatDiagnostic(d)), ...refused] } };
    }
    const vrrp = this.opts.checkOnly ? [] : describeReload(this.vrrpConfig?.vrrpInstances ?? [], read.vrrp.vrrpInstances, this.vrrpStates);
    const lvs = this.checker ? await this.checkerCommand({ cmd: 'plan', file }) : { starts: this.wantsCheckers(read) };
    return { vrrp, ...lvs };
  }

  /** net_namespace's path: the scripts the supervisor runs start there, as keepalived's run from inside it. */
  private get scriptNetns(): string | undefined {
    return this.netns === undefined ? undefined : netnsPath(this.netns);
  }

  private wantsVrrp(read: ConfigRead): boolean {
    return !this.opts.checkOnly && read.vrrp.vrrpInstances.length > 0;
  }

  /** keepalived starts its BFD child when the config has a bfd_instance (core/main.c start_bfd_child). */
  private wantsBfd(read: ConfigRead): boolean {
    return !this.opts.noBfd && read.vrrp.bfdInstances.length > 0;
  }

  private wantsCheckers(read: ConfigRead): boolean {
    return !this.opts.vrrpOnly && read.virtualServers > 0;
  }

  /** Returns a process exit code when start-up is impossible. */
  async start(): Promise<number | undefined> {
    this.log.info(`Starting lvskeeper, config ${this.opts.configFile}`);
    keepMallocThresholds();
    const read = await this.read(false);
    if (!read) {
      this.log.error('configuration cannot run; exiting');
      return 2;
    }
    this.vrrpConfig = read.vrrp;
    this.realServers = read.realServers;
    applyConfigUmask(read.vrrp.global.umask, this.log);
    nameProcess(read.vrrp.global.processNames, 'parent');
    const configured = read.vrrp.global.other['net_namespace'];
    if (this.opts.namespace !== undefined && configured) {
      this.log.info(`Overriding config net_namespace '${configured}' with command line namespace '${this.opts.namespace}'`);
    }
    this.netns = this.opts.namespace ?? (configured || undefined);
    if (this.netns !== undefined) {
      const problem = netnsProblem(this.netns);
      if (problem !== undefined) {
        this.log.info(problem);
        this.log.error(`Unable to set network namespace ${this.netns} - exiting`);
        return 1;
      }
      // keepalived's use_pid_dir: with a namespace every pid file lives in the namespace's directory.
      this.paths = {
        pid: this.opts.defaultPaths?.pid ? namespacedDefault(this.opts.pidFile ?? 'lvskeeper.pid', this.netns) : this.opts.pidFile,
        vrrpPid: this.opts.vrrpPidFile ?? namespacedDefault('vrrp.pid', this.netns),
        checkersPid: this.opts.checkersPidFile ?? namespacedDefault('checkers.pid', this.netns),
        control: this.opts.defaultPaths?.control ? namespacedDefault(this.opts.controlSocket ?? 'control.sock', this.netns) : this.opts.controlSocket,
      };
    }
    const ipvsName = read.vrrp.global.other['net_namespace_ipvs'];
    this.ipvsNetns = ipvsNetnsPath(ipvsName, this.netns);
    // keepalived's ipvs_start (check/ipvswrapper.c) cannot open its socket there (core/namespaces.c set_netns_name),
    // before nor after its modprobe: the child exits KEEPALIVED_EXIT_FATAL and the parent terminates, status 1.
    const needsIpvs = this.wantsCheckers(read) || read.vrrp.global.lvsSyncDaemon !== undefined;
    if (ipvsName && needsIpvs && this.opts.ipvsDriver !== 'dry-run' && this.opts.ipvsDriver !== 'userspace' && netnsProblem(ipvsName) !== undefined) {
      for (let attempt = 0; attempt < 2; attempt++) this.log.info('Failed to open namespace fds, errno 2 (No such file or directory)');
      this.log.error("IPVS: Can't initialize ipvs: No such file or directory");
      return 1;
    }
    if (this.paths.pid) this.releasePids.push(acquirePidFile(this.paths.pid));
    // keepalived refuses to start while another daemon's children hold -r/-c; the children's pids replace ours.
    if (this.wantsVrrp(read) && this.paths.vrrpPid) this.claimChildPidFile(this.paths.vrrpPid);
    if (this.wantsCheckers(read) && this.paths.checkersPid) this.claimChildPidFile(this.paths.checkersPid);
    if (this.wantsBfd(read) && this.opts.bfdPidFile) this.claimChildPidFile(this.opts.bfdPidFile);
    await runStartStopScript('startup', read.vrrp.global, this.log, this.scriptNetns);
    await this.startSyncDaemon(read);
    await this.openFifos(read);
    await this.startAnnouncer();
    if (this.opts.bfdTakeover && this.opts.noBfd) this.log.warn('--bfd-takeover with -B: no BFD session runs here, so none takes over early');
    const starting: Promise<void>[] = [];
    if (this.wantsVrrp(read)) starting.push(this.startVrrp());
    if (this.wantsCheckers(read)) starting.push(this.startCheckers());
    if (this.wantsBfd(read)) starting.push(this.startBfd());
    await Promise.all(starting);
    if (this.opts.metrics) {
      const { host, port } = this.opts.metrics;
      this.metricsServer = await serveMetrics(() => this.renderMetrics(), host, port);
      this.log.info(`Metrics on http://${host.includes(':') ? `[${host}]` : host}:${port}/metrics`);
    }
    if (this.opts.http) await this.serveConsole(this.opts.http);
    if (this.paths.control) {
      this.control = new ControlServer(this.paths.control, { commands: this.commands(), subscribe: (send) => this.subscribe(send) }, this.log);
      await this.control.listen();
    }
    releaseFreeMemorySoon();
    this.youngGeneration = watchYoungGeneration();
    return undefined;
  }

  private async serveConsole({ host, port }: { readonly host: string; readonly port: number }): Promise<void> {
    const view = new OperatorConsole({
      snapshot: async (since) => {
        const channel = this.checker?.channel;
        return channel ? (lazyListsOf(channel, await channel.request('console', { since }, QUERY_MS)) as ConsoleSnapshot) : undefined;
      },
      // The priority at the last transition, else the configured one.
      vrrp: () => Object.entries(this.vrrpStates).map(([name, state]): VrrpView => {
        const t = this.vrrpTransitions.get(name);
        const configured = this.vrrpConfig?.vrrpInstances.find((i) => i.name === name)?.priority;
        return {
          name, state, ...(configured !== undefined ? { priority: configured } : {}),
          ...(t ? { priority: t.priority, since: t.at, from: t.from, ...(t.cause ? { cause: t.cause } : {}), ...(t.master ? { master: t.master } : {}) } : {}),
        };
      }),
      announce: () => this.announcer?.status(),
      title: () => `lvskeeper ${this.vrrpConfig?.global.routerId ?? ''}`.trim(),
      rendered: (seconds) => this.consoleRender.observe({}, seconds),
    }, this.log);
    await view.listen(host, port);
    this.operatorConsole = view;
    this.log.info(`Operator console on http://${host.includes(':') ? `[${host}]` : host}:${port}/`);
  }

  // ───────────── children ─────────────

  /**
   * The announcement table is opened in the checkers' namespace (net_namespace), where the routing engine runs with
   * the VIPs; its stale routes go before any child starts.
   */
  private async startAnnouncer(): Promise<void> {
    const settings = this.opts.announce;
    if (!settings) return;
    if (this.opts.vrrpOnly) this.log.warn('--announce-table with -P: no virtual server runs here, so no VIP is announced');
    const { AnnounceTable } = await import('../announce/route-table.js');
    const { inNetns } = await import('../net/in-netns.js');
    const table = inNetns(this.netns === undefined ? undefined : netnsPath(this.netns), () => AnnounceTable.open(settings));
    this.announcer = new AnnounceOwner(settings, table, this.log, (kind, text) => this.publish(kind, text), this.registry);
    await this.announcer.start();
  }

  /** Before the children start (or apply a reload), so their first lines find the FIFOs open. */
  private async openFifos(read: ConfigRead): Promise<void> {
    this.fifos = await NotifyFifos.open(read.vrrp.global, { vrrp: this.wantsVrrp(read), lvs: this.wantsCheckers(read) }, this.log, this.fifoLines, this.scriptNetns);
  }

  /** (Re)counts the tracked processes of the VRRP part; keepalived re-reads /proc at a reload too. */
  private async monitorProcesses(config: VrrpConfig): Promise<void> {
    // Imported only for a config that tracks processes: its proc connector socket brings the `netlink` package. Before
    // the old monitor stops, so nothing can come between its stop and the new one's taking its place.
    const monitoring = config.trackProcesses.length === 0 ? undefined : await import('./process-monitor.js');
    this.processMonitor?.stop();
    this.processMonitor = undefined;
    if (monitoring === undefined) return;
    const monitor = new monitoring.ProcessMonitor(config.trackProcesses, systemClock, this.log, (name, up) => {
      this.vrrp?.channel?.notify('process-quorum', { name, up });
    });
    this.processMonitor = monitor;
    await monitor.start();
  }

  private async startVrrp(): Promise<void> {
    await this.monitorProcesses(this.vrrpConfig!);
    this.vrrp = new ChildSlot<ToVrrp, Nothing, ToVrrpNotes, FromVrrpNotes>({
      label: 'VRRP',
      entry: new URL('./vrrp-process.js', import.meta.url),
      ...(this.netns !== undefined ? { netns: this.netns } : {}),
      hangTimeoutMs: this.opts.childTimeoutMs ?? DEFAULT_CHILD_TIMEOUT_MS,
      begin: async (channel: VrrpChannel, respawn) => {
        if (respawn) this.restarts.inc({ process: 'vrrp' });
        this.bfdListeners.vrrp = false;
        channel.onNote('transition', (t) => {
          this.vrrpTransitions.set(t.instance, { ...t, at: Date.now() });
          this.setVrrpStates({ ...this.vrrpStates, [t.instance]: t.to });
        });
        channel.onNote('event', (e) => this.publish(e.kind, e.text, e.fields));
        channel.onNote('fifo', (lines) => this.fifos?.write('vrrp', lines));
        // A respawned child starts as keepalived's does after a restart: VIPs removed, BACKUP (or FAULT) first.
        // A child given longer than a minute to answer its heartbeat (--child-timeout) gets as long to start.
        const quorums = this.processMonitor?.tracker.quorums ?? {};
        const start = { config: this.vrrpConfig!, log: this.opts.log, quorums, ...(this.opts.bfdTakeover ? { bfdTakeover: this.opts.bfdTakeover } : {}) };
        const states = await channel.request('start', start, Math.max(60_000, this.opts.childTimeoutMs ?? 0));
        this.setVrrpStates(states);
        this.bfdListening('vrrp', channel);
        this.childPidFile(this.paths.vrrpPid, this.vrrp?.pid);
      },
    }, this.log);
    await this.vrrp.spawn();
  }

  private async startCheckers(): Promise<void> {
    this.tableDriver ??= await this.chooseTable();
    this.checker = new ChildSlot<ToChecker, FromChecker, ToCheckerNotes, FromCheckerNotes>({
      label: 'Healthcheck',
      entry: new URL('./checker-process.js', import.meta.url),
      ...(this.netns !== undefined ? { netns: this.netns } : {}),
      nodeFlags: () => checkerNodeFlags(this.realServers),
      hangTimeoutMs: this.opts.childTimeoutMs ?? DEFAULT_CHILD_TIMEOUT_MS,
      // Health is unknown until a respawned child reports: a dead checker's VIPs are withdrawn meanwhile.
      exited: () => void this.announcer?.setHealth(undefined),
      begin: async (channel: CheckerChannel, respawn) => {
        if (respawn) this.restarts.inc({ process: 'checker' });
        channel.onNote('events', (events) => this.publishAll(events));
        channel.onNote('fifo', (lines) => this.fifos?.write('lvs', lines));
        channel.onNote('checker-states', (states) => {
          for (const { key, state } of states) {
            if (state) this.checkerStates.set(key, state);
            else this.checkerStates.delete(key);
          }
        });
        channel.handle('ipvs', (c) => this.tableCall(c));
        channel.onNote('vs-health', (health) => void this.announcer?.setHealth(health));
        this.bfdListeners.checker = false;
        await channel.request('start', {
          configFile: this.opts.configFile,
          ...(this.opts.configId !== undefined ? { configId: this.opts.configId } : {}),
          strictCompat: this.opts.strictCompat ?? false,
          ...(this.opts.stateFile !== undefined ? { stateFile: this.opts.stateFile } : {}),
          driver: this.tableDriver!,
          ...(this.ipvsNetns !== undefined ? { ipvsNetns: this.ipvsNetns } : {}),
          log: this.opts.log,
          restore: [...this.checkerStates],
          ...(this.opts.announce ? { announce: this.opts.announce.only ? { only: this.opts.announce.only } : {} } : {}),
        }, CHECKER_RELOAD_MS);
        this.childPidFile(this.paths.checkersPid, this.checker?.pid);
        this.bfdListening('checker', channel);
      },
    }, this.log);
    await this.checker.spawn();
  }

  private async startBfd(): Promise<void> {
    this.bfd = new ChildSlot<ToBfd, Nothing, Nothing, FromBfdNotes>({
      label: 'BFD',
      entry: new URL('./bfd-process.js', import.meta.url),
      ...(this.netns !== undefined ? { netns: this.netns } : {}),
      hangTimeoutMs: this.opts.childTimeoutMs ?? DEFAULT_CHILD_TIMEOUT_MS,
      begin: async (channel: BfdChannel, respawn) => {
        if (respawn) this.restarts.inc({ process: 'bfd' });
        channel.onNote('event', (e) => this.publish(e.kind, e.text));
        // bfd_event.c bfd_event_send: to the VRRP process unless the block said `checker` only, to the checker
        // process unless it said `vrrp` only.
        channel.onNote('bfd', (s) => {
          this.bfdStates.set(s.name, s);
          const note = { name: s.name, up: s.up, sentAt: s.sentAt };
          if (s.vrrp && this.bfdListeners.vrrp) this.vrrp?.channel?.notify('bfd', note);
          if (s.checker && this.bfdListeners.checker) this.checker?.channel?.notify('bfd', note);
        });
        await channel.request('start', { config: this.vrrpConfig!, log: this.opts.log }, 60_000);
        this.childPidFile(this.opts.bfdPidFile, this.bfd?.pid);
      },
    }, this.log);
    await this.bfd.spawn();
  }

  /**
   * A child has started: keepalived's VRRP and checker processes start with every tracked BFD Down (alpha aside) and
   * read the BFD child's events from their pipe once running (vrrp_scheduler.c vrrp_bfd_thread, check_bfd.c
   * bfd_check_thread), so the states known so far reach the new child as events, each with its log line.
   */
  private bfdListening(child: 'vrrp' | 'checker', channel: VrrpChannel | CheckerChannel): void {
    this.bfdListeners[child] = true;
    for (const s of this.bfdStates.values()) if (s[child]) (channel as VrrpChannel).notify('bfd', { name: s.name, up: s.up, sentAt: s.sentAt });
  }

  /** lvs_sync_daemon: on its own it starts now; following an instance, with that instance's first state. */
  private async startSyncDaemon(read: ConfigRead): Promise<SyncDaemonOwner | undefined> {
    // keepalived's VRRP process runs one that follows an instance, its checker process one on its own.
    const follows = read.vrrp.global.lvsSyncDaemon?.instance !== undefined;
    if (follows ? this.opts.checkOnly : this.opts.vrrpOnly) return undefined;
    this.syncd = SyncDaemonOwner.for(read.vrrp, this.log, () => this.openSyncDriver());
    await this.syncd?.start();
    return this.syncd;
  }

  private async openSyncDriver(): Promise<NetlinkIpvsDriver | undefined> {
    const choice = this.opts.ipvsDriver;
    if (choice === 'dry-run' || choice === 'userspace' || !(await this.kernelIpvs())) {
      this.log.error(`lvs_sync_daemon: no kernel IPVS${choice === 'auto' || choice === 'kernel' ? '' : ` with --ipvs-driver ${choice}`}: connections are not synchronised with the other director`);
      return undefined;
    }
    return (await import('../ipvs/driver-netlink.js')).NetlinkIpvsDriver.open({}, this.ipvsNetns);
  }

  /** Whether the IPVS netlink family exists, after `modprobe ip_vs` if it did not (keepalived's ipvs_start); asked once. */
  private kernelIpvs(): Promise<boolean> {
    this.kernelProbe ??= (async () => {
      const { probeIpvsFamily } = await import('../ipvs/driver-netlink.js');
      return ensureIpvsFamily(() => probeIpvsFamily(this.ipvsNetns), (why) => this.log.error(`IPVS: Can't initialize ipvs: ${why}`));
    })();
    return this.kernelProbe;
  }

  private claimChildPidFile(path: string): void {
    acquirePidFile(path);
    this.childPidFiles.add(path);
  }

  /** `-r`/`-c`: each child's pid, rewritten when it is respawned and removed at stop. */
  private childPidFile(path: string | undefined, pid: number | undefined): void {
    if (!path || pid === undefined) return;
    try {
      writeFileSafe(path, `${pid}\n`, { mode: 0o644 });
    } catch (err) {
      this.log.error(`cannot write pid file ${path}: ${(err as Error).message}`);
    }
  }

  /**
   * The kernel's table when the IPVS generic-netlink family exists (auto) or is asked for; otherwise an embedded
   * one, held here so that it outlives the checker process.
   */
  private async chooseTable(): Promise<TableDriver> {
    const choice = this.opts.ipvsDriver;
    // Asked for by name, the kernel driver stays even without ip_vs: its requests then fail, each logged.
    if (choice === 'kernel' || (choice === 'auto' && (await this.kernelIpvs()))) return 'kernel';
    if (choice === 'dry-run') {
      this.hostTable(new (await import('../ipvs/driver-dryrun.js')).DryRunIpvsDriver(this.log));
      return 'dry-run';
    }
    if (choice === 'auto') this.log.error('kernel IPVS not available: using the userspace data plane; DR and TUN real servers are forwarded as NAT from this host');
    this.hostTable(new (await import('../ipvs/driver-userspace.js')).UserspaceIpvsDriver(this.log));
    return 'userspace';
  }

  /** The embedded table: the checker process drives it through the host, and its families are this process's. */
  private hostTable(table: DryRunIpvsDriver | UserspaceIpvsDriver): void {
    this.table = table;
    this.tableHost = new TableHost(table);
    registerTableMetrics(this.registry, { size: () => table.size(), counted: () => (table.name === 'userspace' ? table.serviceEntries() : []) });
  }

  /** The checker process drives the embedded table through these. */
  private async tableCall(c: IpvsCall): Promise<TablePage | IpvsTimeouts | TableEntries | OpsApplied> {
    if (!this.tableHost) throw new Error('no embedded IPVS table');
    return this.tableHost.call(c);
  }

  private setVrrpStates(states: VrrpStates): void {
    this.vrrpStates = states;
    this.syncd?.vrrpStates(states);
  }

  // ───────────── events, status, dumps, metrics ─────────────

  private subscribe(send: (e: object) => void): () => void {
    this.subscribers.add(send);
    return () => this.subscribers.delete(send);
  }

  private publish(kind: string, text: string, fields: EventNote['fields'] = {}, time?: string): void {
    if (this.subscribers.size > 0) {
      const event = { time: time ?? new Date().toISOString(), kind, text, ...fields };
      for (const s of this.subscribers) s(event);
    }
    this.operatorConsole?.nudge();
  }

  /**
   * A child's batch of events, stamped once: a reload that removes 1,000 real servers sends 3,000 in one note, and
   * building each event (its own clock read and ISO string) for no subscriber held this loop 2.6-5.8 ms of that turn.
   */
  private publishAll(events: readonly EventNote[]): void {
    if (this.subscribers.size === 0) {
      this.operatorConsole?.nudge();
      return;
    }
    const time = new Date().toISOString();
    for (const e of events) this.publish(e.kind, e.text, e.fields, time);
  }

  /**
   * Every process's status, for `status` and `json-dump`. A child that does not answer is left out. The checker
   * process's virtual servers stay with it, as a LazyArray read a batch at a time while the reply is written
   * (json-stream.ts); a status asked for while too many are being read is refused, not answered without them.
   */
  async status(): Promise<object> {
    const ask = async (channel: ChildChannel | undefined): Promise<object> => {
      if (!channel) return {};
      try {
        return lazyListsOf(channel, await channel.request('status', undefined, QUERY_MS));
      } catch (err) {
        if ((err as { code?: string }).code === 'EBUSY') throw new CommandError(`${(err as Error).message}; try again`);
        return {};
      }
    };
    const [v, c, b] = await Promise.all([this.vrrp?.channel, this.checker?.channel, this.bfd?.channel].map(ask));
    const now = Date.now();
    const proc = (role: string, pid: number | undefined, since: number, restarts: number): object => ({
      role, pid: pid ?? null, uptimeS: Math.round((now - since) / 1000), restarts,
    });
    return {
      processes: [
        proc('supervisor', process.pid, this.startedAt, 0),
        ...(this.vrrp ? [proc('vrrp', this.vrrp.pid, this.vrrp.startedAt, this.vrrp.restarts)] : []),
        ...(this.checker ? [proc('checker', this.checker.pid, this.checker.startedAt, this.checker.restarts)] : []),
        ...(this.bfd ? [proc('bfd', this.bfd.pid, this.bfd.startedAt, this.bfd.restarts)] : []),
      ],
      vrrp: (v as { vrrp?: unknown }).vrrp ?? [],
      ...c,
      ...(this.announcer ? { announce: this.announcer.status() } : {}),
      ...b,
    };
  }

  /**
   * SIGUSR1 (data), SIGUSR2 (stats), control `json-dump` (JSON status): written to /tmp as keepalived does; the BFD
   * child's data dump to a file of its own, as keepalived's BFD child writes keepalived_bfd.data. One dump is written
   * at a time; one asked for while another of its kind waits to start is that one.
   */
  writeDump(kind: 'data' | 'stats' | 'json'): Promise<string> {
    const waiting = this.waitingDumps.get(kind);
    if (waiting) return waiting;
    const run = this.dumpsWritten.then(() => {
      this.waitingDumps.delete(kind);
      return this.writeDumpNow(kind);
    });
    this.waitingDumps.set(kind, run);
    this.dumpsWritten = run.catch(() => undefined);
    return run;
  }

  private async writeDumpNow(kind: 'data' | 'stats' | 'json'): Promise<string> {
    const now = new Date();
    if (kind === 'json') {
      const status = { time: now.toISOString(), ...(await this.status()) };
      return this.dumpWritten(kind, await writeDumpFile(kind, (async function* () {
        yield* jsonPieces(status, 2);
        yield '\n';
      })()));
    }
    const header = dumpHeader(kind, this.vrrpConfig?.global, now);
    // Every child takes its snapshot at once, as one moment's state; the sections are then read in order.
    const [v, c, b] = await Promise.all(([['VRRP', this.vrrp], ['checker', this.checker], ['BFD', this.bfd]] as const).map(async ([role, slot]) => {
      const channel: ChildChannel | undefined = slot?.channel;
      const head = channel && (await channel.request('dump', kind, QUERY_MS).catch(() => undefined));
      return channel && head ? { role, channel, head, read: head.done } : undefined;
    }));
    try {
      const file = await writeDumpFile(kind, this.dumpParts(header, [v, c]));
      this.dumpWritten(kind, file);
      if (b && (b.head.text !== '' || !b.head.done)) this.dumpWritten('bfd', await writeDumpFile('bfd', this.dumpParts(header, [b])));
      return file;
    } finally {
      for (const s of [v, c, b]) if (s && !s.read) s.channel.request('dump-close', s.head.cursor, QUERY_MS).catch(() => undefined);
    }
  }

  /**
   * The header, then each child's section a page at a time. A child that stops answering midway leaves its section
   * cut short, marked so in the file and in the log.
   */
  private async *dumpParts(header: string, sections: readonly (DumpSection | undefined)[]): AsyncGenerator<string> {
    yield header;
    for (const s of sections) {
      if (!s) continue;
      yield s.head.text;
      if (s.read) continue;
      try {
        yield* childText(s.head.cursor, (cursor) => s.channel.request('dump-page', cursor, QUERY_MS));
        s.read = true;
      } catch (err) {
        this.log.warn(`the ${s.role} process's dump section is cut short: ${(err as Error).message}`);
        yield `------< ${s.role} section cut short: ${(err as Error).message} >------\n`;
      }
    }
  }

  private dumpWritten(kind: 'data' | 'stats' | 'json' | 'bfd', file: string): string {
    this.log.info(kind === 'bfd' ? `Wrote BFD data dump to ${file}` : `Wrote ${kind} dump to ${file}`);
    return file;
  }

  /**
   * /metrics, a page at a time (metrics-pages.ts): every process's shared families merged, the supervisor's own, then
   * each child's own. A child that does not answer is left out, as its status is; one that stops answering midway
   * cuts the response short; one with too many scrapes under way fails this one (503) rather than leave its part out.
   */
  private async *renderMetrics(): AsyncGenerator<string> {
    const channels: ChildChannel[] = [this.vrrp?.channel, this.checker?.channel, this.bfd?.channel].filter((c) => c !== undefined);
    const answers = await Promise.all(channels.map((ch) =>
      ch.request('metrics', undefined, QUERY_MS).then((head) => ({ ch, head }), (err: Error & { code?: string }) => ({ ch, err }))));
    const unread = new Set(answers.flatMap((a) => ('head' in a ? [a] : [])));
    try {
      const busy = answers.find((a) => 'err' in a && a.err.code === 'EBUSY');
      if (busy && 'err' in busy) throw new MetricsBusy(busy.err.message);
      yield renderFamilies([...this.registry.sharedFamilies(), ...[...unread].flatMap((h) => h.head.shared)]);
      yield* localPages(this.registry);
      for (const h of [...unread]) {
        yield* childText(h.head.cursor, (cursor) => h.ch.request('metrics-page', cursor, QUERY_MS));
        unread.delete(h);
      }
    } finally {
      for (const { ch, head } of unread) ch.request('metrics-close', head.cursor, QUERY_MS).catch(() => undefined);
    }
  }

  // ───────────── control socket ─────────────

  /**
   * Commands the checker side owns go there; a refusal's message reaches the client as the child worded it. Long
   * lists in the reply stay with the child, read a batch at a time as the reply is written.
   */
  private async checkerCommand(req: ControlRequest): Promise<object> {
    const channel = this.checker?.channel;
    if (!this.checker) throw new CommandError('this lvskeeper manages no virtual servers');
    if (!channel) throw new CommandError('the checker process is restarting; try again');
    try {
      return lazyListsOf(channel, await channel.request('command', req, CHECKER_RELOAD_MS));
    } catch (err) {
      throw new CommandError((err as Error).message);
    }
  }

  private commands(): Record<string, (req: ControlRequest) => Promise<object> | object> {
    return {
      status: () => this.status(),
      'json-dump': async () => ({ file: await this.writeDump('json') }),
      'ipvs-table': (req) => this.ipvsTable(req),
      drain: (req) => this.checkerCommand(req),
      connections: (req) => this.checkerCommand(req),
      undrain: (req) => this.checkerCommand(req),
      weight: (req) => this.checkerCommand(req),
      plan: (req) => this.plan(req),
      // {query: true}: the state and the connections only, as drain-director polls them while it waits.
      'drain-director': (req) => this.drainDirector(req['query'] === true ? undefined : true),
      'undrain-director': () => this.drainDirector(false),
    };
  }

  /**
   * `drain-director`: every VIP withdrawn (the routers move new flows to the other directors) while this one keeps
   * forwarding what it has; the reply counts the connections still active on the VIPs, which the CLI polls to idle.
   */
  private async drainDirector(drained: boolean | undefined): Promise<object> {
    if (!this.announcer) throw new CommandError('this lvskeeper announces no VIPs (no --announce-table)');
    const status = drained === undefined ? this.announcer.status() : await this.announcer.setDrained(drained);
    return { ...status, activeConns: await this.activeConns(status.vips.map((p) => p.vip)) };
  }

  /**
   * The IPVS table: the embedded one from here, read in place a batch of services a turn; the kernel's from the
   * checker process, which dumps it over netlink.
   */
  private async ipvsTable(req: ControlRequest): Promise<{ table: { services: LazyArray | IpvsTable['services'] } }> {
    const table = this.table;
    if (table) return { table: { services: new LazyArray(() => inBatches(table.serviceEntries(), (e) => 1 + e.dests.length)) } };
    if (this.checker) return (await this.checkerCommand(req)) as { table: { services: LazyArray } };
    return { table: { services: [] } };
  }

  /** ActiveConn summed over the services on these VIPs, from the table the checker process drives. */
  private async activeConns(vips: readonly string[]): Promise<number | null> {
    if (!this.checker?.channel) return null;
    const reply = await this.ipvsTable({ cmd: 'ipvs-table' });
    const on = new Set(vips);
    let n = 0;
    for await (const e of itemsOf(reply.table.services)) {
      const a = e.service.key.address;
      if (a === undefined || !on.has(formatIp(parseIp(a)))) continue;
      for (const d of e.dests) n += d.activeConns ?? 0;
    }
    return n;
  }

  // ───────────── reload and stop ─────────────

  /** SIGHUP: the supervisor reads the file; each child applies its part as a diff. A broken config changes nothing. */
  async reload(): Promise<void> {
    holdFreeMemoryRelease();
    const youngGeneration = this.youngGeneration;
    youngGeneration?.hold();
    try {
      await this.reloadFile();
    } finally {
      releaseFreeMemorySoon();
      youngGeneration?.resume();
    }
  }

  private async reloadFile(): Promise<void> {
    const t0 = performance.now();
    this.log.info('Reloading');
    this.publish('daemon', 'Reloading');
    // The checker process reads the file (check_daemon.c reload_check_thread), and its read is this one too: its
    // parser is warm, where a fresh worker's start-up and cold JIT cost twice the parse. It applies the read only
    // once this side has judged it. A failed read (a child that died meanwhile) leaves the reload to the worker's
    // read; the child takes the requests in order, so the reload or the drop need not wait for it.
    const reader = this.checker;
    const readAhead = reader?.channel ? reader.excuse(() => reader.channel!.request('read', undefined, CHECKER_RELOAD_MS)) : undefined;
    const read = await this.read(true, readAhead);
    if (!read) {
      reader?.channel?.request('drop', undefined, QUERY_MS).catch(() => undefined);
      this.log.error('Reload failed: new configuration has errors; keeping the running one');
      return;
    }
    this.vrrpConfig = read.vrrp;
    this.realServers = read.realServers;
    const umask = applyConfigUmask(read.vrrp.global.umask, this.log);
    nameProcess(read.vrrp.global.processNames, 'parent');
    if (this.syncd && !this.syncd.reload(read.vrrp)) {
      await this.syncd.stop();
      this.syncd = undefined;
    }
    if (!this.syncd) (await this.startSyncDaemon(read))?.vrrpStates(this.vrrpStates);
    // vrrp_daemon.c reload_vrrp_thread / check_daemon.c reload_check_thread: the FIFO scripts are killed and the
    // FIFOs closed ("we don't know if it will be the same after a reload"), then opened afresh from the new config.
    this.fifos?.terminateScripts();
    await this.fifos?.close(false);
    await this.openFifos(read);
    const jobs: Promise<unknown>[] = [];
    const vrrp = this.vrrp?.channel;
    if (vrrp) {
      await this.monitorProcesses(read.vrrp);
      const quorums = this.processMonitor?.tracker.quorums ?? {};
      jobs.push(vrrp.request('reload', { config: read.vrrp, quorums, umask }, 60_000).then((states) => this.setVrrpStates(states)));
    }
    // The first vrrp_instance or virtual_server may arrive with a reload: that side starts then, as at boot.
    else if (!this.vrrp && this.wantsVrrp(read)) jobs.push(this.startVrrp());
    const bfd = this.bfd?.channel;
    if (bfd && this.wantsBfd(read)) jobs.push(bfd.request('reload', { config: read.vrrp }, 60_000));
    else if (bfd) jobs.push(this.stopBfd());
    else if (!this.bfd && this.wantsBfd(read)) jobs.push(this.startBfd());
    const checker = this.checker?.channel;
    if (checker) jobs.push(this.checker!.excuse(() => checker.request('reload', { umask }, CHECKER_RELOAD_MS)));
    else if (!this.checker && this.wantsCheckers(read)) jobs.push(this.startCheckers());
    for (const r of await Promise.allSettled(jobs)) {
      if (r.status === 'rejected') this.log.error(`reload failed: ${(r.reason as Error).message}`);
    }
    this.log.info(`Reload done in ${(performance.now() - t0).toFixed(0)} ms`);
  }

  /** A reload without bfd_instance, or the daemon's stop: the sessions go with the child. */
  private async stopBfd(): Promise<void> {
    const slot = this.bfd;
    this.bfd = undefined;
    await slot?.stop(VRRP_STOP_MS);
    this.bfdStates.clear();
  }

  stop(): Promise<void> {
    this.stopping ??= (async () => {
      this.log.info('Stopping');
      this.youngGeneration?.stop();
      // Withdrawn first, while everything still forwards: the routers move the flows before the children stop.
      await this.announcer?.withdrawForStop();
      await this.control?.close();
      await this.operatorConsole?.close();
      await new Promise((r) => (this.metricsServer ? this.metricsServer.close(r) : r(undefined)));
      // keepalived's VRRP process stops the sync daemon first thing in its shutdown (vrrp_terminate_phase1).
      await this.syncd?.stop();
      // vrrp_terminate_phase1: the scripts get SIGTERM before the STOP lines are written.
      this.fifos?.terminateScripts();
      await Promise.all([this.vrrp?.stop(VRRP_STOP_MS), this.checker?.stop(CHECKER_STOP_MS), this.stopBfd()]);
      await this.fifos?.close(true);
      this.processMonitor?.stop();
      // The embedded table goes last: the checker side empties it on its way out.
      await this.table?.close();
      await this.announcer?.close();
      if (this.vrrpConfig) await runStartStopScript('shutdown', this.vrrpConfig.global, this.log, this.scriptNetns);
      for (const path of this.childPidFiles) rmSync(path, { force: true });
      for (const release of this.releasePids.splice(0)) release();
      this.log.info('Stopped lvskeeper');
    })();
    return this.stopping;
  }
}
