// Backends whose reply never ends (issue 14, "Native reads bounded"): HTTP_GET and SSL_GET read only what the check
// needs (the head for status_code; the body, capped at BODY_CAP, for digest and regex), connect_timeout bounds the
// whole reply, and a stream without end costs bounded memory and holds no one else up. SMTP_CHECK's dialogue is
// bounded by its own reply limit and per-reply timer. The process-level figures
// (RSS, a concurrent check, a 10 ms interval) come from a child process, so that the backends' own work is not counted.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import type net from 'node:net';
import { after, before, describe, test, type TestContext } from 'node:test';
import { BODY_CAP, probeHttp } from '../../checkers/http.js';
import type { HttpChecker } from '../../src/config/model.js';
import { hasCommand, needCommand } from '../support/tier.js';
import type { ChildOutput } from './endless-child.js';
import { probeSmtp } from '../../checkers/smtp.js';
import { conn, http, timing, url } from './model.js';
import { httpServer, httpsServer, makeCert, rawServer, respond, type Cert, type Running } from './servers.js';

const md5 = (b: Buffer): string => createHash('md5').update(b).digest('hex');
const never = (): AbortSignal => new AbortController().signal;
const HEAD = 'HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\n';

interface Streams {
  /** Resolves when the server has seen `n` of its streams end (closed or reset by the checker). */
  closed(n: number): Promise<void>;
}

/** 200, no Content-Length, then 64 KiB chunks as fast as the socket takes them, until the client goes away. */
function endless(): { handler: (sock: net.Socket) => void } & Streams {
  let ended = 0;
  const waiters: { n: number; done: () => void }[] = [];
  const chunk = Buffer.alloc(64 * 1024, 'x');
  return {
    handler: (sock) => {
      let open = true;
      const pump = (): void => {
        while (open && sock.write(chunk));
      };
      sock.on('drain', pump);
      sock.on('close', () => {
        open = false;
        ended++;
        for (const w of waiters.filter((w) => w.n <= ended)) w.done();
      });
      sock.write(HEAD);
      pump();
    },
    closed: (n) => new Promise((done) => (n <= ended ? done() : waiters.push({ n, done }))),
  };
}

// Probes run without an abort signal, so only their own bounds can end them; each test's timeout catches a hang.
const HANG = { timeout: 30_000 };

describe('a backend whose body never ends', () => {
  const open: Running[] = [];
  let cert: Cert | undefined;
  before(() => {
    if (hasCommand('openssl')) cert = makeCert();
  });
  after(async () => {
    await Promise.all(open.map((r) => r.close()));
  });
  const start = async (p: Promise<Running>): Promise<Running> => {
    const r = await p;
    open.push(r);
    return r;
  };
  const needCert = (t: TestContext): Cert | undefined => (needCommand(t, 'openssl') ? cert : undefined);

  test('HTTP_GET with only status_code passes on the head and resets the stream', HANG, async () => {
    const stream = endless();
    const srv = await start(httpServer(stream.handler));
    // No abort signal: the probe must end by itself (the test's timeout catches a hang).
    assert.deepEqual(await probeHttp(http(srv.port), 0, never()), { ok: true, detail: `HTTP status code success to [127.0.0.1]:tcp:${srv.port} url(/)` });
    await stream.closed(1);
  });

  test('SSL_GET with only status_code passes on the head and closes the stream', HANG, async (t) => {
    const c = needCert(t);
    if (!c) return;
    const stream = endless();
    const srv = await start(httpsServer(c, stream.handler));
    assert.deepEqual(await probeHttp(http(srv.port, { type: 'SSL_GET' }), 0, never()), { ok: true, detail: `HTTP status code success to [127.0.0.1]:tcp:${srv.port} url(/)` });
    await stream.closed(1);
  });

  test('digest and regex stop at the body cap with a line that says so, on HTTP_GET and SSL_GET', HANG, async (t) => {
    const stream = endless();
    const plain = await start(httpServer(stream.handler));
    const digest = { urls: [url('/', { digest: md5(Buffer.from('x')) })] };
    assert.deepEqual(await probeHttp(http(plain.port, digest), 0, never()), {
      ok: false,
      detail: `MD5 digest error to [127.0.0.1]:tcp:${plain.port} url(/), body larger than ${BODY_CAP} bytes (the most a digest or regex check reads).`,
    });
    assert.deepEqual(await probeHttp(http(plain.port, { urls: [url('/', { regex: 'y' })] }), 0, never()), {
      ok: false,
      detail: `Regex match failed to [127.0.0.1]:tcp:${plain.port} url(/), body larger than ${BODY_CAP} bytes (the most a digest or regex check reads).`,
    });
    await stream.closed(2);
    const c = needCert(t);
    if (!c) return;
    const secure = await start(httpsServer(c, endless().handler));
    assert.match((await probeHttp(http(secure.port, { type: 'SSL_GET', ...digest }), 0, never())).detail, /^MD5 digest error to .* body larger than 1048576 bytes/);
  });

  test('a body at the cap is hashed whole; one byte over fails, declared or not', HANG, async () => {
    const atCap = Buffer.alloc(BODY_CAP, 'a');
    const over = Buffer.alloc(BODY_CAP + 1, 'a');
    const digest = (b: Buffer): Partial<HttpChecker> => ({ urls: [url('/', { digest: md5(b) })] });
    const declared = await start(httpServer(respond(200, atCap)));
    assert.equal((await probeHttp(http(declared.port, digest(atCap)), 0, never())).ok, true);
    // Without Content-Length the body runs to the peer's close.
    const undeclared = await start(httpServer((sock) => sock.end(Buffer.concat([Buffer.from(HEAD), atCap]))));
    assert.equal((await probeHttp(http(undeclared.port, digest(atCap)), 0, never())).ok, true);
    const declaredOver = await start(httpServer(respond(200, over)));
    assert.match((await probeHttp(http(declaredOver.port, digest(over)), 0, never())).detail, /body larger than 1048576 bytes/);
    const undeclaredOver = await start(httpServer((sock) => sock.end(Buffer.concat([Buffer.from(HEAD), over]))));
    assert.match((await probeHttp(http(undeclaredOver.port, digest(over)), 0, never())).detail, /body larger than 1048576 bytes/);
  });

  test('a peer that keeps sending slowly fails at connect_timeout (keepalived restarts its timer on every read)', HANG, async (t) => {
    const drip = (sock: net.Socket): void => {
      sock.write(HEAD);
      const timer = setInterval(() => sock.write('x'), 20);
      sock.on('close', () => clearInterval(timer));
    };
    const digest = { connectTimeoutMs: 300, urls: [url('/', { digest: md5(Buffer.from('x')) })] };
    const plain = await start(httpServer(drip));
    assert.deepEqual(await probeHttp(http(plain.port, digest), 0, never()), { ok: false, detail: `Timeout HTTP read server [127.0.0.1]:tcp:${plain.port}.` });
    const c = needCert(t);
    if (!c) return;
    const secure = await start(httpsServer(c, drip));
    assert.deepEqual(await probeHttp(http(secure.port, { type: 'SSL_GET', ...digest }), 0, never()), {
      ok: false,
      detail: `Timeout SSL read server [127.0.0.1]:tcp:${secure.port}.`,
    });
  });

  test('SMTP_CHECK against a banner without end fails at its 16 KiB reply limit, or at connect_timeout when it drips', HANG, async () => {
    const flood = await start(
      rawServer((sock) => {
        const line = Buffer.from('220-still talking\r\n'.repeat(4096));
        let open = true;
        const pump = (): void => {
          while (open && sock.write(line));
        };
        sock.on('close', () => (open = false));
        sock.on('drain', pump);
        pump();
      }),
    );
    const smtp = { ...timing(), type: 'SMTP_CHECK' as const, heloName: 'x' };
    assert.deepEqual(await probeSmtp({ ...smtp, ...conn(flood.port) }, never()), { ok: false, detail: 'failed (reply too long)' });
    const drip = await start(
      rawServer((sock) => {
        const timer = setInterval(() => sock.write('220-still talking\r\n'), 20);
        sock.on('close', () => clearInterval(timer));
      }),
    );
    assert.deepEqual(await probeSmtp({ ...smtp, ...conn(drip.port, { connectTimeoutMs: 300 }) }, never()), { ok: false, detail: 'timeout' });
  });

  test('in a child process: streams end on time, RSS stays bounded, a normal check and a 10 ms interval keep running', { timeout: 60_000 }, async (t) => {
    const c = needCert(t);
    if (!c) return;
    const plain = await start(httpServer(endless().handler));
    const secure = await start(httpsServer(c, endless().handler));
    const normal = await start(httpServer(respond(200, 'ok')));
    const connectTimeoutMs = 1500;
    const input = { plainPort: plain.port, sslPort: secure.port, normalPort: normal.port, connectTimeoutMs };
    const child = spawn(process.execPath, ['--expose-gc', new URL('./endless-child.js', import.meta.url).pathname, JSON.stringify(input)], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    // A wedged loop never exits by itself; SIGKILL after 20 s shows as a signal below.
    const killer = setTimeout(() => child.kill('SIGKILL'), 20_000);
    const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((done) => child.on('exit', (c, s) => done([c, s])));
    clearTimeout(killer);
    assert.equal(signal, null, `the child was killed: its event loop did not come back (stderr: ${stderr})`);
    assert.equal(code, 0, stderr);
    const out = JSON.parse(stdout) as ChildOutput;
    const by = new Map(out.outcomes.map((o) => [o.name, o]));
    t.diagnostic(JSON.stringify({ ...out, rssBefore: `${out.rssBefore >> 20} MiB`, rssPeak: `${out.rssPeak >> 20} MiB` }));
    // Uncapped (genhash's shape): only the deadline ends them, connect_timeout after the connect.
    for (const name of ['plain fetch', 'ssl fetch']) {
      assert.equal(by.get(name)?.detail, 'read timeout', name);
      // Generous: the bound is connect_timeout after the connect, plus scheduling on a loaded machine.
      assert.ok((by.get(name)?.ms ?? Infinity) < connectTimeoutMs + 5000, `${name} took ${by.get(name)?.ms} ms`);
    }
    assert.equal(by.get('plain status_code')?.ok, true);
    assert.equal(by.get('ssl status_code')?.ok, true);
    for (const name of ['plain digest', 'ssl digest', 'plain regex']) assert.match(by.get(name)?.detail ?? '', /body larger than 1048576 bytes/, name);
    // Gigabytes before the reads were bounded; a few MiB of buffers now.
    assert.ok(out.rssPeak - out.rssBefore < 256 * 1024 * 1024, `RSS grew ${(out.rssPeak - out.rssBefore) >> 20} MiB`);
    assert.ok(out.normal.total >= 3 && out.normal.ok === out.normal.total, `normal checks: ${JSON.stringify(out.normal)}`);
    // Generous (the wedge it guards against lasted the whole stream); the figure itself is in the diagnostic line.
    assert.ok(out.maxGapMs < 1000, `the 10 ms interval stalled for ${out.maxGapMs} ms`);
  });
});
