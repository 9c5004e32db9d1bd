// vmac.ts: keepalived 2.2.7's VMAC naming, MAC and link-local address, and its handling of an existing device
// (vrrp.c create_vmac_name / vrrp_complete_instance, vrrp_vmac.c netlink_link_add_vmac). The names expected are the
// ones keepalived gave in twin namespaces (vmac-twin.test.ts compares the rest on the wire).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { addressVmacBase, addressVmacs, extraGarpVips, linkLocalFromMac, planVmac, vmacMac, vmacName, type PlanLink } from '../../src/vrrp/vmac.js';
import { parseConfigText } from '../../src/config/load.js';
import type { VrrpInstance } from '../../src/config/model.js';
import { MACVLAN_MODE_PRIVATE } from '../../src/net/link-uapi.js';

const none = (): boolean => false;
const takenOf = (...names: string[]) => (n: string): boolean => names.includes(n);

test('names: vrrp.VRID first; then vrrpN.VRID, IPv6 trying vrrp6 before vrrp1 and skipping it after; long prefixes cut to IFNAMSIZ', () => {
  assert.equal(vmacName('vrrp', 51, 4, none), 'vrrp.51');
  assert.equal(vmacName('vrrp', 51, 6, takenOf('vrrp.51')), 'vrrp6.51');
  assert.equal(vmacName('vrrp', 52, 4, takenOf('vrrp.52')), 'vrrp1.52');
  assert.equal(vmacName('vrrp', 7, 6, takenOf('vrrp.7', 'vrrp6.7')), 'vrrp1.7');
  assert.equal(vmacName('vrrp', 7, 6, takenOf('vrrp.7', 'vrrp6.7', 'vrrp1.7', 'vrrp2.7', 'vrrp3.7', 'vrrp4.7', 'vrrp5.7')), 'vrrp7.7');
  assert.equal(vmacName('abcdefghijklmnop', 255, 4, none), 'abcdefghijk.255');
});

test('MACs: 00:00:5e:00:01:VRID for IPv4, 00:00:5e:00:02:VRID for IPv6, or the one configured', () => {
  assert.equal(vmacMac(51, 4), '00:00:5e:00:01:33');
  assert.equal(vmacMac(255, 6), '00:00:5e:00:02:ff');
  assert.equal(vmacMac(1, 4, '02:11:22:33:44:55'), '02:11:22:33:44:55');
});

test('link-local address from a MAC: the EUI-64 the kernel makes too', () => {
  assert.equal(linkLocalFromMac('ba:12:22:84:91:fd'), 'fe80::b812:22ff:fe84:91fd');
  assert.equal(linkLocalFromMac('00:00:5e:00:02:33'), 'fe80::200:5eff:fe00:233');
});

const base: PlanLink = { index: 2, name: 'eth0', mac: 'ba:12:22:84:91:fd', up: true, flags: 0x11043, mtu: 1500, kind: 'veth' };
const macvlan = (over: Partial<PlanLink>): PlanLink => ({ index: 5, name: 'vrrp.51', mac: '00:00:5e:00:01:33', up: true, flags: 0x11043, mtu: 1500, kind: 'macvlan', mode: MACVLAN_MODE_PRIVATE, parent: 2, ...over });
const want = { instance: 'VI_1', kind: 'macvlan', vrid: 51, family: 4 } as const;

test('an existing device: a matching private macvlan is used as it is, under its own name', () => {
  const p = planVmac({ ...want, name: 'mine' }, base, [base, macvlan({ name: 'old.51' })], none);
  assert.deepEqual(p.action, { op: 'reuse', index: 5 });
  assert.equal(p.name, 'old.51');
  assert.deepEqual(p.logs.map((l) => l.msg), ['(VI_1) Found matching interface old.51', '(VI_1) vmac name mismatch mine <=> old.51. changing to old.51.']);
});

test('an existing device of the configured name: wrong MAC updated, other base replaced, not a private macvlan → name ignored', () => {
  const update = planVmac({ ...want, name: 'vmx' }, base, [base, macvlan({ name: 'vmx', mac: '02:00:00:00:00:01' })], none);
  assert.deepEqual(update.action, { op: 'update', index: 5 });
  assert.equal(update.name, 'vmx');
  const other: PlanLink = { ...base, index: 3, name: 'eth1' };
  const replace = planVmac({ ...want, name: 'vmx' }, base, [base, other, macvlan({ name: 'vmx', parent: 3 })], none);
  assert.deepEqual(replace.action, { op: 'replace', index: 5 });
  assert.deepEqual(replace.logs.map((l) => l.msg), [
    '(VI_1) VMAC vmx already exists but is incompatible. It will be deleted/updated',
    '(VI_1) Removing old VMAC interface vmx due to conflicting interface',
  ]);
  const veth = planVmac({ ...want, name: 'eth0' }, base, [base], none);
  assert.deepEqual(veth.action, { op: 'create' });
  assert.equal(veth.name, 'vrrp.51');
  assert.deepEqual(veth.logs, [{ level: 'error', msg: '(VI_1) interface eth0 already exists and is not a private macvlan; ignoring vmac if_name' }]);
});

test('a default name already held by a device that is not ours moves on to the next name', () => {
  const p = planVmac(want, base, [base, { ...base, index: 9, name: 'vrrp.51', kind: 'dummy' }], none);
  assert.deepEqual(p.action, { op: 'create' });
  assert.equal(p.name, 'vrrp1.51');
});

test('use_vmac_addr: a VMAC per interface and family for the VIPs/eVIPs elsewhere or of the other family; none without it', () => {
  const instance = (extra: string): VrrpInstance => {
    const text = ['vrrp_instance VI_1 {', ' interface eth0', ' virtual_router_id 61', extra,
      ' virtual_ipaddress {', '  10.0.0.61/24', '  10.0.0.62/24 dev eth0', '  203.0.113.61/24 dev eth1', '  203.0.113.62/24 dev eth1', ' }',
      ' virtual_ipaddress_excluded {', '  fd00::61/64', '  fd00::62/64 dev eth1', '  192.0.2.9/32', ' }', '}', ''].join('\n');
    return parseConfigText(text, { file: 'k.conf' }).config.vrrpInstances[0]!;
  };
  const on = instance(' use_vmac_addr');
  assert.deepEqual(on.virtualIpaddresses.map((v) => addressVmacBase(on, v)), [undefined, undefined, 'eth1', 'eth1']);
  assert.deepEqual(on.virtualIpaddressesExcluded.map((v) => addressVmacBase(on, v)), ['eth0', 'eth1', undefined]);
  assert.deepEqual(addressVmacs(on), [{ base: 'eth1', family: 4 }, { base: 'eth0', family: 6 }, { base: 'eth1', family: 6 }]);
  // With use_vmac the instance's own VMAC takes its family's VIPs on its interface; the rest is the same.
  const vmac = instance(' use_vmac\n use_vmac_addr');
  assert.deepEqual(addressVmacs(vmac), addressVmacs(on));
  assert.deepEqual(addressVmacs(instance('')), []);
});

test('garp_extra_if: the first VIP on each VMAC, with `all` on each other interface too, the own device only with vmac_xmit_base', () => {
  const addresses = (extra: string, globals = ''): string[] => {
    const text = [globals, 'vrrp_instance VI_1 {', ' interface eth0', ' virtual_router_id 61', extra,
      ' virtual_ipaddress {', '  10.0.0.61/24', '  10.0.0.62/24 dev eth0', '  203.0.113.61/24 dev eth1', '  203.0.113.62/24 dev eth1', ' }',
      ' virtual_ipaddress_excluded {', '  fd00::61/64', '  fd00::62/64 dev eth1', '  192.0.2.9/32', ' }', '}', ''].join('\n');
    return extraGarpVips(parseConfigText(text, { file: 'k.conf' }).config.vrrpInstances[0]!).map((v) => v.address);
  };
  // Nothing on a VMAC and no `all`: vrrp_complete_instance clears the interval.
  assert.deepEqual(addresses(' garp_extra_if 2'), []);
  assert.deepEqual(addresses(' use_vmac\n garp_extra_if 2'), []);
  // `all`: one per other interface, whatever the family (the IPv6 eVIP without dev stays on eth0, the instance's own).
  assert.deepEqual(addresses(' garp_extra_if 2 all'), ['203.0.113.61']);
  // use_vmac: the IPv6 eVIP is not on the (IPv4) VMAC, so it is on the base, another interface.
  assert.deepEqual(addresses(' use_vmac\n garp_extra_if 2 all'), ['203.0.113.61', 'fd00::61']);
  assert.deepEqual(addresses(' use_vmac\n vmac_xmit_base\n garp_extra_if 2 all'), ['10.0.0.61', '203.0.113.61', 'fd00::61']);
  // use_vmac_addr: each VMAC of an address (eth1 IPv4, eth0 IPv6, eth1 IPv6), without `all`.
  assert.deepEqual(addresses(' use_vmac_addr\n vmac_garp_intvl 2'), ['203.0.113.61', 'fd00::61', 'fd00::62']);
  // The global setting, its `all` with it, unless the instance has an interval of its own (0 turns it off).
  const globals = 'global_defs {\n vrrp_garp_extra_if all 3\n}';
  assert.deepEqual(addresses(' use_vmac', globals), ['203.0.113.61', 'fd00::61']);
  assert.deepEqual(addresses(' use_vmac\n garp_extra_if 0', globals), []);
  assert.deepEqual(addresses(' use_vmac\n garp_extra_if 5', globals), []);
  assert.deepEqual(addresses(' use_vmac\n garp_extra_if all', 'global_defs {\n vrrp_garp_extra_if 3\n}'), ['203.0.113.61', 'fd00::61']);
});
