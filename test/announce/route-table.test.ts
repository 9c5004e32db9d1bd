// The announcement table against the kernel (src/announce/route-table.ts), in a network namespace of its own: each
// sync leaves exactly the wanted host routes of its protocol in its table, IPv4 and IPv6, and touches nothing else.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { AnnounceTable } from '../../src/announce/route-table.js';
import { inNetns } from '../../src/net/in-netns.js';
import { netnsPath } from '../../src/net/netns-path.js';
import { needRoot } from '../support/tier.js';

const NS = 'lkbgp-rt';

function ip(...args: string[]): string {
  const r = spawnSync('ip', ['-n', NS, ...args], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`ip ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

/** `ip -j route show table 100` of both families: [type, dst, protocol]. */
function table(): string[][] {
  return ['-4', '-6'].flatMap((f) =>
    (JSON.parse(ip(f, '-j', 'route', 'show', 'table', '100')) as { type?: string; dst: string; protocol: string }[]).map((r) => [r.type ?? 'unicast', r.dst, r.protocol]),
  ).sort();
}

test('sync makes table 100 hold exactly the wanted VIP routes of protocol 249', async (t) => {
  if (!needRoot(t)) return;
  spawnSync('ip', ['netns', 'del', NS], { stdio: 'ignore' });
  spawnSync('ip', ['netns', 'add', NS]);
  t.after(() => void spawnSync('ip', ['netns', 'del', NS]));
  ip('link', 'set', 'lo', 'up');
  // A predecessor's route (ours), a shorter prefix of our protocol and another protocol's route, and one in table 101.
  ip('route', 'add', 'blackhole', '10.99.0.9/32', 'table', '100', 'proto', '249');
  ip('route', 'add', 'blackhole', '10.98.0.0/24', 'table', '100', 'proto', '249');
  ip('route', 'add', 'blackhole', '10.99.0.8/32', 'table', '100', 'proto', 'static');
  ip('route', 'add', 'blackhole', '10.99.0.7/32', 'table', '101', 'proto', '249');
  const rt = inNetns(netnsPath(NS), () => AnnounceTable.open({ table: 100, protocol: 249 }));
  t.after(() => rt.close());

  const first = await rt.sync(new Map<string, 4 | 6>([['10.99.0.1', 4], ['2001:db8::1', 6]]));
  assert.deepEqual(first, { added: ['10.99.0.1/32', '2001:db8::1/128'], removed: ['10.99.0.9/32'], failed: [] });
  assert.deepEqual(table(), [
    ['blackhole', '10.98.0.0/24', '249'],
    ['blackhole', '10.99.0.1', '249'],
    ['blackhole', '10.99.0.8', 'static'],
    ['blackhole', '2001:db8::1', '249'],
  ]);
  assert.deepEqual(await rt.sync(new Map<string, 4 | 6>([['10.99.0.1', 4], ['2001:db8::1', 6]])), { added: [], removed: [], failed: [] });
  // Deleted by hand: the next sync puts it back.
  ip('-6', 'route', 'del', 'blackhole', '2001:db8::1/128', 'table', '100', 'proto', '249');
  assert.deepEqual((await rt.sync(new Map<string, 4 | 6>([['10.99.0.1', 4], ['2001:db8::1', 6]]))).added, ['2001:db8::1/128']);
  assert.deepEqual(await rt.sync(new Map()), { added: [], removed: ['10.99.0.1/32', '2001:db8::1/128'], failed: [] });
  assert.deepEqual(table(), [['blackhole', '10.98.0.0/24', '249'], ['blackhole', '10.99.0.8', 'static']]);
  assert.match(ip('route', 'show', 'table', '101'), /10\.99\.0\.7/);
});
