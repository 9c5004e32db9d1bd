// NetlinkIpvsDriver against a fake generic-netlink kernel (test/unit/fakes/genl.ts): commands, flags, attributes
// sent, NACK → errno, dumps, pipelining. The real-kernel round trip is test/vm/ipvs-kernel.test.ts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { AttrWriter, encodeService, parseAttrs } from '../../src/ipvs/codec.js';
import { NetlinkError, NetlinkIpvsDriver, probeIpvsFamily } from '../../src/ipvs/driver-netlink.js';
import type { Destination, Service } from '../../src/ipvs/types.js';
import { FakeGenlKernel, NLM_F_ACK, NLM_F_DUMP, NLM_F_REQUEST, type FakeAnswer, type FakeRequest } from '../unit/fakes/genl.js';

const IPVS_FAMILY = 0x2a;
const svc: Service = {
  key: { family: 'inet', protocol: 'tcp', address: '192.0.2.10', port: 80 },
  scheduler: 'rr', flags: {}, persistenceTimeoutS: 0, persistenceNetmask: 0xffffffff,
};
const dest: Destination = { family: 'inet', address: '192.0.2.5', port: 80, forward: 'DR', weight: 3, upperThreshold: 0, lowerThreshold: 0 };

function kernel(handler: (r: FakeRequest) => FakeAnswer): FakeGenlKernel {
  return new FakeGenlKernel({ IPVS: IPVS_FAMILY }, handler);
}

test('each op sends its IPVS command to the looked-up family with REQUEST|ACK and version 1', async () => {
  const k = kernel(() => 'ack');
  const d = new NetlinkIpvsDriver(k);
  await d.apply({ kind: 'addService', service: svc });
  await d.apply({ kind: 'editService', service: svc });
  await d.apply({ kind: 'addDest', key: svc.key, dest });
  await d.apply({ kind: 'editDest', key: svc.key, dest });
  await d.apply({ kind: 'delDest', key: svc.key, dest });
  await d.apply({ kind: 'delService', key: svc.key });
  await d.apply({ kind: 'setTimeouts', timeouts: { tcpS: 10 } });
  await d.apply({ kind: 'flush' });
  assert.equal(k.requests[0]!.type, 16, 'first the controller family lookup');
  const ipvs = k.requests.slice(1);
  assert.deepEqual(ipvs.map((r) => r.cmd), [1, 2, 5, 6, 7, 3, 12, 17]);
  for (const r of ipvs) {
    assert.equal(r.type, IPVS_FAMILY);
    assert.equal(r.version, 1);
    assert.equal(r.flags, NLM_F_REQUEST | NLM_F_ACK);
  }
  assert.equal(k.requests.filter((r) => r.type === 16).length, 1, 'the family id is cached');
  assert.equal(ipvs[0]!.attrs.toString('hex'), encodeService(svc).toString('hex'));
  assert.deepEqual(parseAttrs(ipvs[4]!.attrs).map((a) => a.type), [1, 2], 'DEL_DEST carries the service and the dest');
  assert.equal(ipvs[7]!.attrs.length, 0, 'FLUSH has no attributes');
  assert.equal(new Set(k.requests.map((r) => r.seq)).size, k.requests.length, 'every request has its own seq');
});

test('a NACK becomes a NetlinkError with op, errno, code, seq and a readable message', async () => {
  const k = kernel((r) => (r.cmd === 5 ? { errno: 17 } : 'ack'));
  const d = new NetlinkIpvsDriver(k);
  const err = await d.apply({ kind: 'addDest', key: svc.key, dest }).then(() => undefined, (e: unknown) => e);
  assert.ok(err instanceof NetlinkError);
  assert.equal(err.op, 'IPVS_CMD_NEW_DEST');
  assert.equal(err.errno, 17);
  assert.equal(err.code, 'EEXIST');
  assert.equal(err.seq, k.requests.at(-1)!.seq);
  assert.equal(err.message, 'IPVS_CMD_NEW_DEST [192.0.2.5]:80 to [192.0.2.10]:tcp:80: File exists (EEXIST)');
});

test('a missing IPVS family is ENOENT from the controller, and the lookup is retried next time', async () => {
  const k = new FakeGenlKernel({}, () => 'ack');
  const d = new NetlinkIpvsDriver(k);
  await assert.rejects(d.apply({ kind: 'flush' }), (e: unknown) => e instanceof NetlinkError && e.code === 'ENOENT' && e.op === 'CTRL_CMD_GETFAMILY');
  await assert.rejects(d.apply({ kind: 'flush' }));
  assert.equal(k.requests.length, 2);
});

test('dump: one GET_SERVICE dump, then one GET_DEST dump per service keyed by the service', async () => {
  const svcMsg = (port: number): Buffer => Buffer.concat([
    Buffer.from([4, 1, 0, 0]),
    new AttrWriter().nest(1, (w) => {
      w.u16(1, 2).u16(2, 6).bytes(3, Buffer.from([192, 0, 2, 10, ...new Array<number>(12).fill(0)])).u16be(4, port).str(6, 'wlc');
      w.bytes(7, Buffer.from([2, 0, 0, 0, 0xff, 0xff, 0xff, 0xff])).u32(8, 0).u32be(9, 0xffffffff);
    }).toBuffer(),
  ]);
  const destMsg = Buffer.concat([
    Buffer.from([8, 1, 0, 0]),
    new AttrWriter().nest(2, (w) => {
      w.bytes(1, Buffer.from([192, 0, 2, 5, ...new Array<number>(12).fill(0)])).u16be(2, 8080).u32(3, 0).u32(4, 70000).u32(5, 0).u32(6, 0).u16(11, 2);
    }).toBuffer(),
  ]);
  const k = kernel((r) => {
    if (r.cmd === 4) return { messages: [svcMsg(80), svcMsg(443)] };
    if (r.cmd === 8) return { messages: [destMsg] };
    return { errno: 22 };
  });
  const t = await new NetlinkIpvsDriver(k).dump();
  const ipvs = k.requests.slice(1);
  assert.deepEqual(ipvs.map((r) => [r.cmd, r.flags & NLM_F_DUMP]), [[4, NLM_F_DUMP], [8, NLM_F_DUMP], [8, NLM_F_DUMP]]);
  assert.equal(ipvs[0]!.attrs.length, 0);
  const port = (r: FakeRequest): number => parseAttrs(parseAttrs(r.attrs)[0]!.value).find((a) => a.type === 4)!.value.readUInt16BE(0);
  assert.deepEqual([port(ipvs[1]!), port(ipvs[2]!)], [80, 443]);
  assert.equal(t.services.length, 2);
  assert.deepEqual(t.services[1]!.service, { ...svc, key: { ...svc.key, port: 443 }, scheduler: 'wlc', flags: { hashed: true } });
  assert.deepEqual(t.services[0]!.dests[0]!.dest, { family: 'inet', address: '192.0.2.5', port: 8080, forward: 'NAT', weight: 70000, upperThreshold: 0, lowerThreshold: 0 });
});

test('getTimeouts decodes the GET_CONFIG reply', async () => {
  const k = kernel((r) => {
    assert.equal(r.cmd, 13);
    return { messages: [Buffer.concat([Buffer.from([13, 1, 0, 0]), new AttrWriter().u32(4, 900).u32(5, 120).u32(6, 300).toBuffer()])] };
  });
  assert.deepEqual(await new NetlinkIpvsDriver(k).getTimeouts(), { tcpS: 900, tcpFinS: 120, udpS: 300 });
});

test('applyMany sends many requests per sendmsg, each with its own seq, only the last asking for an ACK', async () => {
  const k = kernel(() => 'ack');
  const d = new NetlinkIpvsDriver(k);
  const ops = Array.from({ length: 40 }, (_, i) => ({ kind: 'addDest', key: svc.key, dest: { ...dest, port: 1000 + i } }) as const);
  assert.deepEqual(await d.applyMany(ops), ops.map(() => undefined));
  assert.deepEqual(k.sends, [40], 'one sendmsg');
  const sent = k.requests.slice(1);
  const ports = sent.map((r) => parseAttrs(parseAttrs(r.attrs)[1]!.value).find((a) => a.type === 2)!.value.readUInt16BE(0));
  assert.deepEqual(ports, ops.map((o) => o.dest.port), 'sent in op order');
  assert.deepEqual(sent.map((r) => r.flags), ops.map((_, i) => NLM_F_REQUEST | (i === 39 ? NLM_F_ACK : 0)));
  assert.deepEqual(sent.map((r) => r.cmd), ops.map(() => 5));
  assert.equal(new Set(sent.map((r) => r.seq)).size, 40, 'every request has its own seq');
  assert.equal(k.referenced, false, 'the socket no longer holds the event loop');
});

test('applyMany reports each NACK against its own op, and sends the ops after it', async () => {
  const port = (r: FakeRequest): number => parseAttrs(parseAttrs(r.attrs)[1]!.value).find((a) => a.type === 2)!.value.readUInt16BE(0);
  const failing = kernel((r) => (port(r) === 1005 || port(r) === 1039 ? { errno: 2 } : 'ack'));
  const d = new NetlinkIpvsDriver(failing);
  const ops = Array.from({ length: 40 }, (_, i) => ({ kind: 'addDest', key: svc.key, dest: { ...dest, port: 1000 + i } }) as const);
  const errors = await d.applyMany(ops);
  assert.deepEqual(errors.map((e, i) => (e ? i : -1)).filter((i) => i >= 0), [5, 39], 'a NACK on the last request ends the batch too');
  assert.ok(errors[5] instanceof NetlinkError && errors[5].code === 'ENOENT', String(errors[5]));
  assert.equal(errors[5].message, 'IPVS_CMD_NEW_DEST [192.0.2.5]:1005 to [192.0.2.10]:tcp:80: No such file or directory (ENOENT)');
  assert.equal(errors[5].seq, failing.requests[1 + 5]!.seq);
  assert.equal(failing.requests.length - 1, ops.length, 'the ops after the NACK are sent too');
});

test('applyMany: a batch holds no more requests than could all be refused with their NACKs fitting the receive buffer', async () => {
  const k = kernel((r) => (r.cmd === 5 ? { errno: 17 } : 'ack'));
  k.rcvbuf = 64 * 1024;
  const d = new NetlinkIpvsDriver(k);
  const ops = Array.from({ length: 300 }, (_, i) => ({ kind: 'addDest', key: svc.key, dest: { ...dest, port: 1000 + i } }) as const);
  const errors = await d.applyMany(ops);
  assert.ok(k.sends.length > 1, `${k.sends.join(',')} requests per sendmsg`);
  assert.deepEqual(errors.map((e) => (e as NetlinkError | undefined)?.code), ops.map(() => 'EEXIST'), 'every NACK read');
  assert.deepEqual(errors.map((e) => /\]:(\d+) to/.exec(e!.message)![1]), ops.map((o) => String(o.dest.port)));
});

test('applyMany: an op that cannot be encoded fails alone; the others are sent', async () => {
  const k = kernel(() => 'ack');
  const ops = [
    { kind: 'addService', service: svc },
    { kind: 'addDest', key: svc.key, dest: { ...dest, address: '192.0.2.256' } },
    { kind: 'addDest', key: svc.key, dest },
  ] as const;
  const errors = await new NetlinkIpvsDriver(k).applyMany(ops);
  assert.equal(errors[1]?.message, 'not an IPv4 address: 192.0.2.256');
  assert.deepEqual([errors[0], errors[2]], [undefined, undefined]);
  assert.deepEqual(k.requests.slice(1).map((r) => [r.cmd, r.flags]), [[1, NLM_F_REQUEST], [5, NLM_F_REQUEST | NLM_F_ACK]]);
});

test('close() closes the transport', async () => {
  const k = kernel(() => 'ack');
  await new NetlinkIpvsDriver(k).close();
  assert.equal(k.closed, true);
});

test('probeIpvsFamily reports the real kernel: true exactly when ip_vs is loaded', async () => {
  assert.equal(await probeIpvsFamily(), existsSync('/proc/net/ip_vs'));
});

test('a dump that timed out leaves its socket for a fresh one: the next dump is read (no EBUSY for ever)', async () => {
  // Found by the generated differential in the VM: a guest stalled past the timeout mid-dump, and every later dump
  // on that socket got EBUSY (netlink_dump_start), so the table was never read nor repaired again.
  const stalled = kernel(() => 'ack');
  const request = stalled.request.bind(stalled);
  stalled.request = async (type, data, options) => {
    if ((options.flags & NLM_F_DUMP) === 0) return request(type, data, options);
    throw new Error('Timeout has been reached');
  };
  const fresh = kernel((r) => (r.cmd === 4 ? { messages: [] } : { errno: 22 }));
  const d = new NetlinkIpvsDriver(stalled, { reopen: () => fresh });
  await assert.rejects(d.dump(), /Timeout has been reached/);
  assert.equal(stalled.closed, true);
  assert.deepEqual(await d.dump(), { services: [] });
  assert.equal(fresh.requests.at(-1)?.cmd, 4);
});

test('a reply read after the process stalled past the timeout is taken: only running time counts', async () => {
  // Found by the generated differential in the VM: a guest whose daemon was busy starting ~60 checkers came back to
  // a wall-clock timeout that fired before the waiting ACKs were read, and the first pass failed op by op.
  const k = kernel(() => 'ack');
  // The stall comes after the request left, and the reply is read after the next timers phase, as the poll phase
  // reads a waiting ACK.
  k.deliver = (answers) => setImmediate(() => {
    const until = Date.now() + 3000;
    while (Date.now() < until);
    setImmediate(answers);
  });
  await new NetlinkIpvsDriver(k, { timeoutMs: 1500 }).apply({ kind: 'addService', service: svc });
  assert.equal(k.requests.at(-1)?.cmd, 1);
});

test('a request never answered fails after its timeout with ETIMEDOUT, naming the entry', async () => {
  const k = kernel(() => 'ack');
  k.deliver = () => {};
  const err = await new NetlinkIpvsDriver(k, { timeoutMs: 300 }).apply({ kind: 'addDest', key: svc.key, dest }).then(() => undefined, (e: unknown) => e);
  assert.ok(err instanceof NetlinkError);
  assert.equal(err.code, 'ETIMEDOUT');
  assert.equal(err.message, 'IPVS_CMD_NEW_DEST [192.0.2.5]:80 to [192.0.2.10]:tcp:80: no reply in 0.3 s');
});

test('a batch never answered fails every op with ETIMEDOUT; the next batch is answered', async () => {
  const k = kernel(() => 'ack');
  const deliver = k.deliver;
  k.deliver = () => {};
  const d = new NetlinkIpvsDriver(k, { timeoutMs: 300 });
  const ops = [{ kind: 'addService', service: svc }, { kind: 'addDest', key: svc.key, dest }] as const;
  const errors = await d.applyMany(ops);
  assert.deepEqual(errors.map((e) => (e as NetlinkError).code), ['ETIMEDOUT', 'ETIMEDOUT']);
  assert.equal(errors[0]!.message, 'IPVS_CMD_NEW_SERVICE [192.0.2.10]:tcp:80: no reply in 0.3 s');
  k.deliver = deliver;
  assert.deepEqual(await d.applyMany(ops), [undefined, undefined]);
});
