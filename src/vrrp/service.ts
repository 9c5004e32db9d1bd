// Builds every vrrp_instance, vrrp_script and vrrp_sync_group of a Config and wires them together:
// script and link trackers → effective priority / fault; sync-group directives between members; group notifies.
import { existsSync, readFileSync, unwatchFile, watchFile, writeFileSync } from 'node:fs';
import type { Clock } from '../clock.js';
import type { Logger } from '../log.js';
import type { Config, TrackRef, VrrpInstance } from '../config/model.js';
import { Rtnl } from '../net/rtnl.js';
import { LinkWatcher } from '../net/links.js';
import { VrrpInstanceRunner } from './instance.js';
import { Notifier, scriptPolicy, unsafeScriptReason, type ScriptPolicy } from './notify.js';
import { SyncGroupCore } from './sync-group.js';
import { ScriptRunner, evaluateTracking, type ScriptState, type TrackInput } from './tracking.js';
import type { FsmAction } from './fsm.js';

export interface VrrpServiceOptions {
  readonly clock: Clock;
  readonly logger: Logger;
}

export class VrrpService {
  readonly instances = new Map<string, VrrpInstanceRunner>();
  private readonly groups = new Map<string, { core: SyncGroupCore; notifier: Notifier }>();
  private readonly scripts = new Map<string, ScriptRunner>();
  private readonly links = new Map<string, boolean>();
  private readonly fileValues = new Map<string, number>();
  private rtnl?: Rtnl;
  private watcher?: LinkWatcher;
  private policy: ScriptPolicy;

  constructor(private config: Config, private readonly opts: VrrpServiceOptions) {
    this.policy = scriptPolicy(config.global);
  }

  async start(): Promise<void> {
    const { clock, logger } = this.opts;
    this.rtnl = Rtnl.open();
    for (const l of await this.rtnl.links()) this.links.set(l.name, l.up);
    this.watcher = LinkWatcher.open();
    this.watcher.on('link', (ev) => {
      if (this.links.get(ev.name) === ev.up) return;
      this.links.set(ev.name, ev.up);
      logger.info(`Netlink reports ${ev.name} ${ev.up ? 'up' : 'down'}`);
      this.retrack();
    });
    this.watcher.on('error', (e) => logger.warn(`link watcher: ${e.message}`));
    for (const f of this.config.trackFiles) {
      if (f.initFile && (f.initFile.overwrite || !existsSync(f.file))) writeFileSync(f.file, `${f.initFile.value}\n`);
      this.fileValues.set(f.name, readTrackFile(f.file));
      // keepalived uses inotify; a half-second stat poll keeps this dependency-free and follows replaced files.
      watchFile(f.file, { interval: 500 }, () => {
        const v = readTrackFile(f.file);
        if (v === this.fileValues.get(f.name)) return;
        this.fileValues.set(f.name, v);
        logger.info(`Tracked file ${f.name} now has value ${v}`);
        this.retrack();
      });
    }
    for (const s of this.config.vrrpScripts) {
      const unsafe = unsafeScriptReason(s.script, this.policy);
      this.scripts.set(
        s.name,
        new ScriptRunner(s, {
          clock,
          logger,
          allowed: unsafe === undefined,
          ...(this.policy.defaultUser !== undefined ? { defaultUser: this.policy.defaultUser } : {}),
          ...(this.policy.defaultGroup !== undefined ? { defaultGroup: this.policy.defaultGroup } : {}),
          onChange: () => this.retrack(),
        }),
      );
    }
    for (const vi of this.config.vrrpInstances) {
      const notifier = new Notifier('INSTANCE', vi.name, vi.notify, this.policy, logger);
      const runner = new VrrpInstanceRunner(vi, { clock, logger, rtnl: this.rtnl, global: this.config.global, notifier });
      this.instances.set(vi.name, runner);
      runner.on('actions', (actions) => this.afterActions(vi.name, actions));
    }
    for (const g of this.config.vrrpSyncGroups) {
      const members = new Map(g.members.flatMap((m) => {
        const r = this.instances.get(m);
        return r ? [[m, r.fsm] as const] : [];
      }));
      this.groups.set(g.name, { core: new SyncGroupCore(g.name, members), notifier: new Notifier('GROUP', g.name, g.notify, this.policy, logger) });
    }
    for (const r of this.instances.values()) {
      const t = this.tracking(r.cfg);
      await r.start(t.faulty);
      r.dispatch({ kind: 'priority', effective: t.effectivePriority });
    }
    for (const s of this.scripts.values()) s.start();
  }

  async stop(): Promise<void> {
    for (const s of this.scripts.values()) s.stop();
    for (const f of this.config.trackFiles) unwatchFile(f.file);
    await Promise.all([...this.instances.values()].map((r) => r.stop()));
    for (const g of this.groups.values()) {
      g.notifier.notify('STOP', 0);
      await g.notifier.idle();
    }
    this.watcher?.close();
    this.rtnl?.close();
  }

  /** The tracked objects of an instance, with its sync group's trackers (fault-only unless the group tracks weight). */
  private inputs(vi: VrrpInstance): TrackInput[] {
    const group = this.config.vrrpSyncGroups.find((g) => g.name === vi.syncGroup);
    const weighted = group === undefined || group.syncGroupTrackingWeight;
    const conv = (kind: TrackInput['kind'], refs: readonly TrackRef[], own: boolean): TrackInput[] =>
      refs.map((r) => {
        const script = kind === 'script' ? this.config.vrrpScripts.find((s) => s.name === r.name) : undefined;
        const file = kind === 'file' ? this.config.trackFiles.find((f) => f.name === r.name) : undefined;
        const weight = r.weight ?? script?.weight ?? file?.weight ?? 0;
        const reverse = r.weight !== undefined ? r.reverse : (script?.weightReverse ?? file?.reverse ?? r.reverse);
        return { kind, name: r.name, weight: own && !weighted && kind !== 'file' ? 0 : weight, reverse };
      });
    const list: TrackInput[] = [
      ...conv('script', vi.trackScripts, true),
      ...conv('interface', vi.trackInterfaces, true),
      ...conv('file', vi.trackFiles, true),
      ...(vi.interface !== undefined && !vi.dontTrackPrimary ? [{ kind: 'interface' as const, name: vi.interface, weight: 0, reverse: false }] : []),
    ];
    if (group) {
      list.push(...conv('script', group.trackScripts, false), ...conv('interface', group.trackInterfaces, false), ...conv('file', group.trackFiles, false));
    }
    return list;
  }

  private tracking(vi: VrrpInstance): ReturnType<typeof evaluateTracking> {
    return evaluateTracking(vi.priority, this.inputs(vi), {
      script: (n): ScriptState => this.scripts.get(n)?.status.state ?? 'init',
      interface: (n) => this.links.get(n) ?? false,
      file: (n) => this.fileValues.get(n) ?? 0,
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

  private afterActions(member: string, actions: FsmAction[]): void {
    const groupName = this.instances.get(member)?.cfg.syncGroup;
    const group = groupName === undefined ? undefined : this.groups.get(groupName);
    if (!group) return;
    for (const d of group.core.react(member, actions)) {
      if (d.event.kind === 'group-backup') this.opts.logger.info(`VRRP_Group(${groupName}) Syncing instances to BACKUP state`);
      this.instances.get(d.member)?.dispatch(d.event);
    }
    const s = group.core.update();
    if (s !== undefined) group.notifier.notify(s, 0);
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
