import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Reporter } from '../../src/config/errors.js';
import { expandBraces, globFiles, Preprocessor } from '../../src/config/preprocess.js';
import { diskFs } from '../../src/config/load.js';

function lines(text: string, opts: { configId?: string; file?: string } = {}): { texts: string[]; report: Reporter } {
  const report = new Reporter();
  const pre = new Preprocessor(diskFs, { configId: opts.configId ?? 'node1', includesAreErrors: false, random: () => 0.5 }, report);
  const out = pre.processText(opts.file ?? '/nonexistent-dir/keepalived.conf', text);
  return { texts: out.map((l) => l.text), report };
}

function withDir(fn: (dir: string) => void): void {
  const dir = mkdtempSync(join(tmpdir(), 'lvskp-pre-'));
  try {
    fn(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

test('brace expansion nests and multiplies', () => {
  assert.deepEqual(expandBraces('a{b,c}d{1,2}'), ['abd1', 'abd2', 'acd1', 'acd2']);
  assert.deepEqual(expandBraces('x{y,{z,w}}'), ['xy', 'xz', 'xw']);
  assert.deepEqual(expandBraces('no-braces'), ['no-braces']);
});

test('$VAR definitions, ${VAR} anywhere, $VAR only before a blank, undefined left alone', () => {
  const { texts } = lines('$A=one\n$B=${A}two\nx $A ${B} $Ax $NOPE, $A\n');
  assert.deepEqual(texts, ['x one onetwo $Ax $NOPE, one']);
});

test('multi-line $VAR= definition with trailing backslashes expands to several lines', () => {
  const { texts } = lines('$BLOCK=\\\n  first line \\\n  second line\nbefore\n$BLOCK\nafter\n');
  assert.deepEqual(texts, ['before', 'first line', 'second line', 'after']);
});

test('predefined variables', () => {
  // keepalived 2.2.7 has no ${_ENV}; a substituted # or ! is a comment outside quotes (read_line decomments again)
  const { texts } = lines('a ${_PWD} ${_INSTANCE} "${_HASH} ${_BANG}" ${_RANDOM 10 20}\n', { file: '/etc/k/keepalived.conf', configId: 'n7' });
  assert.deepEqual(texts, ['a /etc/k n7 "# !" 15']);
});

test('@id and @^id select lines by config id', () => {
  const src = '@node1 keep1\n@node2 drop1\n@^node1 drop2\n@^node2 keep2\n@node1 $P=9\nprio $P\n';
  assert.deepEqual(lines(src).texts, ['keep1', 'keep2', 'prio 9']);
});

test('~SEQ, ~SEQx and ~LST generate lines, nested', () => {
  assert.deepEqual(lines('~SEQ(i, 3) ip 10.0.0.$i\n').texts, ['ip 10.0.0.1', 'ip 10.0.0.2', 'ip 10.0.0.3']);
  assert.deepEqual(lines('~SEQ(i, 5, -2, 1) v$i\n').texts, ['v5', 'v3', 'v1']);
  // add_seq: one number counts from 1 (or -1) to it; numbers are C integers (strtol base 0)
  assert.deepEqual(lines('~SEQ(i, 0) v$i\n~SEQ(i, -2) w$i\n~SEQ(i, 0x2, 010) x$i\n').texts, ['v1', 'v0', 'w-1', 'w-2', 'x2', 'x3', 'x4', 'x5', 'x6', 'x7', 'x8']);
  const bad = lines('~SEQ(i, 1, -1, 3) v\n~SEQx(i, -3) v\n');
  assert.deepEqual(bad.texts, []);
  assert.deepEqual(bad.report.list.map((d) => d.message), [
    "Invalid ~SEQ values '~SEQ(i, 1, -1, 3) v'", "Invalid ~SEQ specification '~SEQ(i, 1, -1, 3) v'",
    "~SEQx is only valid for positive numbers '~SEQx(i, -3) v'", "Invalid ~SEQ specification '~SEQx(i, -3) v'",
  ]);
  assert.deepEqual(lines('~SEQx(i, 9, 11) v$i\n').texts, ['v9', 'va', 'vb']);
  assert.deepEqual(lines('~LST({a,b},{1,x},{2,y}) ${a}-$b\n').texts, ['1-x', '2-y']);
  assert.deepEqual(lines('~SEQ(i,1,2) ~LST(c, p, q) ${i}$c\n').texts, ['1p', '1q', '2p', '2q']);
});

test('include: globs, braces, relative paths, nesting, loops and missing files', () => {
  withDir((dir) => {
    mkdirSync(join(dir, 'd'));
    writeFileSync(join(dir, 'd', 'a.conf'), 'from-a\ninclude ../sub/*.conf\n');
    writeFileSync(join(dir, 'd', 'b.conf'), 'from-b\n');
    writeFileSync(join(dir, 'd', 'c.txt'), 'from-c\n');
    mkdirSync(join(dir, 'sub'));
    writeFileSync(join(dir, 'sub', 'z.conf'), 'from-z\ninclude ../main.conf\n');
    const main = join(dir, 'main.conf');
    const text = 'start\ninclude d/{a,b}.conf\ninclude d/*.txt\ninclude missing.conf\nincluder missing2.conf\nend\n';
    writeFileSync(main, text);
    const { texts, report } = lines(text, { file: main });
    assert.deepEqual(texts, ['start', 'from-a', 'from-z', 'from-b', 'from-c', 'end']);
    const msgs = report.list.map((d) => [d.severity, d.message]);
    assert.ok(msgs.some(([s, m]) => s === 'warning' && /include loop/.test(m!)), 'loop reported');
    assert.deepEqual(msgs.filter(([, m]) => /missing/.test(m!)), [
      ['warning', "Config files missing 'missing.conf'."],
      ['error', "Config files missing 'missing2.conf'."],
    ]);
    assert.deepEqual(globFiles(diskFs, join(dir, 'd', '[ab].conf')), [join(dir, 'd', 'a.conf'), join(dir, 'd', 'b.conf')]);
  });
});

test('lines longer than 1023 bytes are split like fgets into a 1024-byte buffer', () => {
  const { texts } = lines(`router_id ${'x'.repeat(1100)}\n`);
  assert.equal(texts.length, 2);
  assert.equal(texts[0]!.length, 1023);
  assert.equal(texts[1], 'x'.repeat(1100 + 10 - 1023));
});

test('runaway expansion is bounded where keepalived reads forever: self-doubling variables, huge nested generators', () => {
  // Each substitution stops at keepalived's 1023-character line; the braces of ${A} cut it, and the rest, read
  // again, holds ${A} again: keepalived never ends.
  const doubling = lines('$A=xx${A}${A}\nrouter_id $A\n');
  assert.ok(doubling.texts.every((t) => t.length <= 1023));
  assert.match(doubling.report.list[0]!.message, /gives more than 1000000 lines - the rest of it is not read/);
  const huge = lines('~SEQ(i, 1, 1000000) ~SEQ(j, 1, 1000000) v\n');
  assert.ok(huge.texts.length > 990_000 && huge.texts.length <= 1_000_000, `${huge.texts.length}`);
  assert.match(huge.report.list[0]!.message, /gives more than 1000000 lines/);
});
