// The VRRP process's macvlan/ipvlan devices (use_vmac, use_ipvlan): created at instance start as vmac.ts plans,
// removed when the instance stops. One owner for the links it creates and for the sysctls it changes for them; it
// tells the nftables owner (vip-firewall.ts) of each macvlan set up and deleted, for use_vmac's IGMP / MLD rules.
// Everything here is awaited netlink or /proc/sys I/O: nothing blocks the loop the adverts run on.
//
//   class VmacLinks
//     constructor(rtnl: Rtnl, logger: Logger, firewall: () => VipFirewall | undefined, procSys?: string)
//     ensure(cfg: VrrpInstance, base: LinkInfo): Promise<LinkInfo | undefined>   undefined: could not be made (logged)
//     ensureForAddresses(cfg, base, family): Promise<LinkInfo | undefined>         use_vmac_addr: a VMAC for VIPs on `base`
//     remove(instance: string): Promise<void>                                    its VMAC, then those of its VIPs
//     owns(name: string): boolean
//     restoreRpFilter(): Promise<void>                                           at shutdown, once every instance stopped
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from '../log.js';
import type { VrrpInstance } from '../config/model.js';
import { IPVLAN_MODE_L2, IPV4_DEVCONF_RP_FILTER, MACVLAN_MODE_PRIVATE } from '../net/link-uapi.js';
import type { LinkInfo, Rtnl } from '../net/rtnl.js';
import type { VipFirewall } from './vip-firewall.js';
import type { FirewallVmac } from './nft-rules.js';
import { BASE_DEVCONF, VMAC_DEVCONF, linkLocalFromMac, planVmac, type PlanLink, type VmacPlan, type VmacWant } from './vmac.js';

interface Owned {
  readonly name: string;
  index: number;
  readonly kind: 'macvlan' | 'ipvlan';
  /** Handed to the firewall when set up, taken out of it when deleted. */
  firewall?: FirewallVmac;
}

/** How a macvlan is set up once it exists (netlink_link_add_vmac, for an instance or the dummy one of its VIPs). */
interface MacvlanSetup {
  readonly tag: string;
  readonly family: 4 | 6;
  /** VRRP_FLAG_EVIP_OTHER_FAMILY: eVIPs of the other family (IPv6 stays on for an IPv4 VMAC). */
  readonly otherFamily: boolean;
  /** The IPv6 link-local address is added (not with vmac_xmit_base); `source`: the configured one to use. */
  readonly linkLocal: boolean;
  readonly source?: string;
}

export class VmacLinks {
  private readonly owned = new Map<string, Owned>();
  /** use_vmac_addr's VMACs, by instance. */
  private readonly ownedForAddresses = new Map<string, Owned[]>();
  /** all.rp_filter as it was before we cleared it, and what we raised (vrrp_if_config.c clear_rp_filter). */
  private rpFilter?: { all: number; default?: number; raised: Map<string, number> };
  /** Base interfaces whose arp_ignore/arp_filter were checked already (base_ifp->reset_arp_config). */
  private readonly basesSet = new Set<number>();

  /** `firewall`: the nftables owner, when the configuration has one (it may come with a reload). */
  constructor(
    private readonly rtnl: Rtnl,
    private readonly logger: Logger,
    private readonly firewall: () => VipFirewall | undefined,
    private readonly procSys = '/proc/sys',
  ) {}

  owns(name: string): boolean {
    return [...this.owned.values(), ...[...this.ownedForAddresses.values()].flat()].some((o) => o.name === name);
  }

  private sysctlPath(parts: string[]): string {
    return join(this.procSys, 'net', ...parts);
  }

  private async readSysctl(...parts: string[]): Promise<number | undefined> {
    try {
      const v = Number((await readFile(this.sysctlPath(parts), 'utf8')).trim());
      return Number.isInteger(v) ? v : undefined;
    } catch {
      return undefined;
    }
  }

  private async writeSysctl(value: number, ...parts: string[]): Promise<void> {
    try {
      await writeFile(this.sysctlPath(parts), String(value));
    } catch (e) {
      this.logger.debug(`sysctl ${parts.join('.')}: ${(e as Error).message}`);
    }
  }

  async ensure(cfg: VrrpInstance, base: LinkInfo): Promise<LinkInfo | undefined> {
    const kind = cfg.useIpvlan ? 'ipvlan' : 'macvlan';
    const family = cfg.family === 'inet6' ? 6 : 4;
    const want: VmacWant = {
      instance: cfg.name, kind, vrid: cfg.vrid, family,
      ...(cfg.vmacPrefix !== undefined ? { prefix: cfg.vmacPrefix } : {}),
      ...(cfg.useVmac?.name !== undefined ? { name: cfg.useVmac.name } : {}),
      ...(cfg.useVmac?.mac !== undefined ? { mac: cfg.useVmac.mac } : {}),
      ...(cfg.useIpvlan ? { ipvlanFlags: cfg.useIpvlan.flags } : {}),
      ...(cfg.useIpvlan?.name !== undefined ? { name: cfg.useIpvlan.name } : {}),
      ...(cfg.useIpvlan?.address !== undefined ? { ipvlanAddress: cfg.useIpvlan.address } : {}),
    };
    const links = await this.rtnl.links();
    const addrs = kind === 'ipvlan' ? await this.rtnl.addresses() : [];
    const planLinks: PlanLink[] = links.map((l) => ({ ...l, addresses: addrs.filter((a) => a.ifindex === l.index).map((a) => a.address) }));
    const plan = planVmac(want, base, planLinks, (n) => this.owns(n));
    for (const l of plan.logs) this.logger[l.level](l.msg);
    const owned: Owned = { name: plan.name, index: 0, kind };
    // Ours from here on, even when creation fails: keepalived marks it is_ours before trying.
    this.owned.set(cfg.name, owned);
    const made = await this.make(cfg, plan, base, links, owned);
    if (made === undefined || made.reused) return made?.dev;
    if (kind === 'ipvlan') return this.setUpIpvlan(cfg, made.dev);
    const source = cfg.unicastSrcIp ?? cfg.mcastSrcIp;
    return this.setUpMacvlan(
      { tag: `(${cfg.name})`, family, otherFamily: this.evipOtherFamily(cfg), linkLocal: !cfg.vmacXmitBase, ...(source !== undefined ? { source } : {}) },
      base, made.dev, made.created, owned,
    );
  }

  /**
   * use_vmac_addr (vrrp.c vrrp_complete_instance): the VMAC of the instance's VRID and `family` on `base`; one already
   * there is taken as it is (if_get_by_vmac), else one is made under the next free name and set up as for a dummy
   * instance of that family without a source address or eVIPs of the other family (netlink_link_add_vmac).
   */
  async ensureForAddresses(cfg: VrrpInstance, base: LinkInfo, family: 4 | 6): Promise<LinkInfo | undefined> {
    const want: VmacWant = {
      instance: cfg.name, kind: 'macvlan', vrid: cfg.vrid, family,
      ...(cfg.vmacAddrPrefix !== undefined ? { prefix: cfg.vmacAddrPrefix } : {}),
      ...(cfg.useVmac?.mac !== undefined ? { mac: cfg.useVmac.mac } : {}),
    };
    const links = await this.rtnl.links();
    // Its only log line would be the instance VMAC's "Found matching interface": if_get_by_vmac says nothing.
    const plan = planVmac(want, base, links, (n) => this.owns(n));
    const owned: Owned = { name: plan.name, index: 0, kind: 'macvlan' };
    this.ownedForAddresses.set(cfg.name, [...(this.ownedForAddresses.get(cfg.name) ?? []), owned]);
    const made = await this.make(cfg, plan, base, links, owned);
    if (made === undefined || made.reused) return made?.dev;
    return this.setUpMacvlan({ tag: `(${cfg.name})`, family, otherFamily: false, linkLocal: true }, base, made.dev, made.created, owned);
  }

  /** Carries out a plan's action: the device, whether it was taken as it was, and whether it counts as created. */
  private async make(cfg: VrrpInstance, plan: VmacPlan, base: LinkInfo, links: readonly LinkInfo[], owned: Owned): Promise<{ dev: LinkInfo; reused: boolean; created: boolean } | undefined> {
    const { action } = plan;
    const { kind } = owned;
    const tag = `(${cfg.name})`;
    if (action.op === 'reuse') {
      owned.index = action.index;
      const dev = links.find((l) => l.index === action.index);
      return dev === undefined ? undefined : { dev, reused: true, created: false };
    }
    // netlink_link_add_vmac's create_interface: an updated VMAC is set up as a new one.
    const created = action.op !== 'adopt';
    try {
      if (action.op === 'replace') await this.rtnl.delLink(action.index);
      if (action.op === 'update') await this.rtnl.updateMacvlan(action.index, plan.mac);
      if (action.op === 'create' || action.op === 'replace') {
        await this.rtnl.addLink(
          kind === 'macvlan'
            ? { kind, name: plan.name, parent: base.index, mac: plan.mac, macvlanMode: MACVLAN_MODE_PRIVATE }
            : { kind, name: plan.name, parent: base.index, ipvlanMode: IPVLAN_MODE_L2, ipvlanFlags: cfg.useIpvlan?.flags ?? 0, up: true },
        );
      }
    } catch (e) {
      this.logger.debug(`${tag} ${(e as Error).message}`);
      this.logger.info(kind === 'macvlan' ? `${tag}: Unable to create VMAC interface ${plan.name}` : `${tag}: Unable to create ipvlan interface ${plan.name}`);
      return undefined;
    }
    if (created) {
      this.logger.debug(`${tag}: Success ${action.op === 'update' ? 'upd' : 'cre'}ating ${kind === 'macvlan' ? 'VMAC' : 'ipvlan'} interface ${plan.name}`);
    }
    const dev = await this.rtnl.linkByName(plan.name);
    if (!dev) return undefined;
    owned.index = dev.index;
    return { dev, reused: false, created };
  }

  /** vrrp_vmac.c netlink_link_add_vmac, after the device exists. */
  private async setUpMacvlan(setup: MacvlanSetup, base: LinkInfo, dev: LinkInfo, created: boolean, owned: Owned): Promise<LinkInfo | undefined> {
    const { tag, family } = setup;
    try {
      if (family === 4 && created) await this.setInterfaceParameters(dev, base);
      // firewall_add_vmac (with disable_local_igmp, not implemented here, keepalived leaves out IPv4 VMACs).
      const fw = this.firewall();
      if (fw) {
        owned.firewall = { ifindex: dev.index, baseIfindex: base.index, family: family === 4 ? 'inet' : 'inet6', otherFamily: setup.otherFamily };
        await fw.addVmac(owned.firewall);
      }
      await this.linkSetIpv6(dev.name, family === 6 || setup.otherFamily);
      try {
        await this.rtnl.setAddrGenModeNone(dev.index);
      } catch {
        this.logger.info(`${tag} Error setting ADDR_GEN_MODE to NONE on ${dev.name}`);
      }
      await this.rtnl.setLinkUp(dev.index);
      if (family === 6 && setup.linkLocal) {
        // set_link_local_address: the configured source, else the base's link-local, else one made from its MAC.
        const address = setup.source ?? (await this.rtnl.primaryAddress(base.index, 6)) ?? linkLocalFromMac(base.mac);
        try {
          await this.rtnl.addAddress({ address, prefixlen: 64, ifindex: dev.index, nodad: true, preferredLft: 0 });
        } catch {
          this.logger.info('Adding link-local address to vmac failed');
          if (created) this.logger.info(`${tag} adding link-local address to ${dev.name} failed`);
        }
      }
    } catch (e) {
      this.logger.warn(`${tag} setting up ${dev.name}: ${(e as Error).message}`);
    }
    return (await this.rtnl.linkByName(dev.name)) ?? dev;
  }

  /** vrrp_vmac.c netlink_link_add_ipvlan, after the device exists. */
  private async setUpIpvlan(cfg: VrrpInstance, dev: LinkInfo): Promise<LinkInfo | undefined> {
    if (!dev.adminUp) await this.rtnl.setLinkUp(dev.index);
    await this.linkSetIpv6(dev.name, cfg.family === 'inet6' || this.evipOtherFamily(cfg));
    const a = cfg.useIpvlan;
    if (a?.address !== undefined) {
      try {
        await this.rtnl.addAddress({ address: a.address, prefixlen: a.prefixLen ?? (a.address.includes(':') ? 128 : 32), ifindex: dev.index, ...(a.address.includes(':') ? { nodad: true, preferredLft: 0 } : {}) });
      } catch {
        this.logger.info(`${cfg.name}: Failed to add interface address to ${dev.name}`);
      }
    }
    return (await this.rtnl.linkByName(dev.name)) ?? dev;
  }

  private evipOtherFamily(cfg: VrrpInstance): boolean {
    return cfg.virtualIpaddressesExcluded.some((v) => v.family !== cfg.family);
  }

  /** vrrp_if_config.c link_set_ipv6. */
  private linkSetIpv6(ifname: string, enable: boolean): Promise<void> {
    return this.writeSysctl(enable ? 0 : 1, 'ipv6', 'conf', ifname, 'disable_ipv6');
  }

  /**
   * vrrp_if_config.c set_interface_parameters: all.rp_filter cleared once (clear_rp_filter), the VMAC's devconf, and
   * arp_ignore/arp_filter on the base unless both are 1 already. keepalived never puts the base's values back: its
   * reset writes the values it last read from the kernel's netlink reports, which by then are the 1s it set itself.
   */
  private async setInterfaceParameters(dev: LinkInfo, base: LinkInfo): Promise<void> {
    if (this.rpFilter === undefined) await this.clearRpFilter();
    await this.rtnl.setIpv4Devconf(dev.index, VMAC_DEVCONF);
    if (this.basesSet.has(base.index)) return;
    this.basesSet.add(base.index);
    const arpIgnore = await this.readSysctl('ipv4', 'conf', base.name, 'arp_ignore');
    const arpFilter = await this.readSysctl('ipv4', 'conf', base.name, 'arp_filter');
    if (arpIgnore !== 1 || arpFilter !== 1) {
      try {
        await this.rtnl.setIpv4Devconf(base.index, BASE_DEVCONF);
      } catch {
        this.logger.info(`Set base flags on ${base.name} failed for VMAC ${dev.name}`);
      }
    }
  }

  /**
   * IPv4 VMACs need rp_filter 0, which all.rp_filter overrides: raise default and every interface to all's value,
   * then set all to 0 (vrrp_if_config.c clear_rp_filter).
   */
  private async clearRpFilter(): Promise<void> {
    const all = await this.readSysctl('ipv4', 'conf', 'all', 'rp_filter');
    this.rpFilter = { all: 0, raised: new Map() };
    if (all === undefined) {
      this.logger.info('Unable to read sysctl net.ipv4.conf.all.rp_filter');
      return;
    }
    if (all === 0) return;
    this.rpFilter.all = all;
    const def = await this.readSysctl('ipv4', 'conf', 'default', 'rp_filter');
    if (def !== undefined && def < all) {
      this.logger.info(`NOTICE: setting sysctl net.ipv4.conf.default.rp_filter from ${def} to ${all}`);
      await this.writeSysctl(all, 'ipv4', 'conf', 'default', 'rp_filter');
      this.rpFilter.default = def;
    }
    for (const l of await this.rtnl.links()) {
      const v = await this.readSysctl('ipv4', 'conf', l.name, 'rp_filter');
      if (v === undefined) this.logger.info(`Unable to read rp_filter for ${l.name}`);
      else if (v < all) {
        await this.rtnl.setIpv4Devconf(l.index, [[IPV4_DEVCONF_RP_FILTER, all]]);
        this.rpFilter.raised.set(l.name, v);
      }
    }
    this.logger.info(`NOTICE: setting sysctl net.ipv4.conf.all.rp_filter from ${all} to 0`);
    await this.writeSysctl(0, 'ipv4', 'conf', 'all', 'rp_filter');
  }

  /** vrrp_if_config.c restore_rp_filter: only the values still as we left them are put back. */
  async restoreRpFilter(): Promise<void> {
    const saved = this.rpFilter;
    if (saved === undefined || saved.all === 0) return;
    this.rpFilter = undefined;
    if ((await this.readSysctl('ipv4', 'conf', 'all', 'rp_filter')) === 0) {
      this.logger.info(`NOTICE: resetting sysctl net.ipv4.conf.all.rp_filter to ${saved.all}`);
      await this.writeSysctl(saved.all, 'ipv4', 'conf', 'all', 'rp_filter');
    }
    if (saved.default !== undefined && (await this.readSysctl('ipv4', 'conf', 'default', 'rp_filter')) === saved.all) {
      this.logger.info(`NOTICE: resetting sysctl net.ipv4.conf.default.rp_filter to ${saved.default}`);
      await this.writeSysctl(saved.default, 'ipv4', 'conf', 'default', 'rp_filter');
    }
    for (const [name, v] of saved.raised) {
      if ((await this.readSysctl('ipv4', 'conf', name, 'rp_filter')) === saved.all) await this.writeSysctl(v, 'ipv4', 'conf', name, 'rp_filter');
    }
  }

  /** vrrp_vmac.c netlink_link_del_vmac: the instance's VMAC, then its VIPs' (vrrp.c restore_vrrp_interfaces). */
  async remove(instance: string): Promise<void> {
    const own = this.owned.get(instance);
    this.owned.delete(instance);
    const forAddresses = this.ownedForAddresses.get(instance) ?? [];
    this.ownedForAddresses.delete(instance);
    for (const o of own === undefined ? forAddresses : [own, ...forAddresses]) await this.delete(instance, o);
  }

  private async delete(instance: string, o: Owned): Promise<void> {
    if (o.index === 0) return;
    try {
      await this.rtnl.delLink(o.index);
      // firewall_remove_vmac, by the index the device had.
      if (o.firewall) await this.firewall()?.removeVmac(o.firewall);
      this.logger.debug(`(${instance}) Success removing VMAC interface ${o.name}`);
    } catch {
      this.logger.info(`(${instance}) Error removing VMAC interface ${o.name}`);
    }
  }
}
