// Property: random mutations of valid configs never throw — not in the loader (many runs in process) and not
// past the CLI boundary (a bounded number of real `lvskeeper -t` runs): always an exit status of 0/4/5/6 and
// diagnostics that name a file, never a stack trace.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { exitCodeFor, formatDiagnostic, parseConfigText } from '../../src/config/load.js';
import { dumpConfig } from '../../src/config/dump.js';
import { repoRoot } from '../support/tier.js';
import { seededRandom } from '../support/seeded-random.js';

const dir = join(repoRoot, 'test/fixtures/conf');
const seeds = readdirSync(dir).filter((f) => f.endsWith('.conf')).sort().map((f) => readFileSync(join(dir, f), 'utf8'));

const SPICE = ['{', '}', '"', "'", '#', '!', '$', '${', '@', '~SEQ(', '~LST(', ')', '\\', '\n', ' ', '\0', '-1', '99999999999', '0.0000001', 'include ', '$X=\\\n', 'virtual_server', 'real_server', 'vrrp_instance', '/', ':', '::'];

function mutate(text: string, r: () => number): string {
  let s = text;
  const n = 1 + Math.floor(r() * 6);
  for (let i = 0; i < n; i++) {
    const pos = Math.floor(r() * (s.length + 1));
    const op = Math.floor(r() * 6);
    if (op === 0) s = s.slice(0, pos) + s.slice(pos + 1 + Math.floor(r() * 20));
    else if (op === 1) s = s.slice(0, pos) + SPICE[Math.floor(r() * SPICE.length)]! + s.slice(pos);
    else if (op === 2) s = s.slice(0, pos) + String.fromCharCode(Math.floor(r() * 256)) + s.slice(pos);
    else if (op === 3) {
      const lines = s.split('\n');
      const a = Math.floor(r() * lines.length);
      lines.splice(Math.floor(r() * lines.length), 0, lines[a] ?? '');
      s = lines.join('\n');
    } else if (op === 4) {
      const lines = s.split('\n');
      lines.splice(Math.floor(r() * lines.length), 1);
      s = lines.join('\n');
    } else s = s.slice(0, pos);
  }
  return s;
}

test('the loader never throws on mutated configs', () => {
  const r = seededRandom(20261122);
  for (let i = 0; i < 3000; i++) {
    const seed = seeds[i % seeds.length]!;
    const text = mutate(seed, r);
    let result;
    try {
      result = parseConfigText(text, { file: join(dir, 'fuzz.conf'), configId: 'lvskp-a', checkInterfaces: i % 2 === 0 });
    } catch (err) {
      assert.fail(`iteration ${i} threw ${String(err)} on:\n${text}`);
    }
    assert.ok([0, 2, 4, 5, 6].includes(exitCodeFor(result.diagnostics)));
    for (const d of result.diagnostics) assert.match(formatDiagnostic(d), /^.*fuzz\.conf(:\d+)?: ./s);
    assert.doesNotThrow(() => JSON.parse(dumpConfig(result.config)));
  }
});

test('the CLI never crashes on mutated configs', () => {
  const work = mkdtempSync(join(tmpdir(), 'lvskp-fuzz-'));
  try {
    const r = seededRandom(7);
    for (let i = 0; i < 24; i++) {
      const f = join(work, `m${i}.conf`);
      writeFileSync(f, mutate(seeds[i % seeds.length]!, r));
      const res = spawnSync(process.execPath, [join(repoRoot, 'dist/bin/lvskeeper.js'), '-t', '-f', f], { encoding: 'utf8', timeout: 30_000 });
      assert.ok([0, 2, 4, 5, 6].includes(res.status ?? -1), `status ${res.status} for ${f}: ${res.stderr}`);
      assert.doesNotMatch(res.stderr, /\n\s+at .+:\d+:\d+/, `stack trace for ${f}`);
    }
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
});
