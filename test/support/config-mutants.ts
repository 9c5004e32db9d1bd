// Deterministic mutants of a keepalived config: the byte-level variations that real files carry (Windows line
// endings, a BOM from an editor, a Latin-1 comment, tabs, stray blank lines, quoted values) and a file cut short.
// Each takes the original bytes and a seeded generator and returns new bytes, so a run replays from its seed.

export type Mutation = (src: Buffer, rnd: () => number) => Buffer;

const lines = (src: Buffer): string[] => src.toString('latin1').split('\n');
const join = (ls: string[]): Buffer => Buffer.from(ls.join('\n'), 'latin1');

/** Keywords whose single string value keepalived reads through its quote-aware tokenizer (read_value_block, set_value). */
const QUOTABLE = /^(\s*)(router_id|interface|auth_pass|notification_email_from|virtualhost|path|script|notify_master|notify_backup|notify_fault|notify_stop|notify|script_user)(\s+)([^\s"#!{}][^\s#!{}]*)\s*$/;

export const MUTATIONS: Readonly<Record<string, Mutation>> = {
  crlf: (src) => Buffer.from(src.toString('latin1').replace(/\r?\n/g, '\r\n'), 'latin1'),
  bom: (src) => Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), src]),
  // é, µ and ü as single Latin-1 bytes: not valid UTF-8.
  latin1: (src) => {
    const ls = lines(src);
    const at = ls.findIndex((l) => l.includes('{'));
    ls.splice(at + 1, 0, '    # r\xe9sum\xe9 \xb5s \xfcber');
    return join(['! Konfiguration f\xfcr keepalived', ...ls]);
  },
  tabs: (src) => join(lines(src).map((l) => l.replace(/^( {4}| {2})+/, (m) => '\t'.repeat(Math.ceil(m.length / 4)))
    .replace(/^(\s*\S+) +(?=\S)/, '$1\t'))),
  whitespace: (src, rnd) => join(lines(src).flatMap((l) => {
    const out = [`${rnd() < 0.3 ? '  ' : ''}${l}${rnd() < 0.5 ? ' \t ' : ''}`];
    return rnd() < 0.25 ? ['', ...out] : out;
  })),
  quoting: (src) => join(lines(src).map((l) => l.replace(QUOTABLE, '$1$2$3"$4"'))),
  // Cut at a line inside a block (brace depth > 0), so the file ends mid-block.
  truncate: (src, rnd) => {
    const ls = lines(src);
    const inside: number[] = [];
    let depth = 0;
    ls.forEach((l, i) => {
      depth += (l.replace(/[#!].*/, '').match(/\{/g) ?? []).length - (l.replace(/[#!].*/, '').match(/\}/g) ?? []).length;
      if (depth > 0) inside.push(i);
    });
    if (inside.length === 0) return src.subarray(0, Math.floor(src.length / 2));
    const cut = inside[Math.floor(rnd() * inside.length)]!;
    return join(ls.slice(0, cut + 1));
  },
};
