// The checker process's V8 follows the config's size (src/daemon/checker-node-flags.ts): the flags a spawn gets, and a
// running daemon's checker process started with them, as its heap limit in /metrics and its threads show.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { checkerNodeFlags } from '../../src/daemon/checker-node-flags.js';
import { until } from './drain-harness.js';
import { DaemonUnderTest, httpConfig } from './daemon-setup.js';

const METRICS = 19754;

test('1 MiB of semi-space per 3,750 real servers, none given from V8\'s own 16 MiB up; a V8 thread per 7,500', () => {
  const cases: [number, string[]][] = [
    [0, ['--max-semi-space-size=1', '--v8-pool-size=1']],
    [1_000, ['--max-semi-space-size=1', '--v8-pool-size=1']],
    [3_751, ['--max-semi-space-size=2', '--v8-pool-size=1']],
    [7_501, ['--max-semi-space-size=3', '--v8-pool-size=2']],
    [10_000, ['--max-semi-space-size=3', '--v8-pool-size=2']],
    [22_500, ['--max-semi-space-size=6', '--v8-pool-size=3']],
    [22_501, ['--max-semi-space-size=7']],
    [30_000, ['--max-semi-space-size=8']],
    [56_250, ['--max-semi-space-size=15']],
    [56_251, []],
  ];
  for (const [rs, flags] of cases) assert.deepEqual(checkerNodeFlags(rs, []), flags, `${rs} real servers`);
  // node's own command line decides when it says, in either spelling.
  assert.deepEqual(checkerNodeFlags(1_000, ['--max-semi-space-size=8']), ['--v8-pool-size=1']);
  assert.deepEqual(checkerNodeFlags(1_000, ['--v8_pool_size=2']), ['--max-semi-space-size=1']);
  assert.deepEqual(checkerNodeFlags(1_000, ['--inspect']), ['--max-semi-space-size=1', '--v8-pool-size=1']);
});

test('a daemon\'s checker process runs with the young generation and the V8 threads its config sizes', { timeout: 60_000 }, async (t) => {
  const d = new DaemonUnderTest(t, httpConfig(19751, [[19752, 1], [19753, 1]]));
  d.start(['--metrics', `127.0.0.1:${METRICS}`, '-c', join(d.dir, 'checkers.pid')]);
  // /proc/PID/cmdline cannot say (the child renames itself); the heap limit does: V8's young generation is three
  // semi-spaces, so a 1 MiB semi-space takes 45 MiB off the supervisor's (node's default 16 MiB).
  const limits = await until('both processes\' heap limits in /metrics', 30_000, async () => {
    const text = await fetch(`http://127.0.0.1:${METRICS}/metrics`).then((r) => r.text(), () => '');
    const of = (p: string): number | undefined => {
      const m = new RegExp(`^lvskeeper_heap_size_limit_bytes\\{process="${p}"\\} (\\d+)$`, 'm').exec(text);
      return m ? Number(m[1]) : undefined;
    };
    const [supervisor, checker] = [of('supervisor'), of('checker')];
    return supervisor !== undefined && checker !== undefined ? { supervisor, checker } : undefined;
  });
  assert.equal(limits.supervisor - limits.checker, 3 * 15 * 2 ** 20, JSON.stringify(limits));
  // Both processes run the same threads but V8's workers: node's four in the supervisor, one here. libuv's pool starts
  // in each for its trim 5 s after the start (free-memory.ts); before then the difference is not three.
  const threads = (pid: number): number => readdirSync(`/proc/${pid}/task`).length;
  const checkerPid = Number(readFileSync(join(d.dir, 'checkers.pid'), 'utf8'));
  await until('three threads fewer in the checker process', 20_000, async () => (threads(d.pid) - threads(checkerPid) === 3 ? true : undefined));
});
