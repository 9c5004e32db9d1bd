// What a prebuild was built from, for the scripts that run before TypeScript is compiled (the install script and
// `npm run prebuilds`); src/native/addon.ts does the same hashing at run time.
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const root = fileURLToPath(new URL('..', import.meta.url));
export const STAMP_FILE = 'SOURCES.json';
export const hostTuple = `${process.platform}-${process.arch}`;

/** binding.gyp's target names: one .node file each. */
export function addons(dir = root) {
  return [...readFileSync(join(dir, 'binding.gyp'), 'utf8').matchAll(/"target_name"\s*:\s*"([^"]+)"/g)].map((m) => m[1]);
}

export const sha256 = (path) => createHash('sha256').update(readFileSync(path)).digest('hex');

/** The files a prebuild is built from: binding.gyp and every file in native/. */
export function sourceHashes(dir = root) {
  const files = ['binding.gyp', ...readdirSync(join(dir, 'native')).map((f) => `native/${f}`)].sort();
  return Object.fromEntries(files.map((f) => [f, sha256(join(dir, f))]));
}

export function readStamp(dir, tuple) {
  const path = join(dir, 'prebuilds', tuple, STAMP_FILE);
  return existsSync(path) ? JSON.parse(readFileSync(path, 'utf8')) : undefined;
}

/** Source files added, removed or changed since prebuilds/<tuple> was built; [SOURCES.json] when there is no stamp. */
export function staleSources(dir, tuple) {
  const stamp = readStamp(dir, tuple);
  if (stamp === undefined) return [STAMP_FILE];
  const now = sourceHashes(dir);
  const keys = new Set([...Object.keys(now), ...Object.keys(stamp.sources)]);
  return [...keys].filter((f) => now[f] !== stamp.sources[f]).sort();
}
