// Graceful stop in network namespaces: a MASTER that gets SIGTERM sends a priority-0 advert (seen by tcpdump on
// another node), removes its VIP and exits 0. Its VRRP transitions are mailed (smtp_alert) to an SMTP server on node c.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { needCommand, needRoot, repoRoot } from '../support/tier.js';
import { ADDR, Topology, vrrpConfig, waitFor } from '../vrrp/netns-support.js';

test('a MASTER mails its transition; on SIGTERM: priority-0 advert sent, VIP removed, exit 0', { timeout: 60_000 }, async (t) => {
  if (!needRoot(t) || !needCommand(t, 'tcpdump')) return;
  const topo = new Topology('dq');
  t.after(() => topo.destroy());
  const smtp = spawn('ip', ['netns', 'exec', topo.ns.c, process.execPath, join(repoRoot, 'dist/test/daemon/smtp-server-child.js'), '2525'],
    { stdio: ['ignore', 'pipe', 'inherit'] });
  t.after(() => void smtp.kill('SIGKILL'));
  let mails = '';
  smtp.stdout.on('data', (c: Buffer) => (mails += c.toString()));
  assert.ok(await waitFor(() => /port 2525/.test(mails), 5_000));
  const smtpGlobals = `global_defs {\n  notification_email {\n    ops@example.com\n  }\n  smtp_server ${ADDR.c} 2525\n  smtp_alert`;
  const conf = topo.writeConfig('a.conf', vrrpConfig({ priority: 150, vrid: 61 }).replace('global_defs {', smtpGlobals));
  const d = topo.dir;
  const daemon = topo.startDaemon('a', ['-n', '-l', '--pid', join(d, 'a.pid'), '--control-socket', join(d, 'a.sock'),
    '--state-file', join(d, 'a.state'), '-f', conf], repoRoot);
  assert.ok(await waitFor(() => topo.holds('a'), 15_000), `no VIP on a:\n${daemon.log}`);
  assert.ok(await waitFor(() => /\(VI_1\) Entering MASTER STATE/.test(daemon.log), 5_000), daemon.log);

  const dump = spawn('ip', ['netns', 'exec', topo.ns.c, 'tcpdump', '-n', '-l', '-v', '-i', 'eth0', 'ip proto 112'], { stdio: ['ignore', 'pipe', 'pipe'] });
  t.after(() => void dump.kill('SIGKILL'));
  let captured = '';
  dump.stdout.on('data', (c: Buffer) => (captured += c.toString()));
  let listening = '';
  dump.stderr.on('data', (c: Buffer) => (listening += c.toString()));
  assert.ok(await waitFor(() => /VRRP Instance VI_1 - Entering MASTER state/.test(mails), 10_000), `${mails}\n${daemon.log}`);
  assert.match(mails, /=> VRRP Instance is now owning VRRP VIPs <=/);
  assert.ok(await waitFor(() => /listening on/.test(listening) && /vrid 61, prio 150/.test(captured), 10_000), `${listening}\n${captured}`);

  daemon.signal('SIGTERM');
  const code = await new Promise<number | null>((r) => daemon.child.once('exit', (c) => r(c)));
  assert.equal(code, 0, daemon.log);
  assert.ok(await waitFor(() => /vrid 61, prio 0,/.test(captured), 5_000), captured);
  assert.equal(topo.holds('a'), false);
  assert.ok(await waitFor(() => /Stopped lvskeeper/.test(daemon.log), 2_000), daemon.log);
});
