// PING_CHECK: success when an ICMP/ICMPv6 echo reply with our identifier, sequence and payload comes back from the
// target within connect_timeout (check_ping.c). One raw socket per address family serves every ping checker; the
// kernel passes only echo replies to it, and replies that are malformed or not ours are counted and dropped.
import { randomBytes } from 'node:crypto';
import type { PingChecker } from '../src/config/model.js';
import type { Logger } from '../src/log.js';
import { formatIp, parseIp } from '../src/net/addr.js';
import { openPingSocket, type RawMessage, type RawSock } from '../src/net/rawsock.js';
import { buildEchoRequest, parseEchoReply } from './ping-wire.js';
import type { ProbeResult } from './types.js';

/** As ping(8) sends: 56 bytes of data. */
const PAYLOAD_BYTES = 56;

interface Pending {
  readonly target: string;
  readonly payload: Buffer;
  readonly settle: (r: ProbeResult) => void;
}

export interface PingDrops {
  short: number;
  type: number;
  checksum: number;
  /** Another process's echo, a stale sequence, a different source or payload. */
  unmatched: number;
}

/** The shared echo socket of one address family; opened at the first ping, closed by close(). */
export class Pinger {
  readonly drops: PingDrops = { short: 0, type: 0, checksum: 0, unmatched: 0 };
  /** Raw sockets see every reply on the host: the identifier tells ours from another pinger's. */
  private readonly id = process.pid & 0xffff;
  private readonly pending = new Map<number, Pending>();
  private sock: RawSock | undefined;
  private seq = 0;
  /** Payloads carry a per-process nonce and a 64-bit count, so a reply that outlived a sequence wrap cannot match. */
  private readonly nonce = randomBytes(8);
  private sent = 0n;
  /** The open error already logged, so a missing privilege is said once, not once per check. */
  private openError: string | undefined;

  constructor(
    private readonly family: 4 | 6,
    private readonly log: Logger,
    private readonly open: (family: 4 | 6) => RawSock = openPingSocket,
  ) {}

  ping(c: PingChecker, signal: AbortSignal): Promise<ProbeResult> {
    let sock: RawSock;
    try {
      sock = this.socket();
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code ?? (err as Error).message;
      if (this.openError !== code) this.log.error(`PING_CHECK: cannot open a raw ICMP socket: ${code} (needs root or CAP_NET_RAW)`);
      this.openError = code;
      return Promise.resolve({ ok: false, detail: `failed (cannot open ICMP socket: ${code})` });
    }
    this.openError = undefined;
    const seq = this.nextFreeSeq();
    const payload = Buffer.alloc(PAYLOAD_BYTES);
    this.nonce.copy(payload, 0);
    payload.writeBigUInt64BE(++this.sent, 8);
    return new Promise((resolve) => {
      const settle = (r: ProbeResult): void => {
        if (this.pending.get(seq)?.settle !== settle) return;
        this.pending.delete(seq);
        clearTimeout(timer);
        signal.removeEventListener('abort', onAbort);
        resolve(r);
      };
      const onAbort = (): void => settle({ ok: false, detail: 'timeout' });
      const timer = setTimeout(onAbort, c.connectTimeoutMs);
      signal.addEventListener('abort', onAbort, { once: true });
      // The reply's source as the addon formats it, to compare with.
      this.pending.set(seq, { target: formatIp(parseIp(c.connectIp)), payload, settle });
      try {
        sock.send(buildEchoRequest(this.family, { id: this.id, seq, payload }), c.connectIp, c.bindto);
      } catch (err) {
        settle({ ok: false, detail: `failed (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})` });
      }
    });
  }

  close(): void {
    for (const p of [...this.pending.values()]) p.settle({ ok: false, detail: 'timeout' });
    this.sock?.close();
    this.sock = undefined;
  }

  private socket(): RawSock {
    if (this.sock === undefined) {
      const sock = this.open(this.family);
      sock.on('message', (m) => this.onReply(m));
      // Receive errors (e.g. ENOBUFS) lose a reply at most; the ping it belonged to then times out.
      sock.on('error', () => undefined);
      this.sock = sock;
    }
    return this.sock;
  }

  /** 16-bit sequence numbers, skipping any still waiting for a reply. */
  private nextFreeSeq(): number {
    do this.seq = (this.seq + 1) & 0xffff;
    while (this.pending.has(this.seq));
    return this.seq;
  }

  private onReply(m: RawMessage): void {
    const echo = parseEchoReply(this.family, m.data);
    if ('drop' in echo) {
      this.drops[echo.drop]++;
      return;
    }
    const p = echo.id === this.id ? this.pending.get(echo.seq) : undefined;
    if (p === undefined || p.target !== m.src || !p.payload.equals(echo.payload)) {
      this.drops.unmatched++;
      return;
    }
    p.settle({ ok: true, detail: 'success' });
  }
}
