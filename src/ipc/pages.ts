// Long replies cross between processes a page at a time: the answering side keeps a cursor over what it renders
// lazily, and the asking side asks for the next page once it has used the last. One IPC message of megabytes holds the
// receiving loop while node concatenates and decodes it, and the supervisor runs VRRP's neighbours (the data plane,
// the control socket); a page holds it for a few milliseconds at most. Used by /metrics (daemon/metrics-pages.ts), the
// SIGUSR1/SIGUSR2 dumps (daemon/dumps.ts), the lists in the checker process's status, console refreshes and commands
// (daemon/json-stream.ts), and the embedded IPVS table's dumps (ipvs/driver-remote.ts).

/** A page's size: ~250 histogram lines, under a millisecond to render on the checker's loop. */
export const PAGE_BYTES = 32 * 1024;
/** A batch of a long list: ~2,000 real servers' status or table entries, a few milliseconds to clone on either side. */
export const LIST_BATCH = 2000;
/** Readers under way at once, per pager: more are refused (EBUSY), so readers cost bounded memory. */
const MAX_CURSORS = 4;
/** A cursor no page was asked of for this long is dropped: its reader went without closing it. */
const CURSOR_IDLE_MS = 10_000;

export interface Page {
  readonly text: string;
  readonly done: boolean;
}

/** Items taken from a cursor; done once they are all read. */
export interface Batch<T> {
  readonly items: T[];
  readonly done: boolean;
}

/** Items of `it` up to `budget` by `size` (at least one item). */
export function takeBatch<T>(it: Iterator<T>, budget: number, size: (item: T) => number): Batch<T> {
  const items: T[] = [];
  let used = 0;
  while (used < budget) {
    const next = it.next();
    if (next.done) return { items, done: true };
    items.push(next.value);
    used += size(next.value);
  }
  return { items, done: false };
}

/** Up to `bytes` of `lines` (at least one line) as text; done once they are all read. */
export function takePage(lines: Iterator<string>, bytes = PAGE_BYTES): Page {
  const { items, done } = takeBatch(lines, bytes, (l) => l.length + 1);
  return { text: items.length ? items.join('\n') + '\n' : '', done };
}

/** The answering side: one cursor per reader under way, each over items `take` reads a page of. */
export class CursorPager<T, P extends { readonly done: boolean }> {
  private nextCursor = 1;
  private readonly cursors = new Map<number, { readonly items: Iterator<T>; readonly take: (items: Iterator<T>) => P; timer: NodeJS.Timeout }>();

  /** A cursor over `items`, read with page() a `take` at a time; throws EBUSY when MAX_CURSORS are open. */
  open(items: Iterable<T>, take: (items: Iterator<T>) => P): number {
    if (this.cursors.size >= MAX_CURSORS) throw Object.assign(new Error(`${MAX_CURSORS} readers already under way`), { code: 'EBUSY' });
    const cursor = this.nextCursor++;
    this.cursors.set(cursor, { items: items[Symbol.iterator](), take, timer: this.expiry(cursor) });
    return cursor;
  }

  page(cursor: number): P {
    const c = this.cursors.get(cursor);
    if (!c) throw new Error(`no reader ${cursor} under way`);
    clearTimeout(c.timer);
    const page = c.take(c.items);
    if (page.done) this.cursors.delete(cursor);
    else c.timer = this.expiry(cursor);
    return page;
  }

  close(cursor: number): void {
    const c = this.cursors.get(cursor);
    if (!c) return;
    clearTimeout(c.timer);
    c.items.return?.();
    this.cursors.delete(cursor);
  }

  private expiry(cursor: number): NodeJS.Timeout {
    return setTimeout(() => this.close(cursor), CURSOR_IDLE_MS).unref();
  }
}

/**
 * `items` in batches of about LIST_BATCH by `size`, one a turn of the loop: for a list read in place (the embedded
 * IPVS table), whose batches are not asked for one at a time over IPC.
 */
export async function* inBatches<T>(items: Iterable<T>, size: (item: T) => number): AsyncGenerator<T[]> {
  const it = items[Symbol.iterator]();
  for (;;) {
    const b = takeBatch(it, LIST_BATCH, size);
    if (b.items.length > 0) yield b.items;
    if (b.done) return;
    await new Promise((resolve) => setImmediate(resolve));
  }
}

/** Lines as text pages of PAGE_BYTES. */
export class LinePager extends CursorPager<string, Page> {
  override open(lines: Iterable<string>): number {
    return super.open(lines, (it) => takePage(it));
  }
}

/** The asking side: the pages, each asked for once the previous one is taken. */
export async function* childPages<P extends { readonly done: boolean }>(cursor: number, page: (cursor: number) => Promise<P>): AsyncGenerator<P> {
  for (;;) {
    const p = await page(cursor);
    yield p;
    if (p.done) return;
  }
}

/** The text of text pages. */
export async function* childText(cursor: number, page: (cursor: number) => Promise<Page>): AsyncGenerator<string> {
  for await (const p of childPages(cursor, page)) if (p.text) yield p.text;
}
