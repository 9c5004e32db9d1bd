// The vrrp_track_process counting core (process-tracker.ts) against keepalived 2.2.7's core/track_process.c rules:
// parameter matching, fork/exec/comm/exit, quorum boundaries, fork_delay and terminate_delay.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FakeClock } from '../../src/clock.js';
import type { TrackProcessDef } from '../../src/config/model.js';
import { silentLogger } from '../../src/log.js';
import { matches, ProcessTracker, type ProcInfo } from '../../src/vrrp/process-tracker.js';

const def = (over: Partial<TrackProcessDef>): TrackProcessDef => ({
  src: { file: 'k.conf', line: 1 }, name: 'p', process: 'nginx', paramMatch: 'none', fullCommand: false, weight: 0,
  reverse: false, quorum: 1, quorumMax: 2 ** 32 - 1, terminateDelayMs: 0, forkDelayMs: 0, ...over,
});

function harness(defs: TrackProcessDef[], proc: Map<number, ProcInfo> = new Map()) {
  const clock = new FakeClock();
  const changes: string[] = [];
  const tracker = new ProcessTracker(defs, {
    clock, logger: silentLogger(), read: (pid) => proc.get(pid), onQuorum: (name, up) => changes.push(`${name} ${up ? 'up' : 'down'}`),
  });
  return { clock, changes, tracker, proc };
}

test('parameter matching: exact, partial, initial, and full_command on argv[0]', () => {
  const cmd = (s: string): ProcInfo => ({ cmdline: s.split(' ').map((w) => `${w}\0`).join('') });
  const exact = def({ fullCommand: true, paramMatch: 'exact', params: '-c\0/etc/x\0' });
  assert.ok(matches(exact, cmd('nginx -c /etc/x')));
  assert.ok(!matches(exact, cmd('nginx -c /etc/x -g')));
  assert.ok(!matches(exact, cmd('nginx -c')));
  const noParams = def({ fullCommand: true, paramMatch: 'exact' });
  assert.ok(matches(noParams, cmd('nginx')) && !matches(noParams, cmd('nginx -g')));
  const partial = def({ fullCommand: true, paramMatch: 'partial', params: '-c\0' });
  assert.ok(matches(partial, cmd('nginx -c /etc/x')) && !matches(partial, cmd('nginx -g')));
  const initial = def({ fullCommand: true, paramMatch: 'initial', params: '-c\0/etc/\0' });
  assert.ok(matches(initial, cmd('nginx -c /etc/nginx.conf')) && !matches(initial, cmd('nginx -c /var/x')));
  assert.ok(matches(def({ fullCommand: true }), cmd('nginx -anything')));
  assert.ok(!matches(def({ fullCommand: true }), cmd('/usr/sbin/nginx')));
  assert.ok(matches(def({}), { comm: 'nginx' }) && !matches(def({}), { comm: 'nginx2' }));
});

test('scan, fork, exec and exit move the count; quorum and quorum_max decide, each change once', () => {
  const { tracker, changes, proc } = harness([def({ quorum: 2, quorumMax: 3 })]);
  tracker.scan([[10, { comm: 'nginx' }], [11, { comm: 'bash' }]]);
  assert.equal(tracker.quorum('p'), false);
  tracker.fork(10, 12);
  assert.deepEqual(changes, ['p up']);
  tracker.fork(11, 13);
  tracker.fork(10, 14);
  tracker.fork(10, 15);
  assert.deepEqual(changes, ['p up', 'p down']);
  // The fork of a worker that execs into something else: no longer counted.
  proc.set(15, { comm: 'sh' });
  tracker.exec(15);
  assert.deepEqual(changes, ['p up', 'p down', 'p up']);
  tracker.exit(13);
  tracker.exit(14);
  tracker.exit(12);
  assert.deepEqual(changes, ['p up', 'p down', 'p up', 'p down']);
  // An untracked process that execs nginx.
  proc.set(20, { comm: 'nginx' });
  tracker.exec(20);
  assert.deepEqual(changes, ['p up', 'p down', 'p up', 'p down', 'p up']);
});

test('terminate_delay holds a lost quorum back and a return within it cancels; fork_delay holds a gain back', () => {
  const { tracker, changes, clock } = harness([def({ terminateDelayMs: 1000, forkDelayMs: 500 })]);
  tracker.scan([[10, { comm: 'nginx' }]]);
  assert.equal(tracker.quorum('p'), true);
  tracker.exit(10);
  clock.advance(900);
  assert.deepEqual(changes, []);
  clock.advance(100);
  assert.deepEqual(changes, ['p down']);
  // Gained by a fork of a tracked parent: only after fork_delay.
  const h2 = harness([def({ forkDelayMs: 500, terminateDelayMs: 1000, quorum: 2 })]);
  h2.tracker.scan([[10, { comm: 'nginx' }]]);
  h2.tracker.fork(10, 11);
  h2.clock.advance(499);
  assert.deepEqual(h2.changes, []);
  h2.clock.advance(1);
  assert.deepEqual(h2.changes, ['p up']);
  // Lost and back within terminate_delay: no change at all.
  h2.tracker.exit(11);
  h2.clock.advance(300);
  h2.tracker.fork(10, 12);
  h2.clock.advance(2000);
  assert.deepEqual(h2.changes, ['p up']);
});

test('comm changes: a renamed process leaves the comm-matched count, a process renamed to the name joins it', () => {
  const { tracker, changes } = harness([def({})]);
  tracker.scan([[10, { comm: 'nginx' }]]);
  tracker.comm(10, 'worker');
  assert.deepEqual(changes, ['p down']);
  tracker.comm(11, 'nginx');
  assert.deepEqual(changes, ['p down', 'p up']);
  tracker.comm(11, 'nginx');
  assert.deepEqual(changes, ['p down', 'p up']);
});

test('quorum_max 0: in quorum while nothing runs', () => {
  const { tracker, changes, proc } = harness([def({ quorum: 0, quorumMax: 0 })]);
  tracker.scan([]);
  assert.equal(tracker.quorum('p'), true);
  proc.set(5, { comm: 'nginx' });
  tracker.exec(5);
  tracker.exit(5);
  assert.deepEqual(changes, ['p down', 'p up']);
});
