// TCP_CHECK: success when a TCP connect completes within connect_timeout (check_tcp.c). The connect runs on the
// shared exchange set and the connection is reset as soon as it is up.
import type { TcpChecker } from '../src/config/model.js';
import { exchanges, type ExchangeHandler } from './exchange.js';
import type { Cancellable } from './http.js';
import type { ProbeResult, Verdict } from './types.js';

const SUCCESS: ProbeResult = Object.freeze({ ok: true, detail: 'success' });
const FAILED: ProbeResult = Object.freeze({ ok: false, detail: 'failed' });
const TIMEOUT: ProbeResult = Object.freeze({ ok: false, detail: 'timeout' });

/** One connect, as its exchange's handler: no promise, listener or closure per check. */
class TcpConnect<T> implements ExchangeHandler, Cancellable {
  private handle = -1;
  private done = false;

  constructor(
    private readonly ctx: T,
    private readonly onDone: Verdict<T>,
  ) {}

  begin(c: TcpChecker): this {
    this.handle = exchanges().start(c, null, this);
    return this;
  }

  cancel(): void {
    this.finish(TIMEOUT);
  }

  connected(): void {
    this.finish(SUCCESS);
  }

  data(): void {
    this.finish(FAILED);
  }

  end(): void {
    this.finish(FAILED);
  }

  error(): void {
    this.finish(FAILED);
  }

  timeout(): void {
    this.finish(TIMEOUT);
  }

  private finish(r: ProbeResult): void {
    if (this.done) return;
    this.done = true;
    exchanges().close(this.handle);
    this.onDone(this.ctx, r);
  }
}

/** Starts a TCP_CHECK; `done` gets `ctx` and the verdict, never synchronously (the engine's path). */
export function startTcp<T>(c: TcpChecker, ctx: T, done: Verdict<T>): Cancellable {
  return new TcpConnect(ctx, done).begin(c);
}

export function probeTcp(c: TcpChecker, signal: AbortSignal): Promise<ProbeResult> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve(TIMEOUT);
    const check = startTcp(c, undefined, (_, r) => {
      signal.removeEventListener('abort', onAbort);
      resolve(r);
    });
    const onAbort = (): void => check.cancel();
    signal.addEventListener('abort', onAbort, { once: true });
  });
}
