// The nftables ruleset keepalived 2.2.7 installs for instances not in accept mode (vrrp/vrrp_nftables.c), as `nft`
// script text: I/O-free, the adapter (net/nft.ts) runs it. An `ip` and an `ip6` table, each named by `nftables`
// (default "keepalived"), set up on first use, VIPs added to and removed from their sets as instances become and
// leave MASTER, the tables deleted at stop. Every statement below yields the bytecode keepalived's libnftnl calls
// build (same payload loads, lookups, verdicts; `ip6 nexthdr` written out so nft does not put `meta l4proto` in
// its place), so `nft list ruleset` shows the same ruleset.
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

export interface NftBatch {
  /** Statements for one `nft -f` transaction, in keepalived's batch order. */
  readonly script: string;
  /** Lines keepalived logs for this batch. */
  readonly logs: readonly string[];
}

const LL_INDEX = 'vips_link_local';
const LL_NAME = 'vips_link_local_name';

/** The instances that get drop rules: not in accept mode, and not the address owner (vrrp.c vrrp_handle_accept_mode). */
export function dropRulesNeeded(instances: readonly VrrpInstance[]): VrrpInstance[] {
  return instances.filter((vi) => !vi.accept && vi.priority !== 255);
}

/** The table names nft's scanner takes as a string (scanner.l `string`); nft has no quoting for them. */
export const NFT_IDENTIFIER = /^[a-zA-Z_.][a-zA-Z0-9/_.-]*$/;

export class NftRules {
  private readonly setUp = { ip: false, ipVips: false, ip6: false, ip6Vips: false, llName: false, llIndex: false };

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
    const logs: string[] = [];
    if (vips.length > 0 && this.pristine) {
      for (const f of (['ip', 'ip6'] as const).filter((x) => stale.includes(x))) {
        logs.push(`Deleting old ${f} ${this.s.table} table`);
        setup.push(`delete table ${f} ${this.table}`);
      }
    }
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

  /** The tables set up, deleted (nft_cleanup). */
  teardown(): NftBatch {
    const out = (['ip', 'ip6'] as const).filter((f) => this.setUp[f]).map((f) => `delete table ${f} ${this.table}`);
    for (const k of Object.keys(this.setUp) as (keyof typeof this.setUp)[]) this.setUp[k] = false;
    return { script: out.length > 0 ? out.join('\n') + '\n' : '', logs: [] };
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

  /** nft_setup_ipv4 and nft_setup_ipv4_vips. */
  private setupIpv4Vips(out: string[]): void {
    if (this.setUp.ipVips) return;
    const t = `ip ${this.table}`;
    if (!this.setUp.ip) {
      out.push(`add table ${t}`, this.baseChain('ip', 'out'));
      this.setUp.ip = true;
    }
    out.push(
      this.baseChain('ip', 'in'),
      `add set ${t} vips { type ipv4_addr; }`,
      `add rule ${t} in ip daddr @vips ${this.counter()}drop`,
      `add rule ${t} out ip saddr @vips ${this.counter()}drop`,
    );
    this.setUp.ipVips = true;
  }

  /** nft_setup_ipv6 and nft_setup_ipv6_vips: neighbour discovery passes, link-local goes to its own chains. */
  private setupIpv6Vips(out: string[]): void {
    if (this.setUp.ip6Vips) return;
    const t = `ip6 ${this.table}`;
    const c = this.counter();
    if (!this.setUp.ip6) {
      out.push(`add table ${t}`, this.baseChain('ip6', 'out'));
      this.setUp.ip6 = true;
    }
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

function isLinkLocal(address: string): boolean {
  const b = parseIp(address);
  return b.length === 16 && b[0] === 0xfe && (b[1]! & 0xc0) === 0x80;
}
