// Discarded packets against keepalived 2.2.7 (test/vrrp/twin-support.ts), with -D as the twin runs both: each side's
// router runs one bfd_instance towards its peer namespace, from where the same crafted control packets are sent to
// it (source port 49999), every one of them to be discarded. The lines each logs for them are compared, in order
// (bfd.c bfd_check_packet, bfd_check_packet_ttl; bfd_scheduler.c bfd_handle_packet).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { needCommand, needFile, needRoot, repoRoot } from '../support/tier.js';
import { waitFor } from '../vrrp/netns-support.js';
import { logLines, SIDES, Twin, type Side } from '../vrrp/twin-support.js';
import { BfdState, encodeControl, type ControlPacket } from '../../src/bfd/packet.js';

const CONFIG = 'bfd_instance gw {\n  neighbor_ip 10.0.0.2\n  min_rx 200\n  min_tx 200\n  multiplier 3\n}\n';

const down: ControlPacket = {
  diag: 0, state: BfdState.Down, poll: false, final: false, cpi: false, auth: false, demand: false, detectMult: 3,
  myDiscr: 7, yourDiscr: 0, desiredMinTx: 1_000_000, requiredMinRx: 1_000_000, requiredMinEchoRx: 0,
};
const edit = (b: Buffer, f: (b: Buffer) => unknown): Buffer => {
  f(b);
  return b;
};

/** Each [bytes, TTL]: one per check, the last ones reaching the session (found by address) before failing. */
const PACKETS: readonly [Buffer, number][] = [
  [encodeControl(down).subarray(0, 20), 255],
  [Buffer.concat([encodeControl(down), Buffer.alloc(4)]), 255],
  [edit(encodeControl(down), (b) => (b[0] = (2 << 5) | (b[0]! & 0x1f))), 255],
  [encodeControl({ ...down, detectMult: 0 }), 255],
  [edit(encodeControl(down), (b) => (b[1]! |= 0x01)), 255],
  [encodeControl({ ...down, myDiscr: 0 }), 255],
  [encodeControl({ ...down, state: BfdState.Up }), 255],
  [encodeControl({ ...down, poll: true, final: true }), 255],
  [encodeControl({ ...down, diag: 9 }), 255],
  [encodeControl({ ...down, yourDiscr: 0xbeef }), 255],
  [encodeControl(down), 254],
  // The A bit with no session: the session's absence is what is said (bfd_handle_packet looks it up first).
  [edit(encodeControl({ ...down, yourDiscr: 0xbeef }), (b) => (b[1]! |= 0x04)), 255],
  [edit(encodeControl(down), (b) => (b[1]! |= 0x04)), 255],
];

/** Sends the packets from 10.0.0.2:49999 in the side's peer namespace, one every 50 ms. */
const SENDER = `const s = require('dgram').createSocket('udp4');
const list = JSON.parse(process.argv[1]);
s.bind(49999, '10.0.0.2', async () => {
  for (const [hex, ttl] of list) {
    s.setTTL(ttl);
    await new Promise((r) => s.send(Buffer.from(hex, 'hex'), 3784, '10.0.0.1', r));
    await new Promise((r) => setTimeout(r, 50));
  }
  s.close();
});`;

const RELEVANT = /^Packet |^Discarding /;

test('every discarded packet is logged (-D) as keepalived logs it', { timeout: 60_000 }, async (t) => {
  if (!needRoot(t) || !needCommand(t, 'ip', 'iproute2') || !needFile(t, '/usr/sbin/keepalived', 'needs keepalived 2.2.7 (apt-get install keepalived)')) return;
  const twin = new Twin('hBdsc');
  try {
    const path = twin.writeConfig(CONFIG);
    const daemons = Object.fromEntries(SIDES.map((s) => [s, twin.start(s, path, repoRoot, false, ['-b', join(twin.dir, `${s}-bfd.pid`)])]));
    const log = (s: Side): string => daemons[s]!.log;
    // The BFD child is up once it has tried its first packet to the silent neighbour (it sends at once).
    assert.ok(await waitFor(() => SIDES.every((s) => /Starting BFD child process/.test(log(s))), 15_000));
    await waitFor(() => false, 3000);
    const list = JSON.stringify(PACKETS.map(([b, ttl]) => [b.toString('hex'), ttl]));
    for (const s of SIDES) {
      const r = spawnSync('ip', ['netns', 'exec', twin.peer(s), process.execPath, '-e', SENDER, list], { encoding: 'utf8' });
      assert.equal(r.status, 0, r.stderr);
    }
    assert.ok(await waitFor(() => SIDES.every((s) => logLines(log(s), /auth bit is set/).length === 1), 5000), `${log('ka')}\n----\n${log('lk')}`);
    const lines = Object.fromEntries(SIDES.map((s) => [s, logLines(log(s), RELEVANT)])) as Record<Side, string[]>;
    assert.deepEqual(lines.lk, lines.ka);
    assert.equal(lines.ka.filter((l) => l.startsWith('Discarding')).length, PACKETS.length - 1, lines.ka.join('\n'));
  } finally {
    await twin.destroy();
  }
});
