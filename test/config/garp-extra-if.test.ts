// garp_extra_if / vmac_garp_intvl (vrrp_parser.c vrrp_garp_extra_if_handler) and vrrp_garp_extra_if /
// vrrp_vmac_garp_intvl (global_parser.c vrrp_vmac_garp_extra_if_handler): `-t` lines and exit status against
// keepalived 2.2.7's, and the setting each instance ends up with (vrrp.c vrrp_complete_instance).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseConfigText } from '../../src/config/load.js';
import { dashTDifferences, withConfigTestNamespace } from '../support/config-test-ns.js';

const instance = (line: string): string =>
  `vrrp_instance VI_1 {\n interface eth0\n virtual_router_id 51\n use_vmac\n ${line}\n virtual_ipaddress {\n  10.0.0.1/24\n }\n}\n`;
const globals = (line: string): string => `global_defs {\n ${line}\n}\n`;

const CASES: Record<string, string> = {
  'seconds and all': instance('garp_extra_if 2 all'),
  'all first, two numbers: the last kept': instance('garp_extra_if all 2 3'),
  'zero': instance('garp_extra_if 0'),
  'bare': instance('garp_extra_if'),
  'all only': instance('garp_extra_if all'),
  'a word': instance('garp_extra_if x'),
  'a word after a number': instance('garp_extra_if 2 x'),
  'over a day': instance('garp_extra_if 86401'),
  'negative': instance('garp_extra_if -1'),
  'deprecated': instance('vmac_garp_intvl 2'),
  'deprecated, bare': instance('vmac_garp_intvl'),
  'global': globals('vrrp_garp_extra_if 5 all') + instance(''),
  'global zero': globals('vrrp_garp_extra_if 0') + instance(''),
  'global bare': globals('vrrp_garp_extra_if') + instance(''),
  'global all only': globals('vrrp_garp_extra_if all') + instance(''),
  'global word': globals('vrrp_garp_extra_if 5 all x') + instance(''),
  'global deprecated': globals('vrrp_vmac_garp_intvl 5') + instance(''),
  'global deprecated, over a day': globals('vrrp_vmac_garp_intvl 86401') + instance(''),
  'global deprecated, bare': globals('vrrp_vmac_garp_intvl') + instance(''),
};

test('garp_extra_if and vrrp_garp_extra_if, good and bad, deprecated names: the lines and exit status of keepalived -t', (t) => {
  withConfigTestNamespace(t, 'lvskp-gxif', (inNs) => {
    assert.deepEqual(dashTDifferences(inNs, Object.entries(CASES)), []);
  });
});

test('the setting an instance ends up with: its own, else the global one with its `all`; `all` kept from a refused line', () => {
  const setting = (text: string): unknown => parseConfigText(text, { file: 'k.conf' }).config.vrrpInstances[0]!.garpExtraIf;
  assert.deepEqual(setting(instance('')), { intervalS: 0, all: false });
  assert.deepEqual(setting(instance('garp_extra_if 2 all')), { intervalS: 2, all: true });
  assert.deepEqual(setting(instance('garp_extra_if all 2 3')), { intervalS: 3, all: true });
  assert.deepEqual(setting(globals('vrrp_garp_extra_if 5 all') + instance('')), { intervalS: 5, all: true });
  assert.deepEqual(setting(globals('vrrp_garp_extra_if 5 all') + instance('garp_extra_if 0')), { intervalS: 0, all: false });
  assert.deepEqual(setting(globals('vrrp_vmac_garp_intvl 5') + instance('garp_extra_if all')), { intervalS: 5, all: true });
  assert.deepEqual(setting(globals('vrrp_garp_extra_if all') + instance('')), { intervalS: 0, all: true });
  assert.deepEqual(setting(globals('vrrp_garp_extra_if 7') + instance('garp_extra_if all x')), { intervalS: 7, all: true });
  assert.deepEqual(setting(globals('vrrp_garp_extra_if 7') + instance('garp_extra_if 86401')), { intervalS: 7, all: false });
});
