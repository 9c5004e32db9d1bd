// The kernel IPVS driver: IPVS_CMD_* over generic netlink, on the `netlink` package's netlink layer.
// Lookups and dumps go through that layer's request(), which matches replies to requests by sequence number; we send
// with checkError:false and decode NLMSG_ERROR ourselves, because its own error path drops the errno.
// Changes to the table (apply, applyMany) go in batches: many requests in one sendmsg, each with its own sequence
// number, the kernel answering only the ones it refuses and the batch's last (see sendBatch).
import { getSystemErrorMap } from 'node:util';
import { strerror } from '../errno-text.js';
import { createNetlink, parseError } from '../net/netlink-parts.js';
import { inNetns } from '../net/in-netns.js';
import { LiveDeadlines, type Deadline } from '../net/live-deadlines.js';
import * as U from './uapi.js';
import {
  AttrWriter, decodeDaemonMessage, decodeDestMessage, decodeServiceMessage, decodeTimeouts, encodeDaemon, encodeDaemonKey,
  encodeServiceKey, genlHeader, parseAttrs, writeDest, writeDestKey, writeService, writeServiceKey, writeTimeouts,
  type DecodeCounters,
} from './codec.js';
import type {
  Destination, IpvsDriver, IpvsOp, IpvsTable, IpvsTimeouts, ServiceEntry, ServiceKey, SyncDaemon, SyncRole,
} from './types.js';

// include/uapi/linux/genetlink.h (v6.1): the controller family, for the IPVS family-id lookup.
const GENL_ID_CTRL = 16;
const CTRL_CMD_GETFAMILY = 3;
const CTRL_ATTR_FAMILY_ID = 1;
const CTRL_ATTR_FAMILY_NAME = 2;
const CTRL_VERSION = 1;
const NETLINK_GENERIC = 16;

/** One received netlink message as the netlink layer hands it over. */
export interface GenlReply {
  readonly type: number;
  readonly flags: number;
  readonly seq: number;
  readonly port: number;
  readonly data: Buffer;
}

/** The part of the netlink package's NetlinkSocket this driver uses; tests pass a fake kernel. */
export interface GenlTransport {
  request(
    type: number,
    data: Uint8Array[],
    options: { flags: number; seq: number; checkError: false },
  ): Promise<[GenlReply[], unknown]>;
  /** The socket under it: `send` is one sendmsg of whole netlink messages to the kernel (port 0). */
  readonly socket: { send(msg: Buffer, options: undefined, callback: (error?: Error) => void): void };
  /** Replies no request() waits for: the batches' ACKs and NACKs. */
  on(event: 'message', listener: (msgs: GenlReply[]) => void): unknown;
  /** Keeps the event loop alive (true) while a batch waits for its replies; request() does so by itself. */
  ref(ref: boolean): void;
  setRecvBufferSize(bytes: number): void;
  /** SO_RCVBUF as the kernel holds it (twice what was asked, up to net.core.rmem_max twice). */
  getRecvBufferSize(): number;
  close(): void;
}

/** A kernel NACK (or a malformed reply), with where it happened. */
export class NetlinkError extends Error {
  override readonly name = 'NetlinkError';
  constructor(
    message: string,
    readonly op: string,
    readonly errno: number,
    readonly code: string,
    readonly seq: number,
  ) {
    super(message);
  }
}

function errnoName(errno: number): [code: string, text: string] {
  const entry = getSystemErrorMap().get(-errno);
  const code = entry?.[0] ?? `E${errno}`;
  return [code, entry ? strerror(code) : `errno ${errno}`];
}

const bracket = (a: string): string => `[${a}]`;
export function describeService(k: ServiceKey): string {
  return k.fwmark !== undefined ? `fwmark:${k.fwmark}` : `${bracket(k.address)}:${k.protocol}:${k.port}`;
}
function describeDest(d: Pick<Destination, 'address' | 'port'>): string {
  return `${bracket(d.address)}:${d.port}`;
}

const OP_CMD: Readonly<Record<IpvsOp['kind'], number>> = {
  addService: U.IPVS_CMD_NEW_SERVICE, editService: U.IPVS_CMD_SET_SERVICE, delService: U.IPVS_CMD_DEL_SERVICE,
  addDest: U.IPVS_CMD_NEW_DEST, editDest: U.IPVS_CMD_SET_DEST, delDest: U.IPVS_CMD_DEL_DEST,
  flush: U.IPVS_CMD_FLUSH, setTimeouts: U.IPVS_CMD_SET_CONFIG,
};

/** The op's attributes (FLUSH has none). */
function writeOp(w: AttrWriter, op: IpvsOp): void {
  switch (op.kind) {
    case 'addService': case 'editService': return writeService(w, op.service);
    case 'delService': return writeServiceKey(w, op.key);
    case 'addDest': case 'editDest': return writeDest(w, op.key, op.dest);
    case 'delDest': return writeDestKey(w, op.key, op.dest);
    case 'flush': return;
    case 'setTimeouts': return writeTimeouts(w, op.timeouts);
  }
}

/** The entry an op is about, for its error message (built only when there is one). */
function describeOp(op: IpvsOp): string {
  switch (op.kind) {
    case 'addService': case 'editService': return describeService(op.service.key);
    case 'delService': return describeService(op.key);
    case 'addDest': case 'editDest': return `${describeDest(op.dest)} to ${describeService(op.key)}`;
    case 'delDest': return `${describeDest(op.dest)} from ${describeService(op.key)}`;
    case 'flush': return 'table';
    case 'setTimeouts': return 'timeouts';
  }
}

const cmdName = (cmd: number): string => U.IPVS_CMD_NAMES[cmd] ?? `IPVS_CMD_${cmd}`;

/** A NACK's errno (negative, as in struct nlmsgerr) as the error for the request it answers. */
function nackError(op: string, what: string, errno: number, seq: number): NetlinkError {
  const [code, text] = errnoName(-errno);
  return new NetlinkError(`${op} ${what}: ${text} (${code})`, op, -errno, code, seq);
}

/**
 * The most receive-buffer space the kernel's answer to one request of `len` bytes takes. netlink_ack
 * (net/netlink/af_netlink.c) allocates nlmsg_new() for a struct nlmsgerr, which carries the whole request back on a
 * NACK (no NETLINK_CAP_ACK on this socket); the socket is charged the skb's truesize: its data (aligned to
 * SMP_CACHE_BYTES, with struct skb_shared_info's 320 bytes) rounded up to its kmalloc size, plus struct sk_buff's 256.
 */
function replyTruesize(len: number): number {
  const data = ((U.NLMSG_HDRLEN + NLMSGERR_LEN + len + 63) & ~63) + 320;
  return 256 + 2 ** Math.ceil(Math.log2(data));
}
/** struct nlmsgerr: the error, then the request's header (include/uapi/linux/netlink.h). */
const NLMSGERR_LEN = 4 + U.NLMSG_HDRLEN;
/** SO_RCVBUF asked for; the kernel caps it at net.core.rmem_max (212992 by default), then doubles it. */
const RCVBUF = 1 << 20;
/** Receive-buffer space left for replies to requests sent meanwhile through request(). */
const RCVBUF_RESERVE = 32 * 1024;
/** One sendmsg at most: well under the default SO_SNDBUF (netlink_sendmsg answers EMSGSIZE past sk_sndbuf - 32). */
const BATCH_BYTES = 64 * 1024;

/** A batch waiting for its answers: message k of it has sequence number first + k and is ops[at[k]]. */
interface Batch {
  readonly first: number;
  readonly at: readonly number[];
  readonly ops: readonly IpvsOp[];
  readonly errors: (Error | undefined)[];
  readonly done: () => void;
}

export interface NetlinkIpvsDriverOptions {
  /** Per-request reply timeout, in time this process was running (see LiveDeadlines). */
  readonly timeoutMs?: number;
  /**
   * A fresh socket, for after a dump timed out: the kernel's dump is still running on the old one (netlink_dump_start
   * answers EBUSY to any later dump there), so no table could be read again and none repaired.
   */
  readonly reopen?: () => GenlTransport;
}

export class NetlinkIpvsDriver implements IpvsDriver {
  readonly name = 'kernel' as const;
  /** Reply attributes this code does not know (a newer kernel's additions); counted, then skipped. */
  readonly counters: DecodeCounters = { unknownAttrs: 0 };
  private familyId: Promise<number> | undefined;
  private seq = 1;
  private inflight = 0;
  private readonly idle: (() => void)[] = [];
  private dumpRunning: Promise<void> | undefined;
  private readonly timeoutMs: number;
  private readonly reopen: (() => GenlTransport) | undefined;
  private readonly deadlines = new LiveDeadlines();
  private transport!: GenlTransport;
  /** Receive-buffer space a batch's answers may take (setTransport). */
  private replyBudget = 0;
  /** The batch waiting for its answers: batches go one at a time, so that all their answers fit the buffer. */
  private batch: Batch | undefined;
  private batches: Promise<unknown> = Promise.resolve();
  /** The batches' messages are written here, the buffer kept from batch to batch. */
  private out = new AttrWriter(BATCH_BYTES);

  constructor(transport: GenlTransport, options: NetlinkIpvsDriverOptions = {}) {
    this.timeoutMs = options.timeoutMs ?? 10_000;
    this.reopen = options.reopen;
    this.setTransport(transport);
  }

  private setTransport(transport: GenlTransport): void {
    this.transport = transport;
    transport.setRecvBufferSize(RCVBUF);
    this.replyBudget = transport.getRecvBufferSize() - RCVBUF_RESERVE;
    transport.on('message', (msgs) => { for (const m of msgs) this.answer(m); });
  }

  /**
   * A driver on a fresh NETLINK_GENERIC socket (and a fresh one again after a dump timed out), made in the network
   * namespace at `netns` when given: the kernel's IPVS answers for the namespace of the socket's creation
   * (keepalived's nl_ipvs_connect for net_namespace_ipvs).
   */
  static open(options?: NetlinkIpvsDriverOptions, netns?: string): NetlinkIpvsDriver {
    const socket = (): GenlTransport => inNetns(netns, () => createNetlink(NETLINK_GENERIC) as unknown as GenlTransport);
    return new NetlinkIpvsDriver(socket(), { reopen: socket, ...options });
  }

  private nextSeq(): number {
    const s = this.seq;
    this.seq = (this.seq % 0xffffffff) + 1;
    return s;
  }

  /**
   * The kernel continues a dump only as its replies are read, so any other request's reply can land between two parts
   * of it, and the netlink layer groups multipart replies per socket, not per sequence number. A dump therefore waits
   * for the socket to be idle and runs alone; other requests may share the socket freely.
   */
  private async exclusive(isDump: boolean): Promise<() => void> {
    while (this.dumpRunning) await this.dumpRunning;
    if (!isDump) {
      this.inflight++;
      return () => { if (--this.inflight === 0) this.idle.splice(0).forEach((f) => f()); };
    }
    let release!: () => void;
    this.dumpRunning = new Promise<void>((r) => { release = r; });
    while (this.inflight > 0) await new Promise<void>((r) => this.idle.push(r));
    return () => { this.dumpRunning = undefined; release(); };
  }

  /** Sends one request; returns the non-error replies, or throws NetlinkError on a NACK. */
  private async send(type: number, cmd: number, version: number, body: Buffer, flags: number, what: string, op: string): Promise<GenlReply[]> {
    const isDump = (flags & U.NLM_F_DUMP) !== 0;
    const done = await this.exclusive(isDump);
    const seq = this.nextSeq();
    let msgs: GenlReply[];
    let deadline: Deadline | undefined;
    try {
      [msgs] = await Promise.race([
        this.transport.request(type, [genlHeader(cmd, version), body], { flags, seq, checkError: false }),
        new Promise<never>((_, reject) => {
          deadline = this.deadlines.start(this.timeoutMs, () =>
            reject(new NetlinkError(`${op} ${what}: no reply in ${this.timeoutMs / 1000} s`, op, 0, 'ETIMEDOUT', seq)));
        }),
      ]);
    } catch (err) {
      // Dumps run alone (exclusive()), so nothing else is waiting on the socket given up here.
      if (isDump && this.reopen) {
        this.transport.close();
        this.setTransport(this.reopen());
      }
      throw err;
    } finally {
      deadline?.cancel();
      done();
    }
    for (const m of msgs) {
      if (m.type !== U.NLMSG_ERROR) continue;
      const { errno } = parseError(m.data, m.flags);
      if (errno !== 0) throw nackError(op, what, errno, seq);
    }
    return msgs.filter((m) => m.type !== U.NLMSG_ERROR && m.type !== U.NLMSG_DONE);
  }

  /** The IPVS family id, looked up once; ENOENT means ip_vs is not loaded. */
  family(): Promise<number> {
    this.familyId ??= (async () => {
      const body = new AttrWriter().str(CTRL_ATTR_FAMILY_NAME, U.IPVS_GENL_NAME).toBuffer();
      const replies = await this.send(GENL_ID_CTRL, CTRL_CMD_GETFAMILY, CTRL_VERSION, body, 0, U.IPVS_GENL_NAME, 'CTRL_CMD_GETFAMILY');
      for (const r of replies) {
        const id = parseAttrs(r.data.subarray(4)).find((a) => a.type === CTRL_ATTR_FAMILY_ID);
        if (id && id.value.length >= 2) return id.value.readUInt16LE(0);
      }
      throw new NetlinkError('CTRL_CMD_GETFAMILY IPVS: reply without a family id', 'CTRL_CMD_GETFAMILY', 0, 'EBADMSG', 0);
    })();
    this.familyId.catch(() => { this.familyId = undefined; });
    return this.familyId;
  }

  private async ipvs(cmd: number, body: Buffer, flags: number, what: string): Promise<GenlReply[]> {
    const fam = await this.family();
    return this.send(fam, cmd, U.IPVS_GENL_VERSION, body, flags, what, cmdName(cmd));
  }

  async apply(op: IpvsOp): Promise<void> {
    const [error] = await this.applyMany([op]);
    if (error) throw error;
  }

  /**
   * Applies ops in order, each one's error (or undefined) in its place. Every op is sent whatever the ones before it
   * got (a failed one is the manager's to log and retry). The ops go in batches of as many requests as one sendmsg
   * takes and the receive buffer can answer (sendBatch): one round trip per op cost a 30,000-server start-up seconds.
   */
  async applyMany(ops: readonly IpvsOp[]): Promise<(Error | undefined)[]> {
    const family = await this.family();
    const errors = new Array<Error | undefined>(ops.length).fill(undefined);
    const turn = this.batches.then(async () => {
      for (let i = 0; i < ops.length;) i = await this.sendBatch(family, ops, i, errors);
    });
    this.batches = turn.catch(() => undefined);
    await turn;
    return errors;
  }

  /**
   * Writes ops[from..] into one buffer, as many as fit, and sends it in one sendmsg; resolves to the index of the
   * first op left out once the kernel answered. The kernel runs a sendmsg's requests one after the other, in order,
   * and answers a request that fails, or that asks for it (NLM_F_ACK), with an NLMSG_ERROR carrying its sequence
   * number (netlink_rcv_skb, net/netlink/af_netlink.c). So only the batch's last request asks for an ACK: when its
   * answer is read, every earlier answer was read before it, and a request with no answer succeeded. Answers that do
   * not fit the receive buffer are dropped by the kernel (netlink_attachskb), so a batch holds no more requests than
   * could all fail and have their NACKs fit (replyTruesize). An op that cannot be encoded fails alone, unsent.
   */
  private async sendBatch(family: number, ops: readonly IpvsOp[], from: number, errors: (Error | undefined)[]): Promise<number> {
    const done = await this.exclusive(false);
    const w = this.out.reset();
    const at: number[] = [];
    const first = this.seqRange(ops.length - from);
    let budget = this.replyBudget;
    let last = -1;
    let i = from;
    for (; i < ops.length && w.length < BATCH_BYTES && budget > 0; i++) {
      const op = ops[i]!;
      const start = w.length;
      try {
        w.genlMessage(family, U.NLM_F_REQUEST, first + at.length, OP_CMD[op.kind], U.IPVS_GENL_VERSION, (m) => writeOp(m, op));
      } catch (e) {
        w.reset(start);
        errors[i] = e as Error;
        continue;
      }
      budget -= replyTruesize(w.length - start);
      if (budget < 0 && at.length > 0) {
        w.reset(start);
        break;
      }
      at.push(i);
      last = start;
    }
    if (at.length === 0) {
      done();
      return i;
    }
    w.setFlags(last, U.NLM_F_REQUEST | U.NLM_F_ACK);
    let deadline: Deadline | undefined;
    try {
      await new Promise<void>((resolve) => {
        const batch: Batch = { first, at, ops, errors, done: resolve };
        this.batch = batch;
        this.transport.ref(true);
        deadline = this.deadlines.start(this.timeoutMs, () => this.fail(batch, (op, seq) =>
          new NetlinkError(`${cmdName(OP_CMD[op.kind])} ${describeOp(op)}: no reply in ${this.timeoutMs / 1000} s`, cmdName(OP_CMD[op.kind]), 0, 'ETIMEDOUT', seq)));
        this.transport.socket.send(w.view(), undefined, (error) => { if (error) this.fail(batch, () => error); });
      });
    } finally {
      deadline?.cancel();
      this.batch = undefined;
      this.transport.ref(false);
      done();
    }
    return i;
  }

  /** `n` consecutive sequence numbers, none of them 0 and none wrapping, so seq - first is a message's place. */
  private seqRange(n: number): number {
    if (this.seq + n > 0xffffffff) this.seq = 1;
    const first = this.seq;
    this.seq += n;
    return first;
  }

  /** An answer to a batch's request: a NACK fails its op; the answer to the last one ends the batch. */
  private answer(m: GenlReply): void {
    const b = this.batch;
    const k = b ? m.seq - b.first : -1;
    if (!b || k < 0 || k >= b.at.length || m.type !== U.NLMSG_ERROR) return;
    const { errno } = parseError(m.data, m.flags);
    const op = b.ops[b.at[k]!]!;
    if (errno !== 0) b.errors[b.at[k]!] = nackError(cmdName(OP_CMD[op.kind]), describeOp(op), errno, m.seq);
    if (k === b.at.length - 1) b.done();
  }

  /** Ends a batch that got no (or no full) answer: each op not yet failed fails with `error`, the batch given up. */
  private fail(b: Batch, error: (op: IpvsOp, seq: number) => Error): void {
    if (this.batch !== b) return;
    b.at.forEach((i, k) => { b.errors[i] ??= error(b.ops[i]!, b.first + k); });
    // Its late answers are ignored (the next batch's sequence numbers differ); its buffer may still be queued to send.
    this.out = new AttrWriter(BATCH_BYTES);
    b.done();
  }

  /** One GET_SERVICE dump, then one GET_DEST dump per service (dumps run one at a time, see exclusive()). */
  async dump(): Promise<IpvsTable> {
    const replies = await this.ipvs(U.IPVS_CMD_GET_SERVICE, Buffer.alloc(0), U.NLM_F_DUMP, 'services');
    const svcs = replies.map((r) => decodeServiceMessage(r.data, this.counters));
    const services: ServiceEntry[] = [];
    for (const s of svcs) {
      const dests = await this.destsOf(s.service.key);
      services.push(s.stats ? { service: s.service, dests, stats: s.stats } : { service: s.service, dests });
    }
    return { services };
  }

  private async destsOf(key: ServiceKey): Promise<ServiceEntry['dests']> {
    const replies = await this.ipvs(U.IPVS_CMD_GET_DEST, encodeServiceKey(key), U.NLM_F_DUMP, describeService(key));
    return replies.map((r) => decodeDestMessage(r.data, key.family, this.counters));
  }

  /**
   * One GET_SERVICE per key (ESRCH: the table has no such service), then GET_DEST dumps for those it has: the
   * services a few checker events touched, without walking the other 30,000 destinations.
   */
  async entriesOf(keys: readonly ServiceKey[]): Promise<IpvsTable> {
    const services: ServiceEntry[] = [];
    for (const key of keys) {
      let replies: GenlReply[];
      try {
        replies = await this.ipvs(U.IPVS_CMD_GET_SERVICE, encodeServiceKey(key), 0, describeService(key));
      } catch (e) {
        if ((e as { code?: unknown }).code === 'ESRCH') continue;
        throw e;
      }
      const r = replies[0];
      if (!r) continue;
      const { service } = decodeServiceMessage(r.data, this.counters);
      services.push({ service, dests: await this.destsOf(key) });
    }
    return { services };
  }

  async getTimeouts(): Promise<IpvsTimeouts> {
    const replies = await this.ipvs(U.IPVS_CMD_GET_CONFIG, Buffer.alloc(0), 0, 'timeouts');
    const r = replies[0];
    if (!r) throw new NetlinkError('IPVS_CMD_GET_CONFIG timeouts: empty reply', 'IPVS_CMD_GET_CONFIG', 0, 'EBADMSG', 0);
    return decodeTimeouts(r.data.subarray(4), this.counters);
  }

  /** IPVS_CMD_NEW_DAEMON: EEXIST when a daemon of that role already runs. */
  async startDaemon(d: SyncDaemon): Promise<void> {
    await this.ipvs(U.IPVS_CMD_NEW_DAEMON, encodeDaemon(d), 0, `${d.role} sync daemon`);
  }

  /** IPVS_CMD_DEL_DAEMON: ESRCH when no daemon of that role runs. */
  async stopDaemon(role: SyncRole, syncId: number): Promise<void> {
    await this.ipvs(U.IPVS_CMD_DEL_DAEMON, encodeDaemonKey(role, syncId), 0, `${role} sync daemon`);
  }

  /** IPVS_CMD_GET_DAEMON: the running sync daemons, master first, as the kernel dumps them. */
  async getDaemons(): Promise<SyncDaemon[]> {
    const replies = await this.ipvs(U.IPVS_CMD_GET_DAEMON, Buffer.alloc(0), U.NLM_F_DUMP, 'sync daemons');
    return replies.map((r) => decodeDaemonMessage(r.data, this.counters));
  }

  async close(): Promise<void> {
    this.transport.close();
  }
}

/** True only if the IPVS generic-netlink family exists (ip_vs loaded); false on any failure to find it. */
export async function probeIpvsFamily(netns?: string): Promise<boolean> {
  let driver: NetlinkIpvsDriver | undefined;
  try {
    driver = NetlinkIpvsDriver.open({ timeoutMs: 2000 }, netns);
    await driver.family();
    return true;
  } catch {
    return false;
  } finally {
    await driver?.close();
  }
}
