// The raw-socket addon on a real veth pair between two namespaces created here (root only): VRRP adverts over
// multicast and unicast, IPv4 and IPv6, with the source, destination, TTL and ifindex the receiver sees; a GARP and an
// unsolicited NA seen on the far side.
import { test } from 'node:test';
import { constants } from 'node:os';
import assert from 'node:assert/strict';
import { needRoot, needCommand } from '../support/tier.js';
import { createVethPair, runIn, type VethPair } from '../net/veth-pair.js';
import { decodeAdvert } from '../../src/vrrp/packet.js';

const CHILD = 'test/vrrp/rawsock-child.js';

async function withPair(t: import('node:test').TestContext, fn: (p: VethPair) => Promise<void>): Promise<void> {
  if (!needRoot(t) || !needCommand(t, 'ip', 'iproute2')) return;
  const p = await createVethPair('r');
  try {
    await fn(p);
  } finally {
    p.dispose();
  }
}

async function advertAcross(p: VethPair, family: 4 | 6, dst: string, group: string, src: string): Promise<Record<string, unknown>> {
  const rx = runIn(p.nsB, CHILD, 'recv', String(family), p.ifB, group, '1');
  try {
    await rx.next((o) => o['ready'] === true);
    const tx = runIn(p.nsA, CHILD, 'send', String(family), p.ifA, dst, src);
    await tx.next((o) => o['sent'] === true);
    assert.equal(await tx.exited, 0);
    const m = await rx.next((o) => 'hex' in o);
    assert.equal(await rx.exited, 0);
    return m;
  } finally {
    rx.kill();
  }
}

function checkAdvert(m: Record<string, unknown>, family: 4 | 6, vip: string): void {
  const r = decodeAdvert(Buffer.from(m['hex'] as string, 'hex'), {
    family, version: 3, checkTtl: true, ttl: m['ttl'] as number, src: m['src'] as string, dst: m['dst'] as string,
    ipProto: m['proto'] as number || 112, addresses: [vip],
  });
  assert.ok(r.ok, JSON.stringify(r));
  assert.equal(r.advert.vrid, 42);
  assert.equal(r.advert.addressMismatch, undefined);
}

test('IPv4 multicast advert: src, dst 224.0.0.18, TTL 255, ifindex, IP header stripped', { timeout: 30_000 }, async (t) => {
  await withPair(t, async (p) => {
    const m = await advertAcross(p, 4, '224.0.0.18', '224.0.0.18', '192.0.2.1');
    assert.deepEqual(
      { src: m['src'], dst: m['dst'], ttl: m['ttl'], proto: m['proto'], ifindex: m['ifindex'] },
      { src: '192.0.2.1', dst: '224.0.0.18', ttl: 255, proto: 112, ifindex: p.ifindex(p.nsB, p.ifB) },
    );
    checkAdvert(m, 4, '192.0.2.100');
  });
});

test('IPv4 unicast advert with a chosen source address (unicast_src_ip)', { timeout: 30_000 }, async (t) => {
  await withPair(t, async (p) => {
    p.ip(p.nsA, 'addr', 'add', '192.0.2.77/24', 'dev', p.ifA);
    const m = await advertAcross(p, 4, '192.0.2.2', '-', '192.0.2.77');
    assert.deepEqual([m['src'], m['dst'], m['ttl']], ['192.0.2.77', '192.0.2.2', 255]);
    checkAdvert(m, 4, '192.0.2.100');
  });
});

test('IPv6 multicast advert to ff02::12 from the link-local address, hop limit 255', { timeout: 30_000 }, async (t) => {
  await withPair(t, async (p) => {
    const ll = /inet6 (fe80::[0-9a-f:]+)\/64 scope link/.exec(p.ip(p.nsA, '-6', 'addr', 'show', 'dev', p.ifA))?.[1];
    assert.ok(ll !== undefined, 'the kernel gave the veth a link-local address');
    const m = await advertAcross(p, 6, 'ff02::12', 'ff02::12', ll);
    assert.deepEqual(
      { src: m['src'], dst: m['dst'], ttl: m['ttl'], ifindex: m['ifindex'] },
      { src: ll, dst: 'ff02::12', ttl: 255, ifindex: p.ifindex(p.nsB, p.ifB) },
    );
    checkAdvert(m, 6, '2001:db8::100');
  });
});

test('IPv6 unicast advert', { timeout: 30_000 }, async (t) => {
  await withPair(t, async (p) => {
    const m = await advertAcross(p, 6, '2001:db8::2', '-', '2001:db8::1');
    assert.deepEqual([m['src'], m['dst'], m['ttl']], ['2001:db8::1', '2001:db8::2', 255]);
    checkAdvert(m, 6, '2001:db8::100');
  });
});

test('gratuitous ARP reaches the far side: broadcast, sender = target = VIP, interface MAC', { timeout: 30_000 }, async (t) => {
  await withPair(t, async (p) => {
    const cap = runIn(p.nsB, CHILD, 'capture', p.ifB, String(0x0806), '1');
    try {
      await cap.next((o) => o['ready'] === true);
      const tx = runIn(p.nsA, CHILD, 'garp', p.ifA, '192.0.2.200');
      const { mac } = await tx.next((o) => o['sent'] === true);
      const f = await cap.next((o) => 'hex' in o);
      const frame = Buffer.from(f['hex'] as string, 'hex');
      const macHex = (mac as string).replaceAll(':', '');
      assert.equal(f['src'], mac);
      assert.equal(frame.subarray(0, 6).toString('hex'), 'ffffffffffff');
      assert.equal(frame.subarray(6, 12).toString('hex'), macHex);
      assert.equal(frame.readUInt16BE(12), 0x0806);
      assert.equal(frame.readUInt16BE(20), 1, 'ARP request');
      assert.equal(frame.subarray(22, 28).toString('hex'), macHex);
      assert.equal(frame.subarray(28, 32).join('.'), '192.0.2.200');
      assert.equal(frame.subarray(38, 42).join('.'), '192.0.2.200');
    } finally {
      cap.kill();
    }
  });
});

test('unsolicited NA reaches the far side: from the VIP to ff02::1, hop limit 255, Override, target link-layer option', { timeout: 30_000 }, async (t) => {
  await withPair(t, async (p) => {
    const rx = runIn(p.nsB, CHILD, 'na-recv', p.ifB, '1');
    try {
      await rx.next((o) => o['ready'] === true);
      p.ip(p.nsA, 'addr', 'add', '2001:db8::200/128', 'dev', p.ifA, 'nodad');
      const tx = runIn(p.nsA, CHILD, 'na', p.ifA, '2001:db8::200');
      const { mac } = await tx.next((o) => o['sent'] === true);
      const m = await rx.next((o) => 'hex' in o);
      const na = Buffer.from(m['hex'] as string, 'hex');
      assert.deepEqual([m['src'], m['dst'], m['ttl']], ['2001:db8::200', 'ff02::1', 255], 'sent from the VIP, like keepalived');
      assert.equal(na[0], 136);
      assert.equal(na.readUInt32BE(4), 0x20000000);
      assert.equal(na.subarray(8, 24).toString('hex'), '20010db8000000000000000000000200');
      assert.deepEqual([na[24], na[25]], [2, 1]);
      assert.equal(na.subarray(26, 32).toString('hex'), (mac as string).replaceAll(':', ''));
      assert.notEqual(na.readUInt16BE(2), 0, 'the kernel filled in the checksum');
    } finally {
      rx.kill();
    }
  });
});

test('a failed send is a JS Error carrying errno, code and syscall', { timeout: 30_000 }, async (t) => {
  await withPair(t, async (p) => {
    // 203.0.113.9 is not an address of this namespace, so the kernel refuses it as the IP_PKTINFO source.
    const tx = runIn(p.nsA, CHILD, 'send', '4', p.ifA, '192.0.2.2', '203.0.113.9');
    const r = await tx.next((o) => 'error' in o);
    assert.equal(await tx.exited, 1);
    // Linux 6.x answers ENETUNREACH (no route from that source); older kernels EINVAL.
    assert.ok(['ENETUNREACH', 'EINVAL', 'EADDRNOTAVAIL'].includes(r['code'] as string), String(r['code']));
    assert.equal(r['errno'], constants.errno[r['code'] as keyof typeof constants.errno]);
    assert.equal(r['syscall'], 'sendmsg');
  });
});
