// Keyword tables: which keywords a block accepts and whether each takes a value, a list block (`{ item … }`, one
// item per line, as keepalived's read_value_block) or a keyword block of its own. The parser uses them to build the
// tree and to report unknown keywords exactly where keepalived would.
//
// Each keyword also carries what lvskeeper does with it at run time (RunStatus): the parser names every use of a
// keyword it does not carry out, and the README's compatibility table is generated from the same entries
// (scripts/compat-table.mjs). A keyword runs unless its block's `status({ … })` table says otherwise, so flipping
// one keyword to running is deleting its line there.
import type { Node } from '../parser.js';
import type { SourceRef } from '../model.js';

export type KeywordKind = 'value' | 'required' | ReportedWhenBare | 'list' | BlockSchema;

/** A value keyword keepalived reports in its own words when bare, and then runs without (config test status 5). */
export interface ReportedWhenBare {
  readonly bare: string;
}

/** One use of a keyword, or of one of its options, that lvskeeper does not carry out. */
export interface Unimplemented {
  readonly at: SourceRef;
  /** What is not carried out, as the user wrote it: `auth_type AH`, `use_vmac`. */
  readonly name: string;
}

/**
 * For a partial keyword: the uses of it (a node once its root block is read, with the blocks around it, outermost
 * first) that fall in the part lvskeeper does not carry out.
 */
export type UseCheck = (node: Node, ancestors: readonly Node[]) => readonly Unimplemented[];

/** What lvskeeper does at run time with a keyword keepalived 2.2.7 acts on. */
export type RunStatus =
  | { readonly kind: 'runs' }
  | { readonly kind: 'partial'; readonly what: string; readonly check?: UseCheck }
  | { readonly kind: 'not-implemented' };

export const RUNS: RunStatus = Object.freeze({ kind: 'runs' });
export const NOT_IMPLEMENTED: RunStatus = Object.freeze({ kind: 'not-implemented' });

/** Carried out but for `what` (the table's words); `check` finds the uses that need the missing part. */
export function partial(what: string, check?: UseCheck): RunStatus {
  return check ? { kind: 'partial', what, check } : { kind: 'partial', what };
}

export interface Keyword {
  /** The keyword as spelled in this table: the parser puts this one string in every node, not a copy per line. */
  readonly name: string;
  readonly kind: KeywordKind;
  readonly status: RunStatus;
}

export interface BlockSchema {
  readonly name: string;
  readonly keywords: ReadonlyMap<string, Keyword>;
}

/** The run-time status of the block's keywords that do not simply run. */
export class StatusTable {
  constructor(readonly entries: Readonly<Record<string, RunStatus>>) {}
}

export function status(entries: Readonly<Record<string, RunStatus>>): StatusTable {
  return new StatusTable(entries);
}

export function block(name: string, ...parts: (Readonly<Record<string, KeywordKind>> | StatusTable)[]): BlockSchema {
  const keywords = new Map<string, Keyword>();
  for (const part of parts) {
    if (part instanceof StatusTable) continue;
    for (const [k, kind] of Object.entries(part)) keywords.set(k, { name: k, kind, status: RUNS });
  }
  for (const part of parts) {
    if (!(part instanceof StatusTable)) continue;
    for (const [k, s] of Object.entries(part.entries)) {
      const kw = keywords.get(k);
      // A typo here would leave the keyword reported as running: refuse it when the tables load.
      if (kw === undefined) throw new Error(`status for unknown keyword '${k}' in block ${name}`);
      keywords.set(k, { ...kw, status: s });
    }
  }
  return { name, keywords };
}

/** `{a: 'value', b: 'value'}` from a list of names. */
export function values(...names: string[]): Record<string, KeywordKind> {
  return Object.fromEntries(names.map((n) => [n, 'value' as const]));
}

export function lists(...names: string[]): Record<string, KeywordKind> {
  return Object.fromEntries(names.map((n) => [n, 'list' as const]));
}

/**
 * Value keywords keepalived cannot do without their parameter: its handler reads the word unchecked, so a bare
 * keyword stops it reading the config and it exits with its config status (2).
 */
export function required(...names: string[]): Record<string, KeywordKind> {
  return Object.fromEntries(names.map((n) => [n, 'required' as const]));
}

/** `{ keyword: message }`: see ReportedWhenBare. */
export function reported(messages: Readonly<Record<string, string>>): Record<string, KeywordKind> {
  return Object.fromEntries(Object.entries(messages).map(([n, bare]) => [n, { bare }]));
}
