// Active-active directors over BGP ECMP (bgp-topology.ts): three lvskeeper directors announce the VIP through FRR
// (`ip import-table 100` + `redistribute table 100`) to a router with `maximum-paths 3`; the router's kernel FIB is the
// oracle. One topology runs through the steps in order: three equal-cost paths and flows over all three; a director's
// VS losing quorum, `drain-director`, a dead checker process, SIGKILL of a whole director (with and without its link)
// and SIGTERM each remove that director's path, and connections the router keeps on a surviving director keep working.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { need, needRoot, repoRoot } from '../support/tier.js';
import { BgpTopology, directorAddress, TABLE, VIP, type ClientConn } from './bgp-topology.js';

const D = [0, 1, 2].map(directorAddress);
/** BGP hold time 3 s (timers 1 3) plus FRR's and zebra's own work. */
const PATH_GONE_MS = 10_000;
/** Sessions come up with connect-retry 1 s; checkers pass at the first 1 s delay_loop. */
const PATHS_UP_MS = 30_000;
/** Director d1's operator console, inside its namespace. */
const CONSOLE = '127.0.0.1:19791';

const conns = (cs: readonly ClientConn[], director: string): ClientConn[] => cs.filter((c) => c.director === director);

/**
 * After a change of the router's paths: every connection the router still sends to the director that relayed it
 * answers; returns how many were kept that way and how many moved to another director (which the userspace data
 * plane, a proxy, cannot carry on: the new director has no socket for them).
 */
async function survivors(topo: BgpTopology, before: readonly ClientConn[], failed: string): Promise<{ kept: number; moved: number }> {
  const after = new Map((await topo.client!.ping()).map((c) => [c.id, c]));
  let kept = 0;
  let moved = 0;
  for (const c of before) {
    if (!c.ok || c.director === failed) continue;
    const via = topo.pathFor(c.localPort);
    if (via !== c.director) {
      moved++;
      continue;
    }
    assert.equal(after.get(c.id)?.ok, true, `connection ${c.id} (port ${c.localPort}) via ${c.director}, still routed there, was cut: ${JSON.stringify(after.get(c.id))}`);
    kept++;
  }
  return { kept, moved };
}

test('BGP ECMP: health-driven VIP announcements from three directors', { timeout: 300_000 }, async (t) => {
  if (!needRoot(t)) return;
  if (!need(t, existsSync('/usr/lib/frr/bgpd') && existsSync('/usr/lib/frr/zebra'), "needs FRR's zebra and bgpd (apt-get install frr)")) return;
  const topo = new BgpTopology('t', 3, repoRoot);
  t.after(() => topo.destroy());
  topo.startRouter();
  for (let i = 0; i < 3; i++) topo.startDirectorFrr(i);
  await topo.startRealServers();
  // A route a crashed predecessor left (ours: protocol 249) goes at start; another protocol's route stays.
  spawnSync('ip', ['-n', topo.ns.d[0]!, 'route', 'add', 'blackhole', '10.99.0.9/32', 'table', String(TABLE), 'proto', '249']);
  spawnSync('ip', ['-n', topo.ns.d[0]!, 'route', 'add', 'blackhole', '10.99.0.8/32', 'table', String(TABLE), 'proto', 'static']);
  // Director d1 also serves the operator console, whose page shows each VIP's announcement and its reason.
  for (let i = 0; i < 3; i++) topo.startDaemon(i, i === 0 ? ['--http', CONSOLE] : []);
  topo.startClient();
  const page = (): string => {
    const r = spawnSync('ip', ['netns', 'exec', topo.ns.d[0]!, process.execPath, '-e',
      `fetch('http://${CONSOLE}/').then((r) => r.text()).then((t) => process.stdout.write(t))`], { encoding: 'utf8' });
    return r.stdout;
  };
  const announceRow = (state: string, reason: string): RegExp =>
    new RegExp(`<section id="announce">[\\s\\S]*10\\.99\\.0\\.1/32[\\s\\S]*>${state}</span>[\\s\\S]*>${reason}</td>`);

  await t.test('three equal-cost paths; new flows spread over every director', async () => {
    const took = await BgpTopology.until(() => topo.paths().length === 3, PATHS_UP_MS);
    assert.deepEqual(topo.paths(), D, `router FIB: ${JSON.stringify(topo.paths())}\n${topo.log(0)}`);
    t.diagnostic(`3 paths after ${took?.toFixed(0)} ms: ${topo.paths().join(', ')}`);
    const d1 = topo.announced(0);
    assert.deepEqual(d1.map((r) => [r.type, r.dst, r.protocol]).sort(), [['blackhole', '10.99.0.1', '249'], ['blackhole', '10.99.0.8', 'static']]);
    assert.match(topo.log(0), /Removed stale announcement 10\.99\.0\.9\/32 from table 100/);
    assert.match(topo.log(0), /Announcing VIP 10\.99\.0\.1\/32 \(\[10\.99\.0\.1\]:tcp:80 healthy\)/);
    const opened = await topo.client!.open(30);
    assert.ok(opened.every((c) => c.ok), JSON.stringify(opened));
    for (const d of D) assert.ok(conns(opened, d).length > 0, `no flow went through ${d}: ${JSON.stringify(opened.map((c) => c.director))}`);
    t.diagnostic(`30 flows: ${D.map((d) => `${d} ${conns(opened, d).length}`).join(', ')}`);
    // The oracle the later steps use: the router's FIB lookup for a flow names the director that relayed it.
    const wrong = opened.filter((c) => topo.pathFor(c.localPort) !== c.director);
    assert.deepEqual(wrong.map((c) => [c.localPort, c.director, topo.pathFor(c.localPort)]), []);
    // lb_algo mh (Maglev, ip_vs_mh.c) hashes the client's address alone (no mh-port): every director builds the same
    // table from the same config, so each sends this client to the same real server — where a connection the router
    // moves to another director would land with the kernel's DR and sloppy_tcp.
    assert.equal(new Set(opened.map((c) => c.rs)).size, 1, JSON.stringify(opened.map((c) => [c.director, c.rs])));
    assert.match(topo.cli(0, ['status']), /10\.99\.0\.1\/32\s+announced\s+healthy/);
    assert.match(page(), announceRow('announced', 'healthy'));
  });

  await t.test('drain-director reports idle once the connections through the director are done', async () => {
    // Closed while the router still sends them to the directors that relay them: each director sees its FINs.
    await topo.client!.close();
    const took = await BgpTopology.until(() => /idle: no active connection/.test(topo.cli(1, ['drain-director', '--deadline', '0'])), 10_000);
    assert.ok(took !== undefined, topo.cli(1, ['drain-director', '--deadline', '0']));
    assert.ok(!topo.paths().includes(D[1]!));
    assert.match(topo.cli(1, ['undrain-director']), /1 of 1 VIP\(s\) announced/);
    assert.ok(await BgpTopology.until(() => topo.paths().length === 3, PATHS_UP_MS));
  });

  await t.test("a director's VS losing quorum removes its path; connections kept on the others answer", async () => {
    const before = await topo.client!.open(30);
    topo.cutBackLink(0);
    const took = await BgpTopology.until(() => !topo.paths().includes(D[0]!), PATH_GONE_MS);
    assert.ok(took !== undefined, `path still there: ${topo.paths().join(', ')}`);
    assert.deepEqual(topo.paths(), [D[1], D[2]]);
    assert.match(topo.log(0), /Withdrawing VIP 10\.99\.0\.1\/32 \(quorum-lost: \[10\.99\.0\.1\]:tcp:80\)/);
    assert.match(topo.cli(0, ['status']), /10\.99\.0\.1\/32\s+withdrawn\s+quorum-lost/);
    assert.match(page(), announceRow('withdrawn', 'quorum-lost'));
    const s = await survivors(topo, before, D[0]!);
    t.diagnostic(`path removed ${took!.toFixed(0)} ms after the link cut; of the others' connections ${s.kept} kept, ${s.moved} moved by the router's rehash`);
    assert.ok(s.kept > 0);
    topo.cutBackLink(0, false);
    assert.ok(await BgpTopology.until(() => topo.paths().length === 3, PATHS_UP_MS), 'path not back after the real servers came back');
  });

  await t.test('drain-director withdraws, reports the deadline while connections stay active, undrain re-announces', async () => {
    const before = await topo.client!.open(30);
    assert.ok(conns(before, D[1]!).some((c) => c.ok));
    const out = topo.cli(1, ['drain-director', '--deadline', '2']);
    assert.match(out, /director drained: 1 VIP\(s\) withdrawn from table 100/);
    // Its flows moved: the client's side of them is gone, the director's proxy still holds them open.
    assert.match(out, /deadline of 2 s passed: \d+ connection\(s\) still active/);
    assert.ok(!topo.paths().includes(D[1]!), topo.paths().join(', '));
    assert.match(topo.cli(1, ['status']), /director drained[\s\S]*10\.99\.0\.1\/32\s+withdrawn\s+director-drained/);
    const s = await survivors(topo, before, D[1]!);
    t.diagnostic(`drain: others' connections ${s.kept} kept, ${s.moved} moved`);
    assert.ok(s.kept > 0);
    assert.match(topo.cli(1, ['undrain-director']), /director undrained: 1 of 1 VIP\(s\) announced/);
    assert.ok(await BgpTopology.until(() => topo.paths().length === 3, PATHS_UP_MS), `${topo.paths().join(', ')}\n${topo.log(1)}\n${JSON.stringify(topo.announced(1))}`);
  });

  await t.test("a dead checker process withdraws its director's VIP until the respawned one reports", async () => {
    topo.killChecker(1);
    // The respawned child reports within a second: the path goes only for a moment, so one poll without it counts.
    assert.ok(await BgpTopology.until(() => !topo.paths().includes(D[1]!), PATH_GONE_MS, 0), topo.paths().join(', '));
    assert.ok(await BgpTopology.until(() => topo.paths().length === 3, PATHS_UP_MS), `${topo.paths().join(', ')}\n${topo.log(1)}`);
    assert.match(topo.log(1), /Withdrawing VIP 10\.99\.0\.1\/32 \(checker-down\)[\s\S]*Healthcheck child process\(\d+\) died: Respawning[\s\S]*Announcing VIP 10\.99\.0\.1\/32/);
  });

  await t.test('SIGKILL of a whole director (lvskeeper, zebra, bgpd) removes its path: the kernel closes the session', async () => {
    const before = await topo.client!.open(30);
    topo.killDirector(2);
    const took = await BgpTopology.until(() => !topo.paths().includes(D[2]!), PATH_GONE_MS);
    assert.ok(took !== undefined, `path still there: ${topo.paths().join(', ')}`);
    const s = await survivors(topo, before, D[2]!);
    t.diagnostic(`path removed ${took!.toFixed(0)} ms after SIGKILL; others' connections ${s.kept} kept, ${s.moved} moved`);
    assert.ok(s.kept > 0);
  });

  await t.test('a director that goes silent (lvskeeper and FRR killed, link down) loses its path at the hold time', async () => {
    topo.setFrontLink(1, false);
    topo.killDirector(1);
    const took = await BgpTopology.until(() => !topo.paths().includes(D[1]!), PATH_GONE_MS);
    assert.ok(took !== undefined, `path still there: ${topo.paths().join(', ')}`);
    t.diagnostic(`path removed ${took!.toFixed(0)} ms after the director went silent (hold time 3 s)`);
  });

  await t.test('SIGTERM withdraws first: the path is gone before lvskeeper exits, its FRR still running', async () => {
    topo.signalDaemon(0, 'SIGTERM');
    const took = await BgpTopology.until(() => !topo.paths().includes(D[0]!), PATH_GONE_MS);
    assert.ok(took !== undefined, `path still there: ${topo.paths().join(', ')}`);
    assert.ok(topo.running(0), 'lvskeeper exited before the router lost the path');
    await topo.daemonExited(0);
    assert.deepEqual(topo.announced(0).map((r) => r.dst), ['10.99.0.8']);
    assert.match(topo.log(0), /Withdrawing VIP 10\.99\.0\.1\/32 \(stopping\)[\s\S]*Waiting 2 s after the withdrawal before stopping[\s\S]*Stopped lvskeeper/);
    t.diagnostic(`path removed ${took!.toFixed(0)} ms after SIGTERM; ${VIP} paths now ${topo.paths().join(', ') || 'none'}`);
  });
});
