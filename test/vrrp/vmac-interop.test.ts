// use_vmac on the wire between keepalived 2.2.7 and lvskeeper, the two routers of one VRID (netns-support.ts
// topology: a, b and a client c on one bridge). Each side's VMAC carries the VIP only while it is MASTER; the client
// always reaches the VIP at the VRRP MAC 00:00:5e:00:01:33; the routers hand over both ways.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { needCommand, needRoot, repoRoot } from '../support/tier.js';
import { Topology, VIP, vrrpConfig, waitFor, type Node, type Proc } from './netns-support.js';

const VMAC = '00:00:5e:00:01:33';

/** Whether a node holds the VIP on its VMAC vrrp.51. */
function holds(topo: Topology, node: Node): boolean {
  const r = spawnSync('ip', ['-n', topo.ns[node], '-o', 'addr', 'show', 'dev', 'vrrp.51'], { encoding: 'utf8' });
  return r.status === 0 && r.stdout.includes(` ${VIP}/`);
}

/**
 * The MAC the client resolves the VIP to. The first exchange is skipped: the master's reply to a host it does not
 * know yet goes out on the base (its connected route comes first) with an ARP request from the VIP, which teaches
 * the client the base's MAC, with keepalived as with lvskeeper.
 */
function clientMac(topo: Topology): string | undefined {
  topo.clientMacFor();
  spawnSync('ip', ['-n', topo.ns.c, 'neigh', 'flush', 'all']);
  return topo.clientMacFor();
}

function config(priority: number): string {
  return vrrpConfig({ priority }).replace('  virtual_ipaddress {', '  use_vmac\n  virtual_ipaddress {');
}

test('use_vmac interop: keepalived and lvskeeper as the two routers of VRID 51 hand the VIP (and the VRRP MAC) over both ways', { timeout: 120_000 }, async (t) => {
  if (!needRoot(t) || !needCommand(t, '/usr/sbin/keepalived', 'keepalived')) return;
  const topo = new Topology('vmi');
  try {
    const confHigh = topo.writeConfig('high.conf', config(150));
    const confLow = topo.writeConfig('low.conf', config(100));
    // keepalived on a (150) is MASTER; lvskeeper on b (100) BACKUP, its VMAC up without the VIP.
    const ka = topo.startKeepalived('a', confHigh);
    const lk: Proc = topo.startLvskeeper('b', confLow, repoRoot);
    const logs = (): string => `ka:\n${ka.log}\nlvsk:\n${lk.log}`;
    assert.ok(await waitFor(() => holds(topo, 'a'), 25_000), logs());
    assert.ok(await waitFor(() => /Entering BACKUP STATE/.test(lk.log), 25_000), logs());
    await new Promise((r) => setTimeout(r, 4500));
    assert.ok(holds(topo, 'a') && !holds(topo, 'b'), `lvskeeper took the VIP from a higher-priority keepalived:\n${logs()}`);
    assert.doesNotMatch(lk.log, /Entering MASTER STATE/);
    assert.equal(clientMac(topo), VMAC);

    // keepalived stops: lvskeeper takes over on its VMAC; the client still finds the VIP at the VRRP MAC.
    ka.signal('SIGTERM');
    assert.ok(await waitFor(() => holds(topo, 'b'), 5000), logs());
    await ka.exited();
    assert.equal(clientMac(topo), VMAC);
    assert.notEqual(spawnSync('ip', ['-n', topo.ns.a, 'link', 'show', 'vrrp.51']).status, 0, 'keepalived left its VMAC behind');

    // keepalived comes back at the higher priority and preempts: lvskeeper gives the VIP back and keeps its VMAC.
    const ka2 = topo.startKeepalived('a', confHigh);
    assert.ok(await waitFor(() => holds(topo, 'a') && !holds(topo, 'b'), 25_000), `ka:\n${ka2.log}\nlvsk:\n${lk.log}`);
    assert.equal(spawnSync('ip', ['-n', topo.ns.b, 'link', 'show', 'vrrp.51']).status, 0);
    assert.equal(clientMac(topo), VMAC);

    // And the other way: lvskeeper at the higher priority preempts keepalived.
    lk.signal('SIGTERM');
    await lk.exited();
    assert.notEqual(spawnSync('ip', ['-n', topo.ns.b, 'link', 'show', 'vrrp.51']).status, 0, 'lvskeeper left its VMAC behind');
    const lk2 = topo.startLvskeeper('b', topo.writeConfig('higher.conf', config(200)), repoRoot);
    assert.ok(await waitFor(() => holds(topo, 'b') && !holds(topo, 'a'), 25_000), `ka:\n${ka2.log}\nlvsk:\n${lk2.log}`);
    assert.ok(await waitFor(() => /Entering BACKUP STATE/.test(ka2.log.split('Entering MASTER STATE').slice(1).join('')), 5000), ka2.log);
    assert.equal(clientMac(topo), VMAC);
  } finally {
    await topo.destroy();
  }
});
