// vrrp_track_process and net_namespace against keepalived 2.2.7 (twin-support.ts): both daemons started in the root
// namespace with a config naming the side's namespace, real processes started and stopped under the tracked name,
// and compared: the VRRP states the notify script saw (and in which namespace it ran), the priorities in the
// captured adverts, where the VIP lands, and the pid files' paths.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { tmpdir } from 'node:os';
import { chmodSync, copyFileSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { needCommand, needFile, needRoot, repoRoot } from '../support/tier.js';
import { waitFor } from './netns-support.js';
import { SIDES, Twin, type Capture, type Side } from './twin-support.js';

const config = (ns: string, notify: string): string => `net_namespace ${ns}
global_defs {
  vrrp_garp_master_delay 0
  script_user root
}
vrrp_track_process np_quorum {
  process np-tracked
  quorum 1
  quorum_max 2
  terminate_delay 1.5
}
vrrp_track_process np_weight {
  process np-weighted
  weight 20
}
vrrp_instance VI_1 {
  state BACKUP
  interface eth0
  virtual_router_id 51
  priority 100
  advert_int 1
  track_process {
    np_quorum
    np_weight
  }
  notify ${notify}
  virtual_ipaddress {
    10.0.0.100/24
  }
}
`;

/** The priorities of the adverts tcpdump saw, in order, repeats folded. */
function priorities(c: Capture): number[] {
  const all = c.lines.flatMap((l) => /VRRPv2, Advertisement, vrid 51, prio (\d+)/.exec(l)?.[1] ?? []).map(Number);
  return all.filter((p, i) => p !== all[i - 1]);
}

test('track_process under net_namespace: quorum, quorum_max, weight and terminate_delay, as keepalived', { timeout: 120_000 }, async (t) => {
  if (!needRoot(t) || !needCommand(t, 'tcpdump') || !needFile(t, '/usr/sbin/keepalived', 'needs keepalived 2.2.7 (apt-get install keepalived)')) return;
  const twin = new Twin('np');
  const procs: ChildProcess[] = [];
  try {
    // Processes named as the config says: comm is the name of the file run.
    const tracked = join(twin.dir, 'np-tracked');
    const weighted = join(twin.dir, 'np-weighted');
    copyFileSync('/bin/sleep', tracked);
    copyFileSync('/bin/sleep', weighted);
    chmodSync(tracked, 0o755);
    chmodSync(weighted, 0o755);
    const run = (file: string): ChildProcess => {
      const c = spawn(file, ['300'], { stdio: 'ignore' });
      procs.push(c);
      return c;
    };
    const notified: Record<Side, string> = { ka: join(twin.dir, 'ka.notify'), lk: join(twin.dir, 'lk.notify') };
    const caps: Partial<Record<Side, Capture>> = {};
    for (const side of SIDES) {
      const script = join(twin.dir, `${side}-notify.sh`);
      writeFileSync(script, `#!/bin/sh\necho "$1 $2 $3 $(ip netns identify)" >> ${notified[side]}\n`);
      chmodSync(script, 0o755);
      writeFileSync(join(twin.dir, `${side}.conf`), config(twin.ns(side), script));
      caps[side] = await twin.capture(side, 'p0', 'vrrp');
    }
    const states = (side: Side): string[] => {
      const text = existsSync(notified[side]) ? readFileSync(notified[side], 'utf8') : '';
      return text.split('\n').filter((l) => l).map((l) => l.replace(twin.ns(side), 'NS'));
    };
    const last = (side: Side): string | undefined => states(side).at(-1);
    const both = (want: string, ms: number): Promise<boolean> => waitFor(() => SIDES.every((s) => last(s) === want), ms);

    // Nothing named np-tracked runs: no quorum, FAULT (the weight 0 tracker).
    const daemons = { ka: twin.start('ka', join(twin.dir, 'ka.conf'), repoRoot, true), lk: twin.start('lk', join(twin.dir, 'lk.conf'), repoRoot, true) };
    assert.ok(await both('INSTANCE VI_1 FAULT NS', 15_000), `FAULT first: ${JSON.stringify({ ka: states('ka'), lk: states('lk') })}\n${daemons.lk.log}`);

    // Pid files: keepalived's in /run/keepalived/NS/, lvskeeper's in /run/lvskeeper/NS/.
    const pidFiles = (dir: string, main: string): Promise<boolean> => waitFor(() => existsSync(join(dir, main)) && existsSync(join(dir, 'vrrp.pid')), 5000);
    const list = (dir: string): string => (existsSync(dir) ? readdirSync(dir).join(' ') : 'none');
    assert.ok(await pidFiles(`/run/keepalived/${twin.ns('ka')}`, 'keepalived.pid'), list(`/run/keepalived/${twin.ns('ka')}`));
    assert.ok(await pidFiles(`/run/lvskeeper/${twin.ns('lk')}`, 'lvskeeper.pid'), list(`/run/lvskeeper/${twin.ns('lk')}`));

    // One np-tracked: quorum gained, BACKUP, then MASTER with the VIP in the namespace.
    const first = run(tracked);
    assert.ok(await both('INSTANCE VI_1 MASTER NS', 15_000), JSON.stringify({ ka: states('ka'), lk: states('lk') }));
    for (const side of SIDES) assert.deepEqual(twin.addrs(side, 'eth0'), ['10.0.0.1/24', '10.0.0.100/24'], side);

    // np-weighted running: +20 in the adverts.
    const w = run(weighted);
    assert.ok(await waitFor(() => SIDES.every((s) => priorities(caps[s]!).at(-1) === 120), 10_000), JSON.stringify({ ka: priorities(caps.ka!), lk: priorities(caps.lk!) }));
    w.kill('SIGKILL');
    assert.ok(await waitFor(() => SIDES.every((s) => priorities(caps[s]!).at(-1) === 100), 10_000), JSON.stringify({ ka: priorities(caps.ka!), lk: priorities(caps.lk!) }));

    // Three np-tracked: above quorum_max, FAULT at once (no fork_delay).
    run(tracked);
    const third = run(tracked);
    assert.ok(await both('INSTANCE VI_1 FAULT NS', 10_000), JSON.stringify({ ka: states('ka'), lk: states('lk') }));
    // Back to two: quorum again after terminate_delay, not before.
    third.kill('SIGKILL');
    await new Promise((r) => setTimeout(r, 700));
    for (const side of SIDES) assert.equal(last(side), 'INSTANCE VI_1 FAULT NS', `${side}: terminate_delay holds the FAULT`);
    assert.ok(await both('INSTANCE VI_1 MASTER NS', 15_000), JSON.stringify({ ka: states('ka'), lk: states('lk') }));
    // The MASTER's adverts reach each capture some time after its notify line.
    assert.ok(await waitFor(() => SIDES.every((s) => priorities(caps[s]!).at(-1) === 100), 10_000), JSON.stringify({ ka: priorities(caps.ka!), lk: priorities(caps.lk!) }));
    first.kill('SIGKILL');

    assert.deepEqual(states('lk'), states('ka'));
    assert.deepEqual(priorities(caps.lk!), priorities(caps.ka!));
    assert.match(daemons.lk.log, /Quorum gained for tracked process np_quorum/);
    assert.match(daemons.ka.log, /Quorum gained for tracked process np_quorum/);
  } finally {
    for (const c of procs) c.kill('SIGKILL');
    await twin.destroy();
    // Both daemons were SIGKILLed: their namespaced pid directories are left behind.
    rmSync(`/run/keepalived/${twin.ns('ka')}`, { recursive: true, force: true });
    rmSync(`/run/lvskeeper/${twin.ns('lk')}`, { recursive: true, force: true });
  }
});

test('net_namespace at -t: interfaces looked up inside the namespace, a missing namespace stops the test at 0 — as keepalived', { timeout: 60_000 }, (t) => {
  if (!needRoot(t) || !needFile(t, '/usr/sbin/keepalived', 'needs keepalived 2.2.7 (apt-get install keepalived)')) return;
  const ns = 'np-cfgtest';
  spawnSync('ip', ['netns', 'del', ns], { stdio: 'ignore' });
  const dir = mkdtempSync(join(tmpdir(), 'np-t-'));
  try {
    assert.equal(spawnSync('ip', ['netns', 'add', ns]).status, 0);
    assert.equal(spawnSync('ip', ['-n', ns, 'link', 'add', 'np0', 'type', 'veth', 'peer', 'name', 'np1']).status, 0);
    const status = (cmd: string[], conf: string): number | null => spawnSync(cmd[0]!, [...cmd.slice(1), '-t', '-f', conf], { encoding: 'utf8' }).status;
    const cases: [string, string][] = [['np-cfgtest', 'np0'], ['np-cfgtest', 'eth0'], ['np-missing', 'np0']];
    for (const [name, ifname] of cases) {
      const conf = join(dir, 'keepalived.conf');
      writeFileSync(conf, `net_namespace ${name}\nvrrp_instance VI_1 {\n interface ${ifname}\n virtual_router_id 1\n priority 100\n virtual_ipaddress {\n  10.9.9.9\n }\n}\n`);
      const ka = status(['/usr/sbin/keepalived', '-l'], conf);
      const lk = status([process.execPath, join(repoRoot, 'dist/bin/lvskeeper.js')], conf);
      assert.equal(lk, ka, `${name} ${ifname}`);
    }
  } finally {
    spawnSync('ip', ['netns', 'del', ns], { stdio: 'ignore' });
    rmSync(dir, { recursive: true, force: true });
  }
});
