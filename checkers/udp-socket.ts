// One request/reply exchange on a connected UDP socket, shared by DNS_CHECK and UDP_CHECK. Connecting makes an
// ICMP port-unreachable surface as ECONNREFUSED.
import dgram from 'node:dgram';
import type { CheckerConnection } from '../src/config/model.js';
import { ProbeError } from './connect.js';

/**
 * Sends `payload` and resolves with the first datagram `accept` approves (undefined on timeout when
 * `timeoutIsOk`); rejects on ICMP errors, send errors and, unless timeoutIsOk, on timeout.
 */
export function exchange(
  c: CheckerConnection,
  payload: Buffer,
  signal: AbortSignal,
  accept: (msg: Buffer) => boolean,
  timeoutIsOk = false,
): Promise<Buffer | undefined> {
  return new Promise((resolve, reject) => {
    const sock = dgram.createSocket(c.family === 'inet6' ? 'udp6' : 'udp4');
    let done = false;
    const finish = (err?: ProbeError, msg?: Buffer): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      signal.removeEventListener('abort', onAbort);
      sock.close();
      if (err) reject(err);
      else resolve(msg);
    };
    const onAbort = (): void => finish(new ProbeError('timeout', 'aborted'));
    const timer = setTimeout(() => (timeoutIsOk ? finish() : finish(new ProbeError('timeout', 'timeout'))), c.connectTimeoutMs);
    signal.addEventListener('abort', onAbort, { once: true });
    sock.on('error', (e: NodeJS.ErrnoException) => finish(new ProbeError(e.code === 'ECONNREFUSED' ? 'refused' : 'error', e.code ?? e.message)));
    sock.on('message', (msg) => {
      if (accept(msg)) finish(undefined, msg);
    });
    const start = (): void =>
      sock.connect(c.connectPort, c.connectIp, () => {
        sock.send(payload, (e) => {
          if (e) finish(new ProbeError('error', (e as NodeJS.ErrnoException).code ?? e.message));
        });
      });
    if (c.bindto !== undefined || c.bindPort !== undefined) sock.bind({ port: c.bindPort ?? 0, ...(c.bindto ? { address: c.bindto } : {}) }, start);
    else start();
  });
}
