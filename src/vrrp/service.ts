// Builds every vrrp_instance, vrrp_script and vrrp_sync_group of the config's VRRP part and wires them together:
// script and link trackers → effective priority / fault; sync-group directives between members; group notifies.
// reload() applies a new one as a diff (reload-plan.ts): what did not change keeps running untouched.
import { EventEmitter } from 'node:events';
import { existsSync, readFileSync, unwatchFile, watchFile, writeFileSync } from 'node:fs';
import type { Clock } from '../clock.js';
import type { Logger } from '../log.js';
import type { TrackFileDef, TrackRef, VrrpInstance, VrrpScript, VrrpSyncGroup } from '../config/model.js';
import { Rtnl } from '../net/rtnl.js';
import { LinkWatcher } from '../net/links.js';
import { VrrpInstanceRunner } from './instance.js';
import { Notifier, scriptPolicy, unsafeScriptReason, type ScriptPolicy } from './notify.js';
import { SyncGroupCore, type GroupState } from './sync-group.js';
import { PromoteSecondaries } from './promote-secondaries.js';
import { AnnouncePacer } from './announce-pacer.js';
import { planReload, sameSettings } from './reload-plan.js';
import { ScriptRunner, evaluateTracking, vipInterfaces, type ScriptState, type TrackInput } from './tracking.js';
import type { FsmAction } from './fsm.js';
import type { VrrpConfig } from '../ipc/protocol.js';

export interface VrrpServiceOptions {
  readonly clock: Clock;
  readonly logger: Logger;
  /** Each vrrp_track_process's quorum when the instances start (the supervisor counts them: process-monitor.ts). */
  readonly quorums?: Readonly<Record<string, boolean>>;
}

/** A sync group's state change, for the group's smtp_alert (keepalived vrrp_notify.c vrrp_sync_smtp_notifier). */
export interface GroupTransition {
  readonly group: string;
  readonly state: GroupState | 'STOP';
  readonly smtpAlert: boolean;
}

interface RunningGroup {
  readonly core: SyncGroupCore;
  readonly notifier: Notifier;
  readonly smtpAlert: boolean;
}

export class VrrpService extends EventEmitter<{ 'group-transition': [GroupTransition] }> {
  readonly instances = new Map<string, VrrpInstanceRunner>();
  private readonly groups = new Map<string, RunningGroup>();
  private readonly scripts = new Map<string, ScriptRunner>();
  private readonly links = new Map<string, boolean>();
  private readonly promote = new PromoteSecondaries();
  private readonly pacer: AnnouncePacer;
  /** vrrp_startup_delay's end (clock time), set at start only: a reload does not delay again, as in keepalived. */
  private delayedStartUntil: number | undefined;
  /** Instances holding promote_secondaries on their interface, and which. */
  private readonly promoting = new Map<VrrpInstanceRunner, string>();
  /** ifindex → name, for address notifications. */
  private readonly linkNames = new Map<number, string>();
  private readonly fileValues = new Map<string, number>();
  private readonly quorums = new Map<string, boolean>();
  private rtnl?: Rtnl;
  private watcher?: LinkWatcher;
  private policy: ScriptPolicy;
  /** Reloads run one at a time, and stop() waits for the one under way. */
  private reloading: Promise<void> = Promise.resolve();

  constructor(private config: VrrpConfig, private readonly opts: VrrpServiceOptions) {
    super();
    this.pacer = new AnnouncePacer(opts.clock);
    this.policy = scriptPolicy(config.global);
    for (const [name, up] of Object.entries(opts.quorums ?? {})) this.quorums.set(name, up);
  }

  /** A tracked process gained or lost its quorum (vrrp_track.c process_update_track_process_status). */
  processQuorum(name: string, up: boolean): void {
    if (this.quorums.get(name) === up) return;
    this.quorums.set(name, up);
    this.opts.logger.info(`Quorum ${up ? 'gained' : 'lost'} for tracked process ${name}`);
    this.retrack();
  }

  /** A reload's counts: the supervisor counted afresh for the new vrrp_track_process blocks. */
  setQuorums(quorums: Readonly<Record<string, boolean>>): void {
    this.quorums.clear();
    for (const [name, up] of Object.entries(quorums)) this.quorums.set(name, up);
  }

  async start(): Promise<void> {
    const { logger } = this.opts;
    this.rtnl = Rtnl.open();
    for (const l of await this.rtnl.links()) {
      this.links.set(l.name, l.up);
      this.linkNames.set(l.index, l.name);
    }
    this.watcher = LinkWatcher.open();
    this.watcher.on('address', (ev) => {
      if (ev.kind === 'del') this.addressDeleted(ev.ifindex, ev.address);
    });
    this.watcher.on('link', (ev) => {
      if (ev.deleted) this.linkNames.delete(ev.index);
      else this.linkNames.set(ev.index, ev.name);
      if (this.links.get(ev.name) === ev.up) return;
      this.links.set(ev.name, ev.up);
      logger.info(`Netlink reports ${ev.name} ${ev.up ? 'up' : 'down'}`);
      this.retrack();
    });
    this.watcher.on('error', (e) => logger.warn(`link watcher: ${e.message}`));
    const delayMs = this.config.global.vrrpStartupDelayMs;
    if (delayMs > 0) {
      logger.info(`Delaying startup for ${delayMs / 1000} seconds`);
      this.delayedStartUntil = this.opts.clock.now() + delayMs;
    }
    for (const f of this.config.trackFiles) this.watchTrackFile(f);
    for (const s of this.config.vrrpScripts) this.addScript(s);
    for (const vi of this.config.vrrpInstances) this.addInstance(vi);
    for (const g of this.config.vrrpSyncGroups) this.addGroup(g);
    for (const r of this.instances.values()) await this.startInstance(r);
    for (const s of this.scripts.values()) s.start();
  }

  async stop(): Promise<void> {
    await this.reloading;
    for (const s of this.scripts.values()) s.stop();
    for (const f of this.config.trackFiles) unwatchFile(f.file);
    await Promise.all([...this.instances.values()].map((r) => this.stopInstance(r)));
    for (const g of this.groups.values()) {
      this.groupState(g, 'STOP');
      await g.notifier.idle();
    }
    this.watcher?.close();
    this.rtnl?.close();
  }

  /**
   * SIGHUP: applies a new configuration with as little disruption as the differences allow. Unchanged instances keep
   * their state, timers and VIPs; changed ones are adjusted in place (priority from the next advert on, only the
   * VIPs that differ added or removed) unless the router itself changed (then restarted); removed ones stop as at
   * shutdown; new ones start as at boot. Scripts and track files that did not change keep their state too.
   */
  reload(next: VrrpConfig): Promise<void> {
    const run = this.reloading.then(() => this.applyReload(next));
    // A failed reload is the caller's to report; the next reload and stop() must still run.
    this.reloading = run.catch(() => undefined);
    return run;
  }

  private async applyReload(next: VrrpConfig): Promise<void> {
    const prev = this.config;
    const plan = planReload(prev.vrrpInstances, next.vrrpInstances);
    this.opts.logger.info(
      `VRRP reload: ${plan.keep.length} unchanged, ${plan.adjust.length} adjusted, ${plan.restart.length} restarted, ` +
        `${plan.remove.length} removed, ${plan.add.length} added`,
    );
    this.config = next;
    this.policy = scriptPolicy(next.global);
    const newScripts: ScriptRunner[] = [];
    for (const s of prev.vrrpScripts) {
      if (!sameSettings(s, next.vrrpScripts.find((x) => x.name === s.name))) {
        this.scripts.get(s.name)?.stop();
        this.scripts.delete(s.name);
      }
    }
    for (const s of next.vrrpScripts) if (!this.scripts.has(s.name)) newScripts.push(this.addScript(s));
    for (const f of prev.trackFiles) {
      if (!sameSettings(f, next.trackFiles.find((x) => x.name === f.name))) {
        unwatchFile(f.file);
        this.fileValues.delete(f.name);
      }
    }
    for (const f of next.trackFiles) if (!this.fileValues.has(f.name)) this.watchTrackFile(f);

    await Promise.all([
      ...plan.remove.map((name) => this.stopInstance(this.instances.get(name), true)),
      ...plan.restart.map((name) => this.stopInstance(this.instances.get(name))),
    ]);
    for (const name of [...plan.remove, ...plan.restart]) this.instances.delete(name);
    const byName = new Map(next.vrrpInstances.map((vi) => [vi.name, vi]));
    for (const name of plan.adjust) {
      const vi = byName.get(name)!;
      const r = this.instances.get(name)!;
      const notifier = sameSettings(r.cfg.notify, vi.notify) ? r.currentNotifier : this.instanceNotifier(vi);
      r.reconfigure(vi, notifier);
      this.promoteSecondaries(r);
    }
    const starting = [...plan.restart, ...plan.add].map((name) => this.addInstance(byName.get(name)!));

    const oldGroups = new Map(this.groups);
    this.groups.clear();
    for (const g of next.vrrpSyncGroups) {
      const before = prev.vrrpSyncGroups.find((x) => x.name === g.name);
      const old = oldGroups.get(g.name);
      // The group's last state carries over, so an unchanged group does not notify again.
      const kept = this.addGroup(g, before !== undefined && sameSettings(before.notify, g.notify) ? old?.notifier : undefined);
      if (old?.core.state !== undefined) kept.core.state = old.core.state;
    }
    for (const [name, g] of oldGroups) {
      if (this.groups.has(name)) continue;
      this.groupState(g, 'STOP');
    }

    for (const r of starting) {
      try {
        await this.startInstance(r);
      } catch (e) {
        // One instance that cannot start (its interface is gone, …) must not keep the others from starting.
        this.opts.logger.error(`VRRP instance ${r.cfg.name} not started: ${(e as Error).message}`);
        this.instances.delete(r.cfg.name);
      }
    }
    for (const s of newScripts) s.start();
    this.retrack();
  }

  private watchTrackFile(f: TrackFileDef): void {
    if (f.initFile && (f.initFile.overwrite || !existsSync(f.file))) writeFileSync(f.file, `${f.initFile.value}\n`);
    this.fileValues.set(f.name, readTrackFile(f.file));
    // keepalived uses inotify; a half-second stat poll keeps this dependency-free and follows replaced files.
    watchFile(f.file, { interval: 500 }, () => {
      const v = readTrackFile(f.file);
      if (v === this.fileValues.get(f.name)) return;
      this.fileValues.set(f.name, v);
      this.opts.logger.info(`Tracked file ${f.name} now has value ${v}`);
      this.retrack();
    });
  }

  private addScript(s: VrrpScript): ScriptRunner {
    const { clock, logger } = this.opts;
    const unsafe = unsafeScriptReason(s.script, this.policy);
    const runner = new ScriptRunner(s, {
      clock,
      logger,
      allowed: unsafe === undefined,
      ...(this.policy.defaultUser !== undefined ? { defaultUser: this.policy.defaultUser } : {}),
      ...(this.policy.defaultGroup !== undefined ? { defaultGroup: this.policy.defaultGroup } : {}),
      onChange: () => this.retrack(),
    });
    this.scripts.set(s.name, runner);
    return runner;
  }

  private instanceNotifier(vi: VrrpInstance): Notifier {
    return new Notifier('INSTANCE', vi.name, vi.notify, this.policy, this.opts.logger);
  }

  private addInstance(vi: VrrpInstance): VrrpInstanceRunner {
    const { clock, logger } = this.opts;
    const runner = new VrrpInstanceRunner(vi, {
      clock, logger, rtnl: this.rtnl!, global: this.config.global, notifier: this.instanceNotifier(vi), pacer: this.pacer,
      delayedStartUntil: () => this.delayedStartUntil,
    });
    this.instances.set(vi.name, runner);
    runner.on('actions', (actions) => this.afterActions(vi.name, actions));
    return runner;
  }

  /** A group's new state: its notify, and the event its smtp_alert is sent from. */
  private groupState(g: RunningGroup, state: GroupState | 'STOP'): void {
    g.notifier.notify(state, 0);
    this.emit('group-transition', { group: g.core.name, state, smtpAlert: g.smtpAlert });
  }

  private addGroup(g: VrrpSyncGroup, notifier?: Notifier): RunningGroup {
    const members = new Map(g.members.flatMap((m) => {
      const r = this.instances.get(m);
      return r ? [[m, r.fsm] as const] : [];
    }));
    const group = {
      smtpAlert: g.smtpAlert,
      core: new SyncGroupCore(g.name, members),
      notifier: notifier ?? new Notifier('GROUP', g.name, g.notify, this.policy, this.opts.logger),
    };
    this.groups.set(g.name, group);
    return group;
  }

  private async stopInstance(r: VrrpInstanceRunner | undefined, removed = false): Promise<void> {
    if (!r) return;
    await r.stop(removed);
    this.promoteSecondaries(r, false);
  }

  /** Holds or lets go of promote_secondaries on the instance's interface, as its config (and `running`) say. */
  private promoteSecondaries(r: VrrpInstanceRunner, running = true): void {
    const want = running && r.cfg.promoteSecondaries ? r.cfg.interface : undefined;
    const held = this.promoting.get(r);
    if (want === held) return;
    try {
      if (held !== undefined) {
        this.promoting.delete(r);
        this.promote.release(held);
      }
      if (want !== undefined) {
        this.promote.acquire(want);
        this.promoting.set(r, want);
      }
    } catch (e) {
      this.opts.logger.warn(`(${r.cfg.name}) promote_secondaries on ${want ?? held}: ${(e as Error).message}`);
    }
  }

  private async startInstance(r: VrrpInstanceRunner): Promise<void> {
    this.promoteSecondaries(r);
    const t = this.tracking(r.cfg);
    await r.start(t.faulty);
    r.dispatch({ kind: 'priority', effective: t.effectivePriority });
  }

  /**
   * The tracked objects of an instance, with its sync group's trackers. Which of a member's own trackers may weigh
   * was settled when the config was read (resolve-vrrp.ts memberTrackerRules).
   */
  private inputs(vi: VrrpInstance): TrackInput[] {
    const group = this.config.vrrpSyncGroups.find((g) => g.name === vi.syncGroup);
    const conv = (kind: TrackInput['kind'], refs: readonly TrackRef[]): TrackInput[] =>
      refs.map((r) => {
        const script = kind === 'script' ? this.config.vrrpScripts.find((s) => s.name === r.name) : undefined;
        const file = kind === 'file' ? this.config.trackFiles.find((f) => f.name === r.name) : undefined;
        const proc = kind === 'process' ? this.config.trackProcesses.find((p) => p.name === r.name) : undefined;
        const weight = r.weight ?? script?.weight ?? file?.weight ?? proc?.weight ?? 0;
        const reverse = r.weight !== undefined ? r.reverse : (script?.weightReverse ?? file?.reverse ?? proc?.reverse ?? r.reverse);
        return { kind, name: r.name, weight, reverse };
      });
    const list: TrackInput[] = [
      ...conv('script', vi.trackScripts),
      ...conv('interface', vi.trackInterfaces),
      ...conv('file', vi.trackFiles),
      ...conv('process', vi.trackProcesses),
      ...(vi.interface !== undefined && !vi.dontTrackPrimary ? [{ kind: 'interface' as const, name: vi.interface, weight: 0, reverse: false }] : []),
      ...vipInterfaces(vi).map((name) => ({ kind: 'interface' as const, name, weight: 0, reverse: false })),
    ];
    if (group) {
      list.push(...conv('script', group.trackScripts), ...conv('file', group.trackFiles));
      // One entry per interface and process (vrrp.c add_vrrp_to_interface, add_vrrp_to_track_process): the group's
      // weight, unless the member's is unweighted.
      for (const t of [...conv('interface', group.trackInterfaces), ...conv('process', group.trackProcesses)]) {
        const i = list.findIndex((x) => x.kind === t.kind && x.name === t.name);
        if (i < 0) list.push(t);
        else if (list[i]!.weight !== 0) list[i] = t;
      }
    }
    return list;
  }

  private tracking(vi: VrrpInstance): ReturnType<typeof evaluateTracking> {
    return evaluateTracking(vi.priority, this.inputs(vi), {
      script: (n): ScriptState => this.scripts.get(n)?.status.state ?? 'init',
      interface: (n) => this.links.get(n) ?? false,
      file: (n) => this.fileValues.get(n) ?? 0,
      process: (n) => this.quorums.get(n) ?? false,
    });
  }

  /** Re-evaluates every instance's trackers after a script or link change. */
  private retrack(): void {
    for (const r of this.instances.values()) {
      if (r.state === 'INIT' || r.state === 'STOP') continue;
      const t = this.tracking(r.cfg);
      r.dispatch({ kind: 'priority', effective: t.effectivePriority });
      if (t.faulty !== r.fsm.ownFaulty) r.dispatch({ kind: 'fault', faulty: t.faulty });
    }
  }

  /**
   * A VIP deleted behind our back: the MASTER instance holding it, if it tracks that interface, goes to BACKUP with a
   * priority-0 advert and comes back after Skew_Time, putting the address back (keepalived 2.2.7
   * keepalived_netlink.c netlink_if_address_filter → set_vrrp_backup). Our own deletions are not counted.
   */
  private addressDeleted(ifindex: number, address: string): void {
    const ifname = this.linkNames.get(ifindex);
    for (const r of this.instances.values()) {
      if (!r.vipDeleted(ifindex, address)) continue;
      if (ifname === undefined || !this.inputs(r.cfg).some((t) => t.kind === 'interface' && t.name === ifname)) continue;
      this.opts.logger.debug(`Netlink reflector reports IP ${address} removed from ${ifname}`);
      r.dispatch({ kind: 'set-backup' });
      return;
    }
  }

  private afterActions(member: string, actions: FsmAction[]): void {
    const groupName = this.instances.get(member)?.cfg.syncGroup;
    const group = groupName === undefined ? undefined : this.groups.get(groupName);
    if (!group) return;
    for (const d of group.core.react(member, actions)) {
      if (d.event.kind === 'group-backup') this.opts.logger.info(`VRRP_Group(${groupName}) Syncing instances to BACKUP state`);
      this.instances.get(d.member)?.dispatch(d.event);
    }
    const s = group.core.update();
    if (s !== undefined) this.groupState(group, s);
  }
}

/** A track_file holds an integer; a missing or unreadable file counts as 0, as in keepalived. */
function readTrackFile(path: string): number {
  try {
    const v = parseInt(readFileSync(path, 'utf8').trim(), 10);
    return Number.isFinite(v) ? v : 0;
  } catch {
    return 0;
  }
}
