// Each process's V8 heap: what each space holds in memory now, and the limit the heap was given at start (the young
// generation's share of it set by young-generation.ts for the checker process). A reader of /metrics sees which
// process, and which part of its heap, the daemon's memory is in.
import { getHeapSpaceStatistics, getHeapStatistics } from 'node:v8';
import type { Registry } from './metrics.js';

export function registerHeapMetrics(registry: Registry, processName: 'supervisor' | 'vrrp' | 'checker'): void {
  registry.collect('lvskeeper_heap_space_resident_bytes', 'Memory each V8 heap space of each process holds (physical size), by space', 'gauge', () =>
    getHeapSpaceStatistics().map((s) => ({ labels: { process: processName, space: s.space_name }, value: s.physical_space_size })));
  registry.collect('lvskeeper_heap_size_limit_bytes', 'The V8 heap limit of each process: old generation and young generation', 'gauge', () => [
    { labels: { process: processName }, value: getHeapStatistics().heap_size_limit },
  ]);
}
