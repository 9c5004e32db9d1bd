// releaseFreeMemory (src/daemon/free-memory.ts, malloc_trim in native/sched.cc): what a thread that has exited freed
// into its malloc arena goes back to the kernel, as the supervisor's config reader leaves it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { Worker } from 'node:worker_threads';
import { releaseFreeMemory } from '../../src/daemon/free-memory.js';

const rssMb = (): number => Number(/VmRSS:\s+(\d+)/.exec(readFileSync('/proc/self/status', 'utf8'))![1]) / 1024;

test('the pages a finished worker thread freed leave the process once trimmed', async () => {
  // 60,000 one-kilobyte buffers: small enough to come from the thread's arena, not from mmaps of their own.
  const source = `const kept = []; for (let i = 0; i < 60000; i++) kept.push(Buffer.alloc(1000));
    require('node:worker_threads').parentPort.postMessage(kept.length);`;
  await new Promise<void>((resolve, reject) => {
    const worker = new Worker(source, { eval: true });
    worker.once('error', reject);
    worker.once('exit', () => resolve());
  });
  const held = rssMb();
  await releaseFreeMemory();
  const trimmed = rssMb();
  assert.ok(held - trimmed > 20, `RSS ${held.toFixed(1)} MB after the worker, ${trimmed.toFixed(1)} MB after the trim`);
});
