import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { RsTelemetry } from '../../src/daemon/rs-telemetry.js';
import { CheckerMetrics } from '../../src/daemon/daemon-metrics.js';
import { Registry, renderFamilies, serveMetrics } from '../../src/daemon/metrics.js';
import { localPages } from '../../src/daemon/metrics-pages.js';

/** One registry's whole text, as the supervisor writes it when no child has any: shared, then own. */
const exposition = (r: Registry): string => renderFamilies(r.sharedFamilies()) + [...localPages(r)].join('');

test('the registry renders counters, histograms and collected gauges in Prometheus text format over HTTP', async () => {
  const registry = new Registry();
  const drops = registry.counter('lvskeeper_vrrp_rx_dropped_total', 'Adverts dropped, by reason.');
  drops.inc({ reason: 'ttl' });
  drops.inc({ reason: 'ttl' });
  drops.inc({ reason: 'auth "pass"' });
  const latency = registry.histogram('lvskeeper_check_duration_seconds', 'Check latency.', [0.01, 0.1]);
  latency.observe({ type: 'HTTP_GET' }, 0.05);
  let state = 2;
  registry.collect('lvskeeper_vrrp_state', 'VRRP state (0 init, 1 backup, 2 master, 3 fault).', 'gauge', () => [{ labels: { instance: 'VI_1' }, value: state }]);
  const server = await serveMetrics(async function* () {
    yield* localPages(registry);
  }, '127.0.0.1', 0);
  try {
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/metrics`;
    let text = await (await fetch(url)).text();
    assert.match(text, /^# TYPE lvskeeper_vrrp_rx_dropped_total counter$/m);
    assert.match(text, /^lvskeeper_vrrp_rx_dropped_total\{reason="ttl"\} 2$/m);
    assert.match(text, /^lvskeeper_vrrp_rx_dropped_total\{reason="auth \\"pass\\""\} 1$/m);
    assert.match(text, /^lvskeeper_check_duration_seconds_bucket\{type="HTTP_GET",le="0.01"\} 0$/m);
    assert.match(text, /^lvskeeper_check_duration_seconds_bucket\{type="HTTP_GET",le="0.1"\} 1$/m);
    assert.match(text, /^lvskeeper_check_duration_seconds_count\{type="HTTP_GET"\} 1$/m);
    assert.match(text, /^lvskeeper_vrrp_state\{instance="VI_1"\} 2$/m);
    state = 1;
    text = await (await fetch(url)).text();
    assert.match(text, /^lvskeeper_vrrp_state\{instance="VI_1"\} 1$/m);
    assert.equal((await fetch(url.replace('/metrics', '/'))).status, 404);
  } finally {
    server.close();
  }
});

test('families from two processes render as one exposition: a shared family once, its shared series summed', () => {
  const vrrp = new Registry();
  const checker = new Registry();
  vrrp.counter('lvskeeper_smtp_alerts_total', 'SMTP alerts.', 'shared').inc({ result: 'sent' });
  const c = checker.counter('lvskeeper_smtp_alerts_total', 'SMTP alerts.', 'shared');
  c.inc({ result: 'sent' }, 2);
  c.inc({ result: 'failed' });
  checker.collect('lvskeeper_realserver_up', 'Up.', 'gauge', () => [{ labels: { rs: 'a b' }, value: 1 }]);
  const all = renderFamilies([...vrrp.sharedFamilies(), ...checker.sharedFamilies()]) + [...localPages(checker)].join('');
  assert.equal(all.match(/^# TYPE lvskeeper_smtp_alerts_total counter$/gm)?.length, 1);
  assert.match(all, /^lvskeeper_smtp_alerts_total\{result="sent"\} 3$/m);
  assert.match(all, /^lvskeeper_smtp_alerts_total\{result="failed"\} 1$/m);
  assert.match(all, /^lvskeeper_realserver_up\{rs="a b"\} 1$/m);
});

/** An attempt's fields a test of counting does not look at. */
const NO_RUN = { durationMs: 0, detail: 'failed', servers: [] } as const;

test('a check not run is counted by reason, not as a checker failure', () => {
  const m = new CheckerMetrics({ verdicts: () => [], pingDrops: () => [], wantedWeights: () => [], driver: () => undefined, telemetry: new RsTelemetry() });
  m.attempt({ type: 'TCP_CHECK', lateMs: 0, ok: false, notRun: 'EMFILE', ...NO_RUN });
  m.attempt({ type: 'TCP_CHECK', lateMs: 0, ok: false, notRun: 'EMFILE', ...NO_RUN });
  m.attempt({ type: 'MISC_CHECK', lateMs: 0, ok: false, notRun: 'EAGAIN', ...NO_RUN });
  m.attempt({ type: 'TCP_CHECK', lateMs: 0, ok: false, ...NO_RUN });
  const t = exposition(m.registry);
  assert.match(t, /^lvskeeper_checks_not_run_total\{reason="EMFILE"\} 2$/m);
  assert.match(t, /^lvskeeper_checks_not_run_total\{reason="EAGAIN"\} 1$/m);
  assert.match(t, /^lvskeeper_checker_results_total\{type="TCP_CHECK",result="failure"\} 1$/m);
  assert.doesNotMatch(t, /MISC_CHECK",result/);
});

test('a labelled series renders as inc and observe with the same labels do, and only once bumped', () => {
  const family = (r: Registry) => ({
    c: r.counter('c_total', 'c'),
    h: r.histogram('h_seconds', 'h', [0.01, 0.1]),
  });
  const direct = new Registry();
  const d = family(direct);
  d.c.inc({ type: 'HTTP_GET', result: 'success' });
  d.c.inc({ type: 'HTTP_GET', result: 'success' }, 2);
  d.h.observe({ type: 'HTTP_GET' }, 0.05);
  d.h.observe({ type: 'HTTP_GET' }, 0.005);
  const labelled = new Registry();
  const l = family(labelled);
  const ok = l.c.labelled({ type: 'HTTP_GET', result: 'success' });
  l.c.labelled({ type: 'HTTP_GET', result: 'failure' });
  const late = l.h.labelled({ type: 'HTTP_GET' });
  l.h.labelled({ type: 'TCP_CHECK' });
  ok.inc();
  ok.inc(2);
  late.observe(0.05);
  late.observe(0.005);
  const text = exposition(labelled);
  assert.equal(text, exposition(direct));
  assert.match(text, /^c_total\{type="HTTP_GET",result="success"\} 3$/m);
  assert.match(text, /^h_seconds_bucket\{type="HTTP_GET",le="0.01"\} 1$/m);
  assert.doesNotMatch(text, /failure|TCP_CHECK/);
});

test('checker attempts are counted by type and result, their start delay observed by type', () => {
  const m = new CheckerMetrics({ verdicts: () => [], pingDrops: () => [], wantedWeights: () => [], driver: () => undefined, telemetry: new RsTelemetry() });
  for (const [type, ok, lateMs] of [['HTTP_GET', true, 2], ['TCP_CHECK', false, 20], ['HTTP_GET', false, 200], ['HTTP_GET', true, 0]] as const) {
    m.attempt({ type, lateMs, ok, ...NO_RUN });
  }
  const t = exposition(m.registry);
  assert.match(t, /^lvskeeper_checker_results_total\{type="HTTP_GET",result="success"\} 2$/m);
  assert.match(t, /^lvskeeper_checker_results_total\{type="HTTP_GET",result="failure"\} 1$/m);
  assert.match(t, /^lvskeeper_checker_results_total\{type="TCP_CHECK",result="failure"\} 1$/m);
  assert.doesNotMatch(t, /TCP_CHECK",result="success"/);
  assert.match(t, /^lvskeeper_checker_start_delay_seconds_bucket\{type="HTTP_GET",le="0.005"\} 2$/m);
  assert.match(t, /^lvskeeper_checker_start_delay_seconds_bucket\{type="HTTP_GET",le="0.5"\} 3$/m);
  assert.match(t, /^lvskeeper_checker_start_delay_seconds_count\{type="TCP_CHECK"\} 1$/m);
  assert.match(t, /^lvskeeper_checker_start_delay_seconds_sum\{type="HTTP_GET"\} 0.202$/m);
});
