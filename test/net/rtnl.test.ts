// rtnetlink VIP management, interface lookups and link/address notifications, in namespaces created here (root only).
// Results are checked against `ip -j`, an independent view of the kernel's tables.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { needRoot, needCommand } from '../support/tier.js';
import { createVethPair, runIn, type VethPair } from './veth-pair.js';

const CHILD = 'test/net/rtnl-child.js';

interface IpAddr {
  local: string;
  prefixlen: number;
  label?: string;
  scope: string;
  broadcast?: string;
  address?: string;
}

async function withPair(t: TestContext, fn: (p: VethPair) => Promise<void>): Promise<void> {
  if (!needRoot(t) || !needCommand(t, 'ip', 'iproute2')) return;
  const p = await createVethPair('n');
  try {
    await fn(p);
  } finally {
    p.dispose();
  }
}

async function run(p: VethPair, ...args: string[]): Promise<Record<string, unknown>> {
  const c = runIn(p.nsA, CHILD, ...args);
  try {
    const line = await c.next(() => true);
    await c.exited;
    return line;
  } finally {
    c.kill();
  }
}

const addrs = (p: VethPair): IpAddr[] =>
  (JSON.parse(p.ip(p.nsA, '-j', 'addr', 'show', 'dev', p.ifA)) as { addr_info: IpAddr[] }[])[0]!.addr_info;

test('add and remove an IPv4 VIP with label, scope link and broadcast; adding twice reports exists', { timeout: 30_000 }, async (t) => {
  await withPair(t, async (p) => {
    const spec = JSON.stringify({ ifname: p.ifA, address: '203.0.113.10', prefixlen: 24, label: `${p.ifA.slice(0, 10)}:vi`, scope: 'link', broadcast: '203.0.113.255' });
    assert.deepEqual(await run(p, 'add', spec), { result: 'added' });
    const got = addrs(p).find((a) => a.local === '203.0.113.10');
    assert.deepEqual(
      got && { prefixlen: got.prefixlen, label: got.label, scope: got.scope, broadcast: got.broadcast },
      { prefixlen: 24, label: `${p.ifA.slice(0, 10)}:vi`, scope: 'link', broadcast: '203.0.113.255' },
    );
    assert.deepEqual(await run(p, 'add', spec), { result: 'exists' });
    assert.deepEqual(await run(p, 'del', spec), { result: 'removed' });
    assert.equal(addrs(p).find((a) => a.local === '203.0.113.10'), undefined);
    assert.deepEqual(await run(p, 'del', spec), { result: 'absent' });
  });
});

test('add an IPv4 /32 VIP with a peer, and an IPv6 /128 VIP with nodad (usable at once)', { timeout: 30_000 }, async (t) => {
  await withPair(t, async (p) => {
    assert.deepEqual(await run(p, 'add', JSON.stringify({ ifname: p.ifA, address: '198.51.100.1', peer: '198.51.100.2' })), { result: 'added' });
    const v4 = addrs(p).find((a) => a.local === '198.51.100.1');
    assert.deepEqual(v4 && [v4.prefixlen, v4.address], [32, '198.51.100.2']);
    const v6spec = JSON.stringify({ ifname: p.ifA, address: '2001:db8:0:0::77', nodad: true });
    assert.deepEqual(await run(p, 'add', v6spec), { result: 'added' });
    const v6 = addrs(p).find((a) => a.local === '2001:db8::77') as (IpAddr & { tentative?: boolean }) | undefined;
    assert.deepEqual(v6 && [v6.prefixlen, v6.tentative], [128, undefined]);
    assert.deepEqual(await run(p, 'del', v6spec), { result: 'removed' });
  });
});

test('a NACK other than exists/absent carries op, errno code', { timeout: 30_000 }, async (t) => {
  await withPair(t, async (p) => {
    const r = await run(p, 'add', JSON.stringify({ ifname: p.ifA, address: '192.0.2.50', prefixlen: 40 }));
    assert.deepEqual([r['op'], r['code']], ['RTM_NEWADDR', 'EINVAL']);
  });
});

test('requests issued together on one socket each get their own complete reply (dumps amid adds and deletes)', { timeout: 30_000 }, async (t) => {
  await withPair(t, async (p) => {
    assert.deepEqual(await run(p, 'concurrent', p.ifA), { links: 20, added: 20, removed: 20 });
    assert.equal(addrs(p).filter((a) => a.local.startsWith('198.51.100.')).length, 0);
  });
});

test('interface lookup: index, MAC, up, primary IPv4 and link-local IPv6 addresses', { timeout: 30_000 }, async (t) => {
  await withPair(t, async (p) => {
    const r = (await run(p, 'lookup', p.ifA)) as { link: { index: number; mac: string; up: boolean; name: string }; v4: string; v6: string };
    const ipLink = (JSON.parse(p.ip(p.nsA, '-j', 'link', 'show', p.ifA)) as { ifindex: number; address: string }[])[0]!;
    assert.deepEqual(r.link.index, ipLink.ifindex);
    assert.equal(r.link.mac, ipLink.address);
    assert.equal(r.link.up, true);
    assert.equal(r.v4, '192.0.2.1');
    const ll = /inet6 (fe80::[0-9a-f:]+)\/64 scope link/.exec(p.ip(p.nsA, '-6', 'addr', 'show', 'dev', p.ifA))?.[1];
    assert.equal(r.v6, ll);
  });
});

test('link watcher: carrier loss and admin down arrive as link events; a new address as an address event', { timeout: 30_000 }, async (t) => {
  await withPair(t, async (p) => {
    const w = runIn(p.nsA, CHILD, 'watch', '2');
    try {
      await w.next((o) => o['ready'] === true);
      // Peer down: our side loses carrier (IFF_RUNNING), which keepalived treats as down.
      p.ip(p.nsB, 'link', 'set', p.ifB, 'down');
      const lost = (await w.next((o) => 'link' in o))['link'] as { name: string; up: boolean; deleted: boolean };
      assert.deepEqual([lost.name, lost.up, lost.deleted], [p.ifA, false, false]);
      p.ip(p.nsA, 'addr', 'add', '203.0.113.99/32', 'dev', p.ifA);
      const added = (await w.next((o) => 'address' in o && (o['address'] as { address: string }).address === '203.0.113.99'))['address'] as { kind: string; family: number };
      assert.deepEqual([added.kind, added.family], ['new', 4]);
      p.ip(p.nsB, 'link', 'set', p.ifB, 'up');
      const back = (await w.next((o) => 'link' in o))['link'] as { name: string; up: boolean };
      assert.deepEqual([back.name, back.up], [p.ifA, true]);
      assert.equal(await w.exited, 0);
    } finally {
      w.kill();
    }
  });
});
