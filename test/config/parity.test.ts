// `lvskeeper -t` beside `keepalived -t` (2.2.7) on every fixture: same exit code. Both run in a network namespace
// this test creates, holding a veth called eth0, so the interface checks see the same, known set of interfaces
// on any host (the fixtures name eth0; `lo` exists in every namespace and is refused for VRRP).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { hasCommand, isRoot, need, repoRoot } from '../support/tier.js';

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

function inNs(cmd: string, args: string[]): number | null {
  return spawnSync('ip', ['netns', 'exec', NS, cmd, ...args], { stdio: 'ignore', timeout: 60_000 }).status;
}

test('lvskeeper -t exits like keepalived -t on every fixture', (t) => {
  if (!need(t, isRoot(), 'needs root (creates a network namespace)')) return;
  if (!need(t, hasCommand('keepalived'), "needs 'keepalived' 2.2.7 (apt-get install keepalived)")) return;
  if (!need(t, hasCommand('ip'), "needs 'ip' (apt-get install iproute2)")) return;
  spawnSync('ip', ['netns', 'del', NS], { stdio: 'ignore' });
  assert.equal(spawnSync('ip', ['netns', 'add', NS]).status, 0);
  try {
    assert.equal(spawnSync('ip', ['-n', NS, 'link', 'add', 'eth0', 'type', 'veth', 'peer', 'name', 'eth1']).status, 0);
    const files = fixtures(dir);
    assert.ok(files.length >= 12);
    const rows = files.map((f) => {
      const args = ['-t', '-i', 'lvskp-a', '-f', f];
      return { f: f.slice(dir.length + 1), keepalived: inNs('keepalived', args), lvskeeper: inNs(process.execPath, [cli, ...args]) };
    });
    assert.deepEqual(rows.filter((r) => r.keepalived !== r.lvskeeper), []);
    // The fixtures exercise every exit status but 4 (which needs -e).
    assert.deepEqual([...new Set(rows.map((r) => r.keepalived))].sort(), [0, 5, 6]);
    const missing = join(dir, 'no-such-file.conf');
    assert.equal(inNs('keepalived', ['-t', '-e', '-f', missing]), 4);
    assert.equal(inNs(process.execPath, [cli, '-t', '-e', '-f', missing]), 4);
  } finally {
    spawnSync('ip', ['netns', 'del', NS], { stdio: 'ignore' });
  }
});
