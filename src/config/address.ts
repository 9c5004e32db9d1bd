// Address syntax checks for config values, without touching the network stack.
import type { AddressFamily } from '../ipvs/types.js';

const V4 = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;

/**
 * keepalived reads config addresses with inet_pton, which takes no IPv6 zone (`fe80::1%eth0` is invalid there);
 * only smtp_server, resolved by getaddrinfo, may carry one (`zone: true`).
 */
export function ipFamily(text: string, { zone = false } = {}): AddressFamily | undefined {
  if (V4.test(text)) return 'inet';
  if (!text.includes(':') || !(zone ? /^[0-9A-Fa-f:.]+(%[\w.-]+)?$/ : /^[0-9A-Fa-f:.]+$/).test(text)) return undefined;
  const bare = text.replace(/%.*$/, '');
  try {
    new URL(`http://[${bare}]/`);
    return 'inet6';
  } catch {
    return undefined;
  }
}

/**
 * An address as lib/utils.c inet_stosockaddr reads one without a port: the family from any ':' in the text, and
 * whatever follows the first '-' (else the first '/') left out before inet_pton. Returns the canonical address.
 */
export function stosockaddr(text: string): { family: AddressFamily; address: string } | undefined {
  const family: AddressFamily = text.includes(':') ? 'inet6' : 'inet';
  const cut = text.includes('-') ? text.indexOf('-') : text.indexOf('/');
  const ip = cut < 0 ? text : text.slice(0, cut);
  return ipFamily(ip) === family ? { family, address: canonicalIp(ip) } : undefined;
}

/** Canonical text: IPv6 compressed and lower-cased the way inet_ntop prints it. */
export function canonicalIp(text: string): string {
  const fam = ipFamily(text, { zone: true });
  if (fam !== 'inet6') return text;
  const zone = /%.*$/.exec(text)?.[0] ?? '';
  const host = new URL(`http://[${text.replace(/%.*$/, '')}]/`).hostname;
  return host.slice(1, -1) + zone;
}

export function ipv4ToInt(a: string): number {
  return a.split('.').reduce((acc, o) => acc * 256 + Number(o), 0);
}

export function intToIpv4(n: number): string {
  return [24, 16, 8, 0].map((s) => Math.floor(n / 2 ** s) % 256).join('.');
}

/** IPv6 text → 128-bit bigint. */
export function ipv6ToBig(a: string): bigint {
  const canon = canonicalIp(a).replace(/%.*$/, '');
  let head = canon;
  let tail = '';
  if (canon.includes('::')) [head, tail] = canon.split('::') as [string, string];
  const h = head ? head.split(':') : [];
  const t = tail ? tail.split(':') : [];
  const groups = [...h, ...Array<string>(8 - h.length - t.length).fill('0'), ...t];
  return groups.reduce((acc, g) => (acc << 16n) | BigInt(Number.parseInt(g || '0', 16)), 0n);
}

export function bigToIpv6(n: bigint): string {
  const groups: string[] = [];
  for (let i = 7; i >= 0; i--) groups.push(((n >> BigInt(i * 16)) & 0xffffn).toString(16));
  return canonicalIp(groups.join(':'));
}
