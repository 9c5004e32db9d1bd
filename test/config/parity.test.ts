// `lvskeeper -t` beside `keepalived -t` (2.2.7) on every fixture: same exit code, both run in a namespace with an
// eth0 (the fixtures name eth0; `lo` is refused for VRRP).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { withConfigTestNamespace } from '../support/config-test-ns.js';
import { repoRoot } from '../support/tier.js';

const NS = 'lvskp-parity';
const cli = join(repoRoot, 'dist/bin/lvskeeper.js');
const dir = join(repoRoot, 'test/fixtures/conf');

function fixtures(d: string): string[] {
  return readdirSync(d).sort().flatMap((name) => {
    const p = join(d, name);
    if (statSync(p).isDirectory()) return name === 'conf.d' ? [] : fixtures(p);
    return name.endsWith('.conf') ? [p] : [];
  });
}

test('lvskeeper -t exits like keepalived -t on every fixture', (t) => {
  withConfigTestNamespace(t, NS, (inNs) => {
    const files = fixtures(dir);
    assert.ok(files.length >= 12);
    const rows = files.map((f) => {
      const args = ['-t', '-i', 'lvskp-a', '-f', f];
      return { f: f.slice(dir.length + 1), keepalived: inNs('keepalived', args).status, lvskeeper: inNs(process.execPath, [cli, ...args]).status };
    });
    assert.deepEqual(rows.filter((r) => r.keepalived !== r.lvskeeper), []);
    // The fixtures exercise every exit status but 4 (which needs -e).
    assert.deepEqual([...new Set(rows.map((r) => r.keepalived))].sort(), [0, 2, 5, 6]);
    const missing = join(dir, 'no-such-file.conf');
    assert.equal(inNs('keepalived', ['-t', '-e', '-f', missing]).status, 4);
    assert.equal(inNs(process.execPath, [cli, '-t', '-e', '-f', missing]).status, 4);
  });
});
