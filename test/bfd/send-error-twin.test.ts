// A neighbour with no route: keepalived 2.2.7 and lvskeeper each run the same bfd_instance in a namespace of their
// own (test/bfd/bfd-netns.ts), and their send-failure lines are compared (bfd_scheduler.c bfd_send_packet's
// "sendto() error (%m)" and bfd_sender_thread's "(name) Error sending packet", each once per run of failures).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { needCommand, needFile, needRoot } from '../support/tier.js';
import { waitFor } from '../vrrp/netns-support.js';
import { logLines } from '../vrrp/twin-support.js';
import { BfdLink } from './bfd-netns.js';

// 192.0.2.9: no route to it in either namespace (ENETUNREACH).
const CONFIG = 'bfd_instance gw {\n  neighbor_ip 192.0.2.9\n  min_rx 100\n  min_tx 100\n  multiplier 3\n}\n';
const SEND = /sendto\(\) error|Error sending packet/;

test('a send that fails is logged as keepalived logs it, once until a send succeeds', { timeout: 60_000 }, async (t) => {
  if (!needRoot(t) || !needCommand(t, 'ip', 'iproute2') || !needFile(t, '/usr/sbin/keepalived', 'needs keepalived 2.2.7 (apt-get install keepalived)')) return;
  const l = new BfdLink('hBsnd');
  try {
    const lk = l.startLvskeeper(CONFIG);
    const ka = l.startKeepalived(CONFIG);
    // Both send at once on start, then every idle second: three seconds is two or three more failures each.
    assert.ok(await waitFor(() => SEND.test(lk.log) && SEND.test(ka.log), 15_000), `${ka.log}\n----\n${lk.log}`);
    await waitFor(() => false, 3000);
    // lvskeeper's console marks an error-level line "ERROR:" (src/log.ts), keepalived's shows no level: taken off.
    const lines = { ka: logLines(ka.log, SEND), lk: logLines(lk.log, SEND).map((x) => x.replace(/^ERROR: /, '')) };
    assert.deepEqual(lines.lk, lines.ka);
    assert.deepEqual(lines.ka, ['sendto() error (Network is unreachable)', '(gw) Error sending packet']);
  } finally {
    await l.destroy();
  }
});
