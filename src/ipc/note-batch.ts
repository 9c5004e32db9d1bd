// Notes a child sends by the thousand (a start, a reload or a stop with 30,000 real servers logs and changes state
// for each) leave once per turn of the event loop as one message: a structured clone and a pipe write per note cost
// more than the work that produced it.
export class NoteBatch<T> {
  private items: T[] = [];

  constructor(private readonly send: (items: readonly T[]) => void) {}

  push(item: T): void {
    if (this.items.push(item) === 1) setImmediate(() => this.flush());
  }

  /** Sends what is queued now (before the channel closes at stop). */
  flush(): void {
    if (this.items.length === 0) return;
    const items = this.items;
    this.items = [];
    this.send(items);
  }
}
