// vrrp_strict / no_accept against keepalived 2.2.7 in twin namespaces (twin-support.ts): the nftables ruleset each
// daemon leaves after start, as MASTER, as BACKUP and after stop (`nft -j list ruleset`, handles and counters
// aside), and what happens to real traffic to the VIPs from the peer namespace.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { needCommand, needFile, needRoot, repoRoot } from '../support/tier.js';
import { waitFor } from './netns-support.js';
import { SIDES, Twin, logLines, type Side } from './twin-support.js';

function ready(t: Parameters<typeof needRoot>[0]): boolean {
  return needRoot(t) && needCommand(t, 'tcpdump') && needCommand(t, 'nft', 'nftables') &&
    needFile(t, '/usr/sbin/keepalived', 'needs keepalived 2.2.7 (apt-get install keepalived)');
}

// VI_1: VRRPv2, no accept mode (strict's default); VI_3: VRRPv3 with accept; VI_6: IPv6, a global and a link-local
// VIP (the ip6 table, its link-local chains). The counters and a priority show those keywords through; the startup
// delay leaves time to see each side in BACKUP before it becomes MASTER.
const CONFIG = `global_defs {
  vrrp_strict
  nftables_counters
  nftables_priority -5
  vrrp_garp_master_delay 0
  vrrp_startup_delay 4
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
  virtual_ipaddress_excluded {
    10.0.0.101
  }
}
vrrp_instance VI_3 {
  state BACKUP
  interface eth0
  version 3
  accept
  virtual_router_id 53
  priority 100
  advert_int 1
  virtual_ipaddress {
    10.0.0.103/24
  }
}
vrrp_instance VI_6 {
  state BACKUP
  interface eth0
  virtual_router_id 56
  priority 100
  advert_int 1
  virtual_ipaddress {
    2001:db8::100/64
    fe80::100/64
  }
}
`;

// Another router on the link, higher priority for VI_1 only.
const PEER = `vrrp_instance P_1 {
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

/**
 * The ruleset as JSON, without what differs between any two namespaces (handles, counter values) and with the ip
 * table before the ip6 one (their order is which instance became MASTER first), each table's listing in its order.
 */
function ruleset(twin: Twin, side: Side): unknown[] {
  const strip = (o: unknown): unknown => {
    if (Array.isArray(o)) return o.map(strip);
    if (o === null || typeof o !== 'object') return o;
    return Object.fromEntries(Object.entries(o).filter(([k]) => k !== 'handle').map(([k, v]) => [k, k === 'packets' || k === 'bytes' ? 0 : strip(v)]));
  };
  const j = JSON.parse(twin.exec(side, 'nft', '-j', 'list', 'ruleset')) as { nftables: unknown[] };
  const family = (e: unknown): string => (Object.values(e as object)[0] as { family: string }).family;
  return (strip(j.nftables) as unknown[]).filter((e) => !('metainfo' in (e as object))).sort((a, b) => family(a).localeCompare(family(b)));
}

const tables = (rules: unknown[]): string[] =>
  rules.flatMap((e) => ('table' in (e as object) ? [`${(e as { table: { family: string } }).table.family} ${(e as { table: { name: string } }).table.name}`] : []));

/** Whether the peer reaches `address`: a ping, and a TCP connection to the router's listener. */
function reaches(twin: Twin, side: Side, address: string): { ping: boolean; tcp: boolean } {
  return {
    ping: twin.execPeer(side, 'ping', '-c', '1', '-W', '1', address) === 0,
    tcp: twin.execPeer(side, 'timeout', '2', 'bash', '-c', `exec 3<>/dev/tcp/${address}/7777`) === 0,
  };
}

test('vrrp_strict no_accept: nftables drop rules at MASTER, their elements out at BACKUP, tables gone at stop; VIP traffic dropped unless accept — as keepalived', { timeout: 120_000 }, async (t) => {
  if (!ready(t)) return;
  const twin = new Twin('st');
  const listeners: ReturnType<typeof spawn>[] = [];
  try {
    const conf = twin.writeConfig(CONFIG);
    const peerConf = join(twin.dir, 'peer.conf');
    writeFileSync(peerConf, PEER);
    for (const side of SIDES) {
      twin.exec(side, 'sysctl', '-qw', 'net.ipv6.conf.all.accept_dad=0', 'net.ipv6.conf.eth0.accept_dad=0');
      // Left behind by an earlier run: deleted when the rules are first set up.
      twin.exec(side, 'nft', 'add table ip keepalived; add chain ip keepalived leftover');
      listeners.push(spawn('ip', ['netns', 'exec', twin.ns(side), process.execPath, '-e', "require('net').createServer((s) => s.end()).listen(7777)"], { stdio: 'ignore' }));
    }
    const procs = { ka: twin.start('ka', conf, repoRoot), lk: twin.start('lk', conf, repoRoot) };
    const log = (side: Side): string => procs[side].log;
    const count = (side: Side, re: RegExp): number => logLines(log(side), re).length;

    // Start: BACKUP, nothing set up yet (the old table still there).
    const atStart: Partial<Record<Side, unknown[]>> = {};
    for (const side of SIDES) {
      assert.ok(await waitFor(() => count(side, /Entering BACKUP STATE/) === 3, 20_000), `${side}:\n${log(side)}`);
      atStart[side] = ruleset(twin, side);
      assert.equal(count(side, /Entering MASTER STATE/), 0, `${side} was MASTER before its ruleset was read`);
    }
    assert.deepEqual(atStart.lk, atStart.ka);
    assert.deepEqual(tables(atStart.ka!), ['ip keepalived']);

    // MASTER: the tables, chains, sets and rules, the VIPs of VI_1 and VI_6 in the sets (VI_3 accepts).
    for (const side of SIDES) assert.ok(await waitFor(() => count(side, /Entering MASTER STATE/) === 3, 20_000), `${side}:\n${log(side)}`);
    for (const side of SIDES) {
      assert.ok(await waitFor(() => JSON.stringify(ruleset(twin, side)).includes('2001:db8::100') && JSON.stringify(ruleset(twin, side)).includes('10.0.0.101'), 5000), side);
    }
    const master = ruleset(twin, 'ka');
    assert.deepEqual(ruleset(twin, 'lk'), master);
    assert.deepEqual(tables(master).sort(), ['ip keepalived', 'ip6 keepalived']);
    assert.ok(!JSON.stringify(master).includes('leftover'), 'the old table was deleted');
    assert.ok(!JSON.stringify(master).includes('10.0.0.103'), 'VI_3 is in accept mode');
    const fwLines = (side: Side): string[] => logLines(log(side), /firewall|Deleting old|using nftables/).sort();
    // The log can trail the kernel under load: wait for the lines to come.
    for (const side of SIDES) await waitFor(() => fwLines(side).includes('Deleting old ip keepalived table'), 5000);
    assert.deepEqual(fwLines('lk'), fwLines('ka'), log('lk'));
    assert.ok(fwLines('ka').includes('Deleting old ip keepalived table'), fwLines('ka').join('\n'));

    // Real traffic from the peer: dropped to the no_accept VIP, answered on the accept one.
    const seen = Object.fromEntries(SIDES.map((s) => [s, { vi1: reaches(twin, s, '10.0.0.100'), vi3: reaches(twin, s, '10.0.0.103'), own: reaches(twin, s, '10.0.0.1') }]));
    assert.deepEqual(seen['lk'], seen['ka']);
    assert.deepEqual(seen['ka'], { vi1: { ping: false, tcp: false }, vi3: { ping: true, tcp: true }, own: { ping: true, tcp: true } });

    // BACKUP: a higher-priority router takes VI_1; its VIPs leave the set, the tables stay.
    const peers = { ka: twin.startPeerKeepalived('ka', peerConf), lk: twin.startPeerKeepalived('lk', peerConf) };
    for (const side of SIDES) assert.ok(await waitFor(() => count(side, /\(VI_1\) Entering BACKUP STATE/) === 2, 15_000), `${side}:\n${log(side)}\n${peers[side].log}`);
    for (const side of SIDES) assert.ok(await waitFor(() => !JSON.stringify(ruleset(twin, side)).includes('10.0.0.101'), 5000), side);
    const backup = ruleset(twin, 'ka');
    assert.deepEqual(ruleset(twin, 'lk'), backup);
    assert.deepEqual(tables(backup).sort(), ['ip keepalived', 'ip6 keepalived']);
    assert.ok(!JSON.stringify(backup).includes('10.0.0.100'));

    // Stop: both tables deleted.
    for (const side of SIDES) procs[side].signal('SIGTERM');
    await Promise.all(SIDES.map((s) => procs[s].exited()));
    assert.deepEqual(ruleset(twin, 'lk'), ruleset(twin, 'ka'));
    assert.deepEqual(ruleset(twin, 'ka'), []);
  } finally {
    for (const l of listeners) l.kill('SIGKILL');
    await twin.destroy();
  }
});

// use_vmac under vrrp_strict: VI_4 (IPv4, an IPv6 eVIP: VRRP_FLAG_EVIP_OTHER_FAMILY) and VI_6 (IPv6), each on a VMAC.
const VMAC_CONFIG = `global_defs {
  vrrp_strict
  nftables_counters
  vrrp_garp_master_delay 0
  vrrp_startup_delay 3
}
vrrp_instance VI_4 {
  state BACKUP
  interface eth0
  use_vmac
  virtual_router_id 41
  priority 100
  advert_int 1
  virtual_ipaddress {
    10.0.0.100/24
  }
  virtual_ipaddress_excluded {
    2001:db8::5/64
  }
}
vrrp_instance VI_6 {
  state BACKUP
  interface eth0
  use_vmac
  virtual_router_id 46
  priority 100
  advert_int 1
  virtual_ipaddress {
    2001:db8::100/64
  }
}
`;

test('vrrp_strict use_vmac: the IGMP / MLD rules and vmac_map / vmac_set elements from start, beside the drop rules at MASTER, gone at stop — as keepalived', { timeout: 90_000 }, async (t) => {
  if (!ready(t)) return;
  const twin = new Twin('wtfvn');
  try {
    const conf = twin.writeConfig(VMAC_CONFIG);
    for (const side of SIDES) twin.exec(side, 'sysctl', '-qw', 'net.ipv6.conf.all.accept_dad=0', 'net.ipv6.conf.eth0.accept_dad=0');
    const procs = { ka: twin.start('ka', conf, repoRoot), lk: twin.start('lk', conf, repoRoot) };
    const log = (side: Side): string => procs[side].log;
    const count = (side: Side, re: RegExp): number => logLines(log(side), re).length;

    // Start: the VMACs made, their elements in both families' maps, no VIP yet.
    const atStart: Partial<Record<Side, unknown[]>> = {};
    for (const side of SIDES) {
      assert.ok(await waitFor(() => count(side, /Entering BACKUP STATE/) === 2, 20_000), `${side}:\n${log(side)}`);
      atStart[side] = ruleset(twin, side);
      assert.equal(count(side, /Entering MASTER STATE/), 0, `${side} was MASTER before its ruleset was read`);
    }
    assert.deepEqual(atStart.lk, atStart.ka);
    const start = JSON.stringify(atStart.ka);
    assert.deepEqual(tables(atStart.ka!).sort(), ['ip keepalived', 'ip6 keepalived']);
    for (const s of ['vmac_map', 'vmac_set', '"vrrp.41","eth0"', '"vrrp.46","eth0"', 'oifkind', 'dup']) assert.ok(start.includes(s), `${s} in ${start}`);

    // MASTER: the drop rules and VIPs join them.
    for (const side of SIDES) assert.ok(await waitFor(() => count(side, /Entering MASTER STATE/) === 2, 20_000), `${side}:\n${log(side)}`);
    for (const side of SIDES) {
      assert.ok(await waitFor(() => ['10.0.0.100', '2001:db8::5', '2001:db8::100'].every((a) => JSON.stringify(ruleset(twin, side)).includes(a)), 5000), side);
    }
    assert.deepEqual(ruleset(twin, 'lk'), ruleset(twin, 'ka'));
    // The drop rules' own lines aside: lvskeeper removes leftover VIPs at start even from a VMAC it just made.
    const fwLines = (side: Side): string[] => logLines(log(side), /Deleting old|using nftables/);
    assert.deepEqual(fwLines('lk'), fwLines('ka'), log('lk'));

    // Stop: the VMACs' elements out, the tables deleted.
    for (const side of SIDES) procs[side].signal('SIGTERM');
    await Promise.all(SIDES.map((s) => procs[s].exited()));
    assert.deepEqual(ruleset(twin, 'lk'), ruleset(twin, 'ka'));
    assert.deepEqual(ruleset(twin, 'ka'), []);
  } finally {
    await twin.destroy();
  }
});
