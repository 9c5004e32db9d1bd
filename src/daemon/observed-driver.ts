// Wraps the IPVS driver so every operation the daemon makes is observable: one debug line per op (`-D` shows
// them, in ipvsadm's words) and counters for the metrics endpoint. The wrapped driver does the work.
import { ipvsadmCommand } from '../ipvs/driver-dryrun.js';
import { servicesOf } from '../ipvs/desired.js';
import { applyInOrder, type IpvsDriver, type IpvsOp, type IpvsTable, type IpvsTimeouts, type ServiceKey } from '../ipvs/types.js';
import type { Logger } from '../log.js';

export class ObservedDriver implements IpvsDriver {
  /** Operations applied, and failed, by kind. */
  readonly applied = new Map<IpvsOp['kind'], number>();
  readonly failed = new Map<IpvsOp['kind'], number>();
  /** The last table dumped, for scrapes that must not touch the driver synchronously. */
  lastTable: IpvsTable | undefined;

  constructor(
    private readonly inner: IpvsDriver,
    private readonly log: Logger,
  ) {}

  get name(): IpvsDriver['name'] {
    return this.inner.name;
  }

  async dump(): Promise<IpvsTable> {
    this.lastTable = await this.inner.dump();
    return this.lastTable;
  }

  /** A pass's entries; the table for scrapes is refreshed by dump() alone when the driver has them otherwise. */
  async entries(): Promise<IpvsTable> {
    return this.inner.entries ? this.inner.entries() : this.dump();
  }

  async entriesOf(keys: readonly ServiceKey[]): Promise<IpvsTable> {
    return this.inner.entriesOf ? this.inner.entriesOf(keys) : servicesOf(await this.entries(), keys);
  }

  async apply(op: IpvsOp): Promise<void> {
    // The command text is built only under -D: a 30,000-server start-up applies 30,000 ops.
    if (this.log.isLevelEnabled('debug')) this.log.debug({ component: 'ipvs' }, `IPVS op: ${ipvsadmCommand(op)}`);
    try {
      await this.inner.apply(op);
      this.applied.set(op.kind, (this.applied.get(op.kind) ?? 0) + 1);
    } catch (e) {
      this.failed.set(op.kind, (this.failed.get(op.kind) ?? 0) + 1);
      throw e;
    }
  }

  /** Counted and logged as apply() does; only a driver that can batch gets the batch. */
  async applyMany(ops: readonly IpvsOp[]): Promise<(Error | undefined)[]> {
    if (!this.inner.applyMany) return applyInOrder((op) => this.apply(op), ops);
    if (this.log.isLevelEnabled('debug')) for (const op of ops) this.log.debug({ component: 'ipvs' }, `IPVS op: ${ipvsadmCommand(op)}`);
    const errors = await this.inner.applyMany(ops);
    ops.forEach((op, i) => {
      const counts = errors[i] === undefined ? this.applied : this.failed;
      counts.set(op.kind, (counts.get(op.kind) ?? 0) + 1);
    });
    return errors;
  }

  getTimeouts(): Promise<IpvsTimeouts> {
    return this.inner.getTimeouts();
  }

  close(): Promise<void> {
    return this.inner.close();
  }
}
