// Loaded with `node --expose-gc --import` into the daemon by bench/daemon.ts, so into the supervisor and every child
// it forks (they inherit its node flags): on SIGWINCH, which lvskeeper leaves alone, a process collects all its
// garbage and writes what is still live to LVSK_HEAP_PROBE_DIR/PID.json, and with LVSK_HEAP_PROBE_SNAPSHOT=1 first a
// heap snapshot to PID.heapsnapshot (bench/heap.ts reads it). What RSS shows at a given moment depends on where V8's
// collector stands; the live heap after a full collection does not, so a change to the model shows there exactly.
import { renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeHeapSnapshot } from 'node:v8';
import { isMainThread } from 'node:worker_threads';

export interface HeapSample {
  /** The JavaScript heap's live objects, in bytes. */
  readonly heapUsed: number;
  /** ArrayBuffer contents (outside the heap), in bytes. */
  readonly arrayBuffers: number;
}

const dir = process.env['LVSK_HEAP_PROBE_DIR'];
const gc = (globalThis as { gc?: () => void }).gc;
if (dir !== undefined && isMainThread && gc !== undefined) {
  process.on('SIGWINCH', () => {
    // Twice: the first collection's finalizers can free more.
    gc();
    gc();
    const m = process.memoryUsage();
    const sample: HeapSample = { heapUsed: m.heapUsed, arrayBuffers: m.arrayBuffers };
    const file = join(dir, `${process.pid}.json`);
    if (process.env['LVSK_HEAP_PROBE_SNAPSHOT'] === '1') writeHeapSnapshot(join(dir, `${process.pid}.heapsnapshot`));
    // Renamed into place, so the bench never reads it (or the snapshot before it) half written.
    writeFileSync(`${file}.part`, JSON.stringify(sample));
    renameSync(`${file}.part`, file);
  });
}
