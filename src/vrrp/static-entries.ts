// static_ipaddress, static_routes and static_rules (keepalived 2.2.7 vrrp/vrrp_daemon.c start_vrrp / stop_vrrp):
// installed when the VRRP process starts, before any instance runs, removed when it stops (rules, routes, then
// addresses), and put back when deleted behind our back (vrrp_ipaddress.c reinstate_static_address, always;
// vrrp_iproute.c reinstate_static_route and vrrp_iprule.c reinstate_static_rule, when the family's routes or rules
// are monitored — see VrrpService.routingGroups — and the entry is tracked).
import type { Logger } from '../log.js';
import type { Vip } from '../config/model.js';
import type { RouteSpec, RuleSpec } from '../config/routes.js';
import { parseIp } from '../net/addr.js';
import type { Rtnl } from '../net/rtnl.js';
import type { RoutingEvent } from '../net/links.js';
import { RoutingList } from './routing.js';
import { addressSpec } from './instance.js';

export class StaticEntries {
  private readonly routing: RoutingList;
  /** Addresses installed, with the ifindex each went to. */
  private readonly addressesSet = new Map<Vip, number>();
  private stopping = false;

  constructor(
    private readonly addresses: readonly Vip[],
    routes: readonly RouteSpec[],
    rules: readonly RuleSpec[],
    private readonly deps: { readonly rtnl: Rtnl; readonly logger: Logger; readonly defaultInterface: string },
  ) {
    this.routing = new RoutingList(routes, rules, { ...deps, tag: 'static ' });
  }

  async start(): Promise<void> {
    await this.routing.clearLeftoverRules();
    for (const a of this.addresses) await this.addAddress(a);
    await this.routing.add();
  }

  async stop(): Promise<void> {
    this.stopping = true;
    await this.routing.remove();
    for (const [a, ifindex] of this.addressesSet) {
      this.addressesSet.delete(a);
      try {
        await this.deps.rtnl.delAddress(addressSpec(a, ifindex));
      } catch (e) {
        this.deps.logger.warn(`static address ${a.address}: ${(e as Error).message}`);
      }
    }
  }

  private async addAddress(a: Vip): Promise<void> {
    const dev = a.dev ?? this.deps.defaultInterface;
    const link = await this.deps.rtnl.linkByName(dev);
    if (!link) {
      this.deps.logger.info(`Not adding address ${a.address} to ${dev} since interface doesn't exist`);
      return;
    }
    try {
      await this.deps.rtnl.addAddress(addressSpec(a, link.index));
      this.addressesSet.set(a, link.index);
    } catch (e) {
      this.deps.logger.warn(`static address ${a.address}: ${(e as Error).message}`);
    }
  }

  /** keepalived_netlink.c netlink_if_address_filter: a tracked static address deleted is added again. */
  addressDeleted(ifindex: number, address: string): void {
    if (this.stopping) return;
    const bytes = parseIp(address);
    for (const [a, at] of this.addressesSet) {
      if (a.noTrack || at !== ifindex || !parseIp(a.address).equals(bytes)) continue;
      this.addressesSet.delete(a);
      void this.addAddress(a).then(() => this.deps.logger.info(`Restoring deleted static address ${formatAddress(a, this.deps.defaultInterface)}`));
      return;
    }
  }

  /** netlink_route_filter / netlink_rule_filter for static entries: a tracked one deleted is added again. */
  routingDeleted(ev: RoutingEvent): void {
    if (this.stopping) return;
    if (ev.what === 'route') {
      const r = this.routing.routeDeleted(ev.note, false);
      if (r) void this.routing.addRoute(r).then(() => this.deps.logger.info(`Restoring deleted static route ${r.text}`));
    } else {
      const r = this.routing.ruleDeleted(ev.note);
      if (r) void this.routing.addRule(r).then(() => this.deps.logger.info(`Restoring deleted static rule ${r.text}`));
    }
  }
}

/** vrrp_ipaddress.c format_ipaddress, for the fields a static address has. */
function formatAddress(a: Vip, defaultInterface: string): string {
  const brd = a.broadcast !== undefined && a.broadcast !== '-' && a.broadcast !== '+' ? ` brd ${a.broadcast}` : '';
  return `${a.address}/${a.prefixLen}${brd} dev ${a.dev ?? defaultInterface} scope ${a.scope ?? 'global'}${a.label !== undefined ? ` label ${a.label}` : ''}${a.noTrack ? ' no_track' : ''}`;
}
