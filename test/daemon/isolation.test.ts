// VRRP never starves: lvskeeper is the VRRPv3 MASTER (advert_int 0.1) with 30,000 real servers and keepalived 2.2.7
// its BACKUP. Whatever the checker side goes through — reloads of the whole config, a backend that streams without
// end, its process killed, hung or out of heap — keepalived must never take over (Master_Down_Interval is 0.36 s).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { needCommand, needRoot, repoRoot } from '../support/tier.js';
import { Topology, type Proc } from '../vrrp/netns-support.js';
import { AdvertCapture, daemonLines, largeConfig, masterEntries, pidIn, startBackend, startPair, until } from './isolation-support.js';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const count = (p: Proc, re: RegExp): number => (p.log.match(new RegExp(re, 'g')) ?? []).length;

function prerequisites(t: Parameters<typeof needRoot>[0]): boolean {
  return needRoot(t) && needCommand(t, '/usr/sbin/keepalived', 'keepalived') && needCommand(t, 'tcpdump');
}

test('30,000 real servers: reloads, an endless body, a killed and a hung checker process never let the peer take over; SIGTERM stops in 1 s', { timeout: 600_000 }, async (t) => {
  if (!prerequisites(t)) return;
  const topo = new Topology('iso');
  t.after(() => topo.destroy());
  const acceptor = startBackend(topo, 'acceptor');
  const endless = startBackend(topo, 'endless');
  t.after(() => {
    acceptor.kill('SIGKILL');
    endless.kill('SIGKILL');
  });
  const config = largeConfig({ advertInt: '0.1', virtualServers: 300, realServersPerVs: 100, delayLoop: 60, endlessBackend: true });
  const { ka, lvsk } = await startPair(topo, config, { advertInt: '0.1', args: ['--child-timeout', '3'], repoRoot });
  const capture = new AdvertCapture(topo);
  await capture.ready;
  const takeovers = masterEntries(ka);
  const checkersPid = join(topo.dir, 'lvsk-a-checkers.pid');
  const vrrpPid = pidIn(join(topo.dir, 'lvsk-a-vrrp.pid'));

  // (a) Three reloads of the whole file: the checker child parses and diffs 30,000 servers each time.
  for (let i = 1; i <= 3; i++) {
    lvsk.signal('SIGHUP');
    await until(`reload ${i}`, 300_000, () => count(lvsk, /Reload done in \d+ ms/) >= i, lvsk);
  }
  // (b) The endless body has been streaming since the start; give it 15 s more of checks.
  await sleep(15_000);
  // (c) The checker process killed: respawned, and VRRP does not notice.
  assert.ok(!/Healthcheck child process\(\d+\) died/.test(lvsk.log), `the checker process died by itself:\n${daemonLines(lvsk)}`);
  const first = pidIn(checkersPid);
  process.kill(first, 'SIGKILL');
  await until('the respawn', 30_000, () => lvsk.log.includes(`Healthcheck child process(${first}) died: Respawning`), lvsk);
  await until('the new checker process to take over the pid file', 300_000, () => pidIn(checkersPid) !== first, lvsk);
  // (e) The checker process hung: no heartbeat for --child-timeout (3 s), killed and respawned.
  const second = pidIn(checkersPid);
  process.kill(second, 'SIGSTOP');
  await until('the hang to be noticed', 30_000, () => lvsk.log.includes(`Healthcheck child process(${second}) not responding`), lvsk);
  await until('the respawn after the hang', 300_000, () => pidIn(checkersPid) !== second, lvsk);
  await sleep(2_000);

  assert.equal(masterEntries(ka), takeovers, `keepalived took over:\n${ka.log.slice(-2000)}`);
  assert.ok(topo.holds('a') && !topo.holds('b'));
  assert.equal(pidIn(join(topo.dir, 'lvsk-a-vrrp.pid')), vrrpPid, 'the VRRP process is the one that started');
  assert.ok(capture.times.length > 100, `adverts seen: ${capture.times.length}`);
  await capture.stop();

  // Graceful stop within a second: priority-0 advert, VIP removed, every process gone.
  const t0 = performance.now();
  lvsk.signal('SIGTERM');
  await lvsk.exited();
  const stopMs = performance.now() - t0;
  assert.ok(stopMs <= 1000, `SIGTERM to exit took ${stopMs.toFixed(0)} ms`);
  assert.equal(lvsk.child.exitCode, 0);
  assert.ok(!topo.holds('a'));
  await until('keepalived to take over after the priority-0 advert', 5_000, () => topo.holds('b'));
});

test('a checker process that runs out of heap on every start is respawned with a delay; VRRP holds', { timeout: 600_000 }, async (t) => {
  if (!prerequisites(t)) return;
  const topo = new Topology('oom');
  t.after(() => topo.destroy());
  const acceptor = startBackend(topo, 'acceptor');
  t.after(() => acceptor.kill('SIGKILL'));
  // 64 MiB of old space holds the supervisor, the VRRP process and a small config, not 30,000 servers.
  const small = largeConfig({ advertInt: '0.1', virtualServers: 1, realServersPerVs: 10, delayLoop: 60 });
  const { ka, lvsk } = await startPair(topo, small, { advertInt: '0.1', env: { NODE_OPTIONS: '--max-old-space-size=64' }, repoRoot });
  const takeovers = masterEntries(ka);
  writeFileSync(join(topo.dir, 'lvsk.conf'), largeConfig({ advertInt: '0.1', virtualServers: 300, realServersPerVs: 100, delayLoop: 60 }));
  lvsk.signal('SIGHUP');
  await until('three deaths and a delayed respawn', 300_000, () => count(lvsk, /Healthcheck child process\(\d+\) died: Respawning/) >= 4 && /Restart of Healthcheck process delayed/.test(lvsk.log), lvsk);
  assert.equal(masterEntries(ka), takeovers, `keepalived took over:\n${ka.log.slice(-2000)}`);
  assert.ok(topo.holds('a') && !topo.holds('b'));
});

test('a VRRP process that dies is respawned as keepalived restarts one: VIPs removed, BACKUP first, then MASTER again', { timeout: 120_000 }, async (t) => {
  if (!prerequisites(t)) return;
  const topo = new Topology('vrd');
  t.after(() => topo.destroy());
  const { ka, lvsk } = await startPair(topo, largeConfig({ advertInt: '0.1', virtualServers: 0, realServersPerVs: 0, delayLoop: 60 }), { advertInt: '0.1', repoRoot });
  const vrrpPidFile = join(topo.dir, 'lvsk-a-vrrp.pid');
  const dead = pidIn(vrrpPidFile);
  // Who holds the VIP, every 10 ms, from the kill until lvskeeper is MASTER again.
  let both = 0;
  let longestBoth = 0;
  const stopSampler = topo.every(10, () => {
    if (topo.holds('a') && topo.holds('b')) longestBoth = Math.max(longestBoth, ++both * 10);
    else both = 0;
  });
  process.kill(dead, 'SIGKILL');
  await until('the respawn', 10_000, () => lvsk.log.includes(`VRRP child process(${dead}) died: Respawning`), lvsk);
  const from = lvsk.log.lastIndexOf('died: Respawning');
  await until('the new VRRP process to be MASTER', 30_000, () => /\(VI_1\) Entering MASTER STATE/.test(lvsk.log.slice(from)), lvsk);
  await until('keepalived to back off', 10_000, () => topo.holds('a') && !topo.holds('b'), ka);
  stopSampler();
  const after = lvsk.log.slice(from);
  assert.match(after, /\(VI_1\) removing VIPs\.[\s\S]*\(VI_1\) Entering BACKUP STATE \(init\)[\s\S]*\(VI_1\) Entering MASTER STATE/);
  assert.notEqual(pidIn(vrrpPidFile), dead);
  // The dead process's VIP stays on a's interface until the new one removes it: both hold it for that long.
  assert.ok(longestBoth <= 2000, `both held the VIP for ${longestBoth} ms`);
  // keepalived took over while a had no VRRP process, and gave the VIP back to the higher priority.
  assert.ok(/\(VI_1\) Entering MASTER STATE[\s\S]*\(VI_1\) (Entering BACKUP STATE|Master received advert)/.test(ka.log), ka.log.slice(-2000));
});
