// The kernel IPVS driver: IPVS_CMD_* over generic netlink, on the `netlink` package's netlink layer.
// That layer matches replies to requests by sequence number; we send with checkError:false and decode NLMSG_ERROR
// ourselves, because its own error path drops the errno. Many requests may be in flight at once (applyMany): the
// kernel handles a socket's messages in order, so an addDest sent right after its addService still finds it.
import { getSystemErrorMap } from 'node:util';
import { createNetlink, parseError } from 'netlink';
import { inNetns } from '../net/in-netns.js';
import { LiveDeadlines, type Deadline } from '../net/live-deadlines.js';
import * as U from './uapi.js';
import {
  AttrWriter, decodeDaemonMessage, decodeDestMessage, decodeServiceMessage, decodeTimeouts, encodeDaemon, encodeDaemonKey,
  encodeDest, encodeDestKey, encodeService, encodeServiceKey, encodeTimeouts, genlHeader, parseAttrs, type DecodeCounters,
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

// strerror() wording for the errnos IPVS returns; anything else falls back to libuv's text.
const STRERROR: Readonly<Record<string, string>> = {
  EPERM: 'Operation not permitted', ENOENT: 'No such file or directory', ESRCH: 'No such process',
  EEXIST: 'File exists', EINVAL: 'Invalid argument', ENOMEM: 'Cannot allocate memory', EBUSY: 'Device or resource busy',
  EAFNOSUPPORT: 'Address family not supported by protocol', EOPNOTSUPP: 'Operation not supported',
  ENOBUFS: 'No buffer space available', EPROTONOSUPPORT: 'Protocol not supported',
};

function errnoName(errno: number): [code: string, text: string] {
  const entry = getSystemErrorMap().get(-errno);
  const code = entry?.[0] ?? `E${errno}`;
  return [code, STRERROR[code] ?? entry?.[1] ?? `errno ${errno}`];
}

const bracket = (a: string): string => `[${a}]`;
export function describeService(k: ServiceKey): string {
  return k.fwmark !== undefined ? `fwmark:${k.fwmark}` : `${bracket(k.address)}:${k.protocol}:${k.port}`;
}
function describeDest(d: Pick<Destination, 'address' | 'port'>): string {
  return `${bracket(d.address)}:${d.port}`;
}

interface Encoded { readonly cmd: number; readonly body: Buffer; readonly what: string }

function encodeOp(op: IpvsOp): Encoded {
  switch (op.kind) {
    case 'addService': return { cmd: U.IPVS_CMD_NEW_SERVICE, body: encodeService(op.service), what: describeService(op.service.key) };
    case 'editService': return { cmd: U.IPVS_CMD_SET_SERVICE, body: encodeService(op.service), what: describeService(op.service.key) };
    case 'delService': return { cmd: U.IPVS_CMD_DEL_SERVICE, body: encodeServiceKey(op.key), what: describeService(op.key) };
    case 'addDest': return { cmd: U.IPVS_CMD_NEW_DEST, body: encodeDest(op.key, op.dest), what: `${describeDest(op.dest)} to ${describeService(op.key)}` };
    case 'editDest': return { cmd: U.IPVS_CMD_SET_DEST, body: encodeDest(op.key, op.dest), what: `${describeDest(op.dest)} to ${describeService(op.key)}` };
    case 'delDest': return { cmd: U.IPVS_CMD_DEL_DEST, body: encodeDestKey(op.key, op.dest), what: `${describeDest(op.dest)} from ${describeService(op.key)}` };
    case 'flush': return { cmd: U.IPVS_CMD_FLUSH, body: Buffer.alloc(0), what: 'table' };
    case 'setTimeouts': return { cmd: U.IPVS_CMD_SET_CONFIG, body: encodeTimeouts(op.timeouts), what: 'timeouts' };
  }
}

export interface NetlinkIpvsDriverOptions {
  /** Per-request reply timeout, in time this process was running (see LiveDeadlines). */
  readonly timeoutMs?: number;
  /**
   * A fresh socket, for after a dump timed out: the kernel's dump is still running on the old one (netlink_dump_start
   * answers EBUSY to any later dump there), so no table could be read again and none repaired.
   */
  readonly reopen?: () => GenlTransport;
  /** Requests in flight at once in applyMany: bounded so the ACKs fit the receive buffer. */
  readonly window?: number;
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
  private readonly window: number;
  private readonly reopen: (() => GenlTransport) | undefined;
  private readonly deadlines = new LiveDeadlines();

  constructor(private transport: GenlTransport, options: NetlinkIpvsDriverOptions = {}) {
    this.timeoutMs = options.timeoutMs ?? 10_000;
    this.window = options.window ?? 256;
    this.reopen = options.reopen;
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
        this.transport = this.reopen();
      }
      throw err;
    } finally {
      deadline?.cancel();
      done();
    }
    for (const m of msgs) {
      if (m.type !== U.NLMSG_ERROR) continue;
      const { errno } = parseError(m.data, m.flags);
      if (errno === 0) continue;
      const [code, text] = errnoName(-errno);
      throw new NetlinkError(`${op} ${what}: ${text} (${code})`, op, -errno, code, seq);
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
    return this.send(fam, cmd, U.IPVS_GENL_VERSION, body, flags, what, U.IPVS_CMD_NAMES[cmd] ?? `IPVS_CMD_${cmd}`);
  }

  async apply(op: IpvsOp): Promise<void> {
    const e = encodeOp(op);
    await this.ipvs(e.cmd, e.body, 0, e.what);
  }

  /**
   * Applies ops in order with up to `window` requests in flight, each ACK or NACK matched by its sequence number.
   * Every op is sent whatever the ones before it got (a failed one is the manager's to log and retry); one
   * round trip per op in sequence cost a 30,000-server start-up seconds.
   */
  async applyMany(ops: readonly IpvsOp[]): Promise<(Error | undefined)[]> {
    await this.family();
    const errors = new Array<Error | undefined>(ops.length);
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < ops.length) {
        const i = next++;
        errors[i] = await this.apply(ops[i]!).then(() => undefined, (e: Error) => e);
      }
    };
    await Promise.all(Array.from({ length: Math.min(this.window, ops.length) }, worker));
    return errors;
  }

  /** One GET_SERVICE dump, then one GET_DEST dump per service (dumps run one at a time, see exclusive()). */
  async dump(): Promise<IpvsTable> {
    const replies = await this.ipvs(U.IPVS_CMD_GET_SERVICE, Buffer.alloc(0), U.NLM_F_DUMP, 'services');
    const svcs = replies.map((r) => decodeServiceMessage(r.data, this.counters));
    const services: ServiceEntry[] = [];
    for (const s of svcs) {
      const key = s.service.key;
      const destReplies = await this.ipvs(U.IPVS_CMD_GET_DEST, encodeServiceKey(key), U.NLM_F_DUMP, describeService(key));
      const dests = destReplies.map((r) => decodeDestMessage(r.data, key.family, this.counters));
      services.push(s.stats ? { service: s.service, dests, stats: s.stats } : { service: s.service, dests });
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
