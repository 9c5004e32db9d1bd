// Two lvskeeper VRRP routers (namespaces a, b) and a client (c) on a bridge: election, failover, and the
// behaviours of issue 5, observed from outside (addresses on eth0, the client's neighbour table).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { needCommand, needRoot, repoRoot } from '../support/tier.js';
import { ADDR, Topology, VIP6, vrrpConfig, waitFor } from './netns-support.js';

/** Runs fn on a fresh topology and always tears it down. */
async function withTopology(tag: string, fn: (t: Topology) => Promise<void>): Promise<void> {
  const topo = new Topology(tag);
  try {
    await fn(topo);
  } finally {
    await topo.destroy();
  }
}

test('election, kill -9 of the master moves the VIP and the client sees the new MAC', { timeout: 60_000 }, async (t) => {
  if (!needRoot(t) || !needCommand(t, 'ping', 'iputils-ping')) return;
  const topo = new Topology('e');
  try {
    const a = topo.startLvskeeper('a', topo.writeConfig('a.conf', vrrpConfig({ priority: 150 })), repoRoot);
    const b = topo.startLvskeeper('b', topo.writeConfig('b.conf', vrrpConfig({ priority: 100 })), repoRoot);
    assert.ok(await waitFor(() => topo.holds('a'), 8000), `a never became MASTER:\n${a.log}`);
    assert.ok(!topo.holds('b'));
    assert.equal(topo.clientMacFor(), topo.macOf('a'));
    // Logs are written asynchronously; wait for the lines rather than assume they are out.
    assert.ok(await waitFor(() => a.log.includes('(VI_1) Entering MASTER STATE'), 2000), a.log);
    assert.ok(await waitFor(() => b.log.includes('(VI_1) Entering BACKUP STATE (init)'), 2000), b.log);
    a.signal('SIGKILL');
    await a.exited();
    assert.ok(await waitFor(() => topo.holds('b'), 6000), `b never took over:\n${b.log}`);
    // The dead master's VIP stays on a's interface (nobody removed it); the client follows b's GARPs.
    assert.ok(await waitFor(() => topo.clientMacFor() === topo.macOf('b'), 3000));
  } finally {
    await topo.destroy();
  }
});

test('SIGTERM: priority 0 advert, VIP removed, backup takes over after Skew_Time', { timeout: 60_000 }, async (t) => {
  if (!needRoot(t)) return;
  const topo = new Topology('t');
  try {
    const a = topo.startLvskeeper('a', topo.writeConfig('a.conf', vrrpConfig({ priority: 150 })), repoRoot);
    const b = topo.startLvskeeper('b', topo.writeConfig('b.conf', vrrpConfig({ priority: 100 })), repoRoot);
    assert.ok(await waitFor(() => topo.holds('a'), 8000));
    a.signal('SIGTERM');
    const t0 = performance.now();
    assert.ok(await waitFor(() => topo.holds('b'), 3000), `b did not take over:\n${b.log}`);
    // Master_Down_Interval is 3.6 s; only the priority-0 advert explains a take-over within 3 s.
    assert.ok(performance.now() - t0 < 3000);
    await a.exited();
    assert.ok(!topo.holds('a'));
    assert.ok(await waitFor(() => a.log.includes('(VI_1) removing VIPs.'), 2000), a.log);
  } finally {
    await topo.destroy();
  }
});

test('nopreempt: a returning higher-priority router stays BACKUP', { timeout: 60_000 }, async (t) => {
  if (!needRoot(t)) return;
  await withTopology('n', async (topo) => {
    const b = topo.startLvskeeper('b', topo.writeConfig('b.conf', vrrpConfig({ priority: 100, nopreempt: true })), repoRoot);
    assert.ok(await waitFor(() => topo.holds('b'), 8000), b.log);
    const a = topo.startLvskeeper('a', topo.writeConfig('a.conf', vrrpConfig({ priority: 150, nopreempt: true })), repoRoot);
    await new Promise((r) => setTimeout(r, 6000));
    assert.ok(topo.holds('b'), `b lost the VIP:\n${b.log}`);
    assert.ok(!topo.holds('a'), a.log);
  });
});

test('preempt_delay: the higher-priority router takes over only after the delay', { timeout: 60_000 }, async (t) => {
  if (!needRoot(t)) return;
  await withTopology('p', async (topo) => {
    const b = topo.startLvskeeper('b', topo.writeConfig('b.conf', vrrpConfig({ priority: 100 })), repoRoot);
    assert.ok(await waitFor(() => topo.holds('b'), 8000), b.log);
    const a = topo.startLvskeeper('a', topo.writeConfig('a.conf', vrrpConfig({ priority: 150, preemptDelay: 5 })), repoRoot);
    await new Promise((r) => setTimeout(r, 4500));
    assert.ok(topo.holds('b') && !topo.holds('a'), `preempted before the delay:\n${a.log}`);
    assert.ok(await waitFor(() => topo.holds('a'), 8000), a.log);
    assert.ok(await waitFor(() => !topo.holds('b'), 2000));
  });
});

test('track_script flip (weight 0) sends the master to FAULT and back', { timeout: 60_000 }, async (t) => {
  if (!needRoot(t)) return;
  await withTopology('s', async (topo) => {
    const flag = join(topo.dir, 'healthy');
    const script = join(topo.dir, 'chk.sh');
    writeFileSync(script, `#!/bin/sh\ntest -e ${flag}\n`);
    chmodSync(script, 0o755);
    writeFileSync(flag, '');
    const a = topo.startLvskeeper('a', topo.writeConfig('a.conf', vrrpConfig({ priority: 150, trackScript: script })), repoRoot);
    const b = topo.startLvskeeper('b', topo.writeConfig('b.conf', vrrpConfig({ priority: 100 })), repoRoot);
    assert.ok(await waitFor(() => topo.holds('a'), 8000), a.log);
    rmSync(flag);
    assert.ok(await waitFor(() => a.log.includes('(VI_1) Entering FAULT STATE'), 4000), a.log);
    assert.ok(await waitFor(() => topo.holds('b'), 3000), b.log);
    assert.ok(!topo.holds('a'));
    assert.ok(await waitFor(() => a.log.includes('VRRP_Script(chk) failed (exited with status 1)'), 2000), a.log);
    writeFileSync(flag, '');
    assert.ok(await waitFor(() => topo.holds('a'), 8000), a.log);
    assert.ok(await waitFor(() => a.log.includes('VRRP_Script(chk) succeeded'), 2000), a.log);
  });
});

test('track_file (weight 0): a non-zero value sends the master to FAULT, zero brings it back', { timeout: 60_000 }, async (t) => {
  if (!needRoot(t)) return;
  await withTopology('f', async (topo) => {
    const file = join(topo.dir, 'state');
    writeFileSync(file, '0\n');
    const a = topo.startLvskeeper('a', topo.writeConfig('a.conf', vrrpConfig({ priority: 150, trackFile: file })), repoRoot);
    const b = topo.startLvskeeper('b', topo.writeConfig('b.conf', vrrpConfig({ priority: 100 })), repoRoot);
    assert.ok(await waitFor(() => topo.holds('a'), 8000), a.log);
    writeFileSync(file, '1\n');
    assert.ok(await waitFor(() => a.log.includes('(VI_1) Entering FAULT STATE'), 4000), a.log);
    assert.ok(await waitFor(() => topo.holds('b'), 3000), b.log);
    writeFileSync(file, '0\n');
    assert.ok(await waitFor(() => topo.holds('a'), 8000), a.log);
  });
});

test('track_interface down → FAULT; the peer takes over', { timeout: 60_000 }, async (t) => {
  if (!needRoot(t)) return;
  await withTopology('i', async (topo) => {
    const a = topo.startLvskeeper('a', topo.writeConfig('a.conf', vrrpConfig({ priority: 150 })), repoRoot);
    const b = topo.startLvskeeper('b', topo.writeConfig('b.conf', vrrpConfig({ priority: 100 })), repoRoot);
    assert.ok(await waitFor(() => topo.holds('a'), 8000), a.log);
    topo.setLink('a', false);
    assert.ok(await waitFor(() => a.log.includes('(VI_1) Entering FAULT STATE'), 3000), a.log);
    assert.ok(await waitFor(() => topo.holds('b'), 6000), b.log);
    topo.setLink('a', true);
    assert.ok(await waitFor(() => topo.holds('a'), 8000), a.log);
  });
});

test('unicast mode', { timeout: 60_000 }, async (t) => {
  if (!needRoot(t)) return;
  await withTopology('u', async (topo) => {
    const a = topo.startLvskeeper('a', topo.writeConfig('a.conf', vrrpConfig({ priority: 150, unicast: { src: ADDR.a, peer: ADDR.b } })), repoRoot);
    const b = topo.startLvskeeper('b', topo.writeConfig('b.conf', vrrpConfig({ priority: 100, unicast: { src: ADDR.b, peer: ADDR.a } })), repoRoot);
    assert.ok(await waitFor(() => topo.holds('a'), 8000), a.log);
    await new Promise((r) => setTimeout(r, 4000));
    assert.ok(!topo.holds('b'), `b took the VIP although a advertises by unicast:\n${b.log}`);
    a.signal('SIGKILL');
    assert.ok(await waitFor(() => topo.holds('b'), 6000), b.log);
  });
});

test('v3 at advert_int 0.1: failover in well under a second', { timeout: 60_000 }, async (t) => {
  if (!needRoot(t)) return;
  await withTopology('3', async (topo) => {
    const a = topo.startLvskeeper('a', topo.writeConfig('a.conf', vrrpConfig({ priority: 150, version: 3, advertInt: '0.1' })), repoRoot);
    const b = topo.startLvskeeper('b', topo.writeConfig('b.conf', vrrpConfig({ priority: 100, version: 3, advertInt: '0.1' })), repoRoot);
    assert.ok(await waitFor(() => topo.holds('a'), 4000), a.log);
    await new Promise((r) => setTimeout(r, 1000));
    assert.ok(!topo.holds('b'), b.log);
    a.signal('SIGKILL');
    assert.ok(await waitFor(() => topo.holds('b'), 2000), b.log);
  });
});

test('IPv6 VIP (v3): election and failover, unsolicited NA updates the client', { timeout: 60_000 }, async (t) => {
  if (!needRoot(t) || !needCommand(t, 'ping', 'iputils-ping')) return;
  await withTopology('6', async (topo) => {
    const opts = { version: 3 as const, vip: `${VIP6}/64` };
    const a = topo.startLvskeeper('a', topo.writeConfig('a.conf', vrrpConfig({ ...opts, priority: 150 })), repoRoot);
    const b = topo.startLvskeeper('b', topo.writeConfig('b.conf', vrrpConfig({ ...opts, priority: 100 })), repoRoot);
    assert.ok(await waitFor(() => topo.holds('a', VIP6), 8000), a.log);
    assert.ok(!topo.holds('b', VIP6));
    // The client talks to the VIP first, so it has a neighbour entry for the NA to override (Linux ignores
    // unsolicited NAs for unknown neighbours, and the killed router's kernel still answers for the VIP).
    assert.equal(topo.clientMacFor(VIP6), topo.macOf('a'));
    a.signal('SIGKILL');
    assert.ok(await waitFor(() => topo.holds('b', VIP6), 6000), b.log);
    assert.ok(await waitFor(() => topo.clientMacFor(VIP6) === topo.macOf('b'), 3000));
  });
});
