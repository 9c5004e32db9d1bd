// `lvskeeper plan -f NEW.conf` against a running daemon (VRRP in a network namespace, the dry-run IPVS table, which
// logs each operation it applies as an ipvsadm command): for each kind of change the plan's IPVS operations are
// exactly the ones the SIGHUP with that file then applies, its VRRP decisions are the VRRP process's own (its
// `VRRP reload:` line), and a plan of the same file after the reload finds nothing left to do. The VRRP transition
// on the way is checked as `events --json` and the operator console show it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { needRoot, repoRoot } from '../support/tier.js';
import { Topology, VIP, waitFor, type Proc } from '../vrrp/netns-support.js';
import { cli, Running, type CliResult } from './drain-harness.js';

interface Shape {
  priority?: number;
  vrid?: number;
  vips?: readonly string[];
  /** Real servers of VS 192.0.2.100:80: [address, weight, MISC_CHECK path or none]. */
  rs: readonly (readonly [string, number, string?])[];
  algo?: string;
  /** A second virtual server, 192.0.2.101:80 with one real server. */
  second?: boolean;
  /** A UDP virtual server 192.0.2.102:53. */
  third?: boolean;
  timeouts?: string;
}

function configText(s: Shape): string {
  const rs = s.rs.map(([addr, w, misc]) => `  real_server ${addr} 80 {\n    weight ${w}\n` +
    (misc ? `    MISC_CHECK {\n      misc_path "${misc}"\n      misc_timeout 5\n    }\n` : '') + '  }\n').join('');
  return `global_defs {
  router_id lvsk-plan
  script_user root
  enable_script_security
  vrrp_garp_master_delay 0
${s.timeouts ? `  lvs_timeouts ${s.timeouts}\n` : ''}}
vrrp_instance VI_1 {
  state BACKUP
  interface eth0
  virtual_router_id ${s.vrid ?? 71}
  priority ${s.priority ?? 150}
  advert_int 1
  virtual_ipaddress {
${(s.vips ?? [`${VIP}/24`]).map((v) => `    ${v}\n`).join('')}  }
}
virtual_server ${VIP} 80 {
  delay_loop 1
  lb_algo ${s.algo ?? 'rr'}
  lb_kind DR
  protocol TCP
${rs}}
${s.second ? `virtual_server 192.0.2.101 80 {\n  lb_algo rr\n  lb_kind DR\n  protocol TCP\n  real_server 192.0.2.5 80 {\n    weight 1\n  }\n}\n` : ''}${s.third ? `virtual_server 192.0.2.102 53 {\n  lb_algo rr\n  lb_kind DR\n  protocol UDP\n  real_server 192.0.2.6 53 {\n    weight 3\n  }\n}\n` : ''}`;
}

const ipvsLines = (text: string): string[] => text.split('\n').flatMap((l) => /^ {2}(ipvsadm .*)$/.exec(l)?.[1] ?? []);

test('plan reports what the reload then does, for every kind of change', { timeout: 240_000 }, async (t) => {
  if (!needRoot(t)) return;
  const topo = new Topology('pl');
  t.after(() => topo.destroy());
  const base: Shape = { rs: [['192.0.2.3', 1], ['192.0.2.4', 2, '/bin/true']], second: true };
  const conf = topo.writeConfig('keepalived.conf', configText(base));
  const next = join(topo.dir, 'next.conf');
  const socket = join(topo.dir, 'lvsk-a.sock');
  const daemon: Proc = topo.startDaemon('a', ['-n', '-l', '--ipvs-driver', 'dry-run', '--http', '127.0.0.1:19740', '-f', conf, ...topo.daemonFiles('a')], repoRoot);
  assert.ok(await waitFor(() => existsSync(socket), 10_000), daemon.log);
  const events = new Running(['events', '--json', '--socket', socket]);
  t.after(() => events.stop('SIGKILL'));
  assert.ok(await waitFor(() => topo.holds('a'), 20_000), daemon.log);
  // The transition as `events --json` and the console show it: its cause, priority, the state it left.
  const master = JSON.parse(events.lines[await events.waitFor(/"kind":"vrrp".*"to":"MASTER"/, 5_000)]!) as Record<string, unknown>;
  assert.deepEqual([master['instance'], master['from'], master['to'], master['priority'], master['cause']], ['VI_1', 'BACKUP', 'MASTER', 150, 'no advert (master down timer)']);
  const page = spawnSync('ip', ['netns', 'exec', topo.ns.a, process.execPath, '-e', 'fetch("http://127.0.0.1:19740/").then((r) => r.text()).then((t) => process.stdout.write(t))'], { encoding: 'utf8' });
  assert.match(page.stdout, /<tr><td data-label="Instance">VI_1<\/td><td data-label="State"><span class="badge up">MASTER<\/span><\/td><td data-label="Priority">150<\/td><td data-label="Master">this node<\/td><td data-label="Last transition">\d\d:\d\d:\d\d BACKUP → MASTER: no advert \(master down timer\)<\/td><\/tr>/, page.stdout + page.stderr);
  assert.ok(await waitFor(() => /ipvs-dry-run: ipvsadm -a -t 192\.0\.2\.101:80/.test(daemon.log), 10_000), daemon.log);

  const plan = (shape: Shape | string): Promise<CliResult> => {
    writeFileSync(next, typeof shape === 'string' ? shape : configText(shape));
    return cli(['plan', '-f', next, '--socket', socket]);
  };
  /** Plans `shape`, reloads with it; returns the plan and the operations and VRRP line the reload logged. */
  const step = async (shape: Shape): Promise<{ plan: CliResult; applied: string[]; vrrp: string }> => {
    const p = await plan(shape);
    const from = daemon.log.length;
    copyFileSync(next, conf);
    daemon.signal('SIGHUP');
    assert.ok(await waitFor(() => /Reload done/.test(daemon.log.slice(from)), 20_000), daemon.log.slice(from));
    const logged = daemon.log.slice(from);
    const applied = logged.split('\n').flatMap((l) => /ipvs-dry-run: (ipvsadm .*)$/.exec(l)?.[1] ?? []);
    const vrrp = /VRRP reload: (.*)$/m.exec(logged)?.[1] ?? '';
    // Nothing is left for a second reload to do.
    const again = await cli(['plan', '-f', conf, '--socket', socket]);
    assert.equal(again.code, 0, `after the reload:\n${again.stdout}${again.stderr}`);
    assert.match(again.stdout, /^No change\.$/m);
    return { plan: p, applied, vrrp };
  };

  // Unchanged: exit 0, nothing listed.
  const same = await plan(base);
  assert.equal(same.code, 0, same.stdout + same.stderr);
  assert.match(same.stdout, /^ {2}keep {5}VI_1 — state kept \(MASTER\)$/m);
  assert.match(same.stdout, /^IPVS operations: none$/m);
  assert.match(same.stdout, /^Checkers: 1 kept with their state \(1 up, 0 down\), 0 added, 0 removed$/m);

  // A real server's weight.
  let s = await step({ ...base, rs: [['192.0.2.3', 5], ['192.0.2.4', 2, '/bin/true']] });
  assert.equal(s.plan.code, 2, s.plan.stdout);
  assert.deepEqual(ipvsLines(s.plan.stdout), ['ipvsadm -e -t 192.0.2.100:80 -r 192.0.2.3:80 -g -w 5']);
  assert.deepEqual(ipvsLines(s.plan.stdout), s.applied);
  assert.match(s.vrrp, /^1 unchanged, 0 adjusted, 0 restarted, 0 removed, 0 added$/);

  // A real server added, a virtual server removed, another added, lvs_timeouts set.
  const grown: Shape = { rs: [['192.0.2.3', 5], ['192.0.2.4', 2, '/bin/true'], ['192.0.2.7', 1]], third: true, timeouts: 'tcp 900 tcpfin 60 udp 120' };
  s = await step(grown);
  assert.equal(s.plan.code, 2, s.plan.stdout);
  assert.deepEqual(ipvsLines(s.plan.stdout).sort(), [
    'ipvsadm --set 900 60 120',
    'ipvsadm -A -u 192.0.2.102:53 -s rr',
    'ipvsadm -D -t 192.0.2.101:80',
    'ipvsadm -a -t 192.0.2.100:80 -r 192.0.2.7:80 -g -w 1',
    'ipvsadm -a -u 192.0.2.102:53 -r 192.0.2.6:53 -g -w 3',
    'ipvsadm -d -t 192.0.2.101:80 -r 192.0.2.5:80',
  ].sort());
  assert.deepEqual(ipvsLines(s.plan.stdout), s.applied);

  // The scheduler and a checker changed: the service edited, the old probe retired and a new one started.
  const edited: Shape = { ...grown, algo: 'wlc', rs: [['192.0.2.3', 5], ['192.0.2.4', 2, '/usr/bin/true'], ['192.0.2.7', 1]] };
  s = await step(edited);
  assert.deepEqual(ipvsLines(s.plan.stdout), ['ipvsadm -E -t 192.0.2.100:80 -s wlc']);
  assert.deepEqual(ipvsLines(s.plan.stdout), s.applied);
  assert.match(s.plan.stdout, /^Checkers: 0 kept with their state \(0 up, 0 down\), 1 added, 1 removed$/m);
  assert.match(s.plan.stdout, /^ {2}add {6}MISC_CHECK for \[192\.0\.2\.4\]:tcp:80$/m);
  assert.match(s.plan.stdout, /^ {2}remove {3}MISC_CHECK for \[192\.0\.2\.4\]:tcp:80 \(up\)$/m);

  // VRRP priority and a VIP: adjusted in place, MASTER kept.
  s = await step({ ...edited, priority: 120, vips: [`${VIP}/24`, '192.0.2.110/24'] });
  assert.match(s.plan.stdout, /^ {2}adjust {3}VI_1: priority 150 -> 120, VIP \+192\.0\.2\.110 — state kept \(MASTER\): VIPs and priority applied now$/m);
  assert.match(s.vrrp, /^0 unchanged, 1 adjusted, 0 restarted, 0 removed, 0 added$/);
  assert.deepEqual(s.applied, []);
  assert.ok(await waitFor(() => topo.holds('a', '192.0.2.110'), 5_000), 'the new VIP, as MASTER');

  // A new virtual_router_id: the router itself changes, restarted.
  s = await step({ ...edited, priority: 120, vrid: 72 });
  assert.match(s.plan.stdout, /^ {2}restart {2}VI_1: .*virtualRouterId|^ {2}restart {2}VI_1: .*vrid/m);
  assert.match(s.plan.stdout, /leaves MASTER, starts again as at boot/);
  assert.match(s.vrrp, /^0 unchanged, 0 adjusted, 1 restarted, 0 removed, 0 added$/);

  // An operator override on a server the new file drops.
  const drained = await cli(['drain', `${VIP}:80`, '192.0.2.7:80', '--socket', socket]);
  assert.equal(drained.code, 0, drained.stderr);
  s = await step({ ...edited, priority: 120, vrid: 72, rs: [['192.0.2.3', 5], ['192.0.2.4', 2, '/usr/bin/true']] });
  assert.match(s.plan.stdout, /^ {2}drop {5}\[192\.0\.2\.7\]:tcp:80 of VS \[192\.0\.2\.100\]:tcp:80: drained \(weight 0\) since /m);
  assert.deepEqual(ipvsLines(s.plan.stdout), ['ipvsadm -d -t 192.0.2.100:80 -r 192.0.2.7:80']);
  assert.deepEqual(ipvsLines(s.plan.stdout), s.applied);
  assert.match(daemon.log, /Dropping operator override for \[192\.0\.2\.7\]:tcp:80/);

  // A broken file: keepalived's -t status, and the running config stays.
  for (const broken of ['vrrp_instance VI_1 {\n  interface eth0\n  priority 100\n  virtual_ipaddress {\n    192.0.2.100/24\n  }\n}\n', 'virtual_server 192.0.2.100 80 {\n  lb_algo rr\n  real_server 192.0.2.3 {\n  }\n}\n']) {
    const p = await plan(broken);
    const dashT = await cli(['-t', '-f', next]);
    assert.notEqual(dashT.code, 0, dashT.stderr);
    assert.equal(p.code, dashT.code, `${p.stderr}\n-t: ${dashT.stderr}`);
    assert.match(p.stderr, /the running daemon would refuse this reload/);
    assert.equal(p.stdout, '');
  }
  const kept = await cli(['plan', '-f', conf, '--socket', socket]);
  assert.equal(kept.code, 0, kept.stdout);
  daemon.signal('SIGTERM');
  await daemon.exited();
});
