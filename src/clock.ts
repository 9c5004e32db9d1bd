/** Time and timers, injected so that cores and policies can be tested with a fake clock. */
export interface Clock {
  /** Milliseconds on a monotonic scale. */
  now(): number;
  setTimeout(fn: () => void, ms: number): TimerHandle;
  clearTimeout(handle: TimerHandle): void;
}

export interface TimerHandle {
  readonly id: unknown;
}

/** Node fires longer timers at once; keepalived's timers go up to 2^64 µs, so the longest wait is this. */
const MAX_TIMER_MS = 2 ** 31 - 1;

export const systemClock: Clock = {
  now: () => performance.now(),
  setTimeout: (fn, ms) => ({ id: setTimeout(fn, Math.min(ms, MAX_TIMER_MS)) }),
  clearTimeout: (handle) => clearTimeout(handle.id as NodeJS.Timeout),
};

/** A manually advanced clock for tests: timers fire in deadline order as time moves. */
export class FakeClock implements Clock {
  private current = 0;
  private seq = 0;
  private readonly timers = new Map<number, { at: number; fn: () => void }>();

  now(): number {
    return this.current;
  }

  setTimeout(fn: () => void, ms: number): TimerHandle {
    const id = ++this.seq;
    this.timers.set(id, { at: this.current + Math.max(0, ms), fn });
    return { id };
  }

  clearTimeout(handle: TimerHandle): void {
    this.timers.delete(handle.id as number);
  }

  /** Moves time forward by ms, firing each due timer at its own deadline. */
  advance(ms: number): void {
    const end = this.current + ms;
    for (;;) {
      let nextId = -1;
      let nextAt = Infinity;
      for (const [id, t] of this.timers) {
        if (t.at <= end && (t.at < nextAt || (t.at === nextAt && id < nextId))) {
          nextAt = t.at;
          nextId = id;
        }
      }
      if (nextId < 0) break;
      const timer = this.timers.get(nextId)!;
      this.timers.delete(nextId);
      this.current = nextAt;
      timer.fn();
    }
    this.current = end;
  }

  pendingTimers(): number {
    return this.timers.size;
  }
}
