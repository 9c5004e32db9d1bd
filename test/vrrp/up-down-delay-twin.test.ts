// interface_up_down_delays against keepalived 2.2.7 in twin namespaces (twin-support.ts): a tracked link that goes
// down is acted on only after its down delay, comes back after its up delay, and a flap within the delay changes
// nothing (keepalived_netlink.c update_interface_flags). Log lines, states and the delays' length compared.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { needCommand, needFile, needRoot, repoRoot } from '../support/tier.js';
import { waitFor } from './netns-support.js';
import { SIDES, Twin, logLines, type Side } from './twin-support.js';

// eth1: 2 s before a down is acted on, 3 s before an up (vrrp_parser.c alloc_if_up_down_delay: IFNAME DOWN UP).
const CONFIG = `global_defs {
  vrrp_garp_master_delay 0
}
interface_up_down_delays {
  eth1 2 3
}
vrrp_instance VI_1 {
  state MASTER
  interface eth0
  virtual_router_id 57
  priority 200
  advert_int 1
  track_interface {
    eth1
  }
  virtual_ipaddress {
    10.0.0.100/24
  }
}
`;

const DELAYS = /Adding flags change|Delay timer|Netlink reports eth1|Entering/;
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

test('interface_up_down_delays: a tracked link down/up acted on after its delays, a shorter flap ignored — as keepalived', { timeout: 120_000 }, async (t) => {
  if (!needRoot(t) || !needCommand(t, 'ip', 'iproute2') || !needFile(t, '/usr/sbin/keepalived', 'needs keepalived 2.2.7 (apt-get install keepalived)')) return;
  const twin = new Twin('wtgud');
  try {
    const conf = twin.writeConfig(CONFIG);
    const procs = { ka: twin.start('ka', conf, repoRoot), lk: twin.start('lk', conf, repoRoot) };
    const log = (side: Side): string => procs[side].log;
    const count = (side: Side, re: RegExp): number => logLines(log(side), re).length;
    for (const side of SIDES) assert.ok(await waitFor(() => count(side, /\(VI_1\) Entering MASTER STATE/) === 1, 15_000), `${side} never MASTER:\n${log(side)}`);
    const vipUp = (side: Side): boolean => twin.addrs(side, 'eth0').includes('10.0.0.100/24');

    // A flap shorter than the down delay: delayed, then dropped; no FAULT, the VIP stays. (Short: the kernel's
    // linkwatch may report the carrier, IFF_RUNNING, back up to a second after the link is set up.)
    twin.both((side) => twin.ip(side, 'link', 'set', 'eth1', 'down'));
    await sleep(300);
    twin.both((side) => twin.ip(side, 'link', 'set', 'eth1', 'up'));
    await sleep(2500);
    for (const side of SIDES) {
      assert.equal(count(side, /Adding flags change/), 1, `${side}:\n${log(side)}`);
      assert.equal(count(side, /FAULT|Netlink reports eth1/), 0, `${side}: the flap was acted on:\n${log(side)}`);
      assert.ok(vipUp(side), side);
    }

    // From a side's delaying line to its acting on the change (the kernel's linkwatch may report IFF_RUNNING on one
    // side a second later than on the other, so the delay is timed from the line, not from the command).
    const delayOf = async (side: Side, adding: number, acted: RegExp): Promise<number> => {
      assert.ok(await waitFor(() => count(side, /Adding flags change/) === adding, 5000), `${side} never delayed:\n${log(side)}`);
      const from = Date.now();
      assert.ok(await waitFor(() => count(side, acted) === 1, 6000), `${side} never acted:\n${log(side)}`);
      return Date.now() - from;
    };
    // Down for good: still MASTER within the down delay, FAULT after it.
    twin.both((side) => twin.ip(side, 'link', 'set', 'eth1', 'down'));
    const downs = Promise.all(SIDES.map((side) => delayOf(side, 2, /\(VI_1\) Entering FAULT STATE/)));
    await sleep(1200);
    for (const side of SIDES) {
      assert.equal(count(side, /FAULT/), 0, `${side}: FAULT before the down delay:\n${log(side)}`);
      assert.ok(vipUp(side), `${side}: the VIP went before the down delay`);
    }
    const [downKa, downLk] = await downs;
    for (const side of SIDES) assert.ok(!vipUp(side), side);

    // Up again: acted on after the up delay (BACKUP, then MASTER as nobody else speaks).
    twin.both((side) => twin.ip(side, 'link', 'set', 'eth1', 'up'));
    const ups = Promise.all(SIDES.map((side) => delayOf(side, 3, /Netlink reports eth1 up/)));
    await sleep(2000);
    for (const side of SIDES) assert.equal(count(side, /Netlink reports eth1 up/), 0, `${side}: up before the up delay:\n${log(side)}`);
    const [upKa, upLk] = await ups;
    for (const side of SIDES) assert.ok(await waitFor(() => count(side, /\(VI_1\) Entering MASTER STATE/) === 2, 10_000), `${side}:\n${log(side)}`);

    // The same lines in the same order, and the delays as long on both sides (real daemons: a loose tolerance).
    assert.deepEqual(logLines(log('lk'), DELAYS), logLines(log('ka'), DELAYS));
    for (const [what, ka, lk, want] of [['down', downKa!, downLk!, 2000], ['up', upKa!, upLk!, 3000]] as const) {
      for (const ms of [ka, lk]) assert.ok(ms >= want - 300 && ms <= want + 1000, `${what} acted on after ${ms} ms (keepalived ${ka}, lvskeeper ${lk})`);
      assert.ok(Math.abs(lk - ka) <= 700, `${what}: keepalived ${ka} ms, lvskeeper ${lk} ms`);
    }
  } finally {
    await twin.destroy();
  }
});
