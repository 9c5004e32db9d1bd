// The configs shipped in config/ are meant to be copied: `lvskeeper -t` and keepalived 2.2.7's `-t` must both accept
// each of them (exit 0) for every director id it names.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { withConfigTestNamespace } from '../support/config-test-ns.js';
import { repoRoot } from '../support/tier.js';

const NS = 'lvskp-examples';
const cli = join(repoRoot, 'dist/bin/lvskeeper.js');
const dir = join(repoRoot, 'config');

/** The `@id` names a config uses, or one arbitrary id when it has none. */
function ids(file: string): string[] {
  const found = [...readFileSync(file, 'utf8').matchAll(/^@\^?([\w.-]+)\s/gm)].map((m) => m[1]!);
  return found.length > 0 ? [...new Set(found)] : ['lvskp-any'];
}

test('the two-director example gives lb1 MASTER at 150 and lb2 BACKUP at 100 from one file', () => {
  const seen = ['lb1', 'lb2'].map((id) => {
    const r = spawnSync(process.execPath, [cli, '--dump-conf', '-i', id, '-f', join(dir, 'lvs-dr.conf')], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    const conf = JSON.parse(r.stdout) as { global: { routerId: string }; vrrpInstances: { initialState: string; priority: number }[] };
    return [conf.global.routerId, conf.vrrpInstances[0]?.initialState, conf.vrrpInstances[0]?.priority];
  });
  assert.deepEqual(seen, [['lb1', 'MASTER', 150], ['lb2', 'BACKUP', 100]]);
});

test('every config in config/ passes lvskeeper -t and keepalived -t for each director id it names', (t) => {
  withConfigTestNamespace(t, NS, (inNs) => {
    const files = readdirSync(dir).filter((n) => n.endsWith('.conf')).map((n) => join(dir, n));
    assert.ok(files.length >= 2, files.join(' '));
    for (const f of files) {
      for (const id of ids(f)) {
        const args = ['-t', '-i', id, '-f', f];
        const ours = inNs(process.execPath, [cli, ...args]);
        assert.equal(ours.status, 0, `lvskeeper ${args.join(' ')}: ${ours.stderr}`);
        assert.equal(ours.stderr, '', `lvskeeper ${args.join(' ')} reported problems`);
        const theirs = inNs('keepalived', args);
        assert.equal(theirs.status, 0, `keepalived ${args.join(' ')}: ${theirs.stderr}`);
      }
    }
  });
});
