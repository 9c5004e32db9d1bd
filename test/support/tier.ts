import type { TestContext } from 'node:test';
import { existsSync } from 'node:fs';
import { spawnSync } from 'node:child_process';

/** In CI (LVSK_REQUIRE_ALL=1) a missing prerequisite is a failure, never a silent skip. */
const requireAll = process.env['LVSK_REQUIRE_ALL'] === '1';

/** Skips the test with a reason, or fails it when every tier must run. Returns true when the test may proceed. */
export function need(t: TestContext, ok: boolean, why: string): boolean {
  if (ok) return true;
  if (requireAll) throw new Error(`prerequisite missing (LVSK_REQUIRE_ALL=1): ${why}`);
  t.skip(why);
  return false;
}

export const isRoot = (): boolean => process.getuid?.() === 0;

export function hasCommand(name: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${name}`], { stdio: 'ignore' }).status === 0;
}

export const repoRoot = new URL('../../../', import.meta.url).pathname;

export function needRoot(t: TestContext): boolean {
  return need(t, isRoot(), 'needs root (network namespaces, raw sockets)');
}

export function needCommand(t: TestContext, name: string, pkg = name): boolean {
  return need(t, hasCommand(name), `needs '${name}' (apt-get install ${pkg})`);
}

export function needFile(t: TestContext, path: string, why: string): boolean {
  return need(t, existsSync(path), why);
}
