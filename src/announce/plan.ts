// Which VIPs this director announces, and why: the I/O-free core of active-active scale-out. Each announced VIP is a
// route in a dedicated kernel table (route-table.ts) that a routing engine redistributes into BGP (FRR
// `ip import-table N` + `redistribute table N`, BIRD's kernel protocol with `learn`); the upstream router spreads
// flows over the directors announcing it (ECMP). Inputs: each virtual server's health as the checker process reports
// it, the operator's director drain and the daemon's stop; output: every VIP with its state and reason.
import { formatIp, parseIp } from '../net/addr.js';
import type { VirtualServer } from '../config/model.js';

/** One virtual server's health, as the checker process sees it (pool quorum, ha_suspend). */
export interface VsHealth {
  /** The virtual server's name as the log shows it: `[192.0.2.10]:tcp:80`. */
  readonly vsId: string;
  /** Canonical address text (formatIp), and its family: the route is a /32 or a /128. */
  readonly vip: string;
  readonly family: 4 | 6;
  /** Pool quorum (ipwrapper.c update_quorum_state): a VS without quorum serves nobody here but a sorry server. */
  readonly quorumUp: boolean;
  /** ha_suspend with the VIP absent from this host (check_daemon.c): the checkers are off, the VS cannot serve. */
  readonly suspended: boolean;
}

export interface AnnounceInputs {
  /** The checker process's last report; undefined while it is not running (dead, restarting, not yet started). */
  readonly health: readonly VsHealth[] | undefined;
  /** `lvskeeper drain-director`: every VIP withdrawn, existing flows kept. */
  readonly drained: boolean;
  /** SIGTERM/SIGINT: withdrawn before the children stop. */
  readonly stopping: boolean;
}

/**
 * The health of the virtual servers given by address (a fwmark service has no VIP of its own, a group's ranges are
 * not announced one by one): the checker process's report.
 */
export function healthOf(vss: readonly VirtualServer[], quorumUp: (vsId: string) => boolean, suspended: ReadonlySet<string>): VsHealth[] {
  const out: VsHealth[] = [];
  for (const vs of vss) {
    if (vs.key.kind !== 'ip') continue;
    const bytes = parseIp(vs.key.address);
    out.push({
      vsId: vs.displayName, vip: formatIp(bytes), family: bytes.length === 4 ? 4 : 6,
      quorumUp: quorumUp(vs.displayName), suspended: suspended.has(vs.displayName),
    });
  }
  return out;
}

/** Why a VIP is announced or withdrawn; the first that applies wins, in this order. */
export type AnnounceReason = 'stopping' | 'director-drained' | 'checker-down' | 'ha-suspended' | 'quorum-lost' | 'healthy';

export interface VipPlan {
  readonly vip: string;
  readonly family: 4 | 6;
  readonly announced: boolean;
  readonly reason: AnnounceReason;
  /** The virtual servers on this VIP that keep it withdrawn (ha-suspended, quorum-lost), else all of them. */
  readonly vs: readonly string[];
}

/**
 * Every opted-in VIP, sorted. A VIP is announced only while every virtual server on it is healthy: the router sends a
 * VIP's flows for all ports to one director, so a director that cannot serve one of them hands the VIP to the others.
 */
export function planAnnouncements(inputs: AnnounceInputs, known: readonly VsHealth[]): VipPlan[] {
  const byVip = new Map<string, VsHealth[]>();
  for (const h of inputs.health ?? known) {
    const list = byVip.get(h.vip) ?? [];
    list.push(h);
    byVip.set(h.vip, list);
  }
  const plans: VipPlan[] = [];
  for (const [vip, list] of byVip) {
    const all = list.map((h) => h.vsId);
    const suspended = list.filter((h) => h.suspended).map((h) => h.vsId);
    const noQuorum = list.filter((h) => !h.quorumUp).map((h) => h.vsId);
    const [reason, vs]: [AnnounceReason, string[]] = inputs.stopping
      ? ['stopping', all]
      : inputs.drained
        ? ['director-drained', all]
        : inputs.health === undefined
          ? ['checker-down', all]
          : suspended.length > 0
            ? ['ha-suspended', suspended]
            : noQuorum.length > 0
              ? ['quorum-lost', noQuorum]
              : ['healthy', all];
    plans.push({ vip, family: list[0]!.family, announced: reason === 'healthy', reason, vs });
  }
  return plans.sort((a, b) => (a.vip < b.vip ? -1 : a.vip > b.vip ? 1 : 0));
}

/** The log line for a VIP whose state or reason changed since `before` (undefined: the first plan). */
export function planChange(before: VipPlan | undefined, now: VipPlan): string | undefined {
  if (before && before.announced === now.announced && before.reason === now.reason) return undefined;
  const prefix = `${now.vip}/${now.family === 4 ? 32 : 128}`;
  if (now.announced) return `Announcing VIP ${prefix} (${now.vs.join(', ')} healthy)`;
  const why = now.reason === 'quorum-lost' || now.reason === 'ha-suspended' ? `${now.reason}: ${now.vs.join(', ')}` : now.reason;
  return `Withdrawing VIP ${prefix} (${why})`;
}
