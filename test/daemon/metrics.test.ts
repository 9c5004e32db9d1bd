import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { DaemonMetrics } from '../../src/daemon/daemon-metrics.js';
import { Registry, serveMetrics } from '../../src/daemon/metrics.js';

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
  const server = await serveMetrics(registry, '127.0.0.1', 0);
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

test('a check not run is counted by reason, not as a checker failure', () => {
  const m = new DaemonMetrics({ vrrp: () => [], checkers: () => [], pingDrops: () => [], ipvs: () => undefined, driver: () => undefined });
  m.attempt({ type: 'TCP_CHECK', lateMs: 0, ok: false, notRun: 'EMFILE' });
  m.attempt({ type: 'TCP_CHECK', lateMs: 0, ok: false, notRun: 'EMFILE' });
  m.attempt({ type: 'MISC_CHECK', lateMs: 0, ok: false, notRun: 'EAGAIN' });
  m.attempt({ type: 'TCP_CHECK', lateMs: 0, ok: false });
  const text = m.registry.render();
  assert.match(text, /^lvskeeper_checks_not_run_total\{reason="EMFILE"\} 2$/m);
  assert.match(text, /^lvskeeper_checks_not_run_total\{reason="EAGAIN"\} 1$/m);
  assert.match(text, /^lvskeeper_checker_results_total\{type="TCP_CHECK",result="failure"\} 1$/m);
  assert.doesNotMatch(text, /MISC_CHECK",result/);
});
