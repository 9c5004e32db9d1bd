// SIGHUP reload of two lvskeeper VRRP routers in namespaces: an unchanged config changes nothing (no transition,
// the VIP never leaves the master), an added VIP appears on the master and answers the client, a removed one goes;
// an added instance starts as at boot and a removed one stops (notify_deleted → DELETED), VI_1 untouched throughout.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { needCommand, needRoot, repoRoot } from '../support/tier.js';
import { Topology, VIP, vrrpConfig, waitFor, type Node } from './netns-support.js';

const VIP2 = '192.0.2.101';
const VIP3 = '192.0.2.102';

/** A second instance on its own VRID, with a generic notify script and notify_deleted. */
const secondInstance = (notify: string): string =>
  ['vrrp_instance VI_2 {', '  interface eth0', '  virtual_router_id 52', '  priority 150', `  notify "${notify}"`, '  notify_deleted',
    '  virtual_ipaddress {', `    ${VIP3}/24`, '  }', '}', ''].join('\n');

/** Checks every 20 ms whether a node holds an address, and counts the samples where it did not. */
class HoldSampler {
  misses = 0;
  samples = 0;
  readonly stop: () => void;

  constructor(topo: Topology, node: Node, address: string) {
    this.stop = topo.every(20, () => {
      this.samples++;
      if (!topo.holds(node, address)) this.misses++;
    });
  }
}

const transitions = (log: string): number => log.split('\n').filter((l) => l.includes('(VI_1) Entering ')).length;

test('SIGHUP: unchanged config keeps state and VIP; VIPs and instances are added and removed without touching VI_1', { timeout: 90_000 }, async (t) => {
  if (!needRoot(t) || !needCommand(t, 'ping', 'iputils-ping')) return;
  const topo = new Topology('r');
  try {
    const aConf = topo.writeConfig('a.conf', vrrpConfig({ priority: 150 }));
    const a = topo.startLvskeeper('a', aConf, repoRoot);
    const b = topo.startLvskeeper('b', topo.writeConfig('b.conf', vrrpConfig({ priority: 100 })), repoRoot);
    assert.ok(await waitFor(() => topo.holds('a'), 8000), a.log);
    assert.ok(await waitFor(() => a.log.includes('Entering MASTER STATE') && b.log.includes('Entering BACKUP STATE'), 2000));
    const [aStates, bStates] = [transitions(a.log), transitions(b.log)];
    const held = new HoldSampler(topo, 'a', VIP);

    // Same settings, every line moved down by the comment.
    topo.writeConfig('a.conf', `# reloaded\n\n${vrrpConfig({ priority: 150 })}`);
    a.signal('SIGHUP');
    assert.ok(await waitFor(() => a.log.includes('VRRP reload: 1 unchanged, 0 adjusted, 0 restarted, 0 removed, 0 added'), 3000), a.log);
    // Three advert intervals: long enough for b to have taken over, had a stopped advertising.
    await new Promise((r) => setTimeout(r, 3500));
    assert.equal(transitions(a.log), aStates, a.log);
    assert.equal(transitions(b.log), bStates, b.log);
    assert.ok(!topo.holds('b'));

    topo.writeConfig('a.conf', vrrpConfig({ priority: 150, moreVips: [`${VIP2}/24`] }));
    a.signal('SIGHUP');
    assert.ok(await waitFor(() => topo.holds('a', VIP2), 3000), a.log);
    assert.equal(topo.clientMacFor(VIP2), topo.macOf('a'));
    // b's adverts list one address, a's now two: b accepts them anyway (packet.ts policy) and stays BACKUP.
    await new Promise((r) => setTimeout(r, 3500));
    assert.ok(b.log.includes('differs from ours'), b.log);
    assert.ok(!topo.holds('b') && !topo.holds('b', VIP2), b.log);

    topo.writeConfig('a.conf', vrrpConfig({ priority: 150 }));
    a.signal('SIGHUP');
    assert.ok(await waitFor(() => !topo.holds('a', VIP2), 3000), a.log);

    const notified = join(topo.dir, 'notified');
    const script = join(topo.dir, 'notify.sh');
    writeFileSync(script, `#!/bin/sh\necho "$@" >> ${notified}\n`);
    chmodSync(script, 0o755);
    topo.writeConfig('a.conf', vrrpConfig({ priority: 150 }) + secondInstance(script));
    a.signal('SIGHUP');
    assert.ok(await waitFor(() => a.log.includes('VRRP reload: 1 unchanged, 0 adjusted, 0 restarted, 0 removed, 1 added'), 3000), a.log);
    // As at boot: BACKUP for Master_Down_Interval (3.4 s at priority 150), then MASTER (b does not run VI_2).
    assert.ok(await waitFor(() => topo.holds('a', VIP3), 8000), a.log);
    topo.writeConfig('a.conf', vrrpConfig({ priority: 150 }));
    a.signal('SIGHUP');
    assert.ok(await waitFor(() => !topo.holds('a', VIP3), 3000), a.log);
    const lines = (): string[] => (existsSync(notified) ? readFileSync(notified, 'utf8').trim().split('\n') : []);
    assert.ok(await waitFor(() => lines().at(-1) === 'INSTANCE VI_2 DELETED 150', 3000), lines().join('\n'));
    assert.deepEqual(lines(), ['INSTANCE VI_2 BACKUP 150', 'INSTANCE VI_2 MASTER 150', 'INSTANCE VI_2 DELETED 150']);
    held.stop();
    assert.equal(transitions(a.log), aStates, a.log);
    assert.equal(transitions(b.log), bStates, b.log);
    assert.ok(held.samples > 100, `only ${held.samples} samples`);
    assert.equal(held.misses, 0, `the VIP left a in ${held.misses} of ${held.samples} samples`);
  } finally {
    await topo.destroy();
  }
});

test('daemon SIGHUP: VRRP starts when a reload brings the first vrrp_instance, then follows VIP changes', { timeout: 60_000 }, async (t) => {
  if (!needRoot(t)) return;
  const topo = new Topology('d');
  try {
    const conf = topo.writeConfig('a.conf', 'global_defs {\n  router_id lvskv\n}\n');
    const daemon = topo.startDaemon('a', ['-f', conf, '-P', '-n', '-l', '--pid', join(topo.dir, 'a.pid')], repoRoot);
    assert.ok(await waitFor(() => daemon.log.includes('Starting lvskeeper'), 10_000), daemon.log);
    await new Promise((r) => setTimeout(r, 500));
    topo.writeConfig('a.conf', vrrpConfig({ priority: 150 }));
    daemon.signal('SIGHUP');
    // No peer: BACKUP for Master_Down_Interval, then MASTER.
    assert.ok(await waitFor(() => topo.holds('a'), 8000), daemon.log);
    topo.writeConfig('a.conf', vrrpConfig({ priority: 150, moreVips: [`${VIP2}/24`] }));
    daemon.signal('SIGHUP');
    assert.ok(await waitFor(() => topo.holds('a', VIP2), 3000), daemon.log);
    assert.ok(topo.holds('a'));
    // Logs are written asynchronously: wait for the line rather than assume it is out.
    assert.ok(await waitFor(() => daemon.log.includes('VRRP reload: 0 unchanged, 1 adjusted, 0 restarted, 0 removed, 0 added'), 2000), daemon.log);
    daemon.signal('SIGTERM');
    await daemon.exited();
    assert.ok(!topo.holds('a') && !topo.holds('a', VIP2), daemon.log);
  } finally {
    await topo.destroy();
  }
});
