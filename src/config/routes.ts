// The config-time lines keepalived 2.2.7's route and rule readers give for what lvskeeper keeps as written
// (vrrp/vrrp_iproute.c alloc_route for virtual_routes and static_routes alike; rules below): the deprecated `gw` and `or`,
// and a tracked route without an interface of its own. Each is a config error (-t exit 5). Only the words these
// rules need are read; the route itself is not parsed here.
import type { Node } from './parser.js';
import type { Reporter } from './errors.js';
import { ipFamily } from './address.js';

/** Route types a destination may follow (find_rttables_rtntype's names in lib/rttables.c). */
const ROUTE_TYPES = new Set(['unicast', 'local', 'broadcast', 'anycast', 'multicast', 'blackhole', 'unreachable', 'prohibit', 'throw', 'nat']);

export function checkRouteLine(report: Reporter, line: Node): void {
  const words = [line.kw, ...line.args];
  // `nexthop` ends alloc_route's loop: a `dev` after it belongs to a hop, not to the route (new->oif).
  const stop = words.indexOf('nexthop');
  const top = stop < 0 ? words : words.slice(0, stop);
  if (top.includes('gw')) report.error(line.src, '"gw" for routes is deprecated. Please use "via"', line.kw);
  if (top.includes('or')) report.error(line.src, '"or" for routes is deprecated. Please use "nexthop"', line.kw);
  if (top.includes('no_track') || top.includes('dev') || top.includes('oif')) return;
  let i = words[0] === 'to' ? 1 : 0;
  if (ROUTE_TYPES.has(words[i] ?? '')) i++;
  const dest = words[i];
  if (dest !== undefined) report.error(line.src, `Warning - cannot track route ${dest} with no interface specified, not tracking`, line.kw);
}

/** The next preference keepalived gives a rule without one, per family (vrrp_iprule.c RULE_START_PRIORITY, counting down). */
export interface RulePreferences { inet: number; inet6: number }

export const rulePreferences = (): RulePreferences => ({ inet: 16384, inet6: 16384 });

/**
 * vrrp_iprule.c alloc_rule's config-time lines for a rule kept as written (virtual_rules, static_rules): a `from`/
 * `to` address parse_route refuses (the rule is dropped), and a rule without a preference, which gets the next one
 * counting down from 16384 — both config errors (-t exit 5).
 */
export function checkRuleLine(report: Reporter, line: Node, next: RulePreferences): void {
  const words = [line.kw, ...line.args];
  let family: 'inet' | 'inet6' | undefined = words.includes('inet6') ? 'inet6' : undefined;
  for (const dir of ['from', 'to'] as const) {
    const i = words.indexOf(dir);
    const addr = i >= 0 ? words[i + 1] : undefined;
    if (addr === undefined || addr === 'all' || addr === 'default') continue;
    const f = ipFamily(addr.split('/')[0] ?? '');
    const len = addr.includes('/') ? addr.slice(addr.indexOf('/') + 1) : undefined;
    if (f === undefined || (len !== undefined && !/^\d+$/.test(len))) {
      report.error(line.src, `VRRP parsed invalid IP ${addr}. skipping IP...`, line.kw);
      report.error(line.src, `Invalid rule ${dir} address ${addr}`, line.kw);
      return;
    }
    family ??= f;
  }
  if (words.some((w) => w === 'preference' || w === 'order' || w === 'priority')) return;
  const fam = family ?? 'inet';
  report.error(line.src, `Rule has no preference specified - setting to ${next[fam]--}. This is probably not what you want.`, line.kw);
}
