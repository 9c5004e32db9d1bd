// The BFD session core (RFC 5880 §6.8) on a simulated clock: two sessions wired back to back, packets delivered
// after a fixed delay, time advanced in steps of 1 ms.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BfdState, decodeControl, encodeControl, type ControlPacket } from '../../src/bfd/packet.js';
import { BfdSession, type SessionAction, type SessionParams } from '../../src/bfd/session.js';
import { seededRandom } from '../support/seeded-random.js';

const FAST: SessionParams = { minRxUs: 50_000, minTxUs: 50_000, idleTxUs: 1_000_000, detectMult: 3, passive: false };

class Pair {
  now = 0;
  readonly events: { side: 'a' | 'b'; up: boolean; at: number }[] = [];
  readonly logs: string[] = [];
  readonly sent: { side: 'a' | 'b'; packet: ControlPacket; at: number }[] = [];
  private readonly wire: { to: 'a' | 'b'; at: number; bytes: Buffer }[] = [];
  /** Set to false to cut the link (the peer is killed). */
  bLinked = true;
  readonly a: BfdSession;
  readonly b: BfdSession;

  constructor(pa: SessionParams, pb: SessionParams, seed = 1) {
    const rnd = seededRandom(seed);
    this.a = new BfdSession('a', pa, () => 0x0a, rnd);
    this.b = new BfdSession('b', pb, () => 0x0b, rnd);
    this.a.start(0);
    this.b.start(0);
  }

  private apply(side: 'a' | 'b', actions: SessionAction[]): void {
    for (const x of actions) {
      if (x.kind === 'event') this.events.push({ side, up: x.up, at: this.now });
      else if (x.kind === 'log') this.logs.push(x.text);
      else {
        this.sent.push({ side, packet: x.packet, at: this.now });
        if (this.bLinked) this.wire.push({ to: side === 'a' ? 'b' : 'a', at: this.now + 1, bytes: encodeControl(x.packet) });
      }
    }
  }

  run(ms: number): void {
    const end = this.now + ms;
    while (this.now < end) {
      this.now += 1;
      for (const m of this.wire.filter((w) => w.at <= this.now)) {
        this.wire.splice(this.wire.indexOf(m), 1);
        const d = decodeControl(m.bytes);
        assert.ok(d.ok);
        if (m.to === 'b' && !this.bLinked) continue;
        this.apply(m.to, (m.to === 'a' ? this.a : this.b).receive(d.packet, this.now));
      }
      for (const [side, s] of [['a', this.a], ['b', this.b]] as const) {
        if (side === 'b' && !this.bLinked) continue;
        const due = s.deadline();
        if (due !== undefined && due <= this.now) this.apply(side, s.tick(this.now));
      }
    }
  }
}

test('two active sessions come Up through Down → Init → Up and report Up once each', () => {
  const p = new Pair(FAST, FAST);
  // Until Up both send at idle_tx (1 s, less jitter): Init is announced by the next periodic packet.
  p.run(1100);
  assert.equal(p.a.state, BfdState.Up);
  assert.equal(p.b.state, BfdState.Up);
  assert.deepEqual(p.events.map((e) => [e.side, e.up]).sort(), [['a', true], ['b', true]]);
  assert.ok(p.logs.includes('(a) Entering Up state'));
  // Each side learnt the other's discriminator.
  assert.equal(p.a.remoteDiscr, 0x0b);
  assert.equal(p.b.remoteDiscr, 0x0a);
});

test('once Up, the poll sequence moves both to min_tx and the detection time is 3 × 50 ms', () => {
  const p = new Pair(FAST, FAST);
  p.run(2000);
  assert.equal(p.a.txIntervalUs, 50_000);
  assert.equal(p.a.detectTimeUs, 150_000);
  // Packets sent while Down/Init announce idle_tx (RFC 5880 §6.8.3), those after Up min_tx.
  const first = p.sent.find((s) => s.side === 'a')!;
  assert.equal(first.packet.desiredMinTx, 1_000_000);
  const polls = p.sent.filter((s) => s.packet.poll);
  const finals = p.sent.filter((s) => s.packet.final);
  assert.ok(polls.length > 0 && finals.length > 0);
  // Between 1 s and 2 s the tx intervals are 37.5–50 ms (25 % jitter, RFC 5880 §6.8.7).
  const aLate = p.sent.filter((s) => s.side === 'a' && s.at > 1000 && !s.packet.final).map((s) => s.at);
  const gaps = aLate.slice(1).map((t, i) => t - aLate[i]!);
  assert.ok(gaps.length > 15);
  for (const g of gaps) assert.ok(g >= 37 && g <= 51, `gap ${g}`);
  assert.ok(new Set(gaps).size > 1, 'jittered');
});

test('the peer going silent takes the session Down after the detection time, with keepalived\'s log lines', () => {
  const p = new Pair(FAST, FAST);
  p.run(2000);
  p.bLinked = false;
  const cut = p.now;
  p.run(200);
  assert.equal(p.a.state, BfdState.Down);
  const down = p.events.find((e) => e.side === 'a' && !e.up)!;
  assert.ok(down.at - cut <= 150 + 1 && down.at - cut >= 150 - 50, `down after ${down.at - cut} ms`);
  assert.ok(p.logs.some((l) => /^\(a\) Expired after 15\d ms \(\d+ usec overdue\)$/.test(l)), p.logs.join('\n'));
  assert.ok(p.logs.includes('(a) Entering Down state (Local diagnostic - Control Detection Time Expired, Remote diagnostic - No Diagnostic)'));
  // Still the peer's last word 50 ms after; forgotten one detection time after the fall (bfd_reset_thread).
  assert.equal(p.a.snapshot().remoteState, BfdState.Up);
  p.run(150);
  assert.equal(p.a.snapshot().remoteState, BfdState.Down);
  // The link back: the session comes Up again.
  p.bLinked = true;
  p.run(4000);
  assert.equal(p.a.state, BfdState.Up);
});

test('changing min_rx/min_tx while Up runs a Poll Sequence and never flaps', () => {
  const p = new Pair(FAST, FAST);
  p.run(2000);
  const before = p.events.length;
  p.b.reconfigure({ ...FAST, minRxUs: 200_000, minTxUs: 200_000 }, p.now);
  p.run(3000);
  assert.equal(p.events.length, before, 'no state event');
  assert.equal(p.a.state, BfdState.Up);
  // a now sends no faster than b's new RequiredMinRx, and expects b at its new DesiredMinTx.
  assert.equal(p.a.txIntervalUs, 200_000);
  assert.equal(p.a.detectTimeUs, 600_000);
  assert.equal(p.b.txIntervalUs, 200_000);
  assert.ok(p.logs.includes('    Detection time is 600000 us (was 150000 us)'));
  // And back down again.
  p.b.reconfigure(FAST, p.now);
  p.run(3000);
  assert.equal(p.events.length, before);
  assert.equal(p.a.detectTimeUs, 150_000);
});

test('a passive session sends nothing until it hears its peer', () => {
  const p = new Pair(FAST, { ...FAST, passive: true });
  const lone = new Pair({ ...FAST, passive: true }, { ...FAST, passive: true });
  lone.run(3000);
  assert.equal(lone.sent.length, 0);
  assert.equal(lone.a.state, BfdState.Down);
  // Down → Init on a's first packet; Init → Up on a's next, one idle interval later.
  p.run(2100);
  assert.equal(p.b.state, BfdState.Up);
  assert.ok(p.sent[0]!.side === 'a');
});

test('the peer going AdminDown takes the session Down without a Down event (RFC 5882 §3.2), with a new discriminator', () => {
  let drawn = 0;
  const a = new BfdSession('a', FAST, () => ++drawn, () => 0);
  a.start(0);
  const from = (state: BfdState, yours: number): ControlPacket => ({
    diag: state === BfdState.AdminDown ? 7 : 0, state, poll: false, final: false, cpi: false, auth: false, demand: false,
    detectMult: 3, myDiscr: 2, yourDiscr: yours, desiredMinTx: 50_000, requiredMinRx: 50_000, requiredMinEchoRx: 0,
  });
  a.receive(from(BfdState.Down, 0), 1);
  assert.equal(a.state, BfdState.Init);
  assert.deepEqual(a.receive(from(BfdState.Up, 1), 2).filter((x) => x.kind === 'event'), [{ kind: 'event', up: true }]);
  assert.equal(a.localDiscr, 1);
  const r = a.receive(from(BfdState.AdminDown, 1), 3);
  assert.equal(a.state, BfdState.Down);
  assert.deepEqual(r.filter((x) => x.kind === 'event'), []);
  // bfd_state_down: a fall from Up draws a new one; the next packet out carries it.
  assert.equal(a.localDiscr, 2);
  assert.deepEqual(a.tick(5000).flatMap((x) => (x.kind === 'send' ? [x.packet.myDiscr] : [])), [2]);
});

test('with detect multiplier 1 the interval is cut by 10–25 %', () => {
  for (const [v, expect] of [[0, 45], [1, 37.5]] as const) {
    const s = new BfdSession('s', { ...FAST, detectMult: 1 }, () => 1, () => v);
    s.start(0);
    // Up at 50 ms: drive it there with a peer that answers Init, then Up with a Final.
    s.receive({ diag: 0, state: BfdState.Init, poll: false, final: false, cpi: false, auth: false, demand: false, detectMult: 1, myDiscr: 2, yourDiscr: 1, desiredMinTx: 50_000, requiredMinRx: 50_000, requiredMinEchoRx: 0 }, 0);
    s.tick(0);
    s.receive({ diag: 0, state: BfdState.Up, poll: false, final: true, cpi: false, auth: false, demand: false, detectMult: 1, myDiscr: 2, yourDiscr: 1, desiredMinTx: 50_000, requiredMinRx: 50_000, requiredMinEchoRx: 0 }, 10);
    assert.equal(s.deadline(), 10 + expect);
  }
});

test('a faster peer rate counts only once the peer is seen sending at it (RFC 5880 §6.8.3)', () => {
  const s = new BfdSession('s', FAST, () => 1, () => 0);
  s.start(0);
  const pkt = (state: BfdState, desiredMinTx: number, flags: { poll?: boolean; final?: boolean } = {}): ControlPacket => ({
    diag: 0, state, poll: flags.poll ?? false, final: flags.final ?? false, cpi: false, auth: false, demand: false, detectMult: 3,
    myDiscr: 2, yourDiscr: 1, desiredMinTx, requiredMinRx: 50_000, requiredMinEchoRx: 0,
  });
  s.receive(pkt(BfdState.Init, 1_000_000), 0);
  assert.equal(s.state, BfdState.Up);
  assert.equal(s.detectTimeUs, 3_000_000);
  // As FRR's bfdd does: its Final to our Poll already says 50 ms, but it still sends every second.
  s.receive(pkt(BfdState.Up, 50_000, { final: true }), 10);
  assert.equal(s.detectTimeUs, 3_000_000);
  s.receive(pkt(BfdState.Up, 50_000), 900);
  assert.equal(s.detectTimeUs, 3_000_000);
  // Its own Poll for 50 ms, which we answer with a Final; then a periodic packet 140 ms after the last one: faster
  // than 75 % of the old second.
  const answer = s.receive(pkt(BfdState.Up, 50_000, { poll: true }), 1000);
  assert.ok(answer.some((a) => a.kind === 'send' && a.packet.final));
  assert.equal(s.detectTimeUs, 3_000_000);
  s.receive(pkt(BfdState.Up, 50_000), 1040);
  assert.equal(s.detectTimeUs, 150_000);
  // Slower again: at once.
  s.receive(pkt(BfdState.Up, 300_000, { poll: true }), 1080);
  assert.equal(s.detectTimeUs, 900_000);
  // Faster without a Poll (a Final carried it): taken once its packets come closer than 75 % of 300 ms.
  s.receive(pkt(BfdState.Up, 50_000, { final: true }), 1100);
  s.receive(pkt(BfdState.Up, 50_000), 1300);
  assert.equal(s.detectTimeUs, 900_000);
  s.receive(pkt(BfdState.Up, 50_000), 1600);
  assert.equal(s.detectTimeUs, 900_000);
  s.receive(pkt(BfdState.Up, 50_000), 1650);
  assert.equal(s.detectTimeUs, 150_000);
});
