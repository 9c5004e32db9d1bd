// Keyword tables: which keywords a block accepts and whether each takes a value, a list block (`{ item … }`, one
// item per line, as keepalived's read_value_block) or a keyword block of its own. The parser uses them to build the
// tree and to report unknown keywords exactly where keepalived would.

export type KeywordKind = 'value' | 'list' | BlockSchema;

export interface BlockSchema {
  readonly name: string;
  readonly keywords: ReadonlyMap<string, KeywordKind>;
}

export function block(name: string, ...parts: Readonly<Record<string, KeywordKind>>[]): BlockSchema {
  const keywords = new Map<string, KeywordKind>();
  for (const part of parts) for (const [k, v] of Object.entries(part)) keywords.set(k, v);
  return { name, keywords };
}

/** `{a: 'value', b: 'value'}` from a list of names. */
export function values(...names: string[]): Record<string, KeywordKind> {
  return Object.fromEntries(names.map((n) => [n, 'value' as const]));
}

export function lists(...names: string[]): Record<string, KeywordKind> {
  return Object.fromEntries(names.map((n) => [n, 'list' as const]));
}
