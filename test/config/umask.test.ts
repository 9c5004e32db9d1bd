// global_defs `umask` and `log_unknown_vrids` as keepalived 2.2.7 reads them: every form of umask value (numbers in
// C notation, the symbolic S_I* names joined by `|`) and the malformed ones, compared line for line and status for
// status with `keepalived -t`; the value each accepted one sets; and -u/--umask's refusal line.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { exitCodeFor, parseConfigText, UNIMPLEMENTED_PREFIX } from '../../src/config/load.js';
import { withConfigTestNamespace } from '../support/config-test-ns.js';
import { hasCommand, need, repoRoot } from '../support/tier.js';

/** Each umask line's words and the mask it sets (undefined: refused, or no value at all). */
const UMASKS: readonly [string, number | undefined][] = [
  ['', undefined], ['022', 0o22], ['0', 0], ['9', 9], ['0x1F', 0x1f], ['0X1f', 0x1f], ['0777', 0o777], ['511', 0o777],
  ['0x', undefined], ['08', undefined], ['01000', undefined], ['512', undefined], ['1a', undefined], ['077x', undefined],
  ['99999999999999999999', undefined], ['022 033', undefined], ['022 IRUSR', undefined],
  ['IRUSR', 0o400], ['IRGRP|IWOTH', 0o42], ['IRGRP | IWOTH', 0o42], ['IRGRP |IWOTH', 0o42], ['IRGRP| IWOTH', 0o42],
  ['IXUSR|IWGRP|IXGRP|IWOTH|IXOTH', 0o133], ['IRUSR|IWUSR|IXUSR|IRGRP|IWGRP|IXGRP|IROTH|IWOTH|IXOTH', 0o777],
  ['IRGRP IWOTH', undefined], ['IRGRP|', undefined], ['|IRGRP', undefined], ['IRGRP||IWOTH', undefined],
  ['IRGRPX', undefined], ['FOO|IRGRP', undefined], ['IRGRP|FOO', undefined], ['IRGRP|IWOTH|FOO|IXOTH', undefined],
  ['irgrp', undefined], ['-1', undefined], ['IRGRP | | IWOTH', undefined], ['IRGRP |', undefined],
];

const config = (line: string): string => `global_defs {\n  ${line}\n}\n`;

function keepalivedLines(diagnostics: readonly { message: string }[]): string[] {
  return diagnostics.map((d) => d.message).filter((m) => !m.startsWith(UNIMPLEMENTED_PREFIX));
}

test('umask: the mask each form sets, and a refused or absent one leaves it unset', () => {
  for (const [words, mask] of UMASKS) {
    const r = parseConfigText(config(`umask ${words}`), { file: 'keepalived.conf' });
    assert.equal(r.config.global.umask, mask, `umask ${words}`);
  }
  // The last accepted line wins; a refused one after it changes nothing (umask_handler returns before umask()).
  assert.equal(parseConfigText(config('umask 027\n  umask 022'), {}).config.global.umask, 0o22);
  assert.equal(parseConfigText(config('umask 027\n  umask 08'), {}).config.global.umask, 0o27);
  assert.equal(parseConfigText(config('log_unknown_vrids'), {}).config.global.logUnknownVrids, true);
  assert.equal(parseConfigText(config('router_id x'), {}).config.global.logUnknownVrids, false);
});

test("umask and log_unknown_vrids given every form: keepalived 2.2.7's lines and status", (t) => {
  withConfigTestNamespace(t, 'lvskp-umask', (inNs) => {
    const dir = mkdtempSync(join(tmpdir(), 'lvskp-umask-'));
    try {
      const file = join(dir, 'keepalived.conf');
      const lines = [...UMASKS.map(([w]) => `umask ${w}`), 'log_unknown_vrids', 'log_unknown_vrids yes please'];
      let refused = 0;
      const differ = lines.flatMap((line) => {
        const text = config(line);
        writeFileSync(file, text);
        const ka = inNs('keepalived', ['-t', '-f', file]);
        const keepalived = { status: ka.status, lines: ka.stderr.split('\n').filter(Boolean).map((l) => l.replace(/^\([^)]*Line \d+\) /, '')) };
        if (keepalived.lines.length > 0) refused++;
        const r = parseConfigText(text, { file });
        const lvskeeper = { status: exitCodeFor(r.diagnostics), lines: keepalivedLines(r.diagnostics) };
        return JSON.stringify(keepalived) === JSON.stringify(lvskeeper) ? [] : [{ line, keepalived, lvskeeper }];
      });
      assert.deepEqual(differ, []);
      // Every refused (or missing) value printed a line.
      assert.equal(refused, UMASKS.filter(([, m]) => m === undefined).length);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

test('-u/--umask: a refused mask is reported in keepalived\'s words and the config is still checked', (t) => {
  if (!need(t, hasCommand('keepalived'), "needs 'keepalived' 2.2.7 (apt-get install keepalived)")) return;
  const dir = mkdtempSync(join(tmpdir(), 'lvskp-umask-'));
  try {
    const file = join(dir, 'keepalived.conf');
    writeFileSync(file, config('umask 022'));
    for (const [flag, mask] of [['-u', '08'], ['--umask', '0x1000'], ['-u', '077'], ['--umask', '0x3f']] as const) {
      const ka = spawnSync('keepalived', ['-t', flag, mask, '-f', file], { encoding: 'utf8' });
      const lk = spawnSync(process.execPath, [join(repoRoot, 'dist/bin/lvskeeper.js'), '-t', flag, mask, '-f', file], { encoding: 'utf8' });
      assert.equal(lk.status, ka.status, `${flag} ${mask}`);
      // keepalived prints its line without a newline; lvskeeper ends it.
      assert.equal(lk.stderr.trim(), ka.stderr.trim(), `${flag} ${mask}`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
