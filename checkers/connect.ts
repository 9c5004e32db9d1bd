// Opens the TCP (or TLS) connection every stream checker starts with, honouring connect_ip/port, bindto,
// bind_port and connect_timeout, and always destroying the socket on abort.
import net from 'node:net';
import tls from 'node:tls';
import type { CheckerConnection } from '../src/config/model.js';

export interface ConnectOptions {
  readonly tls?: { readonly servername?: string };
}

export class ProbeError extends Error {
  constructor(readonly reason: 'timeout' | 'refused' | 'error', message: string) {
    super(message);
  }
}

/** A socket (TCP, or TLS without peer verification as keepalived) starting to connect; the caller owns it. */
export function openSocket(c: CheckerConnection, opts: ConnectOptions = {}): net.Socket {
  const base: net.TcpNetConnectOpts = {
    host: c.connectIp,
    port: c.connectPort,
    family: c.family === 'inet6' ? 6 : 4,
    ...(c.bindto !== undefined ? { localAddress: c.bindto } : {}),
    ...(c.bindPort !== undefined ? { localPort: c.bindPort } : {}),
  };
  return opts.tls
    ? tls.connect({
        ...base,
        rejectUnauthorized: false,
        ...(opts.tls.servername !== undefined && net.isIP(opts.tls.servername) === 0 ? { servername: opts.tls.servername } : {}),
      })
    : net.connect(base);
}

export function errorReason(err: NodeJS.ErrnoException): ProbeError {
  return err.code !== undefined ? codeError(err.code) : new ProbeError('error', err.message);
}

/** A failed connect or exchange by its errno name; a refusal is told apart, as keepalived's log lines do. */
export function codeError(code: string): ProbeError {
  return new ProbeError(code === 'ECONNREFUSED' ? 'refused' : 'error', code);
}

/** Resolves once connected (and TLS handshake done); the caller owns the socket and must destroy it. */
export function connect(c: CheckerConnection, signal: AbortSignal, opts: ConnectOptions = {}): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const sock = openSocket(c, opts);
    // The socket's own idle timer bounds the connect (no extra timer per check); callers re-arm it for reads.
    const onTimeout = (): void => fail(new ProbeError('timeout', 'connect timeout'));
    sock.setTimeout(c.connectTimeoutMs, onTimeout);
    const onAbort = (): void => fail(new ProbeError('timeout', 'aborted'));
    const cleanup = (): void => {
      sock.setTimeout(0);
      sock.removeListener('timeout', onTimeout);
      signal.removeEventListener('abort', onAbort);
      sock.removeListener('error', onError);
    };
    const fail = (err: ProbeError): void => {
      cleanup();
      sock.destroy();
      reject(err);
    };
    const onError = (err: NodeJS.ErrnoException): void => fail(errorReason(err));
    sock.once('error', onError);
    sock.once(opts.tls ? 'secureConnect' : 'connect', () => {
      cleanup();
      resolve(sock);
    });
    if (signal.aborted) onAbort();
    else signal.addEventListener('abort', onAbort, { once: true });
  });
}
