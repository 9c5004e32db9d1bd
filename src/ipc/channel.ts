// A typed request/reply and notification channel between the supervisor and one child process, over the IPC
// pipe that child_process.fork() opens (serialization 'advanced': structured clone, so bigints, Maps and Buffers
// cross as they are). Both ends may request and notify; each request has a deadline, so a hung peer costs its
// caller a timeout, never a promise that hangs for ever.

/** What each side can ask of the other: request name → [argument, reply]. */
export type RequestMap = Record<string, [unknown, unknown]>;
/** What each side can tell the other without waiting: notification name → argument. */
export type NoteMap = Record<string, unknown>;

/** The IPC end of a process: `process` in a child, the ChildProcess in the parent. */
export interface IpcEndpoint {
  send?(message: unknown, callback?: (err: Error | null) => void): boolean;
  readonly connected?: boolean;
  on(event: 'message', listener: (message: unknown) => void): unknown;
  on(event: 'disconnect', listener: () => void): unknown;
  off(event: 'message', listener: (message: unknown) => void): unknown;
}

type Wire =
  | { readonly t: 'req'; readonly id: number; readonly kind: string; readonly arg: unknown }
  | { readonly t: 'res'; readonly id: number; readonly ok: true; readonly value: unknown }
  | { readonly t: 'res'; readonly id: number; readonly ok: false; readonly error: string; readonly code?: string }
  | { readonly t: 'note'; readonly kind: string; readonly arg: unknown };

/** The peer went away, or did not answer in time. */
export class ChannelError extends Error {}

interface Pending {
  resolve(v: unknown): void;
  reject(e: Error): void;
  timer: NodeJS.Timeout;
}

export const DEFAULT_REQUEST_TIMEOUT_MS = 5000;

/**
 * `Out`/`OutNotes`: what this end sends; `In`/`InNotes`: what it receives. The two ends of one link use the same
 * maps swapped, so a message the other side does not understand cannot be written.
 */
export class Channel<Out extends RequestMap, In extends RequestMap, OutNotes extends NoteMap, InNotes extends NoteMap> {
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  private readonly handlers = new Map<string, (arg: never) => unknown>();
  private readonly noteHandlers = new Map<string, (arg: never) => void>();
  private closed = false;
  private readonly listener = (m: unknown): void => this.receive(m as Wire);

  constructor(private readonly endpoint: IpcEndpoint) {
    endpoint.on('message', this.listener);
    endpoint.on('disconnect', () => this.close('peer disconnected'));
  }

  request<K extends keyof Out & string>(kind: K, arg: Out[K][0], timeoutMs = DEFAULT_REQUEST_TIMEOUT_MS): Promise<Out[K][1]> {
    if (this.closed) return Promise.reject(new ChannelError(`${kind}: channel closed`));
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new ChannelError(`${kind}: no reply within ${timeoutMs} ms`));
      }, timeoutMs);
      this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject, timer });
      this.write({ t: 'req', id, kind, arg });
    });
  }

  notify<K extends keyof OutNotes & string>(kind: K, arg: OutNotes[K]): void {
    this.write({ t: 'note', kind, arg });
  }

  handle<K extends keyof In & string>(kind: K, fn: (arg: In[K][0]) => In[K][1] | Promise<In[K][1]>): void {
    this.handlers.set(kind, fn as (arg: never) => unknown);
  }

  onNote<K extends keyof InNotes & string>(kind: K, fn: (arg: InNotes[K]) => void): void {
    this.noteHandlers.set(kind, fn as (arg: never) => void);
  }

  /** Fails every request still waiting; later requests fail at once. */
  close(why = 'channel closed'): void {
    if (this.closed) return;
    this.closed = true;
    this.endpoint.off('message', this.listener);
    for (const [id, p] of this.pending) {
      clearTimeout(p.timer);
      p.reject(new ChannelError(why));
      this.pending.delete(id);
    }
  }

  private write(m: Wire): void {
    if (this.closed || this.endpoint.connected === false || !this.endpoint.send) return;
    // A send on a pipe that closes under us reports through the callback; the disconnect handler cleans up.
    this.endpoint.send(m, () => undefined);
  }

  private receive(m: Wire): void {
    switch (m.t) {
      case 'res': {
        const p = this.pending.get(m.id);
        if (!p) return;
        this.pending.delete(m.id);
        clearTimeout(p.timer);
        if (m.ok) p.resolve(m.value);
        else p.reject(Object.assign(new Error(m.error), m.code !== undefined ? { code: m.code } : {}));
        return;
      }
      case 'note':
        (this.noteHandlers.get(m.kind) as ((arg: unknown) => void) | undefined)?.(m.arg);
        return;
      case 'req': {
        const fn = this.handlers.get(m.kind) as ((arg: unknown) => unknown) | undefined;
        if (!fn) {
          this.write({ t: 'res', id: m.id, ok: false, error: `unknown request '${m.kind}'` });
          return;
        }
        void (async () => fn(m.arg))().then(
          (value) => this.write({ t: 'res', id: m.id, ok: true, value }),
          (err: unknown) => {
            // An errno name (EEXIST, ENOENT …) crosses with the message: callers log and decide by it.
            const code = (err as { code?: unknown } | undefined)?.code;
            this.write({ t: 'res', id: m.id, ok: false, error: err instanceof Error ? err.message : String(err), ...(typeof code === 'string' ? { code } : {}) });
          },
        );
        return;
      }
    }
  }
}
