// The nftables ruleset keepalived 2.2.7 installs for instances not in accept mode (vrrp/vrrp_nftables.c), as `nft`
// script text: I/O-free, the adapter (net/nft.ts) runs it. An `ip` and an `ip6` table, each named by `nftables`
// (default "keepalived"), set up on first use, VIPs added to and removed from their sets as instances become and
// leave MASTER, the tables deleted at stop. Every statement below yields the bytecode keepalived's libnftnl calls
// build (same payload loads, lookups, verdicts; `ip6 nexthdr` written out so nft does not put `meta l4proto` in
// its place), so `nft list ruleset` shows the same ruleset. With use_vmac, the rules that send IGMP / MLD reports
// leaving a VMAC out of its base interface instead (nft_setup_igmp): the same expressions, nft choosing registers
// and loading the report's destination after the `oifkind` match rather than before.
import type { NftablesSettings, VrrpInstance } from '../config/model.js';
import { parseIp } from '../net/addr.js';

/** One VIP or eVIP as the rules need it: its address and the interface it lives on. */
export interface FirewallVip {
  readonly address: string;
  readonly family: 'inet' | 'inet6';
  readonly ifindex: number;
  readonly ifname: string;
  /**
   * A link-local VIP matched by interface name rather than index (nft_update_ipv6_address: `dont_track_primary`,
   * the VIP on the instance's interface or `no_track`, and no `nftables_ifindex`).
   */
  readonly byName: boolean;
}

export type NftFamily = 'ip' | 'ip6';

/** A VMAC as its IGMP / MLD rules need it (vrrp_firewall.c firewall_add_vmac). */
export interface FirewallVmac {
  readonly ifindex: number;
  readonly baseIfindex: number;
  readonly family: 'inet' | 'inet6';
  /** VRRP_FLAG_EVIP_OTHER_FAMILY: the instance has eVIPs of the other family, whose reports are moved too. */
  readonly otherFamily: boolean;
}

export interface NftBatch {
  /** Statements for one `nft -f` transaction, in keepalived's batch order. */
  readonly script: string;
  /** Lines keepalived logs for this batch. */
  readonly logs: readonly string[];
}

const LL_INDEX = 'vips_link_local';
const LL_NAME = 'vips_link_local_name';
// This nft has the dup statement (HAVE_DECL_NFTA_DUP_MAX): the map and, for IPv6, the set beside it.
const VMAC_MAP = 'vmac_map';
const VMAC_SET = 'vmac_set';

/** The instances that get drop rules: not in accept mode, and not the address owner (vrrp.c vrrp_handle_accept_mode). */
export function dropRulesNeeded(instances: readonly VrrpInstance[]): VrrpInstance[] {
  return instances.filter((vi) => !vi.accept && vi.priority !== 255);
}

/** The table names nft's scanner takes as a string (scanner.l `string`); nft has no quoting for them. */
export const NFT_IDENTIFIER = /^[a-zA-Z_.][a-zA-Z0-9/_.-]*$/;

export class NftRules {
  private readonly setUp = { ip: false, ipVips: false, ip6: false, ip6Vips: false, llName: false, llIndex: false, ipIgmp: false, ip6Igmp: false };

  constructor(private readonly s: NftablesSettings & { readonly table: string }) {}

  /** Whether nothing is set up yet: the next batch first deletes tables left behind (check_and_delete_tables). */
  get pristine(): boolean {
    return !this.setUp.ip && !this.setUp.ip6;
  }

  /**
   * Adds `vips` to their sets, setting up tables, chains, sets and rules first as needed (nft_update_addresses with
   * NFT_MSG_NEWSETELEM). `stale`: tables of ours already present, deleted first when nothing is set up yet.
   */
  add(vips: readonly FirewallVip[], stale: readonly NftFamily[] = []): NftBatch {
    const setup: string[] = [];
    const logs = vips.length > 0 && this.pristine ? this.deleteStale(setup, stale) : [];
    for (const v of vips) {
      if (v.family === 'inet') this.setupIpv4Vips(setup);
      else {
        this.setupIpv6Vips(setup);
        if (isLinkLocal(v.address)) this.setupLinkLocal(setup, v.byName && !this.s.ifindex);
      }
    }
    return { script: [...setup, ...this.elements('add', vips)].join('\n') + '\n', logs };
  }

  /** Removes `vips` from their sets (NFT_MSG_DELSETELEM); nothing when nothing was set up. */
  remove(vips: readonly FirewallVip[]): NftBatch {
    if (this.pristine) return { script: '', logs: [] };
    return { script: this.elements('delete', vips).join('\n') + '\n', logs: [] };
  }

  /**
   * A VMAC into vmac_map (IPv6: and vmac_set) of its family and, with eVIPs of the other family, of that one too,
   * each family's table and rules set up first as needed (nft_add_vmac, nft_update_vmac_family, nft_setup_igmp).
   */
  addVmac(v: FirewallVmac, stale: readonly NftFamily[] = []): NftBatch {
    const out: string[] = [];
    const logs = this.pristine ? this.deleteStale(out, stale) : [];
    for (const f of vmacFamilies(v)) {
      this.setupIgmp(f, out);
      out.push(...this.vmacElements('add', f, v));
    }
    return { script: out.join('\n') + '\n', logs };
  }

  /** The VMAC out of the map and sets it went in (nft_remove_vmac); nothing when nothing was set up. */
  removeVmac(v: FirewallVmac): NftBatch {
    if (this.pristine) return { script: '', logs: [] };
    return { script: vmacFamilies(v).flatMap((f) => this.vmacElements('delete', f, v)).join('\n') + '\n', logs: [] };
  }

  /** The tables set up, deleted (nft_cleanup). */
  teardown(): NftBatch {
    const out = (['ip', 'ip6'] as const).filter((f) => this.setUp[f]).map((f) => `delete table ${f} ${this.table}`);
    for (const k of Object.keys(this.setUp) as (keyof typeof this.setUp)[]) this.setUp[k] = false;
    return { script: out.length > 0 ? out.join('\n') + '\n' : '', logs: [] };
  }

  /** check_and_delete_tables: tables of ours left behind go before the first is set up; keepalived's log lines. */
  private deleteStale(out: string[], stale: readonly NftFamily[]): string[] {
    return (['ip', 'ip6'] as const).filter((f) => stale.includes(f)).map((f) => {
      out.push(`delete table ${f} ${this.table}`);
      return `Deleting old ${f} ${this.s.table} table`;
    });
  }

  private get table(): string {
    return this.s.table;
  }

  private counter(): string {
    return this.s.counters ? 'counter ' : '';
  }

  private baseChain(f: NftFamily, name: 'in' | 'out'): string {
    const hook = name === 'in' ? 'input' : 'output';
    return `add chain ${f} ${this.table} ${name} { type filter hook ${hook} priority ${this.s.priority}; policy accept; }`;
  }

  /** nft_setup_ipv4 / nft_setup_ipv6: the table and its output chain. */
  private setupTable(f: NftFamily, out: string[]): void {
    if (this.setUp[f]) return;
    out.push(`add table ${f} ${this.table}`, this.baseChain(f, 'out'));
    this.setUp[f] = true;
  }

  /** nft_setup_ipv4_vips. */
  private setupIpv4Vips(out: string[]): void {
    if (this.setUp.ipVips) return;
    const t = `ip ${this.table}`;
    this.setupTable('ip', out);
    out.push(
      this.baseChain('ip', 'in'),
      `add set ${t} vips { type ipv4_addr; }`,
      `add rule ${t} in ip daddr @vips ${this.counter()}drop`,
      `add rule ${t} out ip saddr @vips ${this.counter()}drop`,
    );
    this.setUp.ipVips = true;
  }

  /** nft_setup_ipv6_vips: neighbour discovery passes, link-local goes to its own chains. */
  private setupIpv6Vips(out: string[]): void {
    if (this.setUp.ip6Vips) return;
    const t = `ip6 ${this.table}`;
    const c = this.counter();
    this.setupTable('ip6', out);
    out.push(
      this.baseChain('ip6', 'in'),
      `add chain ${t} in_link_local`,
      `add chain ${t} out_link_local`,
      `add set ${t} vips { type ipv6_addr; }`,
      `add set ${t} neighbor-discovery { type icmpv6_type; flags constant; elements = { nd-neighbor-solicit, nd-neighbor-advert }; }`,
      `add rule ${t} in ip6 nexthdr ipv6-icmp icmpv6 type @neighbor-discovery ${c}accept`,
      `add rule ${t} in ip6 daddr fe80::/10 ${c}goto in_link_local`,
      `add rule ${t} out ip6 nexthdr ipv6-icmp icmpv6 type @neighbor-discovery ${c}accept`,
      `add rule ${t} out ip6 saddr fe80::/10 ${c}goto out_link_local`,
      `add rule ${t} in ip6 daddr @vips ${c}drop`,
      `add rule ${t} out ip6 saddr @vips ${c}drop`,
    );
    this.setUp.ip6Vips = true;
  }

  /**
   * nft_setup_igmp: reports leaving a macvlan in vmac_map are sent out of its base instead (setup_rule_move_igmp);
   * IPv6 router solicitations leaving one in vmac_set are dropped (setup_rule_drop_router_solicit).
   */
  private setupIgmp(f: NftFamily, out: string[]): void {
    const key = f === 'ip' ? 'ipIgmp' : 'ip6Igmp';
    if (this.setUp[key]) return;
    this.setupTable(f, out);
    const t = `${f} ${this.table}`;
    const c = this.counter();
    const report = f === 'ip' ? 'ip protocol igmp' : 'icmpv6 type mld2-listener-report';
    out.push(`add map ${t} ${VMAC_MAP} { type iface_index : iface_index; }`);
    if (f === 'ip6') out.push(`add set ${t} ${VMAC_SET} { type iface_index; }`);
    out.push(`add rule ${t} out ${report} meta oifkind "macvlan" dup to ${f} daddr device oif map @${VMAC_MAP} ${c}drop`);
    if (f === 'ip6') out.push(`add rule ${t} out icmpv6 type nd-router-solicit meta oifkind "macvlan" oif @${VMAC_SET} ${c}drop`);
    this.setUp[key] = true;
  }

  /** nft_update_vmac_element: by index, as keepalived (the VMAC may be gone when its element is deleted). */
  private vmacElements(op: 'add' | 'delete', f: NftFamily, v: FirewallVmac): string[] {
    const t = `${f} ${this.table}`;
    const key = op === 'add' ? `${v.ifindex} : ${v.baseIfindex}` : String(v.ifindex);
    return [`${op} element ${t} ${VMAC_MAP} { ${key} }`, ...(f === 'ip6' ? [`${op} element ${t} ${VMAC_SET} { ${v.ifindex} }`] : [])];
  }

  /** setup_link_local_checks: the set of link-local VIPs with their interface, by index or by name. */
  private setupLinkLocal(out: string[], byName: boolean): void {
    const key = byName ? 'llName' : 'llIndex';
    if (this.setUp[key]) return;
    const t = `ip6 ${this.table}`;
    const set = byName ? LL_NAME : LL_INDEX;
    const [iif, oif] = byName ? ['iifname', 'oifname'] : ['iif', 'oif'];
    out.push(
      `add set ${t} ${set} { type ipv6_addr . ${byName ? 'ifname' : 'iface_index'}; }`,
      `add rule ${t} in_link_local ip6 daddr . ${iif} @${set} ${this.counter()}drop`,
      `add rule ${t} out_link_local ip6 saddr . ${oif} @${set} ${this.counter()}drop`,
    );
    this.setUp[key] = true;
  }

  /** One element statement per set, in keepalived's order: ip vips, ip6 vips, link-local by index, by name. */
  private elements(op: 'add' | 'delete', vips: readonly FirewallVip[]): string[] {
    const sets = new Map<string, string[]>([['ip vips', []], ['ip6 vips', []], [`ip6 ${LL_INDEX}`, []], [`ip6 ${LL_NAME}`, []]]);
    for (const v of vips) {
      if (v.family === 'inet') sets.get('ip vips')!.push(v.address);
      else if (!isLinkLocal(v.address)) sets.get('ip6 vips')!.push(v.address);
      else if (v.byName && !this.s.ifindex) sets.get(`ip6 ${LL_NAME}`)!.push(`${v.address} . ${JSON.stringify(v.ifname)}`);
      else sets.get(`ip6 ${LL_INDEX}`)!.push(`${v.address} . ${v.ifindex}`);
    }
    return [...sets].filter(([, e]) => e.length > 0).map(([k, e]) => {
      const [f, set] = k.split(' ');
      return `${op} element ${f} ${this.table} ${set} { ${e.join(', ')} }`;
    });
  }
}

/** nft_update_vmac: the instance's family, then the other one with VRRP_FLAG_EVIP_OTHER_FAMILY. */
function vmacFamilies(v: FirewallVmac): NftFamily[] {
  const own: NftFamily = v.family === 'inet' ? 'ip' : 'ip6';
  return v.otherFamily ? [own, own === 'ip' ? 'ip6' : 'ip'] : [own];
}

function isLinkLocal(address: string): boolean {
  const b = parseIp(address);
  return b.length === 16 && b[0] === 0xfe && (b[1]! & 0xc0) === 0x80;
}
