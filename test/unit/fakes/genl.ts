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

export class FakeGenlKernel implements GenlTransport {
  readonly requests: FakeRequest[] = [];
  closed = false;

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
