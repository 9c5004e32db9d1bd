import { test } from 'node:test';
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from '../support/tempdir.js';
import { ControlServer, CommandError } from '../../src/daemon/control.js';
import { bigintAsString, LazyArray } from '../../src/daemon/json-stream.js';
import { silentLogger } from '../../src/log.js';

function exchange(path: string, lines: string[], replies: number): Promise<object[]> {
  return new Promise((resolve, reject) => {
    const sock = connect(path);
    const got: object[] = [];
    let buf = '';
    sock.setEncoding('utf8');
    sock.on('error', reject);
    sock.on('data', (chunk: string) => {
      buf += chunk;
      let idx: number;
      while ((idx = buf.indexOf('\n')) >= 0) {
        got.push(JSON.parse(buf.slice(0, idx)) as object);
        buf = buf.slice(idx + 1);
        if (got.length === replies) {
          sock.destroy();
          resolve(got);
        }
      }
    });
    sock.on('connect', () => sock.write(lines.join('\n') + '\n'));
  });
}

test('commands reply with ok/error lines; bigints become strings; the socket is 0600', async (t) => {
  const path = join(tempDir(t, 'lvsk-ctl-'), 'control.sock');
  const server = new ControlServer(
    path,
    {
      commands: {
        status: () => ({ conns: 12n }),
        drain: (req) => {
          throw new CommandError(`unknown virtual server '${String(req['vs'])}'`);
        },
      },
      subscribe: () => () => undefined,
    },
    silentLogger(),
  );
  await server.listen();
  try {
    assert.equal(statSync(path).mode & 0o777, 0o600);
    const replies = await exchange(path, ['{"cmd":"status"}', 'not json', '{"cmd":"drain","vs":"x"}', '{"cmd":"nope"}'], 4);
    assert.deepEqual(replies[0], { ok: true, conns: '12' });
    assert.equal((replies[1] as { ok: boolean }).ok, false);
    assert.match((replies[1] as { error: string }).error, /^bad request/);
    assert.deepEqual(replies[2], { ok: false, error: "unknown virtual server 'x'" });
    assert.deepEqual(replies[3], { ok: false, error: "unknown command 'nope'" });
  } finally {
    await server.close();
  }
});

test('events streams every published event to each subscriber until it disconnects', async (t) => {
  const path = join(tempDir(t, 'lvsk-ctl-'), 'control.sock');
  const subscribers = new Set<(e: object) => void>();
  const server = new ControlServer(
    path,
    {
      commands: {},
      subscribe: (send) => {
        subscribers.add(send);
        return () => subscribers.delete(send);
      },
    },
    silentLogger(),
  );
  await server.listen();
  try {
    const sock = connect(path);
    sock.setEncoding('utf8');
    const lines: string[] = [];
    let buf = '';
    const done = new Promise<void>((resolve) =>
      sock.on('data', (chunk: string) => {
        buf += chunk;
        let idx: number;
        while ((idx = buf.indexOf('\n')) >= 0) {
          lines.push(buf.slice(0, idx));
          buf = buf.slice(idx + 1);
          if (lines.length === 1) for (const s of subscribers) s({ text: 'Removing service [192.0.2.22]:tcp:80 from VS [192.0.2.10]:tcp:80' });
          if (lines.length === 2) resolve();
        }
      }),
    );
    sock.write('{"cmd":"events"}\n');
    await done;
    assert.deepEqual(JSON.parse(lines[0]!), { ok: true, streaming: true });
    assert.equal((JSON.parse(lines[1]!) as { text: string }).text, 'Removing service [192.0.2.22]:tcp:80 from VS [192.0.2.10]:tcp:80');
    sock.destroy();
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(subscribers.size, 0);
  } finally {
    await server.close();
  }
});

test('a long reply is written as its list arrives; one whose list fails midway is cut short, never a line that looks whole', async (t) => {
  const path = join(tempDir(t, 'lvsk-ctl-'), 'control.sock');
  const rows = Array.from({ length: 5000 }, (_, i) => ({ rs: `rs-${i}`, weight: i, bytes: BigInt(i) }));
  const batches = (fail: boolean) => new LazyArray(async function* () {
    for (let i = 0; i < rows.length; i += 500) {
      if (fail && i === 2500) throw new Error('the checker process stopped answering');
      yield rows.slice(i, i + 500);
    }
  });
  const server = new ControlServer(path, {
    commands: { whole: () => ({ table: { services: batches(false) } }), broken: () => ({ table: { services: batches(true) } }) },
    subscribe: () => () => undefined,
  }, silentLogger());
  await server.listen();
  t.after(() => server.close());
  const [whole] = await exchange(path, ['{"cmd":"whole"}'], 1);
  assert.deepEqual(whole, JSON.parse(JSON.stringify({ ok: true, table: { services: rows } }, bigintAsString)));

  const raw = await new Promise<string>((resolve, reject) => {
    const sock = connect(path);
    let buf = '';
    sock.setEncoding('utf8');
    sock.on('error', reject);
    sock.on('data', (c: string) => (buf += c));
    sock.on('close', () => resolve(buf));
    sock.on('connect', () => sock.write('{"cmd":"broken"}\n'));
  });
  assert.ok(raw.startsWith('{"ok":true,"table":{"services":[{"rs":"rs-0"'), raw.slice(0, 80));
  assert.ok(!raw.includes('\n'), 'the cut reply ended as a whole line');
  assert.throws(() => JSON.parse(raw));
});
