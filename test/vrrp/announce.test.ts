// GARP / unsolicited NA builders against frames captured from keepalived v2.2.7 (Debian 12) on a veth pair between two
// lvskw- namespaces: VIP 192.0.2.100 and 2001:db8::100 on an interface with MAC 8e:4a:1f:72:34:9d.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildGarpFrame, buildUnsolicitedNa, parseMac } from '../../src/vrrp/announce.js';

const MAC = '8e:4a:1f:72:34:9d';

const keepalivedGarp = [
  'ffffffffffff', // Ethernet destination: broadcast
  '8e4a1f72349d', // Ethernet source: interface MAC
  '0806', // ethertype ARP
  '0001', // hardware type Ethernet
  '0800', // protocol type IPv4
  '06', // hardware address length
  '04', // protocol address length
  '0001', // ARP request
  '8e4a1f72349d', // sender hardware address
  'c0000264', // sender protocol address 192.0.2.100
  'ffffffffffff', // target hardware address
  'c0000264', // target protocol address 192.0.2.100
].join('');

const keepalivedNa = [
  '88', // ICMPv6 type 136 (Neighbor Advertisement)
  '00', // code
  '16d4', // checksum (filled by the sending kernel)
  '20000000', // flags: Override
  '20010db8000000000000000000000100', // target 2001:db8::100
  '02', // option: target link-layer address
  '01', // length 8 bytes
  '8e4a1f72349d', // MAC
].join('');

test('GARP frame is byte-identical to keepalived', () => {
  assert.equal(buildGarpFrame(MAC, '192.0.2.100').toString('hex'), keepalivedGarp);
});

test('unsolicited NA matches keepalived apart from the kernel-computed checksum', () => {
  const want = Buffer.from(keepalivedNa, 'hex');
  want.writeUInt16BE(0, 2);
  assert.equal(buildUnsolicitedNa(MAC, '2001:db8::100').toString('hex'), want.toString('hex'));
});

test('builders reject the wrong family and malformed MACs', () => {
  assert.throws(() => buildGarpFrame(MAC, '2001:db8::1'), /IPv4/);
  assert.throws(() => buildUnsolicitedNa(MAC, '192.0.2.1'), /IPv6/);
  assert.throws(() => parseMac('8e:4a:1f:72:34'), /MAC/);
  assert.throws(() => parseMac('8e:4a:1f:72:34:zz'), /MAC/);
});
