// The control socket: a Unix stream socket speaking one JSON object per line.
// Request  {"cmd":"status"} · {"cmd":"ipvs-table"} · {"cmd":"drain","vs":V,"rs":R} · {"cmd":"undrain",…}
//          {"cmd":"weight","vs":V,"rs":R,"weight":N} · {"cmd":"events"} (a stream: one JSON line per event, until closed)
// Reply    {"ok":true,…result} or {"ok":false,"error":"text"}; bigints travel as decimal strings.
// Access is root-only by file mode (0600 in a 0700 directory): the kernel refuses connect() to anyone else.
import { chmodSync, mkdirSync, unlinkSync, existsSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { dirname } from 'node:path';
import type { Logger } from '../log.js';

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
  return JSON.stringify(value, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v)) + '\n';
}

const MAX_REQUEST_BYTES = 64 * 1024;

export class ControlServer {
  private server: Server | undefined;
  private readonly clients = new Set<Socket>();

  constructor(
    private readonly path: string,
    private readonly handlers: ControlHandlers,
    private readonly logger: Logger,
  ) {}

  async listen(): Promise<void> {
    const dir = dirname(this.path);
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    // A socket file left by a crashed daemon blocks bind(); the pid file already proved no live daemon owns it.
    if (existsSync(this.path)) unlinkSync(this.path);
    const server = createServer((socket) => this.accept(socket));
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

  private accept(socket: Socket): void {
    this.clients.add(socket);
    socket.setEncoding('utf8');
    let buffered = '';
    let unsubscribe: (() => void) | undefined;
    // Replies leave in request order, whatever each command's latency.
    let replies = Promise.resolve();
    const reply = (produce: () => Promise<object> | object): void => {
      replies = replies.then(async () => {
        const value = await produce();
        if (!socket.destroyed) socket.write(toJsonLine(value));
      });
    };
    socket.on('close', () => {
      this.clients.delete(socket);
      unsubscribe?.();
    });
    socket.on('error', () => socket.destroy());
    socket.on('data', (chunk: string) => {
      buffered += chunk;
      if (buffered.length > MAX_REQUEST_BYTES) {
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
    const handler = this.handlers.commands[req.cmd];
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
