// npm's install script. When every addon in prebuilds/<platform>-<arch>/ matches the sources and loads in this Node,
// nothing is compiled, so a director needs no make, g++ or python3. Otherwise node-gyp builds build/Release, which
// src/native/addon.ts falls back to.
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { addons, hostTuple, readStamp, root, staleSources } from './prebuild-stamp.mjs';

const require = createRequire(import.meta.url);

function unusable() {
  if (readStamp(root, hostTuple) === undefined) return [`no prebuilds/${hostTuple}`];
  const stale = staleSources(root, hostTuple);
  if (stale.length > 0) return [`prebuilds/${hostTuple} does not match ${stale.join(', ')}`];
  return addons().flatMap((name) => {
    try {
      require(join(root, 'prebuilds', hostTuple, `${name}.node`));
      return [];
    } catch (err) {
      return [`${name}: ${err.message.split('\n')[0]}`];
    }
  });
}

const why = unusable();
if (why.length === 0) {
  console.log(`lvskeeper: using the prebuilt addons in prebuilds/${hostTuple}`);
  process.exit(0);
}
console.log(`lvskeeper: building the addons from source (${why.join('; ')})`);
// npm gives install scripts its bundled node-gyp; outside npm, the one on PATH.
const gyp = process.env['npm_config_node_gyp'];
const r = spawnSync(gyp ? process.execPath : 'node-gyp', [...(gyp ? [gyp] : []), 'rebuild'], { cwd: root, stdio: 'inherit' });
process.exit(r.status ?? 1);
