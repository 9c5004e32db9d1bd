// Builds every vrrp_instance, vrrp_script and vrrp_sync_group of the config's VRRP part and wires them together:
// script and link trackers → effective priority / fault; sync-group directives between members; group notifies.
// reload() applies a new one as a diff (reload-plan.ts): what did not change keeps running untouched.
import { EventEmitter } from 'node:events';
import { existsSync, readFileSync, unwatchFile, watchFile, writeFileSync } from 'node:fs';
import type { Clock, TimerHandle } from '../clock.js';
import type { Logger } from '../log.js';
import type { TrackFileDef, TrackRef, VrrpInstance, VrrpScript, VrrpSyncGroup } from '../config/model.js';
import { RT_SCOPE_LINK, Rtnl, type AddressInfo } from '../net/rtnl.js';
import { LinkWatcher, type AddressEvent } from '../net/links.js';
import { VrrpInstanceRunner } from './instance.js';
import { VmacLinks } from './vmac-link.js';
import { addressVmacs } from './vmac.js';
import { Notifier, scriptPolicy, unsafeScriptReason, type FifoSink, type ScriptPolicy } from './notify.js';
import { SyncGroupCore, type GroupState } from './sync-group.js';
import { PromoteSecondaries } from './promote-secondaries.js';
import { AnnouncePacer } from './announce-pacer.js';
import { planReload, sameSettings } from './reload-plan.js';
import { ScriptRunner, evaluateTracking, routingInterfaces, vipInterfaces, type ScriptState, type TrackInput } from './tracking.js';
import { StaticEntries } from './static-entries.js';
import { InterfaceAddresses } from './iface-addresses.js';
import { RTPROT_KEEPALIVED } from '../config/routes.js';
import { ruleProtocol } from '../net/rtnl-route.js';
import type { RoutingEvent, RoutingGroups } from '../net/links.js';
import type { FsmAction } from './fsm.js';
import { LinkDebounce } from './link-debounce.js';
import type { VrrpConfig } from '../ipc/protocol.js';
import type { BfdTakeover } from '../config/bfd-takeover.js';
import { Nft } from '../net/nft.js';
import { VipFirewall } from './vip-firewall.js';
import { NFT_IDENTIFIER, dropRulesNeeded } from './nft-rules.js';

export interface VrrpServiceOptions {
  readonly clock: Clock;
  readonly logger: Logger;
  /** The notify FIFO lines' way out, used while the config names a notify_fifo or vrrp_notify_fifo. */
  readonly fifo?: FifoSink;
  /** Each vrrp_track_process's quorum when the instances start (the supervisor counts them: process-monitor.ts). */
  readonly quorums?: Readonly<Record<string, boolean>>;
  /** `--bfd-takeover` (config/bfd-takeover.ts): each instance's sessions whose Down may stand for its master's. */
  readonly bfdTakeover?: BfdTakeover;
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
  /** interface_up_down_delays: which link changes wait, and the one timer for the earliest of them. */
  private readonly debounce: LinkDebounce;
  private debounceTimer: TimerHandle | undefined;
  private readonly promote = new PromoteSecondaries();
  private readonly pacer: AnnouncePacer;
  /** vrrp_startup_delay's end (clock time), set at start only: a reload does not delay again, as in keepalived. */
  private delayedStartUntil: number | undefined;
  /** Instances holding promote_secondaries on their interface, and which. */
  private readonly promoting = new Map<VrrpInstanceRunner, string>();
  /** ifindex → name, for address notifications. */
  private readonly linkNames = new Map<number, string>();
  private readonly fileValues = new Map<string, number>();
  /** Each interface's own address, as keepalived keeps it (iface-addresses.ts). */
  private readonly ifAddresses = new InterfaceAddresses();
  /** Instances in FAULT because their interface lost the address they send from (down_instance, saddr unset). */
  private readonly sourceLost = new Set<string>();
  private readonly quorums = new Map<string, boolean>();
  private readonly bfdUp = new Map<string, boolean>();
  private rtnl?: Rtnl;
  private vmacs?: VmacLinks;
  private watcher?: LinkWatcher;
  private statics?: StaticEntries;
  private firewall?: VipFirewall;
  private policy: ScriptPolicy;
  /** Reloads run one at a time, and stop() waits for the one under way. */
  private reloading: Promise<void> = Promise.resolve();

  constructor(private config: VrrpConfig, private readonly opts: VrrpServiceOptions) {
    super();
    this.pacer = new AnnouncePacer(opts.clock);
    this.debounce = new LinkDebounce(config.interfaceUpDownDelays ?? []);
    this.policy = scriptPolicy(config.global);
    for (const [name, up] of Object.entries(opts.quorums ?? {})) this.quorums.set(name, up);
  }

  /**
   * A BFD session went Up or Down (vrrp_scheduler.c vrrp_handle_bfd_event): logged for each instance tracking it,
   * itself or through its sync group, then the trackers re-evaluated (weight, or FAULT). A Down then reaches every
   * FSM, which with `--bfd-takeover` may take it for its master's loss (a FAULT the trackers chose comes first).
   */
  bfdState(name: string, up: boolean): void {
    if ((this.bfdUp.get(name) ?? false) === up) return;
    this.bfdUp.set(name, up);
    for (const r of this.instances.values()) {
      if (!this.inputs(r.cfg).some((t) => t.kind === 'bfd' && t.name === name)) continue;
      this.opts.logger.info(`VRRP_Instance(${r.cfg.name}) Tracked BFD instance ${name} is ${up ? 'UP' : 'DOWN'}`);
    }
    this.retrack();
    const neighbor = this.config.bfdInstances.find((b) => b.name === name)?.neighbor;
    if (up || neighbor === undefined) return;
    for (const r of this.instances.values()) r.dispatch({ kind: 'bfd-down', session: name, neighbor });
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
    this.vmacs = new VmacLinks(this.rtnl, logger, () => this.firewall);
    for (const l of await this.rtnl.links()) {
      this.links.set(l.name, l.up);
      this.linkNames.set(l.index, l.name);
      this.debounce.seed(l.name, l.flags);
    }
    this.watcher = LinkWatcher.open();
    this.watcher.on('address', (ev) => this.addressChanged(ev));
    this.watcher.on('routing', (ev) => {
      if (ev.kind === 'del') this.routingDeleted(ev);
    });
    this.watcher.watchRouting(this.routingGroups());
    this.watcher.on('link', (ev) => {
      if (ev.deleted) this.linkNames.delete(ev.index);
      else this.linkNames.set(ev.index, ev.name);
      const verdict = this.debounce.change(ev.name, ev.flags, ev.deleted, this.opts.clock.now());
      for (const line of verdict.lines) logger.info(line);
      this.armDebounce();
      if (verdict.act) this.linkChanged(ev.name, ev.up && !ev.deleted);
    });
    this.watcher.on('error', (e) => logger.warn(`link watcher: ${e.message}`));
    const delayMs = this.config.global.vrrpStartupDelayMs;
    if (delayMs > 0) {
      logger.info(`Delaying startup for ${delayMs / 1000} seconds`);
      this.delayedStartUntil = this.opts.clock.now() + delayMs;
    }
    this.openFirewall(this.config);
    for (const f of this.config.trackFiles) this.watchTrackFile(f);
    for (const s of this.config.vrrpScripts) this.addScript(s);
    for (const vi of this.config.vrrpInstances) this.addInstance(vi);
    for (const g of this.config.vrrpSyncGroups) this.addGroup(g);
    // keepalived reads the interfaces' addresses once the instances are tracking them (netlink_address_lookup).
    for (const a of await this.rtnl.addresses()) this.addressAdded(a);
    const { staticAddresses, staticRoutes, staticRules } = this.config;
    this.statics = new StaticEntries(staticAddresses, staticRoutes, staticRules, { rtnl: this.rtnl, logger, defaultInterface: this.config.global.defaultInterface });
    await this.statics.start();
    // Every VMAC/ipvlan is made before any instance starts, as keepalived completes all instances first.
    for (const r of this.instances.values()) await r.prepareDevice();
    for (const r of this.instances.values()) await this.startInstance(r);
    for (const s of this.scripts.values()) s.start();
  }

  /** An interface's up/down state as acted on (keepalived_netlink.c process_interface_flags_change). */
  private linkChanged(name: string, up: boolean): void {
    if (this.links.get(name) === up) return;
    this.links.set(name, up);
    // Our own VMACs follow their base, which is what the instances track.
    if (this.vmacs?.owns(name)) return;
    this.opts.logger.info(`Netlink reports ${name} ${up ? 'up' : 'down'}`);
    this.retrack();
  }

  /** One timer, for the earliest delayed link change (delayed_if_flags_change_thread). */
  private armDebounce(): void {
    const { clock } = this.opts;
    if (this.debounceTimer) clock.clearTimeout(this.debounceTimer);
    this.debounceTimer = undefined;
    const due = this.debounce.nextDue();
    if (due === undefined) return;
    this.debounceTimer = clock.setTimeout(() => {
      this.debounceTimer = undefined;
      for (const c of this.debounce.due(clock.now())) this.linkChanged(c.name, c.up);
      this.armDebounce();
    }, Math.max(0, due - clock.now()));
  }

  async stop(): Promise<void> {
    await this.reloading;
    if (this.debounceTimer) this.opts.clock.clearTimeout(this.debounceTimer);
    this.debounceTimer = undefined;
    for (const s of this.scripts.values()) s.stop();
    for (const f of this.config.trackFiles) unwatchFile(f.file);
    await Promise.all([...this.instances.values()].map((r) => this.stopInstance(r)));
    for (const g of this.groups.values()) {
      this.groupState(g, 'STOP');
      await g.notifier.idle();
    }
    await this.statics?.stop();
    await this.vmacs?.restoreRpFilter();
    await this.firewall?.close();
    this.watcher?.close();
    this.rtnl?.close();
  }

  /**
   * The nftables rules: no_accept's drop rules, and use_vmac's IGMP / MLD ones (vrrp.c vrrp_complete_instance: an
   * instance not in accept mode or with use_vmac has nftables used even unconfigured, table "keepalived"; an
   * address's own VMAC gets its rules only when something turned nftables on). The supervisor has made sure `nft`
   * is there for the drop rules.
   */
  private openFirewall(config: VrrpConfig): void {
    if (this.firewall) return;
    const nft = config.global.nftables;
    const turnsOn = config.vrrpInstances.some((vi) => !vi.accept || vi.useVmac !== undefined);
    if (nft.table === undefined && turnsOn) {
      this.opts.logger.info('use_vmac or no_accept/strict specified, but no firewall configured - using nftables');
    }
    const vmacs = config.vrrpInstances.some((vi) => vi.useVmac !== undefined || addressVmacs(vi).length > 0);
    if (dropRulesNeeded(config.vrrpInstances).length === 0 && !((nft.table !== undefined || turnsOn) && vmacs)) return;
    const bin = Nft.find();
    const table = nft.table ?? 'keepalived';
    if (!bin) this.opts.logger.error('nftables: nft is not on PATH (Debian package nftables); VIP traffic is not dropped, IGMP / MLD reports leave from VMACs');
    else if (!NFT_IDENTIFIER.test(table)) this.opts.logger.error(`nftables table name '${table}' cannot be written for nft (letters, digits, '_', '.', '-' and '/' only); VIP traffic is not dropped, IGMP / MLD reports leave from VMACs`);
    else this.firewall = new VipFirewall(bin, { ...nft, table }, this.opts.logger);
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
    this.debounce.setDelays(next.interfaceUpDownDelays ?? []);
    this.openFirewall(next);
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
    for (const name of plan.keep) this.instances.get(name)?.rebuiltByReload();
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
    this.watcher?.watchRouting(this.routingGroups());
    await this.reloadStatics(prev, next);
    this.retrack();
    this.priorityAfterReload([...plan.keep, ...plan.adjust]);
    if (next.global.fifoWriteVrrpStatesOnReload) this.writeStatesOnReload([...plan.keep, ...plan.adjust], oldGroups);
  }

  /**
   * keepalived rebuilds a kept instance from its configured priority and sets the trackers' effective one again
   * (initialise_vrrp_tracking_priorities → vrrp_set_effective_priority): one that differs from the base is a
   * priority change again, with its FIFO line.
   */
  private priorityAfterReload(kept: readonly string[]): void {
    for (const r of this.instances.values()) {
      const base = r.cfg.priority;
      if (!kept.includes(r.cfg.name) || base === 255 || r.priority === base || !this.notifyPriorityChanges(r.cfg)) continue;
      r.currentNotifier.priorityChanged(r.state === 'MASTER', r.priority);
    }
  }

  /**
   * fifo_write_vrrp_states_on_reload (vrrp_scheduler.c vrrp_init_state): each sync group that was there before, then
   * each instance that kept its state, writes its state line again. A MASTER kept through the reload takes the
   * reload_master path there, which writes nothing.
   */
  private writeStatesOnReload(kept: readonly string[], oldGroups: ReadonlyMap<string, RunningGroup>): void {
    for (const [name, g] of this.groups) {
      const state = g.core.state;
      if (oldGroups.has(name) && state !== undefined) g.notifier.stateLine(state, 0);
    }
    for (const r of this.instances.values()) {
      if (!kept.includes(r.cfg.name) || (r.state !== 'BACKUP' && r.state !== 'FAULT')) continue;
      r.currentNotifier.stateLine(r.state, r.priority);
    }
  }

  /** Lines leave while the config in force names a FIFO for them (a notifier kept through a reload sees the new one). */
  private readonly fifoOut: FifoSink = (line) => {
    if (this.config.global.notifyFifo || this.config.global.vrrpNotifyFifo) this.opts.fifo?.(line);
  };

  /** vrrp_scheduler.c vrrp_init_instance_sands: the instance's own setting, else its group's, else the global one. */
  private notifyPriorityChanges(vi: VrrpInstance): boolean {
    const group = this.config.vrrpSyncGroups.find((g) => g.name === vi.syncGroup);
    return vi.notifyPriorityChanges ?? group?.notifyPriorityChanges ?? this.config.global.vrrpNotifyPriorityChanges;
  }

  /**
   * Static entries after a reload: when they changed, the old ones are removed and the new ones installed (keepalived
   * diffs them entry by entry, vrrp_iproute.c clear_diff_static_routes …; an unchanged entry here is re-added).
   */
  private async reloadStatics(prev: VrrpConfig, next: VrrpConfig): Promise<void> {
    const key = (c: VrrpConfig): string => JSON.stringify([c.staticAddresses, c.staticRoutes, c.staticRules]);
    if (key(prev) === key(next) || this.rtnl === undefined) return;
    await this.statics?.stop();
    this.statics = new StaticEntries(next.staticAddresses, next.staticRoutes, next.staticRules, {
      rtnl: this.rtnl, logger: this.opts.logger, defaultInterface: next.global.defaultInterface,
    });
    await this.statics.start();
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
    return new Notifier('INSTANCE', vi.name, vi.notify, this.policy, this.opts.logger, this.fifoOut);
  }

  private addInstance(vi: VrrpInstance): VrrpInstanceRunner {
    const { clock, logger } = this.opts;
    if (vi.unicastFaultNoPeer && vi.unicastPeers.length === 0) logger.info(`(${vi.name}) Cannot use unicast without any peers - going to fault state`);
    const runner = new VrrpInstanceRunner(vi, {
      clock, logger, rtnl: this.rtnl!, global: this.config.global, notifier: this.instanceNotifier(vi), pacer: this.pacer,
      delayedStartUntil: () => this.delayedStartUntil, ...(this.vmacs ? { vmacs: this.vmacs } : {}),
      garpGroups: () => this.config.garpGroups ?? [],
      bfdTakeover: this.opts.bfdTakeover?.[vi.name] ?? [],
      ...(this.firewall ? { firewall: this.firewall } : {}),
      notifyPriorityChanges: (cfg) => this.notifyPriorityChanges(cfg),
      packetVrid: (from, vrid, src) => this.unknownVrid(from, vrid, src),
    });
    this.instances.set(vi.name, runner);
    runner.on('actions', (actions) => this.afterActions(vi.name, actions));
    return runner;
  }

  /**
   * log_unknown_vrids (vrrp_scheduler.c vrrp_read_dispatcher_thread): keepalived reads each packet once per socket
   * and logs it when no instance on that socket has its VRID, or, for a VRID unicast instances there share, when it
   * comes from none of their peers. Every instance has its own socket here: the first of those keepalived would
   * share one speaks for them.
   */
  private unknownVrid(from: VrrpInstanceRunner, vrid: number, src: string): void {
    const sock = from.socket;
    if (!this.config.global.logUnknownVrids || sock === undefined) return;
    // Every instance gets every packet: the others stop at the first sharing instance, only it looks further.
    for (const r of this.instances.values()) {
      if (r === from) break;
      if (r.socket?.key === sock.key) return;
    }
    const owners = [...this.instances.values()].filter((r) => r.socket?.key === sock.key && r.cfg.vrid === vrid);
    if (owners.length === 0) {
      this.opts.logger.info(`Unknown VRID(${vrid}) received on interface(${sock.ifname}). ignoring...`);
    } else if (sock.unicast && owners.length > 1 && !owners.some((r) => r.cfg.unicastPeers.some((p) => p.address === src))) {
      this.opts.logger.info(`Unknown VRID(${vrid}) received on interface(${sock.ifname}) from ${src}. ignoring...`);
    }
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
      notifier: notifier ?? new Notifier('GROUP', g.name, g.notify, this.policy, this.opts.logger, this.fifoOut),
    };
    this.groups.set(g.name, group);
    return group;
  }

  private async stopInstance(r: VrrpInstanceRunner | undefined, removed = false): Promise<void> {
    if (!r) return;
    await r.stop(removed);
    this.sourceLost.delete(r.cfg.name);
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
    await r.prepareDevice();
    const t = this.tracking(r.cfg);
    // vrrp_track.c initialise_vrrp_tracking_priorities sets the effective priority before vrrp_init_state enters
    // BACKUP, so its change (and priority-change FIFO line) comes first.
    r.dispatch({ kind: 'priority', effective: t.effectivePriority });
    await r.start(t.faulty);
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
      ...conv('bfd', vi.trackBfds),
      ...(vi.interface !== undefined && !vi.dontTrackPrimary ? [{ kind: 'interface' as const, name: vi.interface, weight: 0, reverse: false }] : []),
      ...vipInterfaces(vi).map((name) => ({ kind: 'interface' as const, name, weight: 0, reverse: false })),
      ...routingInterfaces(vi).map((name) => ({ kind: 'interface' as const, name, weight: 0, reverse: false })),
    ];
    // A VMAC/ipvlan that could not be made is an interface that stays down (vrrp->ifp without an ifindex).
    const missing = this.instances.get(vi.name)?.missingDevice;
    if (missing !== undefined) list.push({ kind: 'interface', name: missing, weight: 0, reverse: false });
    if (group) {
      list.push(...conv('script', group.trackScripts), ...conv('file', group.trackFiles));
      // One entry per interface, process and BFD (vrrp.c add_vrrp_to_interface, add_vrrp_to_track_process,
      // add_vrrp_to_track_bfd): the group's weight, unless the member's is unweighted.
      for (const t of [...conv('interface', group.trackInterfaces), ...conv('process', group.trackProcesses), ...conv('bfd', group.trackBfds)]) {
        const i = list.findIndex((x) => x.kind === t.kind && x.name === t.name);
        if (i < 0) list.push(t);
        else if (list[i]!.weight !== 0) list[i] = t;
      }
    }
    return list;
  }

  private tracking(vi: VrrpInstance): ReturnType<typeof evaluateTracking> {
    const t = evaluateTracking(vi.priority, this.inputs(vi), {
      script: (n): ScriptState => this.scripts.get(n)?.status.state ?? 'init',
      interface: (n) => this.links.get(n) ?? false,
      file: (n) => this.fileValues.get(n) ?? 0,
      process: (n) => this.quorums.get(n) ?? false,
      bfd: (n) => this.bfdUp.get(n) ?? false,
    });
    if (!this.sourceLost.has(vi.name)) return t;
    return { ...t, faulty: true, faultReasons: [...t.faultReasons, 'no source address'] };
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

  private addressChanged(ev: AddressEvent): void {
    if (ev.kind === 'new') this.addressAdded(ev);
    else this.addressDeleted(ev);
  }

  /** Whether an instance is on the interface's list of trackers in keepalived (ifp->tracking_vrrp). */
  private tracksInterface(r: VrrpInstanceRunner, ifname: string): boolean {
    return r.cfg.interface === ifname || this.inputs(r.cfg).some((t) => t.kind === 'interface' && t.name === ifname);
  }

  /** The instances sending from the interface's own address of the family (VRRP_CONFIGURED_IFP, not a VMAC's for IPv6). */
  private fromInterfaceAddress(ifname: string, family: 4 | 6): VrrpInstanceRunner[] {
    return [...this.instances.values()].filter((r) =>
      r.cfg.interface === ifname && (r.cfg.family === 'inet6' ? 6 : 4) === family && !r.sourceFromConfig &&
      (family === 4 || (r.cfg.useVmac === undefined && r.cfg.useIpvlan === undefined)));
  }

  /**
   * keepalived_netlink.c netlink_if_address_filter, RTM_NEWADDR: an address that is none of our VIPs/eVIPs (for IPv6
   * only a link-local one) becomes the interface's own if it had none; then, if instances track the interface, that
   * is logged, and those in FAULT for want of a source address take it and come back (try_up_instance).
   */
  private addressAdded(a: AddressInfo): void {
    if (a.family === 6 && a.scope !== RT_SCOPE_LINK) return;
    if ([...this.instances.values()].some((r) => r.vipAt(a.ifindex, a.address) !== undefined)) return;
    if (!this.ifAddresses.added(a.ifindex, a.family, a.address)) return;
    const ifname = this.linkNames.get(a.ifindex);
    if (ifname === undefined || ![...this.instances.values()].some((r) => this.tracksInterface(r, ifname))) return;
    this.opts.logger.debug(`Assigned address ${a.address} for interface ${ifname}`);
    let back = false;
    for (const r of this.fromInterfaceAddress(ifname, a.family)) {
      if (!this.sourceLost.delete(r.cfg.name)) continue;
      r.setSourceAddress(a.address);
      back = true;
    }
    if (back) this.retrack();
  }

  /**
   * keepalived_netlink.c netlink_if_address_filter, RTM_DELADDR. The interface's own address going: another one left
   * takes its place, also as the source of the instances sending from it; none left, the instances sending from it
   * go to FAULT (down_instance) until an address comes. A configured source address (mcast_src_ip, unicast_src_ip)
   * is never lost this way, with or without track_src_ip: keepalived 2.2.7 tests its tracking flag against the
   * first bytes of vrrp->saddr (inaddr_equal on the sockaddr, not on its sin_addr), which match no address.
   * A VIP deleted behind our back: the MASTER instance holding it, if it tracks that interface, goes to BACKUP with a
   * priority-0 advert and comes back after Skew_Time, putting the address back (set_vrrp_backup). Our own deletions
   * are not counted.
   */
  private addressDeleted(a: AddressInfo): void {
    const { ifindex, address } = a;
    this.statics?.addressDeleted(ifindex, address);
    const ifname = this.linkNames.get(ifindex);
    const loss = a.family === 4 || a.scope === RT_SCOPE_LINK ? this.ifAddresses.deleted(ifindex, a.family, address) : undefined;
    if (loss !== undefined && ifname !== undefined) {
      const users = this.fromInterfaceAddress(ifname, a.family);
      if (loss.kind === 'replaced') {
        for (const r of users) r.setSourceAddress(loss.by);
      } else if ([...this.instances.values()].some((r) => this.tracksInterface(r, ifname))) {
        this.opts.logger.debug(`Deassigned address ${address} from interface ${ifname}`);
        const down = users.filter((r) => r.sourceAddress === address);
        for (const r of down) this.sourceLost.add(r.cfg.name);
        if (down.length > 0) this.retrack();
        // After down_instance: its priority-0 advert still leaves from the address that went.
        for (const r of down) r.setSourceAddress('');
        return;
      }
    }
    for (const r of this.instances.values()) {
      if (!r.vipDeleted(ifindex, address)) continue;
      if (ifname === undefined || !this.inputs(r.cfg).some((t) => t.kind === 'interface' && t.name === ifname)) continue;
      this.opts.logger.debug(`Netlink reflector reports IP ${address} removed from ${ifname}`);
      r.dispatch({ kind: 'set-backup' });
      return;
    }
  }

  /**
   * keepalived's monitor_ipv4_routes … (vrrp.c vrrp_complete_instance, process_static_entries): a family's routes
   * (rules) are watched when some instance has a tracked virtual route (rule) of that family; static ones would add
   * theirs only with a track_group, which lvskeeper does not implement.
   */
  private routingGroups(): RoutingGroups {
    const insts = this.config.vrrpInstances;
    const routes = (f: 4 | 6): boolean => insts.some((vi) => vi.virtualRoutes.some((r) => !r.noTrack && r.family === f));
    const rules = (f: 4 | 6): boolean => insts.some((vi) => vi.virtualRules.some((r) => !r.noTrack && r.family === f));
    return { ipv4Routes: routes(4), ipv6Routes: routes(6), ipv4Rules: rules(4), ipv6Rules: rules(6) };
  }

  /**
   * A route or rule deleted (keepalived_netlink.c netlink_route_filter / netlink_rule_filter; RTPROT_KEEPALIVED ones
   * only): a virtual one tracked by a MASTER sends it to BACKUP as a deleted VIP does; a static one is put back.
   */
  private routingDeleted(ev: RoutingEvent): void {
    const protocol = ev.what === 'route' ? ev.note.protocol : ruleProtocol(ev.note);
    if (protocol !== undefined && protocol !== RTPROT_KEEPALIVED) return;
    for (const r of this.instances.values()) {
      if (!r.ownsRouting(ev)) continue;
      if (r.routingDeleted(ev)) r.dispatch({ kind: 'set-backup' });
      return;
    }
    this.statics?.routingDeleted(ev);
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
