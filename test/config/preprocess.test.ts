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
  const pre = new Preprocessor(diskFs, { configId: opts.configId ?? 'node1', includesAreErrors: false, env: { HOME: '/home/x' }, random: () => 0.5 }, report);
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
  const { texts } = lines('$A=one\n$B=${A}two\nx $A ${B} $Ax ${NOPE} $NOPE\n');
  assert.deepEqual(texts, ['x one onetwo $Ax ${NOPE} $NOPE']);
});

test('multi-line $VAR= definition with trailing backslashes expands to several lines', () => {
  const { texts } = lines('$BLOCK=\\\n  first line \\\n  second line\nbefore\n$BLOCK\nafter\n');
  assert.deepEqual(texts, ['before', 'first line', 'second line', 'after']);
});

test('predefined variables', () => {
  const { texts } = lines('a ${_PWD} ${_INSTANCE} ${_ENV HOME} ${_HASH} ${_BANG} ${_RANDOM 10 20}\n', { file: '/etc/k/keepalived.conf', configId: 'n7' });
  assert.deepEqual(texts, ['a /etc/k n7 /home/x # ! 15']);
});

test('@id and @^id select lines by config id', () => {
  const src = '@node1 keep1\n@node2 drop1\n@^node1 drop2\n@^node2 keep2\n@node1 $P=9\nprio $P\n';
  assert.deepEqual(lines(src).texts, ['keep1', 'keep2', 'prio 9']);
});

test('~SEQ, ~SEQx and ~LST generate lines, nested', () => {
  assert.deepEqual(lines('ip ~SEQ(i, 3) 10.0.0.$i\n').texts, ['ip 10.0.0.1', 'ip 10.0.0.2', 'ip 10.0.0.3']);
  assert.deepEqual(lines('~SEQ(i, 5, -2, 1) v$i\n').texts, ['v5', 'v3', 'v1']);
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

test('runaway expansion is bounded: self-doubling variables and huge or nested generators', () => {
  const doubling = lines('$A=xx${A}${A}\nrouter_id ${A}\n');
  assert.equal(doubling.texts.length, 1);
  assert.ok(doubling.texts[0]!.length <= (1 << 20) + 20);
  const huge = lines('~SEQ(i, 1, 1000000) ~SEQ(j, 1, 1000000) v\n');
  assert.equal(huge.texts.length, 100_000);
  assert.match(huge.report.list[0]!.message, /generates more than 100000 lines/);
});
