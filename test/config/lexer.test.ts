import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decomment, splitArgv, tokenize } from '../../src/config/lexer.js';

const words = (line: string): string[] => tokenize(line).map((t) => t.text);

test('comments end the line outside quotes only', () => {
  assert.equal(decomment('router_id a # comment'), 'router_id a');
  assert.equal(decomment('router_id a ! comment'), 'router_id a');
  assert.equal(decomment('script "/bin/x #1 !2" # tail'), 'script "/bin/x #1 !2"');
  assert.equal(decomment('router_id a\\#b'), 'router_id a#b');
  assert.equal(decomment('   # only a comment'), '');
});

test("only C's isspace() blanks are trimmed: a BOM or a no-break space stays part of the word, as in keepalived", () => {
  assert.equal(decomment('\ufeffglobal_defs {'), '\ufeffglobal_defs {');
  assert.equal(decomment('\t router_id a \r'), 'router_id a');
  assert.equal(decomment('router_id a\u00a0'), 'router_id a\u00a0');
  assert.equal(decomment('\ufeff# a comment after a BOM'), '\ufeff');
});

test('braces are tokens of their own unless quoted', () => {
  assert.deepEqual(words('global_defs { router_id X }'), ['global_defs', '{', 'router_id', 'X', '}']);
  assert.deepEqual(words('a{b}c'), ['a', '{', 'b', '}', 'c']);
  const quoted = tokenize('x "{" y');
  assert.deepEqual(quoted.map((t) => [t.text, t.quoted]), [['x', false], ['{', true], ['y', false]]);
});

test('quotes are removed and adjoining text joined', () => {
  assert.deepEqual(words(`abcd" efg h "mnop next`), ['abcd efg h mnop', 'next']);
  assert.deepEqual(words(`script '/bin/a "b"'`), ['script', '/bin/a "b"']);
  assert.deepEqual(words('x "unterminated quote'), ['x', 'unterminated quote']);
});

test('script strings split into argv with quotes and escapes', () => {
  assert.deepEqual(splitArgv(`/bin/check --name 'two words' "a \\"b\\"" c\\ d`), ['/bin/check', '--name', 'two words', 'a "b"', 'c d']);
  assert.deepEqual(splitArgv('  /bin/true  '), ['/bin/true']);
  assert.deepEqual(splitArgv(`x ''`), ['x', '']);
});
