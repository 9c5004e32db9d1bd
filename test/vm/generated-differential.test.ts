// Seeded run-time differential against keepalived 2.2.7 in the IPVS VM: generated LVS configs and backend timelines
// (scenario-generator.ts), keepalived and lvskeeper side by side in two namespaces of one guest, compared at each
// checkpoint (timeline-compare.ts). LVSK_DIFF_SCENARIOS=N runs more (default 200), LVSK_DIFF_SEED=S another seed,
// LVSK_DIFF_ONLY=i,j replays those scenarios of the seed alone,
// LVSK_DIFF_KEEP=dir keeps each boot's raw output.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { need } from '../support/tier.js';
import { vmMissing } from './harness.js';
import { generateBatch, type GenBatch } from './scenario-generator.js';
import { batchSeconds, runTimeline } from './timeline-differential.js';
import { compareBatch, describe } from './timeline-compare.js';

const env = (name: string): string | undefined => process.env[name];
const SEED = Number(env('LVSK_DIFF_SEED') ?? 1);
const COUNT = Number(env('LVSK_DIFF_SCENARIOS') ?? 200);
/** A directory to keep each boot's raw output in. */
const KEEP = env('LVSK_DIFF_KEEP');
const ONLY = env('LVSK_DIFF_ONLY')?.split(',').map(Number);
/** Scenarios per config (one keepalived and one lvskeeper run), and configs per VM boot. */
const PER_BATCH = 25;
const BATCHES_PER_BOOT = 4;

function plan(): GenBatch[][] {
  const indices = ONLY ?? Array.from({ length: COUNT }, (_, i) => i);
  // Batch b holds scenarios b*PER_BATCH.. and draws its global_defs from b, replayed or not.
  const groups = new Map<number, number[]>();
  for (const i of indices) groups.set(Math.floor(i / PER_BATCH), [...(groups.get(Math.floor(i / PER_BATCH)) ?? []), i]);
  const batches = [...groups].map(([g, members]) => generateBatch(SEED, g, members));
  const boots: GenBatch[][] = [];
  for (let i = 0; i < batches.length; i += BATCHES_PER_BOOT) boots.push(batches.slice(i, i + BATCHES_PER_BOOT));
  return boots;
}

const boots = plan();
const totalS = boots.flat().reduce((a, b) => a + batchSeconds(b) + 10, 0);

test(`IPVS VM: ${boots.flat().reduce((n, b) => n + b.scenarios.length, 0)} generated scenarios (seed ${SEED}) as keepalived 2.2.7 runs them`, { timeout: totalS * 2000 + 120_000 }, async (t) => {
  const missing = vmMissing();
  if (!need(t, missing === undefined, missing ?? '')) return;
  for (const [n, batches] of boots.entries()) {
    await t.test(`boot ${n}: scenarios ${batches[0]!.scenarios[0]!.index}..${batches.at(-1)!.scenarios.at(-1)!.index}`, async () => {
      const timeoutMs = (batches.reduce((a, b) => a + batchSeconds(b), 0) + 60) * 2000;
      const run = await runTimeline(batches, timeoutMs);
      if (KEEP !== undefined) {
        mkdirSync(KEEP, { recursive: true });
        writeFileSync(join(KEEP, `boot${n}.stdout`), run.vm.stdout);
        writeFileSync(join(KEEP, `boot${n}.stderr`), run.vm.stderr);
      }
      assert.equal(run.vm.exitCode, 0, `guest failed:\n${run.vm.stderr.slice(-3000)}\n${run.vm.console.slice(-3000)}`);
      const report: string[] = [];
      for (const r of run.runs) {
        assert.ok(r.keepalived.log.includes('Startup complete'), `keepalived did not start:\n${r.keepalived.log}\n${r.batch.config}`);
        assert.ok(r.lvskeeper.tables.length > 0 && r.lvskeeper.log !== '', `lvskeeper did not run:\n${r.lvskeeper.log}`);
        for (const d of compareBatch(r)) report.push(describe(d));
        assert.equal(r.backendsLog.trim(), '', 'the backends failed');
      }
      const names = [...new Set(report.map((x) => x.slice(0, x.indexOf(':'))))];
      const replay = names.map((x) => x.split('-')[1]).join(',');
      const configs = run.runs.flatMap((r) => r.batch.scenarios).filter((s) => names.includes(s.name)).slice(0, 5)
        .map((s) => `--- ${s.name} ---\n${s.config}${s.realServers.map((rs) => `# ${rs.logKey} ${rs.checker} ${rs.states.join(' ')}`).join('\n')}`);
      assert.equal(report.length, 0,
        `${report.length} differences (replay: LVSK_DIFF_SEED=${SEED} LVSK_DIFF_ONLY=${replay}):\n${report.join('\n')}\n${configs.join('\n')}`);
    });
  }
});
