// Addresses at `-t` against keepalived 2.2.7 itself: VIP options (vrrp_ipaddress.c alloc_ipaddress), the instance's
// address family fixed in file order (vrrp_data.c alloc_vrrp_vip, vrrp_parser.c), virtual/real/sorry server
// addresses and ports (check_data.c alloc_vs, alloc_vsg_entry, alloc_rs, alloc_ssvr over lib/utils.c
// inet_stosockaddr), and a missing vrrp_script dropped before an address owner's tracker rules (vrrp.c
// vrrp_complete_init). Same lines, in the same order, and the same exit status.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseConfigText } from '../../src/config/load.js';
import { dashTDifferences, withConfigTestNamespace } from '../support/config-test-ns.js';

const instance = (body: string): string =>
  `vrrp_instance VI_1 {\n  state BACKUP\n  interface eth0\n  virtual_router_id 51\n  priority 100\n${body}}\n`;
const vips = (...items: string[]): string => `  virtual_ipaddress {\n${items.map((i) => `    ${i}\n`).join('')}  }\n`;
const lvs = (vs: string, body: string): string =>
  `virtual_server ${vs} {\n  lb_algo rr\n  lb_kind NAT\n  protocol TCP\n${body}  real_server 10.0.0.22 80 {\n  }\n}\n`;

const CASES: Record<string, string> = {
  'VIP options': instance(vips('fd00::10/128', 'fd00::11/64 nodad', 'fd00::12/64 -nodad mngtmpaddr autojoin home',
    'fd00::13/64 preferred_lft 30', 'fd00::14/64 preferred_lft forever', 'fd00::15/64 preferred_lft bogus',
    'fd00::16/64 track_group x', 'fd00::17/64 use_vmac', 'fd00::18/64 dev')),
  'VIP of the other family': instance(vips('10.0.0.100/24', 'fd00::100/64')),
  // vrrp.c vrrp_complete_instance: an address's own use_vmac where the instance's VMAC or use_vmac_addr places it.
  "an address's own use_vmac": instance(`  use_vmac\n  use_vmac_addr\n${vips('10.0.0.1/24 use_vmac', '10.0.0.2', '10.0.0.3/32 use_vmac', '10.0.0.4/24 dev eth0 use_vmac',
    '10.0.0.5/24 dev lo use_vmac')}  virtual_ipaddress_excluded {\n    fd00::5/64 use_vmac\n  }\n`) +
    instance(`${vips('10.0.0.11/24 use_vmac', '10.0.0.12/24 dev lo use_vmac')}`).replace('VI_1', 'VI_2').replace('51', '52'),
  // vrrp_ipaddress.c parse_ipaddress: the prefix length read before the address, a bad one replaced by the full one.
  'VIP prefix lengths': instance(vips('10.0.0.1/33', '10.0.0.2/x', '10.0.0.3/', '10.0.0.4/-1', '10.0.0.5/+7', '10.0.0.6/024',
    '10.1.1.1/24/5', 'xxx/125', 'x.x.x.x/29')) + instance(vips('fd00::1/129', 'fd00::2/64')).replace('VI_1', 'VI_2').replace('51', '52'),
  'VIP blocks in turn': instance(`${vips('10.0.0.100/24')}${vips('fd00::100/64')}`),
  'family fixed by the source address': instance(`  unicast_src_ip 10.0.0.1\n  unicast_peer {\n    fd00::2\n    10.0.0.2\n  }\n  mcast_dst_ip ff02::12\n  native_ipv6\n${vips('fd00::100/64', '10.0.0.100')}  virtual_ipaddress_excluded {\n    fd00::101/64\n  }\n`),
  // lib/utils.c inet_stosockaddr leaves out what follows a '-' or '/'.
  'source, peer and group addresses with a mask or range': instance(`  unicast_src_ip 10.0.0.1/24\n  unicast_peer {\n    10.0.0.2/24\n    10.0.0.3-9\n    10.0.0.x/24\n  }\n` +
    `  mcast_src_ip 10.0.0.1-4\n  mcast_dst_ip 224.0.0.19/32\n${vips('10.0.0.100/24')}`),
  'family fixed by native_ipv6': instance(`  native_ipv6\n${vips('10.0.0.100/24', 'fd00::100/64')}`),
  'virtual server addresses and ports': lvs('192.168.1.300 22', '') + lvs('10.0.0.6 70000', '') + lvs('10.0.0.7 abc', '') +
    lvs('10.0.0.8 0000', '  persistence_timeout 30\n'),
  'real and sorry server addresses and ports': lvs('10.0.0.20 80',
    '  sorry_server 10.0.0.500 80\n  real_server 10.0.0.400 80 {\n  }\n  real_server 10.0.0.401 {\n  }\n  real_server 10.0.0.7 abc {\n  }\n') +
    lvs('10.0.0.30 80', '  sorry_server 10.0.0.21 70000\n'),
  // lib/utils.c inet_stosockaddr leaves out what follows a '-' or '/' in these too.
  'virtual, real and sorry server addresses with a mask or range': lvs('10.0.0.40/24 80',
    '  sorry_server 10.0.0.9-3 80\n  real_server 10.0.0.20/24 80 {\n  }\n  real_server 10.0.0.21-5 80 {\n  }\n  real_server 10.0.0.x/24 80 {\n  }\n'),
  'group entries': 'virtual_server_group g1 {\n  10.0.0.300 80\n  10.0.0.301\n  10.0.0.1 99999\n  10.0.0.2 80\n}\n' +
    lvs('group g1', ''),
  'group ranges and masks': `virtual_server_group g2 {\n${['10.1.0.0/30', '10.1.0.1/30', '10.1.0.0/0', '10.1.0.0/33', '10.1.0.0/x',
    '10.1.1.1-10.1.1.4', '10.1.1.4-10.1.1.1', '10.1.1.1-fd00::1', '10.1.1.1-10.1.1.x', '10.1.2.1-3', '10.1.2.3-3', '10.1.2.3-2',
    '10.1.2.1-300', '10.1.2.1-3x', '10.1.2.1-'].map((e) => `  ${e} 80\n`).join('')}}\n` + lvs('group g2', '') +
    `virtual_server_group g3 {\n${['fd00:1::/126', 'fd00:1::1/126', 'fd00:2::1-a', 'fd00:2::a-a', 'fd00:2::1-10000',
      'fd00:2::1-fd00:2::9'].map((e) => `  ${e} 80\n`).join('')}}\n` + lvs('group g3', '').replace('10.0.0.22', 'fd00:9::22'),
  "a missing vrrp_script is dropped before the owner's tracker rules": 'vrrp_script chk {\n  script "/nonexistent/lvskp-check"\n  weight -2\n}\n' +
    instance(`${vips('10.0.0.100/24')}  track_script {\n    chk\n  }\n`).replace('priority 100', 'priority 255'),
};

test("addresses, ports and the instance family: keepalived 2.2.7's lines and status", (t) => {
  withConfigTestNamespace(t, 'lvskp-addrs', (inNs) => assert.deepEqual(dashTDifferences(inNs, Object.entries(CASES)), []));
});

test('a VIP with a bad prefix length is kept with the full one, an empty one is 0 (parse_ipaddress, read_unsigned)', () => {
  const inst = parseConfigText(CASES['VIP prefix lengths']!).config.vrrpInstances[0]!;
  assert.deepEqual(inst.virtualIpaddresses.map((v) => `${v.address}/${v.prefixLen}`),
    ['10.0.0.1/32', '10.0.0.2/32', '10.0.0.3/0', '10.0.0.4/32', '10.0.0.5/7', '10.0.0.6/24', '10.1.1.1/32']);
});
