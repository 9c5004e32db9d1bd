// The supervisor's young generation (src/daemon/young-generation.ts): after a burst that grew V8's new space, the
// look gives it back once the process is quiet; without it the space stays grown. Each case runs in a fresh node.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { repoRoot } from '../support/tier.js';
import { QUIET_LOOKS, RESTING_BYTES, youngGenerationLook, type NewSpaceLook, type YoungGenerationLook } from '../../src/daemon/young-generation.js';

const MB = 1024 * 1024;

test('a look: quiet when the new space has grown and a little was allocated with no collection between', () => {
  const grown = 30 * MB;
  const look = (before: number, now: number, resident = grown): YoungGenerationLook =>
    youngGenerationLook(QUIET_LOOKS - 1, { resident, used: before * MB }, { resident, used: now * MB }, 5000);
  assert.deepEqual(look(10, 10.25), { quiet: QUIET_LOOKS, scavenge: true });
  // Nothing allocated: quiet, but V8 resizes only on a throughput that is not zero (heap.cc Heap::ShouldResizeNewSpace).
  assert.deepEqual(look(10, 10), { quiet: QUIET_LOOKS, scavenge: false });
  // Less in use than before: a collection came between.
  assert.deepEqual(look(10, 2), { quiet: 0, scavenge: false });
  // Allocating at V8's own bar, 1,000 bytes per ms.
  assert.deepEqual(look(1, 1 + 5_000_000 / MB), { quiet: 0, scavenge: false });
  // At rest already.
  assert.deepEqual(look(0, 1 / 8, RESTING_BYTES), { quiet: 0, scavenge: false });
});

test('a look: a new space no larger than the last scavenge left it is at rest, though over RESTING_BYTES', () => {
  const left = 4.8 * MB;
  const at = (resident: number, used: number): NewSpaceLook => ({ resident, used: used * MB });
  assert.ok(left > RESTING_BYTES);
  assert.deepEqual(youngGenerationLook(QUIET_LOOKS - 1, at(left, 1), at(left, 1.25), 5000, left), { quiet: 0, scavenge: false });
  // Grown past it since: quiet again.
  assert.deepEqual(youngGenerationLook(QUIET_LOOKS - 1, at(8 * MB, 1), at(8 * MB, 1.25), 5000, left), { quiet: QUIET_LOOKS, scavenge: true });
  // A floor under RESTING_BYTES (V8 shrank the space itself) still leaves RESTING_BYTES at rest.
  assert.deepEqual(youngGenerationLook(QUIET_LOOKS - 1, at(RESTING_BYTES, 1), at(RESTING_BYTES, 1.25), 5000, MB), { quiet: 0, scavenge: false });
});

test('the scavenge waits for QUIET_LOOKS quiet looks in a row; a busy look starts the count again', () => {
  const at = (used: number): NewSpaceLook => ({ resident: 30 * MB, used: used * MB });
  assert.equal(QUIET_LOOKS, 2);
  const first = youngGenerationLook(0, at(10), at(10.25), 5000);
  assert.deepEqual(first, { quiet: 1, scavenge: false });
  assert.deepEqual(youngGenerationLook(first.quiet, at(10.25), at(10.5), 5000), { quiet: 2, scavenge: true });
  // 5 MB in 5 s between: busy, so the count starts again.
  assert.deepEqual(youngGenerationLook(first.quiet, at(10.25), at(15.25), 5000), { quiet: 0, scavenge: false });
});

/** No watch; a watch; a watch held throughout, as for a reload that runs on; a watch held for the first second. */
type Watching = 'none' | 'watched' | 'held' | 'resumed';

/**
 * A node process that grows its new space with objects surviving scavenges, then trickles a few allocations for 4 s,
 * watching (or not) with a look every 100 ms; it prints the new space's resident bytes after the burst and at the end.
 */
function run(watching: Watching): { grown: number; end: number } {
  const module = join(repoRoot, 'dist/src/daemon/young-generation.js');
  const source = `
    import { getHeapSpaceStatistics } from 'node:v8';
    import { watchYoungGeneration } from ${JSON.stringify(module)};
    const resident = () => getHeapSpaceStatistics().find((s) => s.space_name === 'new_space').physical_space_size;
    let kept = [];
    for (let r = 0; r < 40; r++) {
      const a = [];
      for (let i = 0; i < 100000; i++) a.push({ i, s: 'x' + i });
      kept.push(a);
      if (kept.length > 3) kept.shift();
    }
    kept = [];
    const grown = resident();
    const watching = ${JSON.stringify(watching)};
    const watch = watching === 'none' ? undefined : watchYoungGeneration(100);
    if (watching === 'held' || watching === 'resumed') watch.hold();
    if (watching === 'resumed') setTimeout(() => watch.resume(), 1000);
    let trickle = [];
    const timer = setInterval(() => { trickle.push({ at: Date.now() }); if (trickle.length > 50) trickle = []; }, 5);
    setTimeout(() => { clearInterval(timer); watch?.stop(); console.log(JSON.stringify({ grown, end: resident() })); }, 4000);
  `;
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', source], { encoding: 'utf8', timeout: 60_000 });
  assert.equal(r.status, 0, r.stderr);
  return JSON.parse(r.stdout) as { grown: number; end: number };
}

test('a grown new space is given back once the process is quiet, and stays grown without the look', () => {
  const watched = run('watched');
  assert.ok(watched.grown > 8 * MB, `the burst grew the new space to ${(watched.grown / MB).toFixed(1)} MB only`);
  assert.ok(watched.end <= RESTING_BYTES, `${(watched.end / MB).toFixed(1)} MB resident after the quiet time`);
  const unwatched = run('none');
  assert.ok(unwatched.end > 8 * MB, `${(unwatched.end / MB).toFixed(1)} MB resident without the look`);
});

test('a held watch scavenges nothing (a reload runs), and gives the space back once resumed', () => {
  const held = run('held');
  assert.ok(held.end > 8 * MB, `${(held.end / MB).toFixed(1)} MB resident with the look held throughout`);
  const resumed = run('resumed');
  assert.ok(resumed.end <= RESTING_BYTES, `${(resumed.end / MB).toFixed(1)} MB resident after the hold ended`);
});
