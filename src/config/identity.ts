// Stable identities for virtual and real servers, used to match objects across reloads, to key checker state
// and IPVS entries, and to name them in the control socket. They are exactly the names keepalived's logs use.
import type { RealServer, VirtualServer } from './model.js';

/** `[192.0.2.10]:tcp:80`, `FWM 42`, `[group]:80` — unique per config. */
export function vsId(vs: Pick<VirtualServer, 'displayName'>): string {
  return vs.displayName;
}

/** `[192.0.2.10]:tcp:80/[192.0.2.22]:tcp:80` — unique per config. */
export function rsId(vs: Pick<VirtualServer, 'displayName'>, rs: Pick<RealServer, 'displayName'>): string {
  return [vs.displayName, '/', rs.displayName].join('');
}

/** keepalived's FMT_RS/FMT_VS address rendering: IPv6 and IPv4 both in brackets. */
export function formatEndpoint(address: string, protocol: string, port: number): string {
  // join() yields one flat string where a template would leave a chain of cons strings: these names are kept for
  // every real server, so on large configs that is megabytes for the garbage collector to copy.
  return ['[', address, ']:', protocol.toLowerCase(), ':', port].join('');
}
