// ha_suspend in network namespaces: a virtual server on the VIP is installed while its vrrp_instance is MASTER and
// suspended while it is BACKUP (here: a higher-priority peer takes over).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { requestDaemon } from '../../src/cli/daemon-client.js';
import { needRoot, repoRoot } from '../support/tier.js';
import { Topology, VIP, vrrpConfig, waitFor } from '../vrrp/netns-support.js';

interface Status {
  ipvs: { virtualServers: { vsId: string; haSuspended: boolean }[] };
  vrrp: { name: string; state: string }[];
}

test('ha_suspend follows the owning instance: installed as MASTER, suspended as BACKUP', { timeout: 90_000 }, async (t) => {
  if (!needRoot(t)) return;
  const topo = new Topology('dh');
  t.after(() => topo.destroy());
  const vs = `virtual_server ${VIP} 80 {\n  delay_loop 1\n  lb_algo rr\n  lb_kind DR\n  protocol TCP\n  ha_suspend\n` +
    `  real_server 192.0.2.3 80 {\n    weight 1\n  }\n}\n`;
  const conf = topo.writeConfig('a.conf', vrrpConfig({ priority: 150, vrid: 62 }) + vs);
  const d = topo.dir;
  const sock = join(d, 'a.sock');
  const daemon = topo.startDaemon('a', ['-n', '-l', '-D', '--ipvs-driver', 'dry-run', '--pid', join(d, 'a.pid'), '--control-socket', sock,
    '--state-file', join(d, 'a.state'), '-f', conf], repoRoot);
  let last: Status | undefined;
  const status = async (): Promise<Status | undefined> => {
    try {
      return (last = (await requestDaemon(sock, { cmd: 'status' })) as unknown as Status);
    } catch {
      return undefined;
    }
  };
  const suspended = (s: Status | undefined): boolean | undefined => s?.ipvs.virtualServers[0]?.haSuspended;
  const poll = async (want: boolean, ms: number): Promise<boolean> => {
    const end = Date.now() + ms;
    while (Date.now() < end) {
      if (suspended(await status()) === want) return true;
      await new Promise((r) => setTimeout(r, 100));
    }
    return false;
  };
  assert.ok(await poll(true, 10_000), `not suspended while BACKUP: ${JSON.stringify(last)}\n${daemon.log}`);
  assert.equal(last?.vrrp[0]?.state, 'BACKUP');
  assert.ok(await waitFor(() => topo.holds('a'), 15_000), daemon.log);
  assert.ok(await poll(false, 5_000), `still suspended as MASTER: ${JSON.stringify(last)}`);
  assert.ok(await waitFor(() => /IPVS op: ipvsadm -a -t 192\.0\.2\.100:80 -r 192\.0\.2\.3:80 -g -w 1/.test(daemon.log), 5_000), daemon.log);

  const peer = topo.startLvskeeper('b', topo.writeConfig('b.conf', vrrpConfig({ priority: 200, vrid: 62 })), repoRoot);
  assert.ok(await waitFor(() => topo.holds('b') && !topo.holds('a'), 15_000), peer.log);
  assert.ok(await poll(true, 5_000), `not suspended after losing MASTER: ${JSON.stringify(last)}`);
  assert.ok(await waitFor(() => /IPVS op: ipvsadm -D -t 192\.0\.2\.100:80/.test(daemon.log), 5_000), daemon.log);
  daemon.signal('SIGTERM');
  await daemon.exited();
  assert.equal(daemon.child.exitCode, 0);
});
