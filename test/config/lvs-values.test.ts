// virtual_server, real_server and checker keywords given values keepalived refuses or takes at the edges: lvskeeper
// must print keepalived 2.2.7's lines and exit with its status. First the timers, retries, ports and marks at every
// edge, lines in order; then every keyword of those blocks given a word and a negative number.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { dashTDifferences, withConfigTestNamespace } from '../support/config-test-ns.js';
import { keywordConfigs } from '../support/keyword-configs.js';

const TIMERS = ['delay_loop', 'connect_timeout', 'delay_before_retry', 'warmup', 'retry'];
const VALUES = ['x', '-1', '0', '5000', '4294.967296', '0.0000001', '18446744073709.551615', '18446744073710'];
const CONNECTION = ['connect_port', 'bind_port', 'fwmark'];
const PORT_VALUES = ['x', '-1', '0', '65536', '4294967296'];

function configs(): { what: string; text: string }[] {
  const vs = (inVs: string, inRs: string, inCheck: string): string =>
    `virtual_server 192.0.2.10 80 {\n lb_algo rr\n lb_kind NAT\n protocol TCP\n${inVs}` +
    ` real_server 192.0.2.11 80 {\n${inRs}  TCP_CHECK {\n${inCheck}  }\n }\n}\n`;
  const out: { what: string; text: string }[] = [];
  for (const kw of TIMERS) {
    for (const value of VALUES) {
      const line = `   ${kw} ${value}\n`;
      out.push({ what: `virtual_server ${kw} ${value}`, text: vs(line, '', '') });
      out.push({ what: `real_server ${kw} ${value}`, text: vs('', line, '') });
      out.push({ what: `TCP_CHECK ${kw} ${value}`, text: vs('', '', line) });
    }
  }
  for (const kw of CONNECTION) {
    for (const value of PORT_VALUES) out.push({ what: `TCP_CHECK ${kw} ${value}`, text: vs('', '', `   ${kw} ${value}\n`) });
  }
  return out;
}

test("VS, RS and checker timers, retries, ports and marks: keepalived 2.2.7's lines and status for every value", (t) => {
  withConfigTestNamespace(t, 'lvskp-values', (inNs) => assert.deepEqual(dashTDifferences(inNs, configs().map(({ what, text }) => [what, text] as const)), []));
});

/** keepalived checks a MISC_CHECK user even without a misc_path; lvskeeper drops that checker first. */
const LINES_UNCOMPARED = new Set(['virtual_server > real_server > MISC_CHECK > user']);

test("every virtual_server, real_server and checker keyword given a word or a negative number: keepalived 2.2.7's lines and status", (t) => {
  const cases = ['x', '-1'].flatMap((value) => keywordConfigs(value)
    .filter((c) => c.where.startsWith('virtual_server') && !LINES_UNCOMPARED.has(c.where))
    .map(({ where, text }) => [`${where} ${value}`, text] as const));
  withConfigTestNamespace(t, 'lvskp-lvswords', (inNs) => assert.deepEqual(dashTDifferences(inNs, cases, { sorted: true }), []));
});
