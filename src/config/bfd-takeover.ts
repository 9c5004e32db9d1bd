// `--bfd-takeover VI_1=b1[,VI_2=b2]` (beyond keepalived, which has no such thing): a BACKUP takes a bfd_instance
// session to its current master going Down as Master_Down_Timer's expiry (RFC 5798 §6.4.2), so it takes over after
// the BFD detection time. A command-line option, so keepalived.conf stays a file keepalived 2.2.7 accepts unchanged.
import type { BfdInstanceDef, VrrpInstance } from './model.js';

/** vrrp_instance name → the bfd_instance names whose Down may stand for its master's loss. */
export type BfdTakeover = Readonly<Record<string, readonly string[]>>;

export function parseBfdTakeover(text: string): BfdTakeover {
  const out: Record<string, string[]> = {};
  for (const pair of text.split(',')) {
    const m = /^([^=\s]+)=([^=\s]+)$/.exec(pair.trim());
    if (!m) throw new Error(`--bfd-takeover: expected VRRP_INSTANCE=BFD_INSTANCE[,...], got '${text}'`);
    const sessions = (out[m[1]!] ??= []);
    if (!sessions.includes(m[2]!)) sessions.push(m[2]!);
  }
  return out;
}

/** Why the pairs cannot run with this config, one line each (none: they can); -t, start and reload all ask. */
export function bfdTakeoverProblems(
  takeover: BfdTakeover,
  config: { readonly vrrpInstances: readonly VrrpInstance[]; readonly bfdInstances: readonly BfdInstanceDef[] },
): string[] {
  const problems: string[] = [];
  for (const [name, sessions] of Object.entries(takeover)) {
    const vi = config.vrrpInstances.find((i) => i.name === name);
    for (const session of sessions) {
      const what = `--bfd-takeover ${name}=${session}`;
      const bfd = config.bfdInstances.find((b) => b.name === session);
      if (vi === undefined) problems.push(`${what}: no vrrp_instance ${name} in the configuration`);
      if (bfd === undefined) problems.push(`${what}: no bfd_instance ${session} in the configuration`);
      if (vi === undefined || bfd === undefined) continue;
      // bfd_parser.c bfd_end_handler: `checker` alone keeps the session's events from the VRRP process.
      if (!bfd.vrrp) problems.push(`${what}: bfd_instance ${session} sends its events to the checker process only ('checker' without 'vrrp')`);
      if (bfd.family !== vi.family) {
        problems.push(`${what}: bfd_instance ${session}'s neighbor_ip ${bfd.neighbor} is not of the family ${name}'s adverts come from (${vi.family})`);
      } else if (vi.family === 'inet6' && vi.unicastPeers.length === 0) {
        // RFC 5798 §5.1.2.1: multicast IPv6 adverts come from the master's link-local address, a neighbor_ip a
        // bfd_instance (which names no interface) cannot have.
        problems.push(`${what}: ${name} is IPv6 multicast, whose adverts come from a link-local address, never a bfd_instance's neighbor_ip (use unicast_peer)`);
      }
    }
  }
  return problems;
}
