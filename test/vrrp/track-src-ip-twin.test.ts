// track_src_ip and the interface address an instance sends from: lvskeeper against keepalived 2.2.7 in twin
// namespaces (twin-support.ts). VI_1 sends from eth0's own address, VI_2 from a configured mcast_src_ip; both say
// track_src_ip. The same address changes on both sides: another address comes and eth0's first one goes (VI_1's
// adverts move to the other), that one goes too (VI_1 to FAULT; VI_2, its configured source gone, stays MASTER —
// keepalived 2.2.7's track_src_ip never matches), the first comes back (VI_1 BACKUP, then MASTER). Compared: the
// log lines of each instance, the address lines, the adverts' sources on the wire, `ip -j addr`.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { needCommand, needFile, needRoot, repoRoot } from '../support/tier.js';
import { waitFor } from './netns-support.js';
import { SIDES, Twin, logLines, type Capture, type Side } from './twin-support.js';

const instance = (name: string, vrid: number, extra: readonly string[], vip: string): string =>
  [`vrrp_instance ${name} {`, '  state BACKUP', '  interface eth0', `  virtual_router_id ${vrid}`, '  priority 100', '  advert_int 1',
    ...extra.map((x) => `  ${x}`), '  virtual_ipaddress {', `    ${vip}`, '  }', '}', ''].join('\n');

const CONFIG = 'global_defs {\n  vrrp_garp_master_delay 0\n}\n' +
  instance('VI_1', 51, ['track_src_ip'], '192.0.2.51/32') +
  instance('VI_2', 52, ['mcast_src_ip 10.0.0.1', 'track_src_ip'], '192.0.2.52/32');

/** The sources of a VRID's adverts on the wire, in order, a run of one source counted once. */
function advertSources(c: Capture, vrid: number): string[] {
  const out: string[] = [];
  for (const l of c.lines) {
    const m = /: (\S+) > 224\.0\.0\.18: VRRPv2, Advertisement, vrid (\d+), prio (\d+)/.exec(l);
    if (!m || Number(m[2]) !== vrid || m[3] === '0') continue;
    if (out.at(-1) !== m[1]) out.push(m[1]!);
  }
  return out;
}

test('track_src_ip: the instance sending from the interface address follows it, goes to FAULT when none is left and comes back; the one with mcast_src_ip stays MASTER — as keepalived', { timeout: 120_000 }, async (t) => {
  if (!needRoot(t) || !needCommand(t, 'tcpdump') || !needFile(t, '/usr/sbin/keepalived', 'needs keepalived 2.2.7 (apt-get install keepalived)')) return;
  const twin = new Twin('tsi');
  try {
    const conf = twin.writeConfig(CONFIG);
    const cap = { ka: await twin.capture('ka', 'p0', 'proto 112'), lk: await twin.capture('lk', 'p0', 'proto 112') };
    const procs = { ka: twin.start('ka', conf, repoRoot), lk: twin.start('lk', conf, repoRoot) };
    const log = (side: Side): string => procs[side].log;
    const count = (side: Side, re: RegExp): number => logLines(log(side), re).length;
    const settle = async (what: string, done: (side: Side) => boolean): Promise<void> => {
      for (const side of SIDES) assert.ok(await waitFor(() => done(side), 15_000), `${side}: ${what}\n${log(side)}`);
      await new Promise((r) => setTimeout(r, 1500));
    };
    await settle('both MASTER', (side) => count(side, /Entering MASTER STATE/) >= 2);

    // Another address comes, then eth0's first one goes: VI_1's adverts now leave from the other.
    twin.both((side) => twin.ip(side, 'addr', 'add', '10.0.1.1/24', 'dev', 'eth0'));
    await new Promise((r) => setTimeout(r, 500));
    twin.both((side) => twin.ip(side, 'addr', 'del', '10.0.0.1/24', 'dev', 'eth0'));
    await settle('adverts from 10.0.1.1', (side) => advertSources(cap[side], 51).at(-1) === '10.0.1.1');

    // No address left: VI_1 to FAULT; VI_2 keeps sending as MASTER.
    twin.both((side) => twin.ip(side, 'addr', 'del', '10.0.1.1/24', 'dev', 'eth0'));
    await settle('VI_1 FAULT', (side) => count(side, /\(VI_1\) Entering FAULT STATE/) >= 1);
    assert.deepEqual(twin.addrs('lk', 'eth0'), twin.addrs('ka', 'eth0'));

    // The address is back: VI_1 BACKUP, then MASTER after the down timer.
    twin.both((side) => twin.ip(side, 'addr', 'add', '10.0.0.1/24', 'dev', 'eth0'));
    await settle('VI_1 MASTER again', (side) => count(side, /\(VI_1\) Entering MASTER STATE/) >= 2);
    assert.deepEqual(twin.addrs('lk', 'eth0'), twin.addrs('ka', 'eth0'));

    const lines = (side: Side, who: string): string[] => logLines(log(side), new RegExp(`\\(${who}\\) (Entering|sent 0 priority|removing VIPs|setting VIPs)`));
    const addressLines = (side: Side): string[] => logLines(log(side), /ssigned address (?!fe80)/);
    for (const who of ['VI_1', 'VI_2']) assert.deepEqual(lines('lk', who), lines('ka', who), who);
    assert.deepEqual(addressLines('lk'), addressLines('ka'));
    for (const vrid of [51, 52]) assert.deepEqual(advertSources(cap.lk, vrid), advertSources(cap.ka, vrid), `vrid ${vrid}`);
    // Not vacuous: keepalived did all of that.
    assert.deepEqual(lines('ka', 'VI_1').filter((l) => /Entering/.test(l)),
      ['(VI_1) Entering BACKUP STATE (init)', '(VI_1) Entering MASTER STATE', '(VI_1) Entering FAULT STATE', '(VI_1) Entering BACKUP STATE', '(VI_1) Entering MASTER STATE']);
    assert.deepEqual(lines('ka', 'VI_2').filter((l) => /Entering/.test(l)), ['(VI_2) Entering BACKUP STATE (init)', '(VI_2) Entering MASTER STATE']);
    assert.deepEqual(addressLines('ka'), [
      'Assigned address 10.0.0.1 for interface eth0', 'Deassigned address 10.0.1.1 from interface eth0', 'Assigned address 10.0.0.1 for interface eth0',
    ]);
    assert.deepEqual(advertSources(cap.ka, 51), ['10.0.0.1', '10.0.1.1', '10.0.0.1']);
  } finally {
    await twin.destroy();
  }
});
