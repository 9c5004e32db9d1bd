// The control socket: a Unix stream socket speaking one JSON object per line.
// Request  {"cmd":"status"} · {"cmd":"ipvs-table"} · {"cmd":"drain","vs":V,"rs":R} · {"cmd":"undrain",…}
//          {"cmd":"weight","vs":V,"rs":R,"weight":N} · {"cmd":"connections","vs":V,"rs":R} (active/inactive now)
//          {"cmd":"events"} (a stream: one JSON line per event, until closed)
// Reply    {"ok":true,…result} or {"ok":false,"error":"text"}; bigints travel as decimal strings.
// Access is root-only by file mode (0600 in a root-owned directory no one else can write): the kernel refuses
// connect() to anyone else, and no one else can replace the socket. Connections are capped and idle ones closed, so a
// client that connects and says nothing costs a descriptor for a bounded time only.
import { chmodSync, lstatSync, unlinkSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { dirname } from 'node:path';
import { checkDirectory, mkdirWithMode, UnsafePathError } from '../fs/safe-write.js';
import type { Logger } from '../log.js';
import { drainedOrClosed } from './drained.js';
import { bigintAsString, jsonPieces } from './json-stream.js';

export const DEFAULT_CONTROL_SOCKET = '/run/lvskeeper/control.sock';

export type ControlRequest = { readonly cmd: string } & Readonly<Record<string, unknown>>;

/** A refused command: its message reaches the client verbatim. */
export class CommandError extends Error {}

export interface ControlHandlers {
  /** One-shot commands: the returned object is merged into the reply. */
  readonly commands: Readonly<Record<string, (req: ControlRequest) => Promise<object> | object>>;
  /** Streaming subscription for `events`: returns an unsubscribe function. */
  readonly subscribe: (send: (event: object) => void) => () => void;
}

export function toJsonLine(value: unknown): string {
  return JSON.stringify(value, bigintAsString) + '\n';
}

/**
 * `value` as one JSON line, written as it is produced (json-stream.ts: a status of 30,000 real servers is 4.6 MB),
 * each piece once the socket has taken the last. A client that takes nothing for `idleMs` is disconnected; nothing
 * more is produced for a socket that has closed.
 */
async function writeJsonLine(socket: Socket, value: unknown, idleMs: number): Promise<void> {
  for await (const piece of jsonPieces(value)) {
    if (socket.destroyed) return;
    if (!socket.write(piece)) await drainedOrClosed(socket, idleMs);
  }
  if (!socket.destroyed) socket.write('\n');
}

export interface ControlServerOptions {
  /** Connections open at once, `events` streams included; more are closed as they arrive (default 64). */
  readonly maxConnections?: number;
  /** A connection with no request in progress and no `events` stream is closed after this long idle (default 30 s). */
  readonly idleTimeoutMs?: number;
  /** Longest request line (default 64 KiB). */
  readonly maxRequestBytes?: number;
}

export const CONTROL_DEFAULTS = { maxConnections: 64, idleTimeoutMs: 30_000, maxRequestBytes: 64 * 1024 } as const;

/** The control socket refused to start; the message says why. */
export class ControlSocketError extends Error {}

export class ControlServer {
  private server: Server | undefined;
  private readonly clients = new Set<Socket>();
  private readonly limits: Required<ControlServerOptions>;
  /** Connections closed at the cap since the last one accepted: a burst is logged once. */
  private dropped = 0;

  constructor(
    private readonly path: string,
    private readonly handlers: ControlHandlers,
    private readonly logger: Logger,
    opts: ControlServerOptions = {},
  ) {
    this.limits = { ...CONTROL_DEFAULTS, ...opts };
  }

  /** Throws ControlSocketError when the directory or the path is not safe to listen on. */
  async listen(): Promise<void> {
    const dir = dirname(this.path);
    mkdirWithMode(dir, 0o700);
    try {
      checkDirectory(dir, { allowSticky: false });
    } catch (err) {
      if (err instanceof UnsafePathError) throw new ControlSocketError(`control socket ${this.path} refused: ${err.message}`);
      throw err;
    }
    this.removeStaleSocket();
    const server = createServer((socket) => this.accept(socket));
    server.maxConnections = this.limits.maxConnections;
    server.on('drop', () => {
      if (this.dropped++ === 0) this.logger.warn(`control socket: ${this.limits.maxConnections} connections open; refusing more`);
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      // bind() runs inside listen(): with this umask the socket is never open to others, not even before the chmod.
      const umask = process.umask(0o177);
      try {
        server.listen(this.path, () => resolve());
      } finally {
        process.umask(umask);
      }
    });
    chmodSync(this.path, 0o600);
    this.server = server;
  }

  /** A socket left by a crashed daemon blocks bind(); the pid file already proved no live daemon owns it. */
  private removeStaleSocket(): void {
    let st;
    try {
      st = lstatSync(this.path);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw err;
    }
    if (!st.isSocket()) throw new ControlSocketError(`control socket ${this.path} refused: it exists and is not a socket (not removing it)`);
    unlinkSync(this.path);
  }

  private accept(socket: Socket): void {
    if (this.dropped > 0) {
      this.logger.info(`control socket: accepting connections again (${this.dropped} refused)`);
      this.dropped = 0;
    }
    this.clients.add(socket);
    socket.setEncoding('utf8');
    let buffered = '';
    let unsubscribe: (() => void) | undefined;
    let pending = 0;
    // Replies leave in request order, whatever each command's latency.
    let replies = Promise.resolve();
    const reply = (produce: () => Promise<object> | object): void => {
      pending++;
      replies = replies.then(async () => {
        const value = await produce();
        try {
          await writeJsonLine(socket, value, this.limits.idleTimeoutMs);
        } catch (err) {
          // Midway (a child stopped answering while its list was read): the client sees a line cut short, never a
          // reply that looks whole without part of itself.
          this.logger.warn(`control socket: reply cut short: ${(err as Error).message}`);
          socket.destroy();
        } finally {
          pending--;
        }
      });
    };
    // An events stream is idle by design; a command in progress is not the client's idleness.
    socket.setTimeout(this.limits.idleTimeoutMs, () => {
      if (unsubscribe === undefined && pending === 0) socket.destroy();
    });
    socket.on('close', () => {
      this.clients.delete(socket);
      unsubscribe?.();
    });
    socket.on('error', () => socket.destroy());
    socket.on('data', (chunk: string) => {
      buffered += chunk;
      if (buffered.length > this.limits.maxRequestBytes) {
        socket.end(toJsonLine({ ok: false, error: 'request too large' }));
        return;
      }
      let idx: number;
      while ((idx = buffered.indexOf('\n')) >= 0) {
        const line = buffered.slice(0, idx).trim();
        buffered = buffered.slice(idx + 1);
        if (line === '') continue;
        let req: ControlRequest;
        try {
          req = JSON.parse(line) as ControlRequest;
          if (typeof req !== 'object' || req === null || typeof req.cmd !== 'string') throw new Error('no "cmd"');
        } catch (err) {
          reply(() => ({ ok: false, error: `bad request: ${(err as Error).message}` }));
          continue;
        }
        if (req.cmd === 'events') {
          reply(() => {
            unsubscribe ??= this.handlers.subscribe((event) => socket.write(toJsonLine(event)));
            return { ok: true, streaming: true };
          });
          continue;
        }
        const request = req;
        reply(() => this.run(request));
      }
    });
  }

  private async run(req: ControlRequest): Promise<object> {
    // Own properties only: `constructor`, `toString` … are the object's, not commands.
    const handler = Object.hasOwn(this.handlers.commands, req.cmd) ? this.handlers.commands[req.cmd] : undefined;
    if (!handler) return { ok: false, error: `unknown command '${req.cmd}'` };
    try {
      return { ok: true, ...(await handler(req)) };
    } catch (err) {
      if (!(err instanceof CommandError)) this.logger.error({ err }, `control command '${req.cmd}' failed`);
      return { ok: false, error: (err as Error).message };
    }
  }

  async close(): Promise<void> {
    for (const c of this.clients) c.destroy();
    const server = this.server;
    this.server = undefined;
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
    try {
      unlinkSync(this.path);
    } catch {
      // Already removed.
    }
  }
}
