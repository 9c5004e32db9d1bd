// releaseFreeMemory (src/daemon/free-memory.ts, malloc_trim in native/sched.cc): what a thread that has exited freed
// into its malloc arena goes back to the kernel, as the supervisor's config reader leaves it. keepMallocThresholds
// (mallopt): a large block freed does not make malloc keep later smaller ones. releaseFreeMemorySoon with a period:
// the checker process trims again while it checks.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { Worker } from 'node:worker_threads';
import { holdFreeMemoryRelease, releaseFreeMemory, releaseFreeMemorySoon, SETTLE_MS } from '../../src/daemon/free-memory.js';

const rssMb = (): number => Number(/VmRSS:\s+(\d+)/.exec(readFileSync('/proc/self/status', 'utf8'))![1]) / 1024;

/** A worker thread allocates 60 MB and exits: what it freed stays in its malloc arena until a trim. */
function freedByAWorker(): Promise<void> {
  // 60,000 one-kilobyte buffers: small enough to come from the thread's arena, not from mmaps of their own.
  const source = `const kept = []; for (let i = 0; i < 60000; i++) kept.push(Buffer.alloc(1000));
    require('node:worker_threads').parentPort.postMessage(kept.length);`;
  return new Promise<void>((resolve, reject) => {
    const worker = new Worker(source, { eval: true });
    worker.once('error', reject);
    worker.once('exit', () => resolve());
  });
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

test('the pages a finished worker thread freed leave the process once trimmed', async () => {
  await freedByAWorker();
  const held = rssMb();
  await releaseFreeMemory();
  const trimmed = rssMb();
  assert.ok(held - trimmed > 20, `RSS ${held.toFixed(1)} MB after the worker, ${trimmed.toFixed(1)} MB after the trim`);
});

test('a process that trims while it works gives back what it freed after its first trim', { timeout: 30_000 }, async () => {
  releaseFreeMemorySoon(500);
  try {
    await sleep(SETTLE_MS + 500);
    await freedByAWorker();
    const held = rssMb();
    await sleep(1500);
    const trimmed = rssMb();
    assert.ok(held - trimmed > 20, `RSS ${held.toFixed(1)} MB after the worker, ${trimmed.toFixed(1)} MB 1.5 s later`);
  } finally {
    holdFreeMemoryRelease();
  }
});

/**
 * The anonymous memory a fresh node process still holds after freeing 24 one-MiB buffers, in MB, once a freed 16 MiB
 * buffer has had its say: glibc raises its thresholds after it (mmap 16 MiB, trim 32 MiB) unless they are kept.
 */
function heldAfterFree(keep: boolean): number {
  const module = new URL('../../src/daemon/free-memory.js', import.meta.url).href;
  const source = `
    import { readFileSync } from 'node:fs';
    import { setTimeout as sleep } from 'node:timers/promises';
    import { keepMallocThresholds } from ${JSON.stringify(module)};
    const anonKb = () => Number(/^Anonymous:\\s+(\\d+)/m.exec(readFileSync('/proc/self/smaps_rollup', 'utf8'))[1]);
    const collect = async () => { gc(); await sleep(200); };
    if (${keep}) keepMallocThresholds();
    let big = Buffer.alloc(16 << 20, 1);
    big = undefined;
    await collect();
    const before = anonKb();
    let blocks = Array.from({ length: 24 }, () => Buffer.alloc(1 << 20, 1));
    blocks = undefined;
    await collect();
    console.log((anonKb() - before) / 1024);
  `;
  const out = execFileSync(process.execPath, ['--expose-gc', '--input-type=module', '-e', source], { encoding: 'utf8' });
  return Number(out.trim());
}

test("the supervisor's malloc gives a freed MiB back, after a larger block was freed", { timeout: 30_000 }, () => {
  const dynamic = heldAfterFree(false);
  const kept = heldAfterFree(true);
  // glibc's own behaviour first: without the call the 24 MiB stay, or this test shows nothing.
  assert.ok(dynamic > 20, `without keepMallocThresholds ${dynamic.toFixed(1)} MB stayed`);
  assert.ok(kept < 4, `with keepMallocThresholds ${kept.toFixed(1)} MB stayed`);
});
