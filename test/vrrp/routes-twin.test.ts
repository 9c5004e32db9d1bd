// virtual_routes / virtual_rules and static_ipaddress / static_routes / static_rules against keepalived 2.2.7 in twin
// namespaces (twin-support.ts): the same config and the same events on both sides — start, MASTER, a static route and
// a static address deleted behind the daemon, a tracked virtual route deleted, a higher-priority peer, stop — and after
// each, `ip -j route show table all`, `ip -j -6 route show table all`, `ip -j rule`, `ip -j -6 rule` and `ip -j addr`
// compared.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { needCommand, needFile, needRoot, repoRoot } from '../support/tier.js';
import { Proc, waitFor } from './netns-support.js';
import { SIDES, Twin, logLines, type Side } from './twin-support.js';

const CONFIG = `global_defs {
  vrrp_garp_master_delay 0
}
static_ipaddress {
  192.0.2.200/32 dev eth1
  192.0.2.201/32 dev eth1 no_track
}
static_routes {
  198.18.0.0/24 via 203.0.113.2 dev eth1
  198.18.1.0/24 dev eth1 table 200 metric 5
  blackhole 198.18.2.0/24
  2001:db8:5::/64 via 2001:db8:1::2 dev eth1
  198.18.3.0/24 via 203.0.113.2 dev eth1 no_track
}
static_rules {
  from 192.0.2.200 table 200 priority 200
  to 2001:db8:6::/64 table 200 priority 201
  fwmark 0x20 prohibit priority 202
}
vrrp_instance VI_1 {
  state BACKUP
  interface eth0
  virtual_router_id 51
  priority 100
  advert_int 1
  virtual_ipaddress {
    10.0.0.100/24
  }
  virtual_routes {
    198.19.0.0/24 via 10.0.0.2 dev eth0
    198.19.1.0/24 via 10.0.0.2 dev eth0 table 100 metric 10 src 10.0.0.100
    prohibit 198.19.2.0/24 table 100
    198.19.3.0/24 nexthop via 10.0.0.2 dev eth0 weight 2 nexthop via 10.0.0.3 dev eth0 onlink
    198.19.4.0/24 via 10.0.0.2 dev eth0 mtu lock 1400 advmss 1300 protocol static no_track
    2001:db8:7::/64 via 2001:db8::2 dev eth0 metric 100
    throw 198.19.5.0/24 table 100
    198.19.6.0/24 dev eth0 table 4000 scope link
    unreachable 198.19.7.0/24 table 4000
  }
  virtual_rules {
    from 10.0.0.100 table 100 priority 100
    fwmark 0x10/0xff table 100 priority 101
    to 198.19.9.0/24 blackhole priority 102
    from 2001:db8::100 table 100 priority 103
    iif eth0 uidrange 1000-2000 table main priority 104
    sport 1000-2000 dport 80 ipproto tcp table 100 priority 105
    not from 10.0.0.0/8 goto 300 priority 106
    to 198.19.10.0/24 table 100
  }
}
`;

/** The peer namespace's keepalived: the same VRID at priority 200 on p0 (10.0.0.2). */
const PEER = `vrrp_instance VI_1 {
  state BACKUP
  interface p0
  virtual_router_id 51
  priority 200
  advert_int 1
  virtual_ipaddress {
    10.0.0.100/24
  }
}
`;

type Json = Record<string, unknown>;

/** Everything but what must differ between twin namespaces: link-layer addresses and the IPv6 link-local ones. */
function normalized(twin: Twin, side: Side): Record<string, unknown> {
  const j = (...args: string[]): Json[] => JSON.parse(twin.ip(side, '-j', ...args) || '[]') as Json[];
  const linkLocal = (x: unknown): boolean => typeof x === 'string' && x.startsWith('fe80:');
  const routes = (fam: string): string[] =>
    j(fam, 'route', 'show', 'table', 'all')
      .filter((r) => !linkLocal(r.dst) && !linkLocal(r.prefsrc))
      .map((r) => JSON.stringify(r))
      .sort();
  const addrs = j('addr').map((l) => ({
    ifname: l.ifname,
    flags: l.flags,
    addrs: (l.addr_info as Json[]).filter((a) => !linkLocal(a.local)).map((a) => `${a.local}/${a.prefixlen} ${a.scope}${a.label ? ` ${a.label}` : ''}${a.nodad ? ' nodad' : ''}`).sort(),
  }));
  return { routes4: routes('-4'), routes6: routes('-6'), rules4: j('-4', 'rule'), rules6: j('-6', 'rule'), addrs };
}

function compare(twin: Twin, event: string): Record<string, unknown> {
  const ka = normalized(twin, 'ka');
  assert.deepEqual(normalized(twin, 'lk'), ka, `after ${event}: lvskeeper (actual) differs from keepalived (expected)`);
  return ka;
}

test('virtual and static routes, rules and addresses through start, MASTER, deletions behind the daemon, a higher-priority peer and stop — as keepalived', { timeout: 300_000 }, async (t) => {
  if (!needRoot(t) || !needCommand(t, 'tcpdump') || !needFile(t, '/usr/sbin/keepalived', 'needs keepalived 2.2.7 (apt-get install keepalived)')) return;
  const twin = new Twin('rt');
  const peers: Proc[] = [];
  try {
    twin.both((side) => {
      twin.exec(side, 'sysctl', '-qw', 'net.ipv6.conf.all.accept_dad=0', 'net.ipv6.conf.eth0.accept_dad=0', 'net.ipv6.conf.eth1.accept_dad=0');
      twin.ip(side, 'addr', 'add', '2001:db8::1/64', 'dev', 'eth0', 'nodad');
      twin.ip(side, 'addr', 'add', '2001:db8:1::1/64', 'dev', 'eth1', 'nodad');
    });
    const conf = twin.writeConfig(CONFIG);
    const procs = { ka: twin.start('ka', conf, repoRoot), lk: twin.start('lk', conf, repoRoot) };
    const log = (side: Side): string => procs[side].log;
    const entered = (side: Side, state: string): number => logLines(log(side), new RegExp(`\\(VI_1\\) Entering ${state} STATE`)).length;
    const both = async (cond: (side: Side) => boolean, what: string, ms = 15_000): Promise<void> => {
      for (const side of SIDES) assert.ok(await waitFor(() => cond(side), ms), `${side}: ${what}:\n${log(side)}`);
    };

    // Start: the static entries, nothing virtual yet — each side seen as it enters BACKUP (keepalived starts sooner,
    // and is MASTER before lvskeeper's VRRP process is up on a loaded machine).
    const atStart = await Promise.all(SIDES.map(async (side) => {
      assert.ok(await waitFor(() => entered(side, 'BACKUP') >= 1, 60_000), `${side}: never BACKUP:\n${log(side)}`);
      await new Promise((r) => setTimeout(r, 200));
      return normalized(twin, side);
    }));
    assert.deepEqual(atStart[1], atStart[0], 'at start: lvskeeper (actual) differs from keepalived (expected)');
    const started = atStart[0]!;
    assert.ok((started.routes4 as string[]).some((r) => r.includes('"198.18.0.0/24"')), 'the static route is in');
    assert.ok(!(started.routes4 as string[]).some((r) => r.includes('198.19.')), 'no virtual route before MASTER');

    // MASTER: the VIP, then the virtual routes and rules.
    await both((s) => entered(s, 'MASTER') >= 1, 'never MASTER');
    await new Promise((r) => setTimeout(r, 700));
    const master = compare(twin, 'becoming MASTER');
    assert.ok((master.routes4 as string[]).some((r) => r.includes('"198.19.1.0/24"')), 'virtual routes in as MASTER');
    assert.ok((master.rules4 as Json[]).some((r) => r.priority === 100), 'virtual rules in as MASTER');

    // A static route and static addresses deleted behind the daemon (one of each no_track).
    twin.both((side) => {
      twin.ip(side, 'route', 'del', '198.18.0.0/24', 'table', 'main');
      twin.ip(side, 'route', 'del', '198.18.3.0/24', 'table', 'main');
      twin.ip(side, 'addr', 'del', '192.0.2.200/32', 'dev', 'eth1');
      twin.ip(side, 'addr', 'del', '192.0.2.201/32', 'dev', 'eth1');
      twin.ip(side, 'rule', 'del', 'priority', '200');
    });
    await new Promise((r) => setTimeout(r, 1500));
    const restored = compare(twin, 'deleting static entries');
    // Tracked ones back (IPv4 routes and rules are watched for VI_1's tracked ones), no_track ones not.
    const r4 = (restored.routes4 as string[]).join('\n');
    assert.ok(r4.includes('"198.18.0.0/24"') && !r4.includes('"198.18.3.0/24"'), r4);
    const eth1 = ((restored.addrs as Json[]).find((l) => l.ifname === 'eth1')!.addrs as string[]).join(' ');
    assert.ok(eth1.includes('192.0.2.200/32') && !eth1.includes('192.0.2.201/32'), eth1);
    assert.ok((restored.rules4 as Json[]).some((r) => r.priority === 200), 'static rule restored');

    // A tracked virtual route deleted while MASTER: BACKUP, then MASTER again after Skew_Time.
    twin.both((side) => twin.ip(side, 'route', 'del', '198.19.0.0/24', 'table', 'main'));
    await both((s) => entered(s, 'MASTER') >= 2, 'not MASTER again after the virtual route went');
    await new Promise((r) => setTimeout(r, 700));
    compare(twin, 'deleting a virtual route');
    for (const side of SIDES) assert.equal(entered(side, 'BACKUP'), 2, `${side}: BACKUP once more\n${log(side)}`);

    // A higher-priority peer: BACKUP, virtual routes and rules out before the VIP.
    for (const side of SIDES) {
      const pconf = join(twin.dir, `peer-${side}.conf`);
      writeFileSync(pconf, PEER);
      const child = spawn('ip', ['netns', 'exec', twin.peer(side), '/usr/sbin/keepalived', '-n', '-l', '-P', '-f', pconf,
        '-p', join(twin.dir, `peer-${side}.pid`), '-r', join(twin.dir, `peer-${side}-vrrp.pid`)], { stdio: ['ignore', 'pipe', 'pipe'] });
      const p = new Proc(child, join(twin.dir, `peer-${side}.log`));
      p.vrrpPidFile = join(twin.dir, `peer-${side}-vrrp.pid`);
      peers.push(p);
    }
    await both((s) => entered(s, 'BACKUP') >= 3, 'not BACKUP under the higher-priority peer', 20_000);
    await new Promise((r) => setTimeout(r, 700));
    const backup = compare(twin, 'a higher-priority peer');
    assert.ok(!(backup.routes4 as string[]).some((r) => r.includes('"198.19.1.0/24"')), 'virtual routes out as BACKUP');

    // Stop: static entries removed too.
    for (const side of SIDES) {
      procs[side].signal('SIGTERM');
      await procs[side].exited();
    }
    const stopped = compare(twin, 'stop');
    assert.ok(!(stopped.routes4 as string[]).some((r) => r.includes('198.18.')), 'static routes removed at stop');
  } finally {
    for (const p of peers) p.killHard();
    await Promise.all(peers.map((p) => p.exited()));
    await twin.destroy();
  }
});
