// Reply timeouts that count only the time this process was running. A wall-clock timer that comes due while the
// event loop is blocked (a burst of checker work, a guest whose vCPU the host did not schedule) fires in the timers
// phase, before the poll phase has read the replies already waiting on the socket: requests the kernel had answered
// long ago failed, and their effect was never recorded. One ticker serves every pending request; a tick that comes
// late counts as at most two ticks, so a stall of any length costs a request at most that much of its budget.

export interface Deadline {
  /** Stops the clock for this request (its reply came). */
  cancel(): void;
}

interface Pending {
  counted: number;
  readonly budgetMs: number;
  readonly expire: () => void;
}

export class LiveDeadlines {
  private readonly pending = new Set<Pending>();
  private ticker: NodeJS.Timeout | undefined;
  private last = 0;

  constructor(private readonly tickMs = 250) {}

  /** Calls `expire` once `budgetMs` of running time passed without cancel(). */
  start(budgetMs: number, expire: () => void): Deadline {
    const p: Pending = { counted: 0, budgetMs, expire };
    this.pending.add(p);
    if (this.ticker === undefined) {
      this.last = performance.now();
      this.ticker = setInterval(() => this.tick(), this.tickMs);
    }
    return { cancel: () => this.drop(p) };
  }

  private tick(): void {
    const now = performance.now();
    const step = Math.min(now - this.last, 2 * this.tickMs);
    this.last = now;
    for (const p of [...this.pending]) {
      p.counted += step;
      if (p.counted < p.budgetMs) continue;
      this.drop(p);
      p.expire();
    }
  }

  private drop(p: Pending): void {
    this.pending.delete(p);
    if (this.pending.size === 0 && this.ticker !== undefined) {
      clearInterval(this.ticker);
      this.ticker = undefined;
    }
  }
}
