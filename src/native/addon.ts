// Loads the native addons (binding.gyp's targets: lvsk_rawsock, lvsk_exchange, lvsk_sched, lvsk_netns, lvsk_spawn).
// The one place that finds a .node file.
//
//   loadAddon(name: string, root?: string): unknown     the addon's exports; throws naming every place it looked
//   staleSources(root: string, tuple: string): string[] files whose hash differs from prebuilds/<tuple>/SOURCES.json
//
// Order: prebuilds/<platform>-<arch>/<name>.node (committed, built by `npm run prebuilds`, N-API so one binary serves
// every Node release), but only while its stamp matches native/ and binding.gyp, so a source edit is never shadowed
// by an older binary; then build/Release/<name>.node, which the install script (scripts/prebuild-install.mjs)
// compiles with node-gyp when no prebuild loads here (another architecture, musl). scripts/prebuild-stamp.mjs holds
// the same hashing for the scripts, which run before TypeScript is compiled.
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The package root: dist/src/native → ../../../ */
export const packageRoot = fileURLToPath(new URL('../../../', import.meta.url));

export const STAMP_FILE = 'SOURCES.json';

/** The files a prebuild is built from, with their sha256: binding.gyp and every file in native/. */
function sourceHashes(root: string): Record<string, string> {
  const files = ['binding.gyp', ...readdirSync(join(root, 'native')).map((f) => `native/${f}`)].sort();
  return Object.fromEntries(files.map((f) => [f, createHash('sha256').update(readFileSync(join(root, f))).digest('hex')]));
}

/** Source files added, removed or changed since prebuilds/<tuple> was built; [SOURCES.json] when there is no stamp. */
export function staleSources(root: string, tuple: string): string[] {
  const stampPath = join(root, 'prebuilds', tuple, STAMP_FILE);
  if (!existsSync(stampPath)) return [STAMP_FILE];
  const stamped = (JSON.parse(readFileSync(stampPath, 'utf8')) as { sources: Record<string, string> }).sources;
  const now = sourceHashes(root);
  const files = new Set([...Object.keys(now), ...Object.keys(stamped)]);
  return [...files].filter((f) => now[f] !== stamped[f]).sort();
}

const loaded = new Map<string, unknown>();

export function loadAddon(name: string, root: string = packageRoot): unknown {
  const key = join(root, name);
  if (loaded.has(key)) return loaded.get(key);
  const require = createRequire(import.meta.url);
  const tuple = `${process.platform}-${process.arch}`;
  const prebuild = join(root, 'prebuilds', tuple, `${name}.node`);
  const why: string[] = [];
  let addon: unknown;
  if (!existsSync(prebuild)) {
    why.push(`no prebuild for ${tuple}`);
  } else {
    const stale = staleSources(root, tuple);
    if (stale.length > 0) {
      why.push(`prebuilds/${tuple} was built from other sources (${stale.join(', ')}; npm run prebuilds rebuilds it)`);
    } else {
      try {
        addon = require(prebuild);
      } catch (err) {
        why.push(`prebuilds/${tuple}/${name}.node does not load: ${(err as Error).message.split('\n')[0]}`);
      }
    }
  }
  if (addon === undefined) {
    const built = join(root, 'build/Release', `${name}.node`);
    if (!existsSync(built)) {
      throw new Error(`cannot load the ${name} addon: ${why.join('; ')}; no source build in build/Release either ` +
        `(npm run install in the package builds one; it needs make, g++ and python3)`);
    }
    addon = require(built);
  }
  loaded.set(key, addon);
  return addon;
}
