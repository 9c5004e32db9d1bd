// SIGHUP reload of two lvskeeper VRRP routers in namespaces: an unchanged config changes nothing (no transition,
// the VIP never leaves the master), an added VIP appears on the master and answers the client, a removed one goes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { needRoot, repoRoot } from '../support/tier.js';
import { Topology, VIP, vrrpConfig, waitFor, type Node } from './netns-support.js';

const VIP2 = '192.0.2.101';

/** Checks every 20 ms whether a node holds an address, and counts the samples where it did not. */
class HoldSampler {
  misses = 0;
  samples = 0;
  private readonly timer: NodeJS.Timeout;

  constructor(topo: Topology, node: Node, address: string) {
    this.timer = setInterval(() => {
      this.samples++;
      if (!topo.holds(node, address)) this.misses++;
    }, 20);
  }

  stop(): void {
    clearInterval(this.timer);
  }
}

const transitions = (log: string): number => log.split('\n').filter((l) => l.includes('Entering ')).length;

test('SIGHUP: unchanged config keeps state and VIP; an added VIP appears, a removed one goes', { timeout: 90_000 }, async (t) => {
  if (!needRoot(t)) return;
  const topo = new Topology('r');
  const samplers: HoldSampler[] = [];
  try {
    const aConf = topo.writeConfig('a.conf', vrrpConfig({ priority: 150 }));
    const a = topo.startLvskeeper('a', aConf, repoRoot);
    const b = topo.startLvskeeper('b', topo.writeConfig('b.conf', vrrpConfig({ priority: 100 })), repoRoot);
    assert.ok(await waitFor(() => topo.holds('a'), 8000), a.log);
    assert.ok(await waitFor(() => a.log.includes('Entering MASTER STATE') && b.log.includes('Entering BACKUP STATE'), 2000));
    const [aStates, bStates] = [transitions(a.log), transitions(b.log)];
    const held = new HoldSampler(topo, 'a', VIP);
    samplers.push(held);

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
    held.stop();
    assert.equal(transitions(a.log), aStates, a.log);
    assert.equal(transitions(b.log), bStates, b.log);
    assert.ok(held.samples > 100, `only ${held.samples} samples`);
    assert.equal(held.misses, 0, `the VIP left a in ${held.misses} of ${held.samples} samples`);
  } finally {
    for (const s of samplers) s.stop();
    await topo.destroy();
  }
});
