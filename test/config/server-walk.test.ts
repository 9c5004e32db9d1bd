// ServerWalk finds a new config's servers among the running ones as an index would, whatever a reload did to the
// order: kept, removed, added, moved.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ServerWalk } from '../../src/config/identity.js';
import { seededRandom } from '../support/seeded-random.js';

test('every server is found as by its id, and those never asked for are the removed ones', () => {
  const random = seededRandom(7);
  for (let round = 0; round < 500; round++) {
    const running = Array.from({ length: Math.floor(random() * 40) }, (_, i) => ({ id: `rs${i}` }));
    const next = running.filter(() => random() < 0.8).map((s) => s.id);
    for (let n = Math.floor(random() * 5); n > 0; n--) next.splice(Math.floor(random() * (next.length + 1)), 0, `new${round}-${n}`);
    if (random() < 0.3 && next.length > 1) next.push(next.splice(Math.floor(random() * next.length), 1)[0]!);
    const walk = new ServerWalk(running, (s) => s.id);
    for (const id of next) assert.equal(walk.find(id), running.find((s) => s.id === id), `round ${round}: ${id}`);
    assert.deepEqual(walk.unfound(), running.filter((s) => !next.includes(s.id)), `round ${round}: removed`);
  }
});
