// keepalived 2.2.7's lib/parser.c read_line, rule by rule, on small texts: the keyword lines lvskeeper's preprocessor
// gives, and (with keepalived installed) the `-t` lines of keepalived itself on the same text inside a vrrp_instance,
// where each line the reader gives is an unknown keyword naming its first word.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Reporter } from '../../src/config/errors.js';
import { diskFs, parseConfigText } from '../../src/config/load.js';
import { Preprocessor } from '../../src/config/preprocess.js';
import { withConfigTestNamespace } from '../support/config-test-ns.js';

const ID = 'lvskp-a';

function lines(text: string): string[] {
  const pre = new Preprocessor(diskFs, { configId: ID, includesAreErrors: false, random: () => 0 }, new Reporter());
  return pre.processText('/nonexistent-dir/keepalived.conf', text).map((l) => `${l.line}: ${l.text}`);
}

/** Each rule: config lines, and the lines read_line gives for them (`LINE: text`, numbered from 1). */
const RULES: Record<string, readonly [string, readonly string[]]> = {
  // read_line expands a multi-line definition a line at a time, each through @id, definitions, ~SEQ and substitution
  '@id lines inside a multi-line definition, and a commented line in it ending in a backslash (dropped)': [
    '$M=\\\n  k_a1 \\\n@lvskp-b   k_a2 \\\n@lvskp-a   k_a3 \\\n#  k_a4 { \\\n  k_a5\n$M\n',
    ['7: k_a1', '7: k_a3', '7: k_a5'],
  ],
  'definitions inside a multi-line definition take effect at its expansion': [
    '$P=\\\n  k_b1 $N \\\n  $N=2 \\\n  k_b2 $N\n$N=1\n$P\n',
    ['6: k_b1 1', '6: k_b2 2'],
  ],
  '~SEQ over a multi-line definition: all its lines for each value': [
    '$S=\\\n  k_c$i \\\n  k_d$i\n~SEQ(i,1,2) $S\n',
    ['4: k_c1', '4: k_d1', '4: k_c2', '4: k_d2'],
  ],
  '~SEQ inside a multi-line definition runs before the definition goes on (multiline_seq_depth)': [
    '$T=\\\n  ~SEQ(j,1,2) k_e$j \\\n  k_f\n$T\n',
    ['4: k_e1', '4: k_e2', '4: k_f'],
  ],
  // parser.c decomment keeps a trailing backslash after cutting the comment
  'a commented line ending in a backslash, outside a definition, is a line holding a backslash': [
    '  # k_g \\\nk_g2\n',
    ['1: \\', '2: k_g2'],
  ],
  // init_data / read_conf_copy: the VRRP and checker processes decomment the parent's decommented copy again
  '`$V=\\#`: the copy holds `$V=#`, so the processes that run the config see V empty': [
    '$V1=\\#\n$V1 k_h1\n',
    ['2: k_h1'],
  ],
  'a multi-line definition is substituted only at the end of a line': [
    '$M=\\\n  a \\\n  b\nk_h2 $M k_h3\n',
    ['4: k_h2 $M k_h3'],
  ],
  // read_line cuts every line before its first brace outside quotes, and reads the rest as a line of its own
  '${NAME} of an undefined name stays, and its braces cut the line': [
    'k_i ${NOPE}\n',
    ['1: k_i $', '1: {', '1: NOPE', '1: }'],
  ],
  'what follows a brace is read again as a line: @id applies to it': [
    'k_p { @lvskp-b k_q\nk_p2 { @lvskp-a k_q2\n',
    ['1: k_p', '1: {', '2: k_p2', '2: {', '2: k_q2'],
  ],
  // replace_param's copy that closes the gap of a shorter value stops one character past the parameters' `}`
  '${_RANDOM 3 3} followed by more text leaves that text half moved': [
    'k_j ${_RANDOM 3 3} k_k\nk_j2 ${_RANDOM 3 3}\n',
    ['1: k_j 3 _RANDOM 3 3', '1: }', '1: k_k', '2: k_j2 3'],
  ],
  // read_line decomments again after a substitution: a `#` a value brings in starts a comment unless quoted
  'a substituted # starts a comment outside double quotes': [
    'k_l ${_HASH} x\nk_n "${_HASH}" k_o\n',
    ['1: k_l', '2: k_n "#" k_o'],
  ],
  '~SEQ only at the start of a line': [
    'k_r ~SEQ(i, 2) k_s$i\n',
    ['1: k_r ~SEQ(i, 2) k_s$i'],
  ],
  // a line that was only a comment is blank in the copy, and a blank line ends a multi-line definition
  'a comment line ends a multi-line definition in the processes that run the config': [
    '$B=\\\n  k_t1 \\\n# comment\n  k_t2 \\\n\n  k_t3\n$B\n',
    ['4: k_t2\\', '6: k_t3', '7: k_t1'],
  ],
};

for (const [name, [text, want]] of Object.entries(RULES)) {
  test(`read_line: ${name}`, () => {
    assert.deepEqual(lines(text), want);
  });
}

/** The rules' texts one after another (line numbers shifted) inside a vrrp_instance. */
function combined(): { text: string; head: number } {
  const head = 'vrrp_instance VI_1 {\n  interface eth0\n  virtual_router_id 1\n  priority 100\n  virtual_ipaddress {\n    10.0.0.1/24\n  }\n';
  const body = Object.values(RULES).map(([text]) => text).join('');
  return { text: `${head}${body}}\n`, head: head.split('\n').length - 1 };
}

test('read_line rules: keepalived -t gives the same lines for the same text', (t) => {
  withConfigTestNamespace(t, 'lvskp-rdln', (inNs) => {
    const dir = mkdtempSync(join(tmpdir(), 'lvskp-rdln-'));
    try {
      const file = join(dir, 'keepalived.conf');
      const { text } = combined();
      writeFileSync(file, text);
      const ka = inNs('keepalived', ['-t', '-n', '-l', '-i', ID, '-p', join(dir, 'a.pid'), '-r', join(dir, 'v.pid'), '-c', join(dir, 'c.pid'), '-f', file], dir);
      // keepalived's parent and each child print what they read; the VRRP child reads everything: compare as sets
      const kaLines = new Set(ka.stderr.split('\n').filter(Boolean).map((l) => {
        const m = /^\((?:.*: )?Line (\d+)\) (.*)$/.exec(l);
        return m ? `${m[1]}: ${m[2]}` : l;
      }));
      const lk = parseConfigText(text, { file, configId: ID });
      // keepalived names no line for what it reports once the file is read (the missing '}'s)
      const lkLines = new Set(lk.diagnostics.filter((d) => !/lvskeeper does not implement/.test(d.message))
        .map((d) => (kaLines.has(d.message) ? d.message : `${d.line}: ${d.message}`)));
      assert.ok(kaLines.size > 20, ka.stderr);
      assert.deepEqual([...lkLines].sort(), [...kaLines].sort());
      assert.equal(ka.status, 5);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
