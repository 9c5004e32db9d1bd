// `--bfd-takeover` against a real master: keepalived 2.2.7 is MASTER in the peer namespace with a bfd_instance to
// the lvskeeper BACKUP (its BFD child the real peer), both at advert_int 3 (Master_Down_Interval 9.6 s for the
// BACKUP). keepalived's whole process group is SIGKILLed: the BACKUP must become MASTER with BFD named as the cause
// (the 3 × 50 ms session's detection, well inside Master_Down_Interval), and hold the VIP. Without the option the
// same crash is taken over by the down timer, and the log says so.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { needCommand, needFile, needRoot } from '../support/tier.js';
import { waitFor } from '../vrrp/netns-support.js';
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

/** keepalived MASTER, lvskeeper BACKUP with `extra` options, the session Up and an advert heard; then the crash. */
async function crash(tag: string, extra: readonly string[]): Promise<{ line: string | undefined; vip: boolean; log: string }> {
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
    const from = lk.log.length;
    l.killGroup(ka);
    const line = await lineIn(lk, /^\(VI_1\) Entering MASTER STATE/, 15_000, from);
    const vip = spawnSync('ip', ['-n', l.ns.lk, '-br', 'addr', 'show', 'eth0'], { encoding: 'utf8' }).stdout.includes('10.77.0.100/24');
    return { line, vip, log: lk.log.slice(from) };
  } finally {
    await l.destroy();
  }
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
