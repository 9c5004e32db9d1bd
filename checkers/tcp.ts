// TCP_CHECK: success when a TCP connect completes within connect_timeout (check_tcp.c). The connect runs on the
// shared exchange set and the connection is reset as soon as it is up.
import type { TcpChecker } from '../src/config/model.js';
import { exchanges } from './exchange.js';
import type { ProbeResult } from './types.js';

export function probeTcp(c: TcpChecker, signal: AbortSignal): Promise<ProbeResult> {
  return new Promise((resolve) => {
    const set = exchanges();
    let handle = -1;
    const finish = (r: ProbeResult): void => {
      signal.removeEventListener('abort', timedOut);
      set.close(handle);
      resolve(r);
    };
    const failed = (): void => finish({ ok: false, detail: 'failed' });
    const timedOut = (): void => finish({ ok: false, detail: 'timeout' });
    if (signal.aborted) return timedOut();
    signal.addEventListener('abort', timedOut, { once: true });
    handle = set.start(c, null, {
      connected: () => finish({ ok: true, detail: 'success' }),
      data: failed,
      end: failed,
      error: failed,
      timeout: timedOut,
    });
  });
}
