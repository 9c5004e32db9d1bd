// unicast_fault_no_peer against keepalived 2.2.7 in twin namespaces (twin-support.ts): without peers the instance
// stays in FAULT from the start (no multicast fallback, no advert, no VIP), and says so once; with a peer it runs.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { needCommand, needFile, needRoot, repoRoot } from '../support/tier.js';
import { waitFor } from './netns-support.js';
import { SIDES, Twin, logLines, type Side } from './twin-support.js';

const instance = (name: string, vrid: number, peers: readonly string[]): string => `vrrp_instance ${name} {
  state BACKUP
  interface eth0
  virtual_router_id ${vrid}
  priority 100
  advert_int 1
  unicast_src_ip 10.0.0.1
  unicast_fault_no_peer
  unicast_peer {
${peers.map((p) => `    ${p}`).join('\n')}
  }
  virtual_ipaddress {
    10.0.0.${vrid}/24
  }
}
`;

test('unicast_fault_no_peer: no peers, FAULT from the start with no advert and no VIP; with a peer, MASTER over unicast — as keepalived', { timeout: 90_000 }, async (t) => {
  if (!(needRoot(t) && needCommand(t, 'tcpdump') && needFile(t, '/usr/sbin/keepalived', 'needs keepalived 2.2.7 (apt-get install keepalived)'))) return;
  const twin = new Twin('uf');
  try {
    const conf = twin.writeConfig(`global_defs {\n  vrrp_garp_master_delay 0\n}\n${instance('VI_1', 51, [])}${instance('VI_2', 52, ['10.0.0.2'])}`);
    const wire = { ka: await twin.capture('ka', 'p0', 'ip proto 112'), lk: await twin.capture('lk', 'p0', 'ip proto 112') };
    const procs = { ka: twin.start('ka', conf, repoRoot), lk: twin.start('lk', conf, repoRoot) };
    const log = (side: Side): string => procs[side].log;
    for (const side of SIDES) assert.ok(await waitFor(() => /\(VI_2\) Entering MASTER STATE/.test(log(side)), 15_000), `${side}:\n${log(side)}`);
    // Three more advert intervals: VI_1 would be MASTER by now if it ran.
    await new Promise((r) => setTimeout(r, 3000));
    const lines = (side: Side): string[] => logLines(log(side), /\(VI_1\)/).filter((l) => !/Sending\/queueing/.test(l));
    assert.deepEqual(lines('lk'), lines('ka'));
    assert.deepEqual(lines('ka'), ['(VI_1) Cannot use unicast without any peers - going to fault state', '(VI_1) removing VIPs.']);
    for (const side of SIDES) {
      assert.deepEqual(twin.addrs(side, 'eth0'), ['10.0.0.1/24', '10.0.0.52/24'], side);
      const adverts = wire[side].lines.filter((l) => /VRRPv2/.test(l));
      assert.ok(adverts.length > 0 && adverts.every((l) => / 10\.0\.0\.1 > 10\.0\.0\.2: VRRPv2, Advertisement, vrid 52,/.test(l)), `${side}: only VI_2's unicast adverts:\n${adverts.join('\n')}`);
    }
  } finally {
    await twin.destroy();
  }
});
