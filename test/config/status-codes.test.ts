// HTTP_GET's status_code lists (src/config/resolve-checkers.ts): a text the config repeats for every real server
// resolves to one frozen list, and a line with an error is still reported where it stands.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseConfigText } from '../../src/config/load.js';
import type { HttpChecker } from '../../src/config/model.js';

const rs = (n: number, codes: string): string => `  real_server 192.0.2.${n} 80 {
    HTTP_GET {
      url {
        path /health
        status_code ${codes}
      }
    }
  }
`;

const config = (codes: readonly string[]): string =>
  `virtual_server 198.51.100.1 80 {\n  lb_algo rr\n  lb_kind DR\n  protocol TCP\n${codes.map((c, i) => rs(i + 1, c)).join('')}}\n`;

const urlsOf = (text: string): HttpChecker['urls'][number][] =>
  parseConfigText(text).config.virtualServers[0]!.realServers.map((r) => (r.checkers[0] as HttpChecker).urls[0]!);

test('one status_code text is one frozen list, for every server and every read', () => {
  const [a, b, c, d] = urlsOf(config(['200', '200', '200-299 404', '200']));
  assert.deepEqual(a!.statusCodes, [[200, 200]]);
  assert.deepEqual(c!.statusCodes, [[200, 299], [404, 404]]);
  assert.equal(a!.statusCodes, b!.statusCodes);
  assert.equal(a!.statusCodes, d!.statusCodes);
  assert.ok(Object.isFrozen(a!.statusCodes) && Object.isFrozen(a!.statusCodes[0]));
  // A reload's read shares it too.
  assert.equal(urlsOf(config(['200']))[0]!.statusCodes, a!.statusCodes);
});

test('an invalid status_code is reported on each line that has it', () => {
  const text = config(['99', '200', '99']);
  const errors = parseConfigText(text).diagnostics.filter((d) => d.message === "Invalid HTTP_GET status code '99'");
  assert.deepEqual(errors.map((d) => d.line), [9, 25]);
});
