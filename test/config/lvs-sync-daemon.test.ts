// `lvs_sync_daemon` arguments at `-t`: keepalived 2.2.7's lines and exit status for each form (core/global_parser.c
// lvs_syncd_handler), compared with keepalived itself; and the model the daemon starts from.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseConfigText } from '../../src/config/load.js';
import { dashTDifferences, withConfigTestNamespace } from '../support/config-test-ns.js';

const FORMS = [
  'eth0', 'eth0 VI_1', 'eth0 VI_1 5', 'eth0 VI_1 x', 'eth0 VI_1 5 extra', 'eth0 inst VI_1 inst VI_2', 'eth0 id', 'eth0 id 256',
  'eth0 id x', 'eth0 maxlen 0', 'eth0 maxlen 65507', 'eth0 maxlen 65508', 'eth0 port 0', 'eth0 port 65536', 'eth0 ttl 0',
  'eth0 ttl 256', 'eth0 group 192.0.2.1', 'eth0 group ff02::51', 'eth0 group nonsense', 'eth0 group', 'eth0 ttl',
  'a-very-long-interface-name', 'eth0 VI_1 id 7 maxlen 1400 port 8850 ttl 2 group 224.0.0.82',
];
const config = (form: string): string => `global_defs {\n lvs_sync_daemon ${form}\n lvs_sync_daemon eth1\n}\n`;

test("lvs_sync_daemon's every form: keepalived 2.2.7's lines and status", (t) => {
  withConfigTestNamespace(t, 'lvskp-syncd', (inNs) => assert.deepEqual(dashTDifferences(inNs, FORMS.map((f) => [f, config(f)] as const)), []));
});

test('every option reaches the model; a bad one is left to the kernel default', () => {
  const g = (form: string) => parseConfigText(config(form), { file: 'k.conf' }).config.global.lvsSyncDaemon;
  const full = g('eth0 VI_1 id 7 maxlen 1400 port 8850 ttl 2 group 224.0.0.82');
  assert.deepEqual({ ...full, src: undefined }, {
    interface: 'eth0', instance: 'VI_1', syncId: 7, maxlen: 1400, port: 8850, ttl: 2, group: { family: 'inet', address: '224.0.0.82' },
    raw: 'eth0 VI_1 id 7 maxlen 1400 port 8850 ttl 2 group 224.0.0.82', src: undefined,
  });
  assert.deepEqual(g('eth0 group ff02::51')?.group, { family: 'inet6', address: 'ff02::51' });
  assert.equal(g('eth0 port 0')?.port, undefined);
  assert.equal(g('a-very-long-interface-name')?.interface, 'eth1', 'a name too long is ignored: the next lvs_sync_daemon is the first');
});

test("lvs_sync_daemon_interface in a vrrp_instance (deprecated): keepalived 2.2.7's lines; the first instance's wins, global_defs' wherever it stands", (t) => {
  const instance = (name: string, vrid: number, iface: string): string =>
    `vrrp_instance ${name} {\n interface eth0\n virtual_router_id ${vrid}\n priority 100\n lvs_sync_daemon_interface ${iface}\n virtual_ipaddress {\n  192.0.2.${vrid}/24\n }\n}\n`;
  const twoInstances = instance('VI_A', 51, 'eth0') + instance('VI_LONGER', 52, 'eth1');
  const cases = [twoInstances, `${twoInstances}global_defs {\n lvs_sync_daemon eth1 VI_LONGER\n}\n`];
  withConfigTestNamespace(t, 'lvskp-syncdi', (inNs) => assert.deepEqual(dashTDifferences(inNs, cases.map((c, i) => [String(i), c] as const)), []));
  const syncd = (text: string) => parseConfigText(text, { file: 'k.conf' }).config.global.lvsSyncDaemon;
  assert.deepEqual([syncd(cases[0]!)?.interface, syncd(cases[0]!)?.instance], ['eth0', 'VI_A']);
  assert.deepEqual([syncd(cases[1]!)?.interface, syncd(cases[1]!)?.instance], ['eth1', 'VI_LONGER']);
});
