// The descriptor budget end to end: a daemon started with a low RLIMIT_NOFILE (prlimit) and flooded with idle
// connections to its data plane and its control socket keeps checking its real servers, which stay in service.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { join } from 'node:path';
import { nofileLimit } from '../../src/fs/descriptors.js';
import { needCommand } from '../support/tier.js';
import { Backend, cli, until } from './drain-harness.js';
import { DaemonUnderTest, httpConfig } from './daemon-setup.js';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Opens `n` connections and leaves them idle; resolves once each has connected or been refused. */
async function flood(n: number, open: () => Socket, into: Socket[]): Promise<void> {
  await Promise.all(
    Array.from({ length: n }, () => new Promise<void>((resolve) => {
      const s = open();
      s.on('connect', () => resolve());
      s.on('error', () => resolve());
      s.on('close', () => resolve());
      into.push(s);
    })),
  );
}

test('2,000 idle connections each to the data plane and the control socket under RLIMIT_NOFILE 512: checks go on, servers stay up', { timeout: 90_000 }, async (t) => {
  if (!needCommand(t, 'prlimit', 'util-linux')) return;
  const web1 = new Backend('web1', 19491);
  const web2 = new Backend('web2', 19492);
  await web1.start();
  await web2.start();
  t.after(() => Promise.all([web1.stop(), web2.stop()]));
  // The flood's clients and the backends share this process: checks get slack (3 s, two retries) for its stalls.
  const config = httpConfig(19490, [[19491, 1], [19492, 1]]).replaceAll('connect_timeout 1', 'connect_timeout 3').replaceAll('retry 1', 'retry 2');
  const d = new DaemonUnderTest(t, config);
  // Soft 256, hard 512: Node raises the soft limit to the hard one at start, and the budget follows what it reads.
  const run = d.start([], ['prlimit', '--nofile=256:512']);
  await until('first checks', 15_000, () => (web1.healthChecks > 0 && web2.healthChecks > 0 ? true : undefined));
  assert.deepEqual(nofileLimit(readFileSync(`/proc/${d.pid}/limits`, 'utf8')), { soft: 512, hard: 512 });

  const sockets: Socket[] = [];
  t.after(() => sockets.forEach((s) => s.destroy()));
  await flood(2000, () => connect({ host: '127.0.0.1', port: 19490 }), sockets);
  await flood(2000, () => connect(join(d.dir, 'control.sock')), sockets);
  const before = [web1.healthChecks, web2.healthChecks];
  await sleep(4000);
  // Every real server was checked again during the flood, and none left the pool.
  assert.ok(web1.healthChecks >= before[0]! + 2 && web2.healthChecks >= before[1]! + 2, `${before} → ${web1.healthChecks},${web2.healthChecks}`);
  const descriptors = readdirSync(`/proc/${d.pid}/fd`).length;
  assert.ok(descriptors < 512, `${descriptors} descriptors open`);
  assert.ok(!run.lines.some((l) => /Removing service|Checks not run|EMFILE/.test(l)), run.lines.filter((l) => /Removing|EMFILE|not run/.test(l)).join('\n'));
  assert.equal(run.lines.filter((l) => l.includes('userspace data plane: 128 connections open; refusing new ones')).length, 1, run.lines.slice(-20).join('\n'));
  assert.equal(run.lines.filter((l) => l.includes('control socket: 64 connections open; refusing more')).length, 1);

  sockets.forEach((s) => s.destroy());
  await sleep(500);
  const status = await cli(['status', '--json', '--socket', join(d.dir, 'control.sock')]);
  assert.equal(status.code, 0, status.stderr);
  const rs = (JSON.parse(status.stdout) as { ipvs: { virtualServers: { realServers: { alive: boolean }[] }[] } }).ipvs.virtualServers[0]!.realServers;
  assert.deepEqual(rs.map((r) => r.alive), [true, true]);
  assert.equal(await run.stop('SIGTERM'), 0);
});
