// The IPVS manager: holds one pool per virtual server, feeds checker verdicts into them, and keeps the driver's
// table equal to what the pools want through coalesced reconcile passes (one read, then ops in order).
// A pass after checker events, an override or a reload covers only the services of the virtual servers they
// changed: at 30,000 real servers a full pass per burst of events cost the checker process a whole CPU, and a whole
// pass was a third of an unchanged reload. Start and the periodic resync compare the whole table. A failed op is
// logged with its entry and errno, and the next pass, made whole, retries it.
import { EventEmitter } from 'node:events';
import type { Clock, TimerHandle } from '../clock.js';
import type { Config, VirtualServer } from '../config/model.js';
import type { Logger } from '../log.js';
import { destinationsOn, destKeyId, serviceFor, serviceKeyId, serviceKeysFor, servicesOf } from './desired.js';
import { ipvsadmCommand } from './driver-dryrun.js';
import { VsPool, type PoolEvent, type PoolStatus } from './pool.js';
import { reconcile, sameService, type DesiredService, type DesiredTable, type OwnedKeys } from './reconcile.js';
import { applyInOrder, type Destination, type IpvsDriver, type IpvsOp, type IpvsTable, type IpvsTimeouts, type ServiceKey } from './types.js';

/** Operations per applyMany call: one message of a few hundred KiB at most. */
const BATCH = 1000;

export type CheckerEvent =
  | { readonly kind: 'rs-up' | 'rs-down' | 'rs-notify'; readonly vsId: string; readonly rsId: string }
  | { readonly kind: 'rs-weight'; readonly vsId: string; readonly rsId: string; readonly weight?: number; readonly silent?: boolean };

export interface IpvsManagerOptions {
  readonly driver: IpvsDriver;
  readonly clock: Clock;
  readonly log: Logger;
  /** Periodic full pass that also repairs entries changed behind our back (default 30 s). */
  readonly resyncIntervalMs?: number;
  /** Operator overrides restored at start-up: applied before the first pass, so a drained server never takes traffic. */
  readonly overrides?: readonly { readonly vsId: string; readonly rsId: string; readonly weight: number }[];
  /**
   * Real servers' states carried over from a checker process that was restarted: applied before the first pass
   * and without events, since the previous process already logged them and ran their scripts, so a table that
   * outlived it (the kernel's) needs no change.
   */
  readonly resumed?: readonly { readonly vsId: string; readonly rsId: string; readonly alive: boolean; readonly weight: number }[];
}

/** What the checker process does inside a reload, at keepalived's points (IpvsManager.reload). */
export interface ReloadSteps {
  /** The checkers take the new config, reporting the real servers' new weights. */
  readonly checkersTakeIt: () => void;
  /**
   * Every virtual server is reshaped and logged, the table not yet changed: the checkers' `Activating` lines (as
   * start's `registered`).
   */
  readonly registered: () => void;
}

export interface PassResult {
  readonly ops: number;
  readonly failed: number;
}

export interface VsStatus extends PoolStatus {
  /** Kernel services this virtual server expands to (several for a group). */
  readonly services: number;
}

export interface ManagerStatus {
  readonly driver: string;
  readonly passes: number;
  readonly lastPass?: PassResult;
  readonly virtualServers: readonly VsStatus[];
}

interface OwnedService {
  readonly key: ServiceKey;
  /** destKeyId of each: nothing else of a destination is asked for. */
  readonly dests: Set<string>;
}

/** What we created or took over: services by serviceKeyId, destinations by `serviceKeyId/destKeyId`. */
class Owned implements OwnedKeys {
  readonly services = new Map<string, OwnedService>();

  has(key: string): boolean {
    const slash = key.indexOf('/');
    if (slash < 0) return this.services.has(key);
    return this.services.get(key.slice(0, slash))?.dests.has(key.slice(slash + 1)) ?? false;
  }

  /** Records the effect of an op the driver accepted. */
  track(op: IpvsOp): void {
    switch (op.kind) {
      case 'addService':
      case 'editService': {
        const k = serviceKeyId(op.service.key);
        if (!this.services.has(k)) this.services.set(k, { key: op.service.key, dests: new Set() });
        return;
      }
      case 'delService':
        this.services.delete(serviceKeyId(op.key));
        return;
      case 'addDest':
      case 'editDest': {
        const k = serviceKeyId(op.key);
        let s = this.services.get(k);
        if (!s) this.services.set(k, (s = { key: op.key, dests: new Set() }));
        s.dests.add(destKeyId(op.dest));
        return;
      }
      case 'delDest':
        this.services.get(serviceKeyId(op.key))?.dests.delete(destKeyId(op.dest));
        return;
      case 'flush':
        this.services.clear();
        return;
      case 'setTimeouts':
        return;
    }
  }
}

/**
 * An add the kernel refused with EEXIST is the entry's edit: the pass's dump missed it. A GET_SERVICE dump resumes
 * each part at a position counted over the services of every network namespace (ip_vs_ctl.c
 * ip_vs_genl_dump_services walks the one global ip_vs_svc_table), so a service another namespace adds between two
 * parts shifts this namespace's entries, and one is skipped. keepalived never dumps, so it never sees this.
 */
function asEdit(op: IpvsOp): IpvsOp | undefined {
  if (op.kind === 'addService') return { kind: 'editService', service: op.service };
  if (op.kind === 'addDest') return { kind: 'editDest', key: op.key, dest: op.dest };
  return undefined;
}

/** Whether the pools are in the order of `ids` (the new config's virtual servers, each once). */
function inConfigOrder(pools: ReadonlyMap<string, VsPool>, ids: Iterable<string>): boolean {
  const it = pools.keys();
  for (const id of ids) if (it.next().value !== id) return false;
  return true;
}

function sameKeys(a: readonly ServiceKey[] | undefined, b: readonly ServiceKey[]): boolean {
  return a !== undefined && a.length === b.length && a.every((k, i) => serviceKeyId(k) === serviceKeyId(b[i]!));
}

/** Whether the two configs give each of `keys` the same service settings. */
function sameServices(a: VirtualServer, b: VirtualServer, keys: readonly ServiceKey[]): boolean {
  return a === b || keys.every((k) => sameService(serviceFor(a, k), serviceFor(b, k)));
}

/** Real servers whose weights alone changed, by virtual server id. */
type Reweighted = Map<string, Set<string>>;

/** `rsIds` of virtual server `vsId` added to `into` (its sets are its own: `into` may be a copy). */
function addReweighted(into: Reweighted, vsId: string, rsIds: Iterable<string>): void {
  const had = into.get(vsId);
  if (had) for (const rsId of rsIds) had.add(rsId);
  else into.set(vsId, new Set(rsIds));
}

function errText(e: unknown): string {
  const err = e as { code?: unknown; message?: unknown };
  const code = typeof err?.code === 'string' ? `${err.code}: ` : '';
  return `${code}${typeof err?.message === 'string' ? err.message : String(e)}`;
}

export class IpvsManager extends EventEmitter<{ pool: [PoolEvent] }> {
  private config: Config;
  private readonly driver: IpvsDriver;
  private readonly clock: Clock;
  private readonly log: Logger;
  private readonly resyncMs: number;
  private readonly initialOverrides: NonNullable<IpvsManagerOptions['overrides']>;
  private readonly resumed: NonNullable<IpvsManagerOptions['resumed']>;
  private readonly pools = new Map<string, VsPool>();
  /** Kernel keys per virtual server, expanded once per config (groups can be large). */
  private readonly keys = new Map<string, ServiceKey[]>();
  private readonly owned = new Owned();
  /** Virtual servers whose pools changed since the last pass began. */
  private readonly changed = new Set<string>();
  /**
   * Services a reload changed since the last pass began, by serviceKeyId: those of virtual servers that went (their
   * keys are gone with them), came, or want other entries.
   */
  private readonly reloaded = new Map<string, ServiceKey>();
  /**
   * Real servers whose weights alone changed since the last pass began (a reload's, a checker's, a drain): a pass
   * compares only their destinations, in the services of their virtual servers it does not take whole. At 30,000
   * real servers a reload that moved 1% of the weights, one server in each service, built and compared every
   * destination for 300 edits.
   */
  private readonly reweighted: Reweighted = new Map();
  /**
   * While a reload's checkers report their new weights (reload's `checkersTakeIt`): the pool events those weights
   * made, by virtual server, let out as reload(config) comes to each virtual server. Undefined otherwise.
   */
  private heldForReload: Map<string, PoolEvent[]> | undefined;
  /** The next pass compares the whole table. */
  private wholePending = false;
  private flushPending = false;
  private started = false;
  private stopped = false;
  private passTimer: TimerHandle | undefined;
  private resyncTimer: TimerHandle | undefined;
  private running: Promise<PassResult> | undefined;
  private queued: Promise<PassResult> | undefined;
  private passes = 0;
  private lastPass: PassResult | undefined;

  constructor(config: Config, opts: IpvsManagerOptions) {
    super();
    this.config = config;
    this.driver = opts.driver;
    this.clock = opts.clock;
    this.log = opts.log;
    this.resyncMs = opts.resyncIntervalMs ?? 30_000;
    this.initialOverrides = opts.overrides ?? [];
    this.resumed = opts.resumed ?? [];
  }

  /**
   * First start: lvs_flush (only here), timeouts, initial pools, first pass, then the resync timer. `registered` runs
   * once the pools have started, before the table changes: keepalived logs its checkers' lines after the services'
   * (check_daemon.c start_check: init_services, then register_checkers_thread).
   */
  async start(registered: () => void = () => undefined): Promise<PassResult> {
    if (this.started) throw new Error('IpvsManager already started');
    this.started = true;
    this.logScriptChecks(this.config);
    this.info('Initializing ipvs');
    this.flushPending = this.config.global.lvsFlush;
    // Resuming a predecessor's states, the pools' start (Gained quorum, quorum_up) happened already.
    for (const vs of this.config.virtualServers) this.addPool(vs, this.resumed.length > 0);
    for (const r of this.resumed) {
      const pool = this.pools.get(r.vsId);
      pool?.setAlive(r.rsId, r.alive);
      pool?.setDynamicWeight(r.rsId, r.weight);
    }
    for (const o of this.initialOverrides) this.emitAll(this.pools.get(o.vsId)?.setOverrideWeight(o.rsId, o.weight) ?? []);
    registered();
    await this.applyTimeouts();
    const result = await this.sync();
    this.armResync();
    return result;
  }

  handle(ev: CheckerEvent): void {
    const pool = this.pools.get(ev.vsId);
    if (!pool) {
      this.log.debug({ component: 'ipvs' }, `checker event for unknown VS ${ev.vsId}`);
      return;
    }
    if (ev.kind === 'rs-weight') {
      this.reweigh(pool, ev.rsId, () => pool.setDynamicWeight(ev.rsId, ev.weight, ev.silent ?? false, this.heldForReload === undefined));
      return;
    }
    if (ev.kind === 'rs-notify') this.emitAll(pool.notifyDownAgain(ev.rsId));
    else this.emitAll(pool.setAlive(ev.rsId, ev.kind === 'rs-up'));
    this.changed.add(ev.vsId);
    this.schedule();
  }

  rsUp(vsId: string, rsId: string): void {
    this.handle({ kind: 'rs-up', vsId, rsId });
  }

  rsDown(vsId: string, rsId: string): void {
    this.handle({ kind: 'rs-down', vsId, rsId });
  }

  rsWeight(vsId: string, rsId: string, weight: number | undefined): void {
    this.handle({ kind: 'rs-weight', vsId, rsId, ...(weight !== undefined ? { weight } : {}) });
  }

  /** Operator override (drain = 0, undefined = back to checker/configured weight). False when VS/RS is unknown. */
  setOverrideWeight(vsId: string, rsId: string, weight: number | undefined): boolean {
    const pool = this.pools.get(vsId);
    if (!pool?.status().realServers.some((r) => r.rsId === rsId)) return false;
    this.reweigh(pool, rsId, () => pool.setOverrideWeight(rsId, weight));
    return true;
  }

  /**
   * A new weight for one real server (its checkers' or the operator's): the next pass compares its destination
   * alone, unless the weight took the quorum across its threshold and the sorry server in or out, which moves them
   * all. A reload hands its checkers' new weights to the pools this way before it reshapes them.
   */
  private reweigh(pool: VsPool, rsId: string, set: () => PoolEvent[]): void {
    const sorryOn = pool.sorryOn;
    const events = set();
    const held = this.heldForReload;
    const list = held?.get(pool.vsId);
    if (list) list.push(...events);
    else if (held) held.set(pool.vsId, events);
    else this.emitAll(events);
    if (pool.sorryOn !== sorryOn) this.changed.add(pool.vsId);
    else addReweighted(this.reweighted, pool.vsId, [rsId]);
    this.schedule();
  }

  /**
   * Reload with keepalived's diff semantics (ipwrapper.c clear_diff_services): never flushes; kept VS/RS keep their
   * state; removed ones go. The pass covers the virtual servers the reload changed. Entries deleted by hand elsewhere
   * are left to the next resync, which restores them (keepalived never does).
   *
   * Its lines come in keepalived's order (check_daemon.c start_check): what the reload removes, virtual servers, real
   * servers and sorry servers (clear_diff_services); then each virtual server's new weights and its quorum weighed
   * once (ipwrapper.c init_service_vs: init_service_rs, then update_quorum_state); then the checkers'
   * (register_checkers_thread). The weights the checkers report while they take the new config are held out of the
   * quorum and logged with their virtual server.
   */
  async reload(config: Config, steps: ReloadSteps = { checkersTakeIt: () => undefined, registered: () => undefined }): Promise<PassResult> {
    const held = new Map<string, PoolEvent[]>();
    this.heldForReload = held;
    try {
      steps.checkersTakeIt();
    } finally {
      this.heldForReload = undefined;
    }
    this.logScriptChecks(config);
    const timeoutsChanged = this.timeoutsChange(config) !== undefined;
    const letOut = (vsId: string): void => {
      this.emitAll(held.get(vsId) ?? []);
      held.delete(vsId);
    };
    const { scope, reweighted } = this.reshape(config, this.pools, this.keys, (events) => this.emitAll(events), (line) => this.info(line), letOut);
    for (const events of held.values()) this.emitAll(events);
    steps.registered();
    for (const [id, key] of scope) this.reloaded.set(id, key);
    for (const [vsId, rsIds] of reweighted) addReweighted(this.reweighted, vsId, rsIds);
    this.config = config;
    if (timeoutsChanged) await this.applyTimeouts();
    return this.syncChanged();
  }

  /**
   * `lvskeeper plan`: the operations reload(config) would apply now, computed the same way (reshape, then the
   * reconcile of the services it changed against the driver's entries) on copies of the pools; nothing changes.
   */
  async plan(config: Config): Promise<IpvsOp[]> {
    const pools = new Map([...this.pools].map(([id, pool]) => [id, pool.clone()]));
    const keys = new Map(this.keys);
    const reshaped = this.reshape(config, pools, keys, () => undefined, () => undefined, () => undefined);
    const scope = this.wholePending || this.flushPending ? undefined : this.changedKeys(keys, new Map([...this.reloaded, ...reshaped.scope]));
    const reweighted: Reweighted = new Map();
    for (const [vsId, rsIds] of [...this.reweighted, ...reshaped.reweighted]) addReweighted(reweighted, vsId, rsIds);
    const timeouts = this.timeoutsChange(config);
    const ops = await this.compare(pools, keys, scope, reweighted);
    return timeouts ? [{ kind: 'setTimeouts', timeouts }, ...ops] : ops;
  }

  /** The new config's lvs_timeouts when a reload to it sets them. */
  private timeoutsChange(config: Config): Partial<IpvsTimeouts> | undefined {
    const t = config.global.lvsTimeouts;
    return t && JSON.stringify(t) !== JSON.stringify(this.config.global.lvsTimeouts) ? t : undefined;
  }

  /**
   * The pools and service keys of `config`: removed virtual servers go, new ones start, kept ones are reconfigured,
   * and the pools end in the config's order. Returns the services whose entries this may change, by serviceKeyId: in
   * `scope` every service of a virtual server that went, came, or may now want other entries (its keys, its service
   * settings, its destinations, or its place before another naming the same service differ); in `reweighted`, by
   * virtual server, the servers of one whose only change is their weights.
   */
  private reshape(
    config: Config, pools: Map<string, VsPool>, keys: Map<string, ServiceKey[]>, emit: (events: PoolEvent[]) => void, info: (line: string) => void,
    beforeReconfigure: (vsId: string) => void,
  ): { scope: Map<string, ServiceKey>; reweighted: Reweighted } {
    const scope = new Map<string, ServiceKey>();
    const reweighted: Reweighted = new Map();
    const touch = (list: readonly ServiceKey[] | undefined): void => {
      for (const key of list ?? []) scope.set(serviceKeyId(key), key);
    };
    const next = new Map(config.virtualServers.map((vs) => [vs.displayName, vs]));
    // ipwrapper.c clear_diff_services: every virtual server removed, and what each kept one loses, before any is
    // initialized with the new config. What a kept one was is read first.
    const was = new Map<string, { readonly config: VirtualServer; readonly sorryOn: boolean; readonly moved: string[] | undefined }>();
    for (const [id, pool] of pools) {
      const vs = next.get(id);
      if (vs) {
        was.set(id, { config: pool.config, sorryOn: pool.sorryOn, moved: pool.reweighted(vs) });
        emit(pool.clearDiff(vs));
        continue;
      }
      info(`Removing Virtual Server ${id}`);
      touch(keys.get(id));
      pools.delete(id);
      keys.delete(id);
    }
    // init_services: each virtual server in the new config's order.
    for (const vs of config.virtualServers) {
      const pool = pools.get(vs.displayName);
      const expanded = this.expand(vs, config);
      const before = keys.get(vs.displayName);
      keys.set(vs.displayName, expanded);
      if (pool) {
        const { config: wasConfig, sorryOn, moved } = was.get(vs.displayName)!;
        beforeReconfigure(pool.vsId);
        emit(pool.reconfigure(vs));
        if (moved && pool.sorryOn === sorryOn && sameKeys(before, expanded) && sameServices(wasConfig, vs, expanded)) {
          if (moved.length > 0) reweighted.set(vs.displayName, new Set(moved));
          continue;
        }
        touch(before);
      } else {
        const added = new VsPool(vs);
        pools.set(added.vsId, added);
        emit(added.start(config.global.rsInitNotifies));
      }
      touch(expanded);
    }
    if (inConfigOrder(pools, next.keys())) return { scope, reweighted };
    // keepalived's next reload walks this config's virtual servers in its order (clear_diff_services walks
    // old_check_data->vs), and a start on this config would make the pools in it: the pools take that order, so a
    // virtual server a reload added is no longer last. Where pools share a kernel service the first wins (desiredOf):
    // a new order may give such a service another owner, so those services join the scope.
    const ordered = [...next.keys()].map((id) => pools.get(id)!);
    pools.clear();
    for (const pool of ordered) pools.set(pool.vsId, pool);
    const named = new Set<string>();
    for (const list of keys.values()) {
      for (const key of list) {
        const id = serviceKeyId(key);
        if (named.has(id)) scope.set(id, key);
        else named.add(id);
      }
    }
    return { scope, reweighted };
  }

  /** Stop per lvs_flush_on_stop: off = one by one, `all` = one flush, `vs` = virtual services only. omega hooks run. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    if (this.passTimer) this.clock.clearTimeout(this.passTimer);
    if (this.resyncTimer) this.clock.clearTimeout(this.resyncTimer);
    await this.running;
    const mode = this.config.global.lvsFlushOnStop;
    for (const pool of this.pools.values()) this.emitAll(pool.shutdownEvents(mode === 'off'));
    if (mode === 'all') {
      await this.applyOne({ kind: 'flush' });
      return;
    }
    if (mode === 'off') for (const pool of this.pools.values()) for (const line of pool.shutdownLines()) this.info(line);
    // keepalived deletes each real server and then the service; deleting the service takes its destinations with it
    // (ip_vs_ctl.c __ip_vs_del_service unlinks every dest), so one op per service leaves the same table, and a stop
    // with 30,000 real servers stays within a second.
    await this.applyAll([...this.owned.services.values()].map((s): IpvsOp => ({ kind: 'delService', key: s.key })));
  }

  /** Every pool's wanted weights (VsPool.wantedWeights), pool by pool. */
  *wantedWeights(): Iterable<{ readonly vsId: string; readonly rsId: string; readonly weight: number }> {
    for (const pool of this.pools.values()) for (const w of pool.wantedWeights()) yield { vsId: pool.vsId, ...w };
  }

  status(): ManagerStatus {
    return {
      driver: this.driver.name,
      passes: this.passes,
      ...(this.lastPass ? { lastPass: this.lastPass } : {}),
      virtualServers: [...this.pools.values()].map((p) => ({
        ...p.status(),
        services: this.keys.get(p.vsId)?.length ?? 0,
      })),
    };
  }

  /**
   * The table the pools want: every virtual server, ha_suspend or not (keepalived keeps a suspended server's
   * service and destinations; only its checkers stop, checkers/activation.ts). With a scope, only the services it
   * and `moved` name, from every pool that expands to them, in pool order: where two virtual servers name one kernel
   * service, the first still wins (reconcile.ts). In a service of `moved` that `present` holds, a pool with servers
   * reweighted wants only their destinations; one deleted by hand comes back whole.
   */
  private desiredOf(
    pools: ReadonlyMap<string, VsPool>, keys: ReadonlyMap<string, ServiceKey[]>, scope: ReadonlyMap<string, ServiceKey> | undefined,
    moved: ReadonlyMap<string, ServiceKey>, reweighted: Reweighted, present: ReadonlySet<string>,
  ): DesiredTable {
    const services: DesiredService[] = [];
    for (const pool of pools.values()) {
      const rsIds = reweighted.get(pool.vsId);
      let all: Destination[] | undefined;
      for (const key of keys.get(pool.vsId) ?? []) {
        const id = serviceKeyId(key);
        if (scope && !scope.has(id) && !moved.has(id)) continue;
        try {
          const service = serviceFor(pool.config, key);
          if (rsIds && moved.has(id) && present.has(id)) {
            services.push({ service, dests: destinationsOn(key, pool.destinationsOf(rsIds)), partial: true });
            continue;
          }
          all ??= pool.destinations().map((d) => d.dest);
          services.push({ service, dests: destinationsOn(key, all) });
        } catch (e) {
          this.log.error({ component: 'ipvs' }, `VS ${pool.vsId}: ${errText(e)}`);
        }
      }
    }
    return { services };
  }

  /**
   * The operations that bring the services of `scope` (all, without one) and those of the `reweighted` servers'
   * virtual servers to what the pools want, read from the driver now.
   */
  private async compare(
    pools: ReadonlyMap<string, VsPool>, keys: ReadonlyMap<string, ServiceKey[]>, scope: ReadonlyMap<string, ServiceKey> | undefined,
    reweighted: Reweighted,
  ): Promise<IpvsOp[]> {
    // The services the reweighted servers' pools expand to now, outside the scope (a whole pass takes them all).
    const moved = new Map<string, ServiceKey>();
    if (scope) {
      for (const vsId of reweighted.keys()) {
        for (const key of keys.get(vsId) ?? []) if (!scope.has(serviceKeyId(key))) moved.set(serviceKeyId(key), key);
      }
    }
    const read = scope && new Map([...scope, ...moved]);
    if (read?.size === 0) return [];
    const actual = await this.read(read);
    const present = new Set(moved.size > 0 ? actual.services.map((e) => serviceKeyId(e.service.key)) : []);
    return reconcile(this.desiredOf(pools, keys, scope, moved, reweighted, present), actual, this.owned, { flush: this.flushPending });
  }

  /** Runs a pass over the whole table now, or makes the one already queued whole and joins it. */
  sync(): Promise<PassResult> {
    this.wholePending = true;
    return this.syncChanged();
  }

  /** Runs a pass over what changed now, or joins the one already queued; passes never overlap. */
  syncChanged(): Promise<PassResult> {
    if (this.queued) return this.queued;
    const after = this.running ?? Promise.resolve(undefined);
    const p = after.then(() => {
      this.queued = undefined;
      return this.pass();
    });
    this.queued = p;
    this.running = p;
    return p;
  }

  /** Resolves when no pass is queued or running. */
  async idle(): Promise<void> {
    while (this.running) {
      const r = this.running;
      await r;
      if (this.running === r) this.running = undefined;
    }
  }

  private addPool(vs: VirtualServer, quiet = false): void {
    const pool = new VsPool(vs);
    this.pools.set(pool.vsId, pool);
    this.keys.set(pool.vsId, this.expand(vs, this.config));
    const events = pool.start(this.config.global.rsInitNotifies);
    if (!quiet) this.emitAll(events);
  }

  private expand(vs: VirtualServer, config: Config): ServiceKey[] {
    try {
      return serviceKeysFor(vs, config.virtualServerGroups);
    } catch (e) {
      this.log.error({ component: 'ipvs' }, `VS ${vs.displayName}: ${errText(e)}`);
      return [];
    }
  }

  private async applyTimeouts(): Promise<void> {
    const t = this.config.global.lvsTimeouts;
    if (t) await this.applyOne({ kind: 'setTimeouts', timeouts: t });
  }

  /** Many events → one pass: the pass runs from a zero-delay timer after the current burst. */
  private schedule(): void {
    if (this.stopped || !this.started || this.passTimer) return;
    this.passTimer = this.clock.setTimeout(() => {
      this.passTimer = undefined;
      void this.syncChanged();
    }, 0);
  }

  private armResync(): void {
    if (this.stopped) return;
    this.resyncTimer = this.clock.setTimeout(() => {
      this.resyncTimer = undefined;
      void this.sync();
      this.armResync();
    }, this.resyncMs);
  }

  private async pass(): Promise<PassResult> {
    const scope = this.wholePending || this.flushPending ? undefined : this.changedKeys();
    // Nothing changed since a whole pass that ran before the events' timer fired.
    if (this.stopped || (scope?.size === 0 && this.reweighted.size === 0)) return { ops: 0, failed: 0 };
    this.passes++;
    const reweighted = new Map(this.reweighted);
    this.wholePending = false;
    this.changed.clear();
    this.reloaded.clear();
    this.reweighted.clear();
    let ops;
    try {
      ops = await this.compare(this.pools, this.keys, scope, reweighted);
    } catch (e) {
      this.log.error({ component: 'ipvs' }, `IPVS dump failed: ${errText(e)}`);
      this.wholePending = true;
      return (this.lastPass = { ops: 0, failed: 1 });
    }
    const failed = await this.applyAll(ops);
    if (failed > 0) this.wholePending = true;
    return (this.lastPass = { ops: ops.length, failed });
  }

  /** The service keys of the changed virtual servers and those a reload changed, by serviceKeyId. */
  private changedKeys(keys: ReadonlyMap<string, ServiceKey[]> = this.keys, reloaded: ReadonlyMap<string, ServiceKey> = this.reloaded): Map<string, ServiceKey> {
    const scope = new Map(reloaded);
    for (const vsId of this.changed) for (const key of keys.get(vsId) ?? []) scope.set(serviceKeyId(key), key);
    return scope;
  }

  /** The entries a pass compares: the whole table, or only the services of `scope`. */
  private async read(scope?: ReadonlyMap<string, ServiceKey>): Promise<IpvsTable> {
    if (!scope) return this.driver.entries ? this.driver.entries() : this.driver.dump();
    const keys = [...scope.values()];
    return this.driver.entriesOf ? this.driver.entriesOf(keys) : servicesOf(await this.read(), keys);
  }

  /** Applies in order, in batches where the driver can; returns how many failed. */
  private async applyAll(ops: readonly IpvsOp[]): Promise<number> {
    let failed = 0;
    for (let i = 0; i < ops.length; i += BATCH) {
      const batch = ops.slice(i, i + BATCH);
      const errors = this.driver.applyMany ? await this.driver.applyMany(batch) : await applyInOrder((op) => this.driver.apply(op), batch);
      const edits: IpvsOp[] = [];
      for (const [j, op] of batch.entries()) {
        const edit = (errors[j] as { code?: unknown } | undefined)?.code === 'EEXIST' ? asEdit(op) : undefined;
        if (edit) edits.push(edit);
        else if (!this.settle(op, errors[j])) failed++;
        else if (op.kind === 'flush') this.flushPending = false;
      }
      if (edits.length > 0) failed += await this.applyAll(edits);
    }
    return failed;
  }

  private async applyOne(op: IpvsOp): Promise<boolean> {
    return this.settle(op, (await applyInOrder((o) => this.driver.apply(o), [op]))[0]);
  }

  /** Records an applied operation, or logs a failed one (the next pass retries it). */
  private settle(op: IpvsOp, error: Error | undefined): boolean {
    if (error === undefined) {
      this.owned.track(op);
      return true;
    }
    // No reply is no answer: the kernel handles a socket's requests in order, so an entry added or edited may be in
    // the table with only its ACK unread. Counted as ours, a later pass that finds it removes it when its server
    // fails; uncounted, it stayed for good as a foreign entry. A delete is not counted, so the next pass repeats it.
    if ((error as { code?: unknown }).code === 'ETIMEDOUT' && ['addService', 'editService', 'addDest', 'editDest'].includes(op.kind)) {
      this.owned.track(op);
    }
    this.log.error({ component: 'ipvs', op: op.kind }, `IPVS: ${ipvsadmCommand(op)} failed: ${errText(error)}`);
    return false;
  }

  /** What check_check_script_security logged for the config: keepalived writes it as its checker process starts. */
  private logScriptChecks(config: Config): void {
    for (const vs of config.virtualServers) for (const line of vs.scriptLog ?? []) this.info(line);
  }

  private emitAll(events: PoolEvent[]): void {
    for (const ev of events) {
      if (ev.kind === 'log') this.info(ev.msg);
      this.emit('pool', ev);
    }
  }

  private info(msg: string): void {
    this.log.info({ component: 'ipvs' }, msg);
  }
}
