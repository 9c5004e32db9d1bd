// The daemon: one process runs the checkers, the IPVS manager and VRRP from one config, wired together:
// checker transitions → IPVS pools; pool events → quorum/notify scripts and the event stream;
// operator overrides (control socket) → pool weights; VRRP transitions → ha_suspend services; RS, quorum and VRRP
// changes → smtp_alert e-mails. Signals (run-daemon.ts): HUP reloads, TERM/INT stop gracefully, USR1/USR2 dump.
import { appendFileSync } from 'node:fs';
import type { Server } from 'node:http';
import { performance } from 'node:perf_hooks';
import { CheckerEngine } from '../../checkers/engine.js';
import { cannotRun, loadConfig, exitCodeFor, formatDiagnostic } from '../config/load.js';
import { rsId as makeRsId } from '../config/identity.js';
import type { Config, RealServer, VirtualServer } from '../config/model.js';
import { systemClock } from '../clock.js';
import { NOTIFY_TIMEOUT_MS, runScript } from '../exec/script.js';
import { IpvsManager } from '../ipvs/manager.js';
import type { PoolEvent } from '../ipvs/pool.js';
import type { IpvsDriver } from '../ipvs/types.js';
import type { Logger } from '../log.js';
import { VrrpService } from '../vrrp/service.js';
import { ControlServer, CommandError, type ControlRequest } from './control.js';
import { DaemonMetrics } from './daemon-metrics.js';
import { dataDump, statsDump, writeDumpFile, type DumpSources } from './dumps.js';
import { serveMetrics } from './metrics.js';
import { ObservedDriver } from './observed-driver.js';
import { OverrideStore, type Override } from './overrides.js';
import { acquirePidFile } from './pidfile.js';
import { SmtpAlerter, alerts } from './smtp-alert.js';


export type DriverChoice = 'auto' | 'kernel' | 'userspace' | 'dry-run';

export interface DaemonOptions {
  readonly configFile: string;
  readonly configId?: string;
  readonly vrrpOnly?: boolean;
  readonly checkOnly?: boolean;
  readonly pidFile?: string;
  /** keepalived's per-child pid files (-r/-c); one process runs both here, so each holds the same pid. */
  readonly vrrpPidFile?: string;
  readonly checkersPidFile?: string;
  readonly controlSocket?: string;
  readonly stateFile?: string;
  readonly ipvsDriver: DriverChoice;
  /** Opt-in Prometheus endpoint. */
  readonly metrics?: { readonly host: string; readonly port: number };
}

async function openDriver(choice: DriverChoice, log: Logger): Promise<IpvsDriver> {
  if (choice === 'dry-run') return new (await import('../ipvs/driver-dryrun.js')).DryRunIpvsDriver(log);
  if (choice === 'kernel' || (choice === 'auto' && (await (await import('../ipvs/driver-netlink.js')).probeIpvsFamily()))) {
    return (await import('../ipvs/driver-netlink.js')).NetlinkIpvsDriver.open();
  }
  if (choice === 'auto') log.warn('kernel IPVS not available: using the userspace data plane');
  return new (await import('../ipvs/driver-userspace.js')).UserspaceIpvsDriver(log);
}

export class Daemon {
  private config!: Config;
  private manager: IpvsManager | undefined;
  private driver: ObservedDriver | undefined;
  private engine: CheckerEngine | undefined;
  private vrrp: VrrpService | undefined;
  private control: ControlServer | undefined;
  private overrides!: OverrideStore;
  private readonly releasePids: (() => void)[] = [];
  private readonly subscribers = new Set<(e: object) => void>();
  private readonly watchedRunners = new WeakSet<object>();
  private stopping: Promise<void> | undefined;
  private metricsServer: Server | undefined;
  private readonly metrics = new DaemonMetrics({
    vrrp: () => this.vrrp?.instances.values() ?? [],
    checkers: () => this.engine?.snapshot() ?? [],
    pingDrops: () => this.engine?.pingDrops() ?? [],
    ipvs: () => this.manager?.status(),
    driver: () => this.driver,
  });

  constructor(
    private readonly opts: DaemonOptions,
    private readonly log: Logger,
  ) {}

  /**
   * At start a config whose errors the parser corrected runs, as keepalived does. A reload with errors (not mere
   * warnings or script-security notes) keeps the running config: keepalived's `reload_check_config`, always on here;
   * `reload_check_config LOGFILE` also gets the messages appended.
   */
  private load(reloading = false): Config | undefined {
    const { config, diagnostics } = loadConfig(this.opts.configFile, this.opts.configId ? { configId: this.opts.configId } : {});
    const code = exitCodeFor(diagnostics);
    for (const d of diagnostics) this.log[d.severity === 'info' ? 'info' : d.severity === 'warning' || d.severity === 'security' ? 'warn' : 'error'](formatDiagnostic(d));
    const checkLog = this.config?.global.reloadCheckConfig;
    if (reloading && typeof checkLog === 'string' && diagnostics.length > 0) {
      try {
        appendFileSync(checkLog, diagnostics.map((d) => formatDiagnostic(d) + '\n').join(''));
      } catch (err) {
        this.log.warn(`cannot write reload_check_config log ${checkLog}: ${(err as Error).message}`);
      }
    }
    return cannotRun(code) || (reloading && code === 5) ? undefined : config;
  }

  /** Returns a process exit code when start-up is impossible. */
  async start(): Promise<number | undefined> {
    this.log.info(`Starting lvskeeper, config ${this.opts.configFile}`);
    const config = this.load();
    if (!config) {
      this.log.error('configuration cannot run; exiting');
      return 2;
    }
    this.config = config;
    for (const file of this.pidFiles()) this.releasePids.push(acquirePidFile(file));
    this.overrides = new OverrideStore(this.opts.stateFile);
    for (const e of this.overrides.loadErrors) this.log.error(e);

    if (!this.opts.vrrpOnly && config.virtualServers.length > 0) {
      const driver = new ObservedDriver(await openDriver(this.opts.ipvsDriver, this.log), this.log);
      this.driver = driver;
      this.pruneOverrides();
      const overrides = this.overrides.list().map((o) => ({ vsId: o.vs, rsId: `${o.vs}/${o.rs}`, weight: weightOf(o.override) }));
      this.manager = new IpvsManager(config, { driver, clock: systemClock, log: this.log, overrides });
      this.manager.on('pool', (ev) => this.onPoolEvent(ev));
      await this.manager.start();
      this.engine = new CheckerEngine(config, {
        clock: systemClock,
        logger: this.log,
        onEvent: (ev) => this.manager?.handle(ev),
        onAttempt: (sample) => this.metrics.attempt(sample),
      });
      this.engine.start();
      this.applyCheckerSnapshot(() => true);
    }
    if (!this.opts.checkOnly && config.vrrpInstances.length > 0) {
      this.vrrp = new VrrpService(config, { clock: systemClock, logger: this.log });
      await this.vrrp.start();
    }
    this.watchVrrpTransitions();
    if (this.opts.metrics) {
      const { host, port } = this.opts.metrics;
      this.metricsServer = await serveMetrics(this.metrics.registry, host, port, async () => void (await this.driver?.dump()));
      this.log.info(`Metrics on http://${host.includes(':') ? `[${host}]` : host}:${port}/metrics`);
    }
    if (this.opts.controlSocket) {
      this.control = new ControlServer(this.opts.controlSocket, { commands: this.commands(), subscribe: (send) => this.subscribe(send) }, this.log);
      await this.control.listen();
    }
    return undefined;
  }

  private subscribe(send: (e: object) => void): () => void {
    this.subscribers.add(send);
    return () => this.subscribers.delete(send);
  }

  private publish(kind: string, text: string): void {
    const event = { time: new Date().toISOString(), kind, text };
    for (const s of this.subscribers) s(event);
  }

  /**
   * Follows VRRP transitions (instances a reload created are picked up by the next call): event stream, metrics,
   * smtp_alert and ha_suspend. The transition's log line is the instance's own `Entering … STATE`.
   */
  private watchVrrpTransitions(): void {
    for (const runner of this.vrrp?.instances.values() ?? []) {
      if (this.watchedRunners.has(runner)) continue;
      this.watchedRunners.add(runner);
      runner.on('transition', (t) => {
        this.publish('vrrp', `(${t.instance}) Entering ${t.to} STATE`);
        this.metrics.transition(t.instance, t.to);
        if (runner.cfg.smtpAlert) this.alert(alerts.vrrp(this.config.global.routerId, 'Instance', t.instance, t.to));
        this.applyHaSuspend();
      });
    }
    this.applyHaSuspend();
  }

  /**
   * ha_suspend: a virtual server whose address is a VIP of some vrrp_instance runs only while that instance is
   * MASTER (keepalived pauses it while the address is not configured here). An address no instance carries is taken
   * as configured locally.
   */
  private applyHaSuspend(): void {
    if (!this.manager) return;
    const runners = [...(this.vrrp?.instances.values() ?? [])];
    for (const vs of this.config.virtualServers) {
      if (!vs.haSuspend || vs.key.kind !== 'ip') continue;
      const addr = vs.key.address;
      const owner = runners.find((r) => r.cfg.virtualIpaddresses.some((v) => v.address === addr));
      this.manager.setHaSuspended(vs.displayName, owner !== undefined && owner.state !== 'MASTER');
    }
  }

  private alert(a: { subject: string; body: string }): void {
    const alerter = new SmtpAlerter(this.config.global, this.log);
    if (!alerter.configured) return;
    void alerter.send(a).then((sent) => this.metrics.alert(sent));
  }

  /**
   * Real servers the checker engine starts in a state the pools cannot know (a FILE_CHECK value, a failed track file)
   * take it from the engine's snapshot, as keepalived applies track files at start-up; `isNew` selects which. A
   * reload that adds no server skips the snapshot, which is most of an unchanged reload's time at 30,000 servers.
   */
  private applyCheckerSnapshot(isNew: (rsId: string) => boolean): void {
    const configured = new Map<string, number>();
    for (const [rsId, rs] of rsEntries(this.config)) if (isNew(rsId)) configured.set(rsId, rs.weight);
    if (configured.size === 0) return;
    for (const s of this.engine?.snapshot() ?? []) {
      if (!configured.has(s.rsId)) continue;
      if (s.weight !== configured.get(s.rsId)) this.manager?.rsWeight(s.vsId, s.rsId, s.weight);
      if (!s.alive) this.manager?.rsDown(s.vsId, s.rsId);
    }
  }

  private onPoolEvent(ev: PoolEvent): void {
    // Weight changes reach subscribers as the pool's own `Changing weight …` log line.
    if (ev.kind === 'log') this.publish('ipvs', ev.msg);
    else if (ev.kind === 'quorum' || ev.kind === 'rs-state') {
      // quorum_up/down and notify_up/down are fire-and-forget, but one that hangs is killed rather than kept forever.
      const script = ev.script;
      if (script) {
        void runScript(script, { timeoutMs: NOTIFY_TIMEOUT_MS }).then((r) => {
          if (r.timedOut) this.log.warn(`Script ${script.text} timed out after ${NOTIFY_TIMEOUT_MS / 1000} s: killed`);
          else if (r.spawnError !== undefined) this.log.warn(`Cannot run script ${script.text}: ${r.spawnError}`);
        });
      }
      const vs = this.config.virtualServers.find((v) => v.displayName === ev.vsId);
      const routerId = this.config.global.routerId;
      if (ev.kind === 'quorum') {
        if (vs?.smtpAlert) this.alert(alerts.quorum(routerId, ev.vsId, ev.up));
      } else {
        const rs = vs?.realServers.find((r) => makeRsId(vs, r) === ev.rsId);
        if (rs?.smtpAlert) this.alert(alerts.realServer(routerId, rs.displayName, ev.vsId, ev.alive));
      }
    }
  }

  private pruneOverrides(): void {
    if (this.overrides.list().length === 0) return;
    const known = new Set(rsEntries(this.config).keys());
    for (const gone of this.overrides.prune((k) => known.has(`${k.vs}/${k.rs}`))) {
      const text = `Dropping operator override for ${gone.rs} of VS ${gone.vs}: server no longer configured`;
      this.log.info(text);
      this.publish('operator', text);
    }
  }

  /** Validates before changing anything; replies once the data plane holds the new weight (one reconcile pass). */
  private async setOverride(req: ControlRequest, override: Override | undefined): Promise<object> {
    const vs = String(req['vs'] ?? '');
    const rs = String(req['rs'] ?? '');
    if (!this.manager) throw new CommandError('this lvskeeper manages no virtual servers');
    const vsConf = this.config.virtualServers.find((v) => namesVirtualServer(v, vs));
    if (!vsConf) throw new CommandError(`unknown virtual server '${vs}'`);
    const rsConf = vsConf.realServers.find((r) => namesServer(r.displayName, rs));
    if (!rsConf) throw new CommandError(`unknown real server '${rs}' in virtual server ${vsConf.displayName}`);
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
    this.manager.setOverrideWeight(key.vs, rsId, override ? weightOf(override) : undefined);
    const pass = await this.manager.sync();
    return { vs: key.vs, rs: key.rs, changed: true, pass };
  }

  private commands(): Record<string, (req: ControlRequest) => Promise<object> | object> {
    return {
      status: () => this.status(),
      'json-dump': () => ({ file: this.writeDump('json') }),
      'ipvs-table': async () => ({ table: this.driver ? await this.driver.dump() : { services: [] } }),
      drain: (req) => this.setOverride(req, { kind: 'drain' }),
      undrain: (req) => this.setOverride(req, undefined),
      weight: (req) => {
        const w = req['weight'];
        if (typeof w !== 'number' || !Number.isInteger(w) || w < 0 || w > 2147483647) {
          throw new CommandError(`weight must be an integer 0..2147483647, got '${String(w)}'`);
        }
        return this.setOverride(req, { kind: 'weight', weight: w });
      },
    };
  }

  status(): object {
    return {
      ipvs: this.manager?.status(),
      vrrp: [...(this.vrrp?.instances ?? new Map()).entries()].map(([name, i]) => ({ name, state: i.state, priority: i.priority })),
      overrides: this.overrides.list(),
    };
  }

  /** The main pid file, plus -r while VRRP runs and -c while the checkers run, as keepalived's children write them. */
  private pidFiles(): string[] {
    const { pidFile, vrrpPidFile, checkersPidFile, vrrpOnly, checkOnly } = this.opts;
    return [pidFile, checkOnly ? undefined : vrrpPidFile, vrrpOnly ? undefined : checkersPidFile].filter((f): f is string => f !== undefined);
  }

  /** SIGUSR1 (data), SIGUSR2 (stats), control `json-dump` (JSON status): written to /tmp as keepalived does. */
  writeDump(kind: 'data' | 'stats' | 'json'): string {
    const src: DumpSources = {
      config: this.config,
      vrrp: [...(this.vrrp?.instances.values() ?? [])],
      ipvs: this.manager?.status(),
      checkers: this.engine?.snapshot() ?? [],
    };
    const now = new Date();
    const text =
      kind === 'data'
        ? dataDump(src, now)
        : kind === 'stats'
          ? statsDump(src, now)
          : JSON.stringify({ time: now.toISOString(), ...this.status() }, (_, v: unknown) => (typeof v === 'bigint' ? v.toString() : v), 2) + '\n';
    const file = writeDumpFile(kind, text);
    this.log.info(`Wrote ${kind} dump to ${file}`);
    return file;
  }

  /** SIGHUP: a config with fatal errors leaves the running one untouched. */
  async reload(): Promise<void> {
    const t0 = performance.now();
    this.log.info('Reloading');
    this.publish('daemon', 'Reloading');
    const config = this.load(true);
    if (!config) {
      this.log.error('Reload failed: new configuration has errors; keeping the running one');
      return;
    }
    const tParsed = performance.now();
    // The servers the engine checks are the running config's.
    const known = new Set(this.engine ? rsEntries(this.config).keys() : []);
    this.config = config;
    this.pruneOverrides();
    this.engine?.update(config);
    const tCheckers = performance.now();
    await this.manager?.reload(config);
    this.applyCheckerSnapshot((rsId) => !known.has(rsId));
    // A drain accepted while the reload ran may name a server the pools only know now; for the others this is a no-op.
    for (const o of this.overrides.list()) this.manager?.setOverrideWeight(o.vs, `${o.vs}/${o.rs}`, weightOf(o.override));
    const tIpvs = performance.now();
    await this.vrrp?.reload(config);
    // The first vrrp_instance may arrive with a reload: start VRRP then as at boot.
    if (!this.vrrp && !this.opts.checkOnly && config.vrrpInstances.length > 0) {
      this.vrrp = new VrrpService(config, { clock: systemClock, logger: this.log });
      await this.vrrp.start();
    }
    this.watchVrrpTransitions();
    const ms = (a: number, b: number): string => (b - a).toFixed(0);
    const tEnd = performance.now();
    this.log.info(`Reload done in ${ms(t0, tEnd)} ms`);
    this.log.debug(`Reload phases (ms): config ${ms(t0, tParsed)}, checkers ${ms(tParsed, tCheckers)}, ipvs ${ms(tCheckers, tIpvs)}, vrrp ${ms(tIpvs, tEnd)}`);
  }

  stop(): Promise<void> {
    this.stopping ??= (async () => {
      this.log.info('Stopping');
      await this.control?.close();
      await new Promise((r) => (this.metricsServer ? this.metricsServer.close(r) : r(undefined)));
      await this.vrrp?.stop();
      await this.engine?.stop();
      await this.manager?.stop();
      await this.driver?.close();
      for (const release of this.releasePids.splice(0)) release();
      this.log.info('Stopped lvskeeper');
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

/** Every real server by the id checker and pool events use. */
function rsEntries(config: Config): Map<string, RealServer> {
  const m = new Map<string, RealServer>();
  for (const vs of config.virtualServers) for (const rs of vs.realServers) m.set(makeRsId(vs, rs), rs);
  return m;
}

function weightOf(o: Override): number {
  return o.kind === 'drain' ? 0 : o.weight;
}
