// One BFD session's state machine (RFC 5880 §6.8, asynchronous mode, no echo, no demand of our own), I/O-free:
// packets and the clock come in, packets to send, state events and log lines go out. The adapter (service.ts) asks
// deadline() when to call tick() next. Behaviour follows keepalived 2.2.7 bfd/bfd_scheduler.c and bfd/bfd.c, whose
// peers we must interoperate with, where the RFC leaves a choice; deviations are named where they are made.
import { BfdDiag, BfdState, DIAG_NAMES, STATE_NAMES, type ControlPacket } from './packet.js';

/** A bfd_instance's timers in microseconds (bfd_parser.c reads milliseconds with 3 decimals). */
export interface SessionParams {
  readonly minRxUs: number;
  readonly minTxUs: number;
  readonly idleTxUs: number;
  readonly detectMult: number;
  readonly passive: boolean;
}

export type SessionAction =
  | { readonly kind: 'send'; readonly packet: ControlPacket }
  /** Only Up and Down are reported, as bfd_event.c bfd_event_send reports them to the VRRP and checker processes. */
  | { readonly kind: 'event'; readonly up: boolean }
  /**
   * keepalived's line, word for word (its LOG_WARNING and LOG_INFO alike: the console shows no level). `detail`: a
   * line keepalived writes only with -D (__test_bit(LOG_DETAIL_BIT, &debug)).
   */
  | { readonly kind: 'log'; readonly text: string; readonly detail?: true };

/** The state variables keepalived's SIGUSR1 dump lists (bfd_data.c dump_bfd), in its units (µs). */
export interface SessionSnapshot {
  readonly localState: BfdState;
  readonly remoteState: BfdState;
  readonly localDiscr: number;
  readonly remoteDiscr: number;
  readonly localDiag: number;
  readonly remoteDiag: number;
  readonly remoteMinTxUs: number;
  readonly remoteMinRxUs: number;
  readonly remoteDemand: boolean;
  readonly remoteDetectMult: number;
  readonly poll: boolean;
  readonly final: boolean;
  readonly localTxUs: number;
  readonly remoteTxUs: number;
  readonly localDetectUs: number;
  readonly remoteDetectUs: number;
  /** On the clock's scale; undefined until a packet came. */
  readonly lastRx: number | undefined;
}

export class BfdSession {
  state = BfdState.Down;
  remoteState = BfdState.Down;
  remoteDiscr = 0;
  private localDiag = BfdDiag.None;
  private remoteDiag = 0;
  /**
   * RFC 5880 §6.8.1: bfd.RemoteMinRxInterval starts at 1 µs; keepalived's remote_min_rx_intv starts at 0, which its
   * dump shows. It only ever meets a positive interval in max(), so the two are the same in effect.
   */
  private remoteMinRxUs = 0;
  /** The peer's DesiredMinTxInterval as last received (keepalived's remote_min_tx_intv), for the -D lines. */
  private remoteMinTxUs = 0;
  /**
   * The peer's DesiredMinTxInterval and our RequiredMinRxInterval the detection time is computed from: a faster
   * value is taken only once the Poll Sequence announcing it has ended (§6.8.3), see agreeRx.
   */
  private agreedRemoteTxUs = 0;
  private agreedMinRxUs: number;
  /** When the last packet without P or F came: those are the peer's periodic ones, spaced by its real rate. */
  private lastPeriodicRx: number | undefined;
  private remoteDetectMult = 0;
  private remoteDemand = false;
  private poll = false;
  private final = false;
  /** The interval we transmit at (before jitter) and the one we expect the peer at, µs. */
  txIntervalUs: number;
  private rxIntervalUs = 0;
  /** bfd.DetectMult × the peer's agreed interval (§6.8.4), µs; 0 until the peer has been heard. */
  detectTimeUs = 0;
  private nextTxAt: number | undefined;
  /** Whether any packet has left: a passive session sends none until it hears its peer. */
  private sent = false;
  private detectAt: number | undefined;
  /** When a Down session forgets its peer (bfd_scheduler.c bfd_reset_thread), one detection time after it fell. */
  private resetAt: number | undefined;
  private lastRx: number | undefined;
  /** Our DetectMult × our transmit interval as of the last packet: the peer's detection time (remote_detect_time). */
  private remoteDetectUs = 0;

  /** bfd.LocalDiscr, drawn by `drawDiscr` (unique among the adapter's sessions). */
  localDiscr: number;

  constructor(
    readonly name: string,
    private params: SessionParams,
    private readonly drawDiscr: () => number,
    private readonly random: () => number,
  ) {
    this.localDiscr = drawDiscr();
    this.txIntervalUs = this.idleTxInterval();
    this.agreedMinRxUs = params.minRxUs;
  }

  /** The session begins: an active one sends at once (bfd_scheduler.c bfd_register_fds → bfd_sender_schedule). */
  start(now: number): void {
    if (!this.params.passive) this.nextTxAt = now;
  }

  /**
   * No send socket (bfd_scheduler.c bfd_open_fds → bfd_state_admindown): the session sends nothing and takes no
   * packet until the adapter has one; it reports nothing either (bfd_state_fall without an event).
   */
  adminDown(): SessionAction[] {
    this.state = BfdState.AdminDown;
    this.localDiag = BfdDiag.AdminDown;
    this.nextTxAt = undefined;
    this.detectAt = undefined;
    this.txIntervalUs = this.idleTxInterval();
    return [{ kind: 'log', text: `(${this.name}) Entering AdminDown state` }];
  }

  /**
   * The send socket opened after all. From the retry timer: Down, an active session sending after an interval
   * (bfd_open_fd_out_thread); from a packet that arrived meanwhile: Init, the packet then taken (bfd_handle_packet).
   * keepalived arms its expiry there with the detection time it had, 0 for a peer never heard (bfd_state_init →
   * bfd_state_rise → bfd_expire_schedule), so it falls Down at once and its next packet says Down unless the peer's
   * came first; here Init holds, its detection time set by the packet taken.
   */
  resume(now: number, to: BfdState.Down | BfdState.Init): void {
    this.state = to;
    if (to === BfdState.Init) this.localDiag = BfdDiag.None;
    if (!this.params.passive || to === BfdState.Init) this.nextTxAt = now + this.jitteredIntervalMs();
  }

  /** The earliest time tick() has work to do, or undefined when nothing is scheduled. */
  deadline(): number | undefined {
    const due = [this.nextTxAt, this.detectAt, this.resetAt].filter((t) => t !== undefined);
    return due.length > 0 ? Math.min(...due) : undefined;
  }

  /** The detection time has passed without a packet (tick would declare the session Down). */
  detectionDue(now: number): boolean {
    return this.detectAt !== undefined && this.detectAt <= now;
  }

  tick(now: number): SessionAction[] {
    const out: SessionAction[] = [];
    if (this.detectAt !== undefined && this.detectAt <= now) this.expire(now, out);
    if (this.resetAt !== undefined && this.resetAt <= now) this.reset();
    if (this.nextTxAt !== undefined && this.nextTxAt <= now) {
      out.push(this.transmit());
      this.nextTxAt = now + this.jitteredIntervalMs();
    }
    return out;
  }

  snapshot(): SessionSnapshot {
    return {
      localState: this.state, remoteState: this.remoteState, localDiscr: this.localDiscr, remoteDiscr: this.remoteDiscr,
      localDiag: this.localDiag, remoteDiag: this.remoteDiag, remoteMinTxUs: this.remoteMinTxUs, remoteMinRxUs: this.remoteMinRxUs,
      remoteDemand: this.remoteDemand, remoteDetectMult: this.remoteDetectMult, poll: this.poll, final: this.final,
      localTxUs: this.txIntervalUs, remoteTxUs: this.rxIntervalUs, localDetectUs: this.detectTimeUs, remoteDetectUs: this.remoteDetectUs,
      lastRx: this.lastRx,
    };
  }

  /** A packet that passed decodeControl and was matched to this session (§6.8.6 from "If bfd.RemoteDiscr"). */
  receive(p: ControlPacket, now: number): SessionAction[] {
    const out: SessionAction[] = [];
    const oldTx = this.txIntervalUs;
    const oldDetect = this.detectTimeUs;
    const oldRemote = [this.remoteMinRxUs, this.remoteMinTxUs, this.remoteDetectMult];
    this.remoteDiscr = p.myDiscr;
    this.remoteState = p.state;
    this.remoteDiag = p.diag;
    this.remoteMinRxUs = p.requiredMinRx;
    this.remoteMinTxUs = p.desiredMinTx;
    this.remoteDemand = p.demand;
    this.remoteDetectMult = p.detectMult;
    if (p.final) this.poll = false;
    // §6.8.3: a rate change while Up takes effect only at the end of a Poll Sequence (either side's); keepalived
    // bfd_handle_packet recomputes on P or F while Up, and on every packet otherwise.
    if (this.state !== BfdState.Up || p.poll || p.final) {
      const bothRising = this.remoteState === BfdState.Up && (this.state === BfdState.Init || this.state === BfdState.Up);
      this.txIntervalUs = bothRising ? Math.max(this.params.minTxUs, this.remoteMinRxUs) : this.idleTxInterval();
    }
    this.agreeRx(p, now);
    this.rxIntervalUs = Math.max(this.agreedMinRxUs, this.agreedRemoteTxUs);
    this.detectTimeUs = this.remoteDetectMult * this.rxIntervalUs;
    this.remoteDetectUs = this.params.detectMult * this.txIntervalUs;
    // bfd_handle_packet: with -D the timers are logged when the peer's or our transmit interval changed; here also
    // when a rate held back (agreeRx) is taken, on a packet without P or F while Up, where keepalived changes nothing.
    const remote = [this.remoteMinRxUs, this.remoteMinTxUs, this.remoteDetectMult];
    const heldBackTaken = this.state === BfdState.Up && !p.poll && !p.final && this.detectTimeUs !== oldDetect;
    if (this.txIntervalUs !== oldTx || remote.some((v, i) => v !== oldRemote[i]) || heldBackTaken) this.logTimers(out);
    if (this.detectTimeUs !== oldDetect) {
      out.push({ kind: 'log', text: `${' '.repeat(this.name.length + 2)} Detection time is ${this.detectTimeUs} us (was ${oldDetect} us)` });
    }
    // §6.8.7: a faster rate is used at once (keepalived bfd_sender_reschedule).
    if (this.txIntervalUs < oldTx && this.nextTxAt !== undefined) this.nextTxAt = now + this.jitteredIntervalMs();

    if (this.remoteState === BfdState.AdminDown) {
      if (this.state !== BfdState.Down) this.down(BfdDiag.NeighborDown, now, out);
    } else if (this.state === BfdState.Down) {
      if (this.remoteState === BfdState.Down) this.rise(BfdState.Init, out);
      else if (this.remoteState === BfdState.Init) this.rise(BfdState.Up, out);
    } else if (this.state === BfdState.Init) {
      if (this.remoteState === BfdState.Init || this.remoteState === BfdState.Up) this.rise(BfdState.Up, out);
    } else if (this.remoteState === BfdState.Down) {
      this.down(BfdDiag.NeighborDown, now, out);
    }

    // §6.8.7: no periodic packets while both are Up and the peer is in Demand mode; otherwise they flow, a passive
    // session's too once it has heard its peer (§6.1).
    const quiet = this.remoteDemand && this.state === BfdState.Up && this.remoteState === BfdState.Up;
    if (quiet) this.nextTxAt = undefined;
    // A passive session's first packet goes at once: §6.8.7's spacing is between packets, and no packet precedes
    // it (keepalived waits an interval, which costs a passive session up to a second of idle_tx).
    else this.nextTxAt ??= this.sent ? now + this.jitteredIntervalMs() : now;
    // §6.8.6: a Poll is answered at once with a Final, outside the periodic schedule.
    if (p.poll) {
      this.final = true;
      out.push(this.transmit());
    }
    this.lastRx = now;
    // §6.8.4: the detection timer runs in Init and Up and restarts with each packet. keepalived restarts it only in
    // Up; restarting it in Init too keeps a slow peer's Init from expiring while its packets still arrive.
    if (this.state === BfdState.Init || this.state === BfdState.Up) this.detectAt = now + this.detectTimeUs / 1000;
    return out;
  }

  /**
   * New bfd_instance timers on reload. A new min_rx or min_tx is announced with a Poll Sequence (§6.8.3), in any
   * state as bfd_data.c bfd_complete_init does it (bfd_cmp_timers → bfd_set_poll); while Up the values take effect
   * when the Final arrives, so the session does not flap. A new idle_tx applies at once while not Up.
   */
  reconfigure(params: SessionParams, now: number): SessionAction[] {
    const out: SessionAction[] = [];
    const old = this.params;
    this.params = params;
    if (old.minRxUs !== params.minRxUs || old.minTxUs !== params.minTxUs) this.startPoll(out);
    if (this.state !== BfdState.Up && old.idleTxUs !== params.idleTxUs) this.txIntervalUs = this.idleTxInterval();
    // Without a send socket nothing is scheduled: the adapter resumes the session when it has one.
    if (this.state === BfdState.AdminDown) return out;
    if (params.passive && this.state === BfdState.Down && this.remoteDiscr === 0) this.nextTxAt = undefined;
    else if (!params.passive) this.nextTxAt ??= now;
    return out;
  }

  /**
   * §6.8.3 on the receiving side. A slower rate counts at once, and any rate while not Up. A faster one only once the
   * peer is seen to use it: two of its periodic packets (neither P nor F, which are sent out of turn) closer together
   * than its old rate allows (under 75 % of it, the most §6.8.7's jitter takes off). Our own lower RequiredMinRx
   * counts once our Poll has its Final. keepalived recomputes on any P or F, trusting the value: FRR's bfdd announces
   * its faster rate in its Final and in its own Poll but goes on sending at the old rate for a while, which expires
   * keepalived's 3 x 50 ms sessions soon after Up (bench:bfd counts them); waiting for the end of the peer's Poll was
   * not enough with bfdd either (test/bfd/track-bfd-twin.test.ts saw it at 3 x 200 ms).
   */
  private agreeRx(p: ControlPacket, now: number): void {
    const periodic = !p.poll && !p.final;
    const sooner = periodic && this.lastPeriodicRx !== undefined && now - this.lastPeriodicRx < (0.75 * this.rxIntervalUs) / 1000;
    if (this.state !== BfdState.Up || p.desiredMinTx >= this.agreedRemoteTxUs || sooner) this.agreedRemoteTxUs = p.desiredMinTx;
    if (periodic) this.lastPeriodicRx = now;
    if (this.state !== BfdState.Up || p.final || this.params.minRxUs > this.agreedMinRxUs) this.agreedMinRxUs = this.params.minRxUs;
  }

  private expire(now: number, out: SessionAction[]): void {
    this.detectAt = undefined;
    if (this.state === BfdState.Up) {
      const deadUs = Math.round((now - (this.lastRx ?? now)) * 1000);
      out.push({ kind: 'log', text: `(${this.name}) Expired after ${Math.floor(deadUs / 1000)} ms (${Math.max(0, deadUs - this.detectTimeUs)} usec overdue)` });
    }
    // §6.8.1: bfd.RemoteDiscr is zeroed when a Detection Time passes without a packet.
    this.remoteDiscr = 0;
    this.down(BfdDiag.Expired, now, out);
  }

  /** bfd_scheduler.c bfd_state_down / bfd_state_fall. */
  private down(diag: BfdDiag, now: number, out: SessionAction[]): void {
    const wasUp = this.state === BfdState.Up;
    if (wasUp) {
      // A session that falls from Up takes a new discriminator (bfd_scheduler.c bfd_state_down): the peer's packets
      // still naming the old one find no session until it, too, has started over.
      this.localDiscr = this.drawDiscr();
      out.push({ kind: 'log', text: `(${this.name}) Entering Down state (Local diagnostic - ${DIAG_NAMES[diag]}, Remote diagnostic - ${DIAG_NAMES[this.remoteDiag] ?? 'Unknown'})` });
    }
    this.state = BfdState.Down;
    this.localDiag = diag;
    this.detectAt = undefined;
    this.resetAt = now + this.detectTimeUs / 1000;
    // §6.8.3: not Up → DesiredMinTxInterval of at least one second.
    this.txIntervalUs = this.idleTxInterval();
    if (this.params.passive) this.nextTxAt = undefined;
    // A peer that went AdminDown has not failed (RFC 5882 §3.2); keepalived reports nothing then.
    if (wasUp && this.remoteState !== BfdState.AdminDown) out.push({ kind: 'event', up: false });
  }

  /**
   * bfd.c bfd_reset_state: the peer's state, discriminator, diagnostic and demand are forgotten, a Poll or Final
   * pending is dropped, and the idle rate applies (RFC 5880 §6.8.1 zeroes bfd.RemoteDiscr when a detection time
   * passes without a packet).
   */
  private reset(): void {
    this.resetAt = undefined;
    this.remoteState = BfdState.Down;
    this.remoteDiscr = 0;
    this.remoteDiag = BfdDiag.None;
    this.remoteDemand = false;
    this.poll = false;
    this.final = false;
    this.txIntervalUs = this.idleTxInterval();
  }

  /** bfd_state_init / bfd_state_up (with bfd_state_rise). */
  private rise(to: BfdState.Init | BfdState.Up, out: SessionAction[]): void {
    this.state = to;
    this.localDiag = BfdDiag.None;
    this.resetAt = undefined;
    if (to === BfdState.Init) return;
    out.push({ kind: 'log', text: `(${this.name}) Entering ${STATE_NAMES[to]} state` });
    // The DesiredMinTxInterval changes from idle_tx to min_tx: announced by a Poll (bfd_state_up).
    if (this.params.idleTxUs !== this.params.minTxUs) this.startPoll(out);
    out.push({ kind: 'event', up: true });
  }

  /** bfd.c bfd_set_poll: a Final about to go out carries the new values already. */
  private startPoll(out: SessionAction[]): void {
    out.push({ kind: 'log', text: `(${this.name}) Starting poll sequence`, detail: true });
    if (!this.final) this.poll = true;
  }

  /**
   * bfd_scheduler.c bfd_dump_timers to the log: ours (DesiredMinTx as sent, RequiredMinRx, the transmit interval,
   * DetectMult, the detection time we apply) and the peer's (as received, the interval we expect it at, and the
   * detection time it applies to us: our multiplier × our interval).
   */
  private logTimers(out: SessionAction[]): void {
    const pad = ' '.repeat(this.name.length + 2);
    const row = (label: string, v: readonly number[]): string =>
      `${pad} ${label} ${[8, 7, 8, 5, 12].map((w, i) => String(v[i]).padStart(w)).join(' ')}`;
    const p = this.params;
    for (const text of [
      `(${this.name}) ---------------< Session parameters >--------------`,
      `${pad}          min_tx  min_rx  tx_intv  mult  detect_time`,
      row('local ', [this.state === BfdState.Up ? p.minTxUs : p.idleTxUs, p.minRxUs, this.txIntervalUs, p.detectMult, this.detectTimeUs]),
      row('remote', [this.remoteMinTxUs, this.remoteMinRxUs, this.rxIntervalUs, this.remoteDetectMult, this.remoteDetectUs]),
    ]) out.push({ kind: 'log', text, detail: true });
  }

  private idleTxInterval(): number {
    return Math.max(this.params.idleTxUs, this.remoteMinRxUs);
  }

  /**
   * §6.8.7: the interval reduced by a random 0–25 %, or 10–25 % with a detect multiplier of 1. keepalived's
   * get_jitter applies the 10 % floor whatever the multiplier; the RFC's rule is kept here.
   */
  private jitteredIntervalMs(): number {
    const floor = this.params.detectMult === 1 ? 0.1 : 0;
    return (this.txIntervalUs * (1 - (floor + this.random() * (0.25 - floor)))) / 1000;
  }

  /** bfd.c bfd_build_packet: DesiredMinTx is min_tx only while Up (§6.8.3); the Final flag is spent once sent. */
  private transmit(): SessionAction {
    if (this.poll && this.final) this.poll = false;
    const packet: ControlPacket = {
      diag: this.localDiag,
      state: this.state,
      poll: this.poll,
      final: this.final,
      cpi: false, auth: false,
      demand: false,
      detectMult: this.params.detectMult,
      myDiscr: this.localDiscr,
      yourDiscr: this.remoteDiscr,
      desiredMinTx: this.state === BfdState.Up ? this.params.minTxUs : this.params.idleTxUs,
      requiredMinRx: this.params.minRxUs,
      requiredMinEchoRx: 0,
    };
    this.final = false;
    this.sent = true;
    return { kind: 'send', packet };
  }
}
