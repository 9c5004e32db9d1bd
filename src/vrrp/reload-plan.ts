// What a reload (SIGHUP) does to each vrrp_instance, decided from the old and new configs alone. keepalived reloads
// by diffing and keeps VRRP state (vrrp_daemon.c reload_vrrp_thread); so do we, matching instances by name:
//   keep     identical (source positions aside): nothing happens, no re-election, no notify
//   adjust   same router (see sameRouter): new settings applied in place (instance.ts reconfigure)
//   restart  the router itself changed: stopped as at shutdown, then started as at boot
//   remove   gone from the config: stopped as at shutdown (priority 0 if MASTER, VIPs removed, notify_stop)
//   add      new: started as at boot
import type { Vip, VrrpInstance } from '../config/model.js';
import { addressVmacs } from './vmac.js';

export interface ReloadPlan {
  readonly keep: readonly string[];
  readonly adjust: readonly string[];
  readonly restart: readonly string[];
  readonly remove: readonly string[];
  readonly add: readonly string[];
}

/** Deep equality of config values, ignoring `src` (file/line), which moves whenever a line above is edited. */
export function sameSettings(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  const keys = (o: object): string[] => Object.keys(o).filter((k) => k !== 'src' && (o as Record<string, unknown>)[k] !== undefined);
  const ka = keys(a);
  const kb = keys(b);
  if (ka.length !== kb.length) return false;
  return ka.every((k) => sameSettings((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]));
}

/**
 * Whether two instance configs describe the same router on the wire: what the sockets were opened with (interface,
 * family, multicast or unicast, source address, TTL), what the peers identify it by (VRID, version), and what
 * cannot change under a running state machine (address ownership, sync-group membership, VMAC).
 */
export function sameRouter(a: VrrpInstance, b: VrrpInstance): boolean {
  return (
    a.interface === b.interface &&
    a.family === b.family &&
    a.vrid === b.vrid &&
    a.version === b.version &&
    (a.priority === 255) === (b.priority === 255) &&
    (a.unicastPeers.length > 0) === (b.unicastPeers.length > 0) &&
    a.unicastSrcIp === b.unicastSrcIp &&
    a.mcastSrcIp === b.mcastSrcIp &&
    a.mcastDstIp === b.mcastDstIp &&
    a.unicastTtl === b.unicastTtl &&
    a.syncGroup === b.syncGroup &&
    sameSettings(a.useVmac, b.useVmac) &&
    // vrrp.c find_vrrp_match: no match when VRRP_VMAC_ADDR_BIT differs; the VMACs of the VIPs are made at start.
    a.useVmacAddr === b.useVmacAddr &&
    sameSettings(addressVmacs(a), addressVmacs(b))
  );
}

export function planReload(prev: readonly VrrpInstance[], next: readonly VrrpInstance[]): ReloadPlan {
  const old = new Map(prev.map((vi) => [vi.name, vi]));
  const plan = { keep: [] as string[], adjust: [] as string[], restart: [] as string[], remove: [] as string[], add: [] as string[] };
  for (const vi of next) {
    const before = old.get(vi.name);
    if (before === undefined) plan.add.push(vi.name);
    else if (sameSettings(before, vi)) plan.keep.push(vi.name);
    else if (sameRouter(before, vi)) plan.adjust.push(vi.name);
    else plan.restart.push(vi.name);
  }
  const names = new Set(next.map((vi) => vi.name));
  for (const vi of prev) if (!names.has(vi.name)) plan.remove.push(vi.name);
  return plan;
}

/** VIPs to add and remove to go from one list to the other; an entry whose options changed is removed and re-added. */
export function diffVips(prev: readonly Vip[], next: readonly Vip[]): { added: Vip[]; removed: Vip[] } {
  return {
    added: next.filter((v) => !prev.some((p) => sameSettings(p, v))),
    removed: prev.filter((p) => !next.some((v) => sameSettings(p, v))),
  };
}

/** Every VIP of an instance, excluded ones too: a reload diffs them together. */
export function vipsOf(cfg: VrrpInstance): Vip[] {
  return [...cfg.virtualIpaddresses, ...cfg.virtualIpaddressesExcluded];
}

/** One instance in `lvskeeper plan`: what planReload decides for it, what differs, and what becomes of its state. */
export interface InstancePlan {
  readonly action: keyof ReloadPlan;
  readonly name: string;
  /** Its state now; absent for an instance the reload adds. */
  readonly state?: string;
  /** The settings that differ, priority and VIPs spelled out. */
  readonly changes: readonly string[];
  readonly effect: string;
}

function changesOf(a: VrrpInstance, b: VrrpInstance): string[] {
  const out: string[] = [];
  if (a.priority !== b.priority) out.push(`priority ${a.priority} -> ${b.priority}`);
  const { added, removed } = diffVips(vipsOf(a), vipsOf(b));
  out.push(...removed.map((v) => `VIP -${v.address}`), ...added.map((v) => `VIP +${v.address}`));
  const rest = Object.keys({ ...a, ...b }).filter((k) => !['src', 'priority', 'virtualIpaddresses', 'virtualIpaddressesExcluded'].includes(k));
  for (const k of rest) if (!sameSettings((a as unknown as Record<string, unknown>)[k], (b as unknown as Record<string, unknown>)[k])) out.push(k);
  return out;
}

/**
 * planReload's decisions as `lvskeeper plan` reports them. An adjusted instance keeps its state (instance.ts
 * reconfigure: a new priority is advertised, VIPs change only while MASTER); a restarted one is stopped as at
 * shutdown and starts again as at boot.
 */
export function describeReload(prev: readonly VrrpInstance[], next: readonly VrrpInstance[], states: Readonly<Record<string, string>>): InstancePlan[] {
  const plan = planReload(prev, next);
  const old = new Map(prev.map((vi) => [vi.name, vi]));
  const now = new Map(next.map((vi) => [vi.name, vi]));
  const effects: Record<keyof ReloadPlan, (state: string | undefined) => string> = {
    keep: (s) => `state kept (${s ?? '?'})`,
    adjust: (s) => (s === 'MASTER' ? 'state kept (MASTER): VIPs and priority applied now' : `state kept (${s ?? '?'}): VIPs follow when MASTER`),
    restart: (s) => `leaves ${s ?? '?'}, starts again as at boot${s === 'MASTER' ? ' (priority 0 sent, VIPs removed first)' : ''}`,
    remove: (s) => `stopped: leaves ${s ?? '?'}${s === 'MASTER' ? ' (priority 0 sent, VIPs removed)' : ''}`,
    add: () => 'starts as at boot',
  };
  const out: InstancePlan[] = [];
  for (const action of ['keep', 'adjust', 'restart', 'remove', 'add'] as const) {
    for (const name of plan[action]) {
      const a = old.get(name);
      const b = now.get(name);
      const state = states[name];
      out.push({ action, name, ...(state !== undefined && action !== 'add' ? { state } : {}), changes: a && b ? changesOf(a, b) : [], effect: effects[action](state) });
    }
  }
  return out;
}
