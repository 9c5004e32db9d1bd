// The Prometheus families of each child process: hot-path counters bumped as things happen, everything else read
// from the subsystems' own state at scrape time (metrics.ts explains why). The supervisor merges both children's.
import type { AttemptSample } from '../../checkers/engine.js';
import type { PingDrops } from '../../checkers/ping.js';
import type { RealServerSnapshot } from '../../checkers/types.js';
import type { VrrpInstanceRunner } from '../vrrp/instance.js';
import { registerProcessMetrics } from './process-metrics.js';
import { Registry, type Counter, type LabelledCounter, type LabelledHistogram, type Sample } from './metrics.js';
import type { ObservedDriver } from './observed-driver.js';
import { DURATION_BUCKETS_S, FAILURE_REASONS, type RsTelemetry } from './rs-telemetry.js';

/** Per-server sources are iterables read in place: a scrape renders 30,000 servers a page at a time (metrics-pages.ts). */
export interface CheckerMetricSources {
  verdicts(): Iterable<Pick<RealServerSnapshot, 'vsId' | 'rsId' | 'alive'>>;
  pingDrops(): readonly { readonly family: 4 | 6; readonly drops: PingDrops }[];
  wantedWeights(): Iterable<{ readonly vsId: string; readonly rsId: string; readonly weight: number }>;
  driver(): ObservedDriver | undefined;
  readonly telemetry: RsTelemetry;
}

const STATES = ['INIT', 'BACKUP', 'MASTER', 'FAULT', 'STOP', 'DELETED'];

/** Both the VRRP and the checker process send alerts: one family, their series summed by the supervisor. */
const alertsFamily = (r: Registry): Counter => r.counter('lvskeeper_smtp_alerts_total', 'SMTP alerts, by result', 'shared');

/** The VRRP child's: instances' state, priority and packet counters. */
export class VrrpMetrics {
  readonly registry = new Registry();
  private readonly transitions = this.registry.counter('lvskeeper_vrrp_transitions_total', 'VRRP state changes, by instance and new state');
  private readonly alerts = alertsFamily(this.registry);

  constructor(instances: () => Iterable<VrrpInstanceRunner>) {
    const r = this.registry;
    registerProcessMetrics(r, 'vrrp');
    const vrrp = (f: (i: VrrpInstanceRunner) => Sample[]): (() => Sample[]) => () => [...instances()].flatMap(f);
    r.collect('lvskeeper_vrrp_state', 'VRRP instance state (1 for the current one)', 'gauge', vrrp((i) =>
      STATES.map((s) => ({ labels: { instance: i.cfg.name, state: s }, value: i.state === s ? 1 : 0 }))));
    r.collect('lvskeeper_vrrp_priority', 'VRRP effective priority', 'gauge', vrrp((i) => [{ labels: { instance: i.cfg.name }, value: i.priority }]));
    r.collect('lvskeeper_vrrp_adverts_received_total', 'VRRP adverts received', 'counter', vrrp((i) => [{ labels: { instance: i.cfg.name }, value: i.counters.received }]));
    r.collect('lvskeeper_vrrp_adverts_sent_total', 'VRRP adverts sent', 'counter', vrrp((i) => [{ labels: { instance: i.cfg.name }, value: i.counters.sent }]));
    r.collect('lvskeeper_vrrp_send_errors_total', 'VRRP adverts that could not be sent', 'counter', vrrp((i) => [{ labels: { instance: i.cfg.name }, value: i.counters.sendErrors }]));
    r.collect('lvskeeper_vrrp_drops_total', 'VRRP packets dropped, by reason', 'counter', vrrp((i) =>
      Object.entries(i.drops.snapshot()).map(([reason, n]) => ({ labels: { instance: i.cfg.name, reason }, value: Number(n) }))));
  }

  transition(instance: string, to: string): void {
    this.transitions.inc({ instance, state: to });
  }

  alert(sent: boolean): void {
    this.alerts.inc({ result: sent ? 'sent' : 'failed' });
  }
}

/** The checker child's: real servers, checker attempts, IPVS operations (the table's own families: table-metrics.ts). */
export class CheckerMetrics {
  readonly registry = new Registry();
  private readonly results = this.registry.counter('lvskeeper_checker_results_total', 'Checker attempts, by checker type and result');
  private readonly lateness = this.registry.histogram(
    'lvskeeper_checker_start_delay_seconds',
    'How long after its scheduled moment each checker attempt started',
    [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5],
  );
  private readonly alerts = alertsFamily(this.registry);
  private readonly notRun = this.registry.counter(
    'lvskeeper_checks_not_run_total',
    'Checker attempts this host could not make (EMFILE, ENFILE, ENOMEM, ENOBUFS, EAGAIN), by reason; the real server keeps its state',
  );

  constructor(src: CheckerMetricSources) {
    const r = this.registry;
    registerProcessMetrics(r, 'checker');
    r.collect('lvskeeper_realserver_up', 'Real server alive according to its checkers', 'gauge', function* () {
      for (const s of src.verdicts()) yield { labels: { vs: s.vsId, rs: s.rsId.slice(s.vsId.length + 1) }, value: s.alive ? 1 : 0 };
    });
    r.collect('lvskeeper_ping_replies_dropped_total', 'PING_CHECK replies dropped, by address family and reason', 'counter', () =>
      src.pingDrops().flatMap(({ family, drops }) =>
        Object.entries(drops).map(([reason, n]) => ({ labels: { family: family === 4 ? 'inet' : 'inet6', reason }, value: n }))));
    r.collect('lvskeeper_realserver_weight', 'Weight the pool wants for each real server (0 while down)', 'gauge', function* () {
      for (const w of src.wantedWeights()) yield { labels: { vs: w.vsId, rs: w.rsId.slice(w.vsId.length + 1) }, value: w.weight };
    });
    const t = src.telemetry;
    r.collectHistogram('lvskeeper_realserver_check_duration_seconds', 'How long each check of a real server took', DURATION_BUCKETS_S, () => t.durationSeries());
    r.collect('lvskeeper_realserver_transitions_total', 'Real servers taken in (up) or out (down) of their pool', 'counter', () => t.transitionSamples());
    r.collect('lvskeeper_realserver_last_failure_timestamp_seconds',
      `When a real server's check last failed, with why: reason is one of ${FAILURE_REASONS.join(', ')}`, 'gauge', () => t.lastFailureSamples());
    r.collect('lvskeeper_ipvs_ops_total', 'IPVS operations applied, by kind', 'counter', () =>
      [...(src.driver()?.applied ?? [])].map(([op, n]) => ({ labels: { op }, value: n })));
    r.collect('lvskeeper_ipvs_op_errors_total', 'IPVS operations that failed, by kind', 'counter', () =>
      [...(src.driver()?.failed ?? [])].map(([op, n]) => ({ labels: { op }, value: n })));
  }

  /**
   * The series of each checker type and of each reason a check was not made, labelled at first use: building their
   * label text at every check was a third of what the checker process allocated at 30,000 HTTP_GET servers.
   */
  private readonly byType = new Map<string, { readonly success: LabelledCounter; readonly failure: LabelledCounter; readonly lateness: LabelledHistogram }>();
  private readonly byReason = new Map<string, LabelledCounter>();

  attempt(sample: AttemptSample): void {
    let t = this.byType.get(sample.type);
    if (!t) {
      const { type } = sample;
      t = {
        success: this.results.labelled({ type, result: 'success' }),
        failure: this.results.labelled({ type, result: 'failure' }),
        lateness: this.lateness.labelled({ type }),
      };
      this.byType.set(type, t);
    }
    if (sample.notRun !== undefined) this.notRunOf(sample.notRun).inc();
    else (sample.ok ? t.success : t.failure).inc();
    t.lateness.observe(sample.lateMs / 1000);
  }

  private notRunOf(reason: string): LabelledCounter {
    let c = this.byReason.get(reason);
    if (!c) this.byReason.set(reason, (c = this.notRun.labelled({ reason })));
    return c;
  }

  alert(sent: boolean): void {
    this.alerts.inc({ result: sent ? 'sent' : 'failed' });
  }
}
