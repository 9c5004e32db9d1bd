// Which kernel sync daemons to start and stop, and in what order, for `lvs_sync_daemon`: keepalived 2.2.7's steps,
// with no I/O (the supervisor's SyncDaemonOwner carries them out).
// - Following a vrrp_instance (vrrp/vrrp_scheduler.c vrrp_init_state, vrrp/vrrp.c vrrp_state_become_master and
//   vrrp_state_leave_master, check/ipvswrapper.c ipvs_syncd_master/_backup): the backup daemon at start; on becoming
//   MASTER stop backup then start master; on leaving MASTER (for BACKUP or FAULT) stop master then start backup; at
//   stop, the one running (vrrp/vrrp_daemon.c vrrp_terminate_phase1).
// - On its own (check/check_daemon.c start_check, checker_terminate_phase2): leftovers stopped, then master and backup
//   both started; both stopped at exit, errors ignored.
import type { LvsSyncDaemon } from '../config/model.js';
import type { SyncDaemon, SyncRole } from './types.js';

export interface SyncStep {
  readonly kind: 'start' | 'stop';
  readonly role: SyncRole;
  /** keepalived's ignore_error: a failure is not logged. */
  readonly ignoreError: boolean;
}

/** The daemon as the kernel is asked to run it, without its role; the sync id defaults as vrrp_complete_init does. */
export type SyncSettings = Omit<SyncDaemon, 'role'>;

export function syncSettings(cfg: LvsSyncDaemon, vrid: number | undefined): SyncSettings {
  return {
    interface: cfg.interface,
    syncId: cfg.syncId ?? vrid ?? 0,
    ...(cfg.maxlen !== undefined ? { maxlen: cfg.maxlen } : {}),
    ...(cfg.port !== undefined ? { port: cfg.port } : {}),
    ...(cfg.ttl !== undefined ? { ttl: cfg.ttl } : {}),
    ...(cfg.group !== undefined ? { group: cfg.group } : {}),
  };
}

/** keepalived's ipvs_syncd_changed. */
export function syncSettingsChanged(a: SyncSettings, b: SyncSettings): boolean {
  return a.interface !== b.interface || a.syncId !== b.syncId || (a.maxlen ?? 0) !== (b.maxlen ?? 0) || (a.port ?? 0) !== (b.port ?? 0)
    || (a.ttl ?? 0) !== (b.ttl ?? 0) || a.group?.address !== b.group?.address;
}

const step = (kind: SyncStep['kind'], role: SyncRole, ignoreError = false): SyncStep => ({ kind, role, ignoreError });

/** The steps for one lvs_sync_daemon, given the followed instance's states as they arrive. */
export class SyncPlan {
  /** The role this plan has started and not stopped (following an instance). */
  private role: SyncRole | undefined;

  constructor(readonly follows: boolean) {}

  /** At start: nothing yet when following (the instance's first state decides), else both roles afresh. */
  start(): SyncStep[] {
    if (this.follows) return [];
    return [step('stop', 'master', true), step('stop', 'backup', true), step('start', 'master'), step('start', 'backup')];
  }

  /** The followed instance's state (MASTER, BACKUP, FAULT …). */
  state(vrrpState: string): SyncStep[] {
    if (!this.follows) return [];
    const want: SyncRole = vrrpState === 'MASTER' ? 'master' : 'backup';
    const steps: SyncStep[] = [];
    // vrrp_init_state starts the backup daemon whatever state the instance then takes.
    if (this.role === undefined) {
      steps.push(step('start', 'backup'));
      this.role = 'backup';
    }
    if (want !== this.role) {
      steps.push(step('stop', this.role), step('start', want));
      this.role = want;
    }
    return steps;
  }

  /** New settings on reload: the running daemon restarted with them (errors ignored, as vrrp_daemon.c reload_vrrp_thread). */
  restart(): SyncStep[] {
    if (!this.follows) return [step('stop', 'master', true), step('stop', 'backup', true), step('start', 'master'), step('start', 'backup')];
    return this.role === undefined ? [] : [step('stop', this.role, true), step('start', this.role)];
  }

  stop(): SyncStep[] {
    if (!this.follows) return [step('stop', 'master', true), step('stop', 'backup', true)];
    const role = this.role;
    this.role = undefined;
    return role === undefined ? [] : [step('stop', role)];
  }
}
