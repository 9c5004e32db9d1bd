// Each process reports how late its event loop has run: the figure that says whether anything could have delayed
// an advert (the VRRP process) or a check (the checker process). perf_hooks samples it off the loop itself.
import { monitorEventLoopDelay } from 'node:perf_hooks';
import type { Registry } from './metrics.js';

export function registerLoopDelay(registry: Registry, processName: 'supervisor' | 'vrrp' | 'checker'): void {
  const h = monitorEventLoopDelay({ resolution: 10 });
  h.enable();
  const labels = { process: processName };
  registry.collect('lvskeeper_event_loop_delay_max_seconds', 'Longest event-loop stall of each process since it started', 'gauge', () => [
    { labels, value: h.max / 1e9 },
  ]);
  registry.collect('lvskeeper_event_loop_delay_p99_seconds', '99th percentile of event-loop delay of each process since it started', 'gauge', () => [
    { labels, value: h.percentile(99) / 1e9 },
  ]);
}
