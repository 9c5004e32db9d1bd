import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, writeFileSync, readFileSync } from 'node:fs';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { tempDir } from '../support/tempdir.js';
import { acquirePidFile, PidFileError } from '../../src/daemon/pidfile.js';

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
