import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from '../support/tempdir.js';
import { OverrideStore, applyOverride } from '../../src/daemon/overrides.js';

const web1 = { vs: '[192.0.2.10]:tcp:80', rs: '[192.0.2.21]:tcp:80' };
const web2 = { vs: '[192.0.2.10]:tcp:80', rs: '[192.0.2.22]:tcp:80' };

test('overrides persist across a restart and are pruned when their server leaves the config', (t) => {
  const path = join(tempDir(t, 'lvsk-ovr-'), 'state', 'overrides.json');
  const first = new OverrideStore(path);
  first.set(web1, { kind: 'drain' });
  first.set(web2, { kind: 'weight', weight: 7 });
  const second = new OverrideStore(path);
  assert.deepEqual(second.get(web1), { kind: 'drain' });
  assert.deepEqual(second.get(web2), { kind: 'weight', weight: 7 });
  const dropped = second.prune((k) => k.rs !== web2.rs);
  assert.deepEqual(dropped.map((d) => d.rs), [web2.rs]);
  assert.equal(new OverrideStore(path).get(web2), undefined);
  assert.equal(second.clear(web1), true);
  assert.equal(second.clear(web1), false);
  assert.deepEqual(new OverrideStore(path).list(), []);
});

test('a corrupt state file is moved aside and reported, not fatal', (t) => {
  const path = join(tempDir(t, 'lvsk-ovr-'), 'overrides.json');
  writeFileSync(path, '{"overrides":[{"vs":1}]}');
  const store = new OverrideStore(path);
  assert.equal(store.list().length, 0);
  assert.equal(store.loadErrors.length, 1);
  assert.match(store.loadErrors[0]!, /moved to .*overrides\.json\.corrupt/);
  assert.equal(readFileSync(`${path}.corrupt`, 'utf8'), '{"overrides":[{"vs":1}]}');
  assert.equal(existsSync(path), false);
});

test('drain forces weight 0, a weight override replaces the weight, no override keeps it', () => {
  assert.equal(applyOverride({ kind: 'drain' }, 5), 0);
  assert.equal(applyOverride({ kind: 'weight', weight: 3 }, 5), 3);
  assert.equal(applyOverride(undefined, 5), 5);
});
