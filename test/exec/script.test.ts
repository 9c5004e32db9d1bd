// runScript through spawnScript (src/exec/spawn.ts, the lvsk_spawn addon's clone(CLONE_VM | CLONE_VFORK)): what a
// script sees — its session and process group, /dev/null stdio, default signals, environment, uid/gid/groups — and
// what runScript reports — exit status, signal, spawn errors, timeouts that kill the whole process group.
import assert from 'node:assert/strict';
import { ChildProcess, spawnSync } from 'node:child_process';
import { chmodSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import type { Script } from '../../src/config/model.js';
import { runScript } from '../../src/exec/script.js';
import { spawnScript } from '../../src/exec/spawn.js';
import { markedLeftOver } from '../support/process.js';
import { tempDir } from '../support/tempdir.js';
import { needRoot, repoRoot } from '../support/tier.js';

const asScript = (argv: string[], user?: string, group?: string): Script => ({
  argv, text: argv.join(' '), ...(user !== undefined ? { user } : {}), ...(group !== undefined ? { group } : {}),
});

/** An executable file in a directory every user may write to (scripts run as nobody write their findings there). */
function scriptFile(t: TestContext, body: string, mode = 0o755): { dir: string; path: string } {
  const dir = tempDir(t, 'lvsk-exec-');
  chmodSync(dir, 0o777);
  const path = join(dir, 'script');
  writeFileSync(path, body);
  chmodSync(path, mode);
  return { dir, path };
}

/** The fields of a /proc/PID/status dump. */
const statusField = (text: string, name: string): string => new RegExp(`^${name}:[ \\t]*(.*)$`, 'm').exec(text)?.[1] ?? '';

test('this kernel has pidfd_open, so scripts start through the addon, not child_process', () => {
  const child = spawnScript('/bin/true', [], { env: process.env });
  assert.ok(!(child instanceof ChildProcess));
  assert.equal(typeof child.pid, 'number');
});

test('exit status, a bare name found in PATH, and a file without #! run by /bin/sh as execvp does', async (t) => {
  assert.deepEqual(await runScript(asScript(['/bin/sh', '-c', 'exit 3'])), { code: 3, timedOut: false });
  assert.deepEqual(await runScript(asScript(['true'])), { code: 0, timedOut: false });
  const { path } = scriptFile(t, 'exit 5\n');
  assert.deepEqual(await runScript(asScript([path])), { code: 5, timedOut: false });
});

test('a script killed by a signal reports its name and no code', async () => {
  assert.deepEqual(await runScript(asScript(['/bin/sh', '-c', 'kill -USR1 $$'])), { signal: 'SIGUSR1', timedOut: false });
  assert.deepEqual(await runScript(asScript(['/bin/sh', '-c', 'kill -ABRT $$'])), { signal: 'SIGABRT', timedOut: false });
});

test('a script that cannot start reports the errno: ENOENT, EACCES', async (t) => {
  assert.deepEqual(await runScript(asScript(['/nonexistent/lvsk-script'])), { timedOut: false, spawnError: 'ENOENT' });
  assert.deepEqual(await runScript(asScript(['lvsk-no-such-command'])), { timedOut: false, spawnError: 'ENOENT' });
  const { path } = scriptFile(t, '#!/bin/sh\nexit 0\n', 0o644);
  assert.deepEqual(await runScript(asScript([path])), { timedOut: false, spawnError: 'EACCES' });
  if (!needRoot(t)) return;
  // Executable by its owner (root) only: as nobody the exec itself is refused.
  const own = scriptFile(t, '#!/bin/sh\nexit 0\n', 0o700);
  assert.deepEqual(await runScript(asScript([own.path], 'nobody')), { timedOut: false, spawnError: 'EACCES' });
});

test('a user switch the process may not make reports EPERM (setgid/setuid refused)', (t) => {
  if (!needRoot(t)) return;
  // A process running as nobody asks for a script as root.
  const code = `import { runScript } from ${JSON.stringify(join(repoRoot, 'dist/src/exec/script.js'))};
    console.log(JSON.stringify(await runScript({ argv: ['/bin/true'], text: 'true', user: 'root' })));`;
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', code], { uid: 65534, gid: 65534, encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  assert.deepEqual(JSON.parse(r.stdout), { timedOut: false, spawnError: 'EPERM' });
});

test('a script runs as its user and group, with no other supplementary group', async (t) => {
  if (!needRoot(t)) return;
  const { dir, path } = scriptFile(t, '#!/bin/sh\nexec cat /proc/self/status > "$1"\n');
  const seen = (name: string): string => readFileSync(join(dir, name), 'utf8');
  assert.deepEqual(await runScript(asScript([path, join(dir, 'nobody')], 'nobody')), { code: 0, timedOut: false });
  assert.equal(statusField(seen('nobody'), 'Uid'), '65534\t65534\t65534\t65534');
  assert.equal(statusField(seen('nobody'), 'Gid'), '65534\t65534\t65534\t65534');
  assert.equal(statusField(seen('nobody'), 'Groups'), '');
  // root with group daemon (1): root's own supplementary groups are dropped.
  assert.deepEqual(await runScript(asScript([path, join(dir, 'daemon')], 'root', 'daemon')), { code: 0, timedOut: false });
  assert.equal(statusField(seen('daemon'), 'Uid'), '0\t0\t0\t0');
  assert.equal(statusField(seen('daemon'), 'Gid'), '1\t1\t1\t1');
  assert.equal(statusField(seen('daemon'), 'Groups'), '');
  // Unchanged when no user is named.
  assert.deepEqual(await runScript(asScript([path, join(dir, 'self')])), { code: 0, timedOut: false });
  assert.equal(statusField(seen('self'), 'Uid').split('\t')[0], String(process.getuid!()));
});

test('a script leads its own session and process group, with /dev/null stdio, default signals and the cleaned environment', async (t) => {
  const { dir, path } = scriptFile(t, [
    '#!/bin/sh',
    // Read before any redirection of this shell's own: dash redirects its own fds around an external command.
    'fds=$(readlink /proc/$$/fd/0 /proc/$$/fd/1 /proc/$$/fd/2)',
    'echo "$fds" > "$1/fds"',
    'cat /proc/$$/stat > "$1/stat"',
    'env > "$1/env"',
    'exec cat /proc/self/status > "$1/status"',
  ].join('\n'));
  process.env['IFS'] = ' ';
  process.env['LD_LIBRARY_PATH'] = '/nonexistent';
  t.after(() => {
    delete process.env['IFS'];
    delete process.env['LD_LIBRARY_PATH'];
  });
  let pid: number | undefined;
  assert.deepEqual(await runScript(asScript([path, dir]), { onSpawn: (p) => (pid = p) }), { code: 0, timedOut: false });
  const read = (name: string): string => readFileSync(join(dir, name), 'utf8');
  assert.deepEqual(read('fds').trim().split('\n'), ['/dev/null', '/dev/null', '/dev/null']);
  // /proc/PID/stat after the command's ')': state ppid pgrp session …
  const [, ppid, pgrp, session] = read('stat').slice(read('stat').lastIndexOf(')') + 2).split(' ');
  assert.equal(Number(ppid), process.pid);
  assert.equal(Number(pgrp), pid);
  assert.equal(Number(session), pid);
  // Node ignores SIGPIPE; the script starts with nothing ignored and nothing blocked.
  assert.equal(statusField(read('status'), 'SigIgn'), '0000000000000000');
  assert.equal(statusField(read('status'), 'SigBlk'), '0000000000000000');
  const env = read('env').split('\n');
  assert.ok(!env.some((l) => l.startsWith('IFS=') || l.startsWith('LD_LIBRARY_PATH=')), env.join('\n'));
  assert.ok(env.includes(`PATH=${process.env['PATH']}`));
});

test('a timeout sends SIGTERM then SIGKILL to the whole process group', async (t) => {
  const marker = `${1000 + process.pid}.781`;
  const { path } = scriptFile(t, `#!/bin/sh\nsleep ${marker} &\ntrap '' TERM\nwhile :; do sleep 1; done\n`);
  const r = await runScript(asScript([path]), { timeoutMs: 300, killGraceMs: 200 });
  assert.deepEqual(r, { signal: 'SIGKILL', timedOut: true });
  assert.deepEqual(await markedLeftOver(marker), [], 'the background child outlived the timed-out script');
});

test('a script that exits on SIGTERM at its timeout reports the signal and the timeout', async () => {
  assert.deepEqual(await runScript(asScript(['/bin/sh', '-c', 'exec sleep 30']), { timeoutMs: 200 }),
    { signal: 'SIGTERM', timedOut: true });
});
