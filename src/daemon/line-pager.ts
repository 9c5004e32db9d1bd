// Long text crosses from a child to the supervisor a page at a time: the child keeps a cursor over lines it renders
// lazily, the supervisor asks for the next page once it has written the last. One IPC message of megabytes holds
// the supervisor's loop while node concatenates and decodes it, and the supervisor runs VRRP's neighbours (the data
// plane, the control socket); a page holds it for well under a millisecond. Used by /metrics (metrics-pages.ts) and
// the SIGUSR1/SIGUSR2 dumps (dumps.ts).

/** A page's size: ~250 histogram lines, under a millisecond to render on the checker's loop. */
export const PAGE_BYTES = 32 * 1024;
/** Readers under way at once, per pager: more are refused (EBUSY), so readers cost bounded memory. */
const MAX_CURSORS = 4;
/** A cursor no page was asked of for this long is dropped: its reader went without closing it. */
const CURSOR_IDLE_MS = 10_000;

export interface Page {
  readonly text: string;
  readonly done: boolean;
}

/** Up to `bytes` of `lines` (at least one line) as text; done once they are all read. */
export function takePage(lines: Iterator<string>, bytes = PAGE_BYTES): Page {
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

/** The child's side: one cursor per reader under way. */
export class LinePager {
  private nextCursor = 1;
  private readonly cursors = new Map<number, { readonly lines: Iterator<string>; timer: NodeJS.Timeout }>();

  /** A cursor over `lines`, read with page(); throws EBUSY when MAX_CURSORS are open. */
  open(lines: Iterable<string>): number {
    if (this.cursors.size >= MAX_CURSORS) throw Object.assign(new Error(`${MAX_CURSORS} readers already under way`), { code: 'EBUSY' });
    const cursor = this.nextCursor++;
    this.cursors.set(cursor, { lines: lines[Symbol.iterator](), timer: this.expiry(cursor) });
    return cursor;
  }

  page(cursor: number): Page {
    const c = this.cursors.get(cursor);
    if (!c) throw new Error(`no reader ${cursor} under way`);
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

/** The supervisor's side: a child's pages, each asked for once the previous one is taken. */
export async function* childPages(cursor: number, page: (cursor: number) => Promise<Page>): AsyncGenerator<string> {
  for (;;) {
    const p = await page(cursor);
    if (p.text) yield p.text;
    if (p.done) return;
  }
}
