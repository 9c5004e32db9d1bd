// The checker process's handle on an IPVS table that lives in the supervisor: the embedded userspace plane or the
// dry-run table. Like the kernel's, that table outlives a checker process, so a restarted one finds it as it was
// and the forwarded connections never notice.
import type { Channel } from '../ipc/channel.js';
import type { FromChecker, FromCheckerNotes, Nothing, OpError, ToChecker } from '../ipc/protocol.js';
import type { IpvsDriver, IpvsOp, IpvsTable, IpvsTimeouts } from './types.js';

export type CheckerChannel = Channel<FromChecker, ToChecker, FromCheckerNotes, Nothing>;

/** A table change waits at most this long for the supervisor: long enough for a whole 30,000-server pass. */
const CALL_TIMEOUT_MS = 60_000;

export class RemoteIpvsDriver implements IpvsDriver {
  constructor(
    readonly name: 'userspace' | 'dry-run',
    private readonly channel: CheckerChannel,
  ) {}

  async dump(): Promise<IpvsTable> {
    return (await this.channel.request('ipvs', { call: 'dump' }, CALL_TIMEOUT_MS)) as IpvsTable;
  }

  async apply(op: IpvsOp): Promise<void> {
    await this.channel.request('ipvs', { call: 'apply', op }, CALL_TIMEOUT_MS);
  }

  async applyMany(ops: readonly IpvsOp[]): Promise<(Error | undefined)[]> {
    const errors = (await this.channel.request('ipvs', { call: 'applyMany', ops }, CALL_TIMEOUT_MS)) as (OpError | undefined)[];
    return errors.map((e) => (e === undefined ? undefined : Object.assign(new Error(e.message), e.code !== undefined ? { code: e.code } : {})));
  }

  async getTimeouts(): Promise<IpvsTimeouts> {
    return (await this.channel.request('ipvs', { call: 'getTimeouts' }, CALL_TIMEOUT_MS)) as IpvsTimeouts;
  }

  /** The table is the supervisor's to close. */
  async close(): Promise<void> {}
}
