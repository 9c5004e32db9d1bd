// DNS wire format for DNS_CHECK (RFC 1035 §4.1): the query encoder and the reply-header decoder, kept apart.
import type { DnsQueryType } from '../src/config/model.js';

/** RFC 1035 §3.2.2, RFC 3596 §2.1 (AAAA), RFC 4034 §2, §3 (DNSKEY, RRSIG). */
export const DNS_TYPE: Readonly<Record<DnsQueryType, number>> = {
  A: 1,
  NS: 2,
  CNAME: 5,
  SOA: 6,
  MX: 15,
  TXT: 16,
  AAAA: 28,
  RRSIG: 46,
  DNSKEY: 48,
};
const CLASS_IN = 1;
const FLAG_RD = 0x0100;
const FLAG_QR = 0x8000;

/** A standard query with RD set for one question. Throws on a label longer than 63 bytes. */
export function encodeQuery(id: number, name: string, type: DnsQueryType): Buffer {
  const labels = name === '.' || name === '' ? [] : name.replace(/\.$/, '').split('.');
  const parts: Buffer[] = [];
  const header = Buffer.alloc(12);
  header.writeUInt16BE(id & 0xffff, 0);
  header.writeUInt16BE(FLAG_RD, 2);
  header.writeUInt16BE(1, 4); // QDCOUNT
  parts.push(header);
  for (const label of labels) {
    const bytes = Buffer.from(label, 'ascii');
    if (bytes.length === 0 || bytes.length > 63) throw new Error(`bad DNS label '${label}'`);
    parts.push(Buffer.from([bytes.length]), bytes);
  }
  const tail = Buffer.alloc(5);
  tail.writeUInt8(0, 0);
  tail.writeUInt16BE(DNS_TYPE[type], 1);
  tail.writeUInt16BE(CLASS_IN, 3);
  parts.push(tail);
  return Buffer.concat(parts);
}

export interface ReplyHeader {
  readonly id: number;
  readonly qr: boolean;
  readonly rcode: number;
  readonly ancount: number;
}

/** Decodes the 12-byte header; undefined when the datagram is too short. */
export function decodeReplyHeader(msg: Buffer): ReplyHeader | undefined {
  if (msg.length < 12) return undefined;
  const flags = msg.readUInt16BE(2);
  return { id: msg.readUInt16BE(0), qr: (flags & FLAG_QR) !== 0, rcode: flags & 0x000f, ancount: msg.readUInt16BE(6) };
}
