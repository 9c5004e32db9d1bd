// PING_CHECK: success when an ICMP/ICMPv6 echo reply with our identifier, sequence and payload comes back from the
// target within connect_timeout (check_ping.c). One raw socket per address family serves every ping checker without
// bind_if or fwmark, and one more for each distinct bind_if/fwmark pair; the kernel passes only echo replies to them, and
// replies that are malformed, not ours or no longer awaited are counted and dropped.
import { randomBytes } from 'node:crypto';
import type { PingChecker } from '../src/config/model.js';
import type { Logger } from '../src/log.js';
import { formatIp, parseIp } from '../src/net/addr.js';
import { openPingSocket, type PingSocketOptions, type RawMessage, type RawSock } from '../src/net/rawsock.js';
import { buildEchoRequest, parseEchoReply } from './ping-wire.js';
import type { ProbeResult } from './types.js';

/** As ping(8) sends: 56 bytes of data. */
const PAYLOAD_BYTES = 56;

interface Pending {
  readonly target: string;
  /** The socket the echo left by: only a reply arriving there counts, as on keepalived's per-check socket. */
  readonly sock: RawSock;
  readonly payload: Buffer;
  readonly settle: (r: ProbeResult) => void;
}

export interface PingDrops {
  short: number;
  type: number;
  checksum: number;
  /** Another process's echo, a different source or payload. */
  unmatched: number;
  /**
   * Ours, but no ping awaits it on the socket it reached: it timed out, or it is the copy that every raw ICMP
   * socket receives when bind_if/fwmark sockets are open beside the plain one.
   */
  late: number;
}

const socketKey = (c: PingChecker): string => `${c.bindIf ?? ''}/${c.fwmark ?? 0}`;

/** The echo sockets of one address family, each opened at the first ping that needs it; closed by retain() or close(). */
export class Pinger {
  readonly drops: PingDrops = { short: 0, type: 0, checksum: 0, unmatched: 0, late: 0 };
  /** Raw sockets see every reply on the host: the identifier tells ours from another pinger's. */
  private readonly id = process.pid & 0xffff;
  private readonly pending = new Map<number, Pending>();
  /** By bind_if/fwmark pair (socketKey). */
  private readonly socks = new Map<string, RawSock>();
  private seq = 0;
  /** Payloads carry a per-process nonce and a 64-bit count, so a reply that outlived a sequence wrap cannot match. */
  private readonly nonce = randomBytes(8);
  private sent = 0n;
  /** The open error already logged per socket, so a missing privilege is said once, not once per check. */
  private readonly openErrors = new Map<string, string>();

  constructor(
    private readonly family: 4 | 6,
    private readonly log: Logger,
    private readonly open: (family: 4 | 6, opts: PingSocketOptions) => RawSock = openPingSocket,
  ) {}

  ping(c: PingChecker, signal: AbortSignal): Promise<ProbeResult> {
    const key = socketKey(c);
    let sock: RawSock;
    try {
      sock = this.socket(key, c);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code ?? (err as Error).message;
      if (this.openErrors.get(key) !== code) this.log.error(openErrorLine(c, code));
      this.openErrors.set(key, code);
      return Promise.resolve({ ok: false, detail: `failed (cannot open ICMP socket: ${code})` });
    }
    this.openErrors.delete(key);
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
      this.pending.set(seq, { target: formatIp(parseIp(c.connectIp)), sock, payload, settle });
      try {
        sock.send(buildEchoRequest(this.family, { id: this.id, seq, payload }), c.connectIp, c.bindto);
      } catch (err) {
        settle({ ok: false, detail: `failed (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})` });
      }
    });
  }

  /** Closes the sockets no checker in `inUse` needs any more (after a reload). */
  retain(inUse: readonly PingChecker[]): void {
    const keep = new Set(inUse.map(socketKey));
    for (const [key, sock] of this.socks) {
      if (keep.has(key)) continue;
      sock.close();
      this.socks.delete(key);
      this.openErrors.delete(key);
    }
  }

  close(): void {
    for (const p of [...this.pending.values()]) p.settle({ ok: false, detail: 'timeout' });
    this.retain([]);
  }

  private socket(key: string, c: PingChecker): RawSock {
    let sock = this.socks.get(key);
    if (sock === undefined) {
      const opened = this.open(this.family, {
        ...(c.bindIf !== undefined ? { device: c.bindIf } : {}),
        ...(c.fwmark !== undefined ? { mark: c.fwmark } : {}),
      });
      opened.on('message', (m) => this.onReply(opened, m));
      // Receive errors (e.g. ENOBUFS) lose a reply at most; the ping it belonged to then times out.
      opened.on('error', () => undefined);
      this.socks.set(key, opened);
      sock = opened;
    }
    return sock;
  }

  /** 16-bit sequence numbers, skipping any still waiting for a reply. */
  private nextFreeSeq(): number {
    do this.seq = (this.seq + 1) & 0xffff;
    while (this.pending.has(this.seq));
    return this.seq;
  }

  private onReply(sock: RawSock, m: RawMessage): void {
    const echo = parseEchoReply(this.family, m.data);
    if ('drop' in echo) {
      this.drops[echo.drop]++;
      return;
    }
    const p = echo.id === this.id ? this.pending.get(echo.seq) : undefined;
    if (p !== undefined && p.sock === sock && p.target === m.src && p.payload.equals(echo.payload)) {
      p.settle({ ok: true, detail: 'success' });
    } else if (echo.id === this.id && echo.payload.length === PAYLOAD_BYTES && this.nonce.equals(echo.payload.subarray(0, this.nonce.length))) {
      this.drops.late++;
    } else {
      this.drops.unmatched++;
    }
  }
}

function openErrorLine(c: PingChecker, code: string): string {
  if (code === 'EPERM' || code === 'EACCES') return `PING_CHECK: cannot open a raw ICMP socket: ${code} (needs root or CAP_NET_RAW)`;
  const on = [c.bindIf !== undefined ? `bind_if ${c.bindIf}` : '', c.fwmark !== undefined ? `fwmark ${c.fwmark}` : ''].filter(Boolean).join(', ');
  return `PING_CHECK: cannot open a raw ICMP socket${on ? ` with ${on}` : ''}: ${code}`;
}
