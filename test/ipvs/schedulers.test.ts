// Scheduler behaviour against sequences derived by hand from net/netfilter/ipvs/ip_vs_{rr,wrr,lc,wlc,sed,nq,sh,mh}.c.
// Destination lists are in kernel order: the most recently added destination first.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createScheduler, type SchedDest, type SchedRequest } from '../../src/ipvs/schedulers.js';
import type { Scheduler, ServiceFlags } from '../../src/ipvs/types.js';
import * as U from '../../src/ipvs/uapi.js';

interface D extends SchedDest {
  weight: number;
  lastWeight: number;
  activeConns: number;
  inactiveConns: number;
  overloaded: boolean;
}

function dest(address: string, weight = 1): D {
  return { family: 'inet', address, port: 80, weight, lastWeight: weight, activeConns: 0, inactiveConns: 0, overloaded: false };
}

const req = (clientAddress: string, clientPort = 40000): SchedRequest => ({ clientAddress, clientPort, serviceAddress: '192.0.2.10', family: 'inet' });

function names(name: Scheduler, dests: D[], n: number, flags: ServiceFlags = {}): string[] {
  const s = createScheduler(name, flags, dests).state;
  return Array.from({ length: n }, () => dests[s.pick(dests, req('198.51.100.1'))]?.address ?? '-');
}

test('rr starts at the list head and cycles, skipping weight 0', () => {
  const dests = [dest('c'), dest('b'), dest('a')];
  assert.deepEqual(names('rr', dests, 7), ['c', 'b', 'a', 'c', 'b', 'a', 'c']);
  dests[1]!.weight = 0;
  assert.deepEqual(names('rr', dests, 4), ['c', 'a', 'c', 'a']);
});

test('rr after removing the last chosen destination continues with its successor', () => {
  const dests = [dest('c'), dest('b'), dest('a')];
  const s = createScheduler('rr', {}, dests).state;
  assert.equal(dests[s.pick(dests, req('x'))]!.address, 'c');
  assert.equal(dests[s.pick(dests, req('x'))]!.address, 'b');
  dests.splice(1, 1);
  s.removed(dests, 1);
  assert.equal(dests[s.pick(dests, req('x'))]!.address, 'a');
  assert.equal(dests[s.pick(dests, req('x'))]!.address, 'c');
  // A new head shifts indexes but not the mark: after c comes the old successor a, then the new head d.
  dests.unshift(dest('d'));
  s.added(dests);
  assert.deepEqual([0, 1, 2].map(() => dests[s.pick(dests, req('x'))]!.address), ['a', 'd', 'c']);
});

test('rr and every other scheduler return -1 when nothing is available', () => {
  for (const name of ['rr', 'wrr', 'lc', 'wlc', 'sed', 'nq', 'fo', 'ovf', 'twos', 'sh', 'mh', 'dh'] as const) {
    const dests = [dest('a', 0), dest('b', 0)];
    assert.equal(createScheduler(name, {}, dests).state.pick(dests, req('198.51.100.7')), -1, name);
  }
});

test('wrr with weights 4,3,2 follows the kernel pass sequence', () => {
  // cw steps 4 → 3 → 2 → 1 (gcd 1): pass cw=4 {a}, cw=3 {a,b}, cw=2 {a,b,c}, cw=1 {a,b,c}... one cycle is 9 picks.
  const dests = [dest('a', 4), dest('b', 3), dest('c', 2)];
  assert.deepEqual(names('wrr', dests, 18), ['a', 'a', 'b', 'a', 'b', 'c', 'a', 'b', 'c', 'a', 'a', 'b', 'a', 'b', 'c', 'a', 'b', 'c']);
});

test('wrr steps by the gcd and its last pass runs at cw = 1', () => {
  // weights 4,2: di = 2, mw = 4 - (2 - 1) = 3; passes at cw = 3 {a}, cw = 1 {a, b}.
  assert.deepEqual(names('wrr', [dest('a', 4), dest('b', 2)], 6), ['a', 'a', 'b', 'a', 'a', 'b']);
  // weights 6,4,2: di = 2, mw = 5; passes cw=5 {a}, cw=3 {a,b}, cw=1 {a,b,c}.
  assert.deepEqual(names('wrr', [dest('a', 6), dest('b', 4), dest('c', 2)], 6), ['a', 'a', 'b', 'a', 'b', 'c']);
});

test('wrr weight edit restarts from the head with the new weights', () => {
  const dests = [dest('a', 1), dest('b', 1), dest('c', 1)];
  const s = createScheduler('wrr', {}, dests).state;
  assert.equal(dests[s.pick(dests, req('x'))]!.address, 'a');
  dests[0]!.weight = 0;
  s.changed(dests);
  assert.deepEqual([0, 1, 2, 3].map(() => dests[s.pick(dests, req('x'))]!.address), ['b', 'c', 'b', 'c']);
});

/** Runs n new connections that stay open: each pick adds one active connection to the chosen destination. */
function spread(name: Scheduler, dests: D[], n: number): number[] {
  const s = createScheduler(name, {}, dests).state;
  for (let i = 0; i < n; i++) {
    const j = s.pick(dests, req('198.51.100.1'));
    dests[j]!.activeConns++;
  }
  return dests.map((d) => d.activeConns);
}

test('lc spreads open connections evenly whatever the weights', () => {
  assert.deepEqual(spread('lc', [dest('a', 5), dest('b', 1), dest('c', 1)], 30), [10, 10, 10]);
});

test('wlc, sed and nq spread open connections in proportion to weight', () => {
  assert.deepEqual(spread('wlc', [dest('a', 3), dest('b', 2), dest('c', 1)], 60), [30, 20, 10]);
  assert.deepEqual(spread('sed', [dest('a', 3), dest('b', 2), dest('c', 1)], 60), [30, 20, 10]);
  const nq = spread('nq', [dest('a', 3), dest('b', 2), dest('c', 1)], 60);
  assert.ok(Math.abs(nq[0]! - 30) <= 1 && Math.abs(nq[1]! - 20) <= 1 && Math.abs(nq[2]! - 10) <= 1, String(nq));
});

test('wlc counts an active connection as 256 inactive ones', () => {
  const dests = [dest('a'), dest('b')];
  dests[0]!.inactiveConns = 255;
  dests[1]!.activeConns = 1;
  assert.equal(createScheduler('wlc', {}, dests).state.pick(dests, req('x')), 0);
  dests[0]!.inactiveConns = 257;
  assert.equal(createScheduler('wlc', {}, dests).state.pick(dests, req('x')), 1);
});

test('nq sends to an idle server first, sed does not', () => {
  const dests = [dest('a', 10), dest('b', 1)];
  dests[0]!.activeConns = 1;
  assert.equal(createScheduler('nq', {}, dests).state.pick(dests, req('x')), 1);
  assert.equal(createScheduler('sed', {}, dests).state.pick(dests, req('x')), 0);
});

test('fo takes the heaviest available, ovf until its active count reaches its weight', () => {
  const dests = [dest('a', 2), dest('b', 5), dest('c', 3)];
  assert.equal(createScheduler('fo', {}, dests).state.pick(dests, req('x')), 1);
  assert.deepEqual(spread('ovf', dests, 10), [2, 5, 3]);
  assert.equal(createScheduler('ovf', {}, dests).state.pick(dests, req('x')), -1);
});

test('overloaded destinations are skipped', () => {
  const dests = [dest('a'), dest('b')];
  dests[0]!.overloaded = true;
  for (const name of ['rr', 'wrr', 'lc', 'wlc', 'sed', 'nq', 'fo'] as const) {
    assert.equal(createScheduler(name, {}, dests).state.pick(dests, req('x')), 1, name);
  }
});

test('lblc and lblcr run as wlc and say so', () => {
  const created = createScheduler('lblc', {}, []);
  assert.equal(created.state.name, 'wlc');
  assert.equal(created.substitutedFor, 'lblc');
  assert.equal(createScheduler('wlc', {}, []).substitutedFor, undefined);
});

const clients = Array.from({ length: 2000 }, (_, i) => `10.${(i >> 8) & 255}.${i & 255}.${(i * 7) & 255}`);

function assignments(name: 'sh' | 'mh', dests: D[], flags: ServiceFlags): Map<string, string> {
  const s = createScheduler(name, flags, dests).state;
  return new Map(clients.map((c) => [c, dests[s.pick(dests, req(c))]?.address ?? '-']));
}

test('sh: the same client always lands on the same server, spread over all of them', () => {
  const dests = [dest('a'), dest('b'), dest('c'), dest('d')];
  const first = assignments('sh', dests, {});
  assert.deepEqual(assignments('sh', dests, {}), first);
  const counts = new Map<string, number>();
  for (const v of first.values()) counts.set(v, (counts.get(v) ?? 0) + 1);
  for (const d of ['a', 'b', 'c', 'd']) assert.ok((counts.get(d) ?? 0) > 300, `${d}: ${counts.get(d)}`);
});

test('sh: sh-port spreads one client over servers by source port', () => {
  const dests = [dest('a'), dest('b'), dest('c'), dest('d')];
  const s = createScheduler('sh', { schedFlags: U.IP_VS_SVC_F_SCHED_SH_PORT }, dests).state;
  const seen = new Set(Array.from({ length: 64 }, (_, p) => s.pick(dests, req('10.0.0.1', 30000 + p))));
  assert.ok(seen.size >= 3, `ports reached ${seen.size} servers`);
  const plain = createScheduler('sh', {}, dests).state;
  assert.equal(new Set(Array.from({ length: 64 }, (_, p) => plain.pick(dests, req('10.0.0.1', 30000 + p)))).size, 1);
});

test('sh: a quiesced server loses only its own clients with sh-fallback, and they are dropped without it', () => {
  const dests = [dest('a'), dest('b'), dest('c'), dest('d')];
  const before = assignments('sh', dests, { schedFlags: U.IP_VS_SVC_F_SCHED_SH_FALLBACK });
  dests[2]!.weight = 0;
  const after = assignments('sh', dests, { schedFlags: U.IP_VS_SVC_F_SCHED_SH_FALLBACK });
  for (const [c, d] of before) {
    if (d === 'c') assert.notEqual(after.get(c), 'c');
    else assert.equal(after.get(c), d, c);
  }
  const noFallback = assignments('sh', dests, {});
  for (const [c, d] of before) if (d === 'c') assert.equal(noFallback.get(c), '-');
});

test('mh: stable, weighted, and removing a server moves few other clients', () => {
  const dests = [dest('192.0.2.21'), dest('192.0.2.22'), dest('192.0.2.23'), dest('192.0.2.24')];
  const before = assignments('mh', dests, {});
  assert.deepEqual(assignments('mh', dests, {}), before);
  const removed = dests.splice(1, 1)[0]!.address;
  const after = assignments('mh', dests, {});
  let kept = 0;
  let total = 0;
  for (const [c, d] of before) {
    assert.notEqual(after.get(c), removed);
    if (d === removed) continue;
    total++;
    if (after.get(c) === d) kept++;
  }
  // Maglev's guarantee is approximate: with 251 slots a few percent of the survivors' clients may move.
  assert.ok(kept / total > 0.85, `kept ${kept}/${total}`);

  const weighted = [dest('192.0.2.21', 3), dest('192.0.2.22', 1)];
  let heavy = 0;
  for (const v of assignments('mh', weighted, {}).values()) if (v === '192.0.2.21') heavy++;
  assert.ok(heavy > clients.length * 0.65 && heavy < clients.length * 0.85, `heavy got ${heavy}`);
});

test('mh: a quiesced server keeps its table slots; mh-fallback reroutes only its clients', () => {
  const dests = [dest('192.0.2.21'), dest('192.0.2.22'), dest('192.0.2.23')];
  const before = assignments('mh', dests, { schedFlags: U.IP_VS_SVC_F_SCHED_MH_FALLBACK });
  dests[0]!.weight = 0; // lastWeight stays 1, as the kernel's last_weight does
  const after = assignments('mh', dests, { schedFlags: U.IP_VS_SVC_F_SCHED_MH_FALLBACK });
  for (const [c, d] of before) {
    if (d === '192.0.2.21') assert.notEqual(after.get(c), d);
    else assert.equal(after.get(c), d);
  }
});
