// DNS_CHECK: a query over UDP; success is a reply with our ID, QR set and RCODE 0 (check_dns.c).
import { randomInt } from 'node:crypto';
import type { DnsChecker } from '../src/config/model.js';
import { ProbeError } from './connect.js';
import { decodeReplyHeader, encodeQuery } from './dns-wire.js';
import type { ProbeResult } from './types.js';
import { exchange } from './udp-socket.js';

export async function probeDns(c: DnsChecker, signal: AbortSignal): Promise<ProbeResult> {
  const id = randomInt(0, 0x10000);
  try {
    const reply = await exchange(c, encodeQuery(id, c.name, c.queryType), signal, (m) => decodeReplyHeader(m)?.id === id);
    const h = reply && decodeReplyHeader(reply);
    if (!h) return { ok: false, detail: 'no reply' };
    if (!h.qr) return { ok: false, detail: 'reply without QR flag' };
    if (h.rcode !== 0) return { ok: false, detail: `bad rcode ${h.rcode}` };
    return { ok: true, detail: 'succeed' };
  } catch (err) {
    return { ok: false, detail: err instanceof ProbeError && err.reason === 'timeout' ? 'timeout' : `failed (${(err as Error).message})` };
  }
}
