// log_unknown_vrids against keepalived 2.2.7 in twin namespaces (twin-support.ts): a keepalived on each side's peer
// namespace sends adverts for VRID 77, which neither router has, and for VRID 52, which one has. Without the keyword
// neither router logs them; after a reload that adds it both log keepalived's line once per advert captured on the
// link — once per packet, not once per instance, though two instances share the interface. Then the other line:
// unicast instances sharing a VRID, and adverts for it from an address that is none of their peers.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { needCommand, needFile, needRoot, repoRoot } from '../support/tier.js';
import { waitFor } from './netns-support.js';
import { SIDES, Twin, logLines, type Capture, type Side } from './twin-support.js';

const instance = (name: string, vrid: number, iface: string, priority: number, vip: string): string =>
  `vrrp_instance ${name} {\n  state BACKUP\n  interface ${iface}\n  virtual_router_id ${vrid}\n  priority ${priority}\n` +
  `  advert_int 1\n  virtual_ipaddress {\n    ${vip}\n  }\n}\n`;

const routerConf = (log: boolean): string =>
  `global_defs {\n  vrrp_garp_master_delay 0\n${log ? '  log_unknown_vrids\n' : ''}}\n` +
  instance('VI_1', 51, 'eth0', 100, '10.0.0.100/24') + instance('VI_2', 52, 'eth0', 100, '10.0.0.101/24');

// The peer (10.0.0.2 on p0) wins VRID 52 and owns 77 alone: its adverts for both reach the routers' eth0.
const PEER_CONF = instance('P_77', 77, 'p0', 200, '10.0.0.177/24') + instance('P_52', 52, 'p0', 200, '10.0.0.101/24');

/** VRID 77 adverts the peer put on its link, as tcpdump saw them. */
const adverts77 = (c: Capture): number => c.lines.filter((l) => /VRRPv2, Advertisement, vrid 77,/.test(l)).length;

test('log_unknown_vrids: off, nothing; on (after a reload), keepalived\'s line once per unknown-VRID advert — as keepalived', { timeout: 120_000 }, async (t) => {
  if (!needRoot(t) || !needCommand(t, 'tcpdump') || !needFile(t, '/usr/sbin/keepalived', 'needs keepalived 2.2.7 (apt-get install keepalived)')) return;
  const twin = new Twin('uv');
  try {
    const conf = twin.writeConfig(routerConf(false));
    const peerConf = join(twin.dir, 'peer.conf');
    writeFileSync(peerConf, PEER_CONF);
    const cap = { ka: await twin.capture('ka', 'p0', 'proto 112'), lk: await twin.capture('lk', 'p0', 'proto 112') };
    const procs = { ka: twin.start('ka', conf, repoRoot), lk: twin.start('lk', conf, repoRoot) };
    const unknown = (side: Side): string[] => logLines(procs[side].log, /Unknown VRID/);
    for (const side of SIDES) assert.ok(await waitFor(() => logLines(procs[side].log, /\(VI_2\) Entering (BACKUP|MASTER) STATE/).length > 0, 15_000), `${side}:\n${procs[side].log}`);

    // Without the keyword: adverts for 77 arrive and nothing is said.
    let peers = { ka: twin.startPeerKeepalived('ka', peerConf), lk: twin.startPeerKeepalived('lk', peerConf) };
    for (const side of SIDES) assert.ok(await waitFor(() => adverts77(cap[side]) >= 3, 20_000), `${side}: no VRID 77 adverts\n${peers[side].log}`);
    for (const side of SIDES) peers[side].signal('SIGTERM');
    await Promise.all(SIDES.map((s) => peers[s].exited()));
    for (const side of SIDES) assert.deepEqual(unknown(side), [], side);

    // With it, after a reload: one line per advert for 77, none for 52.
    writeFileSync(conf, routerConf(true));
    for (const side of SIDES) procs[side].signal('SIGHUP');
    const reloaded: Record<Side, RegExp> = { ka: /^Reloading$/, lk: /^VRRP reload:/ };
    for (const side of SIDES) assert.ok(await waitFor(() => logLines(procs[side].log, reloaded[side]).length > 0, 10_000), `${side}:\n${procs[side].log}`);
    await new Promise((r) => setTimeout(r, 500));
    const before = { ka: adverts77(cap.ka), lk: adverts77(cap.lk) };
    peers = { ka: twin.startPeerKeepalived('ka', peerConf), lk: twin.startPeerKeepalived('lk', peerConf) };
    for (const side of SIDES) assert.ok(await waitFor(() => adverts77(cap[side]) >= before[side] + 4, 20_000), `${side}:\n${peers[side].log}`);
    for (const side of SIDES) peers[side].signal('SIGTERM');
    await Promise.all(SIDES.map((s) => peers[s].exited()));
    const sent = { ka: adverts77(cap.ka) - before.ka, lk: adverts77(cap.lk) - before.lk };
    for (const side of SIDES) await waitFor(() => unknown(side).length >= sent[side], 3000);
    await new Promise((r) => setTimeout(r, 300));
    for (const side of SIDES) assert.equal(unknown(side).length, sent[side], `${side}: ${sent[side]} adverts for VRID 77, lines:\n${unknown(side).join('\n')}`);
    assert.deepEqual([...new Set(unknown('lk'))], [...new Set(unknown('ka'))]);
    assert.deepEqual([...new Set(unknown('ka'))], ['Unknown VRID(77) received on interface(eth0). ignoring...']);
  } finally {
    await twin.destroy();
  }
});

const unicastInstance = (name: string, peer: string, vip: string): string =>
  `vrrp_instance ${name} {\n  state BACKUP\n  interface eth0\n  virtual_router_id 51\n  priority 100\n  advert_int 1\n` +
  `  unicast_peer {\n    ${peer}\n  }\n  virtual_ipaddress {\n    ${vip}\n  }\n}\n`;

// Two unicast instances share VRID 51 on eth0 (peers 10.0.0.3 and 10.0.0.4); the peer at 10.0.0.2, neither's.
const DUPLICATE_CONF = 'global_defs {\n  vrrp_garp_master_delay 0\n  log_unknown_vrids\n}\n' +
  unicastInstance('VI_1', '10.0.0.3', '10.0.0.100/24') + unicastInstance('VI_2', '10.0.0.4', '10.0.0.101/24');
const STRANGER_CONF = 'vrrp_instance P {\n  state MASTER\n  interface p0\n  virtual_router_id 51\n  priority 200\n  advert_int 1\n' +
  '  unicast_peer {\n    10.0.0.1\n  }\n  virtual_ipaddress {\n    10.0.0.150/24\n  }\n}\n';

test('log_unknown_vrids: a VRID unicast instances share, from none of their peers: keepalived\'s line naming the source, once per advert', { timeout: 120_000 }, async (t) => {
  if (!needRoot(t) || !needCommand(t, 'tcpdump') || !needFile(t, '/usr/sbin/keepalived', 'needs keepalived 2.2.7 (apt-get install keepalived)')) return;
  const twin = new Twin('ud');
  try {
    const conf = twin.writeConfig(DUPLICATE_CONF);
    const peerConf = join(twin.dir, 'peer.conf');
    writeFileSync(peerConf, STRANGER_CONF);
    const cap = { ka: await twin.capture('ka', 'p0', 'proto 112 and src host 10.0.0.2'), lk: await twin.capture('lk', 'p0', 'proto 112 and src host 10.0.0.2') };
    const procs = { ka: twin.start('ka', conf, repoRoot), lk: twin.start('lk', conf, repoRoot) };
    for (const side of SIDES) assert.ok(await waitFor(() => logLines(procs[side].log, /\(VI_2\) Entering (BACKUP|MASTER) STATE/).length > 0, 15_000), `${side}:\n${procs[side].log}`);
    const peers = { ka: twin.startPeerKeepalived('ka', peerConf), lk: twin.startPeerKeepalived('lk', peerConf) };
    const adverts = (c: Capture): number => c.lines.filter((l) => /VRRPv2, Advertisement, vrid 51,/.test(l)).length;
    for (const side of SIDES) assert.ok(await waitFor(() => adverts(cap[side]) >= 4, 20_000), `${side}:\n${peers[side].log}`);
    for (const side of SIDES) peers[side].signal('SIGTERM');
    await Promise.all(SIDES.map((s) => peers[s].exited()));
    const unknown = (side: Side): string[] => logLines(procs[side].log, /Unknown VRID/);
    for (const side of SIDES) await waitFor(() => unknown(side).length >= adverts(cap[side]), 3000);
    await new Promise((r) => setTimeout(r, 300));
    for (const side of SIDES) assert.equal(unknown(side).length, adverts(cap[side]), `${side}:\n${unknown(side).join('\n')}\n${procs[side].log}`);
    assert.deepEqual([...new Set(unknown('lk'))], [...new Set(unknown('ka'))]);
    assert.deepEqual([...new Set(unknown('ka'))], ['Unknown VRID(51) received on interface(eth0) from 10.0.0.2. ignoring...']);
  } finally {
    await twin.destroy();
  }
});
