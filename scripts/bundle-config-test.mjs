// Part of `npm run build`, after tsc: bundles the `-t` path (dist/src/cli/config-test.js and the ~35 modules it
// imports) into one file beside it. Node 20 loads each ESM module for 0.5–0.8 ms and has no compile cache, so the
// bundle is what brings `lvskeeper -t` on an empty file near `node -e 0` (issue #16's start-up floor). It is built
// from tsc's output, not the sources, so it holds exactly the code the modules do. The manifest beside it lists the
// inputs: in a checkout bin/lvskeeper.ts uses the bundle only while none of them is newer than it, so a `tsc` run
// alone (as tests do) falls back to the modules rather than a stale bundle.
import { writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const cliDir = join(root, 'dist/src/cli');
const entry = join(cliDir, 'config-test.js');
const outfile = join(cliDir, 'config-test.bundle.js');

let esbuild;
try {
  esbuild = await import('esbuild');
} catch {
  process.stdout.write('esbuild is not installed: lvskeeper -t will load its modules one by one\n');
  process.exit(0);
}

const result = await esbuild.build({
  absWorkingDir: root,
  entryPoints: [entry],
  outfile,
  bundle: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  packages: 'external',
  metafile: true,
  logLevel: 'warning',
});
const inputs = Object.keys(result.metafile.inputs).map((input) => relative(cliDir, join(root, input)));
writeFileSync(join(cliDir, 'config-test.bundle.json'), JSON.stringify({ inputs }) + '\n');
