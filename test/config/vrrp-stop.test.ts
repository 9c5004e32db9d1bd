// Where keepalived 2.2.7's VRRP side gives up on a config, against keepalived itself: an interface that does not
// exist (vrrp_daemon.c start_vrrp, once the file is read), an instance chk_min_cfg or vrrp_complete_instance refuses
// (vrrp.c vrrp_complete_init), and VRID conflicts (check_vrid_conflicts). `-t` prints the same lines, nothing of
// what keepalived never reaches, and exits alike; the daemon does not start, as keepalived's terminates.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { dashTDifferences, withConfigTestNamespace } from '../support/config-test-ns.js';
import { repoRoot } from '../support/tier.js';

const instance = (name: string, body: string, iface = '  interface eth0\n'): string =>
  `vrrp_instance ${name} {\n${iface}  priority 100\n${body}}\n`;
const vrid = (id: number): string => `  virtual_router_id ${id}\n`;
const vip = (...items: string[]): string => `  virtual_ipaddress {\n${items.map((i) => `    ${i}\n`).join('')}  }\n`;
// A line vrrp_complete_instance prints: it shows whether keepalived got as far as that instance.
const halfSecond = '  advert_int 0.5\n';

const CASES: Record<string, string> = {
  'no virtual_router_id: chk_min_cfg stops before any instance completes':
    instance('VI_1', `${halfSecond}${vip('10.0.0.1/24')}`).replace('  priority 100\n', `  priority 100\n  state MASTER\n`) +
    instance('VI_2', `${vrid(52)}${halfSecond}${vip('10.0.0.2/24')}`) + instance('VI_3', vip('10.0.0.3/24')),
  'no interface, default_interface notwithstanding': 'global_defs {\n  default_interface eth0\n}\n' +
    instance('VI_1', `${vrid(51)}${halfSecond}${vip('10.0.0.1/24')}`, ''),
  'a unicast instance without interface': instance('VI_1',
    `${vrid(51)}  unicast_src_ip 10.0.0.1\n  unicast_peer {\n    10.0.0.2\n  }\n${vip('10.0.0.100/24')}`, ''),
  'interfaces that do not exist, wherever named': 'garp_group {\n  garp_interval 1\n  interfaces {\n    eth0\n    lvskp-no0\n  }\n}\n' +
    instance('VI_1', `${vrid(51)}${halfSecond}  track_interface {\n    lvskp-no1 weight 10\n    eth0\n  }\n${vip('10.0.0.1/24 dev lvskp-no2', '10.0.0.3/24')}` +
      '  virtual_routes {\n    10.9.0.0/16 via 10.0.0.254 dev lvskp-no3\n    10.8.0.0/16 dev eth0\n  }\n' +
      '  virtual_rules {\n    from 10.0.0.1 iif lvskp-no4 table 100\n    from 10.0.0.2 oif lvskp-no5 table 100\n  }\n') +
    'vrrp_sync_group G {\n  group {\n    VI_1\n  }\n  track_interface {\n    lvskp-no6\n  }\n}\n',
  'the instance interface missing': instance('VI_1', `${vrid(51)}${vip('10.0.0.1/24')}`, '  interface lvskp-no0\n') +
    instance('VI_2', `${vrid(52)}${halfSecond}${vip('10.0.0.2/24')}`),
  'dynamic_interfaces: names that do not exist yet are taken': 'global_defs {\n  dynamic_interfaces\n}\n' +
    instance('VI_1', `${vrid(51)}${vip('10.0.0.1/24 dev lvskp-no2')}  track_interface {\n    lvskp-no1\n  }\n`, '  interface lvskp-no0\n'),
  'VRRPv3 without a VIP: the instances after it are never completed':
    instance('VI_1', `${vrid(51)}${halfSecond}${vip('10.0.0.1/24')}`) +
    instance('VI_2', `${vrid(52)}  version 3\n${halfSecond}`) + instance('VI_3', `${vrid(53)}${halfSecond}${vip('10.0.0.3/24')}`),
  'a sync group naming an instance that vrrp_complete_instance refuses': 'global_defs {\n  vrrp_strict\n}\n' +
    instance('VI_1', `${vrid(51)}${vip('10.0.0.1/24')}`) + instance('VI_2', vrid(52)) +
    'vrrp_sync_group G {\n  group {\n    VI_1\n    VI_2\n  }\n}\n',
  'the same VRID twice on one interface and group': instance('VI_1', `${vrid(51)}${vip('10.0.0.1/24')}`) +
    instance('VI_2', `${vrid(51)}${vip('10.0.0.2/24')}`) + instance('VI_3', `${vrid(51)}${vip('10.0.0.3/24')}`) +
    instance('VI_4', `${vrid(51)}  mcast_dst_ip 224.0.0.19\n${vip('10.0.0.4/24')}`) + instance('VI_6', `${vrid(51)}${vip('fd00::6/64')}`),
  'unicast: the same VRID, source and a common peer': instance('VI_1', `${vrid(51)}  unicast_src_ip 10.0.0.1\n  unicast_peer {\n    10.0.0.2\n    10.0.0.3\n  }\n${vip('10.0.0.100/24')}`) +
    instance('VI_2', `${vrid(51)}  unicast_src_ip 10.0.0.1\n  unicast_peer {\n    10.0.0.3\n  }\n${vip('10.0.0.101/24')}`) +
    instance('VI_3', `${vrid(51)}  unicast_src_ip 10.0.0.1\n  unicast_peer {\n    10.0.0.4\n  }\n${vip('10.0.0.102/24')}`) +
    instance('VI_4', `${vrid(51)}  unicast_src_ip 10.0.0.5\n  unicast_peer {\n    10.0.0.2\n  }\n${vip('10.0.0.103/24')}`),
};

test("where keepalived's VRRP side stops: the same -t lines and status", (t) => {
  withConfigTestNamespace(t, 'lvskp-vstop', (inNs) => {
    const unordered = 'interfaces that do not exist, wherever named';
    assert.deepEqual(dashTDifferences(inNs, Object.entries(CASES).filter(([name]) => name !== unordered), { interfaces: true }), []);
    // lvskeeper reads every route and rule before the instances, so their lines come first.
    assert.deepEqual(dashTDifferences(inNs, [[unordered, CASES[unordered]!]], { interfaces: true, sorted: true }), []);
  });
});

test('the daemon does not start on such a config, as keepalived terminates with KEEPALIVED_EXIT_CONFIG', (t) => {
  withConfigTestNamespace(t, 'lvskp-vstopd', (inNs) => {
    const dir = mkdtempSync(join(tmpdir(), 'lvskp-vstop-'));
    try {
      const file = join(dir, 'keepalived.conf');
      // The missing VRID is VI_2's: keepalived never starts VI_1 either. (No virtual_server: this host has no IPVS,
      // and keepalived's checker process would stop first.)
      writeFileSync(file, instance('VI_1', `${vrid(51)}${vip('10.0.0.1/24')}`).replace('  priority 100\n', '  priority 100\n  state MASTER\n') +
        instance('VI_2', vip('10.0.0.2/24')));
      const run = (cmd: string, args: string[], tag: string): ReturnType<typeof inNs> =>
        inNs(cmd, [...args, '-n', '-l', '-D', '-f', file, '-p', join(dir, `${tag}.pid`), '-r', join(dir, `${tag}-vrrp.pid`), '-c', join(dir, `${tag}-chk.pid`)], dir);
      const ka = run('keepalived', [], 'ka');
      assert.equal(ka.status, 2, ka.stderr);
      assert.match(ka.stderr, /\(VI_2\) the virtual router id must be set\n.*exited with permanent error CONFIG\. Terminating/s);
      const lk = run(process.execPath, [join(repoRoot, 'dist/bin/lvskeeper.js')], 'lk');
      assert.equal(lk.status, ka.status, lk.stdout);
      assert.match(lk.stdout, /\(VI_2\) the virtual router id must be set\n.*exited with permanent error CONFIG.*Terminating/s);
      // Neither took VI_1's address.
      assert.doesNotMatch(inNs('ip', ['-o', 'addr']).stdout, /10\.0\.0\.1\//);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
