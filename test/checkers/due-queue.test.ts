import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DueQueue, type Queued } from '../../checkers/due-queue.js';
import { FakeClock } from '../../src/clock.js';

interface Item extends Queued {
  readonly name: string;
}

const item = (name: string): Item => ({ name, dueAt: 0, queuedAt: -1, queuedSeq: 0 });

function harness(onFire?: (it: Item, q: DueQueue<Item>) => void, earlyMs = 0): { clock: FakeClock; q: DueQueue<Item>; fired: string[] } {
  const clock = new FakeClock();
  const fired: string[] = [];
  const q: DueQueue<Item> = new DueQueue<Item>(clock, (it) => {
    fired.push(`${it.name}@${clock.now()}`);
    onFire?.(it, q);
  }, earlyMs);
  return { clock, q, fired };
}

test('items fire at their due time, in due order, those due together in the order they were queued', () => {
  const { clock, q, fired } = harness();
  const [a, b, c, d] = ['a', 'b', 'c', 'd'].map(item) as [Item, Item, Item, Item];
  q.add(c, 30);
  q.add(a, 10);
  q.add(d, 30);
  q.add(b, 20);
  assert.equal(clock.pendingTimers(), 1, 'one clock timer for the whole queue');
  clock.advance(9);
  assert.deepEqual(fired, []);
  clock.advance(100);
  assert.deepEqual(fired, ['a@10', 'b@20', 'c@30', 'd@30']);
  assert.equal(q.size, 0);
  assert.equal(clock.pendingTimers(), 0);
});

test('queuing an item again moves it; removing it keeps it from firing and disarms an empty queue', () => {
  const { clock, q, fired } = harness();
  const a = item('a');
  const b = item('b');
  q.add(a, 10);
  q.add(b, 20);
  q.add(a, 50);
  clock.advance(30);
  assert.deepEqual(fired, ['b@20']);
  q.remove(a);
  assert.equal(q.has(a), false);
  assert.equal(clock.pendingTimers(), 0, 'no timer left to keep the process alive');
  clock.advance(100);
  assert.deepEqual(fired, ['b@20']);
});

test('an item taken out by another firing of the same batch does not fire; one queued again waits for its time', () => {
  const [a, b, c] = ['a', 'b', 'c'].map(item) as [Item, Item, Item];
  const { clock, q, fired } = harness((it, queue) => {
    if (it === a) queue.remove(b);
    if (it === c && fired.length < 3) queue.add(c, 0);
  });
  // How many had fired when each clock timer went off.
  const batches: number[] = [];
  const setTimeout = clock.setTimeout.bind(clock);
  clock.setTimeout = (fn, ms) => setTimeout(() => (batches.push(fired.length), fn()), ms);
  q.add(a, 10);
  q.add(b, 10);
  q.add(c, 10);
  clock.advance(10);
  // c queued itself with no delay from inside its firing: it fired again on the next timer, not in that batch.
  assert.deepEqual(fired, ['a@10', 'c@10', 'c@10']);
  assert.deepEqual(batches, [0, 2]);
});

test('with node\'s granularity, an item due within a millisecond of the timer fires with it', () => {
  const { clock, q, fired } = harness(undefined, 1);
  q.add(item('a'), 10);
  q.add(item('b'), 10.6);
  q.add(item('c'), 11.5);
  clock.advance(20);
  assert.deepEqual(fired, ['a@10', 'b@10', 'c@11.5']);
});

test('agrees with a sorted list over random adds, moves and removes', () => {
  let seed = 7;
  const random = (): number => {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    return seed / 2 ** 31;
  };
  const { clock, q, fired } = harness();
  const items = Array.from({ length: 200 }, (_, i) => item(`i${i}`));
  const expected = new Map<Item, { at: number; seq: number }>();
  let seq = 0;
  for (let round = 0; round < 20; round++) {
    for (let k = 0; k < 100; k++) {
      const it = items[Math.floor(random() * items.length)]!;
      if (random() < 0.2) {
        q.remove(it);
        expected.delete(it);
      } else {
        const delay = Math.floor(random() * 50);
        q.add(it, delay);
        expected.set(it, { at: clock.now() + delay, seq: ++seq });
      }
    }
    const until = clock.now() + 25;
    const due = [...expected].filter(([, e]) => e.at <= until).sort(([, x], [, y]) => x.at - y.at || x.seq - y.seq);
    fired.length = 0;
    clock.advance(25);
    assert.deepEqual(fired, due.map(([it, e]) => `${it.name}@${e.at}`), `round ${round}`);
    for (const [it] of due) expected.delete(it);
    assert.equal(q.size, expected.size);
  }
});
