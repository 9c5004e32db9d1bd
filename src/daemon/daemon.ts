// The daemon: one process runs the checkers, the IPVS manager and VRRP from one config, wired together:
// checker transitions → IPVS pools; pool events → quorum/notify scripts and the event stream;
// operator overrides (control socket) → pool weights. Signals: HUP reloads, TERM/INT stop gracefully.
import { CheckerEngine } from '../../checkers/engine.js';
import { loadConfig, exitCodeFor, formatDiagnostic } from '../config/load.js';
import type { Config, VirtualServer } from '../config/model.js';
import { systemClock } from '../clock.js';
import { runScript } from '../exec/script.js';
import { IpvsManager } from '../ipvs/manager.js';
import type { PoolEvent } from '../ipvs/pool.js';
import type { IpvsDriver } from '../ipvs/types.js';
import type { Logger } from '../log.js';
import { VrrpService } from '../vrrp/service.js';
import { ControlServer, CommandError, type ControlRequest } from './control.js';
import { OverrideStore, type Override } from './overrides.js';
import { acquirePidFile } from './pidfile.js';

export type DriverChoice = 'auto' | 'kernel' | 'userspace' | 'dry-run';

export interface DaemonOptions {
  readonly configFile: string;
  readonly configId?: string;
  readonly vrrpOnly?: boolean;
  readonly checkOnly?: boolean;
  readonly pidFile?: string;
  readonly controlSocket?: string;
  readonly stateFile?: string;
  readonly ipvsDriver: DriverChoice;
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
  private driver: IpvsDriver | undefined;
  private engine: CheckerEngine | undefined;
  private vrrp: VrrpService | undefined;
  private control: ControlServer | undefined;
  private overrides!: OverrideStore;
  private releasePid: (() => void) | undefined;
  private readonly subscribers = new Set<(e: object) => void>();
  private readonly watchedRunners = new WeakSet<object>();
  private stopping: Promise<void> | undefined;

  constructor(
    private readonly opts: DaemonOptions,
    private readonly log: Logger,
  ) {}

  private load(): Config | undefined {
    const { config, diagnostics } = loadConfig(this.opts.configFile, this.opts.configId ? { configId: this.opts.configId } : {});
    for (const d of diagnostics) this.log.warn(formatDiagnostic(d));
    return exitCodeFor(diagnostics) === 4 ? undefined : config;
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
    if (this.opts.pidFile) this.releasePid = acquirePidFile(this.opts.pidFile);
    this.overrides = new OverrideStore(this.opts.stateFile);
    for (const e of this.overrides.loadErrors) this.log.error(e);

    if (!this.opts.vrrpOnly && config.virtualServers.length > 0) {
      const driver = await openDriver(this.opts.ipvsDriver, this.log);
      this.driver = driver;
      this.pruneOverrides();
      const overrides = this.overrides.list().map((o) => ({ vsId: o.vs, rsId: `${o.vs}/${o.rs}`, weight: weightOf(o.override) }));
      this.manager = new IpvsManager(config, { driver, clock: systemClock, log: this.log, overrides });
      this.manager.on('pool', (ev) => this.onPoolEvent(ev));
      await this.manager.start();
      this.engine = new CheckerEngine(config, { clock: systemClock, logger: this.log, onEvent: (ev) => this.manager?.handle(ev) });
      this.engine.start();
      this.applyCheckerSnapshot(() => true);
    }
    if (!this.opts.checkOnly && config.vrrpInstances.length > 0) {
      this.vrrp = new VrrpService(config, { clock: systemClock, logger: this.log });
      await this.vrrp.start();
      this.watchVrrpTransitions();
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

  /** Publishes VRRP transitions in the log's words; instances a reload created are picked up by the next call. */
  private watchVrrpTransitions(): void {
    for (const runner of this.vrrp?.instances.values() ?? []) {
      if (this.watchedRunners.has(runner)) continue;
      this.watchedRunners.add(runner);
      runner.on('transition', (t) => this.publish('vrrp', `(${t.instance}) Entering ${t.to} STATE`));
    }
  }

  /**
   * Real servers the checker engine starts in a state the pools cannot know (a FILE_CHECK value, a failed track file)
   * take it from the engine's snapshot, as keepalived applies track files at start-up; `isNew` selects which.
   */
  private applyCheckerSnapshot(isNew: (rsId: string) => boolean): void {
    const configured = new Map<string, number>();
    for (const vs of this.config.virtualServers) for (const rs of vs.realServers) configured.set(`${vs.displayName}/${rs.displayName}`, rs.weight);
    for (const s of this.engine?.snapshot() ?? []) {
      if (!isNew(s.rsId)) continue;
      if (s.weight !== configured.get(s.rsId)) this.manager?.rsWeight(s.vsId, s.rsId, s.weight);
      if (!s.alive) this.manager?.rsDown(s.vsId, s.rsId);
    }
  }

  private onPoolEvent(ev: PoolEvent): void {
    // Weight changes reach subscribers as the pool's own `Changing weight …` log line.
    if (ev.kind === 'log') this.publish('ipvs', ev.msg);
    else if (ev.kind === 'quorum' || ev.kind === 'rs-state') {
      if (ev.script) void runScript(ev.script, { timeoutMs: 10_000 });
    }
  }

  private pruneOverrides(): void {
    const known = new Set<string>();
    for (const vs of this.config.virtualServers) for (const rs of vs.realServers) known.add(`${vs.displayName}/${rs.displayName}`);
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
      status: () => ({
        ipvs: this.manager?.status(),
        vrrp: [...(this.vrrp?.instances ?? new Map()).entries()].map(([name, i]) => ({ name, state: i.state, priority: i.priority })),
        overrides: this.overrides.list(),
      }),
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

  /** SIGHUP: a config with fatal errors leaves the running one untouched. */
  async reload(): Promise<void> {
    this.log.info('Reloading');
    this.publish('daemon', 'Reloading');
    const config = this.load();
    if (!config) {
      this.log.error('new configuration has fatal errors; keeping the running one');
      return;
    }
    const known = new Set(this.engine?.snapshot().map((s) => s.rsId));
    this.config = config;
    this.pruneOverrides();
    this.engine?.update(config);
    await this.manager?.reload(config);
    this.applyCheckerSnapshot((rsId) => !known.has(rsId));
    // A drain accepted while the reload ran may name a server the pools only know now; for the others this is a no-op.
    for (const o of this.overrides.list()) this.manager?.setOverrideWeight(o.vs, `${o.vs}/${o.rs}`, weightOf(o.override));
    await this.vrrp?.reload(config);
    // The first vrrp_instance may arrive with a reload: start VRRP then as at boot.
    if (!this.vrrp && !this.opts.checkOnly && config.vrrpInstances.length > 0) {
      this.vrrp = new VrrpService(config, { clock: systemClock, logger: this.log });
      await this.vrrp.start();
    }
    this.watchVrrpTransitions();
  }

  stop(): Promise<void> {
    this.stopping ??= (async () => {
      this.log.info('Stopping');
      await this.control?.close();
      await this.vrrp?.stop();
      await this.engine?.stop();
      await this.manager?.stop();
      await this.driver?.close();
      this.releasePid?.();
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

function weightOf(o: Override): number {
  return o.kind === 'drain' ? 0 : o.weight;
}
