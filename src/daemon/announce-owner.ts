// The owner of the announcement routes (announce/route-table.ts), in the supervisor: the one process that outlives
// the checker child, so a checker that dies withdraws its VIPs here (its health is unknown until the respawned child
// reports) and a stop withdraws them before the children go. The checker child reports health ('vs-health'); the
// decisions are announce/plan.ts's; this class logs each change, publishes it as an event, serves status and metrics,
// and keeps the table in step, resyncing it every 30 s so a route deleted by hand comes back.
import { planAnnouncements, planChange, type VipPlan, type VsHealth } from '../announce/plan.js';
import type { AnnounceTable, AnnounceTableSettings } from '../announce/route-table.js';
import type { Logger } from '../log.js';
import type { Registry } from './metrics.js';

export interface AnnounceSettings extends AnnounceTableSettings {
  /** `--announce-vs`: the virtual servers announced, by name; absent: every one given by address. */
  readonly only?: readonly string[];
  /** SIGTERM/SIGINT: the VIPs are withdrawn and the daemon waits this long before stopping its children. */
  readonly withdrawGraceMs: number;
}

const RESYNC_MS = 30_000;

export interface AnnounceStatus {
  readonly table: number;
  readonly protocol: number;
  readonly drained: boolean;
  readonly vips: readonly VipPlan[];
}

export class AnnounceOwner {
  private health: readonly VsHealth[] | undefined;
  /** The last report, kept while the checker is down so its VIPs are still listed (withdrawn). */
  private known: readonly VsHealth[] = [];
  private drained = false;
  private stopping = false;
  private plans: VipPlan[] = [];
  private tail: Promise<void> = Promise.resolve();
  private resync: NodeJS.Timeout | undefined;

  constructor(
    private readonly settings: AnnounceSettings,
    private readonly table: AnnounceTable,
    private readonly log: Logger,
    private readonly publish: (kind: string, text: string) => void,
    registry: Registry,
  ) {
    registry.collect('lvskeeper_vip_announced', 'Each VIP: 1 while announced in the announcement table, 0 while withdrawn, with the reason', 'gauge', () =>
      this.plans.map((p) => ({ labels: { vip: p.vip, reason: p.reason }, value: p.announced ? 1 : 0 })),
    );
  }

  /** Start-up: the table is reconciled at once, removing routes a previous run left (nothing is healthy yet). */
  start(): Promise<void> {
    this.log.info(`Announcing VIPs in routing table ${this.settings.table} (protocol ${this.settings.protocol})`);
    this.resync = setInterval(() => void this.apply(), RESYNC_MS);
    this.resync.unref();
    return this.apply();
  }

  /** The checker process's report; undefined when it died or is restarting. */
  setHealth(health: readonly VsHealth[] | undefined): Promise<void> {
    // Withdrawn for the stop already: the children's exits change nothing.
    if (this.stopping) return Promise.resolve();
    this.health = health;
    if (health) this.known = health;
    return this.apply();
  }

  /** A repeated drain or undrain changes nothing and syncs nothing. */
  async setDrained(drained: boolean): Promise<AnnounceStatus> {
    if (this.drained === drained) return this.status();
    const text = drained ? 'Operator drained the director: withdrawing every VIP' : 'Operator undrained the director';
    this.log.info(text);
    this.publish('operator', text);
    this.drained = drained;
    await this.apply();
    return this.status();
  }

  /** The stop's first step: every VIP withdrawn, then the grace for the routers to move the flows elsewhere. */
  async withdrawForStop(): Promise<void> {
    this.stopping = true;
    await this.apply();
    const grace = this.settings.withdrawGraceMs;
    if (grace > 0 && this.plans.length > 0) {
      this.log.info(`Waiting ${grace / 1000} s after the withdrawal before stopping`);
      await new Promise((r) => setTimeout(r, grace));
    }
  }

  status(): AnnounceStatus {
    return { table: this.settings.table, protocol: this.settings.protocol, drained: this.drained, vips: this.plans };
  }

  /** After the children: the sync their exits asked for runs first. */
  async close(): Promise<void> {
    clearInterval(this.resync);
    await this.tail;
    this.table.close();
  }

  /** Plans, logs what changed, then syncs the table; syncs run one at a time, each with the newest plan. */
  private apply(): Promise<void> {
    const before = new Map(this.plans.map((p) => [p.vip, p]));
    const plans = planAnnouncements({ health: this.health, drained: this.drained, stopping: this.stopping }, this.known);
    for (const p of plans) {
      const line = planChange(before.get(p.vip), p);
      if (line === undefined) continue;
      this.log.info(line);
      this.publish('announce', line);
    }
    this.plans = plans;
    this.tail = this.tail.then(async () => {
      const wanted = new Map(this.plans.filter((p) => p.announced).map((p) => [p.vip, p.family]));
      try {
        const r = await this.table.sync(wanted);
        for (const f of r.failed) this.log.error(`announcement table ${this.settings.table}: ${f}`);
        for (const key of r.removed) if (!before.has(key.split('/')[0]!)) this.log.info(`Removed stale announcement ${key} from table ${this.settings.table}`);
      } catch (e) {
        this.log.error(`announcement table ${this.settings.table}: ${(e as Error).message}`);
      }
    });
    return this.tail;
  }
}
