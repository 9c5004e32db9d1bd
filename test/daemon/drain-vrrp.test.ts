// `lvskeeper events` and `lvskeeper status` for VRRP: one instance on a veth link inside a namespace of the test's own,
// the daemon there (VRRP only), the CLI outside it talking to the control socket by path.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { needCommand, needRoot } from '../support/tier.js';
import { cli, Running, until } from './drain-harness.js';

const NS = 'lvskd-vrrp';

function ip(...args: string[]): void {
  const r = spawnSync('ip', args, { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`ip ${args.join(' ')}: ${r.stderr}`);
}

test('events shows VRRP transitions as logged, status shows state and priority', { timeout: 90_000 }, async (t) => {
  if (!needRoot(t) || !needCommand(t, 'ip', 'iproute2')) return;
  const dir = mkdtempSync(join(tmpdir(), 'lvskd-vrrp-'));
  spawnSync('ip', ['netns', 'del', NS], { stdio: 'ignore' });
  const procs: Running[] = [];
  try {
    ip('netns', 'add', NS);
    ip('-n', NS, 'link', 'set', 'lo', 'up');
    // A veth pair with both ends inside (this kernel may lack the dummy driver); eth1 only keeps eth0's carrier up.
    ip('-n', NS, 'link', 'add', 'eth0', 'type', 'veth', 'peer', 'name', 'eth1');
    ip('-n', NS, 'addr', 'add', '192.0.2.1/24', 'dev', 'eth0');
    ip('-n', NS, 'link', 'set', 'eth1', 'up');
    ip('-n', NS, 'link', 'set', 'eth0', 'up');
    const conf = join(dir, 'keepalived.conf');
    writeFileSync(
      conf,
      'vrrp_instance VI_1 {\n  state BACKUP\n  interface eth0\n  virtual_router_id 51\n  priority 150\n  advert_int 1\n' +
        '  virtual_ipaddress {\n    192.0.2.100/24\n  }\n}\n',
    );
    const socket = join(dir, 'control.sock');
    const sock = ['--socket', socket];
    const daemonArgs = ['-f', conf, '-P', '-n', '-l', '--control-socket', socket, '--state-file', join(dir, 'overrides.json'), '--pid', join(dir, 'pid')];
    const daemon = new Running(daemonArgs, ['ip', 'netns', 'exec', NS]);
    procs.push(daemon);
    await until('the control socket', 15_000, async () => ((await cli(['status', ...sock])).code === 0 ? true : undefined));
    const events = new Running(['events', ...sock]);
    procs.push(events);
    await until('the events subscription', 10_000, () => (events.stderr.startsWith('following events of') ? true : undefined));

    // No peer: the master-down timer (3 × advert_int + skew) expires and the instance takes over.
    await events.waitFor(/^\S+ \(VI_1\) Entering MASTER STATE$/, 15_000);
    const s = await cli(['status', ...sock]);
    assert.equal(s.code, 0, s.stderr);
    // -P: the supervisor and its VRRP child, no checker process.
    assert.match(s.stdout, /^Processes:\n {2}supervisor pid \d+ +up \d\d:\d\d:\d\d\n {2}vrrp +pid \d+ +up \d\d:\d\d:\d\d\nVRRP instances:\n {2}VI_1 +MASTER +priority 150\nVirtual servers: none\n$/);

    let from = events.lines.length;
    ip('-n', NS, 'link', 'set', 'eth0', 'down');
    await events.waitFor(/^\S+ \(VI_1\) Entering FAULT STATE$/, 10_000, from);
    assert.match((await cli(['status', ...sock])).stdout, /^ {2}VI_1 +FAULT +priority 150$/m);
    from = events.lines.length;
    ip('-n', NS, 'link', 'set', 'eth0', 'up');
    const backup = await events.waitFor(/^\S+ \(VI_1\) Entering BACKUP STATE$/, 10_000, from);
    await events.waitFor(/^\S+ \(VI_1\) Entering MASTER STATE$/, 15_000, backup + 1);
    assert.equal(await events.stop('SIGINT'), 0);
  } finally {
    for (const p of procs) await p.stop();
    spawnSync('ip', ['netns', 'del', NS], { stdio: 'ignore' });
    rmSync(dir, { recursive: true, force: true });
  }
});
