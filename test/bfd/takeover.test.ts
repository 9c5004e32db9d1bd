// `--bfd-takeover` against a real master: keepalived 2.2.7 is MASTER in the peer namespace with a bfd_instance to
// the lvskeeper BACKUP (its BFD child the real peer), both at advert_int 3 (Master_Down_Interval 9.6 s for the
// BACKUP). keepalived's whole process group is SIGKILLed: the BACKUP must become MASTER with BFD named as the cause
// (the 3 × 50 ms session's detection, well inside Master_Down_Interval), and hold the VIP. Without the option the
// same crash is taken over by the down timer, and the log says so. And the trade-off README names: BFD lost while
// the master lives (UDP 3784 dropped by nft) makes a second MASTER until the master's advert puts it back (§6.4.3).
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { needCommand, needFile, needRoot } from '../support/tier.js';
import { waitFor, type Proc } from '../vrrp/netns-support.js';
import { BfdLink, lineIn, LK, PEER } from './bfd-netns.js';

const config = (neighbor: string, state: 'MASTER' | 'BACKUP', priority: number): string => `bfd_instance b1 {
  neighbor_ip ${neighbor}
  min_rx 50
  min_tx 50
  multiplier 3
}
vrrp_instance VI_1 {
  state ${state}
  interface eth0
  virtual_router_id 51
  priority ${priority}
  advert_int 3
  virtual_ipaddress {
    10.77.0.100/24
  }
}
`;

function have(t: TestContext): boolean {
  return needRoot(t) && needCommand(t, 'ip', 'iproute2') && needFile(t, '/usr/sbin/keepalived', 'needs keepalived 2.2.7 (apt-get install keepalived)');
}

const hasVip = (ns: string): boolean => spawnSync('ip', ['-n', ns, '-br', 'addr', 'show', 'eth0'], { encoding: 'utf8' }).stdout.includes('10.77.0.100/24');

/** keepalived MASTER, lvskeeper BACKUP with `extra` options, the session Up and an advert heard; then `fail`. */
async function scenario<T>(tag: string, extra: readonly string[], fail: (l: BfdLink, ka: Proc, lk: Proc) => Promise<T>): Promise<T> {
  const l = new BfdLink(tag);
  try {
    const ka = l.startKeepalived(config(LK.v4, 'MASTER', 200));
    assert.ok(await lineIn(ka, /^\(VI_1\) Entering MASTER STATE$/, 20_000), ka.log);
    const lk = l.startLvskeeper(config(PEER.v4, 'BACKUP', 100), 'lk', 'lk', extra);
    assert.ok(await lineIn(lk, /^\(VI_1\) Entering BACKUP STATE \(init\)$/, 20_000), lk.log);
    assert.ok(await lineIn(lk, /^\(b1\) Entering Up state$/, 10_000), `${lk.log}\n----\n${ka.log}`);
    // An advert from the master after BACKUP (every 3 s), and the session at its 50 ms rate.
    await waitFor(() => false, 4000);
    assert.ok(!/Entering MASTER STATE/.test(lk.log), lk.log);
    return await fail(l, ka, lk);
  } finally {
    await l.destroy();
  }
}

/** The master's whole process group SIGKILLed: the BACKUP's MASTER line, the VIP, its log from the kill on. */
function crash(tag: string, extra: readonly string[]): Promise<{ line: string | undefined; vip: boolean; log: string }> {
  return scenario(tag, extra, async (l, ka, lk) => {
    const from = lk.log.length;
    l.killGroup(ka);
    const line = await lineIn(lk, /^\(VI_1\) Entering MASTER STATE/, 15_000, from);
    return { line, vip: hasVip(l.ns.lk), log: lk.log.slice(from) };
  });
}

test('--bfd-takeover: the master crashes, the BACKUP takes over on the BFD session\'s Down and says so', { timeout: 90_000 }, async (t) => {
  if (!have(t)) return;
  const r = await crash('hAtko', ['--bfd-takeover', 'VI_1=b1']);
  assert.equal(r.line, `(VI_1) Entering MASTER STATE (BFD b1 to master ${PEER.v4} down)`, r.log);
  // The Down came first, then the takeover; no advertisement timeout on the way.
  assert.match(r.log, /\(b1\) Entering Down state[^]*\(VI_1\) Entering MASTER STATE \(BFD b1/);
  assert.ok(!r.log.includes('Receive advertisement timeout'), r.log);
  assert.ok(r.vip, r.log);
});

test('without --bfd-takeover the same crash is taken over when the down timer fires', { timeout: 90_000 }, async (t) => {
  if (!have(t)) return;
  const r = await crash('hAnot', []);
  assert.equal(r.line, '(VI_1) Entering MASTER STATE', r.log);
  assert.match(r.log, /\(b1\) Entering Down state[^]*\(VI_1\) Receive advertisement timeout\n[^]*\(VI_1\) Entering MASTER STATE/);
  assert.ok(r.vip, r.log);
});

test('--bfd-takeover\'s split brain: BFD dropped while adverts flow makes two masters until the master\'s advert (RFC 5798 §6.4.3)', { timeout: 90_000 }, async (t) => {
  if (!have(t) || !needCommand(t, 'nft', 'nftables')) return;
  await scenario('hAsplit', ['--bfd-takeover', 'VI_1=b1'], async (l, ka, lk) => {
    const from = { lk: lk.log.length, ka: ka.log.length };
    spawnSync('ip', ['netns', 'exec', l.ns.lk, 'nft', 'add table inet hA; add chain inet hA in { type filter hook input priority 0; }; add rule inet hA in udp dport 3784 drop'], { stdio: 'inherit' });
    assert.equal(await lineIn(lk, /^\(VI_1\) Entering MASTER STATE/, 5000, from.lk), `(VI_1) Entering MASTER STATE (BFD b1 to master ${PEER.v4} down)`, lk.log.slice(from.lk));
    // The old master hears a lower priority, answers at once; the new one yields to its higher priority.
    assert.ok(await lineIn(ka, new RegExp(`^\\(VI_1\\) Received advert from ${LK.v4} with lower priority 100, ours 200, forcing new election$`), 5000, from.ka), ka.log.slice(from.ka));
    assert.ok(await lineIn(lk, new RegExp(`^\\(VI_1\\) Master received advert from ${PEER.v4} with higher priority 200, ours 100$`), 5000, from.lk), lk.log.slice(from.lk));
    assert.ok(await lineIn(lk, /^\(VI_1\) Entering BACKUP STATE$/, 1000, from.lk), lk.log.slice(from.lk));
    // Resolved: the VIP on the master only, and the session still Down triggers nothing more.
    await waitFor(() => false, 4000);
    assert.equal(lk.log.slice(from.lk).match(/Entering MASTER STATE/g)?.length, 1, lk.log.slice(from.lk));
    assert.deepEqual([hasVip(l.ns.peer), hasVip(l.ns.lk)], [true, false]);
  });
});
