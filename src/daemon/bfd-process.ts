// The BFD child process (keepalived's BFD child, bfd/bfd_daemon.c): every bfd_instance session and nothing else, so
// that neither a VRRP reload nor 5,000 checks a second delay a 50 ms transmit timer. Forked by the supervisor
// (supervisor.ts), given the sessions already parsed, and telling each Up/Down back over the IPC channel.
import { systemClock } from '../clock.js';
import { Channel } from '../ipc/channel.js';
import type { DumpKind, FromBfdNotes, Nothing, ToBfd, VrrpConfig } from '../ipc/protocol.js';
import { Registry } from './metrics.js';
import { createLogger, type Logger } from '../log.js';
import { BfdService } from '../bfd/service.js';
import { serveChild, type ChildSide } from './child-lifecycle.js';
import { applyScheduling, schedulingFor } from './scheduling.js';
import { bfdDumpLines } from './dumps.js';
import { nameProcess } from './process-names.js';

class BfdSide implements ChildSide {
  readonly service: BfdService;
  private readonly registry = new Registry();

  constructor(channel: Channel<Nothing, ToBfd, FromBfdNotes, Nothing>, private readonly log: Logger) {
    this.service = new BfdService({
      clock: systemClock,
      logger: log,
      onState: (d, up) => {
        channel.notify('bfd', { name: d.name, up, sentAt: performance.timeOrigin + performance.now(), vrrp: d.vrrp, checker: d.checker });
        channel.notify('event', { kind: 'bfd', text: `(${d.name}) ${up ? 'Up' : 'Down'}` });
      },
    });
    this.registry.collect('lvskeeper_bfd_dropped_packets_total', 'BFD control packets dropped on receipt, by reason (RFC 5880 §6.8.6, RFC 5881 §5 GTSM, no session)', 'counter', () =>
      [...this.service.drops].map(([reason, n]) => ({ labels: { reason }, value: n })));
  }

  status(): object {
    return { bfd: this.service.states(), drops: Object.fromEntries(this.service.drops) };
  }

  /**
   * SIGUSR1: keepalived's BFD child logs this line and writes keepalived_bfd.data (bfd_daemon.c sigdump_bfd,
   * bfd_data.c bfd_print_data); it has no SIGUSR2 dump.
   */
  dump(kind: DumpKind): Iterable<string> {
    if (kind !== 'data') return [];
    this.log.info(`Printing BFD data for process(${process.pid}) on signal`);
    // performance.now() and CLOCK_MONOTONIC (process.hrtime) tick together: one offset maps the one onto the other.
    const offsetMs = Number(process.hrtime.bigint()) / 1e6 - performance.now();
    return bfdDumpLines(this.service.dumpState(), (ms) => Math.round((ms + offsetMs) * 1000));
  }

  metricsRegistry(): Registry {
    return this.registry;
  }

  stop(): Promise<void> {
    this.service.stop();
    return Promise.resolve();
  }
}

function main(): void {
  nameProcess({}, 'bfd');
  const channel = new Channel<Nothing, ToBfd, FromBfdNotes, Nothing>(process);
  let side: BfdSide | undefined;
  let log: Logger = createLogger();
  const start = async (config: VrrpConfig): Promise<void> => {
    nameProcess(config.global.processNames, 'bfd');
    applyScheduling(schedulingFor(config.global, 'bfd'), 'bfd', log);
    side = new BfdSide(channel, log);
    await side.service.start(config.bfdInstances);
  };
  channel.handle('start', async ({ config, log: settings }) => {
    log = createLogger(settings);
    await start(config);
  });
  channel.handle('reload', async ({ config }) => {
    nameProcess(config.global.processNames, 'bfd');
    await side?.service.reload(config.bfdInstances);
  });
  serveChild(channel, () => side, () => log);
}

main();
