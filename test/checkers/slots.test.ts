import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Slots } from '../../checkers/slots.js';

function harness(limit: number): { slots: Slots<string>; started: string[]; finish: (item: string) => void } {
  const started: string[] = [];
  const pending = new Map<string, () => void>();
  const slots = new Slots<string>(limit, (item, done) => {
    started.push(item);
    pending.set(item, done);
  });
  const finish = (item: string): void => {
    const done = pending.get(item);
    assert.ok(done, `${item} is not running`);
    pending.delete(item);
    done();
  };
  return { slots, started, finish };
}

test('no more than the limit run at once; the rest wait in submission order', () => {
  const { slots, started, finish } = harness(2);
  for (const item of ['a', 'b', 'c', 'd', 'e']) slots.submit(item);
  assert.deepEqual(started, ['a', 'b']);
  assert.equal(slots.running, 2);
  assert.equal(slots.queued, 3);
  finish('b');
  assert.deepEqual(started, ['a', 'b', 'c']);
  assert.equal(slots.running, 2);
  finish('a');
  finish('c');
  assert.deepEqual(started, ['a', 'b', 'c', 'd', 'e']);
  assert.equal(slots.queued, 0);
  finish('d');
  finish('e');
  assert.equal(slots.running, 0);
  slots.submit('f');
  assert.deepEqual(started.at(-1), 'f');
});

test('clear hands back the waiting items and leaves running ones alone', () => {
  const { slots, started, finish } = harness(1);
  slots.submit('a');
  slots.submit('b');
  slots.submit('c');
  assert.deepEqual(slots.clear(), ['b', 'c']);
  assert.equal(slots.queued, 0);
  finish('a');
  assert.equal(slots.running, 0);
  assert.deepEqual(started, ['a']);
});

test('a limit below one is refused', () => {
  assert.throws(() => new Slots(0, () => undefined), /at least 1/);
});
