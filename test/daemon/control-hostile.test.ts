// The control socket against a hostile local user and a flood of idle clients.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, chownSync, existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { join } from 'node:path';
import { ControlServer, ControlSocketError, type ControlServerOptions } from '../../src/daemon/control.js';
import { silentLogger } from '../../src/log.js';
import { needCommand, needRoot } from '../support/tier.js';
import { tempDir } from '../support/tempdir.js';
import { createUser } from '../support/user.js';

const server = (path: string, opts: ControlServerOptions = {}): ControlServer =>
  new ControlServer(path, { commands: { status: () => ({ up: 1 }) }, subscribe: () => () => undefined }, silentLogger(), opts);

/** The error listen() refuses with; a server that listens anyway is closed and the test fails. */
async function refusal(s: ControlServer): Promise<Error> {
  try {
    await s.listen();
  } catch (err) {
    return err as Error;
  }
  await s.close();
  return assert.fail('the control socket listened');
}

/** One request, one reply line. */
function ask(path: string, line: string): Promise<object> {
  return new Promise((resolve, reject) => {
    const sock = connect(path);
    let buf = '';
    sock.setEncoding('utf8');
    sock.on('error', reject);
    sock.on('data', (chunk: string) => {
      buf += chunk;
      const idx = buf.indexOf('\n');
      if (idx >= 0) {
        sock.destroy();
        resolve(JSON.parse(buf.slice(0, idx)) as object);
      }
    });
    sock.on('connect', () => sock.write(line + '\n'));
  });
}

test('a directory another user owns, or anyone may write, is refused with the reason; a missing one is created 0700', { timeout: 30_000 }, async (t) => {
  if (!needRoot(t) || !needCommand(t, 'useradd', 'passwd')) return;
  const user = createUser(t);
  const base = tempDir(t, 'lvsk-ctlh-');
  const foreign = join(base, 'foreign');
  mkdirSync(foreign);
  chmodSync(foreign, 0o777);
  chownSync(foreign, user.uid, user.gid);
  const owned = await refusal(server(join(foreign, 'control.sock')));
  assert.ok(owned instanceof ControlSocketError);
  assert.equal(owned.message, `control socket ${foreign}/control.sock refused: directory ${foreign} is owned by uid ${user.uid}, not root`);
  assert.equal(existsSync(join(foreign, 'control.sock')), false);
  chownSync(foreign, 0, 0);
  assert.match((await refusal(server(join(foreign, 'control.sock')))).message, /directory .*foreign is writable by group or others \(mode 0777\)/);
  // Sticky is not enough for the socket's own directory.
  chmodSync(foreign, 0o1777);
  assert.match((await refusal(server(join(foreign, 'control.sock')))).message, /writable by group or others \(mode 1777\)/);

  const fresh = join(base, 'run', 'lvskeeper');
  const s = server(join(fresh, 'control.sock'));
  await s.listen();
  t.after(() => s.close());
  assert.equal(statSync(fresh).mode & 0o7777, 0o700);
  assert.deepEqual(await ask(join(fresh, 'control.sock'), '{"cmd":"status"}'), { ok: true, up: 1 });
});

test('a regular file at the socket path is kept and the server refuses to start', { timeout: 30_000 }, async (t) => {
  const path = join(tempDir(t, 'lvsk-ctlh-'), 'control.sock');
  writeFileSync(path, 'important\n');
  const err = await refusal(server(path));
  assert.ok(err instanceof ControlSocketError);
  assert.equal(err.message, `control socket ${path} refused: it exists and is not a socket (not removing it)`);
  assert.equal(readFileSync(path, 'utf8'), 'important\n');
});

test('command names are own properties only: constructor, toString and __proto__ are unknown commands', { timeout: 30_000 }, async (t) => {
  const path = join(tempDir(t, 'lvsk-ctlh-'), 'control.sock');
  const s = server(path);
  await s.listen();
  t.after(() => s.close());
  for (const cmd of ['constructor', 'toString', '__proto__', 'hasOwnProperty']) {
    assert.deepEqual(await ask(path, JSON.stringify({ cmd })), { ok: false, error: `unknown command '${cmd}'` });
  }
});

test('idle connections are capped and closed after the idle timeout; the socket keeps answering', { timeout: 30_000 }, async (t) => {
  const path = join(tempDir(t, 'lvsk-ctlh-'), 'control.sock');
  const s = server(path, { maxConnections: 8, idleTimeoutMs: 500 });
  await s.listen();
  t.after(() => s.close());
  const socks: Socket[] = [];
  const closed: boolean[] = [];
  await Promise.all(
    Array.from({ length: 40 }, (_, i) => new Promise<void>((resolve) => {
      const sock = connect(path, () => resolve());
      sock.on('error', () => undefined);
      sock.on('close', () => (closed[i] = true));
      socks.push(sock);
    })),
  );
  t.after(() => socks.forEach((x) => x.destroy()));
  // Over the cap: closed by the server as they arrive.
  await until(() => closed.filter(Boolean).length >= 32);
  // The rest: closed once idle for the timeout.
  await until(() => closed.filter(Boolean).length === 40);
  assert.deepEqual(await ask(path, '{"cmd":"status"}'), { ok: true, up: 1 });
});

async function until(cond: () => boolean, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 20));
  }
}
