// One request/reply exchange on a connected UDP socket, shared by DNS_CHECK and UDP_CHECK, on the exchange set.
// Connecting makes an ICMP port-unreachable surface as ECONNREFUSED; connect_timeout bounds the whole exchange.
import type { CheckerConnection } from '../src/config/model.js';
import { codeError, ProbeError } from './connect.js';
import { exchanges } from './exchange.js';

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
    const set = exchanges();
    let handle = -1;
    const finish = (err?: ProbeError, msg?: Buffer): void => {
      signal.removeEventListener('abort', onAbort);
      set.close(handle);
      if (err) reject(err);
      else resolve(msg);
    };
    const onAbort = (): void => finish(new ProbeError('timeout', 'aborted'));
    if (signal.aborted) return onAbort();
    signal.addEventListener('abort', onAbort, { once: true });
    const ignore = (): void => undefined;
    handle = set.start(
      c,
      payload,
      {
        connected: ignore,
        data: (msg) => {
          if (accept(msg)) finish(undefined, msg);
        },
        end: ignore,
        error: (code) => finish(codeError(code)),
        timeout: () => (timeoutIsOk ? finish() : finish(new ProbeError('timeout', 'timeout'))),
      },
      true,
    );
  });
}
