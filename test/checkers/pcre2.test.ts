// HTTP_GET regex: PCRE2's meaning (pcre2.org/current/doc/html/pcre2pattern.html, keepalived's options: no UTF, newline
// LF) for the tokens JavaScript reads differently, and the constructs outside the common subset named at -t.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { pcre2Difference, translatePcre2 } from '../../checkers/pcre2.js';
import { parseConfigText, UNIMPLEMENTED_PREFIX } from '../../src/config/load.js';

function matches(pattern: string, subject: string, options?: string): boolean {
  const t = translatePcre2(pattern, options);
  assert.ok(!('differs' in t), `${pattern} is in the common subset`);
  return new RegExp(t.source, t.flags).test(subject);
}

test("PCRE2's $ . ^ and \\s, whatever JavaScript's would say", () => {
  assert.equal(matches('OK$', 'status OK\n'), true, '$ matches before a final LF');
  assert.equal(matches('OK$', 'status OK\n\n'), false, '... and only a final one');
  assert.equal(matches('a.b', 'a\rb'), true, '. stops at LF only');
  assert.equal(matches('a.b', 'a\nb'), false);
  assert.equal(matches('a.b', 'a\nb', 'dotall'), true);
  assert.equal(matches('^up', 'x\r\nup', 'multiline'), true, 'multiline ^ after LF');
  assert.equal(matches('^up', 'x\rup', 'multiline'), false, '... not after CR');
  assert.equal(matches('^$', 'x\n', 'multiline'), false, 'not after a final LF');
  assert.equal(matches('ok$', 'ok\r\nnext', 'multiline'), false, 'multiline $ before LF only');
  assert.equal(matches('a\\sb', 'a\u00a0b'), false, '\\s is ASCII white space');
  assert.equal(matches('a[\\s-]b', 'a\tb'), true);
  assert.equal(matches('HEALTHY', 'healthy', 'caseless'), true);
  assert.equal(matches('(?:a|b)+c?', 'abc'), true);
  assert.equal(matches('(?<v>\\d+)\\.\\k<v>', '1.1'), true);
  assert.equal(matches('x{2,3}?y', 'xxxy'), true, 'a lazy quantifier is no possessive one');
  assert.equal(matches('a+?b', 'aab'), true);
});

test('constructs PCRE2 reads differently are named', () => {
  const cases: [string, string][] = [
    ['\\Aok', '\\A'], ['ok\\z', '\\z'], ['a++', 'a possessive quantifier'], ['(?>ab)', '(?>'], ['(?i)ok', '(?i'],
    ['[[:digit:]]', 'a POSIX class [:...:]'], ['[]a]', 'a ] first in a character class'], ['\\x{41}', '\\x'],
    ['(*UTF)ok', 'a (*VERB)'], ['\\Qa.b\\E', '\\Q'], ['(?P<n>a)', '(?P'], ['[\\S]', '\\S inside a character class'],
  ];
  assert.deepEqual(cases.map(([p]) => pcre2Difference(p)), cases.map(([, d]) => d));
  assert.equal(pcre2Difference('^HTTP/1\\.[01] 200 OK$'), undefined);
});

test('at -t: FILE:LINE names a regex beyond the common subset, and only such a one', () => {
  const conf = (re: string): string => `virtual_server 192.0.2.10 80 {\n protocol TCP\n real_server 192.0.2.11 80 {\n  HTTP_GET {\n   url {\n    path /\n    regex "${re}"\n   }\n  }\n }\n}\n`;
  const named = (re: string): string[] => parseConfigText(conf(re), { file: 'k.conf' }).diagnostics
    .filter((d) => d.message.startsWith(UNIMPLEMENTED_PREFIX)).map((d) => `${d.file}:${d.line}: ${d.message}`);
  assert.deepEqual(named('a++'), ["k.conf:7: lvskeeper does not implement 'regex PCRE2 a possessive quantifier' - ignored"]);
  assert.deepEqual(named('OK$'), []);
});
