// Seeded run-time differential against keepalived 2.2.7 in the IPVS VM: generated LVS configs and backend timelines
// (scenario-generator.ts), keepalived and lvskeeper side by side in two namespaces of one guest, compared at each
// checkpoint (timeline-compare.ts). LVSK_DIFF_SCENARIOS=N runs more (default 200), LVSK_DIFF_SEED=S another seed,
// LVSK_DIFF_ONLY=i,j replays those scenarios of the seed alone,
// LVSK_DIFF_KEEP=dir keeps each boot's raw output.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { hasCommand, need } from '../support/tier.js';
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

/** Scenario indices grouped into batches: batch b holds b*PER_BATCH.. and draws its global_defs from b. */
function batchesOf(indices: readonly number[]): GenBatch[] {
  const groups = new Map<number, number[]>();
  for (const i of indices) groups.set(Math.floor(i / PER_BATCH), [...(groups.get(Math.floor(i / PER_BATCH)) ?? []), i]);
  return [...groups].map(([g, members]) => generateBatch(SEED, g, members));
}

/** A replay's scenarios, one batch per distinct global_defs (each scenario keeps its batch's). */
function replayBatches(indices: readonly number[]): GenBatch[] {
  const byDefs = new Map<string, { group: number; members: number[] }>();
  for (const i of indices) {
    const group = Math.floor(i / PER_BATCH);
    const defs = generateBatch(SEED, group, []).globalDefs;
    const slot = byDefs.get(defs) ?? { group, members: [] };
    slot.members.push(i);
    byDefs.set(defs, slot);
  }
  return [...byDefs.values()].map(({ group, members }) => generateBatch(SEED, group, members));
}

function plan(): GenBatch[][] {
  const batches = batchesOf(ONLY ?? Array.from({ length: COUNT }, (_, i) => i));
  const boots: GenBatch[][] = [];
  for (let i = 0; i < batches.length; i += BATCHES_PER_BOOT) boots.push(batches.slice(i, i + BATCHES_PER_BOOT));
  return boots;
}

const bootSeconds = (batches: readonly GenBatch[]): number => batches.reduce((a, b) => a + batchSeconds(b), 60);

/** keepalived's own word that its checker ran late (scheduler.c thread_fetch_next_queue): its verdicts then lag. */
const LATE = /A thread timer expired [\d.]+ seconds ago/;

/**
 * One boot: its differences by scenario (each difference described), after checking both sides ran. keepalived's
 * late-timer lines go to `late`, for a failure to show beside the differences.
 */
async function differences(batches: readonly GenBatch[], label: string, late: string[]): Promise<Map<string, string[]>> {
  // A host shared with other work slows TCG guests several times over: the timeout is generous.
  const run = await runTimeline(batches, bootSeconds(batches) * 3000);
  if (KEEP !== undefined) {
    mkdirSync(KEEP, { recursive: true });
    writeFileSync(join(KEEP, `${label}.stdout`), run.vm.stdout);
    writeFileSync(join(KEEP, `${label}.stderr`), run.vm.stderr);
  }
  assert.equal(run.vm.exitCode, 0, `guest failed:\n${run.vm.stderr.slice(-3000)}\n${run.vm.console.slice(-3000)}`);
  const out = new Map<string, string[]>();
  for (const r of run.runs) {
    assert.ok(r.keepalived.log.includes('Startup complete'), `keepalived did not start:\n${r.keepalived.log}\n${r.batch.config}`);
    assert.ok(r.lvskeeper.log.includes('Activating healthchecker') || r.batch.scenarios.every((s) => s.realServers.every((x) => x.checker === 'none')), `lvskeeper did not run:\n${r.lvskeeper.log}`);
    assert.equal(r.backendsLog.trim(), '', 'the backends failed');
    late.push(...r.keepalived.log.split('\n').filter((l) => LATE.test(l)).map((l) => `${label}: ${l}`));
    for (const d of compareBatch(r)) out.set(d.scenario, [...(out.get(d.scenario) ?? []), describe(d)]);
  }
  return out;
}

const boots = plan();
const totalS = boots.reduce((a, b) => a + 3 * bootSeconds(b), 0);

/**
 * A difference counts when it comes back each time its scenario is replayed in a boot of its own (twice): a guest
 * stalled by a busy host times out a good server now and then, on either side, and two servers returning in the
 * same phase come back in either order (keepalived staggers each checker's start at random, check_api.c
 * register_checkers_thread), so a quorum line's sum can differ by chance; such a one-off is printed, not failed.
 */
test(`IPVS VM: ${boots.flat().reduce((n, b) => n + b.scenarios.length, 0)} generated scenarios (seed ${SEED}) as keepalived 2.2.7 runs them`, { timeout: totalS * 3000 }, async (t) => {
  // The guest runs the host's keepalived and nft (the slow backends' set).
  const missing = vmMissing() ?? (hasCommand('keepalived') ? undefined : "needs 'keepalived' (apt-get install keepalived)") ??
    (hasCommand('nft') ? undefined : "needs 'nft' (apt-get install nftables)");
  if (!need(t, missing === undefined, missing ?? '')) return;
  for (const [n, batches] of boots.entries()) {
    await t.test(`boot ${n}: scenarios ${batches[0]!.scenarios[0]!.index}..${batches.at(-1)!.scenarios.at(-1)!.index}`, async () => {
      const late: string[] = [];
      const first = await differences(batches, `boot${n}`, late);
      if (first.size === 0) return;
      const names = [...first.keys()];
      const replay = async (of: readonly string[], label: string): Promise<Map<string, string[]>> =>
        of.length === 0 ? new Map() : differences(replayBatches(of.map((x) => Number(x.split('-')[1]))), label, late);
      const second = await replay(names, `boot${n}-replay`);
      const third = await replay([...second.keys()], `boot${n}-replay2`);
      const again = new Map([...third].filter(([x]) => second.has(x)));
      const once = names.filter((x) => !again.has(x));
      if (once.length > 0) t.diagnostic(`not in every replay (a stalled guest, a race): ${once.join(' ')}\n${once.flatMap((x) => first.get(x)!).join('\n')}`);
      const kept = [...again.keys()];
      const scenarios = batches.flatMap((b) => b.scenarios).filter((s) => kept.includes(s.name)).slice(0, 5)
        .map((s) => `--- ${s.name} ---\n${s.config}${s.realServers.map((rs) => `# ${rs.logKey} ${rs.checker} ${rs.states.join(' ')}`).join('\n')}`);
      assert.deepEqual(kept, [],
        `differences in ${kept.length} scenarios (replay: LVSK_DIFF_SEED=${SEED} LVSK_DIFF_ONLY=${kept.map((x) => x.split('-')[1]).join(',')}), ` +
        `keepalived late ${late.length} times:\n${late.slice(0, 8).join('\n')}\n` +
        `${kept.flatMap((x) => again.get(x)!).join('\n')}\n${scenarios.join('\n')}`);
    });
  }
});
