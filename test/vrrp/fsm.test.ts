// Table tests of the VRRP state machine (src/vrrp/fsm.ts), driven by a fake clock: every timer the FSM arms is
// put on the FakeClock, and when it fires the timer event goes back in — the same loop instance.ts runs.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FakeClock, type TimerHandle } from '../../src/clock.js';
import { VrrpFsm, compareAddresses, type FsmConfig, type FsmEvent } from '../../src/vrrp/fsm.js';
import { SyncGroupCore } from '../../src/vrrp/sync-group.js';
import { ScriptStatus, evaluateTracking, type TrackInput } from '../../src/vrrp/tracking.js';
import { baseFsmConfig as base, FsmHarness } from './fsm-harness.js';

test('timers: Skew_Time and Master_Down_Interval for v2 and v3', () => {
  const cases: { cfg: Partial<FsmConfig>; skewMs: number; downMs: number }[] = [
    { cfg: { version: 2, priority: 100, advertIntCs: 100 }, skewMs: (156 * 1000) / 256, downMs: 3000 + (156 * 1000) / 256 },
    { cfg: { version: 2, priority: 254, advertIntCs: 300 }, skewMs: (2 * 1000) / 256, downMs: 9000 + (2 * 1000) / 256 },
    { cfg: { version: 3, priority: 100, advertIntCs: 10 }, skewMs: (156 * 100) / 256, downMs: 300 + (156 * 100) / 256 },
    { cfg: { version: 3, priority: 200, advertIntCs: 100, downTimerAdverts: 5 }, skewMs: (56 * 1000) / 256, downMs: 5000 + (56 * 1000) / 256 },
  ];
  for (const c of cases) {
    const f = new VrrpFsm({ ...base, ...c.cfg }, () => 0);
    assert.equal(f.skewTimeMs(), c.skewMs, JSON.stringify(c.cfg));
    assert.equal(f.masterDownIntervalMs(), c.downMs, JSON.stringify(c.cfg));
  }
});

test('INIT → BACKUP (init), then MASTER after Master_Down_Interval with no adverts', () => {
  const h = new FsmHarness();
  h.send({ kind: 'start', faulty: false });
  assert.equal(h.fsm.state, 'BACKUP');
  assert.deepEqual(h.messages(), ['(VI_1) removing VIPs.', '(VI_1) Entering BACKUP STATE (init)']);
  // 3 × 1000 ms + (256 − 100) × 1000/256 ms = 3609.375 ms, armed as 3609.
  h.clock.advance(3608);
  assert.equal(h.fsm.state, 'BACKUP');
  h.clock.advance(1);
  assert.equal(h.fsm.state, 'MASTER');
  assert.equal(h.enteredAt('MASTER'), 3609);
  // Order when becoming MASTER: advert, log, VIPs, GARP, notify (vrrp.c vrrp_state_become_master).
  const kinds = h.log.filter((e) => e.at === 3609).map((e) => e.action.kind as string);
  const order = ['send-advert', 'transition', 'add-vips', 'garp-burst', 'notify'].map((k) => kinds.indexOf(k));
  assert.deepEqual([...order].sort((a, b) => a - b), order);
  assert.ok(!order.includes(-1));
  assert.deepEqual(h.messages().slice(2), ['(VI_1) Receive advertisement timeout', '(VI_1) Entering MASTER STATE', '(VI_1) setting VIPs.']);
});

test('MASTER advertises every advert_int; GARP second burst after garp_master_delay; refresh', () => {
  const h = new FsmHarness({ version: 3, advertIntCs: 10, garpMasterDelayMs: 500, garpMasterRefreshMs: 2000, garpMasterRefreshRepeat: 2 });
  h.send({ kind: 'start', faulty: false });
  h.clock.advance(361);
  assert.equal(h.fsm.state, 'MASTER');
  const t0 = h.enteredAt('MASTER')!;
  h.clock.advance(2100);
  const sends = h.log.filter((e) => e.action.kind === 'send-advert').map((e) => e.at - t0);
  assert.deepEqual(sends.slice(0, 4), [0, 100, 200, 300]);
  const garps = h.log.filter((e) => e.action.kind === 'garp-burst').map((e) => [e.at - t0, (e.action as { repeat: number }).repeat]);
  assert.deepEqual(garps, [[0, 5], [500, 5], [2000, 2]]);
});

test('garp_extra_if: at the first advert the interval after MASTER (or after the last), only while MASTER; a reload makes it due', () => {
  const at = (h: FsmHarness, t0: number): number[] => h.log.filter((e) => e.action.kind === 'garp-extra-if' && e.at >= t0).map((e) => e.at - t0);
  const h = new FsmHarness({ garpExtraIfMs: 2000 });
  h.send({ kind: 'start', faulty: false });
  h.clock.advance(3609);
  const t0 = h.enteredAt('MASTER')!;
  h.clock.advance(6500);
  assert.deepEqual(at(h, t0), [2000, 4000, 6000]);
  // After the advert that carries it (vrrp_state_master_tx).
  const i = h.log.findIndex((e) => e.action.kind === 'garp-extra-if');
  assert.equal(h.log[i - 1]?.action.kind, 'send-advert');
  // BACKUP to a higher priority: nothing more; MASTER again counts from then.
  h.advert(200);
  assert.equal(h.fsm.state, 'BACKUP');
  h.clock.advance(3609);
  const t1 = h.log.filter((e) => e.action.kind === 'transition' && e.action.to === 'MASTER').at(-1)!.at;
  h.clock.advance(2500);
  assert.deepEqual(at(h, t0), [2000, 4000, 6000, t1 - t0 + 2000]);
  // A reload: due at the next advert.
  h.fsm.reconfigure({ ...h.fsm.cfg });
  h.clock.advance(1000);
  assert.deepEqual(at(h, t1), [2000, 3000]);

  // v3 at 0.3 s: the adverts at 1.2 s and then 2.4 s are the first past each interval of 1 s.
  const v3 = new FsmHarness({ version: 3, advertIntCs: 30, garpExtraIfMs: 1000 });
  v3.send({ kind: 'start', faulty: false });
  v3.clock.advance(1100);
  const t2 = v3.enteredAt('MASTER')!;
  v3.clock.advance(2500);
  assert.deepEqual(at(v3, t2), [1200, 2400]);

  const off = new FsmHarness();
  off.send({ kind: 'start', faulty: false });
  off.clock.advance(10_000);
  assert.equal(off.fsm.state, 'MASTER');
  assert.deepEqual(at(off, 0), []);
});

test('owner (priority 255) becomes MASTER immediately; state MASTER < 255 after one interval plus minimal skew', () => {
  const owner = new FsmHarness({ priority: 255, wantMaster: true });
  owner.send({ kind: 'start', faulty: false });
  owner.clock.advance(0);
  assert.equal(owner.fsm.state, 'MASTER');
  const wm = new FsmHarness({ priority: 150, wantMaster: true });
  wm.send({ kind: 'start', faulty: false });
  wm.clock.advance(1003);
  assert.equal(wm.fsm.state, 'BACKUP');
  wm.clock.advance(1);
  assert.equal(wm.fsm.state, 'MASTER'); // 1000 + 1000/256 ms
});

test('BACKUP: adverts from an equal or higher master keep resetting the down timer', () => {
  const h = new FsmHarness();
  h.send({ kind: 'start', faulty: false });
  for (let i = 0; i < 10; i++) {
    h.clock.advance(1000);
    h.advert(i % 2 === 0 ? 100 : 200);
  }
  assert.equal(h.fsm.state, 'BACKUP');
  h.clock.advance(3610);
  assert.equal(h.fsm.state, 'MASTER');
});

test('BACKUP with preempt discards a lower-priority master and takes over at the down timer', () => {
  const h = new FsmHarness();
  h.send({ kind: 'start', faulty: false });
  for (let i = 0; i < 3; i++) {
    h.clock.advance(1000);
    h.advert(50);
  }
  h.clock.advance(1000);
  assert.equal(h.fsm.state, 'MASTER');
  assert.equal(h.enteredAt('MASTER'), 3609);
  assert.ok(h.messages().includes('(VI_1) received lower priority (50) advert from 192.0.2.2 - discarding'));
});

test('nopreempt: a BACKUP keeps accepting a lower-priority master', () => {
  const h = new FsmHarness({ preempt: false });
  h.send({ kind: 'start', faulty: false });
  for (let i = 0; i < 20; i++) {
    h.clock.advance(1000);
    h.advert(50);
  }
  assert.equal(h.fsm.state, 'BACKUP');
});

test('preempt_delay: a lower-priority master is accepted until the delay has elapsed', () => {
  const h = new FsmHarness({ preemptDelayMs: 10_000 });
  h.send({ kind: 'start', faulty: false });
  for (let i = 0; i < 30 && h.fsm.state === 'BACKUP'; i++) {
    h.clock.advance(1000);
    h.advert(50);
  }
  assert.equal(h.fsm.state, 'MASTER');
  // The delay runs from the start to 10 s; the advert at 10 s is the first discarded, so the last accepted one
  // (9 s) plus Master_Down_Interval is the take-over time.
  assert.equal(h.enteredAt('MASTER'), 9_000 + 3609);
});

test('BACKUP: a priority-0 advert shortens the down timer to Skew_Time', () => {
  const h = new FsmHarness();
  h.send({ kind: 'start', faulty: false });
  h.clock.advance(1000);
  h.advert(200);
  h.clock.advance(500);
  h.advert(0);
  h.clock.advance(608);
  assert.equal(h.fsm.state, 'BACKUP');
  h.clock.advance(1);
  assert.equal(h.fsm.state, 'MASTER');
  assert.equal(h.enteredAt('MASTER'), 1500 + 609);
});

test('v3 BACKUP adopts the master advertised interval', () => {
  const h = new FsmHarness({ version: 3, advertIntCs: 100 });
  h.send({ kind: 'start', faulty: false });
  h.clock.advance(100);
  h.advert(200, '192.0.2.2', 10);
  assert.equal(h.fsm.masterAdverIntCs, 10);
  // 3 × 100 ms + (156 × 100)/256 ms ≈ 361 ms after the advert, not 3.6 s.
  h.clock.advance(361);
  assert.equal(h.fsm.state, 'MASTER');
  // Once MASTER it advertises at its own configured interval again.
  assert.equal(h.fsm.masterAdverIntCs, 100);
});

function masterHarness(cfg: Partial<FsmConfig> = {}): FsmHarness {
  const h = new FsmHarness({ priority: 255, wantMaster: true, ...cfg });
  h.send({ kind: 'start', faulty: false });
  h.clock.advance(h.fsm.isOwner ? 0 : 1004);
  assert.equal(h.fsm.state, 'MASTER');
  return h;
}

test('MASTER: higher priority advert → BACKUP, VIPs removed, notify backup', () => {
  const h = new FsmHarness({ wantMaster: true });
  h.send({ kind: 'start', faulty: false });
  h.clock.advance(1004);
  assert.equal(h.fsm.state, 'MASTER');
  const acts = h.advert(150);
  assert.equal(h.fsm.state, 'BACKUP');
  assert.deepEqual(
    acts.filter((a) => a.kind !== 'cancel' && a.kind !== 'log').map((a) => a.kind),
    ['transition', 'remove-vips', 'notify', 'arm'],
  );
  assert.ok(h.messages().includes('(VI_1) Master received advert from 192.0.2.2 with higher priority 150, ours 100'));
});

test('MASTER: equal priority tie-break by primary address', () => {
  const higherPeer = new FsmHarness({ wantMaster: true, ownAddress: '192.0.2.5' });
  higherPeer.send({ kind: 'start', faulty: false });
  higherPeer.clock.advance(1004);
  higherPeer.advert(100, '192.0.2.9');
  assert.equal(higherPeer.fsm.state, 'BACKUP');
  const lowerPeer = new FsmHarness({ wantMaster: true, ownAddress: '192.0.2.5' });
  lowerPeer.send({ kind: 'start', faulty: false });
  lowerPeer.clock.advance(1004);
  const acts = lowerPeer.advert(100, '192.0.2.3');
  assert.equal(lowerPeer.fsm.state, 'MASTER');
  assert.ok(acts.some((a) => a.kind === 'send-advert'));
  assert.ok(compareAddresses('2001:db8::10', '2001:db8::9') > 0);
  assert.ok(compareAddresses('2001:db8::1', '2001:db8:0:0:1::') < 0);
  assert.ok(compareAddresses('10.0.0.2', '9.255.255.255') > 0);
});

test('MASTER: lower priority advert → forcing new election: re-advertise, lower-prio GARPs, notify_master_rx_lower_pri', () => {
  const h = masterHarness({ priority: 200, wantMaster: true, garpMasterDelayMs: 0 });
  const acts = h.advert(100);
  assert.equal(h.fsm.state, 'MASTER');
  assert.deepEqual(
    acts.filter((a) => a.kind !== 'log').map((a) => a.kind),
    ['send-advert', 'arm', 'garp-burst', 'arm', 'notify-rx-lower-prio'],
  );
  assert.ok(h.messages().includes('(VI_1) Received advert from 192.0.2.2 with lower priority 100, ours 200, forcing new election'));
  // garp_lower_prio_delay (5 s here): a second burst of garp_lower_prio_repeat, only while still MASTER.
  const t0 = h.clock.now();
  h.clock.advance(5000);
  const second = h.log.filter((e) => e.at > t0 && e.action.kind === 'garp-burst');
  assert.deepEqual(second.map((e) => [e.at - t0, (e.action as { repeat: number }).repeat]), [[5000, 5]]);
  const left = masterHarness({ priority: 200, wantMaster: true });
  left.advert(100);
  const t1 = left.clock.now();
  for (let i = 0; i < 6; i++) {
    left.advert(250, '192.0.2.7');
    left.clock.advance(1000);
  }
  assert.equal(left.fsm.state, 'BACKUP');
  assert.ok(!left.log.some((e) => e.at > t1 && e.action.kind === 'garp-burst'));
  const quiet = masterHarness({ priority: 200, lowerPrioNoAdvert: true, garpLowerPrioRepeat: 0 });
  assert.deepEqual(quiet.advert(100).filter((a) => a.kind !== 'log').map((a) => a.kind), ['notify-rx-lower-prio']);
});

test('MASTER: a priority-0 advert is answered at once', () => {
  const h = masterHarness();
  const acts = h.advert(0);
  assert.equal(acts[0]?.kind, 'send-advert');
  assert.equal(h.fsm.state, 'MASTER');
});

test('shutdown as MASTER sends priority 0, removes VIPs, notifies STOP; shutdown is final', () => {
  const h = masterHarness({ priority: 200 });
  const acts = h.send({ kind: 'shutdown' });
  assert.deepEqual(acts.find((a) => a.kind === 'send-advert'), { kind: 'send-advert', priority: 0 });
  assert.ok(acts.some((a) => a.kind === 'remove-vips'));
  assert.deepEqual(acts.at(-1), { kind: 'notify', state: 'STOP', priority: 200 });
  assert.equal(h.fsm.state, 'STOP');
  assert.equal(h.clock.pendingTimers(), 0);
  assert.deepEqual(h.send({ kind: 'shutdown' }), []);
  assert.deepEqual(h.advert(100), []);
  const b = new FsmHarness();
  b.send({ kind: 'start', faulty: false });
  const bActs = b.send({ kind: 'shutdown' });
  assert.ok(!bActs.some((a) => a.kind === 'send-advert'));
});

test('FAULT: from MASTER sends priority 0; leaving FAULT goes BACKUP then MASTER after the down timer', () => {
  const h = new FsmHarness({ wantMaster: true });
  h.send({ kind: 'start', faulty: false });
  h.clock.advance(1004);
  const acts = h.send({ kind: 'fault', faulty: true });
  assert.equal(h.fsm.state, 'FAULT');
  assert.deepEqual(acts.find((a) => a.kind === 'send-advert'), { kind: 'send-advert', priority: 0 });
  assert.ok(acts.some((a) => a.kind === 'remove-vips'));
  assert.ok(h.messages().includes('(VI_1) Entering FAULT STATE'));
  h.clock.advance(60_000);
  assert.equal(h.fsm.state, 'FAULT');
  h.send({ kind: 'fault', faulty: false });
  assert.equal(h.fsm.state, 'BACKUP');
  h.clock.advance(3610);
  assert.equal(h.fsm.state, 'MASTER');
});

test('start while faulty → FAULT (init); FAULT ignores adverts and timers', () => {
  const h = new FsmHarness();
  h.send({ kind: 'start', faulty: true });
  assert.equal(h.fsm.state, 'FAULT');
  assert.ok(h.messages().includes('(VI_1) Entering FAULT STATE (init)'));
  h.advert(50);
  h.clock.advance(10_000);
  assert.equal(h.fsm.state, 'FAULT');
});

test('effective priority: changes are logged, clamped 1..254, and never touch the owner', () => {
  const h = new FsmHarness();
  h.send({ kind: 'start', faulty: false });
  h.send({ kind: 'priority', effective: 80 });
  assert.equal(h.fsm.priority, 80);
  assert.ok(h.messages().includes('(VI_1) Changing effective priority from 100 to 80'));
  h.send({ kind: 'priority', effective: 400 });
  assert.equal(h.fsm.priority, 254);
  h.send({ kind: 'priority', effective: -5 });
  assert.equal(h.fsm.priority, 1);
  const o = masterHarness();
  o.send({ kind: 'priority', effective: 10 });
  assert.equal(o.fsm.priority, 255);
});

test('a MASTER whose priority drops below a backup loses to it (the backup preempts)', () => {
  const backup = new FsmHarness({ priority: 150 });
  backup.send({ kind: 'start', faulty: false });
  backup.clock.advance(500);
  backup.advert(200);
  backup.clock.advance(1000);
  backup.advert(100); // the master's script failed: 200 → 100 < 150
  backup.clock.advance(1000);
  backup.advert(100);
  backup.clock.advance(2000);
  assert.equal(backup.fsm.state, 'MASTER');
});

test('tracking: scripts, interfaces and files with weights, reverse and fault rules', () => {
  const scripts: Record<string, 'init' | 'ok' | 'failed'> = { up: 'ok', down: 'failed', fresh: 'init' };
  const ifs: Record<string, boolean> = { eth0: true, eth1: false };
  const files: Record<string, number> = { f: 3, z: 0, big: 100 };
  const values = {
    script: (n: string) => scripts[n] ?? 'init',
    interface: (n: string) => ifs[n] ?? false,
    file: (n: string) => files[n] ?? 0,
    process: (n: string) => n === 'running',
    bfd: (n: string) => n === 'up',
  };
  const t = (kind: TrackInput['kind'], name: string, weight: number, reverse = false): TrackInput => ({ kind, name, weight, reverse });
  const cases: { inputs: TrackInput[]; base?: number; prio: number; faulty: boolean }[] = [
    { inputs: [t('script', 'up', 10)], prio: 110, faulty: false },
    { inputs: [t('script', 'down', 10)], prio: 100, faulty: false },
    { inputs: [t('script', 'down', -20)], prio: 80, faulty: false },
    { inputs: [t('script', 'up', -20, true)], prio: 80, faulty: false },
    { inputs: [t('script', 'down', 0)], prio: 100, faulty: true },
    { inputs: [t('script', 'fresh', 0), t('script', 'fresh', -50)], prio: 100, faulty: false },
    { inputs: [t('interface', 'eth0', 5), t('interface', 'eth1', -30)], prio: 75, faulty: false },
    { inputs: [t('interface', 'eth1', 0)], prio: 100, faulty: true },
    { inputs: [t('interface', 'eth0', 0, true)], prio: 100, faulty: true },
    { inputs: [t('file', 'f', 10)], prio: 130, faulty: false },
    { inputs: [t('file', 'f', 10, true)], prio: 70, faulty: false },
    { inputs: [t('file', 'f', 0)], prio: 100, faulty: true },
    { inputs: [t('file', 'z', 0)], prio: 100, faulty: false },
    { inputs: [t('file', 'big', -3)], prio: 100, faulty: true },
    { inputs: [t('script', 'up', 200)], prio: 254, faulty: false },
    { inputs: [t('script', 'down', -200)], prio: 1, faulty: false },
    { inputs: [t('script', 'down', -200)], base: 255, prio: 255, faulty: false },
    // track_process: the quorum, keepalived's weight × multiplier (vrrp_track.c).
    { inputs: [t('process', 'running', 0)], prio: 100, faulty: false },
    { inputs: [t('process', 'stopped', 0)], prio: 100, faulty: true },
    { inputs: [t('process', 'running', 0, true)], prio: 100, faulty: true },
    { inputs: [t('process', 'running', 10)], prio: 110, faulty: false },
    { inputs: [t('process', 'stopped', 10)], prio: 100, faulty: false },
    { inputs: [t('process', 'running', 10, true)], prio: 90, faulty: false },
    { inputs: [t('process', 'stopped', -10)], prio: 90, faulty: false },
    { inputs: [t('process', 'stopped', -10, true)], prio: 110, faulty: false },
    { inputs: [t('process', 'running', -10)], prio: 100, faulty: false },
    // track_bfd: vrrp_track.c initialise_track_bfd_state and vrrp_scheduler.c vrrp_handle_bfd_event.
    { inputs: [t('bfd', 'up', 0)], prio: 100, faulty: false },
    { inputs: [t('bfd', 'down', 0)], prio: 100, faulty: true },
    { inputs: [t('bfd', 'up', 0, true)], prio: 100, faulty: true },
    { inputs: [t('bfd', 'down', 0, true)], prio: 100, faulty: false },
    { inputs: [t('bfd', 'up', 10)], prio: 110, faulty: false },
    { inputs: [t('bfd', 'down', 10)], prio: 100, faulty: false },
    { inputs: [t('bfd', 'up', 10, true)], prio: 90, faulty: false },
    { inputs: [t('bfd', 'down', -10)], prio: 90, faulty: false },
    { inputs: [t('bfd', 'down', -10, true)], prio: 110, faulty: false },
    { inputs: [t('bfd', 'up', -10)], prio: 100, faulty: false },
  ];
  for (const c of cases) {
    const r = evaluateTracking(c.base ?? 100, c.inputs, values);
    assert.equal(r.effectivePriority, c.prio, JSON.stringify(c.inputs));
    assert.equal(r.faulty, c.faulty, JSON.stringify(c.inputs));
  }
});

test('tracking: rise/fall and init_fail', () => {
  const s = new ScriptStatus(2, 3, false);
  assert.equal(s.state, 'init');
  assert.equal(s.record(true), true); // first success decides at once
  assert.equal(s.state, 'ok');
  assert.equal(s.record(false), false);
  assert.equal(s.record(false), false);
  assert.equal(s.record(false), true); // third failure: fall 3
  assert.equal(s.state, 'failed');
  assert.equal(s.record(true), false);
  assert.equal(s.record(true), true); // rise 2
  assert.equal(s.state, 'ok');
  const first = new ScriptStatus(3, 3, false);
  first.record(false);
  assert.equal(first.state, 'failed'); // first failure decides at once too
  const f = new ScriptStatus(2, 1, true);
  assert.equal(f.state, 'failed');
  assert.equal(f.record(true), false);
  assert.equal(f.record(true), true);
});

test('sync group: MASTER only when every member wants it; BACKUP and FAULT spread to all members', () => {
  const clock = new FakeClock();
  const members = new Map([
    ['A', new VrrpFsm({ ...base, name: 'A', inSyncGroup: true }, () => 0)],
    ['B', new VrrpFsm({ ...base, name: 'B', inSyncGroup: true, priority: 90 }, () => 0)],
  ]);
  const group = new SyncGroupCore('G', members);
  const timers = new Map<string, TimerHandle>();
  const deliver = (name: string, ev: FsmEvent): void => {
    const fsm = members.get(name)!;
    const acts = fsm.handle(ev);
    for (const a of acts) {
      const key = `${name}:${a.kind === 'arm' || a.kind === 'cancel' ? a.timer : ''}`;
      if (a.kind === 'arm') {
        const old = timers.get(key);
        if (old) clock.clearTimeout(old);
        timers.set(key, clock.setTimeout(() => deliver(name, { kind: 'timer', timer: a.timer }), a.ms));
      } else if (a.kind === 'cancel') {
        const old = timers.get(key);
        if (old) clock.clearTimeout(old);
      }
    }
    for (const d of group.react(name, acts)) deliver(d.member, d.event);
  };
  deliver('A', { kind: 'start', faulty: false });
  deliver('B', { kind: 'start', faulty: false });
  assert.equal(group.update(), 'BACKUP');
  // A's timer (prio 100) fires first; it must wait for B (prio 90, longer skew).
  clock.advance(3610);
  assert.equal(members.get('A')!.state, 'BACKUP');
  assert.equal(members.get('A')!.wantingMaster, true);
  clock.advance(50);
  assert.equal(members.get('A')!.state, 'MASTER');
  assert.equal(members.get('B')!.state, 'MASTER');
  assert.equal(group.update(), 'MASTER');
  // A higher-priority router appears for B only: the whole group goes BACKUP.
  deliver('B', { kind: 'advert', priority: 200, src: '192.0.2.9', advertIntCs: 100 });
  assert.equal(members.get('B')!.state, 'BACKUP');
  assert.equal(members.get('A')!.state, 'BACKUP');
  assert.equal(group.update(), 'BACKUP');
  // A fault on A takes B to FAULT too; clearing it brings both back.
  deliver('A', { kind: 'fault', faulty: true });
  assert.equal(members.get('B')!.state, 'FAULT');
  assert.equal(group.update(), 'FAULT');
  deliver('A', { kind: 'fault', faulty: false });
  assert.equal(members.get('A')!.state, 'BACKUP');
  assert.equal(members.get('B')!.state, 'BACKUP');
});

test('set-backup (a VIP deleted behind us): MASTER leaves with a priority-0 advert and takes over again after Skew_Time', () => {
  const h = new FsmHarness();
  h.send({ kind: 'start', faulty: false });
  h.clock.advance(3609);
  assert.equal(h.fsm.state, 'MASTER');
  const t0 = h.clock.now();
  const acts = h.send({ kind: 'set-backup' });
  assert.equal(h.fsm.state, 'BACKUP');
  assert.deepEqual(acts.filter((a) => a.kind === 'send-advert'), [{ kind: 'send-advert', priority: 0 }]);
  assert.ok(acts.some((a) => a.kind === 'remove-vips'));
  assert.deepEqual(acts.filter((a) => a.kind === 'notify'), [{ kind: 'notify', state: 'BACKUP', priority: 100 }]);
  // keepalived's order: the state, the advert, the VIPs.
  assert.deepEqual(h.messages().slice(-3), ['(VI_1) Entering BACKUP STATE', '(VI_1) sent 0 priority', '(VI_1) removing VIPs.']);
  // Skew_Time for priority 100 is 156/256 s = 609.375 ms, armed as 609.
  h.clock.advance(608);
  assert.equal(h.fsm.state, 'BACKUP');
  h.clock.advance(1);
  assert.equal(h.fsm.state, 'MASTER');
  assert.ok(h.since(t0 + 609).some((a) => a.kind === 'add-vips'));
  // Anywhere but MASTER it does nothing.
  const b = new FsmHarness();
  b.send({ kind: 'start', faulty: false });
  assert.deepEqual(b.send({ kind: 'set-backup' }), []);
});

test('sync group: set-backup on one MASTER member takes the others along the same way (priority 0, Skew_Time)', () => {
  const members = new Map([
    ['A', new VrrpFsm({ ...base, name: 'A', inSyncGroup: true }, () => 0)],
    ['B', new VrrpFsm({ ...base, name: 'B', inSyncGroup: true, priority: 90 }, () => 0)],
  ]);
  const group = new SyncGroupCore('G', members);
  for (const [name, m] of members) {
    m.handle({ kind: 'start', faulty: false });
    group.react(name, m.handle({ kind: 'timer', timer: 'masterDown' }));
  }
  for (const d of group.react('B', [{ kind: 'want-master' }])) members.get(d.member)!.handle(d.event);
  assert.deepEqual([...members.values()].map((m) => m.state), ['MASTER', 'MASTER']);
  const acts = members.get('A')!.handle({ kind: 'set-backup' });
  const directives = group.react('A', acts);
  assert.deepEqual(directives.filter((d) => d.event.kind !== 'group-fault'), [{ member: 'B', event: { kind: 'set-backup' } }]);
  const bActs = members.get('B')!.handle(directives.find((d) => d.member === 'B')!.event);
  assert.deepEqual(bActs.filter((a) => a.kind === 'send-advert'), [{ kind: 'send-advert', priority: 0 }]);
  assert.deepEqual(bActs.filter((a) => a.kind === 'arm' && a.timer === 'masterDown'), [{ kind: 'arm', timer: 'masterDown', ms: Math.round(members.get('B')!.skewTimeMs()) }]);
});
