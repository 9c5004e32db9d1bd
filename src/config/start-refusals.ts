// What the daemon refuses to run although `-t` only names it as not implemented: running it would break the
// protocol with keepalived peers rather than merely leave a feature out.
import type { VrrpInstance } from './model.js';
import { formatDiagnostic } from './errors.js';

/**
 * `auth_type AH` (keepalived vrrp/vrrp_ipsecah.c: VRRPv2 inside an IPsec AH header, HMAC-MD5-96 with a sequence
 * number, sent and received as IPPROTO_AH) is not implemented. A PASS or unauthenticated advert is dropped by a
 * keepalived peer using AH, and the reverse, so both sides would be MASTER: the daemon does not start on it.
 */
export function startRefusals(instances: readonly VrrpInstance[]): string[] {
  return instances.flatMap((vi) => {
    const auth = vi.authentication;
    if (auth?.type !== 'AH') return [];
    return [formatDiagnostic({
      ...auth.src,
      severity: 'fatal',
      message: `(${vi.name}) auth_type AH: lvskeeper does not implement IPsec AH authentication; not running it (keepalived peers would drop its adverts: two MASTERs)`,
    })];
  });
}
