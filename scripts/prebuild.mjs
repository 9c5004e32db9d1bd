// `npm run prebuilds`: rebuilds prebuilds/linux-x64 and prebuilds/linux-arm64 from native/ and binding.gyp with
// node-gyp (the host's architecture with the default g++, the other with Debian's cross g++), each in a scratch copy
// so build/ is untouched, and writes each directory's SOURCES.json stamp. `--check [DIR]` only verifies the committed
// prebuilds against the sources.
import { spawn, spawnSync } from 'node:child_process';
import { copyFileSync, cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { STAMP_FILE, addons, readStamp, root, sha256, sourceHashes, staleSources } from './prebuild-stamp.mjs';

/** Node's architecture → the GNU triplet of the Debian cross compiler that targets it. */
const TARGETS = { x64: 'x86_64-linux-gnu', arm64: 'aarch64-linux-gnu' };

const require = createRequire(import.meta.url);
const nodeAddonApi = () => require(join(root, 'node_modules/node-addon-api/package.json')).version;
const napiVersion = () => Number(/NAPI_VERSION=(\d+)/.exec(readFileSync(join(root, 'binding.gyp')))?.[1]);

function check(dir) {
  const tuples = Object.keys(TARGETS).map((arch) => `linux-${arch}`);
  const others = existsSync(join(dir, 'prebuilds')) ? readdirSync(join(dir, 'prebuilds')).filter((d) => !tuples.includes(d)) : [];
  const problems = others.map((d) => `prebuilds/${d}: not built by npm run prebuilds`);
  const targets = addons(dir);
  for (const arch of Object.keys(TARGETS)) {
    const tuple = `linux-${arch}`;
    const stamp = readStamp(dir, tuple);
    if (stamp === undefined) {
      problems.push(`prebuilds/${tuple}: no ${STAMP_FILE}`);
      continue;
    }
    const stale = staleSources(dir, tuple);
    if (stale.length > 0) problems.push(`prebuilds/${tuple}: built from other sources than ${stale.join(', ')}`);
    // node-addon-api's headers are compiled into the addon too.
    if (stamp.nodeAddonApi !== nodeAddonApi()) problems.push(`prebuilds/${tuple}: built with node-addon-api ${stamp.nodeAddonApi}, not ${nodeAddonApi()}`);
    for (const name of targets) {
      const file = join(dir, 'prebuilds', tuple, `${name}.node`);
      if (!existsSync(file)) problems.push(`prebuilds/${tuple}: no ${name}.node`);
      else if (stamp.binaries[`${name}.node`] !== sha256(file)) problems.push(`prebuilds/${tuple}/${name}.node: not the binary its stamp records`);
    }
  }
  return problems;
}

function nodeGyp() {
  // npm gives scripts its bundled node-gyp; outside npm, the one on PATH.
  const js = process.env['npm_config_node_gyp'];
  return js ? [process.execPath, js] : ['node-gyp'];
}

function compilerVersion(cxx) {
  const r = spawnSync(cxx, ['--version'], { encoding: 'utf8' });
  return r.status === 0 ? r.stdout.split('\n')[0] : undefined;
}

/** Builds one architecture in a scratch copy into prebuilds/linux-<arch>, stamp included; resolves to a summary line. */
async function build(arch, napi) {
  const native = arch === process.arch;
  const cc = native ? 'gcc' : `${TARGETS[arch]}-gcc`;
  const cxx = native ? 'g++' : `${TARGETS[arch]}-g++`;
  const compiler = compilerVersion(cxx);
  if (compiler === undefined) throw new Error(`linux-${arch}: no ${cxx} (apt-get install g++-${TARGETS[arch].replace(/_/g, '-')})`);
  const work = mkdtempSync(join(tmpdir(), `lvsk-prebuild-${arch}-`));
  try {
    copyFileSync(join(root, 'binding.gyp'), join(work, 'binding.gyp'));
    cpSync(join(root, 'native'), join(work, 'native'), { recursive: true });
    symlinkSync(join(root, 'node_modules'), join(work, 'node_modules'));
    const sources = sourceHashes(work);
    const [cmd, ...pre] = nodeGyp();
    // The running Node's own headers when it has them (Debian's, NodeSource's, the official tarballs); N-API's are the
    // same for every architecture. Without them node-gyp downloads the headers once into its cache.
    const prefix = process.config.variables.node_prefix;
    const nodedir = existsSync(join(prefix, 'include/node/node_api.h')) ? [`--nodedir=${prefix}`] : [];
    const args = [...pre, 'rebuild', `--arch=${arch}`, ...nodedir, '--jobs=2'];
    const log = [];
    const code = await new Promise((resolve) => {
      const child = spawn(cmd, args, { cwd: work, env: { ...process.env, CC: cc, CXX: cxx }, stdio: ['ignore', 'pipe', 'pipe'] });
      child.stdout.on('data', (c) => log.push(c));
      child.stderr.on('data', (c) => log.push(c));
      child.on('close', resolve);
    });
    if (code !== 0) throw new Error(`linux-${arch}: node-gyp failed\n${Buffer.concat(log).toString()}`);
    const out = join(root, 'prebuilds', `linux-${arch}`);
    rmSync(out, { recursive: true, force: true });
    mkdirSync(out, { recursive: true });
    const binaries = {};
    for (const name of addons(work)) {
      copyFileSync(join(work, 'build/Release', `${name}.node`), join(out, `${name}.node`));
      binaries[`${name}.node`] = sha256(join(out, `${name}.node`));
    }
    const stamp = { napi, nodeAddonApi: nodeAddonApi(), headers: `node ${process.version}`, compiler, sources, binaries };
    writeFileSync(join(out, STAMP_FILE), `${JSON.stringify(stamp, null, 2)}\n`);
    return `prebuilds/linux-${arch}: ${Object.keys(binaries).join(', ')} (N-API ${napi})`;
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

if (process.argv.includes('--check')) {
  const dir = process.argv[process.argv.indexOf('--check') + 1] ?? root;
  const problems = check(dir);
  for (const p of problems) console.error(p);
  if (problems.length > 0) console.error('run `npm run prebuilds` to rebuild the prebuilds from the sources');
  process.exit(problems.length > 0 ? 1 : 0);
}
if (process.platform !== 'linux' || !(process.arch in TARGETS)) {
  console.error(`npm run prebuilds builds on Linux x64 or arm64, not ${process.platform}-${process.arch}`);
  process.exit(1);
}
const results = await Promise.allSettled(Object.keys(TARGETS).map((arch) => build(arch, napiVersion())));
for (const r of results) console[r.status === 'fulfilled' ? 'log' : 'error'](r.status === 'fulfilled' ? r.value : r.reason.message);
const problems = check(root);
for (const p of problems) console.error(p);
process.exit(problems.length > 0 ? 1 : 0);
