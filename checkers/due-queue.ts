// The checker engine's one timer for all its probes: a binary heap of probes by due time, and one clock timer armed
// for the earliest. A Node timer per probe cost a Timeout, its closure and a handle each: 7 MB at 30,000 real
// servers, and three objects made at every check that lived until the next one, so that each was promoted and then
// left as old-generation garbage.
import type { Clock, TimerHandle } from '../src/clock.js';

/**
 * Node's timers count whole milliseconds of the loop's clock, so one fires up to a millisecond before
 * performance.now() reaches its deadline. An item due within that is due, as it was on a timer of its own: otherwise
 * the queue would wake once more, a millisecond later, for most checks.
 */
const NODE_TIMER_GRANULARITY_MS = 1;

/** What the queue keeps on each item, so that it needs no map of its own. */
export interface Queued {
  /** The clock's time at which the item is due. */
  dueAt: number;
  /** The item's place in the heap; -1 when it is not queued. */
  queuedAt: number;
  /** The order of queuing: items due at the same time fire in it, as timers of the same deadline do. */
  queuedSeq: number;
}

export class DueQueue<T extends Queued> {
  private readonly heap: T[] = [];
  private seq = 0;
  private timer: TimerHandle | undefined;
  /** When the clock timer fires; Infinity with none. */
  private timerAt = Infinity;

  /** `earlyMs`: how long before its time an item may fire (a fake clock's tests give 0). */
  constructor(
    private readonly clock: Clock,
    private readonly fire: (item: T) => void,
    private readonly earlyMs = NODE_TIMER_GRANULARITY_MS,
  ) {}

  get size(): number {
    return this.heap.length;
  }

  has(item: T): boolean {
    return item.queuedAt >= 0;
  }

  /** Queues `item` to fire `delayMs` from now; one already queued moves. */
  add(item: T, delayMs: number): void {
    if (item.queuedAt >= 0) this.unlink(item);
    item.dueAt = this.clock.now() + delayMs;
    item.queuedSeq = ++this.seq;
    item.queuedAt = this.heap.length;
    this.heap.push(item);
    this.up(item.queuedAt);
    if (item.dueAt < this.timerAt) this.arm();
  }

  /** Takes `item` out of the queue: it does not fire, even when already taken out for the batch now firing. */
  remove(item: T): void {
    this.unlink(item);
    item.queuedSeq = ++this.seq;
    // An armed timer would keep the process alive for nothing.
    if (this.heap.length === 0) this.clear();
  }

  private unlink(item: T): void {
    const i = item.queuedAt;
    if (i < 0) return;
    item.queuedAt = -1;
    const last = this.heap.pop()!;
    if (last === item) return;
    this.heap[i] = last;
    last.queuedAt = i;
    this.up(i);
    this.down(last.queuedAt);
    // The clock timer stays armed for an earlier time, at worst: it then finds nothing due and is set again.
  }

  clear(): void {
    for (const item of this.heap) item.queuedAt = -1;
    this.heap.length = 0;
    if (this.timer) this.clock.clearTimeout(this.timer);
    this.timer = undefined;
    this.timerAt = Infinity;
  }

  /**
   * Everything due now, in due order. The items are taken out first and fired after: one that a firing queues again
   * (a zero delay included) waits for the next timer, as it would on a timer of its own.
   */
  private expire(): void {
    this.timer = undefined;
    this.timerAt = Infinity;
    const now = this.clock.now() + this.earlyMs;
    const due: T[] = [];
    const seqs: number[] = [];
    while (this.heap.length > 0 && this.heap[0]!.dueAt <= now) {
      const item = this.heap[0]!;
      this.unlink(item);
      due.push(item);
      seqs.push(item.queuedSeq);
    }
    if (this.heap.length > 0) this.arm();
    for (let k = 0; k < due.length; k++) {
      const item = due[k]!;
      // Taken out or queued again by an earlier firing of this batch: that stands.
      if (item.queuedSeq !== seqs[k]) continue;
      this.fire(item);
    }
  }

  private arm(): void {
    const at = this.heap[0]!.dueAt;
    if (this.timer) this.clock.clearTimeout(this.timer);
    this.timerAt = at;
    this.timer = this.clock.setTimeout(() => this.expire(), Math.max(0, at - this.clock.now()));
  }

  private before(a: T, b: T): boolean {
    return a.dueAt < b.dueAt || (a.dueAt === b.dueAt && a.queuedSeq < b.queuedSeq);
  }

  private up(i: number): void {
    const heap = this.heap;
    const item = heap[i]!;
    while (i > 0) {
      const p = (i - 1) >> 1;
      const parent = heap[p]!;
      if (!this.before(item, parent)) break;
      heap[i] = parent;
      parent.queuedAt = i;
      i = p;
    }
    heap[i] = item;
    item.queuedAt = i;
  }

  private down(i: number): void {
    const heap = this.heap;
    const n = heap.length;
    const item = heap[i]!;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= n) break;
      const r = l + 1;
      const c = r < n && this.before(heap[r]!, heap[l]!) ? r : l;
      const child = heap[c]!;
      if (!this.before(child, item)) break;
      heap[i] = child;
      child.queuedAt = i;
      i = c;
    }
    heap[i] = item;
    item.queuedAt = i;
  }
}
