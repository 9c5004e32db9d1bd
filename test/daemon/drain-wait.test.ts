// `lvskeeper drain --wait` end to end on the userspace data plane: connections held open through the virtual server
// keep the drained real server's ActiveConn above 0; the command counts down, gives up at --timeout with the count
// left and a non-zero exit, and returns 0 once the last connection is closed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { connect, type Socket } from 'node:net';
import { join } from 'node:path';
import { cli, Running } from './drain-harness.js';
import { DaemonUnderTest, httpConfig, startBackends, untilAllAlive } from './daemon-setup.js';

const VS_PORT = 19700;
const WEB1 = 19701;
const WEB2 = 19702;

/** A client connection through the virtual server that stays open: half a request, which the backend waits on. */
function hold(): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = connect({ host: '127.0.0.1', port: VS_PORT }, () => {
      s.write('GET / HTTP/1.1\r\nHost: x\r\n');
      resolve(s);
    });
    s.once('error', reject);
  });
}

test('drain --wait counts the active connections down, times out with the count left, returns once they are gone', { timeout: 120_000 }, async (t) => {
  await startBackends(t, [WEB1, WEB2]);
  const d = new DaemonUnderTest(t, httpConfig(VS_PORT, [[WEB1, 1], [WEB2, 1]]));
  d.start();
  const socket = join(d.dir, 'control.sock');
  await untilAllAlive(socket, 2);
  // rr: one held connection on each real server.
  const held = [await hold(), await hold()];
  t.after(() => held.forEach((s) => s.destroy()));

  const timedOut = await cli(['drain', `127.0.0.1:${VS_PORT}`, `127.0.0.1:${WEB1}`, '--wait', '--timeout', '2', '--socket', socket]);
  assert.notEqual(timedOut.code, 0, timedOut.stdout);
  assert.match(timedOut.stdout, /^drained \[127\.0\.0\.1\]:tcp:19701 of VS \[127\.0\.0\.1\]:tcp:19700: weight 0/m);
  assert.match(timedOut.stdout, /^1 active connection on \[127\.0\.0\.1\]:tcp:19701 of VS \[127\.0\.0\.1\]:tcp:19700, [12]s left$/m);
  assert.match(timedOut.stderr, /drain --wait timed out after 2s: 1 active connection remain on \[127\.0\.0\.1\]:tcp:19701/);

  // Drained: new connections go to web2 only, and web1's count stays the one held connection.
  const waiting = new Running(['drain', `127.0.0.1:${VS_PORT}`, `127.0.0.1:${WEB1}`, '--wait', '--timeout', '60', '--socket', socket]);
  t.after(() => waiting.stop('SIGKILL'));
  const extra = await hold();
  t.after(() => extra.destroy());
  const first = await waiting.waitFor(/^1 active connection on .*, \d+s left$/, 10_000);
  await waiting.waitFor(/^1 active connection on .*, \d+s left$/, 10_000, first + 1);
  for (const s of held) s.destroy();
  assert.equal(await waiting.exited, 0, waiting.stderr);
  assert.match(waiting.lines.at(-1)!, /^no active connections left on \[127\.0\.0\.1\]:tcp:19701 of VS \[127\.0\.0\.1\]:tcp:19700$/);

  const bad = await cli(['drain', `127.0.0.1:${VS_PORT}`, `127.0.0.1:${WEB1}`, '--wait', '--timeout', 'soon', '--socket', socket]);
  assert.notEqual(bad.code, 0);
  assert.match(bad.stderr, /--timeout must be a whole number of seconds > 0, got 'soon'/);
});
