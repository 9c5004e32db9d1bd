// Configs whose includes or expansions multiply: each is refused at its FILE:LINE with the include keyword and -t's
// exit status for an error (5), in bounded time and memory; a reload with one keeps the running config.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { exitCodeFor, formatDiagnostic, loadConfig } from '../../src/config/load.js';
import { INCLUDE_LIMITS, MAX_CONFIG_TEXT } from '../../src/config/preprocess.js';
import { needCommand, repoRoot } from '../support/tier.js';
import { tempDir } from '../support/tempdir.js';
import { DaemonUnderTest, httpConfig } from '../daemon/daemon-setup.js';

const HEAD = 'global_defs {\n    router_id bomb\n}\n';

interface Bomb {
  readonly name: string;
  /** Writes the bomb under `dir`; returns the main file. */
  readonly plant: (dir: string) => string;
  /** The one error line -t prints for it. */
  readonly error: (dir: string) => string;
}

const braces = '{a,b}'.repeat(20);
const BOMBS: Bomb[] = [
  {
    name: 'brace expansion (2^20 names)',
    plant: (dir) => {
      writeFileSync(join(dir, 'main.conf'), `${HEAD}include ${dir}/x/${braces}\n`);
      return join(dir, 'main.conf');
    },
    error: (dir) => `${dir}/main.conf:4: include '${dir}/x/${braces}': braces expand to more than ${INCLUDE_LIMITS.names} file names; not read`,
  },
  {
    name: 'eight files that each include all eight',
    plant: (dir) => {
      mkdirSync(join(dir, 'g'));
      for (let i = 1; i <= 8; i++) writeFileSync(join(dir, 'g', `f${i}.conf`), `includer ${dir}/g/*.conf\n`);
      writeFileSync(join(dir, 'main.conf'), `${HEAD}include ${dir}/g/*.conf\n`);
      return join(dir, 'main.conf');
    },
    error: (dir) => new RegExp(`^${dir}/g/f\\d\\.conf:1: includer '${dir}/g/\\*\\.conf': more than ${INCLUDE_LIMITS.files} files included in all \\(nothing more is read\\); not read$`).source,
  },
  {
    name: 'a chain of includes 40 deep',
    plant: (dir) => {
      for (let i = 0; i < 40; i++) writeFileSync(join(dir, `c${i}.conf`), `include c${i + 1}.conf\n`);
      writeFileSync(join(dir, 'main.conf'), `${HEAD}include c0.conf\n`);
      return join(dir, 'main.conf');
    },
    error: (dir) => `${dir}/c15.conf:1: include 'c16.conf': includes nested more than ${INCLUDE_LIMITS.depth} deep; not read`,
  },
  {
    name: 'a wildcard matching 1,100 files',
    plant: (dir) => {
      mkdirSync(join(dir, 'w'));
      for (let i = 0; i < 1100; i++) writeFileSync(join(dir, 'w', `${i}.conf`), '');
      writeFileSync(join(dir, 'main.conf'), `${HEAD}include w/*.conf\n`);
      return join(dir, 'main.conf');
    },
    error: (dir) => `${dir}/main.conf:4: include 'w/*.conf': matches more than ${INCLUDE_LIMITS.names} files; not read`,
  },
  {
    name: 'nested ~SEQ lines (10^10 lines, 2 TB of text)',
    plant: (dir) => {
      writeFileSync(join(dir, 'main.conf'), `$W=${'w'.repeat(200)}\nglobal_defs {\n~SEQ(i,1,100000) ~SEQ(j,1,100000) router_id r\${i}x\${j}\${W}\n}\n`);
      return join(dir, 'main.conf');
    },
    error: (dir) => `${dir}/main.conf:3: configuration text exceeds ${MAX_CONFIG_TEXT >> 20} MiB after includes and expansions; the rest is not read`,
  },
];

const matches = (line: string, expected: string): boolean => (expected.startsWith('^') ? new RegExp(expected).test(line) : line === expected);

for (const bomb of BOMBS) {
  test(`include bomb refused: ${bomb.name}`, (t) => {
    const dir = tempDir(t, 'lvsk-bomb-');
    const main = bomb.plant(dir);
    const { diagnostics } = loadConfig(main);
    const errors = diagnostics.filter((d) => d.severity === 'error').map(formatDiagnostic);
    // The first error is the refusal; a config cut short may add its missing '}'.
    assert.ok(errors.length >= 1 && errors.length <= 2, errors.join('\n'));
    assert.ok(matches(errors[0]!, bomb.error(dir)), `${errors[0]}\n  vs ${bomb.error(dir)}`);
    assert.equal(exitCodeFor(diagnostics), 5);
    // A loop met again by another path is not reported again.
    assert.ok(diagnostics.length <= 80, `${diagnostics.length} diagnostics`);
  });
}

test('-t on each bomb exits 5 within 30 s and 250 MB (before: 22 s and 400 MB for the braces, unbounded for the globs; 30 s leaves room for a loaded machine)', (t) => {
  if (!needCommand(t, '/usr/bin/time', 'time')) return;
  for (const bomb of BOMBS) {
    const dir = tempDir(t, 'lvsk-bomb-');
    const main = bomb.plant(dir);
    const r = spawnSync('/usr/bin/time', ['-f', 'TIME %e %M', process.execPath, join(repoRoot, 'dist/bin/lvskeeper.js'), '-t', '-f', main], {
      encoding: 'utf8',
      timeout: 60_000,
    });
    assert.equal(r.status, 5, `${bomb.name}: ${r.stderr.slice(-500)}`);
    const m = /TIME ([\d.]+) (\d+)/.exec(r.stderr);
    assert.ok(m, r.stderr.slice(-500));
    const [seconds, kb] = [Number(m[1]), Number(m[2])];
    assert.ok(seconds < 30 && kb < 250_000, `${bomb.name}: ${seconds} s, ${kb} KB`);
  }
});

test('SIGHUP with a bomb keeps the running config and the daemon answers at once', { timeout: 60_000 }, async (t) => {
  const d = new DaemonUnderTest(t, httpConfig(19480, [[19481, 1]]));
  const run = d.start();
  await run.waitFor(/Removing service \[127\.0\.0\.1\]:tcp:19481/, 15_000);
  mkdirSync(join(d.dir, 'g'));
  for (let i = 1; i <= 8; i++) writeFileSync(join(d.dir, 'g', `f${i}.conf`), `include ${d.dir}/g/*.conf\n`);
  d.rewrite(`${httpConfig(19480, [[19481, 1]])}include ${d.dir}/g/*.conf\n`);
  const t0 = Date.now();
  d.signal('SIGHUP');
  await run.waitFor(/Reload failed: new configuration has errors; keeping the running one/, 10_000);
  assert.ok(Date.now() - t0 < 10_000);
  assert.ok(run.lines.some((l) => l.includes('more than 4096 files included in all')), run.lines.slice(-5).join('\n'));
  assert.ok(run.lines.length < 500, `${run.lines.length} log lines`);
  assert.equal(await run.stop('SIGTERM'), 0);
});
