import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, writeFileSync, readFileSync } from 'node:fs';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { tempDir } from '../support/tempdir.js';
import { acquirePidFile, PidFileError } from '../../src/daemon/pidfile.js';
import { DaemonUnderTest, httpConfig } from './daemon-setup.js';

test('a live owner blocks a second daemon; a stale pid file is taken over; release removes it', async (t) => {
  const path = join(tempDir(t, 'lvsk-pid-'), 'lvskeeper.pid');
  const other = spawn('sleep', ['30']);
  try {
    writeFileSync(path, `${other.pid}\n`);
    assert.throws(() => acquirePidFile(path), (e: unknown) => e instanceof PidFileError && /already running \(pid \d+/.test(e.message));
  } finally {
    other.kill('SIGKILL');
    await new Promise((r) => other.once('exit', r));
  }
  const release = acquirePidFile(path);
  assert.equal(readFileSync(path, 'utf8'), `${process.pid}\n`);
  release();
  assert.equal(existsSync(path), false);
});

/** The parent pid of a live process, from /proc. */
function parentOf(pid: number): number {
  return Number(readFileSync(`/proc/${pid}/stat`, 'utf8').replace(/^.*\) /s, '').split(' ')[1]);
}

test('-r/-c pid files hold the pid of the child that runs each subsystem, block a second daemon and go at stop', { timeout: 60_000 }, async (t) => {
  const first = new DaemonUnderTest(t, httpConfig(19470, [[19471, 1]]));
  const vrrpPid = join(first.dir, 'vrrp.pid');
  const checkersPid = join(first.dir, 'checkers.pid');
  const run = first.start(['-C', '-r', vrrpPid, '-c', checkersPid]);
  await run.waitFor(/Removing service \[127\.0\.0\.1\]:tcp:19471/, 15_000);
  const checkerChild = Number(readFileSync(checkersPid, 'utf8'));
  assert.equal(parentOf(checkerChild), first.pid, 'the checker child is the supervisor\'s');
  assert.match(readFileSync(`/proc/${checkerChild}/cmdline`, 'utf8'), /^lvskeeper: checkers/);
  assert.equal(existsSync(vrrpPid), false, '-C runs no VRRP, so no VRRP pid file');

  const second = new DaemonUnderTest(t, httpConfig(19472, [[19473, 1]]));
  const refused = second.start(['-c', checkersPid]);
  assert.equal(await refused.exited, 1);
  assert.ok(refused.lines.some((l) => l.includes(`daemon is already running (pid ${checkerChild} in ${checkersPid})`)), refused.lines.join('\n'));
  assert.equal(readFileSync(checkersPid, 'utf8'), `${checkerChild}\n`);

  assert.equal(await run.stop('SIGTERM'), 0);
  assert.equal(existsSync(checkersPid), false);
});
