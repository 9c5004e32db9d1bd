// IP address text <-> network-order bytes, for the wire codecs (VRRP address lists, ARP, NA, pseudo-headers).
// Output text is canonical (RFC 5952 for IPv6: lower case, longest zero run of ≥ 2 groups compressed) so callers can
// compare addresses as strings.
//
//   parseIp(text): Buffer (4 or 16 bytes); throws TypeError on a non-literal (config/programmer input, never wire data)
//   formatIp(bytes): string (bytes.length must be 4 or 16)
//   ipFamily(text): 4 | 6 | 0
import { isIPv4, isIPv6 } from 'node:net';

export function ipFamily(text: string): 4 | 6 | 0 {
  return isIPv4(text) ? 4 : isIPv6(text) ? 6 : 0;
}

export function parseIp(text: string): Buffer {
  if (isIPv4(text)) return Buffer.from(text.split('.').map(Number));
  if (!isIPv6(text)) throw new TypeError(`not an IP address: '${text}'`);
  let s = text.split('%')[0] ?? '';
  const lastColon = s.lastIndexOf(':');
  const last = s.slice(lastColon + 1);
  if (isIPv4(last)) {
    // Embedded IPv4 (::ffff:192.0.2.1): replace it by its two 16-bit groups.
    const b = last.split('.').map(Number) as [number, number, number, number];
    s = `${s.slice(0, lastColon + 1)}${((b[0] << 8) | b[1]).toString(16)}:${((b[2] << 8) | b[3]).toString(16)}`;
  }
  const [head = '', rest] = s.split('::') as [string, string | undefined];
  const groups = (part: string): number[] => (part === '' ? [] : part.split(':').map((g) => parseInt(g, 16)));
  const h = groups(head);
  const r = rest === undefined ? [] : groups(rest);
  const zeros = rest === undefined ? 0 : 8 - h.length - r.length;
  const all = [...h, ...new Array<number>(zeros).fill(0), ...r];
  const out = Buffer.alloc(16);
  all.forEach((g, i) => out.writeUInt16BE(g, i * 2));
  return out;
}

export function formatIp(bytes: Uint8Array): string {
  if (bytes.length === 4) return Array.from(bytes).join('.');
  if (bytes.length !== 16) throw new TypeError(`address of ${bytes.length} bytes`);
  const g: number[] = [];
  for (let i = 0; i < 16; i += 2) g.push(((bytes[i] ?? 0) << 8) | (bytes[i + 1] ?? 0));
  let bestAt = -1;
  let bestLen = 1;
  for (let i = 0; i < 8; ) {
    if (g[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && g[j] === 0) j++;
    if (j - i > bestLen) {
      bestAt = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = (a: number[]): string => a.map((x) => x.toString(16)).join(':');
  if (bestAt < 0) return hex(g);
  return `${hex(g.slice(0, bestAt))}::${hex(g.slice(bestAt + bestLen))}`;
}
