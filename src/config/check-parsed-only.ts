// Blocks lvskeeper parses but does not run (BFD, GARP groups): nothing reaches the model from
// them, but keepalived 2.2.7's checks on their values still decide what `-t` says and how it exits.
import { ipFamily } from './address.js';
import { secondsUs, type Values } from './values.js';
import type { Node } from './parser.js';
import type { GarpGroup } from './model.js';

/** keepalived reads BFD intervals in milliseconds with 3 decimals. */
function bfdMs(v: Values, n: Node, a: string, min: number, max: number): boolean {
  const m = /^(-?)(\d*)(?:\.(\d*))?$/.exec(a);
  let problem: string | undefined;
  if (!m || (m[2] === '' && (m[3] ?? '') === '')) problem = `invalid number '${a}'`;
  else if (m[1] === '-') problem = `negative number '${a}'`;
  else if (Number(a) < min || Number(a) > max) problem = `number '${a}' outside range [${min.toFixed(3)}, ${max.toFixed(3)}]`;
  if (problem !== undefined) v.report.error(n.src, problem, n.kw);
  return problem === undefined;
}

export function checkBfdInstance(v: Values, node: Node): void {
  const name = node.args[0] ?? '';
  const invalid = (n: Node, what: string, bounds: string, is = 'not valid'): void =>
    v.report.error(n.src, `Configuration error: BFD instance ${name} ${what} value ${n.args[0]} ${is} (must be in range [${bounds}]), ignoring`, n.kw);
  let neighbour = false;
  for (const n of node.children ?? []) {
    const a = n.args[0];
    if (a === undefined) continue;
    switch (n.kw) {
      case 'neighbor_ip':
      case 'neighbour_ip':
        if (ipFamily(a) === undefined) {
          // keepalived drops the instance here and reads none of its other keywords.
          v.report.error(n.src, `Configuration error: BFD instance ${name} has malformed neighbor address ${a}, ignoring instance`, n.kw);
          return;
        }
        neighbour = true;
        break;
      case 'source_ip':
        if (ipFamily(a) === undefined) v.report.error(n.src, `Configuration error: BFD instance ${name} has malformed source address ${a}, ignoring`, n.kw);
        break;
      case 'min_rx':
      case 'min_tx':
        if (!bfdMs(v, n, a, 1, 4294967)) invalid(n, n.kw, '1-4294967', 'is not valid');
        break;
      case 'idle_tx':
        if (!bfdMs(v, n, a, 1000, 4294967)) invalid(n, n.kw, '1000-4294967', 'is not valid');
        break;
      case 'multiplier':
        if (v.unsigned(n, a, 0, 2 ** 32 - 1) === undefined || Number(a) < 1 || Number(a) > 255) invalid(n, 'multiplier', '1-255');
        break;
      case 'ttl':
      case 'hoplimit':
        if (v.unsigned(n, a, 0, 2 ** 32 - 1) === undefined || Number(a) < 1 || Number(a) > 255) invalid(n, 'ttl/hoplimit', '1-255');
        break;
      case 'max_hops':
        if (v.int(n, a, -(2 ** 31), 2 ** 31 - 1) === undefined || Number(a) < -1 || Number(a) > 255) invalid(n, 'max_hops', '-1-255');
        break;
      case 'weight':
        if (v.int(n, a, -(2 ** 31), 2 ** 31 - 1) === undefined || Number(a) < -253 || Number(a) > 253) invalid(n, 'weight', '-253-253');
        break;
    }
  }
  // bfd_parser.c bfd_end_handler: reported at the block's `}`.
  if (!neighbour) v.report.error(node.end ?? node.src, `Configuration error: BFD instance ${name} has no neighbor address set, disabling instance`, node.kw);
}

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
