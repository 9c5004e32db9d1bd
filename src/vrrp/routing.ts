// A list of routes and rules installed and removed together, each with keepalived's `set` flag
// (vrrp/vrrp_iproute.c netlink_rtlist, vrrp/vrrp_iprule.c netlink_rulelist): an instance's virtual_routes /
// virtual_rules, or the static ones. Requests go one after another on the VRRP process's Rtnl, never blocking the loop.
import type { Logger } from '../log.js';
import type { RouteSpec, RuleSpec } from '../config/routes.js';
import type { Rtnl } from '../net/rtnl.js';
import { routeMatches, routeRequest, ruleMatches, ruleRequest, type RouteNote, type RuleNote } from '../net/rtnl-route.js';

export class RoutingList {
  private readonly routesSet = new Set<RouteSpec>();
  private readonly rulesSet = new Set<RuleSpec>();
  /** ifindex of each route dev as last looked up, for matching notifications (route_is_ours compares RTA_OIF). */
  private readonly ifindexes = new Map<string, number>();

  constructor(
    readonly routes: readonly RouteSpec[],
    readonly rules: readonly RuleSpec[],
    private readonly deps: { readonly rtnl: Rtnl; readonly logger: Logger; readonly tag: string },
  ) {}

  get empty(): boolean {
    return this.routes.length === 0 && this.rules.length === 0;
  }

  /** vrrp_state_become_master after the VIPs: routes, then rules, each one not yet set. */
  async add(): Promise<void> {
    if (this.routes.some((r) => !this.routesSet.has(r))) await this.refreshLinks();
    for (const r of this.routes) if (!this.routesSet.has(r)) await this.addRoute(r);
    for (const r of this.rules) if (!this.rulesSet.has(r)) await this.addRule(r);
  }

  /** vrrp_restore_interface before the VIPs: rules, then routes, each one set. */
  async remove(): Promise<void> {
    for (const r of this.rules) {
      if (!this.rulesSet.delete(r)) continue;
      await this.send('RTM_DELRULE', r.text, () => ruleRequest(r, 'del'));
    }
    for (const r of this.routes) {
      if (!this.routesSet.delete(r)) continue;
      await this.send('RTM_DELROUTE', r.text, () => routeRequest(r, 'del', (n) => this.ifindexes.get(n)));
    }
  }

  /** vrrp_daemon.c start_vrrp's "Clear leftover static entries" for rules: each deleted, ENOENT not reported. */
  async clearLeftoverRules(): Promise<void> {
    for (const r of this.rules) {
      try {
        await this.deps.rtnl.change('RTM_DELRULE', ruleRequest(r, 'del'));
      } catch {
        // Not there: the usual case.
      }
    }
  }

  async addRoute(r: RouteSpec): Promise<boolean> {
    const ok = await this.send('RTM_NEWROUTE', r.text, () => routeRequest(r, 'add', (n) => this.ifindexes.get(n)));
    if (ok) this.routesSet.add(r);
    return ok;
  }

  async addRule(r: RuleSpec): Promise<boolean> {
    const ok = await this.send('RTM_NEWRULE', r.text, () => ruleRequest(r, 'add'));
    if (ok) this.rulesSet.add(r);
    return ok;
  }

  /**
   * keepalived_netlink.c netlink_route_filter: a route of ours deleted (RTPROT_KEEPALIVED only) is no longer set;
   * returns it when tracked. `virtual` compares as route_is_ours does for virtual routes (metric and dev too).
   */
  routeDeleted(n: RouteNote, virtual: boolean): RouteSpec | undefined {
    const r = this.routes.find((x) => routeMatches(n, x, x.dev === undefined ? undefined : this.ifindexes.get(x.dev), virtual));
    if (r === undefined) return undefined;
    this.routesSet.delete(r);
    return r.noTrack ? undefined : r;
  }

  /** netlink_rule_filter: the same for a rule. */
  ruleDeleted(n: RuleNote): RuleSpec | undefined {
    const r = this.rules.find((x) => ruleMatches(n, x));
    if (r === undefined) return undefined;
    this.rulesSet.delete(r);
    return r;
  }

  /** Whether a notification is about one of these routes (route_is_ours looks at virtual routes before static ones). */
  ownsRoute(n: RouteNote, virtual: boolean): boolean {
    return this.routes.some((x) => routeMatches(n, x, x.dev === undefined ? undefined : this.ifindexes.get(x.dev), virtual));
  }

  ownsRule(n: RuleNote): boolean {
    return this.rules.some((x) => ruleMatches(n, x));
  }

  private async refreshLinks(): Promise<void> {
    try {
      for (const l of await this.deps.rtnl.links()) this.ifindexes.set(l.name, l.index);
    } catch (e) {
      this.deps.logger.warn(`${this.deps.tag}cannot list interfaces for routes: ${(e as Error).message}`);
    }
  }

  private async send(op: string, what: string, build: () => Parameters<Rtnl['change']>[1]): Promise<boolean> {
    try {
      await this.deps.rtnl.change(op, build());
      return true;
    } catch (e) {
      this.deps.logger.warn(`${this.deps.tag}${op} ${what}: ${(e as Error).message}`);
      return false;
    }
  }
}
