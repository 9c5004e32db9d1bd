// lvskeeper against keepalived 2.2.7 on the same config in twin namespaces (twin-support.ts): the same events on
// both sides, and the addresses, ARP frames and log lines compared.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { needCommand, needFile, needRoot, repoRoot } from '../support/tier.js';
import { waitFor } from './netns-support.js';
import { SIDES, Twin, logLines, type Side } from './twin-support.js';

/** Both prerequisites the twin tests need, besides root. */
function ready(t: Parameters<typeof needRoot>[0]): boolean {
  return needRoot(t) && needCommand(t, 'tcpdump') && needFile(t, '/usr/sbin/keepalived', 'needs keepalived 2.2.7 (apt-get install keepalived)');
}

const sideLog = (procs: Record<Side, { log: string }>, side: Side): string => procs[side].log;

const GLOBALS = 'global_defs {\n  vrrp_garp_master_delay 0\n}\n';

/** A BACKUP instance on eth0 at priority 100, advert_int 1, as both daemons read it. */
function instance(name: string, vrid: number, vips: readonly string[], excluded: readonly string[] = []): string {
  return [`vrrp_instance ${name} {`, '  state BACKUP', '  interface eth0', `  virtual_router_id ${vrid}`, '  priority 100', '  advert_int 1',
    '  virtual_ipaddress {', ...vips.map((v) => `    ${v}`), '  }',
    ...(excluded.length > 0 ? ['  virtual_ipaddress_excluded {', ...excluded.map((v) => `    ${v}`), '  }'] : []), '}', ''].join('\n');
}

// VRRP on eth0 (the private link), VIPs on eth1 (the public one): the first instance is not the last in the file,
// and its VIP is on another device (start-up used to abort with "Multipart message not terminated properly").
const PUBLIC_VIPS = [
  GLOBALS,
  instance('VI_1', 51, ['192.0.2.10/24 dev eth1', '10.0.0.100/24'], ['192.0.2.30/24 dev eth1']),
  instance('VI_2', 52, ['198.51.100.11/24 dev eth1 no_track']),
].join('');

test('VIPs on another device: start-up, GARPs on that device from its MAC, and the device tracked unless no_track — as keepalived', { timeout: 90_000 }, async (t) => {
  if (!ready(t)) return;
  const twin = new Twin('g');
  try {
    const conf = twin.writeConfig(PUBLIC_VIPS);
    const p0 = { ka: await twin.capture('ka', 'p0'), lk: await twin.capture('lk', 'p0') };
    const p1 = { ka: await twin.capture('ka', 'p1'), lk: await twin.capture('lk', 'p1') };
    const procs = { ka: twin.start('ka', conf, repoRoot), lk: twin.start('lk', conf, repoRoot) };
    const masters = (side: Side, n: number): boolean => logLines(sideLog(procs, side), /Entering MASTER STATE/).length >= n;
    for (const side of SIDES) assert.ok(await waitFor(() => masters(side, 2), 10_000), `${side} never had both instances MASTER:\n${sideLog(procs, side)}`);
    // Every burst is out once the frames stop coming (5 per VIP, garp_master_repeat's default).
    for (const side of SIDES) {
      assert.ok(await waitFor(() => ['192.0.2.10', '192.0.2.30', '198.51.100.11'].every((a) => p1[side].garps(a).length >= 5) && p0[side].garps('10.0.0.100').length >= 5, 3000),
        `${side}: GARPs missing:\n${p1[side].lines.join('\n')}\n${p0[side].lines.join('\n')}`);
    }
    await new Promise((r) => setTimeout(r, 300));
    for (const side of SIDES) {
      assert.deepEqual(twin.addrs(side, 'eth0'), ['10.0.0.1/24', '10.0.0.100/24'], side);
      assert.deepEqual(twin.addrs(side, 'eth1'), ['192.0.2.10/24', '192.0.2.30/24', '198.51.100.11/24', '203.0.113.1/24'], side);
      const eth1 = twin.mac(side, 'eth1');
      assert.deepEqual(p1[side].garps('192.0.2.10'), Array(5).fill(eth1), `${side}: GARPs for the public VIP on eth1, from eth1's MAC`);
      assert.deepEqual(p1[side].garps('192.0.2.30'), Array(5).fill(eth1), `${side}: the excluded VIP is announced on its own device too`);
      assert.deepEqual(p1[side].garps('198.51.100.11'), Array(5).fill(eth1), side);
      assert.deepEqual(p0[side].garps('10.0.0.100'), Array(5).fill(twin.mac(side, 'eth0')), side);
      assert.deepEqual(p0[side].garps('192.0.2.10'), [], `${side}: nothing for the public VIP on the VRRP link`);
    }
    const queued = (side: Side): string[] => logLines(sideLog(procs, side), /Sending\/queueing/).sort();
    assert.deepEqual(queued('lk'), queued('ka'));

    // The public link goes down: VI_1 tracks eth1 through its VIP and goes to FAULT; VI_2's VIP says no_track.
    twin.both((side) => twin.ip(side, 'link', 'set', 'eth1', 'down'));
    for (const side of SIDES) assert.ok(await waitFor(() => logLines(sideLog(procs, side), /\(VI_1\) Entering FAULT STATE/).length === 1, 5000), `${side}:\n${sideLog(procs, side)}`);
    await new Promise((r) => setTimeout(r, 500));
    const faults = (side: Side): string[] => logLines(sideLog(procs, side), /FAULT/);
    assert.deepEqual(faults('lk'), faults('ka'));
    assert.deepEqual(twin.addrs('lk', 'eth0'), twin.addrs('ka', 'eth0'));
    assert.deepEqual(twin.addrs('lk', 'eth1'), twin.addrs('ka', 'eth1'));
    assert.deepEqual(twin.addrs('lk', 'eth0'), ['10.0.0.1/24']);

    // Back up: BACKUP, then MASTER after Master_Down_Interval, and a fresh burst on eth1.
    twin.both((side) => twin.ip(side, 'link', 'set', 'eth1', 'up'));
    for (const side of SIDES) assert.ok(await waitFor(() => masters(side, 3) && p1[side].garps('192.0.2.10').length >= 10, 10_000), `${side}:\n${sideLog(procs, side)}`);
    await new Promise((r) => setTimeout(r, 300));
    for (const side of SIDES) assert.equal(p1[side].garps('192.0.2.10').length, 10, side);
    assert.deepEqual(twin.addrs('lk', 'eth1'), twin.addrs('ka', 'eth1'));
    const states = (side: Side): string[] => logLines(sideLog(procs, side), /Entering/);
    assert.deepEqual(states('lk'), states('ka'));
  } finally {
    await twin.destroy();
  }
});

// VI_1 and VI_3 in a sync group, VI_2 alone with a no_track VIP.
const DELETED_VIPS = [
  GLOBALS,
  'vrrp_sync_group G {\n  group {\n    VI_1\n    VI_3\n  }\n}\n',
  instance('VI_1', 51, ['192.0.2.10/24 dev eth1', '10.0.0.100/24']),
  instance('VI_3', 53, ['10.0.0.103/24']),
  instance('VI_2', 52, ['198.51.100.11/24 dev eth1 no_track']),
].join('');

test('a VIP deleted behind the daemon: BACKUP with a priority-0 advert, the sync group along, MASTER again after Skew_Time with the VIP back; a no_track VIP stays deleted — as keepalived', { timeout: 90_000 }, async (t) => {
  if (!ready(t)) return;
  const twin = new Twin('d');
  try {
    const conf = twin.writeConfig(DELETED_VIPS);
    const adverts = { ka: await twin.capture('ka', 'p0', 'vrrp'), lk: await twin.capture('lk', 'p0', 'vrrp') };
    const procs = { ka: twin.start('ka', conf, repoRoot), lk: twin.start('lk', conf, repoRoot) };
    const masters = (side: Side): number => logLines(sideLog(procs, side), /Entering MASTER STATE/).length;
    for (const side of SIDES) assert.ok(await waitFor(() => masters(side) === 3, 10_000), `${side}:\n${sideLog(procs, side)}`);
    await new Promise((r) => setTimeout(r, 300));
    const zeros = (side: Side): string[] => adverts[side].lines.filter((l) => / prio 0,/.test(l)).map((l) => /vrid \d+/.exec(l)?.[0] ?? l).sort();
    for (const side of SIDES) assert.deepEqual(zeros(side), [], side);

    twin.both((side) => twin.ip(side, 'addr', 'del', '192.0.2.10/24', 'dev', 'eth1'));
    for (const side of SIDES) {
      assert.ok(await waitFor(() => masters(side) === 5 && twin.addrs(side, 'eth1').includes('192.0.2.10/24'), 5000), `${side} did not take the VIP back:\n${sideLog(procs, side)}`);
    }
    await new Promise((r) => setTimeout(r, 300));
    for (const side of SIDES) assert.deepEqual(zeros(side), ['vrid 51', 'vrid 53'], `${side}: priority-0 adverts\n${adverts[side].lines.join('\n')}`);
    for (const vi of ['VI_1', 'VI_2', 'VI_3']) {
      const seq = (side: Side): string[] => logLines(sideLog(procs, side), new RegExp(`\\(${vi}\\) (Entering|removing|setting|sent 0)`));
      assert.deepEqual(seq('lk'), seq('ka'), vi);
    }
    assert.deepEqual(logLines(sideLog(procs, 'lk'), /Netlink reflector reports/), logLines(sideLog(procs, 'ka'), /Netlink reflector reports/));
    for (const dev of ['eth0', 'eth1']) assert.deepEqual(twin.addrs('lk', dev), twin.addrs('ka', dev), dev);

    // VI_2's address says no_track: deleting it changes nothing but the address.
    twin.both((side) => twin.ip(side, 'addr', 'del', '198.51.100.11/24', 'dev', 'eth1'));
    await new Promise((r) => setTimeout(r, 2000));
    for (const side of SIDES) {
      assert.equal(masters(side), 5, side);
      assert.deepEqual(twin.addrs(side, 'eth1'), ['192.0.2.10/24', '203.0.113.1/24'], side);
      assert.deepEqual(zeros(side), ['vrid 51', 'vrid 53'], side);
    }
  } finally {
    await twin.destroy();
  }
});

test('sync-group member trackers: a weighted track_script is ignored and a weight-1 track_file turns unweighted — as keepalived', { timeout: 90_000 }, async (t) => {
  if (!ready(t)) return;
  const twin = new Twin('s');
  try {
    const file = `${twin.dir}/tf`;
    writeFileSync(file, '0\n');
    const conf = twin.writeConfig(`global_defs {
  enable_script_security
  script_user root
}
vrrp_script chk_w {
  script "/bin/false"
  interval 1
  weight 20
}
track_file tf {
  file "${file}"
}
vrrp_sync_group G {
  group {
    VI_1
    VI_3
  }
}
vrrp_instance VI_1 {
  state BACKUP
  interface eth0
  virtual_router_id 51
  priority 100
  advert_int 1
  track_script {
    chk_w
  }
  track_file {
    tf
  }
  virtual_ipaddress {
    10.0.0.100/24
  }
}
vrrp_instance VI_3 {
  state BACKUP
  interface eth0
  virtual_router_id 53
  priority 100
  advert_int 1
  virtual_ipaddress {
    10.0.0.103/24
  }
}
`);
    const procs = { ka: twin.start('ka', conf, repoRoot), lk: twin.start('lk', conf, repoRoot) };
    const entered = (side: Side, re: RegExp): number => logLines(sideLog(procs, side), re).length;
    // The failing weighted script is not a fault trigger: both members become MASTER.
    for (const side of SIDES) assert.ok(await waitFor(() => entered(side, /Entering MASTER STATE/) === 2, 10_000), `${side}:\n${sideLog(procs, side)}`);
    for (const side of SIDES) assert.equal(entered(side, /FAULT/), 0, sideLog(procs, side));
    // The track_file's default weight 1 became 0: a non-zero value is a fault, for the whole group.
    writeFileSync(file, '1\n');
    for (const side of SIDES) assert.ok(await waitFor(() => entered(side, /Entering FAULT STATE/) === 2, 5000), `${side}:\n${sideLog(procs, side)}`);
    await new Promise((r) => setTimeout(r, 300));
    for (const vi of ['VI_1', 'VI_3']) {
      const seq = (side: Side): string[] => logLines(sideLog(procs, side), new RegExp(`\\(${vi}\\) Entering`));
      assert.deepEqual(seq('lk'), seq('ka'), vi);
    }
    assert.deepEqual(twin.addrs('lk', 'eth0'), twin.addrs('ka', 'eth0'));
    assert.deepEqual(twin.addrs('lk', 'eth0'), ['10.0.0.1/24']);
  } finally {
    await twin.destroy();
  }
});

test('promote_secondaries: switched on for the instance\'s interface while running and back off at stop, unless it was on already — as keepalived', { timeout: 90_000 }, async (t) => {
  if (!ready(t)) return;
  const twin = new Twin('p');
  try {
    const conf = twin.writeConfig(`vrrp_instance VI_1 {
  state BACKUP
  interface eth0
  virtual_router_id 51
  priority 100
  advert_int 1
  promote_secondaries
  virtual_ipaddress {
    10.0.0.100/24
  }
}
vrrp_instance VI_2 {
  state BACKUP
  interface eth0
  virtual_router_id 52
  priority 100
  advert_int 1
  promote_secondaries
  virtual_ipaddress {
    10.0.0.101/24
  }
}
`);
    const sysctl = (side: Side, dev: string): string => twin.exec(side, 'cat', `/proc/sys/net/ipv4/conf/${dev}/promote_secondaries`).trim();
    const run = async (): Promise<Record<Side, string>> => {
      const procs = { ka: twin.start('ka', conf, repoRoot), lk: twin.start('lk', conf, repoRoot) };
      for (const side of SIDES) assert.ok(await waitFor(() => logLines(sideLog(procs, side), /Entering BACKUP STATE \(init\)/).length === 2, 10_000), sideLog(procs, side));
      const running = { ka: sysctl('ka', 'eth0'), lk: sysctl('lk', 'eth0') };
      for (const side of SIDES) {
        procs[side].signal('SIGTERM');
        await procs[side].exited();
      }
      return running;
    };
    assert.deepEqual(await run(), { ka: '1', lk: '1' });
    for (const side of SIDES) assert.deepEqual([sysctl(side, 'eth0'), sysctl(side, 'eth1')], ['0', '0'], side);
    // Already on: left on.
    twin.both((side) => twin.exec(side, 'sysctl', '-qw', 'net.ipv4.conf.eth0.promote_secondaries=1'));
    assert.deepEqual(await run(), { ka: '1', lk: '1' });
    for (const side of SIDES) assert.equal(sysctl(side, 'eth0'), '1', side);
  } finally {
    await twin.destroy();
  }
});

test('vrrp_garp_interval spaces the GARPs on an interface; vrrp_min_garp sends one per VIP and no second burst — as keepalived', { timeout: 120_000 }, async (t) => {
  if (!ready(t)) return;
  const twin = new Twin('i');
  const instance = `vrrp_instance VI_1 {
  state BACKUP
  interface eth0
  virtual_router_id 51
  priority 100
  advert_int 1
  virtual_ipaddress {
    10.0.0.100/24
    10.0.0.101/24
  }
}
`;
  const vips = ['10.0.0.100', '10.0.0.101'];
  try {
    const spacedOrder: Record<Side, string[]> = { ka: [], lk: [] };
    const run = async (globals: string, settleMs: number): Promise<Record<Side, number[]>> => {
      const conf = twin.writeConfig(`global_defs {\n${globals}\n}\n${instance}`);
      const cap = { ka: await twin.capture('ka', 'p0'), lk: await twin.capture('lk', 'p0') };
      const procs = { ka: twin.start('ka', conf, repoRoot), lk: twin.start('lk', conf, repoRoot) };
      for (const side of SIDES) assert.ok(await waitFor(() => logLines(sideLog(procs, side), /Entering MASTER STATE/).length === 1, 10_000), sideLog(procs, side));
      await new Promise((r) => setTimeout(r, settleMs));
      for (const side of SIDES) {
        procs[side].signal('SIGTERM');
        await procs[side].exited();
      }
      for (const side of SIDES) spacedOrder[side] = cap[side].lines.flatMap((l) => /who-has (\S+)/.exec(l)?.[1] ?? []);
      return { ka: cap.ka.garpTimes(vips), lk: cap.lk.garpTimes(vips) };
    };
    const spaced = await run('  vrrp_garp_master_delay 0\n  vrrp_garp_interval 0.2', 2500);
    // A burst's repeats collapse into one queued frame per address: the first goes at once, then one of each.
    for (const side of SIDES) {
      assert.equal(spaced[side].length, 3, `${side}: ${spaced[side].join(' ')}`);
      const gaps = spaced[side].slice(1).map((x, i) => x - spaced[side][i]!);
      assert.ok(Math.min(...gaps) >= 190 && Math.max(...gaps) < 600, `${side}: gaps ${gaps.join(' ')}`);
    }
    assert.deepEqual(spacedOrder.lk, spacedOrder.ka);
    const min = await run('  vrrp_min_garp', 6000);
    assert.deepEqual({ ka: min.ka.length, lk: min.lk.length }, { ka: 2, lk: 2 });
  } finally {
    await twin.destroy();
  }
});

test('vrrp_startup_delay: logged, and a lone BACKUP takes MASTER only a Master_Down_Interval after the delay ends — as keepalived', { timeout: 60_000 }, async (t) => {
  if (!ready(t)) return;
  const twin = new Twin('d');
  try {
    // Master_Down_Interval at priority 100, advert_int 1: 3 × 1 s + (256 − 100) / 256 s = 3.61 s.
    const conf = twin.writeConfig(`global_defs {\n  vrrp_garp_master_delay 0\n  vrrp_startup_delay 3\n}\n${instance('VI_1', 51, ['10.0.0.100/24'])}`);
    const startedAt = Date.now();
    const procs = { ka: twin.start('ka', conf, repoRoot), lk: twin.start('lk', conf, repoRoot) };
    const tookOver: Partial<Record<Side, number>> = {};
    assert.ok(await waitFor(() => {
      for (const side of SIDES) if (tookOver[side] === undefined && logLines(sideLog(procs, side), /Entering MASTER STATE/).length > 0) tookOver[side] = Date.now() - startedAt;
      return SIDES.every((side) => tookOver[side] !== undefined);
    }, 20_000), `${sideLog(procs, 'ka')}\n${sideLog(procs, 'lk')}`);
    for (const side of SIDES) {
      assert.deepEqual(logLines(sideLog(procs, side), /Delaying startup/), ['Delaying startup for 3 seconds'], side);
      // Without the delay it would be 3.61 s after start; with it, 6.61 s.
      assert.ok(tookOver[side]! >= 6400, `${side} took MASTER ${tookOver[side]} ms after start`);
    }
  } finally {
    await twin.destroy();
  }
});

test('startup_script before anything starts, shutdown_script after the VIPs are gone, with their exit status logged — as keepalived', { timeout: 60_000 }, async (t) => {
  if (!ready(t)) return;
  const twin = new Twin('s');
  try {
    // Each run appends what it saw — the VIP present or not — to a file named for its namespace.
    const script = join(twin.dir, 'startstop.sh');
    writeFileSync(script, `#!/bin/sh\nip -4 -br addr show dev eth0 | grep -q 10.0.0.100 && vip=held || vip=absent\necho "$1 $vip" >> ${twin.dir}/$(ip netns identify)\nexit $2\n`);
    chmodSync(script, 0o755);
    const conf = twin.writeConfig(`global_defs {\n  vrrp_garp_master_delay 0\n  startup_script "${script} startup 3"\n  shutdown_script "${script} shutdown 0"\n}\n` +
      instance('VI_1', 51, ['10.0.0.100/24']).replace('priority 100', 'priority 255'));
    const procs = { ka: twin.start('ka', conf, repoRoot), lk: twin.start('lk', conf, repoRoot) };
    for (const side of SIDES) assert.ok(await waitFor(() => logLines(sideLog(procs, side), /Entering MASTER STATE/).length === 1, 10_000), sideLog(procs, side));
    for (const side of SIDES) {
      procs[side].signal('SIGTERM');
      await procs[side].exited();
    }
    const runs = (side: Side): string => readFileSync(join(twin.dir, twin.ns(side)), 'utf8');
    assert.equal(runs('ka'), 'startup absent\nshutdown absent\n');
    assert.equal(runs('lk'), runs('ka'));
    // lvskeeper prefixes a config diagnostic with its level and file, as it does every other.
    const lines = (side: Side): string[] => logLines(sideLog(procs, side), /startup script|shutdown script/).map((l) => l.replace(/^WARN: \S+: /, ''));
    assert.deepEqual(lines('ka'), [
      'SECURITY VIOLATION - start/shutdown scripts are being executed but script_security not enabled.',
      `Running startup script ${script}`,
      'startup script script failed, status 3',
      `Running shutdown script ${script}`,
      'shutdown script script succeeded',
    ]);
    assert.deepEqual(lines('lk'), lines('ka'));
  } finally {
    await twin.destroy();
  }
});
