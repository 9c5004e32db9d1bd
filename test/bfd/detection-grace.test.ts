// A detection time that passes while a packet waits unread: libuv runs timers before it polls, so after a stall the
// session's expiry would come before the packet that arrived in time. The adapter takes the expiry one turn of the
// loop later, after the poll (service.ts fire); on a FakeClock the packet is delivered in that turn.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { FakeClock } from '../../src/clock.js';
import { createLogger } from '../../src/log.js';
import { BfdState, encodeControl } from '../../src/bfd/packet.js';
import { BfdService } from '../../src/bfd/service.js';
import { parseConfigText } from '../../src/config/load.js';
import type { RawMessage, RawSock } from '../../src/net/rawsock.js';

const CONFIG = 'bfd_instance b1 {\n  neighbor_ip 127.0.0.1\n  min_rx 50\n  min_tx 50\n  multiplier 3\n}\n';

async function upSession(t: TestContext): Promise<{ clock: FakeClock; service: BfdService; peer: (state: BfdState) => void; events: boolean[] }> {
  const def = parseConfigText(CONFIG).config.bfdInstances[0]!;
  const clock = new FakeClock();
  const events: boolean[] = [];
  const receivers: EventEmitter[] = [];
  const service = new BfdService({
    clock,
    logger: createLogger({ level: 'silent' }),
    onState: (_, up) => void events.push(up),
    openReceiver: () => {
      const rx = Object.assign(new EventEmitter(), { close: () => undefined });
      receivers.push(rx);
      return rx as unknown as RawSock;
    },
  });
  await service.start([def]);
  t.after(() => service.stop());
  const peer = (state: BfdState): void => {
    const ours = service.dumpState()[0]!.state.localDiscr;
    const data = encodeControl({
      diag: 0, state, poll: false, final: false, cpi: false, auth: false, demand: false, detectMult: 3,
      myDiscr: 0x77, yourDiscr: state === BfdState.Down ? 0 : ours, desiredMinTx: 50_000, requiredMinRx: 50_000, requiredMinEchoRx: 0,
    });
    const m: RawMessage = { data, src: '127.0.0.1', dst: '127.0.0.1', ifindex: 1, ttl: 255, proto: 49152 };
    receivers[0]!.emit('message', m);
  };
  peer(BfdState.Down);
  peer(BfdState.Up);
  assert.equal(events.at(-1), true, 'the session came Up');
  events.length = 0;
  return { clock, service, peer, events };
}

test('a packet read in the turn after the detection timer fired keeps the session Up', async (t) => {
  const { clock, service, peer, events } = await upSession(t);
  // Nothing for the whole detection time: the timer fires, and the poll that follows finds the peer's packet.
  const detectMs = service.dumpState()[0]!.state.localDetectUs / 1000;
  clock.advance(detectMs);
  peer(BfdState.Up);
  clock.advance(detectMs - 1);
  assert.deepEqual(events, []);
});

test('with no packet in that turn the session goes Down, one turn (1 ms) after the detection time', async (t) => {
  const { clock, service, events } = await upSession(t);
  const detectMs = service.dumpState()[0]!.state.localDetectUs / 1000;
  clock.advance(detectMs);
  assert.deepEqual(events, [], 'not before the poll');
  clock.advance(1);
  assert.deepEqual(events, [false]);
});
