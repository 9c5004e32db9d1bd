// The checker process's handle on an IPVS table that lives in the supervisor: the embedded userspace plane or the
// dry-run table. Like the kernel's, that table outlives a checker process, so a restarted one finds it as it was
// and the forwarded connections never notice.
//
// Only this process changes that table, so it keeps a mirror of the entries: a reconcile pass reads the mirror
// when the supervisor's count of operations applied (its generation) is the one the mirror was brought to.
// Sending 30,000 entries costs the supervisor's loop some 50 ms and this one 100 ms or more to decode, at every
// pass; now only the first pass of a process, or one after something unforeseen, pays it.
import type { Channel } from '../ipc/channel.js';
import type { FromChecker, FromCheckerNotes, IpvsCall, OpError, OpsApplied, TableEntries, TablePage, ToChecker, ToCheckerNotes } from '../ipc/protocol.js';
import { CursorPager, LIST_BATCH, takeBatch, type Batch } from '../ipc/pages.js';
import { silentLogger } from '../log.js';
import { DryRunIpvsDriver } from './driver-dryrun.js';
import type { AddressFamily, Destination, ForwardMethod, IpvsDriver, IpvsOp, IpvsTable, IpvsTimeouts, ServiceEntry, ServiceKey } from './types.js';

export type CheckerChannel = Channel<FromChecker, ToChecker, FromCheckerNotes, ToCheckerNotes>;

/** A table change waits at most this long for the supervisor: long enough for a whole 30,000-server pass. */
const CALL_TIMEOUT_MS = 60_000;

export class RemoteIpvsDriver implements IpvsDriver {
  /** The entries as the table held them after `generation` operations; the dry-run table keeps the kernel's rules. */
  private mirror: { readonly table: DryRunIpvsDriver; generation: number } | undefined;

  constructor(
    readonly name: 'userspace' | 'dry-run',
    private readonly channel: CheckerChannel,
  ) {}

  /**
   * With the counters (the userspace plane's connections and rates): always asked for, a batch of services at a
   * time, as a netlink dump comes in several messages (and, like it, not one instant's table).
   */
  async dump(): Promise<IpvsTable> {
    let page = (await this.channel.request('ipvs', { call: 'dump' }, CALL_TIMEOUT_MS)) as TablePage;
    const services = [...page.items];
    while (!page.done) {
      page = (await this.channel.request('ipvs', { call: 'dump-page', cursor: page.cursor }, CALL_TIMEOUT_MS)) as TablePage;
      services.push(...page.items);
    }
    return { services };
  }

  async entries(): Promise<IpvsTable> {
    return (await this.current()).dump();
  }

  async entriesOf(keys: readonly ServiceKey[]): Promise<IpvsTable> {
    return (await this.current()).entriesOf(keys);
  }

  async apply(op: IpvsOp): Promise<void> {
    const [error] = await this.applyMany([op]);
    if (error) throw error;
  }

  async applyMany(ops: readonly IpvsOp[]): Promise<(Error | undefined)[]> {
    const r = (await this.channel.request('ipvs', { call: 'applyMany', ops }, CALL_TIMEOUT_MS)) as OpsApplied;
    const errors = r.errors.map((e) => (e === undefined ? undefined : Object.assign(new Error(e.message), e.code !== undefined ? { code: e.code } : {})));
    await this.follow(ops, r);
    return errors;
  }

  async getTimeouts(): Promise<IpvsTimeouts> {
    return (await this.channel.request('ipvs', { call: 'getTimeouts' }, CALL_TIMEOUT_MS)) as IpvsTimeouts;
  }

  /** The mirror, brought to the supervisor's table first when the two differ. */
  private async current(): Promise<DryRunIpvsDriver> {
    const r = (await this.channel.request('ipvs', { call: 'entries', generation: this.mirror?.generation }, CALL_TIMEOUT_MS)) as TableEntries;
    if (r.table) this.mirror = { table: new DryRunIpvsDriver(silentLogger(), r.table), generation: r.generation };
    if (!this.mirror) throw new Error('the supervisor sent no IPVS entries');
    return this.mirror.table;
  }

  /** The table is the supervisor's to close. */
  async close(): Promise<void> {}

  /**
   * The mirror takes the operations the table accepted, when it was at their start and nothing came between them;
   * otherwise (or if one does not apply to it) it is dropped, and the next pass asks for the entries.
   */
  private async follow(ops: readonly IpvsOp[], r: OpsApplied): Promise<void> {
    const m = this.mirror;
    if (!m) return;
    this.mirror = undefined;
    if (r.before !== m.generation || r.after !== r.before + ops.length) return;
    try {
      for (const [i, op] of ops.entries()) if (r.errors[i] === undefined) await m.table.apply(op);
    } catch {
      return;
    }
    m.generation = r.after;
    this.mirror = m;
  }
}

/** Embedded-table operations applied in one turn of the supervisor's loop: a hundred take a few milliseconds. */
const OPS_PER_TURN = 100;

/** The words a table's destinations hold, as this process's own strings. */
const FAMILIES: Readonly<Record<AddressFamily, AddressFamily>> = { inet: 'inet', inet6: 'inet6' };
const FORWARDS: Readonly<Record<ForwardMethod, ForwardMethod>> = { NAT: 'NAT', DR: 'DR', TUN: 'TUN' };

/**
 * A destination the table keeps, with its family and forwarding method this process's constants: the channel's
 * deserialisation gives each one its own copy of `inet` and of `NAT`, which the table kept, 1.4 MB at 30,000 real
 * servers (bench:heap, the supervisor's strings).
 */
function withOwnConstants(op: IpvsOp): IpvsOp {
  if (op.kind === 'addDest' || op.kind === 'editDest') {
    // In place: the op is this call's own copy, and copying it with spreads cost the supervisor 4-8 ms of CPU over a
    // reload's 1,000 addDest (bench:reload, four runs against two).
    const d = op.dest as { -readonly [K in keyof Destination]: Destination[K] };
    d.family = FAMILIES[d.family] ?? d.family;
    d.forward = FORWARDS[d.forward] ?? d.forward;
  }
  return op;
}

/** An Error crosses a structured clone without its errno name: the two fields are sent. */
function opError(e: Error & { code?: unknown }): OpError {
  return { message: e.message, ...(typeof e.code === 'string' ? { code: e.code } : {}) };
}

/** The supervisor's end: answers a RemoteIpvsDriver's calls from the table it holds, counting the operations. */
export class TableHost {
  /** Operations the table has been given (IpvsCall says why). */
  private generation = 0;
  /** Dumps under way: 30,000 destinations sent at once held this loop for tens of milliseconds. */
  private readonly dumps = new CursorPager<ServiceEntry, Batch<ServiceEntry>>();

  constructor(private readonly table: IpvsDriver & { serviceEntries(): Iterable<ServiceEntry> }) {}

  async call(c: IpvsCall): Promise<TablePage | IpvsTimeouts | TableEntries | OpsApplied> {
    switch (c.call) {
      case 'dump': {
        const cursor = this.dumps.open(this.table.serviceEntries(), (it) => takeBatch(it, LIST_BATCH, (e) => 1 + e.dests.length));
        return { cursor, ...this.dumps.page(cursor) };
      }
      case 'dump-page':
        return { cursor: c.cursor, ...this.dumps.page(c.cursor) };
      case 'getTimeouts':
        return this.table.getTimeouts();
      case 'entries':
        // A checker process whose mirror is current gets none: 30,000 entries take this loop some 50 ms to send.
        return c.generation === this.generation ? { generation: c.generation } : { generation: this.generation, table: await this.table.dump() };
      case 'applyMany': {
        const before = this.generation;
        const errors: (OpError | undefined)[] = [];
        for (const [i, op] of c.ops.entries()) {
          // The data plane and the control socket share this loop: a reload's thousand operations leave it turns.
          if (i > 0 && i % OPS_PER_TURN === 0) await new Promise((r) => setImmediate(r));
          errors.push(await this.table.apply(withOwnConstants(op)).then(() => undefined, opError));
          this.generation++;
        }
        return { before, after: this.generation, errors };
      }
    }
  }
}
