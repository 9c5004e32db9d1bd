// The one owner of the nftables rules in the VRRP process (keepalived 2.2.7 vrrp_firewall.c with vrrp_nftables.c):
// the no_accept drop rules, instances handing it their VIPs on becoming and leaving MASTER, and use_vmac's IGMP / MLD
// rules, the VMAC owner (vmac-link.ts) handing it each macvlan it sets up and deletes. It keeps which VIP of which
// instance is in a set (ip_address_t.nftable_rule_set) and which VMAC is, and runs the batches one after another.
import type { Logger } from '../log.js';
import type { NftablesSettings } from '../config/model.js';
import type { Nft } from '../net/nft.js';
import { NftRules, type FirewallVip, type FirewallVmac, type NftBatch } from './nft-rules.js';

export class VipFirewall {
  private readonly rules: NftRules;
  /** `instance/address` of every element in a set. */
  private readonly set = new Set<string>();
  /** ifindex of every VMAC in vmac_map. */
  private readonly vmacs = new Set<number>();
  private queue: Promise<void> = Promise.resolve();

  constructor(
    private readonly nft: Nft,
    private readonly settings: NftablesSettings & { readonly table: string },
    private readonly logger: Logger,
  ) {
    this.rules = new NftRules(settings);
  }

  /** The instance's VIPs not yet in a set go in; resolves once the kernel has them (before the VIPs go up). */
  add(instance: string, vips: readonly FirewallVip[]): Promise<void> {
    return this.run(async () => {
      const fresh = vips.filter((v) => !this.set.has(`${instance}/${v.address}`));
      if (fresh.length === 0) return;
      const stale = this.rules.pristine ? await this.nft.tablesNamed(this.tableName) : [];
      await this.apply(this.rules.add(fresh, stale));
      for (const v of fresh) this.set.add(`${instance}/${v.address}`);
    });
  }

  /** The instance's VIPs in a set come out. */
  remove(instance: string, vips: readonly FirewallVip[]): Promise<void> {
    return this.run(async () => {
      const held = vips.filter((v) => this.set.has(`${instance}/${v.address}`));
      if (held.length === 0) return;
      for (const v of held) this.set.delete(`${instance}/${v.address}`);
      await this.apply(this.rules.remove(held));
    });
  }

  /** A VMAC set up (vrrp_vmac.c netlink_link_add_vmac → firewall_add_vmac). */
  addVmac(v: FirewallVmac): Promise<void> {
    return this.run(async () => {
      const stale = this.rules.pristine ? await this.nft.tablesNamed(this.tableName) : [];
      await this.apply(this.rules.addVmac(v, stale));
      this.vmacs.add(v.ifindex);
    });
  }

  /** A VMAC deleted (netlink_link_del_vmac → firewall_remove_vmac). */
  removeVmac(v: FirewallVmac): Promise<void> {
    return this.run(async () => {
      if (this.vmacs.delete(v.ifindex)) await this.apply(this.rules.removeVmac(v));
    });
  }

  /** At stop, after every instance has stopped: the tables go (nft_end). */
  close(): Promise<void> {
    return this.run(async () => {
      this.set.clear();
      this.vmacs.clear();
      await this.apply(this.rules.teardown());
    });
  }

  private get tableName(): string {
    return this.settings.table;
  }

  private async apply(batch: NftBatch): Promise<void> {
    for (const l of batch.logs) this.logger.info(l);
    if (batch.script.trim() !== '') await this.nft.apply(batch.script);
  }

  /** Batches in order; a failed one is logged and the next still runs. */
  private run(step: () => Promise<void>): Promise<void> {
    this.queue = this.queue.then(step).catch((e: unknown) => this.logger.error(`nftables: ${(e as Error).message}`));
    return this.queue;
  }
}
