// The subcommands load only when the command line can name one: `-t` loads none of their modules, every
// registered subcommand's name opens the gate, and help still lists them all.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command } from 'commander';
import { registerSubcommands, SUBCOMMAND_WORDS } from '../../src/cli/subcommands.js';
import { repoRoot } from '../support/tier.js';

const cli = join(repoRoot, 'dist/bin/lvskeeper.js');

// A resolve hook that prints every module URL the CLI loads (hooks run on their own thread; _rawDebug reaches stderr).
const HOOK = 'export async function resolve(s, c, next) { const r = await next(s, c); process._rawDebug("LOADED " + r.url); return r; }';
const REGISTER = `import { register } from 'node:module'; register(${JSON.stringify(`data:text/javascript,${encodeURIComponent(HOOK)}`)});`;

function loaded(args: string[]): { status: number | null; modules: string[]; stdout: string } {
  const r = spawnSync(process.execPath, ['--import', `data:text/javascript,${encodeURIComponent(REGISTER)}`, cli, ...args], { encoding: 'utf8', timeout: 60_000 });
  const modules = r.stderr.split('\n').filter((l) => l.startsWith('LOADED ')).map((l) => l.slice('LOADED '.length));
  return { status: r.status, modules, stdout: r.stdout };
}

test('every registered subcommand is named in SUBCOMMAND_WORDS', async () => {
  const program = new Command('lvskeeper');
  await registerSubcommands(program, ['--help']);
  const names = program.commands.map((c) => c.name());
  assert.ok(names.length >= 8, `subcommands registered: ${names.join(', ')}`);
  for (const name of names) assert.ok(SUBCOMMAND_WORDS.has(name), `${name} missing from SUBCOMMAND_WORDS`);
});

test('-t loads neither the subcommands nor the control socket client, net or crypto', () => {
  const dir = mkdtempSync(join(tmpdir(), 'lvskp-sub-'));
  try {
    const f = join(dir, 'k.conf');
    writeFileSync(f, 'global_defs {\n router_id a\n}\n');
    const r = loaded(['-t', '-f', f]);
    assert.equal(r.status, 0);
    assert.ok(r.modules.some((m) => /\/src\/(config\/load|cli\/config-test\.bundle)\.js$/.test(m)), 'the hook saw the config loader');
    const unwanted = r.modules.filter((m) => /\/src\/cli\/(daemon-client|operator|genhash|ipvs-list)\.js$|\/src\/daemon\/|^node:(net|crypto)$/.test(m));
    assert.deepEqual(unwanted, []);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('--help lists every subcommand, and a subcommand runs', () => {
  const help = loaded(['--help']);
  assert.equal(help.status, 0);
  for (const name of ['demo', 'ipvs', 'genhash', 'drain', 'undrain', 'weight', 'events', 'status', 'json-dump']) {
    assert.match(help.stdout, new RegExp(`^  ${name} `, 'm'));
  }
  const status = spawnSync(process.execPath, [cli, 'status', '--socket', join(tmpdir(), 'lvskp-no-such.sock')], { encoding: 'utf8' });
  assert.equal(status.status, 1);
  assert.match(status.stderr, /no running lvskeeper/);
});
