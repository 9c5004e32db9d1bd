// `lvskeeper -t` / `--dump-conf` as a user runs them: the built CLI in a child process, on hostile input.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { repoRoot } from '../support/tier.js';

const cli = join(repoRoot, 'dist/bin/lvskeeper.js');

function run(args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8', timeout: 60_000, maxBuffer: 64 * 1024 * 1024 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

function withDir(fn: (dir: string) => void): void {
  const dir = mkdtempSync(join(tmpdir(), 'lvskp-cli-'));
  try {
    fn(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const noStack = (s: string): void => assert.doesNotMatch(s, /\n\s+at .+:\d+:\d+\)?\n/);

test('-t on a clean config exits 0 and prints nothing', () => {
  withDir((dir) => {
    const f = join(dir, 'k.conf');
    writeFileSync(f, 'global_defs {\n router_id a\n}\n');
    const r = run(['-t', '-f', f]);
    assert.deepEqual([r.status, r.stderr, r.stdout], [0, '', '']);
  });
});

test('-t prints FILE:LINE: message and exits 5 for errors it would correct', () => {
  withDir((dir) => {
    const f = join(dir, 'k.conf');
    writeFileSync(f, 'global_defs {\n router_id a\n bogus 1\n}\n');
    const r = run(['--config-test', '--use-file', f]);
    assert.equal(r.status, 5);
    assert.equal(r.stderr, `${f}:3: Unknown keyword 'bogus'\n`);
  });
});

test('a binary file, a 10 MB line and unbalanced braces give messages, never a stack trace', () => {
  withDir((dir) => {
    const bin = join(dir, 'bin.conf');
    const bytes = Buffer.alloc(64 * 1024);
    for (let i = 0; i < bytes.length; i++) bytes[i] = (i * 2654435761) >>> 24;
    writeFileSync(bin, bytes);
    const b = run(['-t', '-f', bin]);
    assert.ok(b.status === 5, `binary: ${b.status}`);
    noStack(b.stderr);
    assert.match(b.stderr, /bin\.conf:\d+: /);

    const long = join(dir, 'long.conf');
    writeFileSync(long, `global_defs {\n router_id ${'x'.repeat(10 * 1024 * 1024)}\n}\n`);
    const l = run(['-t', '-f', long]);
    assert.equal(l.status, 5);
    noStack(l.stderr);
    assert.match(l.stderr, /long\.conf:2: Unknown keyword 'x+'/);

    const braces = join(dir, 'braces.conf');
    writeFileSync(braces, 'global_defs {\n{\n router_id a\n');
    const u = run(['-t', '-f', braces]);
    assert.equal(u.status, 5);
    assert.match(u.stderr, /There are 2 missing '}'s or extra '{'s/);
  });
});

test('missing main file: 0 without -e, 4 with -e; include loop reported, not fatal', () => {
  withDir((dir) => {
    const missing = join(dir, 'nope.conf');
    const a = run(['-t', '-f', missing]);
    assert.equal(a.status, 0);
    assert.equal(a.stderr, `${missing}: Config files missing '${missing}'.\n`);
    assert.equal(run(['-t', '-e', '-f', missing]).status, 4);
    const x = join(dir, 'x.conf');
    writeFileSync(x, 'include y.conf\nglobal_defs { router_id x }\n');
    writeFileSync(join(dir, 'y.conf'), 'include x.conf\n');
    const loop = run(['-t', '-f', x]);
    assert.equal(loop.status, 0);
    assert.match(loop.stderr, /include loop/);
  });
});

test('-t LOGFILE appends the messages to the file', () => {
  withDir((dir) => {
    const f = join(dir, 'k.conf');
    const log = join(dir, 'test.log');
    writeFileSync(f, 'bogus\n');
    writeFileSync(log, 'earlier\n');
    const r = run([`--config-test=${log}`, '-f', f]);
    assert.deepEqual([r.status, r.stderr], [5, '']);
    assert.equal(readFileSync(log, 'utf8'), `earlier\n${f}:1: Unknown keyword 'bogus'\n`);
  });
});

test('--dump-conf prints the resolved model as JSON with sorted keys, identical across runs', () => {
  const f = join(repoRoot, 'test/fixtures/conf/lvs-dr.conf');
  const a = run(['--dump-conf', '-f', f]);
  const b = run(['--dump-conf', '-f', f]);
  assert.equal(a.stdout, b.stdout);
  const conf = JSON.parse(a.stdout) as Record<string, unknown>;
  assert.deepEqual(Object.keys(conf), ['bfdInstances', 'files', 'global', 'staticAddresses', 'staticRoutes', 'staticRules', 'trackFiles', 'trackProcesses', 'virtualServerGroups', 'virtualServers', 'vrrpInstances', 'vrrpScripts', 'vrrpSyncGroups']);
  const vs = (conf['virtualServers'] as { displayName: string; realServers: unknown[] }[])[0];
  assert.equal(vs?.displayName, '[192.0.2.10]:tcp:80');
  assert.equal(vs?.realServers.length, 3);
  assert.equal(a.status, 5);
});

test('a keyword missing the parameter keepalived reads unchecked: its message, exit 2, and the daemon does not start', () => {
  withDir((dir) => {
    const f = join(dir, 'k.conf');
    writeFileSync(f, 'virtual_server 192.0.2.10 80 {\n lb_algo rr\n lb_kind NAT\n protocol TCP\n real_server 192.0.2.11 80 {\n  weight\n }\n}\n');
    const t = run(['-t', '-f', f]);
    assert.equal(t.status, 2);
    assert.match(t.stderr, /k\.conf:6: \*\*\* Configuration line starting `weight` is missing a parameter after keyword `weight` at word position 2\n/);
    const daemon = run(['-f', f, '-l', '--ipvs-driver', 'dry-run', '--control-socket', join(dir, 'c.sock'), '--state-file', join(dir, 's.json'), '-p', join(dir, 'p.pid')]);
    assert.equal(daemon.status, 2);
    assert.match(daemon.stdout + daemon.stderr, /configuration cannot run; exiting/);
  });
});
