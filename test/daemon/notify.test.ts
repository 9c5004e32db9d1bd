// A quorum_down script that never ends is killed after its timeout; meanwhile the daemon keeps serving and answering.
// At shutdown with omega the notify scripts get keepalived's second, then their group is killed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { requestDaemon } from '../../src/cli/daemon-client.js';
import { Backend, SteadyClient, until } from './drain-harness.js';
import { DaemonUnderTest, httpConfig, httpRealServer } from './daemon-setup.js';
import { processAlive } from '../support/process.js';

test('a hanging quorum_down script is killed and the daemon is unaffected', { timeout: 60_000 }, async (t) => {
  const web = new Backend('web1', 19461);
  await web.start();
  t.after(() => web.stop());
  const d = new DaemonUnderTest(t, '');
  const script = join(d.dir, 'hang.sh');
  const pidFile = join(d.dir, 'hang.pid');
  writeFileSync(script, `#!/bin/sh\necho $$ > ${pidFile}\nexec sleep 600\n`);
  chmodSync(script, 0o755);
  // 19462 never answers: the quorum of 2 is lost after its first failed check.
  d.rewrite(httpConfig(19460, [[19461, 1], [19462, 1]], `    quorum 2\n    quorum_down ${script}`));
  const run = d.start();
  await run.waitFor(/Lost quorum/, 15_000);
  const pid = await until('the script to start', 5_000, () => (existsSync(pidFile) && readFileSync(pidFile, 'utf8').trim() ? Number(readFileSync(pidFile, 'utf8')) : undefined));
  t.after(() => {
    if (processAlive(pid)) process.kill(pid, 'SIGKILL');
  });
  assert.ok(processAlive(pid));
  const client = new SteadyClient(19460);
  client.start();
  const status = await requestDaemon(join(d.dir, 'control.sock'), { cmd: 'status' });
  assert.equal(status['ok'], true);
  await run.waitFor(/Script .*hang\.sh timed out after 10 s: killed/, 15_000);
  await client.pause();
  await until('the script process to be gone', 5_000, () => (processAlive(pid) ? undefined : true));
  assert.deepEqual(client.failures(), []);
  assert.ok(client.answers.length > 10);
  assert.ok(client.answers.every((a) => a.backend === 'web1'));
  assert.equal(await run.stop(), 0);
});

test('omega at shutdown: notify_down and quorum_down run, each given a second before its group is killed (ipwrapper.c, child_killed_thread)', { timeout: 60_000 }, async (t) => {
  const web = new Backend('web1', 19463);
  await web.start();
  t.after(() => web.stop());
  const d = new DaemonUnderTest(t, '');
  const quick = join(d.dir, 'quick.sh');
  const slow = join(d.dir, 'slow.sh');
  const quickMark = join(d.dir, 'quick.mark');
  const slowPid = join(d.dir, 'slow.pid');
  const slowMark = join(d.dir, 'slow.mark');
  writeFileSync(quick, `#!/bin/sh\necho "$@" > ${quickMark}\n`);
  writeFileSync(slow, `#!/bin/sh\necho $$ > ${slowPid}\nsleep 3\necho late > ${slowMark}\n`);
  chmodSync(quick, 0o755);
  chmodSync(slow, 0o755);
  const servers = httpRealServer(19463, 1, { extra: `        notify_down "${quick} down"\n` });
  d.rewrite(httpConfig(19464, [], `    omega\n    quorum_down ${slow}\n${servers}`));
  const run = d.start();
  await run.waitFor(/Gained quorum .* for VS \[127\.0\.0\.1\]:tcp:19464/, 15_000);
  assert.equal(await run.stop(), 0);
  assert.equal(readFileSync(quickMark, 'utf8'), 'down\n', 'the quick script ran to its end');
  const pid = Number(readFileSync(slowPid, 'utf8'));
  assert.equal(processAlive(pid), false, 'the slow one was killed with the checker process\'s stop');
  await new Promise((r) => setTimeout(r, 3000));
  assert.equal(existsSync(slowMark), false);
});
