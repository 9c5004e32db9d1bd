import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, watch } from 'node:fs';
import { join } from 'node:path';
import { checkerDumpLines } from '../../src/daemon/dumps.js';
import { PAGE_BYTES } from '../../src/ipc/pages.js';
import { cli, until } from './drain-harness.js';
import { DaemonUnderTest, largeTcpConfig } from './daemon-setup.js';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

test('the data dump names a virtual server using ha_suspend, its address count, and each checker it keeps from checking', () => {
  const vs = '[192.0.2.10]:tcp:80';
  const rsId = `${vs}/[192.0.2.21]:tcp:80`;
  const lines = checkerDumpLines(
    'data',
    {
      driver: 'netlink',
      passes: 1,
      virtualServers: [{
        vsId: vs, quorumUp: true, quorum: 1, hysteresis: 0, aliveWeight: 1, sorryActive: false, services: 1,
        realServers: [{ rsId, alive: true, effectiveWeight: 1, configuredWeight: 1, installed: true, installedWeight: 1 }],
      }],
    },
    [{
      vsId: vs, rsId, alive: true, weight: 1,
      checkers: [{ type: 'TCP_CHECK', probeKey: 'k', up: true, retryIt: 0, hasRun: false, suspended: true }],
    }],
    [{ vsId: vs, addresses: 0, suspended: true }],
  );
  assert.deepEqual([...lines], [
    '------< IPVS Topology >------',
    ` VS = ${vs}`,
    '   quorum = 1, hysteresis = 0, quorum state = UP',
    '   Using HA suspend: address on this host 0 time(s), checkers suspended',
    '   RS = [192.0.2.21]:tcp:80, alive = yes, weight = 1 (configured 1)',
    '     TCP_CHECK: UP (not run yet), suspended (ha_suspend)',
  ]);
});

test('a daemon of 3,000 real servers: the SIGUSR1 dump is whole (each real server once, in many pages), dumps in a burst leave whole files, the status and the table are whole; a checker process stopped midway cuts its section short, marked', { timeout: 150_000 }, async (t) => {
  const RS = 3000;
  const d = new DaemonUnderTest(t, largeTcpConfig('lvskd-dumps', 19900, RS));
  const run = d.start([], ['env', `TMPDIR=${d.dir}`]);
  await run.waitFor(/127\.1\.29\.100\]:tcp:9/, 60_000);
  const data = join(d.dir, 'lvskeeper.data');
  const rsLines = (text: string): string[] => text.split('\n').filter((l) => /^ {3}RS = \[127\.1\.\d+\.\d+\]:tcp:9, alive = (yes|no), weight = [01] \(configured 1\)$/.test(l));

  // Dumps are written once the start is over (run-daemon.ts): ask every half second until one is.
  await until('a first data dump', 30_000, async () => {
    d.signal('SIGUSR1');
    await sleep(500);
    return run.lines.some((l) => l.endsWith(`Wrote data dump to ${data}`)) ? true : undefined;
  });
  const text = readFileSync(data, 'utf8');
  assert.ok(text.length > 8 * PAGE_BYTES, `${text.length} bytes`);
  assert.match(text, /^------< lvskeeper data dump \S+ >------\n------< Global definitions >------\n Router ID = lvskd-dumps\n/);
  assert.equal(rsLines(text).length, RS);
  assert.equal(new Set(rsLines(text)).size, RS);
  assert.equal(text.split('\n').filter((l) => l.startsWith(' VS = ')).length, 30);
  assert.match(text, /\n {3}RS = \[127\.1\.29\.100\]:tcp:9, .*\n {5}TCP_CHECK: (UP|DOWN)( \(not run yet\))?\n$/);

  // A burst of both kinds: each kind's dumps are written one at a time, every file is whole, no temporary name is left.
  const from = run.lines.length;
  for (let i = 0; i < 4; i++) {
    d.signal('SIGUSR1');
    d.signal('SIGUSR2');
    await sleep(5);
  }
  await run.waitFor(new RegExp(`Wrote stats dump to ${join(d.dir, 'lvskeeper.stats')}$`), 10_000, from);
  await until('the burst written', 10_000, () => {
    return run.lines.slice(from).some((l) => /Wrote data dump/.test(l)) && readdirSync(d.dir).every((f) => !f.endsWith('.tmp')) ? true : undefined;
  });
  assert.equal(rsLines(readFileSync(data, 'utf8')).length, RS);
  assert.match(readFileSync(join(d.dir, 'lvskeeper.stats'), 'utf8'), /^ {2}Real servers: 3000 \(\d+ alive, \d+ down\)$/m);

  // The status, whose virtual servers come a batch at a time: whole on the control socket and in the JSON dump, and
  // six readers at once are each served whole or told to try again, never answered without the checker's part.
  const socket = join(d.dir, 'control.sock');
  const servers = (s: { ipvs?: { virtualServers: { realServers: unknown[] }[] } }): number =>
    (s.ipvs?.virtualServers ?? []).reduce((n, vs) => n + vs.realServers.length, 0);
  const status = await cli(['status', '--json', '--socket', socket]);
  assert.equal(status.code, 0, status.stderr);
  assert.equal(servers(JSON.parse(status.stdout)), RS);
  const dumped = await cli(['json-dump', '--socket', socket]);
  assert.equal(dumped.code, 0, dumped.stderr);
  const json = readFileSync(join(d.dir, 'lvskeeper.json'), 'utf8');
  assert.equal(servers(JSON.parse(json)), RS);
  assert.equal(json, JSON.stringify(JSON.parse(json), null, 2) + '\n');
  const six = await Promise.all([0, 1, 2, 3, 4, 5].map(() => cli(['status', '--json', '--socket', socket])));
  for (const r of six) {
    if (r.code === 0) assert.equal(servers(JSON.parse(r.stdout)), RS);
    else assert.match(r.stderr, /readers already under way; try again/);
  }
  assert.ok(six.some((r) => r.code === 0));
  // The embedded table, written from the supervisor a batch of services at a time.
  const list = await cli(['ipvs', 'list', '--socket', socket]);
  assert.equal(list.code, 0, list.stderr);
  assert.equal(list.stdout.split('\n').filter((l) => /^ {2}-> 127\.1\.\d+\.\d+:9 /.test(l)).length, RS);
  assert.equal(list.stdout.split('\n').filter((l) => /^TCP {2}127\.0\.0\.1:199\d\d rr$/.test(l)).length, 30);
  assert.deepEqual(run.lines.filter((l) => /cut short|cannot write/.test(l)), []);

  // A checker process that stops answering midway: stopped as soon as the file is begun (its first page is in the
  // head by then), its section ends in a marker, the log says so, and the file is still published. A dump that ends
  // before the stop lands is tried again.
  const checkerPid = Number(run.lines.map((l) => /Starting Healthcheck child process, pid=(\d+)/.exec(l)?.[1]).find((x) => x));
  assert.ok(checkerPid > 0, 'the checker process pid is logged');
  let cut: string | undefined;
  for (let attempt = 0; attempt < 5 && cut === undefined; attempt++) {
    const at = run.lines.length;
    let stopped = false;
    const watcher = watch(d.dir, (_event, name) => {
      if (stopped || !name?.endsWith('.tmp')) return;
      stopped = true;
      process.kill(checkerPid, 'SIGSTOP');
    });
    try {
      d.signal('SIGUSR1');
      await run.waitFor(/Wrote data dump/, 10_000, at);
    } finally {
      watcher.close();
      if (stopped) process.kill(checkerPid, 'SIGCONT');
    }
    if (run.lines.slice(at).some((l) => /the checker process's dump section is cut short/.test(l))) cut = readFileSync(data, 'utf8');
  }
  assert.ok(cut !== undefined, 'the checker process was never stopped midway in 5 dumps');
  assert.match(cut, /\n------< checker section cut short: .+ >------\n$/);
  assert.ok(rsLines(cut).length < RS, `${rsLines(cut).length} real servers in a cut dump`);
  // The checker process answers again: the next dump is whole.
  const after = run.lines.length;
  d.signal('SIGUSR1');
  await run.waitFor(/Wrote data dump/, 10_000, after);
  assert.equal(rsLines(readFileSync(data, 'utf8')).length, RS);
});
