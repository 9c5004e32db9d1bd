// The -t bundle (scripts/bundle-config-test.mjs): `lvskeeper -t` loads it while no module it was made from is newer
// and prints exactly what the modules print; in a checkout, once one of them is newer (a `tsc` run alone), it loads
// the modules instead. Runs on a copy of dist/, so the checkout's own bundle is never touched.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, readdirSync, rmSync, symlinkSync, utimesSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from '../support/tempdir.js';
import { repoRoot } from '../support/tier.js';

const hook = 'export async function resolve(s, c, next) { const r = await next(s, c); process._rawDebug("LOADED " + r.url); return r; }';
const resolveHook = `import { register } from 'node:module'; register(${JSON.stringify(`data:text/javascript,${encodeURIComponent(hook)}`)});`;

interface Run { readonly status: number | null; readonly stdout: string; readonly stderr: string; readonly modules: string[] }

test('-t runs the bundle while it is fresh, the modules once an input is newer in a checkout, and both print the same', { timeout: 180_000 }, (t) => {
  const copy = tempDir(t, 'lvsk-bundle-');
  for (const d of ['dist/bin', 'dist/src', 'dist/checkers', 'scripts']) cpSync(join(repoRoot, d), join(copy, d), { recursive: true });
  for (const f of ['package.json', 'tsconfig.json']) cpSync(join(repoRoot, f), join(copy, f));
  symlinkSync(join(repoRoot, 'node_modules'), join(copy, 'node_modules'));
  const built = spawnSync(process.execPath, [join(copy, 'scripts/bundle-config-test.mjs')], { encoding: 'utf8' });
  assert.equal(built.status, 0, built.stderr);

  const corpus = join(repoRoot, 'test/fixtures/corpus');
  // Every 8th corpus file (refused and accepted ones alike) and the shipped examples.
  const configs = [
    ...readdirSync(join(repoRoot, 'config')).map((f) => join(repoRoot, 'config', f)),
    ...readdirSync(corpus).filter((f, i) => i % 8 === 0 && f.endsWith('.conf')).map((f) => join(corpus, f)),
  ];
  const run = (file: string): Run => {
    const r = spawnSync(process.execPath, ['--import', `data:text/javascript,${encodeURIComponent(resolveHook)}`, join(copy, 'dist/bin/lvskeeper.js'), '-t', '-f', file], {
      encoding: 'utf8', timeout: 60_000,
    });
    const lines = r.stderr.split('\n');
    return {
      status: r.status, stdout: r.stdout,
      stderr: lines.filter((l) => !l.startsWith('LOADED ')).join('\n'),
      modules: lines.filter((l) => l.startsWith('LOADED ')).map((l) => l.slice('LOADED '.length).replace(`file://${copy}/`, '')),
    };
  };

  const bundled = configs.map(run);
  for (const r of bundled) {
    assert.ok(r.modules.includes('dist/src/cli/config-test.bundle.js'), r.modules.join(' '));
    assert.ok(!r.modules.includes('dist/src/config/load.js'), 'a module the bundle holds was loaded');
  }

  // What a later `tsc` does to the inputs: a new mtime.
  const later = new Date(Date.now() + 60_000);
  utimesSync(join(copy, 'dist/src/config/parser.js'), later, later);
  const modular = configs.map(run);
  for (const r of modular) {
    assert.ok(!r.modules.includes('dist/src/cli/config-test.bundle.js'), 'a stale bundle was loaded');
    assert.ok(r.modules.includes('dist/src/config/load.js'));
  }
  assert.ok(new Set(bundled.map((r) => r.status)).size > 1, 'the configs chosen are all accepted or all refused');
  // An installed package has no tsconfig.json, and its mtimes are the order npm extracted it in.
  rmSync(join(copy, 'tsconfig.json'));
  assert.ok(run(configs[0]!).modules.includes('dist/src/cli/config-test.bundle.js'), 'an installed package ran its modules');
  const printed = (r: Run): Omit<Run, 'modules'> => ({ status: r.status, stdout: r.stdout, stderr: r.stderr });
  for (const [i, file] of configs.entries()) assert.deepEqual(printed(bundled[i]!), printed(modular[i]!), file);
});
