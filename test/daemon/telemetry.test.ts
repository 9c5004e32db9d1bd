// Per-real-server telemetry end to end: a daemon on the userspace plane checks two HTTP backends; one is stopped and
// started again. `events --json` carries each transition with its reason, and /metrics the check-duration histogram,
// the transitions counter and the last failure's reason, per real server.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { get } from 'node:http';
import { join } from 'node:path';
import { Running, until } from './drain-harness.js';
import { DaemonUnderTest, httpConfig, startBackends } from './daemon-setup.js';
import { DURATION_BUCKETS_S, failureReason, RsTelemetry, TIMELINE_BUCKET_MS, TIMELINE_BUCKETS, TIMELINE_BYTES, TIMELINE_SPAN_MS, timelineBucketMs, TRANSITIONS_KEPT } from '../../src/daemon/rs-telemetry.js';
import { fromHalf, slotBytes, toHalf } from '../../src/daemon/rs-timeline-slab.js';

const VS_PORT = 19710;
const WEB1 = 19711;
const WEB2 = 19712;
const METRICS = 19713;

function scrape(): Promise<string> {
  return new Promise((resolve, reject) => {
    get({ host: '127.0.0.1', port: METRICS, path: '/metrics' }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve(body));
    }).on('error', reject);
  });
}

test('failure details sort into the bounded reasons', () => {
  const cases: [string, string][] = [
    ['Timeout connecting server [127.0.0.1]:tcp:80.', 'timeout'],
    ['timeout', 'timeout'],
    ['Error connecting server [127.0.0.1]:tcp:80.', 'connect'],
    ['failed', 'connect'],
    ['HTTP status code error to [127.0.0.1]:tcp:80 url(/), status_code [500].', 'status'],
    ['MD5 digest error to [127.0.0.1]:tcp:80 url(/), MD5SUM [x].', 'content'],
    ['exited with status 1', 'exit'],
    ['Error reading data from server [127.0.0.1]:tcp:80 (ECONNRESET).', 'network'],
    ['Bad things', 'other'],
  ];
  for (const [detail, reason] of cases) assert.equal(failureReason(detail), reason, detail);
});

test('the timeline keeps four hours of buckets and the last transitions, whatever runs longer', () => {
  const t = new RsTelemetry();
  const vs = '[192.0.2.1]:tcp:80';
  const rs = `${vs}/[192.0.2.2]:tcp:80`;
  const start = 1_000 * TIMELINE_BUCKET_MS;
  // Six hours of checks every 10 s, one failure in each bucket.
  for (let at = start; at < start + 6 * 3600_000; at += 10_000) t.attempt(vs, rs, at, at % TIMELINE_BUCKET_MS !== 0, 20, 'Error connecting server x.');
  for (let i = 0; i < 100; i++) t.transition(vs, rs, start + i, i % 2 === 1);
  const line = t.timeline(rs, 0)!;
  assert.equal(line.checks.length, TIMELINE_BUCKETS);
  assert.equal(line.start, start + 2 * 3600_000, 'the oldest two hours are gone');
  const perBucket = TIMELINE_BUCKET_MS / 10_000;
  assert.deepEqual([line.checks.at(-1), line.failures.at(-1), line.meanMs.at(-1)], [perBucket, 1, 20]);
  assert.ok(line.checks.every((c) => c === perBucket));
  // A gap: buckets with no check are kept as such, the span stays contiguous.
  t.attempt(vs, rs, start + 6 * 3600_000 + 5 * TIMELINE_BUCKET_MS, true, 10, 'ok');
  const gap = t.timeline(rs, 0)!;
  assert.equal(gap.start, start + 2 * 3600_000 + 6 * TIMELINE_BUCKET_MS);
  assert.deepEqual([...gap.checks.slice(-6)], [0, 0, 0, 0, 0, 1]);
  assert.equal(line.transitions.length, TRANSITIONS_KEPT);
  assert.deepEqual(line.transitions.at(-1), { at: start + 99, up: true });
  assert.deepEqual(line.transitions.at(-2), { at: start + 98, up: false, reason: 'connect', detail: 'Error connecting server x.' });
  assert.equal(t.row(rs)!.flaps, 100);
  // Nothing changed since this revision: no timeline is sent again.
  assert.equal(t.timeline(rs, t.revision), undefined);
  t.forget([`${vs}/[192.0.2.2]:tcp:80`]);
  assert.equal(t.row(rs), undefined);
  // The forgotten server's slot is taken by the next one, its numbers zeroed.
  const next = `${vs}/[192.0.2.3]:tcp:80`;
  t.attempt(vs, next, start, true, 3, 'ok');
  const fresh = t.timeline(next, 0)!;
  assert.deepEqual([fresh.start, [...fresh.checks], [...fresh.failures], [...fresh.meanMs]], [start, [1], [0], [3]]);
  assert.deepEqual(Array.from([...t.durationSeries()][0]!.counts), [0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1]);
});

test('a bucket\'s mean duration is a binary16: every finite value round-trips, others round to the nearest', () => {
  // Float32Array rounds a binary16 value exactly (its 11 bits fit), and is the reference for the nearest one.
  for (let h = 0; h <= 0x7bff; h++) assert.equal(toHalf(fromHalf(h)), h, `bits ${h.toString(16)}`);
  assert.deepEqual([fromHalf(0x3c00), fromHalf(0x7bff), fromHalf(1)], [1, 65504, 2 ** -24]);
  for (let h = 1; h < 0x7bff; h++) {
    const [lo, hi] = [fromHalf(h), fromHalf(h + 1)];
    assert.equal(toHalf(lo + (hi - lo) * 0.49), h);
    assert.equal(toHalf(lo + (hi - lo) * 0.51), h + 1);
  }
  assert.deepEqual([toHalf(0), toHalf(70_000), toHalf(65_519)], [0, 0x7bff, 0x7bff]);
});

test('a bucket\'s mean follows the checks that fell in it', () => {
  const t = new RsTelemetry();
  const vs = '[192.0.2.1]:tcp:80';
  const rs = `${vs}/[192.0.2.2]:tcp:80`;
  const at = 3_000 * TIMELINE_BUCKET_MS;
  // 60 checks of 0.5 ms … 30 ms, then one of 2 s: means 15.25 ms and 48.79 ms.
  for (let k = 1; k <= 60; k++) t.attempt(vs, rs, at + k, true, k / 2, 'ok');
  const mean = t.timeline(rs, 0)!.meanMs[0]!;
  assert.ok(Math.abs(mean - 15.25) < 15.25 / 500, `mean ${mean}`);
  t.attempt(vs, rs, at + 61, true, 2000, 'ok');
  const after = t.timeline(rs, 0)!.meanMs[0]!;
  assert.ok(Math.abs(after - (15.25 * 60 + 2000) / 61) < 0.1, `mean ${after}`);
});

test('thousands of servers keep their own numbers across the slab\'s chunks, and a reload frees and reuses slots', () => {
  const t = new RsTelemetry();
  const vs = '[192.0.2.1]:tcp:80';
  const id = (i: number): string => `${vs}/[10.0.${i >> 8}.${i & 255}]:tcp:80`;
  const at = 2_000 * TIMELINE_BUCKET_MS;
  // Server i is checked i % 7 + 1 times, i % 3 of them failing, each taking i % 11 ms.
  const N = 2_500;
  const fill = (from: number, to: number): void => {
    for (let i = from; i < to; i++) for (let k = 0; k <= i % 7; k++) t.attempt(vs, id(i), at, k >= i % 3, i % 11, 'x');
  };
  fill(0, N);
  t.forget(Array.from({ length: N }, (_, i) => id(i)).filter((_, i) => i % 2 === 1));
  fill(N, N + 1_000);
  const histograms = new Map([...t.durationSeries()].map((h) => [`${vs}/${h.labels['rs']}`, h]));
  for (let i = 0; i < N + 1_000; i++) {
    if (i < N && i % 2 === 1) {
      assert.equal(t.timeline(id(i), 0), undefined, id(i));
      continue;
    }
    const line = t.timeline(id(i), 0)!;
    const checks = i % 7 + 1;
    assert.deepEqual([line.start, [...line.checks], [...line.failures], [...line.meanMs]], [at, [checks], [Math.min(i % 3, checks)], [i % 11]], id(i));
    assert.equal(histograms.get(id(i))!.count, checks);
    assert.equal(Array.from(histograms.get(id(i))!.counts).at(-1), checks, id(i));
  }
});

test('past 11,275 servers the buckets widen so that every timeline fits the budget', () => {
  const bytes = (servers: number): number => servers * slotBytes(TIMELINE_SPAN_MS / timelineBucketMs(servers), DURATION_BUCKETS_S.length);
  assert.deepEqual([1, 1_000, 11_275, 11_276, 30_000, 145_000].map((n) => timelineBucketMs(n) / TIMELINE_BUCKET_MS), [1, 1, 1, 2, 4, 16]);
  for (const n of [11_275, 11_276, 22_000, 30_000, 60_000, 110_000]) assert.ok(bytes(n) <= TIMELINE_BYTES, `${n}: ${bytes(n)} bytes`);
});

test('a reload that widens the buckets merges them, one that narrows them spreads each evenly: no check is lost', () => {
  const t = new RsTelemetry();
  const vs = '[192.0.2.1]:tcp:80';
  const rs = `${vs}/[192.0.2.2]:tcp:80`;
  const quiet = `${vs}/[192.0.2.3]:tcp:80`;
  t.transition(vs, quiet, 0, false);
  // Five hours from minute 4,000 (a multiple of four): six checks a minute, minute m's taking m % 7 + 1 ms and the
  // first of every fifth minute failing.
  const m0 = 4_000;
  for (let m = m0; m < m0 + 300; m++) for (let k = 0; k < 6; k++) t.attempt(vs, rs, m * 60_000 + k * 10_000, k > 0 || m % 5 !== 0, m % 7 + 1, 'x');
  const kept = (from: number, to: number): number[] => Array.from({ length: to - from }, (_, i) => from + i);
  const minutes = kept(m0 + 60, m0 + 300);
  const failed = (ms: number[]): number => ms.filter((m) => m % 5 === 0).length;

  t.size(30_000);
  const wide = t.timeline(rs, 0)!;
  assert.deepEqual([wide.bucketMs, wide.start, wide.checks.length], [4 * 60_000, (m0 + 60) * 60_000, 60]);
  for (let j = 0; j < 60; j++) {
    const span = minutes.slice(4 * j, 4 * j + 4);
    assert.deepEqual([wide.checks[j], wide.failures[j]], [24, failed(span)], `bucket ${j}`);
    const mean = span.reduce((a, m) => a + (m % 7) + 1, 0) / 4;
    assert.ok(Math.abs(wide.meanMs[j]! - mean) < mean / 100, `bucket ${j}: ${wide.meanMs[j]} against ${mean}`);
  }
  assert.ok(t.timeline(quiet, 0), 'a server with no check yet moves too');
  assert.equal([...t.durationSeries()].find((h) => h.labels['rs'] === '[192.0.2.2]:tcp:80')!.count, 1_800);
  // The next check lands in the wide bucket of its minute.
  t.attempt(vs, rs, (m0 + 301) * 60_000, false, 50, 'x');
  const next = t.timeline(rs, 0)!;
  assert.deepEqual([next.checks.length, next.checks.at(-1), next.failures.at(-1), next.start], [60, 1, 1, (m0 + 64) * 60_000]);

  t.size(1);
  const narrow = t.timeline(rs, 0)!;
  assert.equal(narrow.bucketMs, TIMELINE_BUCKET_MS);
  // The last wide bucket ends at the last check (minute m0 + 301): minutes m0 + 64 … m0 + 301 spread from their buckets.
  assert.deepEqual([narrow.start, narrow.checks.length], [(m0 + 64) * 60_000, 238]);
  const sum = (a: ArrayLike<number>, from: number, to: number): number => Array.prototype.slice.call(a, from, to).reduce((x: number, y: number) => x + y, 0);
  for (let j = 0; j < 59; j++) {
    assert.deepEqual([...narrow.checks.slice(4 * j, 4 * j + 4)], [6, 6, 6, 6], `minutes of bucket ${j}`);
    assert.equal(sum(narrow.failures, 4 * j, 4 * j + 4), wide.failures[j + 1], `failures of bucket ${j}`);
    assert.ok(narrow.meanMs.slice(4 * j, 4 * j + 4).every((v) => v === wide.meanMs[j + 1]));
  }
  assert.deepEqual([...narrow.checks.slice(236)], [1, 0], 'the newest wide bucket, up to its last check');
  assert.equal([...t.durationSeries()].find((h) => h.labels['rs'] === '[192.0.2.2]:tcp:80')!.count, 1_801);
});

test('events --json and /metrics carry each real server transition with its reason and check durations', { timeout: 120_000 }, async (t) => {
  const [, web2] = await startBackends(t, [WEB1, WEB2]);
  const d = new DaemonUnderTest(t, httpConfig(VS_PORT, [[WEB1, 1], [WEB2, 1]]));
  d.start(['--metrics', `127.0.0.1:${METRICS}`]);
  const socket = join(d.dir, 'control.sock');
  await until('the checks of both servers in /metrics', 30_000, async () => {
    const m = await scrape().catch(() => '');
    return /lvskeeper_realserver_check_duration_seconds_count\{vs="\[127\.0\.0\.1\]:tcp:19710",rs="\[127\.0\.0\.1\]:tcp:19712"\} [1-9]/.test(m) ? m : undefined;
  });
  const events = new Running(['events', '--json', '--socket', socket]);
  t.after(() => events.stop('SIGKILL'));
  await until('the events subscription', 10_000, () => (/following events/.test(events.stderr) ? true : undefined));

  await web2!.stop();
  const down = await events.waitFor(/"kind":"realserver".*"up":false/, 20_000);
  const e = JSON.parse(events.lines[down]!) as Record<string, unknown>;
  assert.equal(e['vs'], '[127.0.0.1]:tcp:19710');
  assert.equal(e['rs'], '[127.0.0.1]:tcp:19712');
  assert.equal(e['reason'], 'connect');
  assert.match(String(e['detail']), /^Error connecting server \[127\.0\.0\.1\]:tcp:19712\.$/);
  assert.equal(typeof e['checkMs'], 'number');
  assert.match(String(e['time']), /^\d{4}-\d\d-\d\dT/);

  await web2!.start();
  const up = await events.waitFor(/"kind":"realserver".*"up":true/, 20_000, down);
  assert.equal((JSON.parse(events.lines[up]!) as Record<string, unknown>)['rs'], '[127.0.0.1]:tcp:19712');
  const m = await scrape();
  const labels = 'vs="[127.0.0.1]:tcp:19710",rs="[127.0.0.1]:tcp:19712"';
  assert.ok(m.includes(`lvskeeper_realserver_transitions_total{${labels},to="down"} 1\n`), m);
  assert.ok(m.includes(`lvskeeper_realserver_transitions_total{${labels},to="up"} 1\n`), m);
  assert.ok(m.includes(`lvskeeper_realserver_transitions_total{vs="[127.0.0.1]:tcp:19710",rs="[127.0.0.1]:tcp:19711",to="down"} 0\n`), m);
  assert.match(m, /^lvskeeper_realserver_last_failure_timestamp_seconds\{vs="\[127\.0\.0\.1\]:tcp:19710",rs="\[127\.0\.0\.1\]:tcp:19712",reason="connect"\} \d+(\.\d+)?$/m);
  assert.doesNotMatch(m, /last_failure_timestamp_seconds\{[^}]*19711/);
  assert.match(m, /^lvskeeper_realserver_check_duration_seconds_bucket\{vs="\[127\.0\.0\.1\]:tcp:19710",rs="\[127\.0\.0\.1\]:tcp:19711",le="\+Inf"\} [1-9]\d*$/m);
  assert.match(m, /^# TYPE lvskeeper_realserver_check_duration_seconds histogram$/m);
});
