// The one owner of the kernel's IPVS connection-sync daemons (`lvs_sync_daemon`): the supervisor, which sees every
// VRRP transition, outlives both children, and runs whether or not there are virtual servers (keepalived starts the
// daemon from its VRRP process, which a config without virtual_server also has). Steps come from SyncPlan; each is
// one IPVS_CMD_NEW_DAEMON / IPVS_CMD_DEL_DAEMON, in order, on a socket of its own.
import type { GlobalDefs, VrrpInstance } from '../config/model.js';
import type { NetlinkIpvsDriver } from '../ipvs/driver-netlink.js';
import { SyncPlan, syncSettings, syncSettingsChanged, type SyncSettings, type SyncStep } from '../ipvs/sync-plan.js';
import type { Logger } from '../log.js';

// include/uapi/linux/ip_vs.h: IP_VS_BASE_CTL + 11 / + 12, the numbers keepalived's log line carries.
const SOCKOPT = { start: ['IP_VS_SO_SET_STARTDAEMON', 1163], stop: ['IP_VS_SO_SET_STOPDAEMON', 1164] } as const;

/** keepalived's ipvs_strerror (check/libipvs.c) for what the daemon commands return. */
function ipvsStrerror(kind: SyncStep['kind'], code: string, fallback: string): string {
  if (kind === 'start' && code === 'EEXIST') return 'Daemon has already run';
  if (kind === 'stop' && code === 'ESRCH') return 'No daemon is running';
  if (code === 'EPERM') return 'Permission denied (you must be root)';
  if (code === 'EINVAL') return 'Invalid operation.  Possibly wrong module version, address not unicast, ...';
  return fallback;
}

export interface SyncDaemonSource {
  readonly global: GlobalDefs;
  readonly vrrpInstances: readonly Pick<VrrpInstance, 'name' | 'vrid'>[];
}

export class SyncDaemonOwner {
  private plan: SyncPlan;
  private settings: SyncSettings;
  private instance: string | undefined;
  private queue: Promise<void> = Promise.resolve();
  private driver: Promise<NetlinkIpvsDriver | undefined> | undefined;
  private stopped = false;

  private constructor(
    source: SyncDaemonSource,
    private readonly log: Logger,
    private readonly openDriver: () => Promise<NetlinkIpvsDriver | undefined>,
  ) {
    [this.instance, this.settings] = SyncDaemonOwner.read(source)!;
    this.plan = new SyncPlan(this.instance !== undefined);
  }

  /** An owner when the config has lvs_sync_daemon. `openDriver` resolves undefined when there is no kernel IPVS. */
  static for(source: SyncDaemonSource, log: Logger, openDriver: () => Promise<NetlinkIpvsDriver | undefined>): SyncDaemonOwner | undefined {
    const cfg = source.global.lvsSyncDaemon;
    // vrrp/vrrp.c vrrp_complete_init, at start only (keepalived -t returns before it).
    if (cfg?.instance !== undefined && !source.vrrpInstances.some((i) => i.name === cfg.instance)) {
      log.error(`${cfg.src.file}:${cfg.src.line}: Unable to find vrrp instance ${cfg.instance} for lvs_syncd - clearing lvs_syncd config`);
      return undefined;
    }
    return cfg ? new SyncDaemonOwner(source, log, openDriver) : undefined;
  }

  private static read(source: SyncDaemonSource): [string | undefined, SyncSettings] | undefined {
    const cfg = source.global.lvsSyncDaemon;
    if (!cfg) return undefined;
    const vrid = source.vrrpInstances.find((i) => i.name === cfg.instance)?.vrid;
    return [cfg.instance, syncSettings(cfg, vrid)];
  }

  start(): Promise<void> {
    return this.run(this.plan.start());
  }

  /** Every instance's state, as the supervisor learns them; only the followed one matters. */
  vrrpStates(states: Readonly<Record<string, string>>): void {
    // Transitions while VRRP shuts down come after the daemon's stop and must not start it again.
    if (this.stopped) return;
    const state = this.instance !== undefined ? states[this.instance] : undefined;
    if (state !== undefined) void this.run(this.plan.state(state));
  }

  /**
   * A reloaded config: the daemon restarted if its settings changed; false when this owner is to be stopped and
   * replaced (lvs_sync_daemon went, or now follows another instance or none).
   */
  reload(source: SyncDaemonSource): boolean {
    const next = SyncDaemonOwner.read(source);
    if (!next || next[0] !== this.instance) return false;
    if (syncSettingsChanged(this.settings, next[1])) {
      this.settings = next[1];
      void this.run(this.plan.restart());
    }
    return true;
  }

  /** Stops what runs (keepalived's shutdown), then closes the socket. */
  async stop(): Promise<void> {
    this.stopped = true;
    await this.run(this.plan.stop());
    const driver = await this.driver;
    await driver?.close();
  }

  private run(steps: readonly SyncStep[]): Promise<void> {
    if (steps.length === 0) return this.queue;
    const settings = this.settings;
    this.queue = this.queue.then(async () => {
      this.driver ??= this.openDriver();
      const driver = await this.driver;
      if (!driver) return;
      for (const s of steps) {
        try {
          if (s.kind === 'start') await driver.startDaemon({ role: s.role, ...settings });
          else await driver.stopDaemon(s.role, settings.syncId);
        } catch (err) {
          if (s.ignoreError) continue;
          const e = err as { code?: string; errno?: number; message: string };
          const [name, num] = SOCKOPT[s.kind];
          const text = ipvsStrerror(s.kind, e.code ?? '', /: (.*) \(\w+\)$/.exec(e.message)?.[1] ?? e.message);
          this.log.info(`IPVS cmd ${name}(${num}) error: ${text}(${e.errno ?? 0})`);
        }
      }
    });
    return this.queue;
  }
}
