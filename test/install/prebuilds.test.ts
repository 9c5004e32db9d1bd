// The committed prebuilds against the sources they claim (scripts/prebuild.mjs --check and src/native/addon.ts's own
// check), and the loader's order: a fitting prebuild, else build/Release, else an error naming both.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { appendFileSync, copyFileSync, cpSync, mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { loadAddon, staleSources } from '../../src/native/addon.js';
import { need, repoRoot } from '../support/tier.js';
import { tempDir } from '../support/tempdir.js';

const host = `${process.platform}-${process.arch}`;
const loadedFiles = (): string[] => Object.keys(createRequire(import.meta.url).cache).filter((f) => f.endsWith('.node'));

const check = (dir: string): { status: number | null; stderr: string } =>
  spawnSync(process.execPath, [join(repoRoot, 'scripts/prebuild.mjs'), '--check', dir], { encoding: 'utf8' });

/** binding.gyp, native/ and prebuilds/ copied, node_modules linked: enough for the check and the loader. */
function copySources(t: TestContext): string {
  const dir = tempDir(t, 'lvsk-prebuilds-');
  copyFileSync(join(repoRoot, 'binding.gyp'), join(dir, 'binding.gyp'));
  cpSync(join(repoRoot, 'native'), join(dir, 'native'), { recursive: true });
  cpSync(join(repoRoot, 'prebuilds'), join(dir, 'prebuilds'), { recursive: true });
  symlinkSync(join(repoRoot, 'node_modules'), join(dir, 'node_modules'));
  return dir;
}

test('the committed prebuilds were built from the current native/ and binding.gyp', () => {
  const r = check(repoRoot);
  assert.equal(r.status, 0, r.stderr);
  assert.deepEqual(staleSources(repoRoot, 'linux-x64'), []);
  assert.deepEqual(staleSources(repoRoot, 'linux-arm64'), []);
});

test('a changed or added source, a swapped binary and a missing stamp are each caught', (t) => {
  const dir = copySources(t);
  const original = readFileSync(join(dir, 'native/exchange.cc'));
  appendFileSync(join(dir, 'native/exchange.cc'), '\n// edited after the prebuild\n');
  let r = check(dir);
  assert.equal(r.status, 1);
  assert.match(r.stderr, /prebuilds\/linux-x64: built from other sources than native\/exchange\.cc/);
  assert.match(r.stderr, /prebuilds\/linux-arm64: built from other sources than native\/exchange\.cc/);
  assert.match(r.stderr, /npm run prebuilds/);
  assert.deepEqual(staleSources(dir, 'linux-x64'), ['native/exchange.cc']);

  writeFileSync(join(dir, 'native/exchange.cc'), original);
  writeFileSync(join(dir, 'native/extra.h'), '#pragma once\n');
  assert.deepEqual(staleSources(dir, 'linux-arm64'), ['native/extra.h']);
  assert.equal(check(dir).status, 1);

  rmSync(join(dir, 'native/extra.h'));
  assert.equal(check(dir).status, 0);
  copyFileSync(join(dir, 'prebuilds/linux-arm64/lvsk_exchange.node'), join(dir, 'prebuilds/linux-x64/lvsk_exchange.node'));
  r = check(dir);
  assert.equal(r.status, 1);
  assert.match(r.stderr, /prebuilds\/linux-x64\/lvsk_exchange\.node: not the binary its stamp records/);

  rmSync(join(dir, 'prebuilds/linux-arm64/SOURCES.json'));
  assert.match(check(dir).stderr, /prebuilds\/linux-arm64: no SOURCES\.json/);
  assert.deepEqual(staleSources(dir, 'linux-arm64'), ['SOURCES.json']);
});

test('each prebuild is a 64-bit N-API shared object for its architecture', () => {
  // ELF header: EI_CLASS at 4 (2 = 64-bit), e_type at 16 (3 = ET_DYN), e_machine at 18 (<elf.h>: EM_X86_64 62, EM_AARCH64 183).
  for (const [tuple, machine] of [['linux-x64', 62], ['linux-arm64', 183]] as const) {
    for (const name of ['lvsk_rawsock', 'lvsk_exchange', 'lvsk_sched', 'lvsk_netns', 'lvsk_spawn']) {
      const elf = readFileSync(join(repoRoot, 'prebuilds', tuple, `${name}.node`));
      assert.deepEqual([elf.toString('latin1', 1, 4), elf[4], elf.readUInt16LE(16), elf.readUInt16LE(18)], ['ELF', 2, 3, machine], `${tuple}/${name}`);
      // The entry point Node looks up in an N-API module (node_api.h's NAPI_MODULE_INIT).
      assert.ok(elf.includes('napi_register_module_v1\0'), `${tuple}/${name} exports no napi_register_module_v1`);
    }
  }
});

test('the loader takes the host prebuild, falls back to build/Release when it is stale, and names both when neither fits', (t) => {
  if (!need(t, host === 'linux-x64' || host === 'linux-arm64', `prebuilds/ has no ${host} build`)) return;
  const exchange = loadAddon('lvsk_exchange', repoRoot) as { ExchangeSet: unknown };
  assert.equal(typeof exchange.ExchangeSet, 'function');
  assert.equal(typeof (loadAddon('lvsk_rawsock', repoRoot) as { RawSocket: unknown }).RawSocket, 'function');
  assert.ok(loadedFiles().includes(join(repoRoot, 'prebuilds', host, 'lvsk_exchange.node')));

  const dir = copySources(t);
  appendFileSync(join(dir, 'native/exchange.cc'), '\n// edited after the prebuild\n');
  assert.throws(() => loadAddon('lvsk_exchange', dir), (err: Error) => {
    assert.match(err.message, new RegExp(`prebuilds/${host} was built from other sources \\(native/exchange\\.cc; npm run prebuilds rebuilds it\\)`));
    assert.match(err.message, /no source build in build\/Release either \(npm run install in the package builds one; it needs make, g\+\+ and python3\)/);
    return true;
  });
  // A source build stands in for the stale prebuild (here a copy of it: the loader only cares where it is).
  mkdirSync(join(dir, 'build/Release'), { recursive: true });
  copyFileSync(join(dir, 'prebuilds', host, 'lvsk_exchange.node'), join(dir, 'build/Release/lvsk_exchange.node'));
  assert.equal(typeof (loadAddon('lvsk_exchange', dir) as { ExchangeSet: unknown }).ExchangeSet, 'function');
  assert.ok(loadedFiles().includes(join(dir, 'build/Release/lvsk_exchange.node')));
  assert.ok(!loadedFiles().includes(join(dir, 'prebuilds', host, 'lvsk_exchange.node')));
});
