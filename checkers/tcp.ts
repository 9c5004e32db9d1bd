// TCP_CHECK: success when a TCP connect completes within connect_timeout (check_tcp.c).
import type { TcpChecker } from '../src/config/model.js';
import { connect, ProbeError } from './connect.js';
import type { ProbeResult } from './types.js';

export async function probeTcp(c: TcpChecker, signal: AbortSignal): Promise<ProbeResult> {
  try {
    const sock = await connect(c, signal);
    sock.destroy();
    return { ok: true, detail: 'success' };
  } catch (err) {
    return { ok: false, detail: err instanceof ProbeError && err.reason === 'timeout' ? 'timeout' : 'failed' };
  }
}
