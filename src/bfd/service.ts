// The BFD adapter: sockets and timers around the session cores (session.ts), as keepalived 2.2.7's BFD process
// does it (bfd/bfd_scheduler.c): one receive socket per family on port 3784 (RFC 5881 §4) that reports each
// datagram's TTL, one send socket per session bound to a source port in 49152–65535 with the configured TTL / hop
// limit, packets matched to sessions by Your Discriminator or else by address, the GTSM check (RFC 5881 §5, with
// keepalived's max_hops), and Up/Down events handed to onState.
import { createSocket, type Socket } from 'node:dgram';
import type { Clock, TimerHandle } from '../clock.js';
import type { Logger } from '../log.js';
import type { BfdInstanceDef } from '../config/model.js';
import { openUdpReceiver, type RawMessage, type RawSock } from '../net/rawsock.js';
import { strerror } from '../errno-text.js';
import { BfdState, decodeControl, encodeControl, STATE_NAMES, type DecodeError } from './packet.js';
import { BfdSession, type SessionAction, type SessionParams, type SessionSnapshot } from './session.js';

export const BFD_CONTROL_PORT = 3784;
/** RFC 5881 §4: the source port of control packets (include/bfd.h BFD_MIN_PORT, BFD_MAX_PORT). */
const MIN_PORT = 49152;
const MAX_PORT = 65535;

/** Why a received datagram was dropped, counted (keepalived logs these only with -D; we count them always). */
export type DropReason = DecodeError | 'no-session' | 'ttl' | 'auth' | 'admin-down';

/** How long a session without a send socket waits before trying again (bfd_scheduler.c bfd_open_fd_out_thread). */
const REOPEN_MS = 60_000;

export interface BfdDumpEntry {
  readonly def: BfdInstanceDef;
  readonly sendFailed: boolean;
  readonly state: SessionSnapshot;
}

export interface BfdServiceOptions {
  readonly clock: Clock;
  readonly logger: Logger;
  readonly random?: () => number;
  /** A session went Up or Down (bfd_event.c bfd_event_send): the supervisor relays it to VRRP and the checkers. */
  readonly onState: (instance: BfdInstanceDef, up: boolean) => void;
  /** Tests: the receive sockets (the real ones need the native addon). */
  readonly openReceiver?: (family: 4 | 6, port: number) => RawSock;
  readonly port?: number;
}

const params = (d: BfdInstanceDef): SessionParams => ({
  minRxUs: d.minRxUs, minTxUs: d.minTxUs, idleTxUs: d.idleTxUs, detectMult: d.detectMult, passive: d.passive,
});

class Running {
  timer: TimerHandle | undefined;
  /** While there is no send socket: the next try. */
  reopenTimer: TimerHandle | undefined;
  /** A try under way (the bind is asynchronous): packets meanwhile are dropped. */
  reopening = false;
  sendFailed = false;
  /** The session's local discriminator as keyed in BfdService.byDiscr. */
  discr: number;
  constructor(
    public def: BfdInstanceDef,
    readonly session: BfdSession,
    public socket: Socket | undefined,
  ) {
    this.discr = session.localDiscr;
  }
}

/** bfd.c bfd_check_packet's line for each check a packet failed. */
function checkFailure(error: DecodeError, data: Buffer): string {
  switch (error) {
    case 'short': return `Packet is too small: ${data.length} bytes`;
    case 'length': return `Packet size mismatch: length field: ${data[3]} bytes, buffer size: ${data.length} bytes`;
    case 'version': return `Packet is of unsupported version: ${data[0]! >> 5}`;
    case 'detect-mult-zero': return "Packet 'detection multiplier' field is zero";
    case 'multipoint': return "Packet has 'multipoint' flag";
    case 'my-discr-zero': return "Packet 'my discriminator' field is zero";
    case 'your-discr-zero': return "Packet 'your discriminator' field is zero and 'state' field is not Down or AdminDown";
    case 'poll-and-final': return 'Packet has both poll and final  flags set';
    case 'diag': return `Packet has invalid 'diag' field: ${data[0]! & 0x1f}`;
  }
}

export class BfdService {
  private readonly sessions = new Map<string, Running>();
  /** The sessions by local discriminator: each received packet that names one finds its session without a search. */
  private readonly byDiscr = new Map<number, Running>();
  private readonly receivers: RawSock[] = [];
  readonly drops = new Map<DropReason, number>();
  private readonly random: () => number;
  private readonly port: number;

  constructor(private readonly opts: BfdServiceOptions) {
    this.random = opts.random ?? Math.random;
    this.port = opts.port ?? BFD_CONTROL_PORT;
  }

  /** Opens the receive sockets and starts every session (bfd_scheduler.c bfd_dispatcher_init). */
  async start(defs: readonly BfdInstanceDef[]): Promise<void> {
    const open = this.opts.openReceiver ?? openUdpReceiver;
    for (const family of [4, 6] as const) {
      try {
        const rx = open(family, this.port);
        rx.on('message', (m) => this.received(m));
        rx.on('error', (e) => this.opts.logger.error(`recvmsg() error (${e.message})`));
        this.receivers.push(rx);
      } catch (e) {
        // An IPv6-less host still runs its IPv4 sessions (bfd_open_fd_in falls back the same way).
        if (family === 4 || (e as { code?: string }).code !== 'EAFNOSUPPORT') this.opts.logger.error(`Unable to open listening socket (${(e as Error).message})`);
      }
    }
    for (const d of defs) await this.add(d);
    this.announce();
  }

  /**
   * Every session's state, as bfd_scheduler.c bfd_register_workers sends it at start and at each reload ("Send our
   * status to VRRP process"): the checker process marks a BFD_CHECK that has not heard yet.
   */
  private announce(): void {
    for (const r of this.sessions.values()) this.opts.onState(r.def, r.session.state === BfdState.Up);
  }

  /**
   * A reload: a session whose addresses stay keeps its state and takes the new timers with a Poll Sequence
   * (keepalived bfd_daemon.c copies the old state over, bfd.c bfd_copy_state); others stop or start.
   */
  async reload(defs: readonly BfdInstanceDef[]): Promise<void> {
    for (const [name, r] of this.sessions) {
      const d = defs.find((x) => x.name === name);
      if (d && d.neighbor === r.def.neighbor && d.source === r.def.source && d.ttl === r.def.ttl) continue;
      this.remove(name);
    }
    for (const d of defs) {
      const r = this.sessions.get(d.name);
      if (!r) {
        await this.add(d);
        continue;
      }
      r.def = d;
      this.apply(r, r.session.reconfigure(params(d), this.opts.clock.now()));
    }
    this.announce();
  }

  stop(): void {
    for (const name of [...this.sessions.keys()]) this.remove(name);
    for (const rx of this.receivers.splice(0)) rx.close();
  }

  /** Each session's definition and state variables, for the SIGUSR1 dump (bfd_data.c dump_bfd). */
  dumpState(): BfdDumpEntry[] {
    return [...this.sessions.values()].map((r) => ({ def: r.def, sendFailed: r.sendFailed, state: r.session.snapshot() }));
  }

  /** Each session's state, for status and tests. */
  states(): Record<string, string> {
    return Object.fromEntries([...this.sessions].map(([n, r]) => [n, STATE_NAMES[r.session.state]]));
  }

  private async add(d: BfdInstanceDef): Promise<void> {
    const socket = await this.openSender(d);
    const r = new Running(d, new BfdSession(d.name, params(d), () => this.discriminator(), this.random), socket);
    this.sessions.set(d.name, r);
    this.byDiscr.set(r.discr, r);
    if (socket) {
      r.session.start(this.opts.clock.now());
      this.schedule(r);
      return;
    }
    this.opts.logger.error(`(${d.name}) Unable to open output socket, disabling instance`);
    this.apply(r, r.session.adminDown());
    this.retryOpen(r);
  }

  /** Every minute until the send socket opens (bfd_open_fd_out_thread): the session then starts Down. */
  private retryOpen(r: Running): void {
    r.reopenTimer = this.opts.clock.setTimeout(() => {
      r.reopenTimer = undefined;
      void this.reopen(r).then((ok) => {
        if (ok) {
          r.session.resume(this.opts.clock.now(), BfdState.Down);
          this.schedule(r);
        } else if (this.sessions.get(r.def.name) === r) this.retryOpen(r);
      });
    }, REOPEN_MS);
  }

  /** One try at the send socket of a session without one; false while another try is under way or it fails. */
  private async reopen(r: Running): Promise<boolean> {
    if (r.reopening) return false;
    r.reopening = true;
    const socket = await this.openSender(r.def);
    r.reopening = false;
    if (!socket || this.sessions.get(r.def.name) !== r) {
      socket?.close();
      return false;
    }
    r.socket = socket;
    if (r.reopenTimer) this.opts.clock.clearTimeout(r.reopenTimer);
    r.reopenTimer = undefined;
    return true;
  }

  private remove(name: string): void {
    const r = this.sessions.get(name);
    if (!r) return;
    if (r.timer) this.opts.clock.clearTimeout(r.timer);
    if (r.reopenTimer) this.opts.clock.clearTimeout(r.reopenTimer);
    r.socket?.close();
    this.sessions.delete(name);
    this.byDiscr.delete(r.discr);
  }

  /** bfd_data.c bfd_get_random_discr: non-zero and unique among our sessions. */
  private discriminator(): number {
    for (;;) {
      const d = Math.floor(this.random() * 0xffffffff) + 1;
      if (!this.byDiscr.has(d)) return d;
    }
  }

  /**
   * bfd_scheduler.c bfd_open_fd_out: bound to the source address (or any) on a random port of RFC 5881's range,
   * the next one tried while taken; the TTL / hop limit set for GTSM. Undefined, the reason logged, when it cannot be
   * bound (a source address not on this host, every port taken).
   */
  private async openSender(d: BfdInstanceDef): Promise<Socket | undefined> {
    const first = MIN_PORT + Math.floor(this.random() * (MAX_PORT - MIN_PORT + 1));
    let code = 'EADDRINUSE';
    for (let i = 0; i <= MAX_PORT - MIN_PORT && code === 'EADDRINUSE'; i++) {
      const port = MIN_PORT + ((first - MIN_PORT + i) % (MAX_PORT - MIN_PORT + 1));
      const socket = createSocket({ type: d.family === 'inet' ? 'udp4' : 'udp6' });
      const error = await new Promise<NodeJS.ErrnoException | undefined>((resolve) => {
        socket.once('error', resolve);
        socket.bind({ port, ...(d.source !== undefined ? { address: d.source } : {}), exclusive: true }, () => resolve(undefined));
      });
      if (error) {
        code = error.code ?? '';
        socket.close();
        continue;
      }
      socket.removeAllListeners('error');
      socket.on('error', () => undefined);
      socket.setTTL(d.ttl);
      return socket;
    }
    this.opts.logger.error(`(${d.name}) bind() error (${strerror(code)})`);
    return undefined;
  }

  /** Counted always; with -D logged in keepalived's words (bfd.c bfd_check_packet, bfd_scheduler.c bfd_handle_packet). */
  private drop(reason: DropReason, ...detail: string[]): void {
    this.drops.set(reason, (this.drops.get(reason) ?? 0) + 1);
    for (const line of detail) this.opts.logger.debug(line);
  }

  /** bfd_scheduler.c bfd_receiver_thread → bfd_handle_packet, up to the state machine. */
  private received(m: RawMessage): void {
    const src = m.src.startsWith('::ffff:') ? m.src.slice(7) : m.src;
    // inet_sockaddrtopair; the receiver reports a UDP datagram's source port as proto.
    const from = `[${src}]:${m.proto}`;
    const d = decodeControl(m.data);
    if (!d.ok) {
      this.drop(d.error, checkFailure(d.error, m.data), `Discarding bogus packet from ${from}`);
      return;
    }
    const p = d.packet;
    const r = p.yourDiscr !== 0
      ? this.byDiscr.get(p.yourDiscr)
      : [...this.sessions.values()].find((s) => s.def.neighbor === src && (s.def.source === undefined || s.def.source === m.dst));
    if (!r) {
      const discr = p.yourDiscr.toString(16).padStart(8, '0');
      this.drop('no-session', `Discarding packet from ${from} (session is not found - your discriminator field is 0x${discr})`);
      return;
    }
    // GTSM (RFC 5881 §5), as bfd.c bfd_check_packet_ttl extends it: at most max_hops below the TTL sent; max_hops
    // 255 (-1 in the config) turns it off.
    if (r.def.maxHops !== 255 && m.ttl > 0 && r.def.maxHops + m.ttl < r.def.ttl) {
      this.drop('ttl', `Packet ${r.def.family === 'inet' ? 'ttl' : 'hop_limit'}(${m.ttl}) < ${r.def.ttl - r.def.maxHops} - discarding`);
      return;
    }
    if (p.auth) {
      this.drop('auth', `Discarding packet from ${from} (auth bit is set, but no authentication  is in use)`);
      return;
    }
    if (r.session.state !== BfdState.AdminDown) {
      this.apply(r, r.session.receive(p, this.opts.clock.now()));
      return;
    }
    // No send socket: a packet is the moment to try again, and taken in Init if it opens (bfd_handle_packet).
    void this.reopen(r).then((ok) => {
      if (!ok) {
        this.drop('admin-down', `Discarding packet from ${from} (session is in AdminDown state)`);
        return;
      }
      r.session.resume(this.opts.clock.now(), BfdState.Init);
      this.apply(r, r.session.receive(p, this.opts.clock.now()));
    });
  }

  private apply(r: Running, actions: readonly SessionAction[]): void {
    for (const a of actions) {
      if (a.kind === 'send') this.send(r, encodeControl(a.packet));
      else if (a.kind === 'log' && a.detail) this.opts.logger.debug(a.text);
      else if (a.kind === 'log') this.opts.logger.info(a.text);
      else this.opts.onState(r.def, a.up);
    }
    if (r.session.localDiscr !== r.discr) {
      this.byDiscr.delete(r.discr);
      r.discr = r.session.localDiscr;
      this.byDiscr.set(r.discr, r);
    }
    this.schedule(r);
  }

  private send(r: Running, bytes: Buffer): void {
    r.socket?.send(bytes, this.port, r.def.neighbor, (err) => {
      // bfd_sender_thread: the first failure of a run is logged (bfd_send_packet's sendto() line, then the
      // session's), then nothing until a send succeeds.
      if (err && !r.sendFailed) {
        this.opts.logger.error(`sendto() error (${strerror((err as NodeJS.ErrnoException).code ?? '')})`);
        this.opts.logger.error(`(${r.def.name}) Error sending packet`);
      }
      r.sendFailed = err !== null && err !== undefined;
    });
  }

  private schedule(r: Running): void {
    if (r.timer) this.opts.clock.clearTimeout(r.timer);
    r.timer = undefined;
    const due = r.session.deadline();
    if (due === undefined) return;
    r.timer = this.opts.clock.setTimeout(() => this.fire(r, false), Math.max(0, due - this.opts.clock.now()));
  }

  /**
   * A detection time that has passed is taken only once the loop has read what the sockets hold: libuv runs timers
   * before it polls, so after any stall of this process a packet that arrived in time would still be unread when the
   * timer fires. keepalived's timers are one more descriptor in its epoll set (lib/scheduler.c
   * thread_timerfd_handler), so a packet epoll returns with the timer is on the ready queue before the timers it
   * expires (thread_fetch_next_queue); here the expiry waits for one turn of the loop, whose poll reads the socket.
   */
  private fire(r: Running, polled: boolean): void {
    r.timer = undefined;
    if (this.sessions.get(r.def.name) !== r) return;
    if (!polled && r.session.detectionDue(this.opts.clock.now())) {
      r.timer = this.opts.clock.setTimeout(() => this.fire(r, true), 1); // Node's shortest timer: the next turn
      return;
    }
    this.apply(r, r.session.tick(this.opts.clock.now()));
  }
}
