// keepalived 2.2.7's unicast checksum compatibility on the wire (Debian builds it with OLD_CHKSUM_COMPAT): a unicast
// VRRPv3 IPv4 pair where b has `old_unicast_checksum` (pseudo-header destination 224.0.0.18, as keepalived ≤ 1.3.6)
// and a the default. a must take up the old checksum from b's first advert (vrrp.c vrrp_check_packet: "(VI_1) Setting
// unicast VRRPv3 checksum to old version"), stay BACKUP under b and take over at once from b's priority 0. A reload
// forgets what was learnt (a new vrrp_t, vrrp.c restore_vrrp_state): a SIGHUP'd BACKUP learns it, and logs it, again.
// lvskeeper as a also sends the old checksum from then on, so b follows it both ways; keepalived 2.2.7 as a does not
// (packet.ts ChecksumCompat), and is only followed by b while b's priority is the higher.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { needCommand, needRoot, repoRoot } from '../support/tier.js';
import { ADDR, Topology, vrrpConfig, waitFor, type Node, type Proc } from './netns-support.js';

const SWITCH = '(VI_1) Setting unicast VRRPv3 checksum to old version';
const switches = (p: Proc): number => p.log.split('\n').filter((l) => l.endsWith(SWITCH)).length;
const logs = (...ps: Proc[]): string => ps.map((p) => `${p.logPath}:\n${p.log}`).join('\n');
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const ready = (t: Parameters<typeof needRoot>[0]): boolean => needRoot(t) && needCommand(t, '/usr/sbin/keepalived', 'keepalived');

/** Namespaces a (default checksum) and b (`old_unicast_checksum`), unicast peers of each other, VRRPv3. */
async function withPair(tag: string, fn: (topo: Topology, start: (node: Node, who: 'ka' | 'lvsk', priority: number) => Proc) => Promise<void>): Promise<void> {
  const topo = new Topology(tag);
  try {
    await fn(topo, (node, who, priority) => {
      const peer: Node = node === 'a' ? 'b' : 'a';
      const text = vrrpConfig({ priority, version: 3, unicast: { src: ADDR[node], peer: ADDR[peer] } });
      const conf = topo.writeConfig(`${node}-${priority}.conf`, node === 'b' ? text.replace('  unicast_src_ip', '  old_unicast_checksum\n  unicast_src_ip') : text);
      return who === 'lvsk' ? topo.startLvskeeper(node, conf, repoRoot) : topo.startKeepalived(node, conf);
    });
  } finally {
    await topo.destroy();
  }
}

/** a joins MASTER b below it: learns the old checksum, stays BACKUP past its down timer, learns again after SIGHUP. */
async function learnsAsBackup(topo: Topology, a: Proc, b: Proc): Promise<void> {
  assert.ok(await waitFor(() => switches(a) === 1, 8000), `a never switched\n${logs(a, b)}`);
  await sleep(5000);
  assert.ok(topo.holds('b') && !topo.holds('a'), `a did not stay BACKUP\n${logs(a, b)}`);
  a.signal('SIGHUP');
  assert.ok(await waitFor(() => switches(a) === 2, 8000), `a did not switch again after the reload\n${logs(a, b)}`);
  assert.ok(topo.holds('b') && !topo.holds('a'), `the reload moved the MASTER\n${logs(a, b)}`);
  // b's priority 0 passes a's checksum check: a takes over before its down timer (3.6 s and more).
  b.signal('SIGTERM');
  assert.ok(await waitFor(() => topo.holds('a'), 3000), `a did not take over after SIGTERM\n${logs(a, b)}`);
  await b.exited();
}

test('old_unicast_checksum on keepalived: lvskeeper switches to it and is followed both ways; relearnt after a reload', { timeout: 120_000 }, async (t) => {
  if (!ready(t)) return;
  await withPair('ock', async (topo, start) => {
    const b = start('b', 'ka', 100);
    assert.ok(await waitFor(() => topo.holds('b'), 10_000), logs(b));
    // lvskeeper above b: its adverts, in the old checksum, make keepalived give way.
    const a = start('a', 'lvsk', 150);
    assert.ok(await waitFor(() => switches(a) === 1, 8000), `a never switched\n${logs(a, b)}`);
    assert.ok(await waitFor(() => topo.holds('a') && !topo.holds('b'), 8000), `b did not give way\n${logs(a, b)}`);
    await sleep(3000);
    assert.ok(topo.holds('a') && !topo.holds('b'), `not one MASTER\n${logs(a, b)}`);
    a.signal('SIGTERM');
    assert.ok(await waitFor(() => topo.holds('b'), 3000), `b did not take over after SIGTERM\n${logs(a, b)}`);
    await a.exited();
    // Again below b.
    const a2 = start('a', 'lvsk', 50);
    await learnsAsBackup(topo, a2, b);
    assert.doesNotMatch(b.log, /Invalid VRRPv3 checksum/, 'keepalived refused an lvskeeper advert');
  });
});

test('old_unicast_checksum on lvskeeper: keepalived switches to it, stays BACKUP under it, relearns after a reload', { timeout: 120_000 }, async (t) => {
  if (!ready(t)) return;
  await withPair('ocl', async (topo, start) => {
    const b = start('b', 'lvsk', 150);
    assert.ok(await waitFor(() => topo.holds('b'), 10_000), logs(b));
    const a = start('a', 'ka', 100);
    await learnsAsBackup(topo, a, b);
    // lvskeeper again, above keepalived: it takes over (keepalived follows the old checksum).
    const b2 = start('b', 'lvsk', 150);
    assert.ok(await waitFor(() => topo.holds('b') && !topo.holds('a'), 10_000), `b did not take over\n${logs(a, b2)}`);
    assert.equal(switches(b) + switches(b2), 0);
  });
});
