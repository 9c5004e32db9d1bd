// What each process reports of itself, with its name as the `process` label (so these families are 'shared': the
// supervisor merges every process's into one):
// - how late its event loop has run: the figure that says whether anything could have delayed an advert (the VRRP
//   process) or a check (the checker process); perf_hooks samples it off the loop itself;
// - its V8 heap: what each space holds in memory now, and the limit the heap was given at start (the young
//   generation's share of it set by checker-node-flags.ts for the checker process), so a reader of /metrics sees
//   which process, and which part of its heap, the daemon's memory is in.
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { getHeapSpaceStatistics, getHeapStatistics } from 'node:v8';
import type { Registry } from './metrics.js';

export function registerProcessMetrics(registry: Registry, processName: 'supervisor' | 'vrrp' | 'checker'): void {
  const labels = { process: processName };
  const h = monitorEventLoopDelay({ resolution: 10 });
  h.enable();
  registry.collect('lvskeeper_event_loop_delay_max_seconds', 'Longest event-loop stall of each process since it started', 'gauge', () => [
    { labels, value: h.max / 1e9 },
  ], 'shared');
  registry.collect('lvskeeper_event_loop_delay_p99_seconds', '99th percentile of event-loop delay of each process since it started', 'gauge', () => [
    { labels, value: h.percentile(99) / 1e9 },
  ], 'shared');
  registry.collect('lvskeeper_heap_space_resident_bytes', 'Memory each V8 heap space of each process holds (physical size), by space', 'gauge', () =>
    getHeapSpaceStatistics().map((s) => ({ labels: { ...labels, space: s.space_name }, value: s.physical_space_size })), 'shared');
  registry.collect('lvskeeper_heap_size_limit_bytes', 'The V8 heap limit of each process: old generation and young generation', 'gauge', () => [
    { labels, value: getHeapStatistics().heap_size_limit },
  ], 'shared');
}
