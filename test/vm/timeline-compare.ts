// Compares keepalived's and lvskeeper's sides of a generated batch (timeline-differential.ts), scenario by scenario:
// the scenario's services in `ipvsadm -Ln` at each checkpoint, its log events per real server (consecutive repeats
// folded: how many times a check repeats within a phase depends on when each side started), and its script calls
// per checkpoint segment (as a multiset: two servers failing together may call in either order). Quorum lines and
// calls of a phase where two servers change at once are left out (racyPhases).
import { logMessages, tableRows } from './differential.js';
import type { GenScenario } from './scenario-generator.js';
import type { BatchRun, SideRun } from './timeline-differential.js';

/**
 * Deliberate differences: a log line matching `line` is left out of both sides' events. Each entry says why.
 * Empty entries are not kept: a difference is either fixed or written here.
 */
export const ALLOWED: readonly { readonly line: RegExp; readonly reason: string }[] = [];

export interface Difference {
  readonly scenario: string;
  readonly what: string;
  readonly keepalived: readonly string[];
  readonly lvskeeper: readonly string[];
}

/** `ipvsadm -Ln` rows grouped under their service line, keyed as scenario-generator's serviceKeys. */
export function servicesOf(listing: string): Map<string, string[]> {
  const out = new Map<string, string[]>();
  let cur: string[] | undefined;
  for (const row of tableRows(listing)) {
    if (row.startsWith('  -> ')) {
      cur?.push(row);
      continue;
    }
    const [proto, where] = row.split(' ');
    const key = proto === 'FWM' ? `FWM ${where}` : (where ?? row);
    cur = [row];
    out.set(key, cur);
  }
  return out;
}

function scenarioTable(listing: string, s: GenScenario): string[] {
  const services = servicesOf(listing);
  return s.serviceKeys.flatMap((k) => services.get(k) ?? [`(no service ${k})`]);
}

// The innermost bracket: MISC_CHECK's lines name `[[ADDR]:tcp:PORT VS …]`.
const ENDPOINT = /\[([^[\]]+)\]:(?:tcp|udp|sctp|none):\d+/;

/**
 * What lvskeeper adds before a line on purpose: the config reader names the file and line of every warning
 * (house rule: a bad config input names file, line and keyword), where keepalived prints the bare message.
 */
const CONFIG_PREFIX = /^(?:ERROR|WARN): \S+:\d+: /;

/** Does a log line concern this scenario: one of its real servers, virtual addresses, fwmarks or its group. */
function concerns(line: string, s: GenScenario): boolean {
  if (s.realServers.some((r) => line.includes(`[${r.addr}]`))) return true;
  return s.serviceKeys.some((k) => {
    if (k.startsWith('FWM ')) return new RegExp(`\\b${k}\\b|fwmark ${k.slice(4)}\\b`).test(line);
    const addr = k.startsWith('[') ? k.slice(1, k.lastIndexOf(']')) : k.slice(0, k.lastIndexOf(':'));
    return line.includes(`[${addr}]`) || line.includes(`[${addr}-`);
  }) || new RegExp(`\\bgrp${s.index % 250}\\b`).test(line);
}

/** Does the backend pass its check in this state (a MISC_CHECK exit of 2..255 passes under misc_dynamic). */
function passes(state: string): boolean {
  if (state === 'up') return true;
  const code = /^exit:(\d+)$/.exec(state)?.[1];
  return code !== undefined && code !== '1' && code !== '3';
}

/**
 * Phases in which two or more of the scenario's checked servers change verdict or dynamic weight (in phase 0: from
 * what the daemon assumes before the first check, down under alpha, else up). Their checks decide in an order neither
 * daemon fixes (keepalived starts each checker after a random delay, check_api.c register_checkers_thread), and the
 * quorum lines of such a phase depend on that order: whether the pool dips below quorum on the way, and the sum.
 */
export function racyPhases(s: GenScenario, phases: number): Set<number> {
  const checked = s.realServers.filter((r) => r.checker !== 'none');
  const alpha = /^\s*alpha$/m.test(s.config);
  const out = new Set<number>();
  for (let ph = 0; ph < phases; ph++) {
    const changed = checked.filter((r) => {
      const now = r.states[ph]!;
      if (ph === 0) return passes(now) === alpha;
      const before = r.states[ph - 1]!;
      return passes(now) !== passes(before) || (passes(now) && now !== before);
    }).length;
    if (changed >= 2) out.add(ph);
  }
  return out;
}

/** Lines that follow from the pool's weight sum against quorum (check_daemon.c/ipwrapper.c update_quorum_state). */
const QUORUM_LINE = /^(?:Gained|Lost) quorum |sorry server |alive servers (?:to|from) the pool /;

/**
 * The scenario's log lines by real server address (the first endpoint a line names; `vs` for the rest),
 * consecutive repeats folded. `logAt` (bytes at each checkpoint) places each line in its phase; quorum lines
 * written in a racy phase or just after one are left out.
 */
export function eventsOf(log: string, logAt: readonly number[], s: GenScenario, racy: ReadonlySet<number>): Map<string, string[]> {
  const out = new Map<string, string[]>();
  let offset = 0;
  for (const text of log.split('\n')) {
    const phase = logAt.findIndex((at) => offset < at);
    offset += Buffer.byteLength(text) + 1;
    for (const raw of logMessages(text)) {
      const line = raw.replace(CONFIG_PREFIX, '');
      if (!concerns(line, s) || ALLOWED.some((a) => a.line.test(line))) continue;
      if ((racy.has(phase) || racy.has(phase - 1)) && QUORUM_LINE.test(line)) continue;
      const addr = ENDPOINT.exec(line)?.[1];
      const key = s.realServers.some((r) => r.addr === addr) ? addr! : 'vs';
      const list = out.get(key) ?? [];
      if (list[list.length - 1] !== line) list.push(line);
      out.set(key, list);
    }
  }
  return out;
}

/** The scenario's script calls in one segment; quorum_up/quorum_down left out where quorum lines are. */
const callsOf = (side: SideRun, s: GenScenario, seg: number, racy: ReadonlySet<number>): string[] =>
  (side.calls[seg] ?? []).filter((c) => c.split(' ')[1] === s.tag)
    .filter((c) => !((racy.has(seg) || racy.has(seg - 1)) && /^quorum-/.test(c.split(' ')[2] ?? ''))).sort();

const CHECKPOINTS = (phases: number): string[] => [...Array.from({ length: phases }, (_, i) => `phase ${i}`), 'stopped'];

export function compareBatch(run: BatchRun): Difference[] {
  const diffs: Difference[] = [];
  const { batch, keepalived: k, lvskeeper: l } = run;
  const cps = CHECKPOINTS(batch.phases);
  for (const s of batch.scenarios) {
    const add = (what: string, a: readonly string[], b: readonly string[]): void => {
      if (a.join('\n') !== b.join('\n')) diffs.push({ scenario: s.name, what, keepalived: a, lvskeeper: b });
    };
    cps.forEach((cp, i) => add(`ipvsadm -Ln at ${cp}`, scenarioTable(k.tables[i] ?? '', s), scenarioTable(l.tables[i] ?? '', s)));
    const racy = racyPhases(s, batch.phases);
    const ek = eventsOf(k.log, k.logAt, s, racy);
    const el = eventsOf(l.log, l.logAt, s, racy);
    for (const key of new Set([...ek.keys(), ...el.keys()])) add(`log events of ${key}`, ek.get(key) ?? [], el.get(key) ?? []);
    const segs = Math.max(k.calls.length, l.calls.length);
    for (let i = 0; i < segs; i++) add(`script calls before ${cps[i] ?? 'the end'}`, callsOf(k, s, i, racy), callsOf(l, s, i, racy));
  }
  return diffs;
}

export function describe(d: Difference): string {
  return `${d.scenario}: ${d.what}\n  keepalived:\n${d.keepalived.map((x) => `    ${x}`).join('\n')}\n  lvskeeper:\n${d.lvskeeper.map((x) => `    ${x}`).join('\n')}`;
}
