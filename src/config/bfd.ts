// bfd_instance blocks as keepalived 2.2.7 reads them. Each of its processes reads the block for its own part, and
// `-t` shows all of their reports:
// - the BFD process (bfd/bfd_parser.c, bfd_data.c alloc_bfd) keeps the sessions: addresses, timers, ttl, max_hops;
// - the VRRP process (bfd_vrrp_handler, bfd_vrrp_weight_handler, vrrp_track.c alloc_vrrp_tracked_bfd) keeps each
//   name with its weight, for track_bfd; `checker` alone in the block takes it out of this list;
// - the checker process (bfd_checker_handler) keeps each name for BFD_CHECK; `vrrp` alone takes it out of that one.
import { ipFamily, canonicalIp } from './address.js';
import type { Values } from './values.js';
import type { Node } from './parser.js';
import type { AddressFamily } from '../ipvs/types.js';
import type { BfdInstanceDef, TrackedBfd, TrackRef } from './model.js';

/** include/bfd.h BFD_INAME_MAX, with its NUL. */
const INAME_MAX = 32;

/** keepalived reads BFD intervals in milliseconds with 3 decimals (read_decimal_unsigned_strvec). */
function bfdUs(v: Values, n: Node, a: string, min: number, max: number): number | undefined {
  const m = /^(-?)(\d*)(?:\.(\d*))?$/.exec(a);
  let problem: string | undefined;
  if (!m || (m[2] === '' && (m[3] ?? '') === '')) problem = `invalid number '${a}'`;
  else if (m[1] === '-') problem = `negative number '${a}'`;
  else if (Number(a) < min || Number(a) > max) problem = `number '${a}' outside range [${min.toFixed(3)}, ${max.toFixed(3)}]`;
  if (problem !== undefined) {
    v.report.error(n.src, problem, n.kw);
    return undefined;
  }
  // Only reported: the digits past the third are dropped.
  if ((m![3] ?? '').length > 3) v.report.error(n.src, `number '${a}' has too many decimal places`, n.kw);
  return Number(m![2] || '0') * 1000 + Number((m![3] ?? '').slice(0, 3).padEnd(3, '0'));
}

/** Which processes a block's `vrrp` / `checker` keywords send its events to (bfd_parser.c bfd_end_handler). */
function eventProcesses(node: Node): { vrrp: boolean; checker: boolean } {
  const vrrp = node.children?.some((c) => c.kw === 'vrrp') ?? false;
  const checker = node.children?.some((c) => c.kw === 'checker') ?? false;
  return vrrp || checker ? { vrrp, checker } : { vrrp: true, checker: true };
}

/** The names BFD_CHECK may name: the checker process's list (bfd_checker_handler, bfd_checker_end_handler). */
export function bfdForChecker(node: Node): boolean {
  return eventProcesses(node).checker;
}

/**
 * The VRRP process's list, in file order with the index of each block in the tree, so that track_bfd finds only
 * the blocks read before it (vrrp_track.c alloc_track_bfd looks the name up while reading).
 */
export function resolveTrackedBfds(v: Values, tree: readonly Node[]): (TrackedBfd & { readonly at: number })[] {
  const out: (TrackedBfd & { readonly at: number })[] = [];
  tree.forEach((node, at) => {
    if (node.kw !== 'bfd_instance') return;
    const name = node.args[0] ?? '';
    if (name.length >= INAME_MAX) {
      v.report.error(node.src, `BFD name ${name} too long`, node.kw);
      return;
    }
    if (out.some((b) => b.name === name)) {
      v.report.error(node.src, `BFD ${name} already specified`, node.kw);
      return;
    }
    let weight = 0;
    let reverse = false;
    for (const n of node.children ?? []) {
      if (n.kw !== 'weight' || n.args[0] === undefined) continue;
      const w = v.int(n, n.args[0], -253, 253, true);
      if (w === undefined) v.report.error(n.src, `Configuration error: BFD instance ${name} weight value ${n.args[0]} not valid (must be in range [-253-253]), ignoring`, n.kw);
      else weight = w;
      const opt = n.args[1];
      if (opt === 'reverse') reverse = true;
      else if (opt !== undefined) v.report.error(n.src, `Configuration error: BFD instance ${name} unknown weight option ${opt}`, n.kw);
    }
    if (eventProcesses(node).vrrp) out.push({ name, weight, reverse, at });
  });
  return out;
}

/** The checker process's duplicate report (bfd_checker_handler); its list itself is resolve.ts's declared set. */
export function reportCheckerBfdDuplicates(v: Values, tree: readonly Node[]): void {
  const seen = new Set<string>();
  for (const node of tree) {
    if (node.kw !== 'bfd_instance') continue;
    const name = node.args[0] ?? '';
    if (seen.has(name)) v.report.error(node.src, `BFD ${name} already specified`, node.kw);
    seen.add(name);
  }
}

/** The BFD process's sessions (bfd_parser.c bfd_*_handler and bfd_end_handler, bfd_data.c alloc_bfd). */
export function resolveBfdInstances(v: Values, nodes: readonly Node[]): BfdInstanceDef[] {
  const out: BfdInstanceDef[] = [];
  // bfd_parser.c bfd_nbrip_handler would say "neighbour" after neighbour_ip, but it compares the address (strvec
  // slot 1) with the keyword, so every report says "neighbor".
  const neighbourWord = 'neighbor';
  for (const node of nodes) {
    const name = node.args[0] ?? '';
    if (name.length >= INAME_MAX) {
      v.report.error(node.src, `Configuration error: BFD instance ${name} name too long (maximum length is ${INAME_MAX - 1} characters) - ignoring`, node.kw);
      continue;
    }
    if (out.some((b) => b.name === name)) {
      v.report.error(node.src, `Configuration error: BFD instance ${name} already configured - ignoring`, node.kw);
      continue;
    }
    const invalid = (n: Node, what: string, bounds: string, is = 'not valid'): void =>
      v.report.error(n.src, `Configuration error: BFD instance ${name} ${what} value ${n.args[0]} ${is} (must be in range [${bounds}]), ignoring`, n.kw);
    const b = {
      neighbor: undefined as { family: AddressFamily; address: string } | undefined,
      source: undefined as { family: AddressFamily; address: string } | undefined,
      minRxUs: 10_000, minTxUs: 10_000, idleTxUs: 1_000_000, detectMult: 5, passive: false, ttl: 0, maxHops: 0,
    };
    let dropped = false;
    for (const n of node.children ?? []) {
      const a = n.args[0];
      if (n.kw === 'passive') b.passive = true;
      if (a === undefined) continue;
      switch (n.kw) {
        case 'neighbor_ip':
        case 'neighbour_ip': {
          const family = ipFamily(a);
          if (family === undefined) {
            // keepalived frees the instance here and skips the rest of the block.
            v.report.error(n.src, `Configuration error: BFD instance ${name} has malformed ${neighbourWord} address ${a}, ignoring instance`, n.kw);
            dropped = true;
          } else b.neighbor = { family, address: canonicalIp(a) };
          break;
        }
        case 'source_ip': {
          const family = ipFamily(a);
          if (family === undefined) v.report.error(n.src, `Configuration error: BFD instance ${name} has malformed source address ${a}, ignoring`, n.kw);
          else b.source = { family, address: canonicalIp(a) };
          break;
        }
        case 'min_rx':
        case 'min_tx': {
          const us = bfdUs(v, n, a, 1, 4294967);
          if (us === undefined) invalid(n, n.kw, '1-4294967', 'is not valid');
          else b[n.kw === 'min_rx' ? 'minRxUs' : 'minTxUs'] = us;
          break;
        }
        case 'idle_tx': {
          const us = bfdUs(v, n, a, 1000, 4294967);
          if (us === undefined) invalid(n, n.kw, '1000-4294967', 'is not valid');
          else b.idleTxUs = us;
          break;
        }
        case 'multiplier': {
          const m = v.unsigned(n, a, 1, 255);
          if (m === undefined) invalid(n, 'multiplier', '1-255');
          else b.detectMult = m;
          break;
        }
        case 'ttl':
        case 'hoplimit': {
          const t = v.unsigned(n, a, 1, 255);
          if (t === undefined) invalid(n, 'ttl/hoplimit', '1-255');
          else b.ttl = t;
          break;
        }
        case 'max_hops': {
          const h = v.int(n, a, -1, 255);
          if (h === undefined) invalid(n, 'max_hops', '-1-255');
          // bfd_t.max_hops is a uint8_t: -1 is 255, "no check" (bfd_scheduler.c bfd_handle_packet).
          else b.maxHops = h & 0xff;
          break;
        }
      }
      if (dropped) break;
    }
    if (dropped) continue;
    // bfd_end_handler: reported at the block's `}`.
    const end = node.end ?? node.src;
    const nbr = b.neighbor;
    if (nbr === undefined) {
      v.report.error(end, `Configuration error: BFD instance ${name} has no ${neighbourWord} address set, disabling instance`, node.kw);
      continue;
    }
    if (b.source !== undefined && b.source.family !== nbr.family) {
      // Both addresses go through inet_sockaddrtos's one static buffer: the line shows the source twice.
      v.report.error(end, `Configuration error: BFD instance ${name} source address ${b.source.address} and ${neighbourWord} address ${b.source.address} are not of the same family, disabling instance`, node.kw);
      continue;
    }
    // bfd_data.c find_bfd_by_addr: the same neighbour, and a source that is the same or unset on either side.
    const clash = out.some((o) => o.neighbor === nbr.address && (o.source === undefined || b.source === undefined || o.source === b.source.address));
    if (clash) {
      v.report.error(end, b.source !== undefined
        ? `Configuration error: BFD instance ${name} has duplicate source/${neighbourWord} address ${b.source.address}/${nbr.address}, ignoring instance`
        : `Configuration error: BFD instance ${name} has duplicate ${neighbourWord} address ${nbr.address}, ignoring instance`, node.kw);
      continue;
    }
    // include/bfd.h: BFD_CONTROL_TTL 255 for IPv4, BFD_CONTROL_HOPLIMIT 64 for IPv6 (RFC 5881 §5 asks 255 of both;
    // keepalived's peers expect its own values).
    const ttl = b.ttl || (nbr.family === 'inet' ? 255 : 64);
    let maxHops = b.maxHops;
    if (maxHops > ttl) {
      v.report.error(end, `BFD instance ${name}: max_hops exceeds ttl/hoplimit - setting to ttl/hoplimit`, node.kw);
      maxHops = ttl;
    }
    out.push({
      src: node.src, name, family: nbr.family, neighbor: nbr.address,
      ...(b.source !== undefined ? { source: b.source.address } : {}),
      minRxUs: b.minRxUs, minTxUs: b.minTxUs, idleTxUs: b.idleTxUs, detectMult: b.detectMult, passive: b.passive,
      ttl, maxHops, ...eventProcesses(node),
    });
  }
  return out;
}

/**
 * A track_bfd block's entries (vrrp_track.c alloc_track_bfd): the name must be a bfd_instance read earlier; `weight N
 * [reverse|noreverse]` overrides the instance's weight; a bad weight falls back to the instance's.
 */
export function trackBfdRefs(v: Values, node: Node, owner: string, known: readonly TrackedBfd[]): TrackRef[] {
  const refs: TrackRef[] = [];
  for (const item of node.children ?? []) {
    const tracked = item.kw;
    const say = (line: string): void => v.report.error(item.src, `(${owner}) ${line}`, node.kw);
    const bfd = known.find((b) => b.name === tracked);
    if (bfd === undefined) {
      say(`track bfd ${tracked} not found, ignoring...`);
      continue;
    }
    if (refs.some((r) => r.name === tracked)) {
      say(`duplicate track_bfd ${tracked} - ignoring`);
      continue;
    }
    let { weight, reverse } = bfd;
    const [option, value, after] = item.args;
    if (option !== undefined) {
      if (option !== 'weight') {
        say(`unknown track bfd ${tracked} option ${option} - ignoring`);
        continue;
      }
      if (value === undefined) {
        say(`weight without value specified for track bfd ${tracked} - ignoring`);
        continue;
      }
      const w = v.int(item, value, -253, 253, true);
      if (w === undefined) say(`weight for track bfd ${tracked} must be in [-253..253] inclusive. Ignoring...`);
      else weight = w;
      if (after === 'reverse') reverse = true;
      else if (after === 'noreverse') reverse = false;
      else if (after !== undefined) {
        say(`unknown track bfd ${tracked} weight option ${after} - ignoring`);
        continue;
      }
    }
    refs.push({ name: tracked, weight, reverse });
  }
  return refs;
}
