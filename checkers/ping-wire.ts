// ICMP / ICMPv6 echo messages for PING_CHECK (RFC 792, RFC 4443 §4): build a request, parse a reply.
// Raw ICMPv6 sockets have the kernel fill the checksum (it covers a pseudo-header we do not see); ICMPv4 is ours.

export const ICMP_ECHO_REPLY = 0;
const ICMP_ECHO_REQUEST = 8;
const ICMP6_ECHO_REQUEST = 128;
const ICMP6_ECHO_REPLY = 129;
const HEADER = 8;

export interface Echo {
  readonly id: number;
  readonly seq: number;
  readonly payload: Buffer;
}

/** The Internet checksum (RFC 1071) over `b`. */
export function inetChecksum(b: Uint8Array): number {
  let sum = 0;
  for (let i = 0; i + 1 < b.length; i += 2) sum += (b[i]! << 8) | b[i + 1]!;
  if (b.length % 2 === 1) sum += b[b.length - 1]! << 8;
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return ~sum & 0xffff;
}

export function buildEchoRequest(family: 4 | 6, echo: Echo): Buffer {
  const b = Buffer.alloc(HEADER + echo.payload.length);
  b[0] = family === 4 ? ICMP_ECHO_REQUEST : ICMP6_ECHO_REQUEST;
  b.writeUInt16BE(echo.id, 4);
  b.writeUInt16BE(echo.seq, 6);
  echo.payload.copy(b, HEADER);
  if (family === 4) b.writeUInt16BE(inetChecksum(b), 2);
  return b;
}

/** The echo reply in `data` (the ICMP message, IP header already stripped), or a reason it is not one. */
export function parseEchoReply(family: 4 | 6, data: Buffer): Echo | { readonly drop: 'short' | 'type' | 'checksum' } {
  if (data.length < HEADER) return { drop: 'short' };
  if (data[0] !== (family === 4 ? ICMP_ECHO_REPLY : ICMP6_ECHO_REPLY) || data[1] !== 0) return { drop: 'type' };
  if (family === 4 && inetChecksum(data) !== 0) return { drop: 'checksum' };
  return { id: data.readUInt16BE(4), seq: data.readUInt16BE(6), payload: data.subarray(HEADER) };
}
