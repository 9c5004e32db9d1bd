// Keyword tables: which keywords a block accepts and whether each takes a value, a list block (`{ item … }`, one
// item per line, as keepalived's read_value_block) or a keyword block of its own. The parser uses them to build the
// tree and to report unknown keywords exactly where keepalived would.

export type KeywordKind = 'value' | 'required' | ReportedWhenBare | 'list' | BlockSchema;

/** A value keyword keepalived reports in its own words when bare, and then runs without (config test status 5). */
export interface ReportedWhenBare {
  readonly bare: string;
}

export interface Keyword {
  /** The keyword as spelled in this table: the parser puts this one string in every node, not a copy per line. */
  readonly name: string;
  readonly kind: KeywordKind;
}

export interface BlockSchema {
  readonly name: string;
  readonly keywords: ReadonlyMap<string, Keyword>;
}

export function block(name: string, ...parts: Readonly<Record<string, KeywordKind>>[]): BlockSchema {
  const keywords = new Map<string, Keyword>();
  for (const part of parts) for (const [k, kind] of Object.entries(part)) keywords.set(k, { name: k, kind });
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
