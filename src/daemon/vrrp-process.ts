// The VRRP child process (keepalived's vrrp child, vrrp_daemon.c): every vrrp_instance, its sockets, VIPs,
// GARP/NA, trackers and notify scripts, and nothing else. It never reads the config file: the supervisor's reader
// hands it the VRRP part, already parsed, so no LVS size and no checker can delay an advert. It is forked by the
// supervisor (supervisor.ts) and talks to it over the IPC channel only.
import { systemClock } from '../clock.js';
import { Channel } from '../ipc/channel.js';
import { applyReloadUmask } from '../fs/umask.js';
import type { Registry } from './metrics.js';
import { bfdEventLine, type FromVrrpNotes, type Nothing, type ProcessQuorums, type ToVrrp, type ToVrrpNotes, type VrrpConfig, type VrrpStart, type VrrpStates } from '../ipc/protocol.js';
import { createLogger, type Logger } from '../log.js';
import { VrrpService } from '../vrrp/service.js';
import type { VrrpInstanceRunner } from '../vrrp/instance.js';
import { VrrpMetrics } from './daemon-metrics.js';
import { vrrpDumpLines } from './dumps.js';
import { serveChild, type ChildSide } from './child-lifecycle.js';
import { applyScheduling, schedulingFor, watchAutoPriority } from './scheduling.js';
import { nameProcess } from './process-names.js';
import { SmtpAlerter, alerts } from './smtp-alert.js';

class VrrpSide implements ChildSide {
  private service: VrrpService | undefined;
  private config!: VrrpConfig;
  private readonly watched = new WeakSet<VrrpInstanceRunner>();
  readonly metrics = new VrrpMetrics(() => this.service?.instances.values() ?? []);
  private stopping: Promise<void> | undefined;

  constructor(
    private readonly channel: Channel<Nothing, ToVrrp, FromVrrpNotes, ToVrrpNotes>,
    private readonly log: Logger,
  ) {}

  async start({ config, quorums, bfdTakeover }: VrrpStart): Promise<VrrpStates> {
    this.config = config;
    // Each line leaves as its own note at once: the supervisor writes it to the FIFOs (notify-fifos.ts).
    this.service = new VrrpService(config, {
      clock: systemClock, logger: this.log, quorums, fifo: (line) => this.channel.notify('fifo', [line]), ...(bfdTakeover ? { bfdTakeover } : {}),
    });
    this.channel.onNote('process-quorum', ({ name, up }) => this.service?.processQuorum(name, up));
    this.channel.onNote('bfd', (n) => {
      this.log.debug(bfdEventLine(n));
      this.service?.bfdState(n.name, n.up);
    });
    this.service.on('group-transition', (g) => {
      this.channel.notify('event', { kind: 'vrrp', text: `VRRP_Group(${g.group}) ${g.state}` });
      if (g.smtpAlert) this.alert(g.state, alerts.vrrp(this.config.global.routerId, 'Group', g.group, g.state));
    });
    await this.service.start();
    this.watch();
    return this.states();
  }

  async reload(config: VrrpConfig, quorums: ProcessQuorums): Promise<VrrpStates> {
    this.config = config;
    this.service?.setQuorums(quorums);
    await this.service?.reload(config);
    this.watch();
    return this.states();
  }

  /** Instances a reload created are picked up by the next call. */
  private watch(): void {
    for (const runner of this.service?.instances.values() ?? []) {
      if (this.watched.has(runner)) continue;
      this.watched.add(runner);
      runner.on('transition', (t) => {
        this.channel.notify('transition', t);
        this.channel.notify('event', {
          kind: 'vrrp', text: `(${t.instance}) Entering ${t.to} STATE`,
          fields: { instance: t.instance, from: t.from, to: t.to, priority: t.priority, cause: t.cause, master: t.master },
        });
        this.metrics.transition(t.instance, t.to);
        if (runner.cfg.smtpAlert) this.alert(t.to, alerts.vrrp(this.config.global.routerId, 'Instance', t.instance, t.to));
      });
    }
  }

  /** Each instance's state: start and reload return it, since their own transitions precede the listeners. */
  states(): VrrpStates {
    return Object.fromEntries([...(this.service?.instances ?? [])].map(([name, i]) => [name, i.state]));
  }

  /** no_email_faults: keepalived mails no FAULT transition (vrrp.c, vrrp_smtp_notifier). */
  private alert(state: string, a: { subject: string; body: string }): void {
    if (state === 'FAULT' && this.config.global.noEmailFaults) return;
    const alerter = new SmtpAlerter(this.config.global, this.log);
    if (!alerter.configured) return;
    void alerter.send(a).then((sent) => this.metrics.alert(sent));
  }

  status(): object {
    return {
      vrrp: [...(this.service?.instances ?? new Map<string, VrrpInstanceRunner>()).entries()].map(([name, i]) => ({ name, state: i.state, priority: i.priority })),
    };
  }

  dump(kind: 'data' | 'stats'): Iterable<string> {
    return vrrpDumpLines(kind, [...(this.service?.instances.values() ?? [])]);
  }

  metricsRegistry(): Registry {
    return this.metrics.registry;
  }

  /** keepalived's stop: priority-0 adverts, VIPs removed, notify_stop. */
  stop(): Promise<void> {
    this.stopping ??= (async () => {
      await this.service?.stop();
    })();
    return this.stopping;
  }
}

function main(): void {
  nameProcess({}, 'vrrp');
  const channel = new Channel<Nothing, ToVrrp, FromVrrpNotes, ToVrrpNotes>(process);
  let side: VrrpSide | undefined;
  let log: Logger = createLogger();
  channel.handle('start', async (start) => {
    const { config, log: settings } = start;
    log = createLogger(settings);
    nameProcess(config.global.processNames, 'vrrp');
    const sched = schedulingFor(config.global, 'vrrp');
    applyScheduling(sched, 'vrrp', log);
    watchAutoPriority(config.global, sched, 'vrrp', log);
    side = new VrrpSide(channel, log);
    return side.start(start);
  });
  channel.handle('reload', async ({ config, quorums, umask }) => {
    nameProcess(config.global.processNames, 'vrrp');
    applyReloadUmask(umask, log);
    return (await side?.reload(config, quorums)) ?? {};
  });
  serveChild(channel, () => side, () => log);
}

main();
