// lvskeeper genhash against keepalived's /usr/bin/genhash on the same URLs: same digest, same output.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { after, describe, test } from 'node:test';
import { promisify } from 'node:util';
import { genhash, hexDump, type GenhashOptions } from '../../src/cli/genhash.js';
import { hasCommand, need, needCommand } from '../support/tier.js';
import { closedPort, httpServer, httpsServer, makeCert, type Running } from './servers.js';

const run = promisify(execFile);
const KEEPALIVED_GENHASH = '/usr/bin/genhash';

const bodies: Record<string, Buffer> = {
  '/empty': Buffer.alloc(0),
  '/text': Buffer.from('hello\n'),
  '/binary': randomBytes(4096),
  '/large': randomBytes(300_000),
};

/** Serves `bodies` with Content-Length; `/close` has none (body ends at close); `/extra` sends bytes past it. */
function serve(sock: import('node:net').Socket, req: string): void {
  const path = /^GET (\S+)/.exec(req)?.[1] ?? '/';
  if (path === '/close') {
    sock.end('HTTP/1.0 200 OK\r\n\r\nno length here');
    return;
  }
  if (path === '/extra') {
    sock.end('HTTP/1.0 200 OK\r\nContent-Length: 5\r\n\r\n12345-beyond');
    return;
  }
  const body = bodies[path] ?? Buffer.from('not found');
  sock.end(Buffer.concat([Buffer.from(`HTTP/1.0 ${bodies[path] ? 200 : 404} X\r\nContent-Length: ${body.length}\r\n\r\n`), body]));
}

async function ours(o: Partial<GenhashOptions> & Pick<GenhashOptions, 'port' | 'url'>): Promise<string> {
  let out = '';
  await genhash({ server: '127.0.0.1', ssl: false, protocol: '1.0', timeoutMs: 3000, verbose: false, ...o }, (s) => (out += s));
  return out;
}

async function theirs(args: string[]): Promise<string> {
  return (await run(KEEPALIVED_GENHASH, ['-s', '127.0.0.1', '-t', '3', ...args])).stdout;
}

describe('genhash parity with keepalived', () => {
  const open: Running[] = [];
  after(async () => {
    await Promise.all(open.map((r) => r.close()));
  });

  test('same digest on several bodies and protocols', async (t) => {
    if (!need(t, existsSync(KEEPALIVED_GENHASH), 'needs keepalived genhash (apt-get install keepalived)')) return;
    const srv = await httpServer(serve);
    open.push(srv);
    for (const url of [...Object.keys(bodies), '/close', '/extra', '/missing']) {
      for (const [flag, protocol] of [['1.0', '1.0'], ['1.0c', '1.0C'], ['1.1', '1.1']] as const) {
        const expected = await theirs(['-p', String(srv.port), '-u', url, '-P', flag]);
        assert.equal(await ours({ port: srv.port, url, protocol }), expected, `${url} -P ${flag}`);
      }
    }
  });

  test('verbose output matches apart from the response time', async (t) => {
    if (!need(t, existsSync(KEEPALIVED_GENHASH), 'needs keepalived genhash (apt-get install keepalived)')) return;
    const srv = await httpServer(serve);
    open.push(srv);
    const strip = (s: string): string => s.replace(/= \d+ usecs/, '= N usecs');
    const expected = strip(await theirs(['-p', String(srv.port), '-u', '/text', '-v']));
    assert.equal(strip(await ours({ port: srv.port, url: '/text', verbose: true })), expected);
  });

  test('SSL (-S) gives the same digest', async (t) => {
    if (!need(t, existsSync(KEEPALIVED_GENHASH), 'needs keepalived genhash (apt-get install keepalived)')) return;
    if (!needCommand(t, 'openssl')) return;
    const srv = await httpsServer(makeCert(), serve);
    open.push(srv);
    const expected = await theirs(['-S', '-p', String(srv.port), '-u', '/binary']);
    assert.match(expected, /^[0-9a-f]{32}\n$/);
    assert.equal(await ours({ port: srv.port, url: '/binary', ssl: true }), expected);
  });

  test('connection failure prints "Connection failed"', async (t) => {
    const port = await closedPort();
    assert.equal(await ours({ port, url: '/' }), 'Connection failed\n');
    if (hasCommand(KEEPALIVED_GENHASH)) assert.equal(await theirs(['-p', String(port), '-u', '/']), 'Connection failed\n');
    else t.diagnostic('keepalived genhash absent: compared with the documented text only');
  });

  test('hexDump layout (offsets in decimal, 8+8 bytes, printable column)', () => {
    assert.equal(hexDump(Buffer.from('hello\n')), '0000  68 65 6c 6c 6f 0a       -                           hello.          \n');
  });
});
