import assert from 'node:assert/strict';
import { test } from 'node:test';
import { firstDelayMs, initialState, step, type PolicyState } from '../../checkers/policy.js';
import { timing } from './model.js';

const plain = { urls: 1, http: false, fastRecovery: false };

/** Runs a sequence of results and returns each step's transition and delay. */
function run(s: PolicyState, t: ReturnType<typeof timing>, results: boolean[], opts = plain) {
  return results.map((ok) => {
    const r = step(s, t, ok, opts);
    s = r.state;
    return { t: r.transition ?? '-', delay: r.delayMs, log: r.log.kind };
  });
}

test('without alpha a checker starts up and its first failure takes it down at once', () => {
  const t = timing({ retry: 3, delayBeforeRetryMs: 500, delayLoopMs: 2000 });
  const s = initialState(t);
  assert.deepEqual(s, { up: true, retryIt: 3, hasRun: false, urlIndex: 0 });
  assert.deepEqual(run(s, t, [false]), [{ t: 'down', delay: 2000, log: 'failed' }]);
});

test('MISC_CHECK: a first run that takes an up checker down is worded from retry, as check_misc.c does ("after 1 retry")', () => {
  const t = timing({ retry: 1, delayBeforeRetryMs: 500, delayLoopMs: 2000 });
  assert.deepEqual(step(initialState(t), t, false, { ...plain, misc: true }).log, { kind: 'failed', retries: 1 });
  assert.deepEqual(step(initialState(t), t, false, plain).log, { kind: 'failed' }, 'TCP and the others: no retries on a first run');
});

test('once up, retry+1 consecutive failures with delay_before_retry between take it down', () => {
  const t = timing({ retry: 2, delayBeforeRetryMs: 500, delayLoopMs: 2000 });
  const steps = run(initialState(t), t, [true, false, false, false, false, true]);
  assert.deepEqual(steps, [
    { t: '-', delay: 2000, log: 'success' },
    { t: '-', delay: 500, log: 'retrying' },
    { t: '-', delay: 500, log: 'retrying' },
    { t: 'down', delay: 2000, log: 'failed' },
    { t: '-', delay: 2000, log: 'still-down' },
    { t: 'up', delay: 2000, log: 'success' },
  ]);
  const down = step(step(step(step(initialState(t), t, true, plain).state, t, false, plain).state, t, false, plain).state, t, false, plain);
  assert.deepEqual(down.log, { kind: 'failed', retries: 2 });
});

test('a success in the middle of retries resets the count', () => {
  const t = timing({ retry: 1, delayBeforeRetryMs: 100, delayLoopMs: 1000 });
  assert.deepEqual(
    run(initialState(t), t, [true, false, true, false, false]).map((x) => x.t),
    ['-', '-', '-', '-', 'down'],
  );
});

test('alpha starts down; one success brings it up', () => {
  const t = timing({ alpha: true, retry: 1 });
  const s = initialState(t);
  assert.equal(s.up, false);
  assert.deepEqual(run(s, t, [false, true]), [
    { t: '-', delay: 1000, log: 'failed' },
    { t: 'up', delay: 1000, log: 'success' },
  ]);
});

test('HTTP: URLs are checked one per delay_loop; a failed round waits max(delay_before_retry, delay_loop)', () => {
  const t = timing({ retry: 0, delayBeforeRetryMs: 3000, delayLoopMs: 1000 });
  const http = { urls: 3, http: true, fastRecovery: false };
  const s = initialState(t);
  const a = step(s, t, true, http);
  assert.deepEqual([a.state.urlIndex, a.delayMs, a.log.kind], [1, 1000, 'url-ok']);
  const b = step(a.state, t, true, http);
  const c = step(b.state, t, true, http);
  assert.deepEqual([c.state.urlIndex, c.log.kind], [0, 'success']);
  const f = step(b.state, t, false, http);
  assert.deepEqual([f.transition, f.delayMs, f.state.urlIndex], ['down', 3000, 0]);
  // fast_recovery removes the gap between URLs while the checker is down.
  const fr = step({ ...f.state }, t, true, { ...http, fastRecovery: true });
  assert.equal(fr.delayMs, 0);
});

test('retry 0 goes down on the first failure with "failed."', () => {
  const t = timing({ retry: 0 });
  const r = run(initialState(t), t, [true, false]);
  assert.deepEqual(r[1], { t: 'down', delay: 1000, log: 'failed' });
});

test('first check at 1 s plus a random share of warmup', () => {
  assert.equal(firstDelayMs({ warmupMs: 0 }, () => 0.99), 1000);
  assert.equal(firstDelayMs({ warmupMs: 4000 }, () => 0.5), 3000);
  assert.equal(firstDelayMs({ warmupMs: 4000 }, () => 0), 1000);
});

test('HTTP counts its first run as run (check_http.c timeout_epilog sets has_run before epilog)', () => {
  const http = { urls: 1, http: true, fastRecovery: false };
  const t = timing({ retry: 2, delayBeforeRetryMs: 500, delayLoopMs: 2000 });
  // Up at start: the first failure takes it down saying `failed after 2 retries.`, where TCP says `failed.`.
  assert.deepEqual(step(initialState(t), t, false, http).log, { kind: 'failed', retries: 2 });
  assert.deepEqual(step(initialState(t), t, false, plain).log, { kind: 'failed' });
  // alpha: down at start; the first failure logs nothing for HTTP, `failed.` for TCP (check_tcp.c tcp_epilog).
  const a = timing({ retry: 2, alpha: true });
  assert.equal(step(initialState(a), a, false, http).log.kind, 'still-down');
  assert.equal(step(initialState(a), a, false, plain).log.kind, 'failed');
});
