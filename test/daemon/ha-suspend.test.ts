// ha_suspend as keepalived 2.2.7 runs it (check_api.c update_checker_activity): the virtual service stays installed
// whatever happens; its checkers check only while its address is on one of the host's interfaces.
// 1. The daemon on the userspace data plane in a namespace of its own, real HTTP backends there counting the checks
//    they get, the virtual server's address added and removed with `ip addr`.
// 2. The same with the address a VIP: a vrrp_instance's state moves it (twin routers on a bridge).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { needCommand, needRoot, repoRoot } from '../support/tier.js';
import { Topology, VIP, vrrpConfig, waitFor } from '../vrrp/netns-support.js';
import { DaemonUnderTest } from './daemon-setup.js';
import { cli, until } from './drain-harness.js';

function ip(...args: string[]): void {
  const r = spawnSync('ip', args, { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`ip ${args.join(' ')}: ${r.stderr}`);
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** HTTP backends inside a namespace, each answering 200 and counting the checker's requests for /health. */
class Backends {
  readonly checks = new Map<number, number>();
  private readonly child: ChildProcess;
  readonly ready: Promise<void>;

  constructor(ns: string, readonly ports: readonly number[]) {
    const script = `const http = require('http');
for (const p of ${JSON.stringify(ports)}) {
  http.createServer((q, s) => { if (q.url === '/health') console.log('health ' + p); s.setHeader('connection', 'close'); s.end('ok'); })
    .listen(p, '127.0.0.1', () => console.log('listening ' + p));
}`;
    this.child = spawn('ip', ['netns', 'exec', ns, process.execPath, '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
    for (const p of ports) this.checks.set(p, 0);
    let listening = 0;
    this.ready = new Promise((resolve) => {
      createInterface({ input: this.child.stdout! }).on('line', (l) => {
        const [what, port] = l.split(' ');
        if (what === 'health') this.checks.set(Number(port), (this.checks.get(Number(port)) ?? 0) + 1);
        else if (what === 'listening' && ++listening === ports.length) resolve();
      });
    });
  }

  count(port: number): number {
    return this.checks.get(port) ?? 0;
  }

  stop(): void {
    this.child.kill('SIGKILL');
  }
}

const VS_A = '10.240.0.10';
const VS_C = '10.240.0.30';
const VS_D = '10.240.0.40';
const P = { a1: 18761, a2: 18762, b: 18763, cd: 18764 } as const;
const vsName = (addr: string): string => `[${addr}]:tcp:80`;
const rsName = (port: number): string => `[127.0.0.1]:tcp:${port}`;
const line = (what: string, port: number, vs: string): RegExp =>
  new RegExp(`: ${what} healthchecker for service ${rsName(port).replace(/[[\].]/g, '\\$&')} for VS ${vsName(vs).replace(/[[\].]/g, '\\$&')}$`);

function rs(port: number): string {
  return `  real_server 127.0.0.1 ${port} {
    weight 1
    HTTP_GET {
      url {
        path /health
        status_code 200
      }
      connect_timeout 1
      retry 0
    }
  }
`;
}

const vs = (addr: string, body: string): string => `virtual_server ${addr} 80 {\n  delay_loop 1\n  lb_algo rr\n  lb_kind NAT\n  protocol TCP\n${body}}\n`;

test('ha_suspend: checkers follow the address on the host\'s interfaces; the service stays in the table', { timeout: 180_000 }, async (t) => {
  if (!needRoot(t) || !needCommand(t, 'ip', 'iproute2')) return;
  const ns = `lvskhs-${process.pid}`;
  spawnSync('ip', ['netns', 'del', ns], { stdio: 'ignore' });
  ip('netns', 'add', ns);
  t.after(() => spawnSync('ip', ['netns', 'del', ns], { stdio: 'ignore' }));
  ip('-n', ns, 'link', 'set', 'lo', 'up');
  // Two interfaces to carry the address (a veth pair: this kernel may lack the dummy driver).
  ip('-n', ns, 'link', 'add', 'eth0', 'type', 'veth', 'peer', 'name', 'eth1');
  ip('-n', ns, 'link', 'set', 'eth0', 'up');
  ip('-n', ns, 'link', 'set', 'eth1', 'up');
  // The userspace plane listens on each service's address: it must be able to while the address is elsewhere, as
  // the kernel's IPVS keeps a service whatever the addresses.
  ip('netns', 'exec', ns, 'sysctl', '-qw', 'net.ipv4.ip_nonlocal_bind=1');
  const backends = new Backends(ns, Object.values(P));
  t.after(() => backends.stop());
  await backends.ready;

  // A: ha_suspend, two real servers; B: none, its own backend (its checks show time passing); C: ha_suspend, a
  // marker whose lines show the checker process has handled every address change before it; D: ha_suspend, its
  // address there before the daemon starts.
  ip('-n', ns, 'addr', 'add', `${VS_D}/32`, 'dev', 'eth1');
  const d = new DaemonUnderTest(t, vs(VS_A, `  ha_suspend\n${rs(P.a1)}${rs(P.a2)}`) + vs('10.240.0.20', rs(P.b)) +
    vs(VS_C, `  ha_suspend\n${rs(P.cd)}`) + vs(VS_D, `  ha_suspend\n${rs(P.cd)}`));
  // -D: keepalived's detail lines too.
  const daemon = d.start(['-D'], ['ip', 'netns', 'exec', ns]);
  const log = (): string => `${daemon.lines.join('\n')}\n${daemon.stderr}`;
  const sock = ['--socket', join(d.dir, 'control.sock')];
  const waitLine = (re: RegExp, from: number): Promise<number> => daemon.waitFor(re, 15_000, from).catch((e: Error) => assert.fail(`${e.message}\n${log()}`));

  // Start without the address: A's checkers deactivated, B's activated.
  await waitLine(line('Deactivating', P.a1, VS_A), 0);
  await waitLine(line('Deactivating', P.a2, VS_A), 0);
  await waitLine(line('Activating', P.b, '10.240.0.20'), 0);
  await waitLine(line('Deactivating', P.cd, VS_C), 0);
  await waitLine(line('Activating', P.cd, VS_D), 0);
  await waitLine(/: Netlink reflector reports IP 10\.240\.0\.40 added$/, 0);
  await until('three checks of B', 30_000, () => (backends.count(P.b) >= 3 ? true : undefined));
  assert.ok(backends.count(P.cd) > 0, 'D checks: its address was there before the start');
  assert.equal(backends.count(P.a1), 0, 'no check while the address is not here');
  assert.equal(backends.count(P.a2), 0, 'no check while the address is not here');
  const table = await cli(['ipvs', 'list', ...sock]);
  assert.equal(table.code, 0, table.stderr);
  assert.match(table.stdout, /^TCP {2}10\.240\.0\.10:80 rr\n {2}-> 127\.0\.0\.1:18761 +Masq +1 +0 +0 *\n {2}-> 127\.0\.0\.1:18762 +Masq +1 +0 +0 *$/m);
  const status = await cli(['status', ...sock]);
  assert.match(status.stdout, /^ {2}\[10\.240\.0\.10\]:tcp:80 .*, checkers suspended \(ha_suspend\)$/m, status.stdout);

  // The address arrives (any address, not only a VIP): checks start.
  let from = daemon.lines.length;
  ip('-n', ns, 'addr', 'add', `${VS_A}/32`, 'dev', 'eth0');
  await waitLine(/: Netlink reflector reports IP 10\.240\.0\.10 added$/, from);
  await waitLine(line('Activating', P.a1, VS_A), from);
  await waitLine(line('Activating', P.a2, VS_A), from);
  await until('checks of A', 15_000, () => (backends.count(P.a1) > 0 && backends.count(P.a2) > 0 ? true : undefined));

  // On a second interface too, then a reload: the count (2) is kept, every checker's line logged again.
  ip('-n', ns, 'addr', 'add', `${VS_A}/24`, 'dev', 'eth1');
  from = daemon.lines.length;
  d.signal('SIGHUP');
  await waitLine(line('Activating', P.a2, VS_A), from);
  await waitLine(line('Deactivating', P.cd, VS_C), from);
  // One of two goes: nothing. C's address then arrives; its line comes after anything the removal caused.
  from = daemon.lines.length;
  ip('-n', ns, 'addr', 'del', `${VS_A}/32`, 'dev', 'eth0');
  ip('-n', ns, 'addr', 'add', `${VS_C}/32`, 'dev', 'eth0');
  await waitLine(line('Activating', P.cd, VS_C), from);
  assert.deepEqual(daemon.lines.slice(from).filter((l) => /Suspending/.test(l)), [], 'the address is still on eth1');

  // The last one goes: A's checkers are suspended and make no more checks.
  from = daemon.lines.length;
  ip('-n', ns, 'addr', 'del', `${VS_A}/24`, 'dev', 'eth1');
  await waitLine(line('Suspending', P.a1, VS_A), from);
  await waitLine(line('Suspending', P.a2, VS_A), from);
  // An attempt already under way may still arrive.
  await sleep(2000);
  const frozen = [backends.count(P.a1), backends.count(P.a2)];
  const b = backends.count(P.b);
  await until('three more checks of B', 30_000, () => (backends.count(P.b) >= b + 3 ? true : undefined));
  assert.deepEqual([backends.count(P.a1), backends.count(P.a2)], frozen, 'checks while suspended');
  const after = await cli(['ipvs', 'list', ...sock]);
  assert.equal(after.stdout, table.stdout, 'the table does not change');
  assert.equal(await daemon.stop('SIGTERM'), 0, log());
});

test('ha_suspend on a VIP: checkers deactivated as BACKUP, activated as MASTER, suspended when a peer takes over', { timeout: 120_000 }, async (t) => {
  if (!needRoot(t)) return;
  const topo = new Topology('hs');
  t.after(() => topo.destroy());
  const conf = topo.writeConfig('a.conf', vrrpConfig({ priority: 150, vrid: 62 }) +
    `virtual_server ${VIP} 80 {\n  delay_loop 1\n  lb_algo rr\n  lb_kind DR\n  protocol TCP\n  ha_suspend\n` +
    `  real_server 192.0.2.3 80 {\n    weight 1\n    TCP_CHECK {\n      connect_timeout 1\n    }\n  }\n}\n`);
  const daemon = topo.startDaemon('a', ['-n', '-l', '-D', '--ipvs-driver', 'dry-run', '-f', conf, ...topo.daemonFiles('a')], repoRoot);
  const check = `healthchecker for service \\[192\\.0\\.2\\.3\\]:tcp:80 for VS \\[192\\.0\\.2\\.100\\]:tcp:80`;
  const seen = (re: string, ms: number): Promise<boolean> => waitFor(() => new RegExp(re).test(daemon.log), ms);
  assert.ok(await seen(`Deactivating ${check}`, 15_000), daemon.log);
  assert.ok(await seen('IPVS op: ipvsadm -a -t 192\\.0\\.2\\.100:80 -r 192\\.0\\.2\\.3:80 -g -w 1', 5_000), `installed as BACKUP:\n${daemon.log}`);
  assert.ok(await waitFor(() => topo.holds('a'), 15_000), daemon.log);
  assert.ok(await seen(`Activating ${check}`, 5_000), daemon.log);

  const peer = topo.startLvskeeper('b', topo.writeConfig('b.conf', vrrpConfig({ priority: 200, vrid: 62 })), repoRoot);
  assert.ok(await waitFor(() => topo.holds('b') && !topo.holds('a'), 15_000), peer.log);
  assert.ok(await seen(`Suspending ${check}`, 5_000), daemon.log);
  daemon.signal('SIGTERM');
  await daemon.exited();
  assert.equal(daemon.child.exitCode, 0);
  // Only the stop takes the service away.
  assert.equal((daemon.log.match(/IPVS op: ipvsadm -D -t 192\.0\.2\.100:80/g) ?? []).length, 1, daemon.log);
  assert.ok(daemon.log.indexOf('IPVS op: ipvsadm -D -t 192.0.2.100:80') > daemon.log.indexOf('Suspending healthchecker'), daemon.log);
});
