// The global SSL block: SSL_GET presents its certificate (with the key's password) to a TLS backend that requires a
// client certificate signed by its CA, as keepalived's check_ssl.c build_ssl_ctx loads them; without the block the
// same backend refuses the handshake. Certificates are made with openssl for this run; the server is node's TLS.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer } from 'node:tls';
import { test } from 'node:test';
import { probeHttp } from '../../checkers/http.js';
import { parseConfigText } from '../../src/config/load.js';
import { needCommand } from '../support/tier.js';
import { http } from './model.js';

function makePki(dir: string): void {
  const ssl = (...args: string[]): void => { execFileSync('openssl', args, { cwd: dir, stdio: 'ignore' }); };
  ssl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'ca.key', '-out', 'ca.pem', '-days', '1', '-subj', '/CN=lvsk test CA');
  for (const [name, pass] of [['server', undefined], ['client', 'sekret']] as const) {
    ssl('req', '-newkey', 'rsa:2048', ...(pass ? ['-passout', `pass:${pass}`] : ['-nodes']), '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', `/CN=${name}`);
    ssl('x509', '-req', '-in', `${name}.csr`, '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-out', `${name}.pem`, '-days', '1');
  }
}

test('SSL_GET presents the global SSL certificate to a backend that requires one', async (t) => {
  if (!needCommand(t, 'openssl')) return;
  const dir = mkdtempSync(join(tmpdir(), 'lvsk-sslclient-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  makePki(dir);
  const peers: string[] = [];
  const server = createServer({
    key: readFileSync(join(dir, 'server.key')), cert: readFileSync(join(dir, 'server.pem')), ca: readFileSync(join(dir, 'ca.pem')),
    requestCert: true, rejectUnauthorized: true,
  }, (sock) => {
    peers.push(String(sock.getPeerCertificate().subject?.CN));
    sock.on('error', () => undefined);
    sock.end('HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nok');
  });
  server.on('tlsClientError', () => undefined);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.after(() => server.close());
  const port = (server.address() as { port: number }).port;

  const conf = `SSL {\n ca ${join(dir, 'ca.pem')}\n certificate ${join(dir, 'client.pem')}\n key ${join(dir, 'client.key')}\n password sekret\n}\n`
    + `virtual_server 127.0.0.1 ${port} {\n lb_algo rr\n lb_kind NAT\n protocol TCP\n real_server 127.0.0.1 ${port} {\n  SSL_GET {\n   url {\n    path /\n   }\n  }\n }\n}\n`;
  const { config, diagnostics } = parseConfigText(conf, { file: 'k.conf' });
  assert.deepEqual(diagnostics.map((d) => d.message), [], 'the SSL block runs: nothing named as not implemented');
  const checker = http(port, { type: 'SSL_GET' });

  const withCert = await probeHttp(checker, 0, AbortSignal.timeout(10_000), undefined, config.ssl);
  assert.equal(withCert.ok, true, withCert.detail);
  assert.deepEqual(peers, ['client']);

  const without = await probeHttp(checker, 0, AbortSignal.timeout(10_000));
  assert.equal(without.ok, false, 'no client certificate: the backend refuses');
  assert.deepEqual(peers, ['client']);
});
