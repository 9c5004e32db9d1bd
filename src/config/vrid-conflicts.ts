// Two instances that would answer each other's adverts (keepalived 2.2.7 vrrp.c check_vrid_conflicts, run by
// vrrp_complete_init once every instance is complete): any conflict stops keepalived's VRRP process.
import type { SourceRef, VrrpInstance } from './model.js';

export interface VridConflict {
  readonly src: SourceRef;
  readonly message: string;
}

/**
 * Pairs in file order, the earlier one named first. Multicast instances conflict on one interface with one group;
 * unicast ones (a separate VRID space) only with the same source address and a peer in common. The source
 * address of an instance without unicast_src_ip is its interface's, known here only as "the same interface".
 */
export function vridConflicts(instances: readonly VrrpInstance[]): VridConflict[] {
  const out: VridConflict[] = [];
  instances.forEach((a, i) => {
    for (const b of instances.slice(i + 1)) {
      if (a.family !== b.family || a.vrid !== b.vrid) continue;
      const unicast = a.unicastPeers.length > 0;
      if (unicast !== b.unicastPeers.length > 0) continue;
      if (unicast) {
        if (a.interface !== undefined && b.interface !== undefined && a.interface !== b.interface) continue;
        const saddr = (x: VrrpInstance): string => x.unicastSrcIp ?? `dev ${x.interface ?? ''}`;
        if (saddr(a) !== saddr(b)) continue;
        if (!a.unicastPeers.some((p) => b.unicastPeers.some((q) => q.address === p.address))) continue;
        out.push({ src: a.src, message: `(${a.name}) duplicate VRID conflict with ${b.name} VRID ${a.vrid}` });
        continue;
      }
      if (a.interface !== b.interface || a.mcastDstIp !== b.mcastDstIp) continue;
      out.push({
        src: a.src,
        message: `${a.name} and ${b.name} both use VRID ${a.vrid} with IPv${a.family === 'inet' ? 4 : 6} on interface ${a.interface ?? ''}`,
      });
    }
  });
  return out;
}
