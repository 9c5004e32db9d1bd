// Loaded with `node --import` into the daemon by bench/reload.ts: in the supervisor only (not a forked child, not a
// worker thread) it wakes every 2 ms and records each wake-up that came late, with its time, so the bench can say how
// long the supervisor's loop — the embedded data plane and the control socket — stalled while a reload ran, and its
// CPU time then, which /proc gives only in 10 ms ticks. Written at exit to the file LVSK_LOOP_PROBE_OUT names.
import { writeFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { isMainThread } from 'node:worker_threads';

/** What the probe writes. */
export interface LoopProbeRecord {
  readonly late: readonly [number, number][];
  readonly cpu: readonly [number, number][];
}

const out = process.env['LVSK_LOOP_PROBE_OUT'];
if (out !== undefined && isMainThread && process.send === undefined) {
  const PERIOD_MS = 2;
  /** [absolute time in ms (performance.timeOrigin based), how late in ms] for every wake-up over 1 ms late. */
  const late: [number, number][] = [];
  /** [absolute time in ms, the process's CPU time so far in µs (every thread, user and system)] at every wake-up. */
  const cpu: [number, number][] = [];
  let last = performance.now();
  setInterval(() => {
    const now = performance.now();
    const d = now - last - PERIOD_MS;
    if (d > 1) late.push([performance.timeOrigin + now, d]);
    const used = process.cpuUsage();
    cpu.push([performance.timeOrigin + now, used.user + used.system]);
    last = now;
  }, PERIOD_MS).unref();
  process.once('exit', () => writeFileSync(out, JSON.stringify({ late, cpu } satisfies LoopProbeRecord)));
}
