// BFD Control packet codec. Expected bytes are written out from RFC 5880 §4.1's field layout, one field a line.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BfdState, decodeControl, encodeControl, type ControlPacket, type DecodeError } from '../../src/bfd/packet.js';
import { seededRandom } from '../support/seeded-random.js';

const UP_POLL: ControlPacket = {
  diag: 0, state: BfdState.Up, poll: true, final: false, cpi: false, auth: false, demand: false, detectMult: 3,
  myDiscr: 0x11223344, yourDiscr: 0xaabbccdd, desiredMinTx: 50_000, requiredMinRx: 50_000, requiredMinEchoRx: 0,
};

const wire = (...fields: string[]): Buffer => Buffer.from(fields.join(''), 'hex');

const UP_POLL_WIRE = [
  '20', // Vers 1, Diag 0
  'e0', // Sta 3 (Up), P
  '03', // Detect Mult
  '18', // Length 24
  '11223344', // My Discriminator
  'aabbccdd', // Your Discriminator
  '0000c350', // Desired Min TX 50000 µs
  '0000c350', // Required Min RX
  '00000000', // Required Min Echo RX
];

test('encodes the mandatory section as RFC 5880 §4.1 lays it out', () => {
  assert.equal(encodeControl(UP_POLL).toString('hex'), wire(...UP_POLL_WIRE).toString('hex'));
  const down = encodeControl({ ...UP_POLL, state: BfdState.Down, poll: false, final: true, diag: 1, yourDiscr: 0 });
  assert.equal(down.subarray(0, 2).toString('hex'), '2150'); // Diag 1; Sta 1, F
});

test('decodes what it encodes, and a packet from the wire', () => {
  assert.deepEqual(decodeControl(wire(...UP_POLL_WIRE)), { ok: true, packet: UP_POLL });
  const down: ControlPacket = { ...UP_POLL, state: BfdState.Down, poll: false, yourDiscr: 0, diag: 3 };
  assert.deepEqual(decodeControl(encodeControl(down)), { ok: true, packet: down });
});

test('drops what RFC 5880 §6.8.6 discards, naming why', () => {
  const hit = new Set<DecodeError>();
  const base = wire(...UP_POLL_WIRE);
  const mut = (i: number, v: number): Buffer => {
    const b = Buffer.from(base);
    b[i] = v;
    return b;
  };
  const expect = (b: Uint8Array, e: DecodeError): void => {
    hit.add(e);
    assert.deepEqual(decodeControl(b), { ok: false, error: e });
  };
  expect(base.subarray(0, 23), 'short');
  expect(Buffer.concat([base, Buffer.alloc(4)]), 'length'); // Length 24 in a 28-byte datagram
  expect(mut(3, 23), 'length');
  expect(mut(0, 0x40), 'version');
  expect(mut(2, 0), 'detect-mult-zero');
  expect(mut(1, 0xc1), 'multipoint');
  const noMy = Buffer.from(base);
  noMy.writeUInt32BE(0, 4);
  expect(noMy, 'my-discr-zero');
  const noYours = Buffer.from(base);
  noYours.writeUInt32BE(0, 8);
  expect(noYours, 'your-discr-zero');
  expect(mut(1, 0xf0), 'poll-and-final');
  expect(mut(0, 0x29), 'diag');
  // The A bit is the adapter's to check, once the session is known (bfd_handle_packet).
  assert.deepEqual(decodeControl(mut(1, 0xe4)), { ok: true, packet: { ...UP_POLL, auth: true } });
  // Your Discriminator 0 is fine in Down and AdminDown.
  const downNoYours = Buffer.from(noYours);
  downNoYours[1] = 0x40;
  assert.equal(decodeControl(downNoYours).ok, true);
  downNoYours[1] = 0x00;
  assert.equal(decodeControl(downNoYours).ok, true);
  // Every reason the decoder can give is reached: a reason added to DecodeError fails to compile here until listed,
  // then fails this assertion until a case reaches it.
  const every: Record<DecodeError, true> = {
    short: true, length: true, version: true, 'detect-mult-zero': true, multipoint: true, 'my-discr-zero': true,
    'your-discr-zero': true, 'poll-and-final': true, diag: true,
  };
  assert.deepEqual([...hit].sort(), Object.keys(every).sort());
});

test('fuzz: the decoder never throws, and what it accepts re-encodes to the same bytes', () => {
  const rnd = seededRandom(0x5880);
  const base = wire(...UP_POLL_WIRE);
  const counts = new Map<string, number>();
  for (let i = 0; i < 50_000; i++) {
    let b: Buffer;
    if (rnd() < 0.3) {
      b = Buffer.alloc(Math.floor(rnd() * 64));
      for (let j = 0; j < b.length; j++) b[j] = Math.floor(rnd() * 256);
    } else {
      b = Buffer.from(base);
      for (let k = 1 + Math.floor(rnd() * 3); k > 0; k--) b[Math.floor(rnd() * b.length)] = Math.floor(rnd() * 256);
    }
    const r = decodeControl(b);
    counts.set(r.ok ? 'ok' : r.error, (counts.get(r.ok ? 'ok' : r.error) ?? 0) + 1);
    // Every field of an accepted packet is kept: it re-encodes to the same mandatory section (bytes past the Length
    // a longer datagram declares are not ours to keep).
    if (r.ok) assert.equal(encodeControl(r.packet).toString('hex'), Buffer.from(b.subarray(0, 24)).fill(24, 3, 4).toString('hex'));
  }
  // Every outcome was reached, so the inputs did reach each check.
  for (const k of ['ok', 'short', 'length', 'version', 'detect-mult-zero', 'multipoint', 'poll-and-final', 'diag']) {
    assert.ok((counts.get(k) ?? 0) > 0, `${k} never reached`);
  }
});
