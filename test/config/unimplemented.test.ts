// Nothing silent: a config with about forty keepalived 2.2.7 features gives one `lvskeeper does not implement` line
// per use of a feature lvskeeper does not carry out — at `-t` (with keepalived's exit status, compared with
// keepalived itself) and in the daemon's log at start — and `--strict-compat` makes them refusals.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { exitCodeFor, formatDiagnostic, parseConfigText, UNIMPLEMENTED_PREFIX } from '../../src/config/load.js';
import type { Diagnostic } from '../../src/config/model.js';
import { withConfigTestNamespace } from '../support/config-test-ns.js';
import { hasCommand, isRoot, need, repoRoot } from '../support/tier.js';

const cli = join(repoRoot, 'dist/bin/lvskeeper.js');
const conf = join(repoRoot, 'test/fixtures/compat/forty-features.conf');

/** Each use of something lvskeeper does not carry out in forty-features.conf: [line, what]. */
const EXPECTED: readonly (readonly [number, string])[] = [
  [153, 'regex_options ungreedy'],
];

const expectedLines = (file: string): string[] => EXPECTED.map(([line, what]) => `${file}:${line}: lvskeeper does not implement '${what}' - ignored`);
const unimplemented = (ds: readonly Diagnostic[]): Diagnostic[] => ds.filter((d) => d.message.startsWith(UNIMPLEMENTED_PREFIX));
/** The `FILE:LINE: lvskeeper does not implement …` lines in some output (log lines carry a prefix of their own). */
const linesIn = (text: string): string[] =>
  [...text.matchAll(/(\S+:\d+: lvskeeper does not implement '[^']*' - ignored)$/gm)].map((m) => m[1]!);

test('the forty-feature config: one line per use lvskeeper does not implement, leaving the status alone; strict makes each fatal', () => {
  const text = readFileSync(conf, 'utf8');
  const r = parseConfigText(text, { file: conf });
  const named = unimplemented(r.diagnostics);
  assert.deepEqual(named.map(formatDiagnostic), expectedLines(conf));
  assert.ok(named.every((d) => d.severity === 'unimplemented'));
  assert.deepEqual(r.diagnostics.filter((d) => !named.includes(d)), []);
  assert.equal(exitCodeFor(r.diagnostics), 0);

  const strict = parseConfigText(text, { file: conf, strictCompat: true });
  assert.deepEqual(unimplemented(strict.diagnostics).map((d) => [formatDiagnostic(d), d.severity]), expectedLines(conf).map((l) => [l, 'fatal']));
  assert.equal(exitCodeFor(strict.diagnostics), 4);
});

test('named where each use is: per occurrence, in included files, not inside a block already named, not on @id lines left out', () => {
  const dir = mkdtempSync(join(tmpdir(), 'lvskp-unimpl-'));
  try {
    const main = join(dir, 'keepalived.conf');
    const inc = join(dir, 'vrrp.conf');
    writeFileSync(inc, 'vrrp_instance VI_2 {\n interface eth0\n virtual_router_id 2\n kernel_rx_buf_size 65536\n virtual_ipaddress {\n  192.0.2.2\n }\n}\n');
    const text = [
      'global_defs {', ' vrrp_strict', '@other enable_snmp_vrrp', '@lb1 enable_dbus', '}',
      'linkbeat_interfaces { eth0', ' eth1', '}',
      'vrrp_instance VI_1 {', ' interface eth0', ' virtual_router_id 1', ' kernel_rx_buf_size 65536', ' strict_mode off', ' accept',
      ' virtual_ipaddress {', '  192.0.2.1/24 dev eth0', '  192.0.2.3/24 dev eth1 use_vmac', ' }', '}',
      'vrrp_instance VI_3 {', ' interface eth0', ' virtual_router_id 3', ' strict_mode', ' accept',
      ' virtual_ipaddress {', '  192.0.2.4', ' }', '}',
      `include ${inc}`, '',
    ].join('\n');
    const r = parseConfigText(text, { file: main, configId: 'lb1' });
    assert.deepEqual(unimplemented(r.diagnostics).map(formatDiagnostic), [
      `${main}:4: lvskeeper does not implement 'enable_dbus' - ignored`,
      `${main}:6: lvskeeper does not implement 'linkbeat_interfaces' - ignored`,
      `${main}:12: lvskeeper does not implement 'kernel_rx_buf_size' - ignored`,
      `${inc}:4: lvskeeper does not implement 'kernel_rx_buf_size' - ignored`,
    ]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("lvskeeper -t beside keepalived -t on the forty-feature config: keepalived's status, the lines on stderr; --strict-compat exits 4", (t) => {
  withConfigTestNamespace(t, 'lvskp-unimpl', (inNs) => {
    const keepalived = inNs('keepalived', ['-t', '-f', conf]);
    const ours = inNs(process.execPath, [cli, '-t', '-f', conf]);
    assert.equal(ours.status, keepalived.status);
    assert.equal(ours.stderr, expectedLines(conf).map((l) => `${l}\n`).join(''));
    const strict = inNs(process.execPath, [cli, '-t', '--strict-compat', '-f', conf]);
    assert.equal(strict.status, 4);
    assert.deepEqual(linesIn(strict.stderr), expectedLines(conf));
  });
});

/** Runs `body` with a namespace holding eth0 (a veth whose peer is eth1), removed afterwards. */
async function withNamespace(ns: string, body: () => Promise<void>): Promise<void> {
  spawnSync('ip', ['netns', 'del', ns], { stdio: 'ignore' });
  assert.equal(spawnSync('ip', ['netns', 'add', ns]).status, 0);
  try {
    assert.equal(spawnSync('ip', ['-n', ns, 'link', 'add', 'eth0', 'type', 'veth', 'peer', 'name', 'eth1']).status, 0);
    for (const dev of ['lo', 'eth0', 'eth1']) assert.equal(spawnSync('ip', ['-n', ns, 'link', 'set', dev, 'up']).status, 0);
    await body();
  } finally {
    spawnSync('ip', ['netns', 'del', ns], { stdio: 'ignore' });
  }
}

test('the daemon names the same uses in its log at start, and runs', async (t) => {
  if (!need(t, isRoot(), 'needs root (creates a network namespace)')) return;
  if (!need(t, hasCommand('ip'), "needs 'ip' (apt-get install iproute2)")) return;
  const dir = mkdtempSync(join(tmpdir(), 'lvskp-unimpl-daemon-'));
  try {
    mkdirSync(join(dir, 'run'));
    await withNamespace('lvskp-unimpl-d', async () => {
      const args = ['-n', '-l', '-f', conf, '--ipvs-driver', 'dry-run', '--control-socket', join(dir, 'run/c.sock'),
        '--pid', join(dir, 'p.pid'), '--state-file', join(dir, 's.json')];
      const child = spawn('ip', ['netns', 'exec', 'lvskp-unimpl-d', process.execPath, cli, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      child.stdout.on('data', (b: Buffer) => (out += b.toString()));
      child.stderr.on('data', (b: Buffer) => (out += b.toString()));
      const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
      // Running once the control socket is there: everything logged at start-up has been logged by then.
      const started = await new Promise<boolean>((resolve) => {
        const poll = setInterval(() => {
          if (existsSync(join(dir, 'run/c.sock')) || child.exitCode !== null) {
            clearInterval(poll);
            resolve(child.exitCode === null);
          }
        }, 50);
      });
      child.kill('SIGTERM');
      const code = await exited;
      assert.ok(started, `the daemon exited at start:\n${out}`);
      assert.equal(code, 0, out);
      assert.deepEqual(linesIn(out), expectedLines(conf));
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('--strict-compat: the daemon does not start on a config using what lvskeeper does not implement', () => {
  const dir = mkdtempSync(join(tmpdir(), 'lvskp-unimpl-strict-'));
  try {
    const pid = join(dir, 'p.pid');
    const r = spawnSync(process.execPath, [cli, '--strict-compat', '-n', '-l', '-f', conf, '--ipvs-driver', 'dry-run',
      '--control-socket', join(dir, 'c.sock'), '--pid', pid, '--state-file', join(dir, 's.json')], { encoding: 'utf8', timeout: 60_000 });
    assert.equal(r.status, 2);
    // The daemon's log: each line refused, then the refusal, and no process started.
    assert.deepEqual(linesIn(r.stdout), expectedLines(conf));
    assert.match(r.stdout, /configuration cannot run; exiting/);
    assert.equal(existsSync(pid), false);
    assert.doesNotMatch(r.stdout, /child process/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
