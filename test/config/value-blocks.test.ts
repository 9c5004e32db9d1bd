// Value blocks (virtual_ipaddress, track_*, unicast_peer, static_*, group, notification_email, …) as keepalived
// 2.2.7's lib/parser.c alloc_value_block reads them: piece by piece (read_line splits a line at each brace), the
// block's `{` may be missing, words after the keyword are reported and dropped, a `{` inside is an item and the
// first `}` ends the block. Compared with keepalived -t, and the items the instance is left with.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseConfigText } from '../../src/config/load.js';
import { dashTDifferences, withConfigTestNamespace } from '../support/config-test-ns.js';

const instance = (body: string): string =>
  `vrrp_instance VI_1 {\n  interface eth0\n  virtual_router_id 51\n  priority 100\n${body}}\n`;

const CASES: Record<string, string> = {
  'a block without its brace, after words on the keyword line': instance('  virtual_ipaddress 10.0.0.6/24\n    10.0.0.7/24\n  }\n'),
  'a one-line track_interface swallows what follows up to a }': instance(
    '  track_interface eth0\n  authentication {\n    auth_type PASS\n    auth_pass secret\n  }\n  virtual_ipaddress {\n    10.0.0.1/24 {\n    10.0.0.2/24\n  }\n'),
  'a block on one line, and an item closing it': instance('  virtual_ipaddress { 10.0.0.4/24 10.0.0.5/24 }\n  unicast_peer 10.0.0.9 {\n    10.0.0.10\n  }\n' +
    '  virtual_ipaddress_excluded {\n    10.0.0.3/24 }\n'),
  'the brace on the next line': 'global_defs {\n  notification_email foo@example.com\n  {\n    a@example.com\n  }\n}\n' + instance('  virtual_ipaddress\n  {\n    10.0.0.1/24\n  }\n'),
};

test("value blocks: keepalived's lines and status", (t) => {
  // lvskeeper reports the keyword line's words as it reads the tree and the items' problems after: sorted.
  withConfigTestNamespace(t, 'lvskp-vblk', (inNs) =>
    assert.deepEqual(dashTDifferences(inNs, Object.entries(CASES), { interfaces: true, sorted: true, unique: true }), []));
});

test('value blocks: the items an instance keeps', () => {
  const vips = (text: string): string[][] => parseConfigText(text).config.vrrpInstances.map((i) => i.virtualIpaddresses.map((v) => v.address));
  assert.deepEqual(vips(CASES['a block without its brace, after words on the keyword line']!), [['10.0.0.7']]);
  assert.deepEqual(vips(CASES['a block on one line, and an item closing it']!), [['10.0.0.4']]);
  assert.deepEqual(vips(CASES['the brace on the next line']!), [['10.0.0.1']]);
  const excluded = parseConfigText(CASES['a block on one line, and an item closing it']!).config.vrrpInstances[0]!;
  assert.deepEqual([excluded.virtualIpaddressesExcluded.map((v) => v.address), excluded.unicastPeers.map((p) => p.address)], [['10.0.0.3'], ['10.0.0.10']]);
});
