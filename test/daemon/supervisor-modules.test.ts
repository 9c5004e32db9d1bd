// What each process loads is what its config uses. The supervisor's main thread loads neither config parser: the
// worker thread that reads each config has its own (src/daemon/config-reader.ts), and the `-t` bundle is for `-t`.
// Each copy held its source and code in the supervisor's heap for good: 1.9 MB of RSS at 1,000 real servers. The
// `netlink` package loads for what needs a netlink socket (the IPVS driver, VRRP, vrrp_track_process, ha_suspend's
// reflector), not for the VMAC plan's constants: 0.9-1.0 MB of live heap in each process that had it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from '../support/tier.js';
import { tempDir } from '../support/tempdir.js';

// A resolve hook that prints each import with the process and the module that made it (hooks run on their own
// thread; _rawDebug reaches stderr). A worker's entry module has no parent.
const HOOK = 'export async function resolve(s, c, next) { const r = await next(s, c); process._rawDebug(`LOADED ${process.pid} ${r.url} ${c.parentURL ?? "-"}`); return r; }';
const REGISTER = `import { register } from 'node:module'; register(${JSON.stringify(`data:text/javascript,${encodeURIComponent(HOOK)}`)});`;
// Each process's main thread writes, as it exits, the builtins it loaded by any means (process.getBuiltinModule
// included, which no hook sees).
const BUILTINS = `import { writeFileSync } from 'node:fs'; import { isMainThread } from 'node:worker_threads';
  const dir = process.env.LVSKP_BUILTINS_DIR;
  if (dir && isMainThread) process.on('exit', () => writeFileSync(dir + '/' + process.pid, process.moduleLoadList.join('\\n')));`;

test('the supervisor main thread imports neither the config loader nor the -t bundle; no process imports netlink unasked', async (t) => {
  const dir = tempDir(t, 'lvskp-supmods-');
  const conf = join(dir, 'k.conf');
  writeFileSync(conf, 'virtual_server 192.0.2.10 80 {\n  lb_algo rr\n  lb_kind DR\n  protocol TCP\n  real_server 192.0.2.11 80 {\n  }\n}\n');
  const cli = join(repoRoot, 'dist/bin/lvskeeper.js');
  const builtins = join(dir, 'builtins');
  mkdirSync(builtins);
  const child = spawn(process.execPath, ['--import', `data:text/javascript,${encodeURIComponent(REGISTER)}`, '--import', `data:text/javascript,${encodeURIComponent(BUILTINS)}`,
    cli, '-n', '-l', '--ipvs-driver', 'dry-run', '--pid', join(dir, 'k.pid'), '--control-socket', join(dir, 'k.sock'), '--state-file', join(dir, 'k.state'), '-f', conf],
    { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, LVSKP_BUILTINS_DIR: builtins } });
  let out = '';
  let err = '';
  child.stdout.on('data', (b: Buffer) => (out += b.toString()));
  child.stderr.on('data', (b: Buffer) => (err += b.toString()));
  const exited = new Promise((resolve) => child.once('exit', resolve));
  const deadline = Date.now() + 30_000;
  while (!/ipvsadm -a/.test(out) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  child.kill('SIGTERM');
  await exited;
  assert.match(out, /ipvsadm -a -t 192\.0\.2\.10:80 -r 192\.0\.2\.11:80/, `${out}\n${err}`);

  // What the supervisor's main thread reaches from the command's own module, import by import.
  const edges = err.split('\n').filter((l) => l.startsWith(`LOADED ${child.pid} `)).map((l) => l.split(' ').slice(2) as [string, string]);
  const reached = new Set([`file://${cli}`]);
  for (let grew = true; grew;) {
    grew = false;
    for (const [url, parent] of edges) {
      if (reached.has(parent) && !reached.has(url)) {
        reached.add(url);
        grew = true;
      }
    }
  }
  assert.ok([...reached].some((u) => u.endsWith('/src/daemon/supervisor.js')), `the hook saw the supervisor: ${[...reached].join(' ')}`);
  // The worker did read the config: its own import of the loader.
  assert.ok(edges.some(([url, parent]) => url.endsWith('/src/config/load.js') && !reached.has(parent)), 'the config worker imported the loader');
  assert.deepEqual([...reached].filter((u) => /\/src\/config\/(load|parser|resolve)\.js$|config-test\.bundle\.js$/.test(u)), []);

  // The dry-run driver, no VRRP, no tracked process, no ha_suspend: nothing here speaks netlink.
  const all = err.split('\n').filter((l) => l.startsWith('LOADED ')).map((l) => l.split(' '));
  assert.ok(all.some(([, pid, url]) => pid !== String(child.pid) && url!.endsWith('/src/daemon/checker-process.js')), 'the hook saw the checker process');
  assert.deepEqual(all.filter(([, , url]) => url!.includes('/node_modules/netlink/')).map(([, pid, url, parent]) => `${pid} ${url} from ${parent}`), []);

  // node:http is for --http and --metrics, node:tls for a TLS check: neither is asked for here.
  const lists = readdirSync(builtins).map((pid) => ({ pid, modules: readFileSync(join(builtins, pid), 'utf8').split('\n') }));
  assert.ok(lists.some((l) => l.pid === String(child.pid)) && lists.length >= 2, `builtins written by ${lists.map((l) => l.pid).join(', ')}`);
  assert.ok(lists.every((l) => l.modules.includes('NativeModule net')), 'the lists hold the builtins loaded');
  assert.deepEqual(lists.flatMap((l) => l.modules.filter((m) => /^NativeModule (http|https|tls|_http_server|_tls_wrap)$/.test(m)).map((m) => `${l.pid} ${m}`)), []);
});
