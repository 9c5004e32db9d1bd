// readConfigTestArgs reads `-t` / `--dump-conf` command lines without commander: every command line it answers for
// must give exactly commander's options, and `-t` must then load no commander module (nor node's stream modules,
// which node:fs's module facade would load).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command } from 'commander';
import { addRootOptions, readConfigTestArgs } from '../../src/cli/root-options.js';
import { repoRoot } from '../support/tier.js';

/** The root options as commander parses them (undefined when it refuses the command line). */
function commanderOpts(args: readonly string[]): Record<string, unknown> | undefined {
  const program = new Command('lvskeeper').version('0.1.0', '-v, --version');
  addRootOptions(program);
  program.enablePositionalOptions().exitOverride().configureOutput({ writeOut: () => {}, writeErr: () => {} });
  program.action(() => {});
  try {
    program.parse([...args], { from: 'user' });
  } catch {
    return undefined;
  }
  return { ...program.opts() };
}

const WORDS = [
  '-t', '--config-test', '--dump-conf', '-f', '--use-file', '--use-file=a.conf', '--use-file=', '--config-test=log',
  'k.conf', '-', '-5', '--', '-e', '-i', 'host1', '--strict-compat', '-n', '-l', '-D', '-P', '-C', '-p', '--metrics',
  '-tn', '-fk.conf', '--dump-conf=1', '-h', '--help', '-v', 'ipvs', '--bogus', '-x', '--child-timeout', '--vrrp_pid',
];

test('every command line readConfigTestArgs answers for gives commander\'s options', () => {
  let answered = 0;
  let lines = 0;
  const check = (args: string[]): void => {
    lines++;
    const quick = readConfigTestArgs(args);
    if (quick === undefined) return;
    answered++;
    assert.deepEqual({ ...quick }, commanderOpts(args), args.join(' '));
  };
  // Every command line of up to three words from WORDS, and the four-word ones that start with -t or -f.
  for (const a of WORDS) {
    check([a]);
    for (const b of WORDS) {
      check([a, b]);
      for (const c of WORDS) {
        check([a, b, c]);
        if (a === '-t' || a === '-f') for (const d of WORDS) check([a, b, c, d]);
      }
    }
  }
  // The common forms are answered here, not left to commander.
  for (const args of [['-t'], ['-t', '-f', 'k.conf'], ['--config-test', '--use-file', 'k.conf'], ['-t', 'log', '-f', 'k.conf'],
    ['-f', 'k.conf', '-t'], ['-t', '-e', '-i', 'host1', '-f', 'k.conf'], ['--dump-conf', '-f', 'k.conf'], ['-t', '--strict-compat']]) {
    assert.ok(readConfigTestArgs(args) !== undefined, args.join(' '));
    check(args);
  }
  assert.ok(answered > 1000, `${answered} of ${lines} command lines answered`);
});

test('-t loads no commander module and no node stream module; --help still goes through commander', () => {
  const dir = mkdtempSync(join(tmpdir(), 'lvskp-root-'));
  try {
    const f = join(dir, 'k.conf');
    writeFileSync(f, 'global_defs {\n router_id a\n}\n');
    const hook = 'export async function resolve(s, c, next) { const r = await next(s, c); process._rawDebug("LOADED " + r.url); return r; }';
    const resolveHook = `import { register } from 'node:module'; register(${JSON.stringify(`data:text/javascript,${encodeURIComponent(hook)}`)});`;
    // node's own modules, listed as the process exits: a facade's getters load them without any resolve. Run without
    // the resolve hook, whose thread loads the stream modules itself.
    const exitHook = 'process.on("exit", () => process._rawDebug(process.moduleLoadList.map((m) => "LOADED " + m).join("\\n")));';
    const cli = join(repoRoot, 'dist/bin/lvskeeper.js');
    const run = (hookCode: string, args: string[]): { status: number | null; modules: string[]; stdout: string } => {
      const r = spawnSync(process.execPath, ['--import', `data:text/javascript,${encodeURIComponent(hookCode)}`, cli, ...args], { encoding: 'utf8', timeout: 60_000 });
      return { status: r.status, stdout: r.stdout, modules: r.stderr.split('\n').filter((l) => l.startsWith('LOADED ')) };
    };
    const t = run(resolveHook, ['-t', '-f', f]);
    assert.equal(t.status, 0);
    // The config loader, as its module or inside the -t bundle (test/cli/config-test-bundle.test.ts says which).
    assert.ok(t.modules.some((m) => /\/src\/(config\/load|cli\/config-test\.bundle)\.js$/.test(m)), 'the hook saw the config loader');
    assert.deepEqual(t.modules.filter((m) => /commander/.test(m)), []);
    const n = run(exitHook, ['-t', '-f', f]);
    assert.equal(n.status, 0);
    assert.ok(n.modules.includes('LOADED NativeModule fs'), 'the exit hook listed node\'s modules');
    assert.deepEqual(n.modules.filter((m) => /NativeModule (stream|internal\/fs\/streams)$/.test(m)), []);
    const h = run(resolveHook, ['--help']);
    assert.equal(h.status, 0);
    assert.match(h.stdout, /--config-test \[LOGFILE\]/);
    assert.ok(h.modules.some((m) => /commander/.test(m)));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
