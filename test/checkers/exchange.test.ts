// The shared exchange set (native/exchange.cc) under every checker that uses it (HTTP_GET, SSL_GET, TCP_CHECK,
// SMTP_CHECK, DNS_CHECK, UDP_CHECK): address families, bindto/bind_port, bind_if and fwmark, the whole-reply deadline
// of TCP and the whole-exchange one of UDP, many exchanges at once, reset closes, and an idle set not holding the
// process open. Peers that never stop sending are in endless.test.ts.
import assert from 'node:assert/strict';
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import dgram from 'node:dgram';
import net from 'node:net';
import { createInterface } from 'node:readline';
import { after, describe, test } from 'node:test';
import { exchanges, type ExchangeHandler } from '../../checkers/exchange.js';
import { httpFetch } from '../../checkers/http.js';
import { probeDns } from '../../checkers/dns.js';
import { probeSmtp } from '../../checkers/smtp.js';
import { probeTcp } from '../../checkers/tcp.js';
import { probeUdp } from '../../checkers/udp.js';
import type { PromotionOutput } from './exchange-promotion-child.js';
import { conn, timing } from './model.js';
import { httpsServer, makeCert, respond, smtpServer } from './servers.js';
import { isRoot, need, needCommand } from '../support/tier.js';

const signal = (): AbortSignal => AbortSignal.timeout(10_000);
const GET = { ssl: false, host: 'x', path: '/', protocol: '1.0' as const };

interface Peer {
  readonly address: string;
  readonly port: number;
}

/** An HTTP server on `host` that records each client's address and answers with `reply`. */
async function server(host: string, reply: (sock: net.Socket) => void): Promise<{ port: number; peers: Peer[]; close(): Promise<void> }> {
  const peers: Peer[] = [];
  const open = new Set<net.Socket>();
  const srv = net.createServer((sock) => {
    open.add(sock);
    sock.on('close', () => open.delete(sock));
    sock.on('error', () => undefined);
    peers.push({ address: sock.remoteAddress ?? '', port: sock.remotePort ?? 0 });
    let head = '';
    const onData = (d: Buffer): void => {
      head += d.toString('latin1');
      if (!head.includes('\r\n\r\n')) return;
      sock.off('data', onData);
      reply(sock);
    };
    sock.on('data', onData);
  });
  await new Promise<void>((done) => srv.listen(0, host, done));
  return {
    port: (srv.address() as net.AddressInfo).port,
    peers,
    close: () =>
      new Promise<void>((done) => {
        for (const s of open) s.destroy();
        srv.close(() => done());
      }),
  };
}

const ok = (sock: net.Socket): void => {
  sock.end('HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nok');
};

async function freePort(host: string): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((done) => s.listen(0, host, done));
  const port = (s.address() as net.AddressInfo).port;
  await new Promise<void>((done) => s.close(() => done()));
  return port;
}

describe('exchange set', () => {
  const running: { close(): Promise<void> }[] = [];
  after(async () => {
    await Promise.all(running.map((r) => r.close()));
  });

  test('HTTP_GET over IPv6 from bindto/bind_port', async () => {
    const srv = await server('::1', ok);
    running.push(srv);
    const bindPort = await freePort('::1');
    const r = await httpFetch(conn(srv.port, { connectIp: '::1', family: 'inet6', bindto: '::1', bindPort }), GET, signal());
    assert.equal(r.status, 200);
    assert.deepEqual(srv.peers, [{ address: '::1', port: bindPort }]);
  });

  test('IPv4 bindto picks the source address; one that is not local fails the check', async () => {
    const srv = await server('127.0.0.1', ok);
    running.push(srv);
    const r = await httpFetch(conn(srv.port, { bindto: '127.0.0.2' }), GET, signal());
    assert.equal(r.status, 200);
    assert.equal(srv.peers[0]?.address, '127.0.0.2');
    const tcp = await probeTcp({ ...timing(), ...conn(srv.port, { bindto: '192.0.2.55' }), type: 'TCP_CHECK' }, signal());
    assert.deepEqual(tcp, { ok: false, detail: 'failed' });
    await assert.rejects(httpFetch(conn(srv.port, { bindto: '192.0.2.55' }), GET, signal()), { reason: 'error', message: 'EADDRNOTAVAIL' });
  });

  test('bind_if binds the socket to a device (SO_BINDTODEVICE); fwmark marks it (SO_MARK)', async (t) => {
    if (!need(t, isRoot(), 'needs root: SO_MARK takes CAP_NET_ADMIN') || !needCommand(t, 'ss', 'iproute2')) return;
    const srv = await server('127.0.0.1', ok);
    running.push(srv);
    assert.equal((await httpFetch(conn(srv.port, { bindIf: 'lo' }), GET, signal())).status, 200);
    await assert.rejects(httpFetch(conn(srv.port, { bindIf: 'lvsk-none0' }), GET, signal()), { message: 'ENODEV' });
    // A server that never answers keeps the marked connection open long enough for ss to see it.
    const silent = await server('127.0.0.1', () => undefined);
    running.push(silent);
    const abort = new AbortController();
    const pending = httpFetch(conn(silent.port, { fwmark: 42 }), GET, abort.signal).catch((err: unknown) => err);
    let seen = '';
    for (let i = 0; i < 100 && !seen.includes('ESTAB'); i++) {
      await new Promise((d) => setTimeout(d, 20));
      seen = execFileSync('ss', ['-Htane', `( dport = :${silent.port} )`], { encoding: 'utf8' });
    }
    abort.abort();
    await pending;
    assert.match(seen, /ESTAB.* fwmark:0x2a /);
  });

  test('SSL_GET and SMTP_CHECK connect on the set too: bind_if applies, and a TLS handshake is bounded', async (t) => {
    if (!needCommand(t, 'openssl')) return;
    const tlsSrv = await httpsServer(makeCert(), respond(200, 'secure'));
    const smtp = await smtpServer();
    const mute = await server('127.0.0.1', () => undefined);
    running.push(tlsSrv, smtp, mute);
    const ssl = { ...GET, ssl: true };
    assert.equal((await httpFetch(conn(tlsSrv.port, { bindIf: 'lo' }), ssl, signal())).status, 200);
    await assert.rejects(httpFetch(conn(tlsSrv.port, { bindIf: 'lvsk-none0' }), ssl, signal()), { message: 'ENODEV' });
    const helo = { ...timing(), type: 'SMTP_CHECK' as const, heloName: 'x' };
    assert.deepEqual(await probeSmtp({ ...helo, ...conn(smtp.port, { bindIf: 'lo' }) }, signal()), { ok: true, detail: 'success' });
    assert.deepEqual(await probeSmtp({ ...helo, ...conn(smtp.port, { bindIf: 'lvsk-none0' }) }, signal()), { ok: false, detail: 'failed (ENODEV)' });
    // A peer that accepts TCP but never answers the ClientHello.
    await assert.rejects(httpFetch(conn(mute.port, { connectTimeoutMs: 200 }), ssl, signal()), { reason: 'timeout', message: 'handshake timeout' });
  });

  test('DNS_CHECK and UDP_CHECK run datagram exchanges: bind_if, an empty payload, one deadline for the whole exchange', { timeout: 10_000 }, async () => {
    const got: Buffer[] = [];
    const udp = dgram.createSocket('udp4');
    let spam: NodeJS.Timeout | undefined;
    let latest = { port: 0, address: '' };
    udp.on('message', (m, r) => {
      got.push(m);
      latest = r;
      // Replies DNS_CHECK ignores (no matching ID), every 50 ms to the latest sender: they must not hold the exchange
      // past connect_timeout.
      spam ??= setInterval(() => udp.send(Buffer.from('no'), latest.port, latest.address), 50);
    });
    await new Promise<void>((d) => udp.bind(0, '127.0.0.1', () => d()));
    running.push({
      close: () =>
        new Promise<void>((d) => {
          clearInterval(spam);
          udp.close(() => d());
        }),
    });
    const port = udp.address().port;
    const check = { ...timing(), type: 'UDP_CHECK' as const, minReplyLength: 0, maxReplyLength: 255 };
    assert.deepEqual(await probeUdp({ ...check, ...conn(port, { bindIf: 'lo', connectTimeoutMs: 200 }) }, signal()), { ok: true, detail: 'success' });
    assert.deepEqual(got.map((m) => m.length), [0]);
    const dns = { ...timing(), type: 'DNS_CHECK' as const, queryType: 'A' as const, name: 'example.org' };
    // No abort signal: only the exchange's own deadline can end this probe (the test's timeout catches a hang).
    assert.deepEqual(await probeDns({ ...dns, ...conn(port, { connectTimeoutMs: 300 }) }, new AbortController().signal), { ok: false, detail: 'timeout' });
    assert.deepEqual(await probeDns({ ...dns, ...conn(port, { bindIf: 'lvsk-none0' }) }, signal()), { ok: false, detail: 'failed (ENODEV)' });
  });

  test('connect_timeout bounds the whole reply, not each read (keepalived restarts it per read)', async () => {
    // Six pieces 100 ms apart: 500 ms in all, never more than 100 ms between reads. Fails under a 400 ms
    // connect_timeout, passes under 1 s.
    const body = 'abcdef';
    const srv = await server('127.0.0.1', (sock) => {
      sock.write(`HTTP/1.0 200 OK\r\nContent-Length: ${body.length}\r\n\r\n`);
      let i = 0;
      const t = setInterval(() => {
        sock.write(body[i++]!);
        if (i === body.length) clearInterval(t);
      }, 100);
      sock.on('close', () => clearInterval(t));
    });
    running.push(srv);
    await assert.rejects(httpFetch(conn(srv.port, { connectTimeoutMs: 400 }), GET, signal()), { reason: 'timeout', message: 'read timeout' });
    const r = await httpFetch(conn(srv.port, { connectTimeoutMs: 1000 }), GET, signal());
    assert.equal(r.status, 200);
    const stalled = await server('127.0.0.1', (sock) => sock.write('HTTP/1.0 200 OK\r\n'));
    running.push(stalled);
    await assert.rejects(httpFetch(conn(stalled.port, { connectTimeoutMs: 200 }), GET, signal()), { reason: 'timeout', message: 'read timeout' });
  });

  test('replies already queued are read one 64 KiB chunk per exchange per loop turn, and about 1 MiB per batch', async () => {
    const body = Buffer.alloc(1 << 20, 'b');
    // Each reply is written before the client's next poll, so megabytes wait in the receive queues at once.
    const srv = await server('127.0.0.1', (sock) => sock.end(Buffer.concat([Buffer.from('HTTP/1.0 200 OK\r\n\r\n'), body])));
    running.push(srv);
    const batch = new Map<number, number>();
    let batchBytes = 0;
    let mostReads = 0;
    let mostBytes = 0;
    let got = 0;
    let biggest = 0;
    const one = (): Promise<void> =>
      new Promise<void>((done, fail) => {
        // A loaded machine may take a while to move 24 MiB; the deadline is not what this test is about.
        const handle = exchanges().start(conn(srv.port, { connectTimeoutMs: 10_000 }), 'GET / HTTP/1.0\r\n\r\n', {
          connected: () => undefined,
          data: (chunk) => {
            got += chunk.length;
            biggest = Math.max(biggest, chunk.length);
            // One batch is one synchronous dispatch; the microtask runs when it returns.
            if (batch.size === 0) {
              queueMicrotask(() => {
                mostReads = Math.max(mostReads, ...batch.values());
                mostBytes = Math.max(mostBytes, batchBytes);
                batch.clear();
                batchBytes = 0;
              });
            }
            batch.set(handle, (batch.get(handle) ?? 0) + 1);
            batchBytes += chunk.length;
          },
          end: done,
          error: (code) => fail(new Error(code)),
          timeout: () => fail(new Error('timeout')),
        });
      });
    await Promise.all(Array.from({ length: 24 }, one));
    assert.equal(got, 24 * (body.length + 19));
    assert.equal(biggest, 65536);
    assert.equal(mostReads, 1, 'several reads of one exchange in one batch');
    assert.ok(mostBytes <= (1 << 20) + 65536, `a batch of ${mostBytes} bytes`);
  });

  test('queued datagrams are read one per loop turn, each its own DATA', async () => {
    const udp = dgram.createSocket('udp4');
    // 100 replies sent at once (well within the default receive buffer) to the query, so they wait in the receive queue together.
    udp.on('message', (_m, r) => {
      for (let i = 0; i < 100; i++) udp.send(Buffer.from([i]), r.port, r.address);
    });
    await new Promise<void>((d) => udp.bind(0, '127.0.0.1', () => d()));
    running.push({ close: () => new Promise<void>((d) => udp.close(() => d())) });
    let inBatch = 0;
    let mostInBatch = 0;
    const got: number[] = [];
    await new Promise<void>((done, fail) => {
      const handle = exchanges().start(
        conn(udp.address().port, { connectTimeoutMs: 10_000 }),
        Buffer.from('q'),
        {
          connected: () => undefined,
          data: (msg) => {
            got.push(msg[0]!);
            if (inBatch++ === 0) queueMicrotask(() => ((mostInBatch = Math.max(mostInBatch, inBatch)), (inBatch = 0)));
            if (got.length === 100) {
              exchanges().close(handle);
              done();
            }
          },
          end: () => fail(new Error('end')),
          error: (code) => fail(new Error(code)),
          timeout: () => fail(new Error('timeout')),
        },
        true,
      );
    });
    assert.deepEqual(got, Array.from({ length: 100 }, (_, i) => i));
    assert.equal(mostInBatch, 1, 'several datagrams of one exchange in one batch');
  });

  test('maxBytes: the set reads no further than the caller wants, reports limit and resets', async () => {
    let closed: Promise<void> = Promise.resolve();
    const srv = await server('127.0.0.1', (sock) => {
      closed = new Promise((done) => sock.on('close', () => done()));
      sock.write(Buffer.alloc(1 << 20, 'c'));
    });
    running.push(srv);
    let got = 0;
    await new Promise<void>((done, fail) => {
      exchanges().start(
        conn(srv.port),
        'GET / HTTP/1.0\r\n\r\n',
        {
          connected: () => undefined,
          data: (chunk) => (got += chunk.length),
          end: () => fail(new Error('end')),
          error: (code) => fail(new Error(code)),
          timeout: () => fail(new Error('timeout')),
          limit: done,
        },
        false,
        100_000,
      );
    });
    assert.equal(got, 100_000);
    // The server's socket closes although it never ended its side: the reset reached it.
    await closed;
  });

  test('300 exchanges at once all complete, and reset closes leave no TIME_WAIT behind', async (t) => {
    if (!needCommand(t, 'ss', 'iproute2')) return;
    const srv = await server('127.0.0.1', ok);
    running.push(srv);
    // The deadline is not what this test is about: 300 at once on a loaded machine may take more than 1 s.
    const results = await Promise.all(Array.from({ length: 300 }, () => httpFetch(conn(srv.port, { connectTimeoutMs: 5000 }), GET, signal())));
    assert.equal(results.filter((r) => r.status === 200).length, 300);
    assert.equal(srv.peers.length, 300);
    // Either side's TIME_WAIT entry has the server's port at one end.
    const filter = `( sport = :${srv.port} or dport = :${srv.port} )`;
    const waiting = execFileSync('ss', ['-Htan', 'state', 'time-wait', filter], { encoding: 'utf8' }).split('\n').filter((l) => l !== '');
    assert.deepEqual(waiting, []);
  });

  test('an exchange started while a batch is dispatched takes no slot that the batch still names', { timeout: 20_000 }, async () => {
    // The server runs in a child and answers without waiting for the request, so that both replies arrive while this
    // loop is blocked and both ends come in one batch; a slot freed by the first end and reused by the exchange its
    // handler starts would hide the second end.
    const serve =
      "const s = require('node:net').createServer((c) => { c.on('error', () => {}); c.end('HTTP/1.0 200 OK\\r\\n\\r\\n'); });" +
      "s.listen(0, '127.0.0.1', () => console.log(s.address().port));";
    const child = spawn(process.execPath, ['-e', serve], { stdio: ['ignore', 'pipe', 'inherit'] });
    running.push({ close: async () => void child.kill() });
    const [line] = (await once(createInterface({ input: child.stdout! }), 'line')) as [string];
    const c = conn(Number(line), { connectTimeoutMs: 5000 });
    const ended: string[] = [];
    await new Promise<void>((resolve, reject) => {
      const missing = setTimeout(() => reject(new Error(`only ${ended.join(', ')} ended`)), 10_000);
      const handler = (name: string, then?: () => void): ExchangeHandler => ({
        connected() {},
        data() {},
        end() {
          ended.push(name);
          then?.();
          if (ended.length === 3) {
            clearTimeout(missing);
            resolve();
          }
        },
        error: (code) => reject(new Error(`${name}: ${code}`)),
        timeout: () => reject(new Error(`${name}: timeout`)),
      });
      // Started by whichever of the two ends first.
      let thirdStarted = false;
      const third = (): void => {
        if (thirdStarted) return;
        thirdStarted = true;
        exchanges().start(c, 'GET / HTTP/1.0\r\n\r\n', handler('third'));
      };
      const handles = [
        exchanges().start(c, 'GET / HTTP/1.0\r\n\r\n', handler('one', third)),
        exchanges().start(c, 'GET / HTTP/1.0\r\n\r\n', handler('other', third)),
      ];
      assert.ok(handles.every((h) => h >= 0));
      const until = Date.now() + 500;
      while (Date.now() < until);
    });
    assert.deepEqual(ended.slice(0, 2).sort(), ['one', 'other']);
    assert.equal(ended[2], 'third');
  });

  test('the set keeps no reference that promotes a finished exchange\'s objects to the old generation', { timeout: 60_000 }, async () => {
    const srv = await server('127.0.0.1', ok);
    running.push(srv);
    const script = new URL('./exchange-promotion-child.js', import.meta.url).pathname;
    const child = spawn(process.execPath, ['--expose-gc', '--max-semi-space-size=1', script, String(srv.port), '6000'], { stdio: ['ignore', 'pipe', 'inherit'] });
    running.push({ close: async () => void child.kill() });
    const [line] = (await once(createInterface({ input: child.stdout! }), 'line')) as [string];
    const out = JSON.parse(line) as PromotionOutput;
    // A Map of handlers promoted 230-430 KB over 4,000 exchanges here: each rehash left its old table linking the
    // next one. An array by slot promotes next to nothing.
    assert.ok(out.oldSpaceGrowth < 128 * 1024, `the old generation grew ${(out.oldSpaceGrowth / 1024).toFixed(0)} KB over ${out.exchanges} exchanges`);
  });

  test('a stalled event loop does not turn a connect that completed in time into a timeout', async () => {
    const srv = await server('127.0.0.1', ok);
    running.push(srv);
    // The listen backlog completes the handshake while this loop is blocked (as a fork of a large process blocks it).
    const probe = probeTcp({ ...timing(), ...conn(srv.port, { connectTimeoutMs: 200 }), type: 'TCP_CHECK' }, signal());
    const until = Date.now() + 600;
    while (Date.now() < until);
    assert.deepEqual(await probe, { ok: true, detail: 'success' });
  });

  test('an idle set does not keep the process alive', async () => {
    const srv = await server('127.0.0.1', ok);
    running.push(srv);
    const port = srv.port;
    const tcp = new URL('../../checkers/tcp.js', import.meta.url).href;
    const script =
      `const { probeTcp } = await import(${JSON.stringify(tcp)});` +
      `const r = await probeTcp({ connectIp: '127.0.0.1', connectPort: ${port}, family: 'inet', connectTimeoutMs: 1000 }, new AbortController().signal);` +
      'console.log(JSON.stringify(r));';
    // spawnSync would block the server's accept; the listen backlog completes the handshake without it.
    const child = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', timeout: 20_000 });
    assert.equal(child.signal, null, 'the child had to be killed: something kept its event loop alive');
    assert.equal(child.status, 0, child.stderr);
    assert.deepEqual(JSON.parse(child.stdout), { ok: true, detail: 'success' });
  });
});
