// /metrics a page at a time. At 30,000 real servers the checker process's families are ~67 MB of text (13 histogram
// buckets per server); rendered in one piece and sent as one IPC message, a scrape held the checker's loop for
// seconds and the supervisor's for a second while it decoded the message. So each child keeps a cursor over its own
// families' lines per scrape, and the supervisor pulls the next page only once the client has taken the last one:
// no loop is held longer than one page takes to render or decode, and no process holds more than a page.
import type { MetricFamily, Registry } from './metrics.js';

/** A page's size: ~250 histogram lines, under a millisecond to render on the checker's loop. */
export const PAGE_BYTES = 32 * 1024;
/** Scrapes under way at once, per process: more are refused (EBUSY; the endpoint answers 503), so scrapers cost bounded memory. */
const MAX_CURSORS = 4;
/** A cursor no page was asked of for this long is dropped: its scraper went without closing it. */
const CURSOR_IDLE_MS = 10_000;

/** A child's answer to 'metrics': its shared families, and a cursor over its own ones' text. */
export interface MetricsHead {
  readonly shared: MetricFamily[];
  readonly cursor: number;
}

export interface MetricsPage {
  readonly text: string;
  readonly done: boolean;
}

/** Up to `bytes` of `lines` (at least one line) as text; done once they are all read. */
export function takePage(lines: Iterator<string>, bytes = PAGE_BYTES): MetricsPage {
  const out: string[] = [];
  let size = 0;
  while (size < bytes) {
    const next = lines.next();
    if (next.done) return { text: out.length ? out.join('\n') + '\n' : '', done: true };
    out.push(next.value);
    size += next.value.length + 1;
  }
  return { text: out.join('\n') + '\n', done: false };
}

/** The child's side: one cursor per scrape under way. */
export class MetricsPager {
  private nextCursor = 1;
  private readonly cursors = new Map<number, { readonly lines: Iterator<string>; timer: NodeJS.Timeout }>();

  open(registry: Registry): MetricsHead {
    if (this.cursors.size >= MAX_CURSORS) throw Object.assign(new Error(`${MAX_CURSORS} scrapes already under way`), { code: 'EBUSY' });
    const cursor = this.nextCursor++;
    this.cursors.set(cursor, { lines: registry.ownLines()[Symbol.iterator](), timer: this.expiry(cursor) });
    return { shared: registry.sharedFamilies(), cursor };
  }

  page(cursor: number): MetricsPage {
    const c = this.cursors.get(cursor);
    if (!c) throw new Error(`no scrape ${cursor} under way`);
    clearTimeout(c.timer);
    const page = takePage(c.lines);
    if (page.done) this.cursors.delete(cursor);
    else c.timer = this.expiry(cursor);
    return page;
  }

  close(cursor: number): void {
    const c = this.cursors.get(cursor);
    if (!c) return;
    clearTimeout(c.timer);
    c.lines.return?.();
    this.cursors.delete(cursor);
  }

  private expiry(cursor: number): NodeJS.Timeout {
    return setTimeout(() => this.close(cursor), CURSOR_IDLE_MS).unref();
  }
}

/** The supervisor's side: a child's pages, each asked for once the previous one is written. */
export async function* childPages(cursor: number, page: (cursor: number) => Promise<MetricsPage>): AsyncGenerator<string> {
  for (;;) {
    const p = await page(cursor);
    if (p.text) yield p.text;
    if (p.done) return;
  }
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
