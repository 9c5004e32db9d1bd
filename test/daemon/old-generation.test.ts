// The checker process's old generation (src/daemon/old-generation.ts): once it has grown, a look compacts it and the
// pages its dead objects left are given back, where a full collection alone gives back none of a fragmented old
// generation. Each case runs in a fresh node.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { repoRoot } from '../support/tier.js';
import { COMPACT_AFTER_BYTES, oldGenerationGrown } from '../../src/daemon/old-generation.js';

const MB = 1024 * 1024;

test('grown: by COMPACT_AFTER_BYTES since the last compaction, or by a tenth of what it left when that is more', () => {
  assert.equal(oldGenerationGrown(0, COMPACT_AFTER_BYTES), true);
  assert.equal(oldGenerationGrown(0, COMPACT_AFTER_BYTES - 1), false);
  assert.equal(oldGenerationGrown(5 * MB, 5 * MB + COMPACT_AFTER_BYTES), true);
  assert.equal(oldGenerationGrown(100 * MB, 108 * MB), false);
  assert.equal(oldGenerationGrown(100 * MB, 110 * MB), true);
  // Less in use than at the last compaction: nothing to compact.
  assert.equal(oldGenerationGrown(20 * MB, 10 * MB), false);
});

/**
 * A node process that fills its old generation with small objects, drops three of every four (so every page keeps
 * some), then either looks or makes a plain full collection, and looks once more with nothing grown; it prints the
 * old space's resident bytes the fill took and the look or the collection gave back, and what each look said.
 */
function run(how: 'look' | 'collection'): { filled: number; freed: number; looks: boolean[] } {
  const dist = join(repoRoot, 'dist/src/daemon');
  const source = `
    import { getHeapSpaceStatistics } from 'node:v8';
    import { oldGenerationLook } from ${JSON.stringify(join(dist, 'old-generation.js'))};
    import { collector } from ${JSON.stringify(join(dist, 'young-generation.js'))};
    const resident = () => getHeapSpaceStatistics().find((s) => s.space_name === 'old_space').physical_space_size;
    const collect = collector();
    const look = oldGenerationLook();
    collect();
    const before = resident();
    let objects = [];
    for (let i = 0; i < 600000; i++) objects.push({ i, half: i + 0.5, next: null });
    collect();
    collect();
    const full = resident();
    objects = objects.filter((_, i) => i % 4 === 0);
    const looks = [];
    if (${JSON.stringify(how)} === 'look') looks.push(look());
    else collect();
    const after = resident();
    looks.push(look());
    console.log(JSON.stringify({ filled: full - before, freed: full - after, looks, kept: objects.length }));
  `;
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', source], { encoding: 'utf8', timeout: 60_000 });
  assert.equal(r.status, 0, r.stderr);
  return JSON.parse(r.stdout) as { filled: number; freed: number; looks: boolean[] };
}

test('a look compacts a grown old generation and gives back the pages its dead objects left; a collection alone does not', () => {
  const looked = run('look');
  assert.ok(looked.filled > 24 * MB, `the fill took ${(looked.filled / MB).toFixed(1)} MB only`);
  assert.deepEqual(looked.looks, [true, false], 'a look compacts once, then not again before the old generation grows');
  assert.ok(looked.freed > looked.filled / 2, `the look gave back ${(looked.freed / MB).toFixed(1)} of ${(looked.filled / MB).toFixed(1)} MB`);
  const collected = run('collection');
  assert.ok(collected.freed < collected.filled / 4, `a plain full collection gave back ${(collected.freed / MB).toFixed(1)} MB`);
});
