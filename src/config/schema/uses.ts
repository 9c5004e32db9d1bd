// The uses of partly implemented keywords that need the part lvskeeper does not carry out (schema/types.ts UseCheck).
// Each reads the keyword's node as written, with the blocks around it, once its root block is read.
import { pcre2Difference } from '../../../checkers/pcre2.js';
import type { Node } from '../parser.js';
import type { Unimplemented } from './types.js';

/** `auth_type AH`: lvskeeper authenticates with PASS only. */
export function authTypeUses(node: Node): readonly Unimplemented[] {
  return node.args[0] === 'AH' ? [{ at: node.src, name: 'auth_type AH' }] : [];
}

/** VIP options whose next word is their value (vrrp_ipaddress.c alloc_ipaddress). */
const VIP_VALUE_OPTIONS = new Set(['brd', 'broadcast', 'dev', 'scope', 'label', 'peer', 'preferred_lft', 'track_group']);

/** static_ipaddress items: the option lvskeeper does not apply, a static address's `track_group`. */
export function staticAddressUses(node: Node): readonly Unimplemented[] {
  const out: Unimplemented[] = [];
  for (const item of node.children ?? []) {
    const a = item.args;
    for (let i = 0; i < a.length; i++) {
      const w = a[i]!;
      if (w === 'track_group') out.push({ at: item.src, name: `${node.kw} ${w}` });
      if (VIP_VALUE_OPTIONS.has(w)) i++;
    }
  }
  return out;
}

/** Route and rule options lvskeeper reads but does not install (config/routes.ts drops such a route or rule). */
const ROUTING_UNIMPLEMENTED: Readonly<Record<string, ReadonlySet<string>>> = {
  virtual_routes: new Set(['encap', 'vrf']),
  static_routes: new Set(['encap', 'vrf', 'track_group']),
  virtual_rules: new Set(),
  static_rules: new Set(['track_group']),
};

/** virtual_routes / static_routes / virtual_rules / static_rules items using an option lvskeeper does not carry out. */
export function routingUses(node: Node): readonly Unimplemented[] {
  const off = ROUTING_UNIMPLEMENTED[node.kw] ?? new Set<string>();
  return (node.children ?? []).flatMap((item) =>
    [item.kw, ...item.args].filter((w) => off.has(w)).map((w) => ({ at: item.src, name: `${node.kw} ${w}` })));
}

/** PCRE2 options with a JavaScript RegExp flag (checkers/http.ts regexFlags). */
const JS_REGEX_OPTIONS = new Set(['caseless', 'multiline', 'dotall']);

/** regex_options: each PCRE2 option JavaScript's RegExp has no flag for. */
export function regexOptionUses(node: Node): readonly Unimplemented[] {
  return node.args.filter((o) => !JS_REGEX_OPTIONS.has(o)).map((o) => ({ at: node.src, name: `regex_options ${o}` }));
}

/** regex: a pattern PCRE2 reads differently from JavaScript, named by what differs (checkers/pcre2.ts). */
export function regexUses(node: Node): readonly Unimplemented[] {
  const pattern = node.args[0];
  const differs = pattern === undefined ? undefined : pcre2Difference(pattern);
  return differs === undefined ? [] : [{ at: node.src, name: `regex PCRE2 ${differs}` }];
}
