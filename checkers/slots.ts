// Bounded concurrency for check attempts: an item starts at once while a slot is free, otherwise it waits in FIFO
// order and takes the slot of the next attempt to finish. p-queue 9 did this job first, at about 35 µs of CPU per
// task (an id, a symbol, a running-task map entry and several events each); at thousands of checks a second that was
// a quarter of the engine's CPU (bench:checkers 0.162 → 0.127 CPU s per 1,000 checks), so the engine keeps a counter.
export class Slots<T> {
  private active = 0;
  private waiting: (T | undefined)[] = [];
  private head = 0;

  /** `start` must call `done` exactly once, when the item's work is over. */
  constructor(
    private readonly limit: number,
    private readonly start: (item: T, done: () => void) => void,
  ) {
    if (!(limit >= 1)) throw new RangeError(`concurrency must be at least 1, got ${limit}`);
  }

  submit(item: T): void {
    if (this.active < this.limit) {
      this.active++;
      this.start(item, this.release);
    } else {
      this.waiting.push(item);
    }
  }

  /** Items running now. */
  get running(): number {
    return this.active;
  }

  /** Items waiting for a slot. */
  get queued(): number {
    return this.waiting.length - this.head;
  }

  /** Drops the waiting items and returns them; running ones finish normally. */
  clear(): T[] {
    const left = this.waiting.slice(this.head) as T[];
    this.waiting = [];
    this.head = 0;
    return left;
  }

  /** The `done` that `start` is given: the same function for every item. */
  readonly release = (): void => {
    if (this.head === this.waiting.length) {
      this.active--;
      return;
    }
    const next = this.waiting[this.head] as T;
    this.waiting[this.head++] = undefined;
    if (this.head === this.waiting.length) {
      this.waiting = [];
      this.head = 0;
    }
    this.start(next, this.release);
  };
}
