// BFD Control packets (RFC 5880 §4.1) without authentication: encoder, and a decoder that never throws and names
// why a packet is discarded (§6.8.6 reception checks, as keepalived bfd.c bfd_check_packet applies them).

export const BFD_VERSION = 1;
/** The mandatory section: 24 bytes; keepalived sends nothing else (bfdhdr_t). */
export const BFD_HEADER_LEN = 24;

export const enum BfdState {
  AdminDown = 0,
  Down = 1,
  Init = 2,
  Up = 3,
}

export const STATE_NAMES = ['AdminDown', 'Down', 'Init', 'Up'] as const;

/** RFC 5880 §4.1 Diag; the texts are keepalived's BFD_DIAG_STR (include/bfd.h). */
export const DIAG_NAMES = [
  'No Diagnostic',
  'Control Detection Time Expired',
  'Echo Function Failed',
  'Neighbor Signaled Session Down',
  'Forwarding Plane Reset',
  'Path Down',
  'Concatenated Path Down',
  'Administratively Down',
  'Reverse Concatenated Path Down',
] as const;

export const enum BfdDiag {
  None = 0,
  Expired = 1,
  NeighborDown = 3,
  AdminDown = 7,
}

export interface ControlPacket {
  readonly diag: number;
  readonly state: BfdState;
  readonly poll: boolean;
  readonly final: boolean;
  readonly cpi: boolean;
  /** The A bit: no authentication is in use here, so the adapter discards such a packet once matched to a session. */
  readonly auth: boolean;
  readonly demand: boolean;
  readonly detectMult: number;
  readonly myDiscr: number;
  readonly yourDiscr: number;
  /** Microseconds, as on the wire. */
  readonly desiredMinTx: number;
  readonly requiredMinRx: number;
  readonly requiredMinEchoRx: number;
}

export function encodeControl(p: ControlPacket): Buffer {
  const b = Buffer.alloc(BFD_HEADER_LEN);
  b[0] = (BFD_VERSION << 5) | (p.diag & 0x1f);
  b[1] = (p.state << 6) | (p.poll ? 0x20 : 0) | (p.final ? 0x10 : 0) | (p.cpi ? 0x08 : 0) | (p.auth ? 0x04 : 0) | (p.demand ? 0x02 : 0);
  b[2] = p.detectMult;
  b[3] = BFD_HEADER_LEN;
  b.writeUInt32BE(p.myDiscr >>> 0, 4);
  b.writeUInt32BE(p.yourDiscr >>> 0, 8);
  b.writeUInt32BE(p.desiredMinTx >>> 0, 12);
  b.writeUInt32BE(p.requiredMinRx >>> 0, 16);
  b.writeUInt32BE(p.requiredMinEchoRx >>> 0, 20);
  return b;
}

/** Why a packet was dropped; the counters are keyed by these. */
export type DecodeError =
  | 'short'
  | 'length'
  | 'version'
  | 'detect-mult-zero'
  | 'multipoint'
  | 'my-discr-zero'
  | 'your-discr-zero'
  | 'poll-and-final'
  | 'diag';

export type Decoded = { readonly ok: true; readonly packet: ControlPacket } | { readonly ok: false; readonly error: DecodeError };

/**
 * RFC 5880 §6.8.6's checks in keepalived's order (bfd.c bfd_check_packet). The A bit is left to the adapter, which
 * discards such a packet once it has found its session (§6.8.6 "If the A bit is set and no authentication is in
 * use", where bfd_scheduler.c bfd_handle_packet checks it). The Length field must equal the datagram size:
 * keepalived compares them exactly, and so does FRR.
 */
export function decodeControl(buf: Uint8Array): Decoded {
  const fail = (error: DecodeError): Decoded => ({ ok: false, error });
  if (buf.length < BFD_HEADER_LEN) return fail('short');
  if (buf[3] !== buf.length) return fail('length');
  if (buf[0]! >> 5 !== BFD_VERSION) return fail('version');
  const detectMult = buf[2]!;
  if (detectMult === 0) return fail('detect-mult-zero');
  const flags = buf[1]!;
  if (flags & 0x01) return fail('multipoint');
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const myDiscr = view.getUint32(4);
  const yourDiscr = view.getUint32(8);
  const state = (flags >> 6) as BfdState;
  if (myDiscr === 0) return fail('my-discr-zero');
  if (yourDiscr === 0 && state !== BfdState.Down && state !== BfdState.AdminDown) return fail('your-discr-zero');
  const poll = (flags & 0x20) !== 0;
  const final = (flags & 0x10) !== 0;
  if (poll && final) return fail('poll-and-final');
  const diag = buf[0]! & 0x1f;
  if (diag >= DIAG_NAMES.length) return fail('diag');
  return {
    ok: true,
    packet: {
      diag, state, poll, final,
      cpi: (flags & 0x08) !== 0,
      auth: (flags & 0x04) !== 0,
      demand: (flags & 0x02) !== 0,
      detectMult, myDiscr, yourDiscr,
      desiredMinTx: view.getUint32(12),
      requiredMinRx: view.getUint32(16),
      requiredMinEchoRx: view.getUint32(20),
    },
  };
}
