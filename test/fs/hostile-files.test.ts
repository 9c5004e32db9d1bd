// Files root writes where another local user has a hand: the dumps in /tmp, the state file, pid files. Each attack
// is planted by (or for) an unprivileged user the test creates; the victim is a root-owned file that must not change.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, chownSync, closeSync, existsSync, lstatSync, mkdirSync, openSync, readdirSync, readFileSync, readSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { UnsafePathError, writeFileSafe, writeFileSafeFrom } from '../../src/fs/safe-write.js';
import { DATA_DUMP_FILE, JSON_DUMP_FILE, STATS_DUMP_FILE, writeDumpFile } from '../../src/daemon/dumps.js';
import { OverrideStore } from '../../src/daemon/overrides.js';
import { acquirePidFile, PidFileError } from '../../src/daemon/pidfile.js';
import { needCommand, needRoot } from '../support/tier.js';
import { tempDir } from '../support/tempdir.js';
import { createUser } from '../support/user.js';

const DUMPS: ['data' | 'stats' | 'json', string][] = [
  ['data', DATA_DUMP_FILE],
  ['stats', STATS_DUMP_FILE],
  ['json', JSON_DUMP_FILE],
];

/** A root-owned file the attacks aim at. */
function victim(dir: string): { path: string; text: string } {
  const path = join(dir, 'victim');
  const text = 'root:x:0:0:root:/root:/bin/bash\n';
  writeFileSync(path, text, { mode: 0o644 });
  return { path, text };
}

/** Clears `path` now and when the test ends (the dump paths are the real ones in /tmp). */
function planted(t: { after: (f: () => void) => void }, path: string): void {
  rmSync(path, { force: true });
  t.after(() => rmSync(path, { force: true }));
}

test('dumps: a symbolic link at each dump path is refused with the reason, and its target is untouched', async (t) => {
  const v = victim(tempDir(t, 'lvsk-hostile-'));
  for (const [kind, path] of DUMPS) {
    planted(t, path);
    symlinkSync(v.path, path);
    await assert.rejects(writeDumpFile(kind, [`${kind} dump\n`]), (e: unknown) => e instanceof UnsafePathError && e.message === `${path} is a symbolic link (not followed; remove it)`);
    assert.equal(readFileSync(v.path, 'utf8'), v.text, `${kind}: the link was followed`);
    assert.ok(lstatSync(path).isSymbolicLink());
    rmSync(path);
  }
});

test('dumps: a world-writable file another user planted is replaced by a new root-owned 0600 file it cannot read', async (t) => {
  if (!needRoot(t) || !needCommand(t, 'useradd', 'passwd')) return;
  const user = createUser(t);
  for (const [kind, path] of DUMPS) {
    planted(t, path);
    writeFileSync(path, 'planted\n');
    chmodSync(path, 0o666);
    chownSync(path, user.uid, user.gid);
    // The planter keeps the file open, waiting to read what root writes into it.
    const held = openSync(path, 'r');
    try {
      assert.equal(await writeDumpFile(kind, [`secret ${kind} dump\n`]), path);
      const st = lstatSync(path);
      assert.ok(st.isFile());
      assert.equal(st.uid, 0);
      assert.equal(st.mode & 0o7777, 0o600);
      assert.equal(readFileSync(path, 'utf8'), `secret ${kind} dump\n`);
      const buf = Buffer.alloc(100);
      assert.equal(buf.subarray(0, readSync(held, buf, 0, 100, 0)).toString(), 'planted\n', `${kind}: the planted file received the dump`);
    } finally {
      closeSync(held);
    }
  }
});

test('writes are refused in a directory others can change, and nothing is left behind', (t) => {
  const dir = tempDir(t, 'lvsk-hostile-');
  const open = join(dir, 'open');
  mkdirSync(open);
  chmodSync(open, 0o777);
  assert.throws(() => writeFileSafe(join(open, 'f'), 'x'), (e: unknown) => e instanceof UnsafePathError && /directory .*\/open is writable by group or others \(mode 0777\)/.test(e.message));
  assert.equal(existsSync(join(open, 'f')), false);
  // A FIFO or a directory at the path is refused, not replaced.
  const fifo = join(dir, 'fifo');
  assert.equal(spawnSync('mkfifo', [fifo]).status, 0);
  assert.throws(() => writeFileSafe(fifo, 'x'), (e: unknown) => e instanceof UnsafePathError && e.message === `${fifo} exists and is not a regular file`);
  assert.ok(lstatSync(fifo).isFIFO());
  assert.throws(() => writeFileSafe(open, 'x'), UnsafePathError);
  assert.deepEqual(readdirSync(dir).sort(), ['fifo', 'open']);
});

test('a file written in parts appears whole at the end; one whose parts fail leaves the old file and no temporary name', async (t) => {
  const dir = tempDir(t, 'lvsk-hostile-');
  const path = join(dir, 'dump');
  const parts = Array.from({ length: 300 }, (_, i) => `part ${i} ${'x'.repeat(40_000)}\n`);
  let seenMidway: string | undefined;
  await writeFileSafeFrom(path, (async function* () {
    for (const [i, p] of parts.entries()) {
      if (i === 150) seenMidway = existsSync(path) ? readFileSync(path, 'utf8') : 'absent';
      yield p;
    }
  })(), { mode: 0o640 });
  assert.equal(seenMidway, 'absent', 'the file was visible before its last part');
  assert.equal(readFileSync(path, 'utf8'), parts.join(''));
  assert.equal(lstatSync(path).mode & 0o7777, 0o640);

  await assert.rejects(writeFileSafeFrom(path, (async function* () {
    yield 'new start\n';
    throw new Error('the source failed');
  })()), /the source failed/);
  assert.equal(readFileSync(path, 'utf8'), parts.join(''));
  assert.deepEqual(readdirSync(dir), ['dump']);
});

test('state file: a link at the state file is neither read nor written through, and the log quotes none of its bytes', (t) => {
  const dir = tempDir(t, 'lvsk-hostile-');
  const v = victim(dir);
  const path = join(dir, 'state', 'overrides.json');
  mkdirSync(join(dir, 'state'), { mode: 0o700 });
  symlinkSync(v.path, path);
  const store = new OverrideStore(path);
  assert.deepEqual(store.loadErrors, [`state file refused: ${path} is a symbolic link (not followed); starting without overrides`]);
  assert.throws(() => store.set({ vs: 'vs', rs: 'rs' }, { kind: 'drain' }), UnsafePathError);
  assert.equal(readFileSync(v.path, 'utf8'), v.text);
  assert.ok(lstatSync(path).isSymbolicLink());
});

test('state file: links planted at temporary names are never used; the new file is root-owned 0600', (t) => {
  const dir = tempDir(t, 'lvsk-hostile-');
  const v = victim(dir);
  const path = join(dir, 'overrides.json');
  // The names the old write-then-rename used, and a few neighbours.
  for (const pid of [process.pid, process.pid + 1]) symlinkSync(v.path, `${path}.${pid}.tmp`);
  const store = new OverrideStore(path);
  store.set({ vs: 'vs', rs: 'rs' }, { kind: 'drain' });
  assert.equal(readFileSync(v.path, 'utf8'), v.text);
  const st = lstatSync(path);
  assert.equal(st.mode & 0o7777, 0o600);
  assert.equal(st.uid, process.geteuid!());
  assert.deepEqual(new OverrideStore(path).list().map((e) => e.override), [{ kind: 'drain' }]);
});

test('state file: one another user owns or can write is refused; a corrupt one is set aside without quoting it', (t) => {
  if (!needRoot(t) || !needCommand(t, 'useradd', 'passwd')) return;
  const user = createUser(t);
  const dir = tempDir(t, 'lvsk-hostile-');
  const path = join(dir, 'overrides.json');
  const forged = JSON.stringify({ version: 1, overrides: [{ vs: 'vs', rs: 'rs', override: { kind: 'drain' }, since: '' }] });
  writeFileSync(path, forged);
  chownSync(path, user.uid, user.gid);
  const foreign = new OverrideStore(path);
  assert.deepEqual(foreign.list(), []);
  assert.deepEqual(foreign.loadErrors, [`state file refused: ${path} is owned by uid ${user.uid}, not root; starting without overrides`]);
  chownSync(path, 0, 0);
  chmodSync(path, 0o666);
  assert.match(new OverrideStore(path).loadErrors[0]!, /is writable by group or others \(mode 0666\)/);
  chmodSync(path, 0o600);
  writeFileSync(path, 'root:SECRET-BYTES:0:0\n');
  const corrupt = new OverrideStore(path);
  assert.deepEqual(corrupt.loadErrors, [`state file ${path} is unreadable (not valid JSON); moved to ${path}.corrupt, starting without overrides`]);
  assert.doesNotMatch(corrupt.loadErrors.join('\n'), /SECRET/);
});

test('pid file: a link is refused, never followed, and its target is untouched', (t) => {
  const dir = tempDir(t, 'lvsk-hostile-');
  const v = victim(dir);
  const path = join(dir, 'lvskeeper.pid');
  symlinkSync(v.path, path);
  assert.throws(() => acquirePidFile(path), (e: unknown) => e instanceof PidFileError && e.message === `cannot create pid file: ${path} is a symbolic link (not followed; remove it)`);
  assert.equal(readFileSync(v.path, 'utf8'), v.text);
  rmSync(path);
  const release = acquirePidFile(path);
  const st = lstatSync(path);
  assert.equal(st.mode & 0o7777, 0o644);
  assert.equal(readFileSync(path, 'utf8'), `${process.pid}\n`);
  release();
  assert.equal(existsSync(path), false);
});
