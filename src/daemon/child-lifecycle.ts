// What both child processes do the same way: answer the supervisor's common requests, stop once whoever asks
// (the supervisor, a signal, the supervisor's death), and exit after their reply has left.
import type { Channel, NoteMap, RequestMap } from '../ipc/channel.js';
import type { ChildRequests, DumpKind, PagedArray } from '../ipc/protocol.js';
import type { Registry } from './metrics.js';
import { CursorPager, LinePager, LIST_BATCH, takeBatch, type Batch } from '../ipc/pages.js';
import { forgetAddedArenaMax } from './free-memory.js';
import type { Logger } from '../log.js';

/** Long lists in a child's replies (status, the checker's commands), handed over a batch at a time. */
export interface ListPager {
  /**
   * What stands in a reply for `items`, read in batches of about LIST_BATCH by `size` (a virtual server: itself and
   * its real servers).
   */
  page<T>(items: Iterable<T>, size: (item: T) => number): PagedArray;
}

/** What a child's side offers the common requests. */
export interface ChildSide {
  stop(): Promise<void>;
  status(lists: ListPager): object;
  /** Its section of a dump, as lines: taken when asked, read a page at a time (ipc/pages.ts). */
  dump(kind: DumpKind): Iterable<string>;
  /** Its metrics, ready to be read (the checker's refreshes the IPVS table they report first). */
  metricsRegistry(): Registry | Promise<Registry>;
}

/**
 * Wires ping, status, dump and metrics (a cursor per long list, dump or scrape: ipc/pages.ts) and stop on `channel`
 * for the side `side()` returns once started, and the ways a child stops. TERM and INT stop it gracefully: a service manager's
 * stop (systemd's control-group kill) and Ctrl-C reach every process, not only the supervisor. HUP and USR1/USR2
 * belong to the supervisor, which relays what each child must do; here their default action (terminate) is only
 * disarmed. A child whose supervisor is gone stops as keepalived's children do on their parent's death (PDEATHSIG
 * SIGTERM). Returns the pager the side's other replies put their long lists in.
 */
export function serveChild<In extends RequestMap & ChildRequests>(
  channel: Channel<RequestMap, In, NoteMap, NoteMap>,
  side: () => ChildSide | undefined,
  log: () => Logger,
): ListPager {
  forgetAddedArenaMax();
  const c = channel as unknown as Channel<RequestMap, ChildRequests, NoteMap, NoteMap>;
  const stop = async (): Promise<void> => {
    await side()?.stop();
    channel.close();
    process.exit(0);
  };
  c.handle('ping', () => undefined);
  const lists = new CursorPager<unknown, Batch<unknown>>();
  const pager: ListPager = {
    page: <T>(items: Iterable<T>, size: (item: T) => number) =>
      ({ pagedArray: lists.open(items, (it) => takeBatch(it as Iterator<T>, LIST_BATCH, size) as Batch<unknown>) }),
  };
  c.handle('status', () => side()?.status(pager) ?? {});
  c.handle('list-page', (cursor) => lists.page(cursor));
  c.handle('list-close', (cursor) => lists.close(cursor));
  const dumps = new LinePager();
  c.handle('dump', (kind) => {
    const cursor = dumps.open(side()?.dump(kind) ?? []);
    return { cursor, ...dumps.page(cursor) };
  });
  c.handle('dump-page', (cursor) => dumps.page(cursor));
  c.handle('dump-close', (cursor) => dumps.close(cursor));
  const scrapes = new LinePager();
  c.handle('metrics', async () => {
    const s = side();
    if (!s) throw new Error('not started');
    const registry = await s.metricsRegistry();
    return { shared: registry.sharedFamilies(), cursor: scrapes.open(registry.ownLines()) };
  });
  c.handle('metrics-page', (cursor) => scrapes.page(cursor));
  c.handle('metrics-close', (cursor) => scrapes.close(cursor));
  c.handle('stop', async () => {
    await side()?.stop();
    // Exit after the reply has left.
    setImmediate(() => void stop());
  });
  process.on('SIGTERM', () => void stop());
  process.on('SIGINT', () => void stop());
  for (const s of ['SIGHUP', 'SIGUSR1', 'SIGUSR2'] as const) process.on(s, () => undefined);
  process.on('disconnect', () => {
    log().warn('supervisor gone: stopping');
    void stop();
  });
  return pager;
}
