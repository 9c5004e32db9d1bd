// The operator console (`--http [ADDR:]PORT`): a read-only status page served by the supervisor. GET only, bounded
// connections and timeouts as the control socket has them. `/` is the whole table rendered on the server (usable with
// JavaScript off); `/events` streams the rows that changed (server-sent events), which `/console.js` swaps in.
//
// The data comes from the checker process (its `console` request: pools, checks, connections, and only the timelines
// that changed) and from the VRRP transitions the supervisor already receives; the VRRP process is never asked. The
// checker process is asked once per REFRESH_MS, and only while a page is open, whatever the number of pages: every
// page gets the same rendered rows.
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { performance } from 'node:perf_hooks';
import type { Logger } from '../log.js';
import type { AnnounceStatus } from './announce-owner.js';
import { CONSOLE_SCRIPT, consoleRows, EMPTY_TIMELINE, type ConsoleSnapshot, headHtml, pageHtml, rowHtml, timelineSvg, vsHeaderHtml, type VrrpView } from './console-view.js';

/** How often open pages are refreshed; a real-server or VRRP event brings the next refresh forward. */
export const REFRESH_MS = 2000;
/** An event is followed by a refresh this soon (events come in bursts: one refresh for the burst). */
const NUDGE_MS = 100;
/** Live pages at once; the plain page has no such limit beyond the connection cap. */
export const MAX_STREAMS = 16;
const MAX_CONNECTIONS = 64;
/** Rows rendered in one turn of the supervisor's loop. */
const SLICE_ROWS = 100;
/** What a live page may leave unread (a few refreshes of every row at 1,000 real servers). */
const MAX_BUFFERED = 4 * 1024 * 1024;
/** A comment line keeps an idle stream open through proxies. */
const KEEPALIVE_MS = 15_000;

const HEADERS = {
  'cache-control': 'no-store',
  'x-content-type-options': 'nosniff',
  'content-security-policy': "default-src 'none'; script-src 'self'; style-src 'unsafe-inline'; connect-src 'self'",
} as const;

export interface ConsoleSources {
  /** The checker process's snapshot with the timelines changed after `since`; undefined when there is none. */
  snapshot(since: number): Promise<ConsoleSnapshot | undefined>;
  vrrp(): readonly VrrpView[];
  /** The VIP announcements, with --announce-table. */
  announce(): AnnounceStatus | undefined;
  title(): string;
  /** The longest stretch a refresh held the supervisor's loop, rendering the rows of a snapshot that arrived. */
  rendered(seconds: number): void;
}

/** A row to swap in; `timeline`: the html carries a new timeline, else the page keeps the one it has. */
interface RowUpdate {
  readonly id: string;
  readonly html: string;
  readonly timeline?: true;
}

interface Refresh {
  readonly changed: readonly RowUpdate[];
  /** The VRRP or announcement section changed. */
  readonly head: boolean;
  /** Servers or virtual servers came or went: the pages load afresh. */
  readonly reshaped: boolean;
}

interface Rendered {
  /** The row with an empty timeline cell, to compare with the next refresh's. */
  readonly html: string;
  readonly svg: string;
}

/** A virtual server's header row and its real servers' row ids, in page order. */
interface Layout {
  readonly header: string;
  readonly id: string;
  readonly rows: readonly string[];
}

/** The same virtual servers with the same real servers, in the same order (compared in place: 30,000 ids). */
function sameShape(a: readonly Layout[], b: readonly Layout[]): boolean {
  return a.length === b.length && a.every((g, i) => g.id === b[i]!.id && g.rows.length === b[i]!.rows.length && g.rows.every((id, j) => id === b[i]!.rows[j]));
}

const EMPTY_TIMELINE_CELL = '<td data-label="Timeline" class="tl"></td>';

export class OperatorConsole {
  private server: Server | undefined;
  private readonly streams = new Set<ServerResponse>();
  private readonly ids = new Map<string, string>();
  private readonly rendered = new Map<string, Rendered>();
  private layout: Layout[] = [];
  private headHtml = '';
  private rev = 0;
  private timer: NodeJS.Timeout | undefined;
  private keepalive: NodeJS.Timeout | undefined;
  private refreshing: Promise<void> | undefined;

  constructor(
    private readonly sources: ConsoleSources,
    private readonly log: Logger,
  ) {}

  listen(host: string, port: number): Promise<void> {
    // node:http loads here, with --http: a daemon without the console never loads it.
    const server = process.getBuiltinModule('node:http').createServer((req, res) => this.handle(req, res));
    server.maxConnections = MAX_CONNECTIONS;
    server.headersTimeout = 10_000;
    server.requestTimeout = 10_000;
    this.server = server;
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => resolve());
    });
  }

  /** Something happened that a page shows: refresh soon if a page is open. */
  nudge(): void {
    if (this.streams.size > 0) this.schedule(NUDGE_MS);
  }

  private readonly idOf = (key: string): string => {
    let id = this.ids.get(key);
    if (id === undefined) this.ids.set(key, (id = `r${this.ids.size}`));
    return id;
  };

  private handle(req: IncomingMessage, res: ServerResponse): void {
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD', ...HEADERS }).end('read-only: GET only\n');
      return;
    }
    const path = (req.url ?? '/').split('?')[0];
    if (path === '/console.js') {
      res.writeHead(200, { 'content-type': 'text/javascript; charset=utf-8', ...HEADERS }).end(CONSOLE_SCRIPT);
      return;
    }
    if (path === '/events') return this.stream(res);
    if (path !== '/') {
      res.writeHead(404, HEADERS).end('not found\n');
      return;
    }
    void this.update().then(
      () => res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', ...HEADERS }).end(this.page()),
      (err: Error) => res.writeHead(500, HEADERS).end(`${err.message}\n`),
    );
  }

  private page(): string {
    const groups = this.layout.map((g) => ({ header: g.header, rows: g.rows.map((id) => this.full(id)) }));
    return pageHtml({ title: this.sources.title(), now: Date.now(), head: this.headHtml, groups });
  }

  private full(id: string): string {
    const r = this.rendered.get(id)!;
    return r.html.replace(EMPTY_TIMELINE_CELL, `<td data-label="Timeline" class="tl">${r.svg}</td>`);
  }

  private stream(res: ServerResponse): void {
    if (this.streams.size >= MAX_STREAMS) {
      res.writeHead(503, { 'retry-after': '30', ...HEADERS }).end(`${MAX_STREAMS} live pages open already\n`);
      return;
    }
    res.writeHead(200, { 'content-type': 'text/event-stream', ...HEADERS });
    res.write(`retry: ${REFRESH_MS}\n\n`);
    this.streams.add(res);
    res.on('close', () => {
      this.streams.delete(res);
      if (this.streams.size === 0) this.idle();
    });
    this.keepalive ??= setInterval(() => this.broadcast(':\n\n'), KEEPALIVE_MS);
    this.schedule(0);
  }

  private idle(): void {
    clearTimeout(this.timer);
    clearInterval(this.keepalive);
    this.timer = undefined;
    this.keepalive = undefined;
  }

  private schedule(ms: number): void {
    if (this.timer !== undefined) {
      if (ms >= REFRESH_MS) return;
      clearTimeout(this.timer);
    }
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.push().finally(() => {
        if (this.streams.size > 0 && this.timer === undefined) this.schedule(REFRESH_MS);
      });
    }, ms);
  }

  /** A page that does not read its stream is let go rather than buffered for: its script reloads it when it can. */
  private broadcast(text: string): void {
    for (const s of this.streams) {
      if (s.writableLength > MAX_BUFFERED) s.destroy();
      else s.write(text);
    }
  }

  /** One refresh for the live pages: the rows whose rendering changed, the VRRP and announcement sections if they did, or a reload. */
  private async push(): Promise<void> {
    try {
      const { changed, head, reshaped } = await this.update();
      if (reshaped) this.broadcast('event: reload\ndata: {}\n\n');
      else if (changed.length > 0) this.broadcast(`event: rows\ndata: ${JSON.stringify(changed)}\n\n`);
      if (head) this.broadcast(`event: head\ndata: ${JSON.stringify(this.headHtml)}\n\n`);
    } catch (err) {
      this.log.warn(`operator console: refresh failed: ${(err as Error).message}`);
    }
  }

  /** Brings the rendered rows up to date; callers at the same time queue behind one another. */
  private update(): Promise<Refresh> {
    const run = (this.refreshing ?? Promise.resolve()).then(() => this.apply());
    this.refreshing = run.then(() => undefined, () => undefined);
    return run;
  }

  private async apply(): Promise<Refresh> {
    const html = headHtml(this.sources.vrrp(), this.sources.announce());
    const head = html !== this.headHtml;
    this.headHtml = html;
    const snap = await this.sources.snapshot(this.rev);
    const changed: RowUpdate[] = [];
    if (!snap) {
      const reshaped = this.layout.length > 0;
      this.layout = [];
      return { changed, head, reshaped };
    }
    // Rendered in slices: the supervisor's loop also serves the userspace data plane and the children's heartbeats.
    let sliceStart = performance.now();
    let longest = 0;
    let sliced = 0;
    const now = Date.now();
    const layout: Layout[] = [];
    const seen = new Set<string>();
    const headers = new Map(this.layout.map((l) => [l.id, l.header]));
    for await (const g of consoleRows(snap, this.idOf)) {
      const header = vsHeaderHtml(g.id, g.vs);
      const old = headers.get(g.id);
      if (old !== undefined && old !== header) changed.push({ id: g.id, html: header });
      const ids: string[] = [];
      layout.push({ header, id: g.id, rows: ids });
      for (const r of g.rows) {
        if (++sliced % SLICE_ROWS === 0) {
          longest = Math.max(longest, performance.now() - sliceStart);
          await new Promise((resolve) => setImmediate(resolve));
          sliceStart = performance.now();
        }
        ids.push(r.id);
        seen.add(r.id);
        const line = r.timeline;
        const before = this.rendered.get(r.id);
        const html = rowHtml(r, undefined);
        // A timeline changes with each transition and each new bucket; one not sent is the one drawn already.
        const svg = line || !before ? timelineSvg(line ?? EMPTY_TIMELINE, r.status.alive, now) : before.svg;
        if (before && before.html === html && before.svg === svg) continue;
        this.rendered.set(r.id, { html, svg });
        if (before) changed.push(svg === before.svg ? { id: r.id, html } : { id: r.id, html: this.full(r.id), timeline: true });
      }
    }
    for (const id of this.rendered.keys()) if (!seen.has(id)) this.rendered.delete(id);
    const reshaped = this.layout.length > 0 && !sameShape(layout, this.layout);
    this.layout = layout;
    this.rev = snap.rev;
    this.sources.rendered(Math.max(longest, performance.now() - sliceStart) / 1000);
    return { changed, head, reshaped };
  }

  async close(): Promise<void> {
    this.idle();
    for (const s of this.streams) s.end();
    this.streams.clear();
    const server = this.server;
    this.server = undefined;
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}
