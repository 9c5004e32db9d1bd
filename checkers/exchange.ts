// Plain-TCP check exchanges on the lvsk_exchange addon (native/exchange.cc): one epoll set for every check, so a
// check costs a socket and a few syscalls instead of a net.Socket with its streams. Dialogue checkers (SSL_GET,
// SMTP_CHECK) connect here too, then detach the descriptor into a net.Socket; DNS_CHECK and UDP_CHECK run datagram
// exchanges here. bind_if and fwmark are set on each socket before it binds or connects. The addon reads a bounded
// amount per loop turn and never more than the caller's maxBytes, so a peer that streams without end costs bounded
// memory and cannot hold the event loop.
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
  /** connect_timeout passed while connecting, or since the connect completed (TCP; UDP: since the start). */
  timeout(connecting: boolean): void;
  /** The reply reached the maxBytes given to start(); the exchange is already closed (reset). */
  limit?(): void;
}

interface NativeExchangeSet {
  start(
    family: number, ip: string, port: number, bindIp: string, bindPort: number, bindIf: string, fwmark: number, timeoutMs: number,
    request: string | Buffer | null, datagram: boolean, maxBytes: number,
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
const TIMEOUT = 4;

const errnoNames = new Map<number, string>(Object.entries(constants.errno).map(([name, n]) => [n, name]));

/** The slot part of a handle (native/exchange.cc kSlotBits); the bits above it are the slot's generation. */
const kSlotMask = (1 << 20) - 1;

/**
 * The handlers of the exchanges under way, by the addon's slot. The addon reuses a freed slot before it adds one, and
 * only once the batch naming its last exchange was dispatched: so the arrays grow only to the most exchanges ever
 * under way at once, and an exchange a handler starts never takes the slot of one the batch has still to report.
 * Not a Map: one that takes and drops a handler at every check rehashes into a new table every few checks, and an
 * obsolete table links the next one (V8 src/objects/ordered-hash-table.h, NextTable). Once one such table reached the
 * old generation, every scavenge kept each later table, and the handlers each held, alive through it until the next
 * full collection: at 1,000 checks a second the checker process promoted 0.2-0.5 MB a second.
 */
class HandlerTable {
  private readonly handlers: (ExchangeHandler | undefined)[] = [];
  /** The handle each slot's handler was given, so that a stale handle for a reused slot finds nothing. */
  private readonly handles: number[] = [];

  set(handle: number, h: ExchangeHandler): void {
    const slot = handle & kSlotMask;
    while (this.handles.length <= slot) {
      this.handlers.push(undefined);
      this.handles.push(-1);
    }
    this.handlers[slot] = h;
    this.handles[slot] = handle;
  }

  get(handle: number): ExchangeHandler | undefined {
    const slot = handle & kSlotMask;
    return this.handles[slot] === handle ? this.handlers[slot] : undefined;
  }

  /** True when `handle` had a handler. */
  delete(handle: number): boolean {
    const slot = handle & kSlotMask;
    if (this.handles[slot] !== handle) return false;
    this.handlers[slot] = undefined;
    this.handles[slot] = -1;
    return true;
  }
}

class ExchangeSet {
  private readonly native: NativeExchangeSet;
  private readonly handlers = new HandlerTable();

  constructor(binding: ExchangeBinding) {
    this.native = new binding.ExchangeSet((events, data) => this.dispatch(events, data));
  }

  /**
   * Starts connecting; returns the handle to close() with. A failure to even start is reported asynchronously.
   * `datagram`: a connected UDP socket that sends `request` as one datagram and reports each reply as data.
   * `maxBytes` (TCP): the most reply bytes the caller can use; the addon reads no further and reports limit().
   */
  start(c: CheckerConnection, request: string | Buffer | null, h: ExchangeHandler, datagram = false, maxBytes = 0): number {
    const handle = this.native.start(
      c.family === 'inet6' ? 6 : 4, c.connectIp, c.connectPort, c.bindto ?? '', c.bindPort ?? 0, c.bindIf ?? '', c.fwmark ?? 0,
      c.connectTimeoutMs, request, datagram, Number.isFinite(maxBytes) ? maxBytes : 0,
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
        else if (kind === TIMEOUT) h.timeout(value === 0);
        else h.limit?.();
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
