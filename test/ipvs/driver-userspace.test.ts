// The userspace data plane with real clients and real backends on loopback: VIP 127.0.0.10, backends
// 127.0.0.11-13 (Linux routes all of 127/8 to lo, so no setup is needed).
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { Writable } from 'node:stream';
import { FakeClock } from '../../src/clock.js';
import { createLogger, silentLogger } from '../../src/log.js';
import { UserspaceIpvsDriver } from '../../src/ipvs/driver-userspace.js';
import { formatIpvsadm } from '../../src/ipvs/format-ipvsadm.js';
import type { Destination, Scheduler, Service, ServiceKey } from '../../src/ipvs/types.js';

const VIP = '127.0.0.10';
const BACKENDS = ['127.0.0.11', '127.0.0.12', '127.0.0.13'];

/** A port free on every test address (checked by binding it on each). */
async function freePort(): Promise<number> {
  for (;;) {
    const probe = createServer();
    await new Promise<void>((r) => probe.listen(0, VIP, r));
    const port = (probe.address() as { port: number }).port;
    await new Promise<void>((r) => probe.close(() => r()));
    const ok = await Promise.all(
      BACKENDS.map(
        (host) =>
          new Promise<boolean>((resolve) => {
            const s = createServer();
            s.once('error', () => resolve(false));
            s.listen(port, host, () => s.close(() => resolve(true)));
          }),
      ),
    );
    if (ok.every(Boolean)) return port;
  }
}

interface Backend {
  readonly host: string;
  readonly server: Server;
  readonly sockets: Set<Socket>;
  hits: number;
}

/** Replies `host:<request>` once the client half-closes; `hold:` requests are answered only when released. */
async function startBackend(t: TestContext, host: string, port: number, held?: Set<() => void>): Promise<Backend> {
  const sockets = new Set<Socket>();
  const b: Backend = { host, server: createServer({ allowHalfOpen: true }), sockets, hits: 0 };
  b.server.on('connection', (sock) => {
    b.hits++;
    sockets.add(sock);
    sock.on('close', () => sockets.delete(sock));
    sock.on('error', () => sock.destroy());
    let body = '';
    sock.setEncoding('utf8');
    sock.on('data', (d: string) => (body += d));
    sock.on('end', () => {
      const answer = (): void => void sock.end(`${host}:${body}`);
      if (body.startsWith('hold:') && held) held.add(answer);
      else answer();
    });
  });
  await new Promise<void>((r) => b.server.listen(port, host, r));
  t.after(() => stop(b));
  return b;
}

function stop(b: Backend): Promise<void> {
  for (const s of b.sockets) s.destroy();
  return new Promise((r) => b.server.close(() => r()));
}

/** One request: connect, send, half-close, read to the end. */
function request(port: number, body: string, host = VIP): Promise<string> {
  return new Promise((resolve, reject) => {
    const c = connect({ host, port, allowHalfOpen: true });
    let got = '';
    c.setEncoding('utf8');
    c.on('connect', () => c.end(body));
    c.on('data', (d: string) => (got += d));
    c.on('end', () => resolve(got));
    c.on('error', reject);
  });
}

const service = (port: number, scheduler: Scheduler, extra: Partial<Service> = {}): Service => ({
  key: { family: 'inet', protocol: 'tcp', address: VIP, port },
  scheduler,
  flags: {},
  persistenceTimeoutS: 0,
  persistenceNetmask: 0xffffffff,
  ...extra,
});

const dest = (address: string, port: number, weight = 1, extra: Partial<Destination> = {}): Destination => ({
  family: 'inet',
  address,
  port,
  forward: 'NAT',
  weight,
  upperThreshold: 0,
  lowerThreshold: 0,
  ...extra,
});

async function setup(t: TestContext, scheduler: Scheduler, weights: number[], extra: Partial<Service> = {}) {
  const port = await freePort();
  const held = new Set<() => void>();
  const backends = await Promise.all(BACKENDS.slice(0, weights.length).map((h) => startBackend(t, h, port, held)));
  const driver = new UserspaceIpvsDriver(silentLogger());
  t.after(() => driver.close());
  const svc = service(port, scheduler, extra);
  await driver.apply({ kind: 'addService', service: svc });
  for (let i = 0; i < weights.length; i++) await driver.apply({ kind: 'addDest', key: svc.key, dest: dest(BACKENDS[i]!, port, weights[i]) });
  return { port, backends, driver, key: svc.key, held };
}

function tally(answers: string[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const a of answers) {
    const host = a.split(':')[0]!;
    out[host] = (out[host] ?? 0) + 1;
  }
  return out;
}

async function sequential(port: number, n: number, prefix = 'r'): Promise<string[]> {
  const out: string[] = [];
  for (let i = 0; i < n; i++) out.push(await request(port, `${prefix}${i}`));
  return out;
}

test('rr and wrr: exact shares over sequential connections; answers arrive intact', async (t) => {
  const rr = await setup(t, 'rr', [1, 1, 1]);
  const answers = await sequential(rr.port, 30);
  assert.deepEqual(tally(answers), { '127.0.0.11': 10, '127.0.0.12': 10, '127.0.0.13': 10 });
  answers.forEach((a, i) => assert.ok(a.endsWith(`:r${i}`), a));

  const wrr = await setup(t, 'wrr', [3, 2, 1]);
  assert.deepEqual(tally(await sequential(wrr.port, 60)), { '127.0.0.11': 30, '127.0.0.12': 20, '127.0.0.13': 10 });
});

test('wlc and lc: connections held open spread by weight (wlc) or evenly (lc)', async (t) => {
  for (const [sched, expected] of [
    ['wlc', [15, 10, 5]],
    ['lc', [10, 10, 10]],
  ] as const) {
    const s = await setup(t, sched, [3, 2, 1]);
    // Open and silent: a half-close would make the connection inactive (FIN_WAIT in IPVS terms).
    const open = Array.from({ length: 30 }, () => connect({ host: VIP, port: s.port }));
    while (s.backends.reduce((n, b) => n + b.hits, 0) < 30) await new Promise((r) => setTimeout(r, 10));
    assert.deepEqual(s.backends.map((b) => b.hits), expected, sched);
    const table = await s.driver.dump();
    assert.deepEqual(table.services[0]!.dests.map((d) => d.activeConns).reverse(), [...expected], `${sched} active`);
    for (const c of open) c.destroy();
  }
});

test('weight edit and drain: weight 0 takes no new connection and in-flight requests finish', async (t) => {
  const s = await setup(t, 'wrr', [1, 1, 1]);
  const inflight = Array.from({ length: 6 }, (_, i) => request(s.port, `hold:${i}`));
  while (s.held.size < 6) await new Promise((r) => setTimeout(r, 10));
  await s.driver.apply({ kind: 'editDest', key: s.key, dest: dest(BACKENDS[2]!, s.port, 0) });
  const after = tally(await sequential(s.port, 20));
  assert.deepEqual(after, { '127.0.0.11': 10, '127.0.0.12': 10 });
  for (const answer of s.held) answer();
  const finished = await Promise.all(inflight);
  assert.equal(tally(finished)['127.0.0.13'], 2, 'the drained server finished its in-flight requests');
  finished.forEach((a) => assert.match(a, /^127\.0\.0\.1[123]:hold:\d$/));

  await s.driver.apply({ kind: 'editDest', key: s.key, dest: dest(BACKENDS[2]!, s.port, 2) });
  assert.deepEqual(tally(await sequential(s.port, 8)), { '127.0.0.11': 2, '127.0.0.12': 2, '127.0.0.13': 4 });
});

test('backend death: its connections fail until the destination is removed, then all go elsewhere', async (t) => {
  const s = await setup(t, 'rr', [1, 1, 1]);
  await stop(s.backends[2]!);
  const results = await Promise.allSettled(Array.from({ length: 9 }, (_, i) => request(s.port, `x${i}`)));
  const failed = results.filter((r) => r.status === 'rejected') as PromiseRejectedResult[];
  assert.equal(failed.length, 3);
  for (const f of failed) assert.equal((f.reason as NodeJS.ErrnoException).code, 'ECONNRESET');
  await s.driver.apply({ kind: 'delDest', key: s.key, dest: { family: 'inet', address: BACKENDS[2]!, port: s.port } });
  assert.deepEqual(tally(await sequential(s.port, 10)), { '127.0.0.11': 5, '127.0.0.12': 5 });
});

test('persistence: one client address sticks to one server while rr would rotate', async (t) => {
  const s = await setup(t, 'rr', [1, 1, 1], { persistenceTimeoutS: 60 });
  const answers = await sequential(s.port, 9);
  assert.equal(Object.keys(tally(answers)).length, 1, JSON.stringify(tally(answers)));
  const table = await s.driver.dump();
  assert.deepEqual(table.services[0]!.dests.map((d) => d.persistentConns).sort(), [0, 0, 1]);
});

test('persistence templates expire after the timeout once their connections are gone', async (t) => {
  const port = await freePort();
  await Promise.all(BACKENDS.map((h) => startBackend(t, h, port)));
  const clock = new FakeClock();
  const driver = new UserspaceIpvsDriver(silentLogger(), { clock });
  t.after(() => driver.close());
  const svc = service(port, 'rr', { persistenceTimeoutS: 10 });
  await driver.apply({ kind: 'addService', service: svc });
  for (const h of BACKENDS) await driver.apply({ kind: 'addDest', key: svc.key, dest: dest(h, port) });
  const first = (await request(port, 'a')).split(':')[0];
  assert.equal((await request(port, 'b')).split(':')[0], first);
  clock.advance(12_000);
  assert.notEqual((await request(port, 'c')).split(':')[0], first, 'rescheduled by rr after the template expired');
});

test('UDP: datagrams reach a backend and replies come back; flows are per client socket; idle flows expire', async (t) => {
  const port = await freePort();
  const servers = await Promise.all(
    BACKENDS.slice(0, 2).map(async (host) => {
      const s = createSocket('udp4');
      s.on('message', (msg, r) => s.send(`${host}:${msg.toString()}`, r.port, r.address));
      await new Promise<void>((res) => s.bind(port, host, res));
      t.after(() => s.close());
      return s;
    }),
  );
  assert.equal(servers.length, 2);
  const clock = new FakeClock();
  const driver = new UserspaceIpvsDriver(silentLogger(), { clock });
  t.after(() => driver.close());
  const key: ServiceKey = { family: 'inet', protocol: 'udp', address: VIP, port };
  await driver.apply({ kind: 'addService', service: { ...service(port, 'rr'), key } });
  await driver.apply({ kind: 'setTimeouts', timeouts: { udpS: 30 } });
  for (const h of BACKENDS.slice(0, 2)) await driver.apply({ kind: 'addDest', key, dest: dest(h, port) });

  const ask = async (client: ReturnType<typeof createSocket>, text: string): Promise<string> => {
    const reply = new Promise<string>((res) => client.once('message', (m) => res(m.toString())));
    client.send(text, port, VIP);
    return reply;
  };
  const clients = [createSocket('udp4'), createSocket('udp4')];
  t.after(() => clients.forEach((c) => c.close()));
  const a1 = await ask(clients[0]!, 'one');
  const a2 = await ask(clients[0]!, 'two');
  const b1 = await ask(clients[1]!, 'three');
  assert.equal(a1.split(':')[0], a2.split(':')[0], 'same flow, same backend');
  assert.notEqual(a1.split(':')[0], b1.split(':')[0], 'rr gives the second flow the other backend');
  assert.equal(a2.split(':')[1], 'two');
  let table = await driver.dump();
  assert.deepEqual(table.services[0]!.dests.map((d) => d.inactiveConns), [1, 1]);
  assert.equal(table.services[0]!.stats!.inPkts, 3n);
  assert.equal(table.services[0]!.stats!.outPkts, 3n);
  assert.equal((await driver.getTimeouts()).udpS, 30);
  clock.advance(32_000);
  table = await driver.dump();
  assert.deepEqual(table.services[0]!.dests.map((d) => d.inactiveConns), [0, 0]);
});

test('stats: connections, packets and bytes per service and destination; rates after an estimator period', async (t) => {
  const port = await freePort();
  await startBackend(t, BACKENDS[0]!, port);
  const clock = new FakeClock();
  const driver = new UserspaceIpvsDriver(silentLogger(), { clock });
  t.after(() => driver.close());
  const svc = service(port, 'rr');
  await driver.apply({ kind: 'addService', service: svc });
  await driver.apply({ kind: 'addDest', key: svc.key, dest: dest(BACKENDS[0]!, port) });
  const body = 'x'.repeat(1000);
  for (let i = 0; i < 4; i++) assert.equal(await request(port, body), `${BACKENDS[0]}:${body}`);
  await new Promise((r) => setTimeout(r, 20)); // the relay's close handlers run after the client saw the end
  clock.advance(2000);
  const table = await driver.dump();
  const s = table.services[0]!;
  const d = s.dests[0]!;
  for (const st of [s.stats!, d.stats!]) {
    assert.equal(st.conns, 4n);
    assert.equal(st.inBytes, 4000n);
    assert.equal(st.outBytes, BigInt(4 * (BACKENDS[0]!.length + 1 + 1000)));
    assert.ok(st.inPkts >= 4n && st.outPkts >= 4n);
    // One 2 s sample of 4 connections = 2 conn/s, smoothed by 1/4 → 0.5, printed rounded.
    assert.equal(st.cps, 1n);
    assert.equal(st.inBps, 500n);
  }
  assert.equal(d.activeConns, 0);
  assert.equal(d.inactiveConns, 0);
  assert.match(formatIpvsadm(table, 'stats'), new RegExp(`TCP  ${VIP.replaceAll('.', '\\.')}:${port} +4 `));
});

test('delService closes the listener; in-flight connections finish', async (t) => {
  const s = await setup(t, 'rr', [1]);
  const inflight = request(s.port, 'hold:late');
  while (s.held.size < 1) await new Promise((r) => setTimeout(r, 10));
  await s.driver.apply({ kind: 'delService', key: s.key });
  await assert.rejects(request(s.port, 'new'), { code: 'ECONNREFUSED' });
  for (const answer of s.held) answer();
  assert.equal(await inflight, `${BACKENDS[0]}:hold:late`);
  assert.deepEqual((await s.driver.dump()).services, []);
});

test('refusals: fwmark and SCTP services, duplicates, unknown entries; DR/TUN warn once per service', async (t) => {
  const lines: string[] = [];
  const log = createLogger({ destination: new Writable({ write: (c, _e, cb) => (lines.push(String(c)), cb()) }), level: 'warn' });
  const driver = new UserspaceIpvsDriver(log);
  t.after(() => driver.close());
  await assert.rejects(driver.apply({ kind: 'addService', service: { ...service(80, 'rr'), key: { family: 'inet', fwmark: 5 } } }), {
    code: 'EOPNOTSUPP',
    message: /fwmark services need kernel IPVS/,
  });
  await assert.rejects(driver.apply({ kind: 'addService', service: { ...service(80, 'rr'), key: { family: 'inet', protocol: 'sctp', address: VIP, port: 80 } } }), {
    code: 'EPROTONOSUPPORT',
  });
  const port = await freePort();
  const svc = service(port, 'lblc');
  await driver.apply({ kind: 'addService', service: svc });
  await assert.rejects(driver.apply({ kind: 'addService', service: svc }), { code: 'EEXIST' });
  await assert.rejects(driver.apply({ kind: 'editDest', key: svc.key, dest: dest(BACKENDS[0]!, port) }), { code: 'ENOENT' });
  await assert.rejects(driver.apply({ kind: 'delService', key: { family: 'inet', protocol: 'tcp', address: VIP, port: port + 1 } }), { code: 'ESRCH' });
  await driver.apply({ kind: 'addDest', key: svc.key, dest: dest(BACKENDS[0]!, port, 1, { forward: 'DR' }) });
  await driver.apply({ kind: 'addDest', key: svc.key, dest: dest(BACKENDS[1]!, port, 1, { forward: 'TUN' }) });
  const forwardWarnings = lines.filter((l) => l.includes('forwarded as NAT'));
  assert.equal(forwardWarnings.length, 1);
  assert.match(forwardWarnings[0]!, new RegExp(`-t ${VIP.replaceAll('.', '\\.')}:${port}: lb_kind DR`));
  assert.equal(lines.filter((l) => l.includes('scheduler lblc runs as wlc')).length, 1);
  const second = new UserspaceIpvsDriver(silentLogger());
  t.after(() => second.close());
  await assert.rejects(second.apply({ kind: 'addService', service: service(port, 'rr') }), { code: 'EADDRINUSE' });
});

test('connections over maxConnections are reset and logged once; idle ones keep their slot; freed slots are reused', async (t) => {
  const port = await freePort();
  const backend = await startBackend(t, BACKENDS[0]!, port);
  const lines: string[] = [];
  const log = createLogger({ destination: new Writable({ write: (c, _e, cb) => (lines.push(String(c)), cb()) }), level: 'info' });
  const driver = new UserspaceIpvsDriver(log, { maxConnections: 10 });
  t.after(() => driver.close());
  const svc = service(port, 'rr');
  await driver.apply({ kind: 'addService', service: svc });
  await driver.apply({ kind: 'addDest', key: svc.key, dest: dest(BACKENDS[0]!, port, 1) });
  const idle: Socket[] = [];
  const closed = new Set<Socket>();
  t.after(() => idle.forEach((c) => c.destroy()));
  for (let i = 0; i < 30; i++) {
    const c = connect({ host: VIP, port });
    c.on('error', () => undefined);
    c.on('close', () => closed.add(c));
    idle.push(c);
  }
  await until(() => closed.size === 20 && backend.sockets.size === 10);
  const table = await driver.dump();
  const d = table.services[0]!.dests[0]!;
  assert.equal((d.activeConns ?? 0) + (d.inactiveConns ?? 0), 10);
  assert.equal(lines.filter((l) => l.includes('userspace data plane: 10 connections open; refusing new ones')).length, 1, lines.join(''));
  // Ten idle connections hold the data plane full: a new client is refused until one leaves.
  await assert.rejects(request(port, 'refused'));
  idle.filter((c) => !closed.has(c)).slice(0, 3).forEach((c) => c.destroy());
  await until(() => backend.sockets.size === 7);
  assert.equal(await request(port, 'again'), `${BACKENDS[0]}:again`);
  assert.ok(lines.some((l) => /accepting connections again \(21 refused at the cap\)/.test(l)), lines.join(''));
});

async function until(cond: () => boolean, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 20));
  }
}
