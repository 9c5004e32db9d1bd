// track_bfd against keepalived 2.2.7 (test/vrrp/twin-support.ts): each side's router runs the same config (a
// bfd_instance to 10.0.0.2 and a vrrp_instance tracking it), its peer namespace runs FRR's bfdd as that neighbour.
// The same events on both sides — bfdd started, killed, started again — and compared: the log lines about the
// tracked BFD, the VRRP states and effective priorities, and where the VIP is.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync } from 'node:fs';
import { join } from 'node:path';
import { needCommand, needFile, needRoot, repoRoot } from '../support/tier.js';
import { Proc, waitFor } from '../vrrp/netns-support.js';
import { logLines, SIDES, Twin, type Side } from '../vrrp/twin-support.js';
import { BFDD, startBfdd } from './bfd-netns.js';

// 200 ms × 3: what is compared is track_bfd, not timing; four daemons and two bfdd start at once here.
const config = (track: string): string => `bfd_instance gw {
  neighbor_ip 10.0.0.2
  min_rx 200
  min_tx 200
  multiplier 3
}
vrrp_instance VI_1 {
  state BACKUP
  interface eth0
  virtual_router_id 51
  priority 100
  advert_int 1
  track_bfd {
    ${track}
  }
  virtual_ipaddress {
    10.0.0.100/24
  }
}
`;

/** The initial FAULT is logged differently by each ("(VI_1) entering FAULT state" / "… STATE (init)"): not compared. */
const RELEVANT = /Tracked BFD|Entering \w+ STATE$|Changing effective priority/;

/** bfdd in a side's peer namespace, peering with the router (10.0.0.1). */
function peerBfdd(twin: Twin, side: Side, procs: Proc[]): Proc {
  const p = startBfdd(twin.peer(side), join(twin.dir, `frr-${side}`), 'bfd\n peer 10.0.0.1\n  receive-interval 200\n  transmit-interval 200\n  detect-multiplier 3\n !\n!\n');
  procs.push(p);
  return p;
}

function have(t: TestContext): boolean {
  return needRoot(t) && needCommand(t, 'ip', 'iproute2') && needFile(t, '/usr/sbin/keepalived', 'needs keepalived 2.2.7 (apt-get install keepalived)') &&
    needFile(t, BFDD, 'needs FRR bfdd (apt-get install frr)');
}

async function run(t: TestContext, tag: string, track: string, steady: (side: Side, log: string) => boolean): Promise<Record<Side, string[]>> {
  const twin = new Twin(tag);
  const peers: Proc[] = [];
  const daemons: Partial<Record<Side, Proc>> = {};
  try {
    // bfdd drops privileges to the frr user: its socket directory and config must be reachable.
    chmodSync(twin.dir, 0o755);
    const path = twin.writeConfig(config(track));
    const bfdds = Object.fromEntries(SIDES.map((s) => [s, peerBfdd(twin, s, peers)])) as Record<Side, Proc>;
    for (const side of SIDES) daemons[side] = twin.start(side, path, repoRoot, false, ['-b', join(twin.dir, `${side}-bfd.pid`)]);
    const log = (s: Side): string => daemons[s]!.log;
    const count = (s: Side, re: RegExp): number => logLines(log(s), re).length;
    // The session comes Up and the instance settles.
    assert.ok(await waitFor(() => SIDES.every((s) => count(s, /Tracked BFD instance gw is UP/) === 1 && steady(s, log(s))), 15_000),
      `${log('ka')}\n----\n${log('lk')}\n----\n${bfdds.ka.log}`);
    const vipUp = SIDES.map((s) => twin.addrs(s, 'eth0').includes('10.0.0.100/24'));
    // bfdd dies on both peers: the tracked BFD goes Down.
    for (const s of SIDES) bfdds[s].killHard();
    assert.ok(await waitFor(() => SIDES.every((s) => count(s, /Tracked BFD instance gw is DOWN/) === 1), 5000), `${log('ka')}\n----\n${log('lk')}`);
    await waitFor(() => false, 4500);
    const vipDown = SIDES.map((s) => twin.addrs(s, 'eth0').includes('10.0.0.100/24'));
    // And comes back.
    for (const s of SIDES) peerBfdd(twin, s, peers);
    assert.ok(await waitFor(() => SIDES.every((s) => count(s, /Tracked BFD instance gw is UP/) === 2), 10_000), `${log('ka')}\n----\n${log('lk')}`);
    await waitFor(() => false, 4500);
    assert.deepEqual(vipUp, [vipUp[0], vipUp[0]], 'VIP while Up');
    assert.deepEqual(vipDown, [vipDown[0], vipDown[0]], 'VIP while Down');
    return Object.fromEntries(SIDES.map((s) => [s, logLines(log(s), RELEVANT)])) as Record<Side, string[]>;
  } finally {
    for (const p of peers) p.killHard();
    await twin.destroy();
  }
}

test('track_bfd without weight: the instance is in FAULT while the session is Down, as keepalived', { timeout: 120_000 }, async (t) => {
  if (!have(t)) return;
  const lines = await run(t, 'bfdf', 'gw', (_s, log) => /Entering MASTER STATE/.test(log));
  assert.deepEqual(lines.lk, lines.ka);
  assert.ok(lines.ka.some((l) => /Entering FAULT STATE/.test(l)), lines.ka.join('\n'));
});

test('track_bfd with a weight: the priority moves with the session, as keepalived', { timeout: 120_000 }, async (t) => {
  if (!have(t)) return;
  const lines = await run(t, 'bfdw', 'gw weight -20', (_s, log) => /Entering MASTER STATE/.test(log));
  assert.deepEqual(lines.lk, lines.ka);
  assert.ok(lines.ka.some((l) => /Changing effective priority from 100 to 80/.test(l)), lines.ka.join('\n'));
});

test('track_bfd with a reversed weight: Up lowers the priority, as keepalived', { timeout: 120_000 }, async (t) => {
  if (!have(t)) return;
  const lines = await run(t, 'bfdr', 'gw weight 10 reverse', (_s, log) => /Entering MASTER STATE/.test(log));
  assert.deepEqual(lines.lk, lines.ka);
  assert.ok(lines.ka.some((l) => /Changing effective priority from 100 to 90/.test(l)), lines.ka.join('\n'));
});
