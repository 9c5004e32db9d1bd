// use_vmac / use_ipvlan decisions, I/O-free (keepalived 2.2.7 vrrp.c vrrp_complete_instance and create_vmac_name,
// vrrp_vmac.c netlink_link_add_vmac / netlink_link_add_ipvlan / set_link_local_address, vrrp_if_config.c): which
// device an instance's VRRP runs on, its name and MAC, whether an existing device is used, updated or replaced, and
// the settings keepalived puts on it. vmac-link.ts carries the plan out.
//
//   vmacMac(vrid, family, configured?): string                 00:00:5e:00:01:VRID (IPv6 00:00:5e:00:02:VRID)
//   vmacName(prefix, vrid, family, taken): string              vrrp.VRID, then vrrp1.VRID… (IPv6: vrrp6.VRID second)
//   linkLocalFromMac(mac): string                              fe80::/64 EUI-64 address
//   planVmac(want, base, links, taken): VmacPlan
//   addressVmacBase(cfg, vip): string | undefined               use_vmac_addr: the interface a VIP's own VMAC sits on
//   addressVmacs(cfg): { base, family }[]                         use_vmac_addr: those VMACs, once each, in VIP order
//   extraGarpVips(cfg): Vip[]                                  garp_extra_if: whose GARP/NA goes out at each interval
//   VMAC_DEVCONF / BASE_DEVCONF                                the IPv4 devconf keepalived sets (vmac_sysctl, parent_sysctl)
import { formatIp } from '../net/addr.js';
import type { Vip, VrrpInstance } from '../config/model.js';
import {
  IPV4_DEVCONF_ACCEPT_LOCAL, IPV4_DEVCONF_ARPFILTER, IPV4_DEVCONF_ARP_IGNORE, IPV4_DEVCONF_PROMOTE_SECONDARIES,
  IPV4_DEVCONF_RP_FILTER, IPVLAN_MODE_L2, MACVLAN_MODE_PRIVATE,
} from '../net/link-uapi.js';
import type { LinkInfo } from '../net/rtnl.js';

/** vrrp_if_config.c vmac_sysctl: set on an IPv4 VMAC when it is created. */
export const VMAC_DEVCONF: readonly (readonly [number, number])[] = [
  [IPV4_DEVCONF_ARP_IGNORE, 1],
  [IPV4_DEVCONF_ACCEPT_LOCAL, 1],
  [IPV4_DEVCONF_RP_FILTER, 0],
  [IPV4_DEVCONF_PROMOTE_SECONDARIES, 1],
];

/** vrrp_if_config.c parent_sysctl: set on the base interface unless both are 1 already. */
export const BASE_DEVCONF: readonly (readonly [number, number])[] = [
  [IPV4_DEVCONF_ARP_IGNORE, 1],
  [IPV4_DEVCONF_ARPFILTER, 1],
];

export type Family = 4 | 6;

export interface VmacWant {
  readonly instance: string;
  readonly kind: 'macvlan' | 'ipvlan';
  readonly vrid: number;
  readonly family: Family;
  /** use_vmac NAME / use_ipvlan NAME. */
  readonly name?: string;
  /** vmac_prefix (vmac_addr_prefix for use_vmac_addr's): the start of a made-up name; "vrrp" when unset. */
  readonly prefix?: string;
  /** use_vmac MAC. */
  readonly mac?: string;
  /** use_ipvlan's bridge (0) / private / vepa flags (IFLA_IPVLAN_FLAGS). */
  readonly ipvlanFlags?: number;
  /** use_ipvlan ADDR: an existing ipvlan matches only when it holds this address. */
  readonly ipvlanAddress?: string;
}

export type VmacAction =
  /** A matching device exists: used as it is (keepalived sets VRRP_VMAC_UP_BIT and does not touch it). */
  | { readonly op: 'reuse'; readonly index: number }
  | { readonly op: 'create' }
  /** The named private macvlan on the right base has another MAC: changed in place. */
  | { readonly op: 'update'; readonly index: number }
  /** The named macvlan/ipvlan sits on another base: deleted, then created afresh. */
  | { readonly op: 'replace'; readonly index: number }
  /** An ipvlan of the name that does not match: taken as it is, but brought up and set up as a new one. */
  | { readonly op: 'adopt'; readonly index: number };

export interface VmacPlan {
  readonly name: string;
  /** The macvlan's MAC; '' for an ipvlan (it shares the base's). */
  readonly mac: string;
  readonly action: VmacAction;
  /** Lines keepalived logs while deciding, in order, and whether each is a config error (`error`). */
  readonly logs: readonly { readonly level: 'info' | 'error'; readonly msg: string }[];
}

const LL_PREFIX = '00:00:5e:00';

export function vmacMac(vrid: number, family: Family, configured?: string): string {
  if (configured !== undefined) return configured;
  return `${LL_PREFIX}:0${family === 6 ? 2 : 1}:${vrid.toString(16).padStart(2, '0')}`;
}

const IFNAMSIZ = 16;

/** snprintf(ifname, IFNAMSIZ, "%s%s.%d"), the prefix cut so the whole name fits. */
function fitName(prefix: string, num: string, vrid: number): string {
  const full = `${prefix}${num}.${vrid}`;
  if (full.length < IFNAMSIZ) return full;
  return `${prefix.slice(0, prefix.length - (full.length - IFNAMSIZ) - 1)}${num}.${vrid}`;
}

/**
 * vrrp.c create_vmac_name: the first of vrrp.VRID, vrrpN.VRID (N = 1, 2…; IPv6 tries 6 first, then 1… skipping 6)
 * that no other instance uses and no existing interface has.
 */
export function vmacName(prefix: string, vrid: number, family: Family, taken: (name: string) => boolean): string {
  let name = fitName(prefix, '', vrid);
  let num = 0;
  while (taken(name)) {
    if (family === 6) num = num === 0 ? 6 : num === 6 ? 1 : num + 1 === 6 ? 7 : num + 1;
    else num++;
    name = fitName(prefix, String(num), vrid);
  }
  return name;
}

/** vrrp_vmac.c make_link_local_address: fe80::/64 with the EUI-64 interface identifier of `mac`. */
export function linkLocalFromMac(mac: string): string {
  const m = mac.split(':').map((x) => parseInt(x, 16));
  const b = Buffer.alloc(16);
  b[0] = 0xfe;
  b[1] = 0x80;
  b[8] = (m[0] ?? 0) ^ 0x02;
  b[9] = m[1] ?? 0;
  b[10] = m[2] ?? 0;
  b[11] = 0xff;
  b[12] = 0xfe;
  b[13] = m[3] ?? 0;
  b[14] = m[4] ?? 0;
  b[15] = m[5] ?? 0;
  return formatIp(b);
}

/** What of a link the plan needs: the interface, and for an ipvlan the addresses it holds. */
export interface PlanLink extends LinkInfo {
  readonly addresses?: readonly string[];
}

/**
 * vrrp.c vrrp_complete_instance (the _HAVE_VRRP_VMAC_ part) with the parser's name check (vrrp_parser.c
 * vrrp_vmac_handler / vrrp_ipvlan_handler) and netlink_link_add_vmac's handling of an existing device. `taken` says
 * whether an earlier instance already claimed a name.
 */
export function planVmac(want: VmacWant, base: LinkInfo, links: readonly PlanLink[], taken: (name: string) => boolean): VmacPlan {
  const logs: { level: 'info' | 'error'; msg: string }[] = [];
  const tag = `(${want.instance})`;
  const mac = want.kind === 'macvlan' ? vmacMac(want.vrid, want.family, want.mac) : '';
  const isOurKind = (l: PlanLink): boolean => l.kind === want.kind;
  let name = want.name;
  const named = name === undefined ? undefined : links.find((l) => l.name === name);
  // The parser drops a configured name already held by another kind of device.
  if (named && name !== undefined && (!isOurKind(named) || named.mode !== (want.kind === 'macvlan' ? MACVLAN_MODE_PRIVATE : IPVLAN_MODE_L2))) {
    logs.push({
      level: 'error',
      msg: want.kind === 'macvlan'
        ? `${tag} interface ${name} already exists and is not a private macvlan; ignoring vmac if_name`
        : `${tag} interface ${name} already exists and is not an l2 ipvlan; ignoring ipvlan if_name`,
    });
    name = undefined;
  }
  // An existing device that could be this instance's is used under its own name.
  const match = links.find((l) => {
    if (l.parent !== base.index || !isOurKind(l)) return false;
    if (want.kind === 'macvlan') return l.mode === MACVLAN_MODE_PRIVATE && l.mac === mac;
    return (
      l.mode === IPVLAN_MODE_L2 && (l.ipvlanFlags ?? 0) === (want.ipvlanFlags ?? 0) &&
      !(want.family === 6 && name === undefined && want.ipvlanAddress === undefined) &&
      (name === undefined || name === l.name) &&
      (want.ipvlanAddress === undefined || (l.addresses ?? []).includes(want.ipvlanAddress))
    );
  });
  if (match) {
    logs.push({ level: 'info', msg: `${tag} Found matching interface ${match.name}` });
    if (name !== undefined && name !== match.name) {
      logs.push({ level: 'info', msg: `${tag} vmac name mismatch ${name} <=> ${match.name}. changing to ${match.name}.` });
    }
    return { name: match.name, mac, action: { op: 'reuse', index: match.index }, logs };
  }
  let action: VmacAction = { op: 'create' };
  const existing = name === undefined ? undefined : links.find((l) => l.name === name);
  if (existing && name !== undefined) {
    const type = want.kind === 'ipvlan' ? 'IPVLAN' : 'VMAC';
    if (existing.kind === 'macvlan' || existing.kind === 'ipvlan') {
      logs.push({ level: 'info', msg: `${tag} ${type} ${name} already exists but is incompatible. It will be deleted/updated` });
      if (want.kind === 'macvlan') {
        if (existing.parent !== base.index) {
          logs.push({ level: 'info', msg: `${tag} Removing old VMAC interface ${name} due to conflicting interface` });
          action = { op: 'replace', index: existing.index };
        } else {
          logs.push({ level: 'info', msg: `${tag} Update old VMAC interface ${name} due to wrong MAC/mode ` });
          action = { op: 'update', index: existing.index };
        }
      } else {
        // netlink_link_add_ipvlan takes an existing device of the name as it is.
        action = { op: 'adopt', index: existing.index };
      }
    } else {
      logs.push({ level: 'error', msg: `${tag} ${type} interface name ${name} already exists as a non ${type} interface. ignoring configured name` });
      name = undefined;
    }
  }
  if (name === undefined) name = vmacName(want.prefix ?? 'vrrp', want.vrid, want.family, (n) => taken(n) || links.some((l) => l.name === n));
  return { name, mac, action, logs };
}

/**
 * use_vmac_addr (vrrp.c vrrp_complete_instance, VRRP_VMAC_ADDR_BIT): a VIP/eVIP on another interface than the
 * instance's, or of the other family, goes on a VMAC of its own above that interface (its VRID and family's MAC).
 * An address's own use_vmac does the same for that address, and also for one of the instance's family on its
 * interface when the instance has no VMAC. The others stay where they are: the instance's VMAC for its own family
 * with use_vmac, else its interface.
 */
export function addressVmacBase(cfg: VrrpInstance, v: Vip): string | undefined {
  if (!cfg.useVmacAddr && !v.useVmac) return undefined;
  if (v.dev !== undefined && v.dev !== cfg.interface) return v.dev;
  // On the instance's own interface its VMAC takes the VIPs of its family.
  if (cfg.useVmac && v.family === cfg.family) return undefined;
  return v.useVmac || v.family !== cfg.family ? cfg.interface : undefined;
}

/** The VMACs use_vmac_addr asks for: one per interface and family, in the order of the VIPs, then the eVIPs. */
export function addressVmacs(cfg: VrrpInstance): { readonly base: string; readonly family: Family }[] {
  const out: { base: string; family: Family }[] = [];
  for (const v of [...cfg.virtualIpaddresses, ...cfg.virtualIpaddressesExcluded]) {
    const base = addressVmacBase(cfg, v);
    const family = v.family === 'inet6' ? 6 : 4;
    if (base !== undefined && !out.some((x) => x.base === base && x.family === family)) out.push({ base, family });
  }
  return out;
}

/**
 * Where a VIP/eVIP sits (vrrp.c vrrp_complete_instance, ip_addr->ifp): on the instance's own device (its VMAC, or its
 * interface without one; keepalived's vrrp->ifp), on a VMAC of its own (use_vmac_addr), or on an interface keepalived
 * did not make (its `dev`, or the base under an ipvlan or a VMAC of the other family).
 */
function vipPlace(cfg: VrrpInstance, v: Vip): 'own' | 'vmac' | 'other' {
  if (addressVmacBase(cfg, v) !== undefined) return 'vmac';
  if (v.dev !== undefined && v.dev !== cfg.interface) return 'other';
  if (cfg.useVmac !== undefined) return v.family === cfg.family ? 'own' : 'other';
  return cfg.useIpvlan === undefined ? 'own' : 'other';
}

/**
 * garp_extra_if: the VIPs/eVIPs announced at each interval while MASTER (vrrp.c vrrp_send_vmac_update), the first on
 * each device: those on a VMAC, with `all` those on other interfaces too, the instance's own device only with
 * vmac_xmit_base (otherwise its adverts already show its MAC). None when the instance has no VIP on a VMAC (or, with
 * `all`, on another interface) besides its own device: vrrp_complete_instance then clears the interval.
 */
export function extraGarpVips(cfg: VrrpInstance): Vip[] {
  const { intervalS, all } = cfg.garpExtraIf;
  if (intervalS === 0) return [];
  const placed = [...cfg.virtualIpaddresses, ...cfg.virtualIpaddressesExcluded].map((v) => ({ v, place: vipPlace(cfg, v) }));
  if (!placed.some((p) => p.place === 'vmac' || (all && p.place === 'other'))) return [];
  const done = new Set<string>();
  const out: Vip[] = [];
  for (const { v, place } of placed) {
    if ((place === 'other' && !all) || (place === 'own' && !cfg.vmacXmitBase)) continue;
    const family = v.family === 'inet6' ? 6 : 4;
    const device = place === 'own' ? '' : place === 'vmac' ? `${addressVmacBase(cfg, v)}/${family}` : `${v.dev ?? cfg.interface}`;
    const key = `${place} ${device}`;
    if (done.has(key)) continue;
    done.add(key);
    out.push(v);
  }
  return out;
}
