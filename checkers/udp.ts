// UDP_CHECK (check_udp.c): send payload; without require_reply, no ICMP error before the timeout is success; with it,
// a reply of allowed length whose prefix matches (X = any nibble) is required.
import type { UdpChecker } from '../src/config/model.js';
import { ProbeError } from './connect.js';
import type { ProbeResult } from './types.js';
import { exchange } from './udp-socket.js';

/** True when `msg` starts with the hex pattern, `X`/`x` matching any nibble. */
export function matchesPattern(msg: Buffer, pattern: string): boolean {
  const hex = pattern.replace(/\s+/g, '');
  if (msg.length * 2 < hex.length) return false;
  for (let i = 0; i < hex.length; i++) {
    const want = hex[i]!;
    if (want === 'X' || want === 'x') continue;
    const byte = msg[i >> 1]!;
    const nibble = i % 2 === 0 ? byte >> 4 : byte & 0xf;
    if (nibble !== parseInt(want, 16)) return false;
  }
  return true;
}

export async function probeUdp(c: UdpChecker, signal: AbortSignal): Promise<ProbeResult> {
  const payload = c.payload ? Buffer.from(c.payload.replace(/\s+/g, ''), 'hex') : Buffer.alloc(0);
  const needReply = c.requireReply !== undefined;
  try {
    const reply = await exchange(c, payload, signal, () => true, !needReply);
    if (!needReply) return { ok: true, detail: 'success' };
    if (!reply) return { ok: false, detail: 'timeout' };
    if (reply.length < c.minReplyLength || reply.length > c.maxReplyLength) return { ok: false, detail: `reply length ${reply.length}` };
    if (!matchesPattern(reply, c.requireReply ?? '')) return { ok: false, detail: 'reply mismatch' };
    return { ok: true, detail: 'success' };
  } catch (err) {
    return { ok: false, detail: err instanceof ProbeError && err.reason === 'timeout' ? 'timeout' : 'failed' };
  }
}
