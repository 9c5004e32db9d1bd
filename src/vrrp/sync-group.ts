// vrrp_sync_group: members move together (vrrp_sync.c). I/O-free: the coordinator
// reads the members' state machines and answers with directives (FSM events) to deliver to other members.
import type { FsmAction, FsmEvent, FsmState, VrrpFsm } from './fsm.js';

export type GroupState = 'BACKUP' | 'MASTER' | 'FAULT';

export interface Directive {
  readonly member: string;
  readonly event: FsmEvent;
}

export class SyncGroupCore {
  state?: GroupState;

  constructor(
    readonly name: string,
    private readonly members: ReadonlyMap<string, VrrpFsm>,
  ) {}

  /**
   * Reacts to the actions one member's FSM just produced:
   * - a member's own fault input changed → the whole group follows (group-fault);
   * - it left MASTER for BACKUP → the others are synced to BACKUP (on `set-backup`, the others do the same);
   * - it wants MASTER → the group goes MASTER only when every member wants it (or already is).
   */
  react(member: string, actions: readonly FsmAction[]): Directive[] {
    const out: Directive[] = [];
    const self = this.members.get(member);
    if (!self) return out;
    // Group FAULT holds every member (the faulty one included) until no member has a fault of its own.
    const anyOwnFault = [...this.members.values()].some((m) => m.ownFaulty);
    for (const [name, m] of this.members) {
      if (m.groupFaulty !== anyOwnFault) out.push({ member: name, event: { kind: 'group-fault', faulty: anyOwnFault } });
    }
    // set_vrrp_backup takes every MASTER member along, each with its priority-0 advert and quick return.
    const setBackup = actions.some((a) => a.kind === 'set-backup');
    if (setBackup) {
      for (const [name, m] of this.members) if (name !== member && m.state === 'MASTER') out.push({ member: name, event: { kind: 'set-backup' } });
    }
    for (const a of actions) {
      if (a.kind === 'transition') {
        if (a.from === 'MASTER' && a.to === 'BACKUP' && !setBackup) {
          for (const [name, m] of this.members) {
            if (name !== member && m.state === 'MASTER') out.push({ member: name, event: { kind: 'group-backup' } });
          }
        }
      } else if (a.kind === 'want-master') {
        const ready = [...this.members.values()].every((m) => m.state === 'MASTER' || m.wantingMaster);
        if (ready) {
          for (const [name, m] of this.members) if (m.state === 'BACKUP') out.push({ member: name, event: { kind: 'group-master' } });
        }
      }
    }
    return out;
  }

  /** The group's state once its members have settled: any FAULT → FAULT; all MASTER → MASTER; else BACKUP. */
  settledState(): GroupState | undefined {
    const states: FsmState[] = [...this.members.values()].map((m) => m.state);
    if (states.some((s) => s === 'INIT' || s === 'STOP')) return undefined;
    if (states.some((s) => s === 'FAULT')) return 'FAULT';
    if (states.every((s) => s === 'MASTER')) return 'MASTER';
    if (states.every((s) => s === 'BACKUP')) return 'BACKUP';
    return undefined;
  }

  /** Returns the new group state when it changed (for the group's notify and its log line). */
  update(): GroupState | undefined {
    const s = this.settledState();
    if (s === undefined || s === this.state) return undefined;
    this.state = s;
    return s;
  }
}
