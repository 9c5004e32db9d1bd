// Plain-TCP check exchanges on the lvsk_exchange addon (native/exchange.cc): one epoll set for every check, so a
// check costs a socket and a few syscalls instead of a net.Socket with its streams. Dialogue checkers (SSL_GET,
// SMTP_CHECK) connect here too, then detach the descriptor into a net.Socket; DNS_CHECK and UDP_CHECK run datagram
// exchanges here. bind_if and fwmark are set on each socket before it binds or connects.
import { constants } from 'node:os';
import type { CheckerConnection } from '../src/config/model.js';
import { loadAddon } from '../src/native/addon.js';

export interface ExchangeHandler {
  /** Only for exchanges started without a request; the handler may then close() or detach() it. */
  connected(): void;
  data(chunk: Buffer): void;
  /** The peer closed; the exchange is already closed. */
  end(): void;
  /** A failed connect, reset or write; `code` is the errno name (ECONNREFUSED, ECONNRESET, …). */
  error(code: string): void;
  /** connect_timeout passed while connecting, or between two reads once connected. */
  timeout(connecting: boolean): void;
}

interface NativeExchangeSet {
  start(
    family: number, ip: string, port: number, bindIp: string, bindPort: number, bindIf: string, fwmark: number, timeoutMs: number,
    request: string | Buffer | null, datagram: boolean,
  ): number;
  close(handle: number): void;
  detach(handle: number): number;
}

interface ExchangeBinding {
  ExchangeSet: new (onEvents: (events: Int32Array, data: Buffer) => void) => NativeExchangeSet;
}

const CONNECTED = 0;
const DATA = 1;
const END = 2;
const ERROR = 3;

const errnoNames = new Map<number, string>(Object.entries(constants.errno).map(([name, n]) => [n, name]));

class ExchangeSet {
  private readonly native: NativeExchangeSet;
  private readonly handlers = new Map<number, ExchangeHandler>();

  constructor(binding: ExchangeBinding) {
    this.native = new binding.ExchangeSet((events, data) => this.dispatch(events, data));
  }

  /**
   * Starts connecting; returns the handle to close() with. A failure to even start is reported asynchronously.
   * `datagram`: a connected UDP socket that sends `request` as one datagram and reports each reply as data.
   */
  start(c: CheckerConnection, request: string | Buffer | null, h: ExchangeHandler, datagram = false): number {
    const handle = this.native.start(
      c.family === 'inet6' ? 6 : 4, c.connectIp, c.connectPort, c.bindto ?? '', c.bindPort ?? 0, c.bindIf ?? '', c.fwmark ?? 0,
      c.connectTimeoutMs, request, datagram,
    );
    if (handle < 0) {
      queueMicrotask(() => h.error(errnoNames.get(-handle) ?? `errno ${-handle}`));
      return -1;
    }
    this.handlers.set(handle, h);
    return handle;
  }

  close(handle: number): void {
    if (this.handlers.delete(handle)) this.native.close(handle);
  }

  /** Takes a connected exchange's descriptor out of the set; the caller owns it from now on. */
  detach(handle: number): number {
    this.handlers.delete(handle);
    const fd = this.native.detach(handle);
    if (fd < 0) throw new Error(`detach: exchange ${handle} is not connected`);
    return fd;
  }

  private dispatch(events: Int32Array, data: Buffer): void {
    let offset = 0;
    for (let i = 0; i < events.length; i += 3) {
      const handle = events[i]!;
      const kind = events[i + 1]!;
      const value = events[i + 2]!;
      const h = this.handlers.get(handle);
      if (kind === DATA) offset += value;
      if (h === undefined) continue;
      if (kind > DATA) this.handlers.delete(handle);
      try {
        if (kind === CONNECTED) h.connected();
        else if (kind === DATA) h.data(data.subarray(offset - value, offset));
        else if (kind === END) h.end();
        else if (kind === ERROR) h.error(errnoNames.get(value) ?? `errno ${value}`);
        else h.timeout(value === 0);
      } catch (err) {
        // A handler's bug must surface, but not in the middle of other checks' events.
        process.nextTick(() => {
          throw err;
        });
      }
    }
  }
}

let shared: ExchangeSet | undefined;

/** The process's one exchange set, created on first use. */
export function exchanges(): ExchangeSet {
  shared ??= new ExchangeSet(loadAddon('lvsk_exchange') as ExchangeBinding);
  return shared;
}
