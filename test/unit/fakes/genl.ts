// A fake generic-netlink "kernel" for driver unit tests, in the style of mdlayher's genltest: it serves the family
// lookup for the names it knows, hands every other request (parsed) to a handler, and replies with what the handler
// returns: messages, an ACK, or a NACK by errno. Replies are framed as the kernel frames them (nlmsgerr for ACK/NACK).
import type { GenlReply, GenlTransport } from '../../../src/ipvs/driver-netlink.js';

export const NLMSG_ERROR = 2;
export const NLMSG_DONE = 3;
export const NLM_F_REQUEST = 0x1;
export const NLM_F_MULTI = 0x2;
export const NLM_F_ACK = 0x4;
export const NLM_F_DUMP = 0x300;

export interface FakeRequest {
  readonly type: number;
  /** Flags as they would go on the wire: the netlink layer always adds REQUEST|ACK. */
  readonly flags: number;
  readonly seq: number;
  readonly cmd: number;
  readonly version: number;
  /** The attribute bytes after the genl header. */
  readonly attrs: Buffer;
}

/** What a handler answers: payloads (each a genl header + attributes) for a reply or dump, or an errno. */
export type FakeAnswer = { readonly errno: number } | { readonly messages: Buffer[] } | 'ack';

/** nlmsgerr: error s32 then the offending nlmsghdr (16 bytes, no payload: NETLINK_CAP_ACK style). */
function errorPayload(errno: number, req: FakeRequest): Buffer {
  const b = Buffer.alloc(20);
  b.writeInt32LE(-errno, 0);
  b.writeUInt32LE(16 + 4 + req.attrs.length, 4);
  b.writeUInt16LE(req.type, 8);
  b.writeUInt16LE(req.flags, 10);
  b.writeUInt32LE(req.seq, 12);
  return b;
}

/** SO_RCVBUF as a default Linux grants it: net.core.rmem_max (212992), doubled. */
const RCVBUF = 2 * 212992;

export class FakeGenlKernel implements GenlTransport {
  readonly requests: FakeRequest[] = [];
  /** How many requests each sendmsg carried, in order. */
  readonly sends: number[] = [];
  closed = false;
  referenced = false;
  /**
   * The receive buffer: answers past it are dropped, as netlink_attachskb does, each charged its length plus 704
   * bytes (an skb's overhead on x86-64 for a small answer, rounded up).
   */
  rcvbuf = RCVBUF;
  /** How answers to a sendmsg reach the socket's reader: on a later turn of the event loop; a test may stall or drop them. */
  deliver: (answers: () => void) => void = (answers) => setImmediate(answers);
  private readonly listeners: ((msgs: GenlReply[]) => void)[] = [];

  readonly socket = {
    send: (msg: Buffer, _options: undefined, callback: (error?: Error) => void): void => {
      const answers: GenlReply[] = [];
      let n = 0;
      for (let off = 0; off < msg.length; n++) {
        const len = msg.readUInt32LE(off);
        const req: FakeRequest = {
          type: msg.readUInt16LE(off + 4), flags: msg.readUInt16LE(off + 6), seq: msg.readUInt32LE(off + 8),
          cmd: msg.readUInt8(off + 16), version: msg.readUInt8(off + 17), attrs: Buffer.from(msg.subarray(off + 20, off + len)),
        };
        this.requests.push(req);
        off += len;
        const answer = this.handler(req);
        const reply = (data: Buffer): GenlReply => ({ type: NLMSG_ERROR, flags: 0, seq: req.seq, port: 0, data });
        if (answer !== 'ack' && 'errno' in answer) answers.push(reply(errorPayload(answer.errno, req)));
        else if (req.flags & NLM_F_ACK) answers.push(reply(errorPayload(0, req)));
      }
      this.sends.push(n);
      let charged = 0;
      const kept = answers.filter((a) => (charged += 16 + a.data.length + 704) <= this.rcvbuf);
      queueMicrotask(() => callback());
      this.deliver(() => { for (const a of kept) for (const l of this.listeners) l([a]); });
    },
  };

  on(_event: 'message', listener: (msgs: GenlReply[]) => void): this {
    this.listeners.push(listener);
    return this;
  }

  ref(ref: boolean): void {
    this.referenced = ref;
  }

  setRecvBufferSize(bytes: number): void {
    this.rcvbuf = Math.min(bytes, this.rcvbuf / 2) * 2;
  }

  getRecvBufferSize(): number {
    return this.rcvbuf;
  }

  constructor(
    private readonly families: Readonly<Record<string, number>>,
    private readonly handler: (req: FakeRequest) => FakeAnswer,
  ) {}

  async request(type: number, data: Uint8Array[], options: { flags: number; seq: number }): Promise<[GenlReply[], unknown]> {
    const buf = Buffer.concat(data.map((d) => Buffer.from(d.buffer, d.byteOffset, d.byteLength)));
    const req: FakeRequest = {
      type, flags: options.flags | NLM_F_REQUEST | NLM_F_ACK, seq: options.seq,
      cmd: buf.readUInt8(0), version: buf.readUInt8(1), attrs: buf.subarray(4),
    };
    this.requests.push(req);
    await Promise.resolve();
    const reply = (t: number, flags: number, d: Buffer): GenlReply => ({ type: t, flags, seq: req.seq, port: 0, data: d });
    if (type === 16) return [[this.serveFamily(req, reply)], {}];
    const answer = this.handler(req);
    if (answer === 'ack') return [[reply(NLMSG_ERROR, 0x100, errorPayload(0, req))], {}];
    if ('errno' in answer) return [[reply(NLMSG_ERROR, 0, errorPayload(answer.errno, req))], {}];
    // A dump: the netlink layer hands over the parts without the final NLMSG_DONE.
    const multi = (options.flags & NLM_F_DUMP) === NLM_F_DUMP ? NLM_F_MULTI : 0;
    return [answer.messages.map((m) => reply(type, multi, m)), {}];
  }

  /** CTRL_CMD_GETFAMILY (3) by CTRL_ATTR_FAMILY_NAME (2) → CTRL_ATTR_FAMILY_ID (1), or ENOENT. */
  private serveFamily(req: FakeRequest, reply: (t: number, f: number, d: Buffer) => GenlReply): GenlReply {
    if (req.cmd !== 3) throw new Error(`fake controller: unexpected command ${req.cmd}`);
    const len = req.attrs.readUInt16LE(0);
    const name = req.attrs.subarray(4, len).toString('latin1').replace(/\0+$/, '');
    const id = this.families[name];
    if (id === undefined) return reply(NLMSG_ERROR, 0, errorPayload(2, req));
    const body = Buffer.alloc(12);
    body.writeUInt8(1, 0); // CTRL_CMD_NEWFAMILY
    body.writeUInt8(2, 1);
    body.writeUInt16LE(6, 4);
    body.writeUInt16LE(1, 6);
    body.writeUInt16LE(id, 8);
    return reply(16, 0, body);
  }

  close(): void {
    this.closed = true;
  }
}
