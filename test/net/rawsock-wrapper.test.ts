// The typed wrapper over a fake binding (convention 8): address formatting, error events, setup failure and close.
// The real addon is exercised in test/vrrp/rawsock.test.ts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  openPacketSocket,
  openPingSocket,
  openVrrpSocket,
  type NativeRawSocket,
  type OnNativeMessage,
  type RawMessage,
  type RawSocketBinding,
} from '../../src/net/rawsock.js';

interface Made {
  kind: string;
  arg: number;
  onMessage: OnNativeMessage;
  onError: (e: Error) => void;
  calls: string[];
}

function fakeBinding(failOn?: string): { binding: RawSocketBinding; made: Made[] } {
  const made: Made[] = [];
  class RawSocket implements NativeRawSocket {
    private readonly m: Made;
    constructor(kind: string, arg: number, onMessage: OnNativeMessage, onError: (e: Error) => void) {
      this.m = { kind, arg, onMessage, onError, calls: [] };
      made.push(this.m);
    }
    private call(name: string, ...args: unknown[]): void {
      this.m.calls.push(`${name}(${args.map((a) => (Buffer.isBuffer(a) ? a.toString('hex') : String(a))).join(',')})`);
      if (name === failOn) throw Object.assign(new Error(`${name} failed`), { code: 'ENODEV', errno: 19, syscall: 'setsockopt' });
    }
    bindToDevice(name: string): void { this.call('bindToDevice', name); }
    setMark(mark: number): void { this.call('setMark', mark); }
    bindPacket(ifindex: number, ethertype: number): void { this.call('bindPacket', ifindex, ethertype); }
    bindUdp(port: number): void { this.call('bindUdp', port); }
    joinGroup(group: Buffer, ifindex: number): void { this.call('joinGroup', group, ifindex); }
    leaveGroup(group: Buffer, ifindex: number): void { this.call('leaveGroup', group, ifindex); }
    setMulticastInterface(ifindex: number): void { this.call('setMulticastInterface', ifindex); }
    setTtl(u: number, m: number): void { this.call('setTtl', u, m); }
    send(data: Uint8Array, dst: Buffer, ifindex: number, src: Buffer | null): void { this.call('send', Buffer.from(data), dst, ifindex, src); }
    sendFrame(frame: Uint8Array, ifindex: number): void { this.call('sendFrame', Buffer.from(frame), ifindex); }
    close(): void { this.call('close'); }
  }
  return { binding: { RawSocket } as unknown as RawSocketBinding, made };
}

test('VRRP socket setup order, sends as address bytes, messages with formatted addresses', () => {
  const { binding, made } = fakeBinding();
  const s = openVrrpSocket({ family: 6, ifindex: 3, device: 'eth0', groups: ['ff02::12'] }, binding);
  const m = made[0]!;
  assert.deepEqual([m.kind, m.arg], ['vrrp', 6]);
  s.send(Buffer.from('31', 'hex'), 'ff02::12', 'fe80::1');
  assert.deepEqual(m.calls, [
    'bindToDevice(eth0)',
    'setMulticastInterface(3)',
    'joinGroup(ff020000000000000000000000000012,3)',
    'send(31,ff020000000000000000000000000012,3,fe800000000000000000000000000001)',
  ]);
  const got: RawMessage[] = [];
  s.on('message', (x) => got.push(x));
  m.onMessage(Buffer.from('aa', 'hex'), Buffer.from('fe800000000000000000000000000002', 'hex'), Buffer.from('ff020000000000000000000000000012', 'hex'), 3, 255, 0);
  assert.deepEqual(got, [{ data: Buffer.from('aa', 'hex'), src: 'fe80::2', dst: 'ff02::12', ifindex: 3, ttl: 255, proto: 0 }]);
  s.close();
  s.close();
  assert.equal(m.calls.filter((c) => c === 'close()').length, 1, 'close is idempotent');
});

test('native errors become error events; packet sockets report MACs', () => {
  const { binding, made } = fakeBinding();
  const s = openPacketSocket({ ifindex: 2 }, binding);
  const m = made[0]!;
  assert.deepEqual([m.kind, m.arg, m.calls], ['packet', 0x0806, ['bindPacket(2,2054)']]);
  const errors: Error[] = [];
  const msgs: RawMessage[] = [];
  s.on('error', (e) => errors.push(e));
  s.on('message', (x) => msgs.push(x));
  m.onError(new Error('recvmsg ENOBUFS'));
  m.onMessage(Buffer.alloc(42), Buffer.from('8e4a1f72349d0000', 'hex'), null, 2, -1, 0x0806);
  assert.deepEqual(errors.map((e) => e.message), ['recvmsg ENOBUFS']);
  assert.deepEqual([msgs[0]?.src, msgs[0]?.dst], ['8e:4a:1f:72:34:9d', '']);
  s.close();
});

test('a failing setup step closes the socket and rethrows the native error', () => {
  const { binding, made } = fakeBinding('bindToDevice');
  assert.throws(() => openVrrpSocket({ family: 4, ifindex: 9, device: 'nosuch0' }, binding), { code: 'ENODEV', syscall: 'setsockopt' });
  assert.deepEqual(made[0]!.calls, ['bindToDevice(nosuch0)', 'close()']);
});

test("ping sockets take the checker's bind_if and fwmark; a plain one takes neither; a refused mark closes the socket", () => {
  const { binding, made } = fakeBinding('setMark');
  openPingSocket(6, {}, binding).close();
  assert.deepEqual([made[0]!.kind, made[0]!.arg, made[0]!.calls], ['ping', 6, ['close()']]);
  assert.throws(() => openPingSocket(4, { device: 'eth1', mark: 42 }, binding), { code: 'ENODEV' });
  assert.deepEqual([made[1]!.kind, made[1]!.arg, made[1]!.calls], ['ping', 4, ['bindToDevice(eth1)', 'setMark(42)', 'close()']]);
});
