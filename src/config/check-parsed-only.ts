// garp_group blocks: keepalived 2.2.7's checks on their values decide what `-t` says and how it exits.
import { secondsUs, type Values } from './values.js';
import type { Node } from './parser.js';
import type { GarpGroup } from './model.js';

/**
 * vrrp_parser.c garp_group_*_handler: the groups kept, in order. An interface already in a group stays in the first
 * ("garp_group already specified"); a group without any delay is removed, numbered as keepalived numbers it.
 */
export function resolveGarpGroups(v: Values, nodes: readonly Node[]): GarpGroup[] {
  const out: GarpGroup[] = [];
  const claimed = new Set<string>();
  nodes.forEach((node, index) => {
    let delay = false;
    const g: { garpIntervalMs?: number; gnaIntervalMs?: number; interfaces: string[] } = { interfaces: [] };
    const claim = (n: Node, name: string): void => {
      if (!v.interfaces.found(name)) v.report.error(n.src, `WARNING - interface ${name} specified for garp_group doesn't exist`, n.kw);
      else if (claimed.has(name)) v.report.error(n.src, `garp_group already specified for ${name} - ignoring`, n.kw);
      else {
        claimed.add(name);
        g.interfaces.push(name);
      }
    };
    for (const n of node.children ?? []) {
      const a = n.args[0];
      if (n.kw === 'interface' && a !== undefined) claim(n, a);
      if (n.kw === 'interfaces') for (const c of n.children ?? []) claim(c, c.kw);
      if ((n.kw !== 'garp_interval' && n.kw !== 'gna_interval') || a === undefined) continue;
      const ms = v.timerMs(n, a, 0n, secondsUs(2147.483647), (x) => `garp_group ${n.kw} '${x}' invalid`);
      if (ms !== undefined) g[n.kw === 'garp_interval' ? 'garpIntervalMs' : 'gnaIntervalMs'] = ms;
      // A word that is not a number is reported but still counts as a delay: keepalived keeps that group.
      if (ms !== undefined || !/^-?\d*(\.\d*)?$/.test(a)) delay = true;
    }
    if (!delay) {
      v.report.error(node.src, `garp group ${index} does not have any delay set - removing`, node.kw);
      for (const i of g.interfaces) claimed.delete(i);
    } else out.push(g);
  });
  return out;
}
