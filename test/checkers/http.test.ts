import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before, describe, test, type TestContext } from 'node:test';
import { probeHttp } from '../../checkers/http.js';
import { hasCommand, needCommand } from '../support/tier.js';
import { http, url } from './model.js';
import { closedPort, httpServer, httpsServer, makeCert, rawServer, respond, silentServer, type Running } from './servers.js';

const md5 = (s: string): string => createHash('md5').update(s).digest('hex');
const signal = (): AbortSignal => AbortSignal.timeout(10_000);

describe('HTTP_GET probe against loopback servers', () => {
  const open: Running[] = [];
  const start = async (p: Promise<Running>): Promise<Running> => {
    const r = await p;
    open.push(r);
    return r;
  };
  after(async () => {
    await Promise.all(open.map((r) => r.close()));
  });

  test('sends keepalived request bytes for 1.0, 1.0C and 1.1', async () => {
    const srv = await start(httpServer(respond(200, 'ok')));
    await probeHttp(http(srv.port, { urls: [url('/a')] }), 0, signal());
    await probeHttp(http(srv.port, { urls: [url('/b')], httpProtocol: '1.0C' }), 0, signal());
    await probeHttp(http(srv.port, { urls: [url('/c', { virtualhost: 'u.example' })], httpProtocol: '1.1', virtualhost: 'c.example' }), 0, signal());
    assert.deepEqual(srv.seen, [
      `GET /a HTTP/1.0\r\nUser-Agent: KeepAliveClient\r\nHost: 127.0.0.1:${srv.port}\r\n\r\n`,
      `GET /b HTTP/1.0\r\nUser-Agent: KeepAliveClient\r\nConnection: close\r\nHost: 127.0.0.1:${srv.port}\r\n\r\n`,
      'GET /c HTTP/1.1\r\nUser-Agent: KeepAliveClient\r\nConnection: close\r\nHost: u.example\r\n\r\n',
    ]);
  });

  test('a reply in pieces, read apart (the head cut inside its blank line): status, Content-Length, digest and regex hold', async () => {
    const pieces = ['HTTP/1.0 2', '00 OK\r\nContent-Le', 'ngth: 5\r\n\r', '\nhel', 'loEXTRA'];
    const srv = await start(httpServer((sock) => {
      sock.setNoDelay(true);
      let k = 0;
      const next = (): void => {
        if (k === pieces.length) return void sock.end();
        sock.write(pieces[k++]!);
        setTimeout(next, 30);
      };
      next();
    }));
    const digest = await probeHttp(http(srv.port, { urls: [url('/d', { digest: md5('hello') })] }), 0, signal());
    assert.deepEqual(digest, { ok: true, detail: `MD5 digest success to [127.0.0.1]:tcp:${srv.port} url(/d)` });
    const regex = await probeHttp(http(srv.port, { urls: [url('/r', { regex: '^hello$' })] }), 0, signal());
    assert.deepEqual(regex, { ok: true, detail: `Regex match success to [127.0.0.1]:tcp:${srv.port} url(/r)` });
  });

  test('status in the configured ranges passes; 503 and redirects fail (redirects are not followed)', async () => {
    const ok = await start(httpServer(respond(204, '')));
    const bad = await start(httpServer(respond(503, 'down')));
    const redirect = await start(httpServer(respond(301, '', 'Location: /elsewhere\r\n')));
    assert.equal((await probeHttp(http(ok.port), 0, signal())).ok, true);
    const r = await probeHttp(http(bad.port), 0, signal());
    assert.equal(r.ok, false);
    assert.equal(r.detail, `HTTP status code error to [127.0.0.1]:tcp:${bad.port} url(/), status_code [503].`);
    assert.equal((await probeHttp(http(redirect.port), 0, signal())).ok, false);
    assert.equal(redirect.seen.length, 1);
    const ranged = http(bad.port, { urls: [url('/', { statusCodes: [[200, 200], [500, 503]] })] });
    assert.equal((await probeHttp(ranged, 0, signal())).ok, true);
  });

  test('digest is the MD5 of the body only, capped at Content-Length', async () => {
    const body = 'hello digest';
    const srv = await start(
      httpServer((sock) => sock.end(`HTTP/1.0 200 OK\r\nContent-Length: ${body.length}\r\n\r\n${body}TRAILING-GARBAGE`)),
    );
    const good = await probeHttp(http(srv.port, { urls: [url('/', { digest: md5(body) })] }), 0, signal());
    assert.equal(good.ok, true, good.detail);
    assert.match(good.detail, /^MD5 digest success to/);
    const wrong = await probeHttp(http(srv.port, { urls: [url('/', { digest: md5('other') })] }), 0, signal());
    assert.equal(wrong.ok, false);
    assert.equal(wrong.detail, `MD5 digest error to [127.0.0.1]:tcp:${srv.port} url(/), MD5SUM [${md5(body)}].`);
  });

  test('regex and regex_no_match', async () => {
    const srv = await start(httpServer(respond(200, 'status: HEALTHY\n')));
    assert.equal((await probeHttp(http(srv.port, { urls: [url('/', { regex: 'HEALTHY' })] }), 0, signal())).ok, true);
    assert.equal((await probeHttp(http(srv.port, { urls: [url('/', { regex: 'healthy' })] }), 0, signal())).ok, false);
    assert.equal((await probeHttp(http(srv.port, { urls: [url('/', { regex: 'healthy', regexOptions: 'caseless' })] }), 0, signal())).ok, true);
    assert.equal((await probeHttp(http(srv.port, { urls: [url('/', { regex: 'HEALTHY', regexNoMatch: true })] }), 0, signal())).ok, false);
  });

  test('regex_min_offset and regex_max_offset bound where the match is searched', async () => {
    // 'HEALTHY' spans body offsets 8..14.
    const srv = await start(httpServer(respond(200, 'status: HEALTHY\n')));
    const probe = async (regexMinOffset: number | undefined, regexMaxOffset: number | undefined): Promise<boolean> =>
      (await probeHttp(http(srv.port, { urls: [url('/', { regex: 'HEALTHY', ...(regexMinOffset !== undefined ? { regexMinOffset } : {}), ...(regexMaxOffset !== undefined ? { regexMaxOffset } : {}) })] }), 0, signal())).ok;
    assert.equal(await probe(8, undefined), true);
    assert.equal(await probe(9, undefined), false);
    assert.equal(await probe(undefined, 15), true);
    assert.equal(await probe(undefined, 14), false);
  });

  test('a connection reset in the middle of the body fails a digest check; a status_code check needs only the head', async () => {
    const srv = await start(
      httpServer((sock) => {
        sock.write('HTTP/1.0 200 OK\r\nContent-Length: 1000\r\n\r\npartial');
        setTimeout(() => sock.resetAndDestroy(), 20);
      }),
    );
    const r = await probeHttp(http(srv.port, { urls: [url('/', { digest: md5('x') })] }), 0, signal());
    assert.equal(r.ok, false);
    assert.match(r.detail, /^Error reading data from server/);
    assert.deepEqual(await probeHttp(http(srv.port), 0, signal()), { ok: true, detail: `HTTP status code success to [127.0.0.1]:tcp:${srv.port} url(/)` });
  });

  test('refused and timeout', async () => {
    const port = await closedPort();
    const refused = await probeHttp(http(port), 0, signal());
    assert.equal(refused.detail, `Error connecting server [127.0.0.1]:tcp:${port}.`);
    const hung = await start(silentServer());
    const timeout = await probeHttp(http(hung.port, { connectTimeoutMs: 200 }), 0, signal());
    assert.equal(timeout.ok, false);
    // The connect completes (the listen backlog takes it); no reply follows.
    assert.equal(timeout.detail, `Timeout WEB read server [127.0.0.1]:tcp:${hung.port}.`);
  });

  describe('SSL_GET', () => {
    let cert: ReturnType<typeof makeCert> | undefined;
    before(() => {
      if (hasCommand('openssl')) cert = makeCert();
    });
    const needCert = (t: TestContext): typeof cert => (needCommand(t, 'openssl') ? cert : undefined);

    test('succeeds without verifying a self-signed peer, and sends sni_name', async (t) => {
      const cert = needCert(t);
      if (!cert) return;
      const sni: string[] = [];
      const srv = await start(httpsServer(cert, respond(200, 'secure'), sni));
      const c = http(srv.port, { type: 'SSL_GET', enableSni: true, sniName: 'sni.example', urls: [url('/', { digest: md5('secure') })] });
      const r = await probeHttp(c, 0, signal());
      assert.equal(r.ok, true, r.detail);
      assert.deepEqual(sni, ['sni.example']);
    });

    test('a TLS handshake failure fails the check', async (t) => {
      const cert = needCert(t);
      if (!cert) return;
      // A server that answers the ClientHello with plain text: the handshake cannot complete.
      const plain = await start(rawServer((sock) => sock.end('HTTP/1.0 400 Bad Request\r\n\r\n')));
      const r = await probeHttp(http(plain.port, { type: 'SSL_GET' }), 0, signal());
      assert.equal(r.ok, false);
      assert.match(r.detail, /^Error reading data from server/);
    });
  });
});
