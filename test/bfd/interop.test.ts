// lvskeeper's BFD against real peers on a veth between two namespaces: keepalived 2.2.7's BFD child and FRR 8.4's
// bfdd. Each side initiating and each passive, IPv4 and IPv6; Up within 2 s; the peer killed → Down within the
// detection time and one interval (the session's own "Expired after N ms" line); new intervals on either side
// taken with a Poll Sequence, without a flap; GTSM: a peer sending TTL 254 is not heard until max_hops allows it.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { needCommand, needFile, needRoot } from '../support/tier.js';
import { waitFor } from '../vrrp/netns-support.js';
import { BFDD, BfdLink, lineIn, LK, PEER } from './bfd-netns.js';

const bfd = (neighbor: string, ...lines: string[]): string =>
  `bfd_instance b1 {\n neighbor_ip ${neighbor}\n min_rx 50\n min_tx 50\n multiplier 3\n ${lines.join('\n ')}\n}\n`;

const UP = /^\(b1\) Entering Up state$/;
const EXPIRED = /^\(b1\) Expired after (\d+) ms \(\d+ usec overdue\)$/;

function haveKeepalived(t: TestContext): boolean {
  return needRoot(t) && needCommand(t, 'ip', 'iproute2') && needFile(t, '/usr/sbin/keepalived', 'needs keepalived 2.2.7 (apt-get install keepalived)');
}

function haveFrr(t: TestContext): boolean {
  return needRoot(t) && needCommand(t, 'ip', 'iproute2') && needFile(t, BFDD, 'needs FRR bfdd (apt-get install frr)') && needCommand(t, 'vtysh', 'frr');
}

async function withLink(tag: string, body: (l: BfdLink) => Promise<void>): Promise<void> {
  const l = new BfdLink(tag);
  try {
    await body(l);
  } finally {
    await l.destroy();
  }
}

/** Milliseconds from lvskeeper's BFD child starting to its session Up. */
async function upAfterStart(lk: ReturnType<BfdLink['startLvskeeper']>): Promise<number> {
  assert.ok(await lineIn(lk, /^Starting BFD child process, pid=\d+$/, 20_000), lk.log);
  const t0 = performance.now();
  assert.ok(await lineIn(lk, UP, 5000), lk.log);
  return performance.now() - t0;
}

for (const c of [
  { name: 'both active, IPv4', family: 'v4', lk: [], ka: [] },
  { name: 'lvskeeper passive, IPv6', family: 'v6', lk: ['passive'], ka: [] },
  { name: 'keepalived passive, IPv4', family: 'v4', lk: [], ka: ['passive'] },
] as const) {
  test(`keepalived 2.2.7 BFD, ${c.name}: Up within 2 s on both; keepalived killed → Down within detection time + one interval`, { timeout: 60_000 }, async (t) => {
    if (!haveKeepalived(t)) return;
    await withLink(`k${c.family}${c.lk.length}${c.ka.length}`, async (l) => {
      const ka = l.startKeepalived(bfd(LK[c.family], ...c.ka));
      const lk = l.startLvskeeper(bfd(PEER[c.family], ...c.lk));
      const ms = await upAfterStart(lk);
      // A passive side answers the active one's first packet; its Init goes out an idle_tx later (1 s, less jitter).
      assert.ok(ms < 2000, `Up after ${ms.toFixed(0)} ms`);
      assert.ok(await lineIn(ka, UP, 2000), ka.log);
      await waitFor(() => false, 1000);
      await l.kill(ka);
      const expired = await lineIn(lk, EXPIRED, 3000);
      assert.ok(expired, lk.log);
      // 3 × 50 ms detection time, plus one 50 ms interval.
      assert.ok(Number(EXPIRED.exec(expired)![1]) <= 200, expired);
      assert.ok(await lineIn(lk, /^\(b1\) Entering Down state \(Local diagnostic - Control Detection Time Expired, Remote diagnostic - No Diagnostic\)$/, 1000), lk.log);
    });
  });
}

test('GTSM: a peer sending TTL 254 is never heard (RFC 5881 §5); max_hops 1, given by a reload, lets it in', { timeout: 60_000 }, async (t) => {
  if (!haveKeepalived(t)) return;
  await withLink('gtsm', async (l) => {
    const ka = l.startKeepalived(bfd(LK.v4, 'ttl 254'));
    const lk = l.startLvskeeper(bfd(PEER.v4));
    assert.ok(await lineIn(lk, /^Starting BFD child process, pid=\d+$/, 20_000), lk.log);
    assert.equal(await lineIn(lk, UP, 4000), undefined, lk.log);
    assert.equal(await lineIn(ka, UP, 0), undefined, ka.log);
    l.write('lk.conf', bfd(PEER.v4, 'max_hops 1'));
    lk.signal('SIGHUP');
    assert.ok(await lineIn(lk, UP, 5000), lk.log);
    assert.ok(await lineIn(ka, UP, 2000), ka.log);
  });
});

const frrPeer = (addr: string, ...lines: string[]): string =>
  `bfd\n peer ${addr}\n  receive-interval 50\n  transmit-interval 50\n  detect-multiplier 3\n${lines.map((x) => `  ${x}\n`).join('')} !\n!\n`;

for (const c of [
  { name: 'both active, IPv4', family: 'v4', lk: [], frr: [] },
  // FRR sends and requires hop limit 255 (RFC 5881 §5); keepalived's IPv6 default is 64, so the config says 255.
  { name: 'lvskeeper passive, IPv6', family: 'v6', lk: ['passive', 'hoplimit 255'], frr: [] },
  { name: 'FRR passive, IPv4', family: 'v4', lk: [], frr: ['passive-mode'] },
] as const) {
  test(`FRR 8.4 bfdd, ${c.name}: Up within 2 s; bfdd killed → Down within detection time + one interval`, { timeout: 60_000 }, async (t) => {
    if (!haveFrr(t)) return;
    await withLink(`f${c.family}${c.lk.length}${c.frr.length}`, async (l) => {
      const frr = l.startFrr(frrPeer(LK[c.family], ...c.frr));
      assert.ok(await waitFor(() => l.frrPeer() !== undefined, 10_000), frr.log);
      const lk = l.startLvskeeper(bfd(PEER[c.family], ...c.lk));
      const ms = await upAfterStart(lk);
      assert.ok(ms < 2000, `Up after ${ms.toFixed(0)} ms`);
      assert.ok(await waitFor(() => l.frrPeer()?.status === 'up', 2000), JSON.stringify(l.frrPeer()));
      // Up, the sessions still send at the slow rate (RFC 5880 §6.8.3) and detect in 3 s: killed only once bfdd's
      // 50 ms packets have made the detection time 3 × 50 ms.
      assert.ok(await lineIn(lk, /^ +Detection time is 150000 us \(was \d+ us\)$/, 3000), lk.log);
      await l.kill(frr);
      const expired = await lineIn(lk, EXPIRED, 3000);
      assert.ok(expired, lk.log);
      assert.ok(Number(EXPIRED.exec(expired)![1]) <= 200, expired);
    });
  });
}

test('FRR 8.4 bfdd: new intervals on either side are taken by a Poll Sequence, and the session never flaps', { timeout: 60_000 }, async (t) => {
  if (!haveFrr(t)) return;
  await withLink('fpoll', async (l) => {
    const frr = l.startFrr(frrPeer(LK.v4));
    assert.ok(await waitFor(() => l.frrPeer() !== undefined, 10_000));
    const lk = l.startLvskeeper(bfd(PEER.v4));
    await upAfterStart(lk);
    assert.ok(await waitFor(() => l.frrPeer()?.status === 'up', 2000));
    await waitFor(() => false, 1000);
    const before = l.frrPeer()!.uptime;
    // bfdd slows down: its RequiredMinRx and DesiredMinTx 200 ms, so our detection time becomes 3 × 200 ms.
    l.vtysh('configure terminal', 'bfd', `peer ${LK.v4}`, 'receive-interval 200', 'transmit-interval 200');
    assert.ok(await lineIn(lk, /^ +Detection time is 600000 us \(was 150000 us\)$/, 3000), lk.log);
    // We slow down by a reload: bfdd sees our new intervals.
    l.write('lk.conf', bfd(PEER.v4).replace('min_rx 50', 'min_rx 300').replace('min_tx 50', 'min_tx 300'));
    lk.signal('SIGHUP');
    assert.ok(await waitFor(() => l.frrPeer()?.['remote-receive-interval'] === 300 && l.frrPeer()?.['remote-transmit-interval'] === 300, 5000), JSON.stringify(l.frrPeer()));
    assert.ok(await lineIn(lk, /^ +Detection time is 900000 us \(was 600000 us\)$/, 3000), lk.log);
    // And back to 50 ms on both.
    l.vtysh('configure terminal', 'bfd', `peer ${LK.v4}`, 'receive-interval 50', 'transmit-interval 50');
    l.write('lk.conf', bfd(PEER.v4));
    lk.signal('SIGHUP');
    assert.ok(await lineIn(lk, /^ +Detection time is 150000 us \(was \d+ us\)$/, 5000), lk.log);
    await waitFor(() => false, 500);
    const peer = l.frrPeer()!;
    assert.equal(peer.status, 'up');
    // One Up on our side, none Down; bfdd's session has lasted since before the changes (a flap restarts uptime).
    assert.equal(lk.log.split('\n').filter((x) => /\(b1\) Entering (Up|Down) state/.test(x)).length, 1, lk.log);
    assert.ok(before >= 1 && peer.uptime >= before, `${JSON.stringify(peer)}\n${lk.log}\n${frr.log}`);
  });
});
