// old_unicast_checksum as keepalived 2.2.7's vrrp_parser.c vrrp_unicast_chksum_handler reads it (compiled in with
// OLD_CHKSUM_COMPAT, as Debian's keepalived is): alone it is 'config', with `never` 'never', any other word is reported
// and changes nothing; either way it is a unicast keyword (without peers: the deprecated multicast fallback line).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseConfigText } from '../../src/config/load.js';
import { dashTDifferences, withConfigTestNamespace } from '../support/config-test-ns.js';

const instance = (body: string, peers = true): string =>
  'vrrp_instance VI_1 {\n  interface eth0\n  virtual_router_id 51\n  priority 100\n  version 3\n' +
  (peers ? '  unicast_src_ip 10.0.0.1\n  unicast_peer {\n    10.0.0.2\n  }\n' : '') +
  `${body}  virtual_ipaddress {\n    10.0.0.100/24\n  }\n}\n`;

const CASES: Record<string, string> = {
  alone: instance('  old_unicast_checksum\n'),
  never: instance('  old_unicast_checksum never\n'),
  'never and more words': instance('  old_unicast_checksum never extra\n'),
  'an unknown word': instance('  old_unicast_checksum bogus\n'),
  'NEVER is not never': instance('  old_unicast_checksum NEVER\n'),
  'an unknown word after a good one': instance('  old_unicast_checksum\n  old_unicast_checksum always\n'),
  'without unicast peers': instance('  old_unicast_checksum\n', false),
  'an unknown word without unicast peers': instance('  old_unicast_checksum x\n', false),
};

test("old_unicast_checksum: keepalived -t's lines and status", (t) => {
  withConfigTestNamespace(t, 'lvskp-ouc', (inNs) =>
    assert.deepEqual(dashTDifferences(inNs, Object.entries(CASES), { interfaces: true }), []));
});

test('old_unicast_checksum: the mode each instance is left with', () => {
  const mode = (text: string): string[] => parseConfigText(text).config.vrrpInstances.map((i) => `${i.unicastChecksumCompat} ${i.oldChecksumDst}`);
  assert.deepEqual(Object.fromEntries(Object.entries(CASES).map(([k, text]) => [k, mode(text)])), {
    alone: ['config 224.0.0.18'],
    never: ['never 224.0.0.18'],
    'never and more words': ['never 224.0.0.18'],
    'an unknown word': ['none 224.0.0.18'],
    'NEVER is not never': ['none 224.0.0.18'],
    'an unknown word after a good one': ['config 224.0.0.18'],
    'without unicast peers': ['config 224.0.0.18'],
    'an unknown word without unicast peers': ['none 224.0.0.18'],
  });
  assert.deepEqual(mode(`global_defs {\n  vrrp_mcast_group4 224.0.0.19\n}\n${CASES.alone!}`), ['config 224.0.0.19']);
  assert.deepEqual(mode(instance('')), ['none 224.0.0.18']);
});
