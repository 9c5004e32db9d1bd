// The BFD adapter's discard lines: with -D (debug) each dropped packet is logged in keepalived's words (bfd.c
// bfd_check_packet, bfd_scheduler.c bfd_handle_packet); without it nothing is logged and the drop is only counted.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { FakeClock } from '../../src/clock.js';
import { createLogger } from '../../src/log.js';
import { BfdState, encodeControl, type ControlPacket } from '../../src/bfd/packet.js';
import { BfdService } from '../../src/bfd/service.js';
import type { RawMessage, RawSock } from '../../src/net/rawsock.js';

const good: ControlPacket = {
  diag: 0, state: BfdState.Down, poll: false, final: false, cpi: false, auth: false, demand: false, detectMult: 3,
  myDiscr: 7, yourDiscr: 0, desiredMinTx: 1_000_000, requiredMinRx: 1_000_000, requiredMinEchoRx: 0,
};

/** Each packet as bytes, edited after encoding where the encoder cannot say it, with the line keepalived logs. */
const CASES: readonly [string, Buffer, readonly string[]][] = [
  ['short', encodeControl(good).subarray(0, 20), ['Packet is too small: 20 bytes', 'Discarding bogus packet from [10.9.0.2]:49999']],
  ['length', Buffer.concat([encodeControl(good), Buffer.alloc(4)]), ['Packet size mismatch: length field: 24 bytes, buffer size: 28 bytes', 'Discarding bogus packet from [10.9.0.2]:49999']],
  ['version', edit(encodeControl(good), (b) => (b[0] = (2 << 5) | (b[0]! & 0x1f))), ['Packet is of unsupported version: 2', 'Discarding bogus packet from [10.9.0.2]:49999']],
  ['detect-mult-zero', encodeControl({ ...good, detectMult: 0 }), ["Packet 'detection multiplier' field is zero", 'Discarding bogus packet from [10.9.0.2]:49999']],
  ['multipoint', edit(encodeControl(good), (b) => (b[1]! |= 0x01)), ["Packet has 'multipoint' flag", 'Discarding bogus packet from [10.9.0.2]:49999']],
  ['my-discr-zero', encodeControl({ ...good, myDiscr: 0 }), ["Packet 'my discriminator' field is zero", 'Discarding bogus packet from [10.9.0.2]:49999']],
  ['your-discr-zero', encodeControl({ ...good, state: BfdState.Up }), ["Packet 'your discriminator' field is zero and 'state' field is not Down or AdminDown", 'Discarding bogus packet from [10.9.0.2]:49999']],
  ['poll-and-final', encodeControl({ ...good, poll: true, final: true }), ['Packet has both poll and final  flags set', 'Discarding bogus packet from [10.9.0.2]:49999']],
  ['diag', encodeControl({ ...good, diag: 9 }), ["Packet has invalid 'diag' field: 9", 'Discarding bogus packet from [10.9.0.2]:49999']],
  // The A bit counts only once a session is found (bfd_handle_packet): here there is none.
  ['no-session', edit(encodeControl(good), (b) => (b[1]! |= 0x04)), ['Discarding packet from [10.9.0.2]:49999 (session is not found - your discriminator field is 0x00000000)']],
  ['no-session', encodeControl({ ...good, yourDiscr: 0xbeef }), ['Discarding packet from [10.9.0.2]:49999 (session is not found - your discriminator field is 0x0000beef)']],
];

function edit(b: Buffer, f: (b: Buffer) => unknown): Buffer {
  f(b);
  return b;
}

async function deliver(level: 'debug' | 'info'): Promise<{ logs: string[]; drops: Map<string, number> }> {
  const logs: string[] = [];
  const receivers: EventEmitter[] = [];
  const service = new BfdService({
    clock: new FakeClock(),
    logger: createLogger({ level, destination: { write: (l: string) => void logs.push((JSON.parse(l) as { msg: string }).msg) } }),
    onState: () => undefined,
    openReceiver: () => {
      const rx = Object.assign(new EventEmitter(), { close: () => undefined });
      receivers.push(rx);
      return rx as unknown as RawSock;
    },
  });
  await service.start([]);
  for (const [, data] of CASES) {
    const m: RawMessage = { data, src: '::ffff:10.9.0.2', dst: '10.9.0.1', ifindex: 2, ttl: 255, proto: 49999 };
    receivers[0]!.emit('message', m);
  }
  service.stop();
  return { logs, drops: service.drops };
}

test('with -D each discarded packet is logged as keepalived logs it, and counted', async () => {
  const { logs, drops } = await deliver('debug');
  assert.deepEqual(logs, CASES.flatMap(([, , lines]) => lines));
  assert.deepEqual([...drops.keys()], [...new Set(CASES.map(([reason]) => reason))]);
});

test('without -D discarded packets are counted and not logged', async () => {
  const { logs, drops } = await deliver('info');
  assert.deepEqual(logs, []);
  assert.equal([...drops.values()].reduce((a, b) => a + b, 0), CASES.length);
});
