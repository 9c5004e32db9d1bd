// VRRP advertisement codec: VRRPv2 (RFC 3768 §5) and VRRPv3 (RFC 5798 §5, now RFC 9568), IPv4 and IPv6.
// No sockets, timers or logging here; the adapter (instance.ts) feeds payloads in and counts drops.
//
// API
//   encodeAdvert(fields: AdvertFields, opts: EncodeOptions): Buffer      VRRP payload (no IP header); throws RangeError
//                                                                       on bad fields (programmer/config input)
//   decodeAdvert(buf: Uint8Array, ctx: DecodeContext): DecodeResult     never throws, never logs
//   vrrpChecksum(payload, family, version, src, dst, asV2): number       the 16-bit Internet checksum to put at offset 6
//   advertVrid(buf, ipProto): number | undefined                        the VRID byte, found as keepalived finds it
//   class DropCounters { record(r), get(reason), warnings, total, snapshot() }
//
// Checks, in keepalived's order (vrrp.c vrrp_check_packet):
//   1 AH header present (IPv4 protocol 51) → 'ah' (AH is parsed and reported, not supported); AH configured but the
//     packet has none → 'auth_type'
//   2 size: < 8 bytes → 'too_short'; version nibble not 2/3 → 'version'; then exactly 8 + naddr × (4|16) (+ 8 auth
//     data for v2) → 'too_short' / 'too_long'
//   3 TTL / hop limit 255 when ctx.checkTtl (multicast; unicast only with a configured TTL range) → 'ttl'
//   4 version ≠ configured, or v2 over IPv6 → 'version'
//   5 v2 auth type unknown or ≠ configured → 'auth_type'; PASS mismatch (constant-time) → 'auth_pass';
//     v2 advert interval ≠ configured → 'interval' (keepalived drops these silently; we count them like the rest)
//   6 type ≠ 1 (ADVERTISEMENT) → 'type'
//   7 ctx.vrid ≠ the VRID → 'vrid' (keepalived finds the instance by VRID before any check: another router's advert
//     must not reach the checksum step, which can switch the instance's checksum mode)
//   8 checksum (v3 over the IPv4/IPv6 pseudo-header unless v3ChecksumAsV2; v2 over the payload) → 'checksum'.
//     VRRPv3 over IPv4 follows keepalived's unicast checksum compatibility (ChecksumCompat below)
//  11 address count / list ≠ configured VIPs.
//   Policy (chosen here): accept and report `addressMismatch` so the caller counts a warning, as keepalived ≥ 2.3.3
//   does (commit af103930). Rejecting, as 2.2.7 does, turns a rolling VIP change into a split brain (issue #1603).
//   `strictAddressList: true` restores the 2.2.7 behaviour → 'address_count' / 'address_list'. Interop with 2.2.7 is
//   unaffected: what we send is the configured list either way; only our tolerance differs.
// Priority, unicast-peer (check_unicast_src, per-peer TTL range) and owner checks belong to the caller. keepalived's
// step 6 IPv4 tot_len check and its Ethernet-padding tolerance are the kernel's job here: raw sockets deliver exactly
// the datagram, and the addon strips the IPv4 header.
import { timingSafeEqual } from 'node:crypto';
import { formatIp, parseIp } from '../net/addr.js';

// RFC 3768 §5.2 / RFC 5798 §5.2
export const IPPROTO_VRRP = 112;
export const IPPROTO_AH = 51;
export const VRRP_TYPE_ADVERTISEMENT = 1;
export const VRRP_HEADER_LEN = 8;
export const VRRP_AUTH_DATA_LEN = 8;
// RFC 3768 §5.3.6
export const VRRP_AUTH_NONE = 0;
export const VRRP_AUTH_PASS = 1;
export const VRRP_AUTH_AH = 2;
export const VRRP_TTL = 255;
export const VRRP_MCAST_V4 = '224.0.0.18';
export const VRRP_MCAST_V6 = 'ff02::12';
/** v3 Max Adver Int is a 12-bit count of centiseconds. */
export const VRRP_V3_MAX_ADVER_INT_CS = 0x0fff;

export type Family = 4 | 6;
export type AuthType = 'none' | 'pass' | 'ah';

export type DropReason =
  | 'ah'
  | 'too_short'
  | 'too_long'
  | 'ttl'
  | 'version'
  | 'auth_type'
  | 'auth_pass'
  | 'interval'
  | 'type'
  | 'checksum'
  | 'vrid'
  | 'address_count'
  | 'address_list'
  /** The caller's check_unicast_src: not one of the unicast peers. */
  | 'unicast_peer';

export const DROP_REASONS: readonly DropReason[] = [
  'ah', 'too_short', 'too_long', 'ttl', 'version', 'auth_type', 'auth_pass', 'interval', 'type', 'checksum', 'vrid',
  'address_count', 'address_list', 'unicast_peer',
];

export interface AdvertFields {
  readonly version: 2 | 3;
  readonly vrid: number;
  readonly priority: number;
  /** Advertisement interval in centiseconds; v2 carries whole seconds (rounded), v3 12 bits of centiseconds. */
  readonly advertIntCs: number;
  /** VIPs, all of `opts.family`. At most 255. */
  readonly addresses: readonly string[];
  /** v2 only (ignored in v3). PASS uses the first 8 bytes of the password, zero-padded. */
  readonly auth?: { readonly type: 'none' } | { readonly type: 'pass'; readonly password: string };
}

/**
 * keepalived's unicast checksum compatibility (include/vrrp.h chksum_compatibility_t; compiled in with
 * OLD_CHKSUM_COMPAT, as Debian's 2.2.7 is). keepalived up to 1.3.6 put the multicast group (global vrrp_mcast_group4),
 * not the unicast peer, in the VRRPv3 IPv4 pseudo-header. 'config' (old_unicast_checksum) and 'auto' checksum that
 * way, sending and receiving; 'none' (the default) checksums over the real destination and turns 'auto' on the first
 * advert from a unicast peer that matches only the old way; 'never' (old_unicast_checksum never) never does.
 * Policy (chosen here): 'auto' sends the old checksum, as vrrp.c vrrp_check_packet means to by calling
 * vrrp_csum_mcast. keepalived 2.2.7 calls it before it sets 'auto', which vrrp_csum_mcast tests, so its send buffer
 * keeps the checksum over the destination it held (with one peer, the new checksum): the 'config' peer refuses every
 * advert ("Invalid VRRPv3 checksum") and both become MASTER once the learner is. Sending the old one, lvskeeper is
 * understood by that peer, by keepalived ≤ 1.3.6, and by any 2.2.7 peer but one set to 'never'.
 */
export type ChecksumCompat = 'none' | 'never' | 'config' | 'auto';

export interface ChecksumCompatibility {
  readonly mode: ChecksumCompat;
  /** global vrrp_mcast_group4: the old checksum's pseudo-header destination. */
  readonly group: string;
}

export interface EncodeOptions {
  readonly family: Family;
  /** Source and destination of the IP packet: needed for the v3 pseudo-header checksum. */
  readonly src?: string;
  readonly dst?: string;
  /** keepalived's v3_checksum_as_v2 (IPv4 only): v3 checksum without the pseudo-header, for old unicast peers. */
  readonly v3ChecksumAsV2?: boolean;
  /** Unset: the real destination, as mode 'none'. */
  readonly compat?: ChecksumCompatibility;
}

export interface Advert extends OldChecksumSeen {
  readonly version: 2 | 3;
  readonly type: number;
  readonly vrid: number;
  readonly priority: number;
  /** v2: Adver Int × 100; v3: Max Adver Int as sent. */
  readonly advertIntCs: number;
  /** v2 auth type field (0 in v3). */
  readonly authType: number;
  readonly checksum: number;
  readonly addresses: readonly string[];
  /** Set when the address list differs from ctx.addresses and the policy accepted it anyway. */
  readonly addressMismatch?: 'count' | 'list';
}

/**
 * Mode 'none', a unicast instance, and a VRRPv3 IPv4 checksum that matched only with the group as the pseudo-header
 * destination: the caller switches to 'auto' and logs it (vrrp.c vrrp_check_packet), whether or not a later check
 * drops the advert.
 */
export interface OldChecksumSeen {
  readonly oldChecksum?: true;
}

export interface AhHeader {
  readonly nextHeader: number;
  /** Whole AH header length in bytes, (payload len + 2) × 4. */
  readonly length: number;
  readonly spi: number;
  readonly seq: number;
}

export type DecodeResult =
  | { readonly ok: true; readonly advert: Advert }
  | ({ readonly ok: false; readonly reason: DropReason; readonly detail?: string; readonly ah?: AhHeader } & OldChecksumSeen);

export interface DecodeContext {
  readonly family: Family;
  /** Configured version. */
  readonly version: 2 | 3;
  /** Received TTL / hop limit; checked only when checkTtl. */
  readonly ttl?: number;
  readonly checkTtl: boolean;
  /** IP source and destination, for the v3 checksum. */
  readonly src: string;
  readonly dst: string;
  /** IPv4 protocol field of the received datagram (112, or 51 when an AH header precedes VRRP). Default 112. */
  readonly ipProto?: number;
  /** Configured v2 authentication (default none). */
  readonly authType?: AuthType;
  readonly authPass?: string;
  /** Configured interval; in v2 a different interval drops the advert. */
  readonly advertIntCs?: number;
  /** Drop adverts for other VRIDs with reason 'vrid'. */
  readonly vrid?: number;
  /** Configured VIPs; undefined skips the address check (skip_check_adv_addr with an unchanged master). */
  readonly addresses?: readonly string[];
  readonly strictAddressList?: boolean;
  readonly v3ChecksumAsV2?: boolean;
  /** Unset: the real destination, as mode 'none'. */
  readonly compat?: ChecksumCompatibility;
  /** The instance has unicast peers (keepalived's VRRP_FLAG_UNICAST): only then may mode 'none' turn 'auto'. */
  readonly unicast?: boolean;
}

const addrLen = (family: Family): number => (family === 4 ? 4 : 16);

function passBytes(password: string): Buffer {
  const out = Buffer.alloc(VRRP_AUTH_DATA_LEN);
  Buffer.from(password, 'utf8').copy(out, 0, 0, VRRP_AUTH_DATA_LEN);
  return out;
}

/** RFC 1071 one's-complement sum over the concatenated parts. */
function internetChecksum(parts: readonly Uint8Array[]): number {
  let sum = 0;
  let odd: number | undefined;
  for (const p of parts) {
    for (let i = 0; i < p.length; i++) {
      const b = p[i] ?? 0;
      if (odd === undefined) odd = b;
      else {
        sum += (odd << 8) | b;
        odd = undefined;
      }
    }
  }
  if (odd !== undefined) sum += odd << 8;
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return ~sum & 0xffff;
}

/**
 * The checksum of `payload` (whose checksum field must be zero). v3 includes the pseudo-header of RFC 5798 §5.2.8:
 * IPv4 src, dst, zero, protocol, length (RFC 768 style); IPv6 src, dst, 32-bit length, 3 zero bytes, next header
 * (RFC 8200 §8.1). v2, and v3 with asV2, cover the payload only.
 */
export function vrrpChecksum(payload: Uint8Array, family: Family, version: 2 | 3, src: string, dst: string, asV2 = false): number {
  if (version === 2 || (asV2 && family === 4)) return internetChecksum([payload]);
  const s = parseIp(src);
  const d = parseIp(dst);
  let pseudo: Buffer;
  if (family === 4) {
    pseudo = Buffer.alloc(4);
    pseudo.writeUInt8(IPPROTO_VRRP, 1);
    pseudo.writeUInt16BE(payload.length, 2);
  } else {
    pseudo = Buffer.alloc(8);
    pseudo.writeUInt32BE(payload.length, 0);
    pseudo.writeUInt8(IPPROTO_VRRP, 7);
  }
  return internetChecksum([s, d, pseudo, payload]);
}

/**
 * The destination of the VRRPv3 IPv4 pseudo-header (vrrp.c vrrp_build_vrrp_v3, vrrp_check_packet): the group in modes
 * 'config' and 'auto', whatever the packet's destination; otherwise the destination itself.
 */
function checksumDst(family: Family, dst: string, compat: ChecksumCompatibility | undefined): string {
  return family === 4 && (compat?.mode === 'config' || compat?.mode === 'auto') ? compat.group : dst;
}

export function encodeAdvert(f: AdvertFields, opts: EncodeOptions): Buffer {
  const { family } = opts;
  if (f.version === 2 && family === 6) throw new RangeError('VRRPv2 is IPv4 only');
  if (!Number.isInteger(f.vrid) || f.vrid < 1 || f.vrid > 255) throw new RangeError(`vrid ${f.vrid} not in 1..255`);
  if (!Number.isInteger(f.priority) || f.priority < 0 || f.priority > 255) throw new RangeError(`priority ${f.priority}`);
  if (f.addresses.length > 255) throw new RangeError('more than 255 addresses');
  const alen = addrLen(family);
  const authLen = f.version === 2 ? VRRP_AUTH_DATA_LEN : 0;
  const buf = Buffer.alloc(VRRP_HEADER_LEN + f.addresses.length * alen + authLen);
  buf.writeUInt8((f.version << 4) | VRRP_TYPE_ADVERTISEMENT, 0);
  buf.writeUInt8(f.vrid, 1);
  buf.writeUInt8(f.priority, 2);
  buf.writeUInt8(f.addresses.length, 3);
  if (f.version === 2) {
    const secs = Math.round(f.advertIntCs / 100);
    if (secs < 1 || secs > 255) throw new RangeError(`v2 advert interval ${f.advertIntCs} cs not in 1..255 s`);
    buf.writeUInt8(f.auth?.type === 'pass' ? VRRP_AUTH_PASS : VRRP_AUTH_NONE, 4);
    buf.writeUInt8(secs, 5);
  } else {
    const cs = Math.round(f.advertIntCs);
    if (cs < 1 || cs > VRRP_V3_MAX_ADVER_INT_CS) throw new RangeError(`v3 advert interval ${f.advertIntCs} cs`);
    buf.writeUInt16BE(cs, 4);
  }
  f.addresses.forEach((a, i) => {
    const b = parseIp(a);
    if (b.length !== alen) throw new RangeError(`address ${a} is not IPv${family}`);
    b.copy(buf, VRRP_HEADER_LEN + i * alen);
  });
  if (f.version === 2 && f.auth?.type === 'pass') passBytes(f.auth.password).copy(buf, buf.length - VRRP_AUTH_DATA_LEN);
  if (f.version === 3 && !(opts.v3ChecksumAsV2 && family === 4) && (opts.src === undefined || opts.dst === undefined)) {
    throw new RangeError('VRRPv3 checksum needs src and dst');
  }
  const dst = checksumDst(family, opts.dst ?? '', opts.compat);
  buf.writeUInt16BE(vrrpChecksum(buf, family, f.version, opts.src ?? '', dst, opts.v3ChecksumAsV2), 6);
  return buf;
}

const fail = (reason: DropReason, detail?: string): DecodeResult =>
  detail === undefined ? { ok: false, reason } : { ok: false, reason, detail };

function decodeAh(buf: Uint8Array): DecodeResult {
  if (buf.length < 12) return fail('ah', 'truncated AH header');
  const v = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const ah: AhHeader = { nextHeader: v.getUint8(0), length: (v.getUint8(1) + 2) * 4, spi: v.getUint32(4), seq: v.getUint32(8) };
  return { ok: false, reason: 'ah', detail: 'IPsec AH authentication is not supported', ah };
}

/** keepalived's sizeof(ipsec_ah_t): the AH header with its 96-bit ICV (vrrp_ipsecah.h). */
const IPSEC_AH_LEN = 24;

/**
 * A received packet's VRID as vrrp.c vrrp_get_header finds it, before any check (keepalived looks the instance up by
 * it first): after the AH header when IPv4 carries one; undefined when shorter than a VRRP header.
 */
export function advertVrid(buf: Uint8Array, ipProto = IPPROTO_VRRP): number | undefined {
  const at = ipProto === IPPROTO_AH ? IPSEC_AH_LEN : 0;
  return buf.length < at + VRRP_HEADER_LEN ? undefined : buf[at + 1];
}

export function decodeAdvert(buf: Uint8Array, ctx: DecodeContext): DecodeResult {
  const configuredAuth: AuthType = ctx.authType ?? 'none';
  if ((ctx.ipProto ?? IPPROTO_VRRP) === IPPROTO_AH) return decodeAh(buf);
  if (configuredAuth === 'ah') return fail('auth_type', 'AH configured but the packet has no AH header');

  if (buf.length < VRRP_HEADER_LEN) return fail('too_short', `${buf.length} bytes`);
  const v = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const b0 = v.getUint8(0);
  const version = b0 >> 4;
  if (version !== 2 && version !== 3) return fail('version', `version ${version}`);
  const naddr = v.getUint8(3);
  const alen = addrLen(ctx.family);
  const want = VRRP_HEADER_LEN + naddr * alen + (version === 2 ? VRRP_AUTH_DATA_LEN : 0);
  if (buf.length < want) return fail('too_short', `${buf.length} bytes, ${naddr} addresses need ${want}`);
  if (buf.length > want) return fail('too_long', `${buf.length} bytes, ${naddr} addresses need ${want}`);

  if (ctx.checkTtl && ctx.ttl !== VRRP_TTL) return fail('ttl', `ttl ${ctx.ttl ?? 'unknown'}`);
  if (version !== ctx.version || (version === 2 && ctx.family === 6)) {
    return fail('version', `version ${version}, configured ${ctx.version}`);
  }

  let authType = 0;
  let advertIntCs: number;
  if (version === 2) {
    authType = v.getUint8(4);
    if (authType > VRRP_AUTH_AH) return fail('auth_type', `auth type ${authType}`);
    const ours = configuredAuth === 'pass' ? VRRP_AUTH_PASS : VRRP_AUTH_NONE;
    if (authType !== ours) return fail('auth_type', `auth type ${authType}, configured ${ours}`);
    if (ours === VRRP_AUTH_PASS) {
      const got = buf.subarray(buf.length - VRRP_AUTH_DATA_LEN);
      if (!timingSafeEqual(got, passBytes(ctx.authPass ?? ''))) return fail('auth_pass');
    }
    advertIntCs = v.getUint8(5) * 100;
    if (ctx.advertIntCs !== undefined && advertIntCs !== ctx.advertIntCs) {
      return fail('interval', `interval ${advertIntCs} cs, configured ${ctx.advertIntCs}`);
    }
  } else {
    advertIntCs = v.getUint16(4) & VRRP_V3_MAX_ADVER_INT_CS;
  }

  const type = b0 & 0x0f;
  if (type !== VRRP_TYPE_ADVERTISEMENT) return fail('type', `type ${type}`);

  const vrid = v.getUint8(1);
  if (ctx.vrid !== undefined && vrid !== ctx.vrid) return fail('vrid', `vrid ${vrid}`);

  const checksum = v.getUint16(6);
  const zeroed = Buffer.from(buf);
  zeroed.writeUInt16BE(0, 6);
  const expect = (dst: string): number => vrrpChecksum(zeroed, ctx.family, version, ctx.src, dst, ctx.v3ChecksumAsV2);
  const dst = checksumDst(ctx.family, ctx.dst, ctx.compat);
  let expected: number;
  try {
    expected = expect(dst);
  } catch {
    return fail('checksum', 'src/dst not usable for the pseudo-header');
  }
  // vrrp.c vrrp_check_packet: a unicast instance in mode 'none' tries the old pseudo-header once the real one fails.
  const seen: OldChecksumSeen =
    checksum !== expected && version === 3 && ctx.family === 4 && !ctx.v3ChecksumAsV2 && ctx.unicast === true &&
    ctx.compat?.mode === 'none' && dst !== ctx.compat.group && checksum === expect(ctx.compat.group)
      ? { oldChecksum: true }
      : {};
  if (checksum !== expected && !seen.oldChecksum) {
    return fail('checksum', `checksum 0x${checksum.toString(16)}, expected 0x${expected.toString(16)}`);
  }

  const addresses: string[] = [];
  for (let i = 0; i < naddr; i++) {
    const at = VRRP_HEADER_LEN + i * alen;
    addresses.push(formatIp(buf.subarray(at, at + alen)));
  }

  let addressMismatch: 'count' | 'list' | undefined;
  if (ctx.addresses !== undefined) {
    const configured = new Set(ctx.addresses.map((a) => formatIp(parseIp(a))));
    if (ctx.addresses.length !== naddr) addressMismatch = 'count';
    else if (addresses.some((a) => !configured.has(a))) addressMismatch = 'list';
    if (addressMismatch !== undefined && ctx.strictAddressList) {
      const r = addressMismatch === 'count'
        ? fail('address_count', `expected ${ctx.addresses.length} VIPs but received ${naddr}`)
        : fail('address_list', `address list differs: ${addresses.join(' ')}`);
      return { ...r, ...seen };
    }
  }

  const advert: Advert = {
    version, type, vrid, priority: v.getUint8(2), advertIntCs, authType, checksum, addresses,
    ...(addressMismatch === undefined ? {} : { addressMismatch }),
    ...seen,
  };
  return { ok: true, advert };
}

/** Per-reason drop counts, plus the accepted-with-warning address mismatches (exported as metrics by the adapter). */
export class DropCounters {
  private readonly drops = new Map<DropReason, number>();
  /** Adverts accepted although their address list differed from ours (policy above). */
  addressMismatchAccepted = 0;
  total = 0;

  record(r: DecodeResult): void {
    if (r.ok) {
      if (r.advert.addressMismatch !== undefined) this.addressMismatchAccepted++;
      return;
    }
    this.drops.set(r.reason, (this.drops.get(r.reason) ?? 0) + 1);
    this.total++;
  }

  get(reason: DropReason): number {
    return this.drops.get(reason) ?? 0;
  }

  snapshot(): Record<DropReason, number> {
    return Object.fromEntries(DROP_REASONS.map((r) => [r, this.get(r)])) as Record<DropReason, number>;
  }
}
