// The README's `npm install && npm start`, and the director install from `npm pack`, on a machine without a compiler:
// a copy of the checkout (its files as git would commit them) installed with a PATH that holds only node, npm, npx
// and sh, so cc, gcc, g++, make and node-gyp's python3 cannot be found. npm works from its cache (--offline): the
// checkout's lockfile needs only the tarballs `npm ci` cached, and the packed tarball bundles its dependencies.
// `npm start`'s demo runs in a network namespace of its own, so its ports 8080-8083 cannot meet another test's.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import type { SpawnSyncReturns } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, rmSync, symlinkSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { needCommand, needRoot, repoRoot } from '../support/tier.js';
import { tempDir } from '../support/tempdir.js';

const which = (name: string): string => spawnSync('sh', ['-c', `command -v ${name}`], { encoding: 'utf8' }).stdout.trim();

test('npm install && npm start, and a global install of the npm pack tarball, with no compiler on PATH', { timeout: 600_000 }, async (t) => {
  if (!needRoot(t) || !needCommand(t, 'git') || !needCommand(t, 'ip', 'iproute2')) return;
  const dir = tempDir(t, 'lvsk-install-');
  const bin = join(dir, 'bin');
  mkdirSync(bin);
  for (const c of ['node', 'npm', 'npx', 'sh']) symlinkSync(which(c), join(bin, c));
  const env = { HOME: process.env['HOME'] ?? '/root', PATH: bin };
  const run = (cmd: string, args: string[], cwd: string): SpawnSyncReturns<string> =>
    spawnSync(cmd, args, { cwd, env, encoding: 'utf8', timeout: 240_000 });
  const out = (r: SpawnSyncReturns<string>): string => `${r.stdout}\n${r.stderr}`;

  assert.notEqual(run('sh', ['-c', 'command -v cc || command -v gcc || command -v g++ || command -v make || command -v python3'], dir).status, 0,
    'the stripped PATH still finds a compiler');

  const src = join(dir, 'lvskeeper');
  const files = spawnSync('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], { cwd: repoRoot, encoding: 'utf8' });
  for (const f of files.stdout.split('\0').filter((f) => f !== '' && existsSync(join(repoRoot, f)))) {
    mkdirSync(dirname(join(src, f)), { recursive: true });
    copyFileSync(join(repoRoot, f), join(src, f));
  }

  await t.test('npm install uses the prebuilt addons and compiles nothing', () => {
    const r = run('npm', ['install', '--offline', '--no-audit', '--no-fund', '--foreground-scripts'], src);
    assert.equal(r.status, 0, out(r));
    assert.match(r.stdout, new RegExp(`lvskeeper: using the prebuilt addons in prebuilds/${process.platform}-${process.arch}`));
    assert.ok(!existsSync(join(src, 'build')), 'node-gyp ran');
  });

  await t.test('npx lvskeeper -t accepts config/quickstart.conf', () => {
    const r = run('npx', ['--offline', 'lvskeeper', '-t', '-f', 'config/quickstart.conf'], src);
    assert.equal(r.status, 0, out(r));
  });

  await t.test('npm start serves the three backends through 127.0.0.1:8080 and stops on SIGTERM', async () => {
    const ns = `lvsk-inst-${process.pid}`;
    const ip = which('ip');
    assert.equal(spawnSync(ip, ['netns', 'add', ns]).status, 0);
    try {
      spawnSync(ip, ['-n', ns, 'link', 'set', 'lo', 'up']);
      const demo = spawn(ip, ['netns', 'exec', ns, 'npm', 'start'], { cwd: src, env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
      let log = '';
      demo.stdout.on('data', (c: Buffer) => (log += c.toString()));
      demo.stderr.on('data', (c: Buffer) => (log += c.toString()));
      const closed = new Promise((resolve) => demo.once('close', resolve));
      try {
        // A fresh connection per request (the data plane balances connections) until every backend has answered.
        const poll = `const seen = new Set(); const end = Date.now() + 90000;
          while (seen.size < 3 && Date.now() < end) {
            try { const b = await (await fetch('http://127.0.0.1:8080/', { headers: { connection: 'close' }, signal: AbortSignal.timeout(2000) })).text(); seen.add(b.split(' ')[2]); }
            catch { await new Promise((r) => setTimeout(r, 300)); }
          }
          console.log(JSON.stringify([...seen].sort()));`;
        const r = spawnSync(ip, ['netns', 'exec', ns, 'node', '--input-type=module', '-e', poll], { env, encoding: 'utf8', timeout: 120_000 });
        assert.deepEqual(JSON.parse(r.stdout || '[]'), ['web1', 'web2', 'web3'], log);
      } finally {
        process.kill(-demo.pid!, 'SIGTERM');
        const killer = setTimeout(() => process.kill(-demo.pid!, 'SIGKILL'), 20_000);
        await closed;
        clearTimeout(killer);
      }
      assert.match(log, /Stopped lvskeeper/);
    } finally {
      spawnSync(ip, ['netns', 'del', ns]);
    }
  });

  await t.test('the npm pack tarball installs globally offline: lvskeeper on PATH, the unit in contrib/, prebuilt addons', () => {
    // --ignore-scripts: `prepare` would compile the same dist/ the install just did.
    const pack = run('npm', ['pack', '--offline', '--ignore-scripts'], src);
    assert.equal(pack.status, 0, out(pack));
    const tarball = join(src, pack.stdout.trim().split('\n').pop()!);
    const prefix = join(dir, 'global');
    const r = run('npm', ['install', '-g', '--offline', '--no-audit', '--no-fund', '--prefix', prefix, tarball], dir);
    assert.equal(r.status, 0, out(r));
    const pkg = join(prefix, 'lib/node_modules/lvskeeper');
    assert.ok(existsSync(join(pkg, 'contrib/lvskeeper.service')));
    const check = spawnSync('lvskeeper', ['-t', '-f', join(pkg, 'config/quickstart.conf')], { env: { ...env, PATH: `${bin}:${join(prefix, 'bin')}` }, encoding: 'utf8' });
    assert.equal(check.status, 0, out(check));
    // Installed (no tsconfig.json, mtimes in extraction order), -t still runs its bundle (scripts/bundle-config-test.mjs).
    const hook = `import { register } from 'node:module'; register('data:text/javascript,' + encodeURIComponent(
      'export async function resolve(s, c, next) { const r = await next(s, c); process._rawDebug("LOADED " + r.url); return r; }'));`;
    const traced = run('node', ['--import', `data:text/javascript,${encodeURIComponent(hook)}`, join(pkg, 'dist/bin/lvskeeper.js'), '-t', '-f', join(pkg, 'config/quickstart.conf')], dir);
    assert.equal(traced.status, 0, out(traced));
    assert.match(traced.stderr, /LOADED file:\/\/.*\/dist\/src\/cli\/config-test\.bundle\.js/);
    assert.doesNotMatch(traced.stderr, /LOADED file:\/\/.*\/dist\/src\/config\/load\.js/);
    const load = `import { createRequire } from 'node:module';
      const { loadAddon } = await import('${pkg}/dist/src/native/addon.js');
      const exports = ['lvsk_rawsock', 'lvsk_exchange', 'lvsk_sched', 'lvsk_spawn'].map((n) => Object.keys(loadAddon(n)));
      console.log(JSON.stringify({ exports, files: Object.keys(createRequire(import.meta.url).cache).filter((f) => f.endsWith('.node')) }));`;
    const loaded = run('node', ['--input-type=module', '-e', load], dir);
    assert.equal(loaded.status, 0, out(loaded));
    const tuple = `${process.platform}-${process.arch}`;
    assert.deepEqual(JSON.parse(loaded.stdout), {
      exports: [['RawSocket'], ['ExchangeSet'], ['setRealtime', 'setAffinity', 'lockMemory', 'keepMallocThresholds', 'releaseFreeMemory'], ['supported', 'spawn']],
      files: ['lvsk_rawsock', 'lvsk_exchange', 'lvsk_sched', 'lvsk_spawn'].map((n) => join(pkg, 'prebuilds', tuple, `${n}.node`)),
    });
  });

  await t.test('without prebuilds the same install needs the compiler it cannot find', () => {
    rmSync(join(src, 'prebuilds'), { recursive: true });
    const r = run('npm', ['run', 'install', '--foreground-scripts'], src);
    assert.notEqual(r.status, 0);
    assert.match(out(r), /lvskeeper: building the addons from source \(no prebuilds\//);
    assert.match(out(r), /gyp ERR!.*(Python|python|make)/);
  });
});
