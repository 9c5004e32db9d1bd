// The checker child process (keepalived's healthcheck child, check_daemon.c): every checker, the IPVS manager and
// what hangs on them — operator overrides, quorum and real-server scripts, their smtp_alerts — wired together:
// checker transitions → IPVS pools; pool events → scripts, alerts and the event stream; operator overrides → pool
// weights; the host's addresses (the netlink reflector, while a virtual server uses ha_suspend) → which checkers
// check. It reads the config itself, on its own loop: a large reload stalls only this process. Forked by the
// supervisor (supervisor.ts); talks to it over IPC only.
import { performance } from 'node:perf_hooks';
import { healthOf, type VsHealth } from '../announce/plan.js';
import { CheckerActivation, usesHaSuspend, type Logged } from '../../checkers/activation.js';
import { CheckerEngine, type AttemptSample, type ResumedState } from '../../checkers/engine.js';
import type { CheckerEvent } from '../../checkers/types.js';
import { ServerWalk, vsId } from '../config/identity.js';
import { cannotRun } from '../config/load.js';
import type { Config, RealServer, VirtualServer } from '../config/model.js';
import { systemClock } from '../clock.js';
import { applyReloadUmask } from '../fs/umask.js';
import { Channel } from '../ipc/channel.js';
import { NoteBatch } from '../ipc/note-batch.js';
import { bfdEventLine, type CheckerStart, type ConfigRead, type CheckerStateNote, type ConsoleGroup, type ConsoleHead, type ConsoleItem, type EventNote } from '../ipc/protocol.js';
import type { Registry } from './metrics.js';
import { RemoteIpvsDriver, type CheckerChannel } from '../ipvs/driver-remote.js';
import { connectionCounter, serviceKeysFor } from '../ipvs/desired.js';
import { ipvsadmCommand } from '../ipvs/driver-dryrun.js';
import { IpvsManager, type IpvsManagerOptions, type ReloadSteps, type VsStatus } from '../ipvs/manager.js';
import { lvsFifoLine, runNotifyScript } from '../ipvs/notify-scripts.js';
import type { PoolEvent } from '../ipvs/pool.js';
import type { IpvsDriver } from '../ipvs/types.js';
import { createLogger, type Logger } from '../log.js';
import type { AddressReflector } from './address-reflector.js';
import { serveChild, type ChildSide, type ListPager } from './child-lifecycle.js';
import { applyScheduling, reloadYieldOver, schedulingFor, watchAutoPriority, yieldDuringReload } from './scheduling.js';
import { nameProcess } from './process-names.js';
import { CommandError, type ControlRequest } from './control.js';
import { CheckerMetrics } from './daemon-metrics.js';
import { RsTelemetry } from './rs-telemetry.js';
import { checkerDumpLines } from './dumps.js';
import { readConfigFile } from './config-file-read.js';
import { ObservedDriver } from './observed-driver.js';
import { dumpedView, registerTableMetrics } from './table-metrics.js';
import { OverrideStore, type Override } from './overrides.js';
import { SmtpAlerter, alerts } from './smtp-alert.js';
import { CHECKING_TRIM_MS, holdFreeMemoryRelease, releaseFreeMemorySoon } from './free-memory.js';
import { oldGenerationLook } from './old-generation.js';


async function openDriver(start: CheckerStart, channel: CheckerChannel): Promise<IpvsDriver> {
  if (start.driver === 'kernel') return (await import('../ipvs/driver-netlink.js')).NetlinkIpvsDriver.open({}, start.ipvsNetns);
  return new RemoteIpvsDriver(start.driver, channel);
}

class CheckerSide implements ChildSide {
  private config!: Config;
  /** The running config's real servers, in config order. */
  private servers: readonly RealServer[] = [];
  private manager: IpvsManager | undefined;
  private driver: ObservedDriver | undefined;
  private engine: CheckerEngine | undefined;
  private overrides!: OverrideStore;
  private readonly activation = new CheckerActivation();
  /** Open while the config has a virtual server with ha_suspend (check_daemon.c start_check). */
  private reflector: AddressReflector | undefined;
  private stopping: Promise<void> | undefined;
  /** The last 'vs-health' report, as sent: a report goes only when it differs. */
  private reportedHealth = '';
  /** The notify scripts the shutdown runs: the process waits for them, a second at most (runNotifyScript). */
  private readonly stopScripts: Promise<void>[] = [];
  private readonly events = new NoteBatch<EventNote>((e) => this.channel.notify('events', e));
  private readonly checkerStates = new NoteBatch<CheckerStateNote>((s) => this.channel.notify('checker-states', s));
  /** Lines for the notify FIFOs, which the supervisor owns (notify-fifos.ts). */
  private readonly fifoLines = new NoteBatch<string>((l) => this.channel.notify('fifo', l));
  private readonly telemetry = new RsTelemetry();
  readonly metrics = new CheckerMetrics({
    verdicts: () => this.engine?.verdicts() ?? [],
    pingDrops: () => this.engine?.pingDrops() ?? [],
    wantedWeights: () => this.manager?.wantedWeights() ?? [],
    driver: () => this.driver,
    telemetry: this.telemetry,
  });

  constructor(
    private readonly channel: CheckerChannel,
    private readonly log: Logger,
    private readonly start_: CheckerStart,
  ) {}

  /** The file as read at the supervisor's `read`, for the `reload` that follows (undefined: cannot run). */
  /** The supervisor's read of the file, with how long it took, until the supervisor says to apply or drop it. */
  private readAhead: { readonly config: Config | undefined; readonly ms: number } | undefined;

  /** The model, and the read the supervisor logs and judges (it logs its own read at start). */
  private load(): { readonly config: Config | undefined; readonly read: ConfigRead } {
    const { configFile, configId, strictCompat } = this.start_;
    const { config, read } = readConfigFile({ file: configFile, ...(configId !== undefined ? { configId } : {}), strictCompat });
    return { config: cannotRun(read.code) ? undefined : config, read };
  }

  async start(): Promise<void> {
    const { config } = this.load();
    if (!config) throw new Error(`${this.start_.configFile}: configuration cannot run`);
    this.config = config;
    this.servers = realServersOf(config);
    this.telemetry.size(this.servers.length);
    nameProcess(config.global.processNames, 'checker');
    const sched = schedulingFor(config.global, 'checker');
    applyScheduling(sched, 'checker', this.log);
    watchAutoPriority(config.global, sched, 'checker', this.log);
    this.overrides = new OverrideStore(this.start_.stateFile);
    for (const e of this.overrides.loadErrors) this.log.error(e);
    const driver = new ObservedDriver(await openDriver(this.start_, this.channel), this.log);
    this.driver = driver;
    // The kernel's table is this process's to report; an embedded one is the supervisor's (table-metrics.ts).
    if (driver.name === 'kernel') registerTableMetrics(this.metrics.registry, dumpedView(() => driver.lastTable?.services ?? []));
    this.pruneOverrides();
    const dumped = await this.openReflector(config);
    const resume = new Map(this.start_.restore);
    const activation = this.activation.load(config, dumped);
    this.engine = this.newEngine(config, resume);
    this.engine.suspend(this.activation.suspended());
    this.engine.start();
    // A restarted process resumes its predecessor's verdicts before the first pass, so the table does not move.
    const resumed = resume.size > 0 ? this.engine.snapshot().map(({ vsId, rsId, alive, weight }) => ({ vsId, rsId, alive, weight })) : [];
    const overrides = this.overrides.list().map((o) => ({ vsId: o.vs, rsId: `${o.vs}/${o.rs}`, weight: weightOf(o.override) }));
    this.manager = this.newManager(config, { driver, clock: systemClock, log: this.log, overrides, resumed });
    // A restarted process (one that resumes its predecessor's checkers) announces nothing new.
    await this.manager.start(() => {
      if (resume.size === 0) this.logActivation(activation);
    });
    if (resume.size === 0) this.applyAddedVerdicts(this.servers);
    this.logAnnounceScope();
    this.reportHealth();
  }

  // The engine's and the manager's callbacks live as long as they do, and a closure keeps the whole context of the
  // scope it is made in: made in start(), they kept its activation lines (about 130 bytes a real server) for good.
  private newManager(config: Config, opts: IpvsManagerOptions): IpvsManager {
    const manager = new IpvsManager(config, opts);
    manager.on('pool', (ev) => this.onPoolEvent(ev));
    return manager;
  }

  private newEngine(config: Config, resume: ReadonlyMap<string, ResumedState>): CheckerEngine {
    return new CheckerEngine(config, {
      clock: systemClock,
      logger: this.log,
      onEvent: (ev) => (ev.kind === 'rs-alert' ? this.checkerAlert(ev) : this.manager?.handle(ev)),
      onAttempt: (sample) => this.attempted(sample),
      resume,
      onCheckerState: (key, state) => this.checkerStates.push({ key, ...(state ? { state } : {}) }),
    });
  }

  /** The announced virtual servers: those `--announce-vs` names (each name must match one), else every one. */
  private announced(): readonly VirtualServer[] {
    const only = this.start_.announce?.only;
    return only ? this.config.virtualServers.filter((vs) => only.some((q) => namesVirtualServer(vs, q))) : this.config.virtualServers;
  }

  /** Names what cannot be announced, at start and at each reload, so nothing is left out silently. */
  private logAnnounceScope(): void {
    const announce = this.start_.announce;
    if (!announce) return;
    for (const q of announce.only ?? []) {
      if (!this.config.virtualServers.some((vs) => namesVirtualServer(vs, q))) this.log.error(`--announce-vs ${q}: no such virtual server; nothing announced for it`);
    }
    for (const vs of this.announced()) {
      if (vs.key.kind !== 'ip') this.log.warn(`VS ${vs.displayName} is not announced: only a virtual server given by address has a VIP to announce`);
    }
  }

  /** With --announce-table: the supervisor's AnnounceOwner gets each change of the announced servers' health. */
  private reportHealth(): void {
    if (!this.start_.announce || !this.manager) return;
    const quorum = new Map(this.manager.status().virtualServers.map((v) => [v.vsId, v.quorumUp]));
    const health: VsHealth[] = healthOf(this.announced(), (id) => quorum.get(id) ?? false, this.activation.suspended());
    const text = JSON.stringify(health);
    if (text === this.reportedHealth) return;
    this.reportedHealth = text;
    this.channel.notify('vs-health', health);
  }

  /**
   * The reflector runs while some virtual server uses ha_suspend, as check_daemon.c start_check has it at start and
   * at each reload: opened (the addresses dumped) before the checkers are registered… True when it opened now.
   */
  private async openReflector(config: Config): Promise<boolean> {
    if (!usesHaSuspend(config) || this.reflector) return false;
    try {
      // Imported here: its netlink modules (0.9 MB of this process's live heap at 1,000 real servers) load only for a
      // config that needs them.
      const { AddressReflector } = await import('./address-reflector.js');
      this.reflector = await AddressReflector.open({
        address: (kind, a) => this.switchCheckers(this.activation.address(kind, a)),
        resync: (all) => this.switchCheckers(this.activation.resync(all)),
      }, this.log);
      return true;
    } catch (e) {
      // keepalived_netlink.c kernel_netlink_init logs this and runs on: no address is seen, the checkers stay off.
      this.log.error(`Error while registering Kernel netlink reflector channel: ${(e as Error).message}`);
      return false;
    }
  }

  /** …and closed by a reload that leaves none: the addresses are forgotten (no server counts them now). */
  private closeReflector(config: Config): void {
    if (usesHaSuspend(config) || !this.reflector) return;
    this.reflector.close();
    this.reflector = undefined;
    this.activation.resync([]);
  }

  private logActivation(l: Logged): void {
    for (const line of l.detail) this.log.debug(line);
    for (const line of l.info) this.log.info(line);
  }

  private switchCheckers(l: Logged): void {
    this.logActivation(l);
    if (l.info.length > 0) this.engine?.suspend(this.activation.suspended());
    this.reportHealth();
  }

  private publish(kind: string, text: string): void {
    this.events.push({ kind, text });
  }

  private alert(a: { subject: string; body: string }): void {
    const alerter = new SmtpAlerter(this.config.global, this.log);
    if (!alerter.configured) return;
    void alerter.send(a).then((sent) => this.metrics.alert(sent));
  }

  /**
   * Real servers the checker engine starts in a state the pools cannot know (a FILE_CHECK value, a failed track file)
   * take it from the engine's verdicts, as keepalived applies track files at start-up; `added` names them. They are
   * read in place: a snapshot of every server's checkers was 24-49 ms of a reload adding 1,000 of 30,000 servers.
   */
  private applyAddedVerdicts(added: readonly RealServer[]): void {
    const configured = new Map<string, number>();
    for (const rs of added) configured.set(rs.id, rs.weight);
    if (configured.size === 0) return;
    const verdicts = this.engine?.verdicts() ?? [];
    for (let i = 0; i < verdicts.length; i++) {
      const s = verdicts[i]!;
      if (!configured.has(s.rsId)) continue;
      if (s.weight !== configured.get(s.rsId)) this.manager?.rsWeight(s.vsId, s.rsId, s.weight);
      if (!s.alive) this.manager?.rsDown(s.vsId, s.rsId);
    }
  }

  /** A check made: counted, and its duration and verdict kept for each server it checks for. */
  private attempted(sample: AttemptSample): void {
    this.metrics.attempt(sample);
    if (sample.notRun !== undefined) return;
    const now = Date.now();
    for (const s of sample.servers) this.telemetry.attempt(s.vsId, s.rsId, now, sample.ok, sample.durationMs, sample.detail);
  }

  /** A server taken in or out of its pool: its timeline, and a structured line for `events --json`. */
  private rsTransition(ev: Extract<PoolEvent, { kind: 'rs-state' }>): void {
    if (ev.notifyOnly || ev.stopping) return;
    this.telemetry.transition(ev.vsId, ev.rsId, Date.now(), ev.alive);
    const row = this.telemetry.row(ev.rsId);
    const rs = ev.rsId.slice(ev.vsId.length + 1);
    const why = !ev.alive && row?.reason !== undefined ? `: ${row.reason} (${row.detail ?? ''})` : '';
    this.events.push({
      kind: 'realserver', text: `${rs} of VS ${ev.vsId} ${ev.alive ? 'up' : 'down'}${why}`,
      fields: { vs: ev.vsId, rs, up: ev.alive, ...(row?.ms !== undefined ? { checkMs: row.ms } : {}), ...(!ev.alive && row?.reason !== undefined ? { reason: row.reason, detail: row.detail } : {}) },
    });
  }

  private onPoolEvent(ev: PoolEvent): void {
    if (ev.kind === 'rs-state') this.rsTransition(ev);
    // Weight changes reach subscribers as the pool's own `Changing weight …` log line.
    if (ev.kind === 'log') this.publish('ipvs', ev.msg);
    else if (ev.kind === 'quorum' || ev.kind === 'rs-state') {
      if (ev.script) {
        const run = runNotifyScript(ev.script, this.log, ev.stopping === true);
        if (ev.stopping) this.stopScripts.push(run);
      }
      if (this.config.global.notifyFifo || this.config.global.lvsNotifyFifo) this.fifoLines.push(lvsFifoLine(ev));
      if (ev.kind === 'quorum') this.reportHealth();
      const vs = this.config.virtualServers.find((v) => v.displayName === ev.vsId);
      if (ev.kind === 'quorum' && vs?.smtpAlert) this.alert(alerts.quorum(this.config.global.routerId, ev.vsId, { ...ev, quorum: vs.quorum, hysteresis: vs.hysteresis }));
    } else if (ev.kind === 'rs-shut') {
      const rs = this.realServer(ev.vsId, ev.rsId);
      if (rs?.smtpAlert) this.alert(alerts.realServerShut(this.config.global.routerId, rs.displayName, ev.vsId, ev.stopping));
    }
  }

  /** A checker's verdict: mailed unless no_checker_emails and the real server's state stayed (check_*.c). */
  private checkerAlert(ev: Extract<CheckerEvent, { kind: 'rs-alert' }>): void {
    const rs = this.realServer(ev.vsId, ev.rsId);
    if (!rs?.smtpAlert || (!ev.rsChanged && this.config.global.noCheckerEmails)) return;
    this.alert(alerts.realServer(this.config.global.routerId, rs.displayName, ev.vsId, ev.alive, ev.body));
  }

  private realServer(vsId: string, rsId: string): RealServer | undefined {
    const vs = this.config.virtualServers.find((v) => v.displayName === vsId);
    return vs?.realServers.find((r) => r.id === rsId);
  }

  private pruneOverrides(): void {
    if (this.overrides.list().length === 0) return;
    const ids = new Set(this.servers.map((rs) => rs.id));
    for (const gone of this.overrides.prune((k) => ids.has(`${k.vs}/${k.rs}`))) {
      const text = `Dropping operator override for ${gone.rs} of VS ${gone.vs}: server no longer configured`;
      this.log.info(text);
      this.publish('operator', text);
    }
  }

  /** The virtual and real server a command names, as the operator may write them (namesServer). */
  private named(req: ControlRequest): { manager: IpvsManager; vsConf: VirtualServer; rsConf: RealServer } {
    const vs = String(req['vs'] ?? '');
    const rs = String(req['rs'] ?? '');
    if (!this.manager) throw new CommandError('this lvskeeper manages no virtual servers');
    const vsConf = this.config.virtualServers.find((v) => namesVirtualServer(v, vs));
    if (!vsConf) throw new CommandError(`unknown virtual server '${vs}'`);
    const rsConf = vsConf.realServers.find((r) => namesServer(r.displayName, rs));
    if (!rsConf) throw new CommandError(`unknown real server '${rs}' in virtual server ${vsConf.displayName}`);
    return { manager: this.manager, vsConf, rsConf };
  }

  /** `drain --wait`: the real server's connections as the data plane counts them now. */
  private async connections(req: ControlRequest): Promise<object> {
    const { vsConf, rsConf } = this.named(req);
    const table = this.driver ? await this.driver.dump() : { services: [] };
    const keys = serviceKeysFor(vsConf, this.config.virtualServerGroups);
    return { vs: vsConf.displayName, rs: rsConf.displayName, ...connectionCounter(table)(keys, rsConf) };
  }

  /** Validates before changing anything; replies once the data plane holds the new weight (one reconcile pass). */
  private async setOverride(req: ControlRequest, override: Override | undefined): Promise<object> {
    const { manager, vsConf, rsConf } = this.named(req);
    const key = { vs: vsConf.displayName, rs: rsConf.displayName };
    const rsId = `${key.vs}/${key.rs}`;
    // Persisted first: a state file that cannot be written refuses the command before anything changes.
    if (override) this.overrides.set(key, override);
    else if (!this.overrides.clear(key)) return { vs: key.vs, rs: key.rs, changed: false };
    const text = override
      ? override.kind === 'drain'
        ? `Operator drained ${key.rs} of VS ${key.vs}`
        : `Operator set weight ${override.weight} for ${key.rs} of VS ${key.vs}`
      : `Operator cleared override for ${key.rs} of VS ${key.vs}`;
    this.log.info(text);
    this.publish('operator', text);
    manager.setOverrideWeight(key.vs, rsId, override ? weightOf(override) : undefined);
    const pass = await manager.syncChanged();
    return { vs: key.vs, rs: key.rs, changed: true, pass };
  }

  /**
   * `lvskeeper plan`: what reload() would do with this file: the IPVS operations of its pass (ipvsadm syntax), the
   * probes kept, started and retired, the operator overrides pruneOverrides would drop. Nothing changes.
   */
  private async plan(req: ControlRequest): Promise<object> {
    const file = String(req['file'] ?? '');
    const { configId, strictCompat } = this.start_;
    const { config } = readConfigFile({ file, ...(configId !== undefined ? { configId } : {}), strictCompat });
    const servers = new Set(realServersOf(config).map((rs) => rs.id));
    const ops = (await this.manager?.plan(config)) ?? [];
    return {
      ipvs: ops.map((op) => ipvsadmCommand(op)),
      checkers: this.engine?.plan(config) ?? { keep: [], add: [], remove: [] },
      overridesDropped: this.overrides.list().filter((o) => !servers.has(`${o.vs}/${o.rs}`)),
    };
  }

  /** The kernel's table goes a batch at a time: 30,000 destinations are ~5 MB to clone. */
  command(req: ControlRequest, lists: ListPager): Promise<object> | object {
    switch (req.cmd) {
      case 'ipvs-table':
        return (async () => {
          const table = this.driver ? await this.driver.dump() : { services: [] };
          return { table: { ...table, services: lists.page(table.services, (e) => 1 + e.dests.length) } };
        })();
      case 'drain':
        return this.setOverride(req, { kind: 'drain' });
      case 'connections':
        return this.connections(req);
      case 'plan':
        return this.plan(req);
      case 'undrain':
        return this.setOverride(req, undefined);
      case 'weight': {
        const w = req['weight'];
        if (typeof w !== 'number' || !Number.isInteger(w) || w < 0 || w > 2147483647) {
          throw new CommandError(`weight must be an integer 0..2147483647, got '${String(w)}'`);
        }
        return this.setOverride(req, { kind: 'weight', weight: w });
      }
      default:
        throw new CommandError(`unknown command '${req.cmd}'`);
    }
  }

  /** A BFD session a BFD_CHECK follows went Up or Down (the supervisor relays the BFD child's events). */
  bfdState(name: string, up: boolean): void {
    this.engine?.bfdState(name, up);
  }

  /** The virtual servers go a batch at a time: at 30,000 real servers they are 4.6 MB of JSON. */
  status(lists: ListPager): object {
    const ipvs = this.manager?.status();
    return {
      ipvs: ipvs && { ...ipvs, virtualServers: lists.page(ipvs.virtualServers, (vs) => 1 + vs.realServers.length) },
      overrides: this.overrides.list(),
      haSuspend: this.activation.status(),
    };
  }

  dump(kind: 'data' | 'stats'): Iterable<string> {
    return checkerDumpLines(kind, this.manager?.status(), this.engine?.snapshot() ?? [], this.activation.status());
  }

  /**
   * The operator console's refresh: the pools' state, every server's last check and connections, and the timelines
   * that changed after revision `since` (the supervisor keeps the rest). The virtual servers go a batch at a time,
   * each made as it is read: at 30,000 real servers, one message held both loops for a quarter of a second.
   */
  async consoleSnapshot(since: number, lists: ListPager): Promise<ConsoleHead> {
    const table = this.driver ? await this.driver.dump() : { services: [] };
    const count = connectionCounter(table);
    const { config, telemetry } = this;
    const configured = new Map(config.virtualServers.map((vs) => [vsId(vs), vs]));
    const group = (vs: VsStatus): ConsoleGroup => {
      const conf = configured.get(vs.vsId);
      const keys = conf ? serviceKeysFor(conf, config.virtualServerGroups) : [];
      const servers = new Map(conf?.realServers.map((rs) => [rs.id, rs]));
      return {
        vs,
        rows: vs.realServers.map((status): ConsoleItem => {
          const rs = servers.get(status.rsId);
          const t = telemetry.row(status.rsId);
          const timeline = telemetry.timeline(status.rsId, since);
          return {
            status, ...(t ? { telemetry: t } : {}), ...(timeline ? { timeline } : {}),
            ...(rs ? { server: { ...count(keys, rs), checkers: rs.checkers.map((c) => c.type) } } : {}),
          };
        }),
      };
    };
    const statuses = this.manager?.status().virtualServers ?? [];
    return {
      rev: telemetry.revision,
      overrides: this.overrides.list(),
      groups: lists.page((function* () {
        for (const vs of statuses) yield group(vs);
      })(), (g) => 1 + g.rows.length),
    };
  }

  /** Metrics read the kernel's table as the last pass dumped it; a scrape refreshes it first. */
  async metricsRegistry(): Promise<Registry> {
    if (this.driver?.name === 'kernel') await this.driver.dump().catch(() => undefined);
    return this.metrics.registry;
  }

  read(): ConfigRead {
    const t0 = performance.now();
    const { config, read } = this.load();
    this.readAhead = { config, ms: performance.now() - t0 };
    return read;
  }

  drop(): void {
    this.readAhead = undefined;
  }

  /** SIGHUP, relayed: the supervisor has already refused a config with errors. */
  async reload(): Promise<{ applied: boolean; ms: number }> {
    const t0 = performance.now();
    const readMs = this.readAhead?.ms;
    const config = this.readAhead ? this.readAhead.config : this.load().config;
    this.readAhead = undefined;
    if (!config) {
      // The file changed between the supervisor's read and this one.
      this.log.error('Reload failed: new configuration has errors; keeping the running one');
      return { applied: false, ms: performance.now() - t0 };
    }
    const tParsed = performance.now();
    // The servers the engine checks are the running config's.
    const running = new ServerWalk(this.servers, (rs) => rs.id);
    this.config = config;
    this.servers = realServersOf(config);
    const added = this.servers.filter((rs) => running.find(rs.id) === undefined);
    nameProcess(config.global.processNames, 'checker');
    this.pruneOverrides();
    const dumped = await this.openReflector(config);
    const activated = this.activation.load(config, dumped);
    this.closeReflector(config);
    this.engine?.suspend(this.activation.suspended());
    let tCheckers = tParsed;
    const steps: ReloadSteps = {
      checkersTakeIt: () => {
        this.engine?.update(config);
        tCheckers = performance.now();
      },
      // check_daemon.c start_check → register_checkers_thread: every checker's line again.
      registered: () => this.logActivation(activated),
    };
    if (this.manager) await this.manager.reload(config, steps);
    else {
      steps.checkersTakeIt();
      steps.registered();
    }
    this.applyAddedVerdicts(added);
    this.telemetry.forget(running.unfound().map((rs) => rs.id));
    this.telemetry.size(this.servers.length);
    // A drain accepted while the reload ran may name a server the pools only know now; for the others this is a no-op.
    for (const o of this.overrides.list()) this.manager?.setOverrideWeight(o.vs, `${o.vs}/${o.rs}`, weightOf(o.override));
    this.logAnnounceScope();
    this.reportHealth();
    const tEnd = performance.now();
    const ms = (a: number, b: number): string => (b - a).toFixed(0);
    this.log.debug(`Reload phases (ms): config ${readMs !== undefined ? readMs.toFixed(0) : ms(t0, tParsed)}, checkers ${ms(tParsed, tCheckers)}, ipvs ${ms(tCheckers, tEnd)}`);
    return { applied: true, ms: tEnd - t0 };
  }

  /** Checkers stop first (attempts aborted, scripts killed), then the IPVS entries go per lvs_flush_on_stop. */
  stop(): Promise<void> {
    this.stopping ??= (async () => {
      this.reflector?.close();
      await this.engine?.stop();
      await this.manager?.stop();
      await Promise.all(this.stopScripts);
      await this.driver?.close();
      this.events.flush();
      this.checkerStates.flush();
      this.fifoLines.flush();
    })();
    return this.stopping;
  }
}

/**
 * Operators may name a server as the log does (`[192.0.2.10]:tcp:80`) or briefly (`192.0.2.10:80`,
 * `[2001:db8::10]:80`); a real server of a fwmark service (logged with port 0) also by its bare address.
 */
function namesServer(displayName: string, query: string): boolean {
  if (displayName === query) return true;
  const m = /^\[(.*)\]:\w+:(\d+)$/.exec(displayName);
  if (m === null) return false;
  return `${m[1]}:${m[2]}` === query || `[${m[1]}]:${m[2]}` === query || (m[2] === '0' && m[1] === query);
}

/** A virtual server also answers to `fwmark 42` (`FWM 42` in the log) and to its group's name. */
function namesVirtualServer(vs: VirtualServer, query: string): boolean {
  if (namesServer(vs.displayName, query)) return true;
  if (vs.key.kind === 'fwmark') return query.replace(/^fwmark\s+/i, 'FWM ') === vs.displayName;
  return vs.key.kind === 'group' && query === vs.key.name;
}

function realServersOf(config: Config): RealServer[] {
  return config.virtualServers.flatMap((vs) => vs.realServers);
}

function weightOf(o: Override): number {
  return o.kind === 'drain' ? 0 : o.weight;
}

function main(): void {
  nameProcess({}, 'checker');
  const compactOldGeneration = oldGenerationLook();
  const channel: CheckerChannel = new Channel(process);
  let side: CheckerSide | undefined;
  let log: Logger = createLogger();
  channel.handle('start', async (start) => {
    log = createLogger(start.log);
    side = new CheckerSide(channel, log, start);
    await side.start();
    // Until the first reload, the trims compact the old generation the start's parse and first round left.
    releaseFreeMemorySoon(CHECKING_TRIM_MS, compactOldGeneration);
  });
  channel.onNote('bfd', (n) => {
    log.debug(bfdEventLine(n));
    side?.bfdState(n.name, n.up);
  });
  channel.handle('read', () => {
    if (!side) throw new CommandError('checkers are starting');
    // The reload's own read: the reload or the drop that follows arms the trim again, and ends the yield.
    holdFreeMemoryRelease();
    yieldDuringReload(log);
    return side.read();
  });
  channel.handle('drop', () => {
    side?.drop();
    reloadYieldOver(log);
    releaseFreeMemorySoon(CHECKING_TRIM_MS);
  });
  channel.handle('reload', async ({ umask }) => {
    applyReloadUmask(umask, log);
    holdFreeMemoryRelease();
    yieldDuringReload(log);
    try {
      return (await side?.reload()) ?? { applied: false, ms: 0 };
    } finally {
      reloadYieldOver(log);
      // No compaction after a reload: it would shrink the young generation the next reload's parse needs.
      releaseFreeMemorySoon(CHECKING_TRIM_MS);
    }
  });
  const lists = serveChild(channel, () => side, () => log);
  channel.handle('console', ({ since }) => {
    if (!side) throw new CommandError('checkers are starting');
    return side.consoleSnapshot(since, lists);
  });
  channel.handle('command', (req) => {
    if (!side) throw new CommandError('checkers are starting');
    return side.command(req, lists);
  });
}

main();
