// /metrics a page at a time (ipc/pages.ts). At 30,000 real servers the checker process's families are ~67 MB of
// text (13 histogram buckets per server); rendered in one piece and sent as one IPC message, a scrape held the
// checker's loop for seconds and the supervisor's for a second while it decoded the message. So each child keeps a
// cursor over its own families' lines per scrape, and the supervisor pulls the next page only once the client has
// taken the last one: no process holds more than a page, and a slow scraper slows only its own scrape.
import { takePage } from '../ipc/pages.js';
import type { MetricFamily, Registry } from './metrics.js';

/** A child's answer to 'metrics': its shared families, and a cursor over its own ones' text. */
export interface MetricsHead {
  readonly shared: MetricFamily[];
  readonly cursor: number;
}

/** A local registry's own families, in pages, as the supervisor writes its part. */
export function* localPages(registry: Registry): Generator<string> {
  const lines = registry.ownLines()[Symbol.iterator]();
  for (;;) {
    const p = takePage(lines);
    if (p.text) yield p.text;
    if (p.done) return;
  }
}
