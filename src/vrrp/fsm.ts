// The VRRP state machine of one instance, free of I/O: events in, actions out (style-exemplars §5, convention 1).
// Behaviour follows RFC 3768 §6.4 / RFC 5798 §6.4 as keepalived 2.2.7 implements them.
// Timers are named actions the adapter arms on a Clock; when one fires the adapter feeds `{kind:'timer'}` back.
// Received adverts arrive here already validated (version, VRID, auth, checksum, TTL, v2 interval): see instance.ts.

export type FsmState = 'INIT' | 'BACKUP' | 'MASTER' | 'FAULT' | 'STOP';
export type TimerName = 'masterDown' | 'advert' | 'preempt' | 'garp' | 'garpRefresh' | 'garpLowerPrio';
/** States a notify script hears about. */
export type NotifyState = 'MASTER' | 'BACKUP' | 'FAULT' | 'STOP';

export interface FsmConfig {
  /** Instance name, as log lines show it: `(VI_1) …`. */
  readonly name: string;
  readonly version: 2 | 3;
  /** Configured priority 1..255; 255 is the address owner. */
  readonly priority: number;
  /** Configured Advertisement_Interval in centiseconds (v2: whole seconds × 100). */
  readonly advertIntCs: number;
  /** `state MASTER`: start with a short first timeout instead of a full Master_Down_Interval. */
  readonly wantMaster: boolean;
  readonly preempt: boolean;
  readonly preemptDelayMs: number;
  /** The "3" in Master_Down_Interval. */
  readonly downTimerAdverts: number;
  readonly lowerPrioNoAdvert: boolean;
  /** A BACKUP that hears a lower-priority master sends one advert of its own (so the master sees it at once). */
  readonly higherPrioSendAdvert: boolean;
  readonly garpMasterDelayMs: number;
  readonly garpMasterRepeat: number;
  readonly garpMasterRefreshMs: number;
  readonly garpMasterRefreshRepeat: number;
  readonly garpLowerPrioDelayMs: number;
  readonly garpLowerPrioRepeat: number;
  /**
   * garp_extra_if: while MASTER, the GARP/NA on the other devices (vmac.ts extraGarpVips) at the first advert this
   * long after becoming MASTER or after the last of them; 0 when off or there is nothing to send.
   */
  readonly garpExtraIfMs: number;
  /** Our primary address on the VRRP interface (the advert source), for the equal-priority tie-break. */
  readonly ownAddress: string;
  /** Member of a vrrp_sync_group: taking MASTER waits for the group (sync-group.ts). */
  readonly inSyncGroup: boolean;
  /**
   * A configuration fault (vrrp.c num_config_faults, e.g. unicast_fault_no_peer without peers): FAULT from the
   * start, entered without a log line or notify, and never left.
   */
  readonly configFault?: boolean;
  /**
   * `--bfd-takeover` (beyond keepalived): the bfd_instance sessions whose Down, while BACKUP, stands for the current
   * master being down when the session's neighbor is the address the last accepted advert came from.
   */
  readonly bfdTakeover?: readonly string[];
}

export type FsmEvent =
  /** Start: `faulty` when the interface is down or a fault tracker already holds the instance. */
  | { readonly kind: 'start'; readonly faulty: boolean }
  /** A validated advertisement. `advertIntCs` is the Max Adver Int field (v2: seconds × 100). */
  | { readonly kind: 'advert'; readonly priority: number; readonly src: string; readonly advertIntCs: number }
  | { readonly kind: 'timer'; readonly timer: TimerName }
  /** The trackers' effective priority changed (already clamped by tracking.ts). */
  | { readonly kind: 'priority'; readonly effective: number }
  /** Own fault input: a tracked interface down, an unweighted script failed, … */
  | { readonly kind: 'fault'; readonly faulty: boolean }
  /** Directives from the sync group. */
  | { readonly kind: 'group-master' }
  | { readonly kind: 'group-backup' }
  | { readonly kind: 'group-fault'; readonly faulty: boolean }
  /**
   * One of our VIPs was deleted behind our back while MASTER (or a sync-group peer's was): keepalived 2.2.7's
   * set_vrrp_backup (keepalived_netlink.c) leaves MASTER with a priority-0 advert and takes it back after Skew_Time,
   * which puts the addresses back.
   */
  | { readonly kind: 'set-backup' }
  /** A bfd_instance session went Down; `neighbor` is its neighbor_ip. */
  | { readonly kind: 'bfd-down'; readonly session: string; readonly neighbor: string }
  | { readonly kind: 'shutdown' };

/** An event as the cause of a transition. */
function causeText(ev: FsmEvent | undefined): string {
  if (ev === undefined) return 'start';
  switch (ev.kind) {
    case 'start':
      return ev.faulty ? 'start (fault)' : 'start';
    case 'advert':
      return `advert from ${ev.src} priority ${ev.priority}`;
    case 'timer':
      return ev.timer === 'masterDown' ? 'no advert (master down timer)' : `${ev.timer} timer`;
    case 'priority':
      return `priority now ${ev.effective}`;
    case 'fault':
    case 'group-fault':
      return `${ev.kind === 'fault' ? '' : 'sync group '}${ev.faulty ? 'fault' : 'fault cleared'}`;
    case 'set-backup':
      return 'VIP deleted';
    case 'bfd-down':
      return `BFD ${ev.session} to master ${ev.neighbor} down`;
    default:
      return ev.kind;
  }
}

export type FsmAction =
  | { readonly kind: 'send-advert'; readonly priority: number }
  | { readonly kind: 'arm'; readonly timer: TimerName; readonly ms: number }
  | { readonly kind: 'cancel'; readonly timer: TimerName }
  | { readonly kind: 'add-vips' }
  | { readonly kind: 'remove-vips' }
  | { readonly kind: 'garp-burst'; readonly repeat: number }
  /** garp_extra_if's GARP/NA, once each. */
  | { readonly kind: 'garp-extra-if' }
  | { readonly kind: 'notify'; readonly state: NotifyState; readonly priority: number }
  | { readonly kind: 'notify-rx-lower-prio'; readonly priority: number }
  /** The effective priority changed (vrrp_track.c vrrp_set_effective_priority), for notify_priority_changes. */
  | { readonly kind: 'priority-changed'; readonly priority: number }
  /** `cause`: the event that made it, as the operator's console shows it. */
  | { readonly kind: 'transition'; readonly from: FsmState; readonly to: FsmState; readonly cause: string }
  /** A sync-group member's down timer expired: it wants MASTER and waits for the group. */
  | { readonly kind: 'want-master' }
  /** This member left MASTER on `set-backup`: the group's other MASTER members do the same. */
  | { readonly kind: 'set-backup' }
  | { readonly kind: 'log'; readonly level: 'info' | 'warn' | 'debug'; readonly msg: string };

/** Counters in the spirit of keepalived's USR2 stats and FRR's per-transition counts. */
export interface FsmCounters {
  becameMaster: number;
  releasedMaster: number;
  advertsSent: number;
  priorityZeroSent: number;
  priorityZeroReceived: number;
  lowerPriorityReceived: number;
}

/** Parses an IPv4 or IPv6 literal to bytes, for the RFC's "primary IP address is greater" comparison. */
export function addressBytes(addr: string): number[] {
  if (!addr.includes(':')) return addr.split('.').map((p) => Number(p) & 0xff);
  let text = addr;
  const tail: number[] = [];
  const v4 = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (v4?.[1]) {
    tail.push(...addressBytes(v4[1]));
    text = text.slice(0, -v4[1].length) + '0:0';
  }
  const [head = '', rest] = text.split('::');
  const groups = (s: string): string[] => (s === '' ? [] : s.split(':'));
  const left = groups(head);
  const right = rest === undefined ? [] : groups(rest);
  const fill = rest === undefined ? [] : new Array<string>(8 - left.length - right.length).fill('0');
  const words = [...left, ...fill, ...right].map((g) => parseInt(g, 16) & 0xffff);
  const bytes = words.flatMap((w) => [w >> 8, w & 0xff]);
  if (tail.length === 4) bytes.splice(12, 4, ...tail);
  return bytes;
}

/** <0, 0, >0 as a compares below, equal to, or above b, byte by byte in network order. */
export function compareAddresses(a: string, b: string): number {
  const x = addressBytes(a);
  const y = addressBytes(b);
  for (let i = 0; i < Math.max(x.length, y.length); i++) {
    const d = (x[i] ?? 0) - (y[i] ?? 0);
    if (d !== 0) return d;
  }
  return 0;
}

/**
 * keepalived takes garp_extra_if's due time (vrrp_state_become_master, vrrp_state_master_tx) just before it schedules
 * the next advert (vrrp_init_instance_sands), so the advert that falls on the interval is already past it. Here the
 * timers and the clock may disagree by a millisecond or so either way; the interval is whole seconds and adverts come
 * whole centiseconds apart, so any other advert is at least 10 ms off it.
 */
const EXTRA_GARP_SLACK_MS = 5;

export class VrrpFsm {
  state: FsmState = 'INIT';
  /** Effective priority: the configured one adjusted by the trackers (255 never is). */
  priority: number;
  /** Master_Adver_Interval (cs): ours as MASTER; in v3 a BACKUP adopts the master's. */
  masterAdverIntCs: number;
  /** Our primary address, known once the adapter has looked the interface up. */
  ownAddress: string;
  /** The address of the last master we accepted an advert from. */
  masterAddress?: string;
  /** The event being handled: a transition names it as its cause. */
  private cause: FsmEvent | undefined;
  readonly counters: FsmCounters = {
    becameMaster: 0,
    releasedMaster: 0,
    advertsSent: 0,
    priorityZeroSent: 0,
    priorityZeroReceived: 0,
    lowerPriorityReceived: 0,
  };
  private ownFault = false;
  private groupFault = false;
  /** Sync groups: our down timer expired and we wait for the rest of the group. */
  private wantsMaster = false;
  /** preempt_delay: idle, counting down (lower-priority masters are still accepted), or elapsed. */
  private preemptDelay: 'idle' | 'running' | 'elapsed' = 'idle';
  /** When garp_extra_if's GARP/NA is next due, on the clock's scale (keepalived's vmac_garp_timer). */
  private extraGarpAt = 0;

  /** `now`: the clock (ms) that garp_extra_if's interval is measured on. */
  constructor(private settings: FsmConfig, private readonly now: () => number) {
    this.priority = settings.priority;
    this.masterAdverIntCs = settings.advertIntCs;
    this.ownAddress = settings.ownAddress;
  }

  get cfg(): FsmConfig {
    return this.settings;
  }

  /**
   * A reload changed this router's settings but not its identity (instance.ts decides which is which). Nothing is
   * sent and no timer is touched: the new interval, preempt and GARP settings apply from the next advert or timer
   * on; a new base priority arrives separately through the trackers (`priority` event), as any priority change does.
   */
  reconfigure(next: FsmConfig): void {
    this.settings = next;
    // The reloaded instance is a new one whose vmac_garp_timer is unset: a MASTER sends at its next advert.
    this.extraGarpAt = 0;
    // A v3 BACKUP keeps the interval its master advertises; otherwise ours is the one in force.
    if (this.state === 'MASTER' || next.version === 2) this.masterAdverIntCs = next.advertIntCs;
  }

  get isOwner(): boolean {
    return this.cfg.priority === 255;
  }

  get faulty(): boolean {
    return this.ownFault || this.groupFault || this.cfg.configFault === true;
  }

  get ownFaulty(): boolean {
    return this.ownFault;
  }

  get groupFaulty(): boolean {
    return this.groupFault;
  }

  get wantingMaster(): boolean {
    return this.wantsMaster;
  }

  /**
   * Skew_Time in ms for priority p. v2 (RFC 3768): (256 − p)/256 s. v3 (RFC 5798):
   * ((256 − p) × Master_Adver_Interval)/256.
   */
  skewTimeMs(p = this.priority): number {
    return this.cfg.version === 3 ? ((256 - p) * this.masterAdverIntCs * 10) / 256 : ((256 - p) * 1000) / 256;
  }

  /** Master_Down_Interval in ms: down_timer_adverts × Master_Adver_Interval + Skew_Time. */
  masterDownIntervalMs(): number {
    return this.cfg.downTimerAdverts * this.masterAdverIntCs * 10 + this.skewTimeMs();
  }

  handle(ev: FsmEvent): FsmAction[] {
    const out: FsmAction[] = [];
    if (this.state === 'STOP') return out;
    this.cause = ev;
    switch (ev.kind) {
      case 'start':
        this.start(ev.faulty, out);
        break;
      case 'advert':
        if (this.state === 'BACKUP') this.backupRx(ev, out);
        else if (this.state === 'MASTER') this.masterRx(ev, out);
        break;
      case 'timer':
        this.timer(ev.timer, out);
        break;
      case 'priority':
        this.setPriority(ev.effective, out);
        break;
      case 'fault':
        this.ownFault = ev.faulty;
        this.faultChanged(out);
        break;
      case 'group-fault':
        this.groupFault = ev.faulty;
        this.faultChanged(out);
        break;
      case 'group-master':
        if (this.state === 'BACKUP') this.becomeMaster(out);
        break;
      case 'group-backup':
        this.wantsMaster = false;
        if (this.state === 'MASTER') this.leaveMaster(out, 'BACKUP', false);
        break;
      case 'set-backup':
        if (this.state !== 'MASTER') break;
        this.leaveMaster(out, 'BACKUP', true, this.skewTimeMs());
        out.push({ kind: 'set-backup' });
        break;
      case 'bfd-down':
        // RFC 5798 §6.4.2: a Backup takes over when Master_Down_Timer fires; a BFD session to the master going Down
        // is taken as that expiry, after the BFD detection time instead of Master_Down_Interval.
        if (this.state !== 'BACKUP' || !(this.cfg.bfdTakeover ?? []).includes(ev.session)) break;
        if (this.masterAddress === undefined || compareAddresses(this.masterAddress, ev.neighbor) !== 0) break;
        this.masterDown(out, causeText(ev));
        break;
      case 'shutdown':
        this.shutdown(out);
        break;
    }
    return out;
  }

  private log(out: FsmAction[], msg: string, level: 'info' | 'warn' | 'debug' = 'info'): void {
    out.push({ kind: 'log', level, msg: `(${this.cfg.name}) ${msg}` });
  }

  private go(out: FsmAction[], to: FsmState): void {
    const from = this.state;
    this.state = to;
    out.push({ kind: 'transition', from, to, cause: causeText(this.cause) });
  }

  private start(faulty: boolean, out: FsmAction[]): void {
    if (this.state !== 'INIT') return;
    this.ownFault = this.ownFault || faulty;
    // keepalived force-removes leftover VIPs before entering the first state.
    this.log(out, 'removing VIPs.');
    out.push({ kind: 'remove-vips' });
    if (this.cfg.configFault) {
      this.go(out, 'FAULT');
      return;
    }
    if (this.faulty) {
      this.log(out, 'Entering FAULT STATE (init)');
      this.go(out, 'FAULT');
      out.push({ kind: 'notify', state: 'FAULT', priority: this.priority });
      return;
    }
    this.log(out, 'Entering BACKUP STATE (init)');
    this.go(out, 'BACKUP');
    out.push({ kind: 'notify', state: 'BACKUP', priority: this.priority });
    out.push({ kind: 'arm', timer: 'masterDown', ms: this.firstTimeoutMs() });
    if (this.cfg.preemptDelayMs > 0) this.startPreemptDelay(out);
  }

  /**
   * The first down timer: the owner takes over at once; `state MASTER` waits one interval plus the smallest
   * skew (keepalived's VRRP_TIMER_SKEW_MIN), so that a running master is heard first; BACKUP waits a full
   * Master_Down_Interval.
   */
  private firstTimeoutMs(): number {
    if (this.isOwner) return 0;
    if (this.cfg.wantMaster) return Math.round(this.masterAdverIntCs * 10 + this.skewTimeMs(255));
    return Math.round(this.masterDownIntervalMs());
  }

  private armDown(out: FsmAction[], ms = this.masterDownIntervalMs()): void {
    out.push({ kind: 'arm', timer: 'masterDown', ms: Math.round(ms) });
  }

  private startPreemptDelay(out: FsmAction[]): void {
    this.preemptDelay = 'running';
    out.push({ kind: 'arm', timer: 'preempt', ms: this.cfg.preemptDelayMs });
  }

  private backupRx(ev: { priority: number; src: string; advertIntCs: number }, out: FsmAction[]): void {
    if (ev.priority === 0) {
      // The master is leaving: take over after Skew_Time only.
      this.counters.priorityZeroReceived++;
      this.log(out, `Backup received priority 0 advertisement`, 'debug');
      this.armDown(out, this.skewTimeMs());
      return;
    }
    const accept =
      !this.cfg.preempt || ev.priority >= this.priority || this.preemptDelay === 'running';
    if (accept) {
      if (this.cfg.version === 3) this.masterAdverIntCs = ev.advertIntCs;
      this.masterAddress = ev.src;
      this.wantsMaster = false;
      if (ev.priority > this.priority && this.preemptDelay === 'elapsed') this.preemptDelay = 'idle';
      if (ev.priority < this.priority && this.cfg.preempt && this.preemptDelay === 'idle' && this.cfg.preemptDelayMs > 0) {
        this.startPreemptDelay(out);
      }
      this.armDown(out);
      return;
    }
    this.counters.lowerPriorityReceived++;
    this.log(out, `received lower priority (${ev.priority}) advert from ${ev.src} - discarding`);
    // Let the master hear us now rather than after the down timer, when asked to.
    if (this.cfg.higherPrioSendAdvert) this.sendAdvert(out, this.priority);
  }

  private masterRx(ev: { priority: number; src: string; advertIntCs: number }, out: FsmAction[]): void {
    if (ev.priority === 0) {
      this.counters.priorityZeroReceived++;
      this.sendAdvert(out, this.priority);
      out.push({ kind: 'arm', timer: 'advert', ms: this.cfg.advertIntCs * 10 });
      return;
    }
    const higher =
      ev.priority > this.priority ||
      (ev.priority === this.priority && compareAddresses(ev.src, this.ownAddress) > 0);
    if (higher) {
      this.log(out, `Master received advert from ${ev.src} with higher priority ${ev.priority}, ours ${this.priority}`);
      if (this.cfg.version === 3) this.masterAdverIntCs = ev.advertIntCs;
      this.masterAddress = ev.src;
      this.leaveMaster(out, 'BACKUP', false);
      return;
    }
    this.counters.lowerPriorityReceived++;
    this.log(out, `Received advert from ${ev.src} with lower priority ${ev.priority}, ours ${this.priority}, forcing new election`);
    if (!this.cfg.lowerPrioNoAdvert) {
      this.sendAdvert(out, this.priority);
      out.push({ kind: 'arm', timer: 'advert', ms: this.cfg.advertIntCs * 10 });
    }
    if (this.cfg.garpLowerPrioRepeat > 0) {
      out.push({ kind: 'garp-burst', repeat: this.cfg.garpLowerPrioRepeat });
      // A second burst after garp_lower_prio_delay, as after becoming MASTER.
      if (this.cfg.garpLowerPrioDelayMs > 0) out.push({ kind: 'arm', timer: 'garpLowerPrio', ms: this.cfg.garpLowerPrioDelayMs });
    }
    out.push({ kind: 'notify-rx-lower-prio', priority: this.priority });
  }

  private timer(timer: TimerName, out: FsmAction[]): void {
    switch (timer) {
      case 'masterDown':
        if (this.state !== 'BACKUP') return;
        this.log(out, 'Receive advertisement timeout');
        this.masterDown(out);
        return;
      case 'advert':
        if (this.state !== 'MASTER') return;
        this.sendAdvert(out, this.priority);
        // vrrp.c vrrp_state_master_tx: checked only as each advert goes, after it.
        if (this.cfg.garpExtraIfMs > 0 && this.now() + EXTRA_GARP_SLACK_MS > this.extraGarpAt) {
          out.push({ kind: 'garp-extra-if' });
          this.extraGarpAt = this.now() + this.cfg.garpExtraIfMs;
        }
        out.push({ kind: 'arm', timer: 'advert', ms: this.cfg.advertIntCs * 10 });
        return;
      case 'preempt':
        if (this.preemptDelay === 'running') this.preemptDelay = 'elapsed';
        return;
      case 'garp':
        if (this.state === 'MASTER') out.push({ kind: 'garp-burst', repeat: this.cfg.garpMasterRepeat });
        return;
      case 'garpLowerPrio':
        if (this.state === 'MASTER') out.push({ kind: 'garp-burst', repeat: this.cfg.garpLowerPrioRepeat });
        return;
      case 'garpRefresh':
        if (this.state !== 'MASTER') return;
        out.push({ kind: 'garp-burst', repeat: this.cfg.garpMasterRefreshRepeat });
        out.push({ kind: 'arm', timer: 'garpRefresh', ms: this.cfg.garpMasterRefreshMs });
        return;
    }
  }

  /** The master is taken for down (the down timer fired, or `why`: BFD): MASTER, or wait for the sync group. */
  private masterDown(out: FsmAction[], why?: string): void {
    if (this.cfg.inSyncGroup) {
      if (why !== undefined) this.log(out, why);
      this.wantsMaster = true;
      // Keep listening while the group decides; the timer only matters if it never does.
      this.armDown(out);
      out.push({ kind: 'want-master' });
      return;
    }
    this.becomeMaster(out, why);
  }

  private sendAdvert(out: FsmAction[], priority: number): void {
    this.counters.advertsSent++;
    if (priority === 0) this.counters.priorityZeroSent++;
    out.push({ kind: 'send-advert', priority });
  }

  /** RFC 5798 §6.4.2 "transition to Master": advertise, then own the addresses and announce them. */
  private becomeMaster(out: FsmAction[], why?: string): void {
    this.wantsMaster = false;
    this.preemptDelay = 'idle';
    this.masterAdverIntCs = this.cfg.advertIntCs;
    this.masterAddress = undefined;
    out.push({ kind: 'cancel', timer: 'masterDown' });
    out.push({ kind: 'cancel', timer: 'preempt' });
    this.sendAdvert(out, this.priority);
    this.log(out, `Entering MASTER STATE${why === undefined ? '' : ` (${why})`}`);
    this.go(out, 'MASTER');
    this.counters.becameMaster++;
    this.log(out, 'setting VIPs.');
    out.push({ kind: 'add-vips' });
    out.push({ kind: 'garp-burst', repeat: this.cfg.garpMasterRepeat });
    if (this.cfg.garpMasterDelayMs > 0) out.push({ kind: 'arm', timer: 'garp', ms: this.cfg.garpMasterDelayMs });
    if (this.cfg.garpMasterRefreshMs > 0) out.push({ kind: 'arm', timer: 'garpRefresh', ms: this.cfg.garpMasterRefreshMs });
    this.extraGarpAt = this.now() + this.cfg.garpExtraIfMs;
    out.push({ kind: 'notify', state: 'MASTER', priority: this.priority });
    out.push({ kind: 'arm', timer: 'advert', ms: this.cfg.advertIntCs * 10 });
  }

  /**
   * Leaves MASTER for BACKUP or FAULT; `sendZero` announces the departure so a backup takes over after Skew_Time.
   * A BACKUP's down timer runs `downMs` (a full Master_Down_Interval unless said otherwise).
   */
  private leaveMaster(out: FsmAction[], to: 'BACKUP' | 'FAULT', sendZero: boolean, downMs = this.masterDownIntervalMs()): void {
    for (const t of ['advert', 'garp', 'garpRefresh', 'garpLowerPrio'] as const) out.push({ kind: 'cancel', timer: t });
    this.counters.releasedMaster++;
    // keepalived's order (vrrp_state_leave_master, vrrp_restore_interface): the state, then the advert, then the VIPs.
    this.log(out, `Entering ${to} STATE`);
    this.go(out, to);
    if (sendZero) {
      this.sendAdvert(out, 0);
      this.log(out, 'sent 0 priority', 'debug');
    }
    this.log(out, 'removing VIPs.');
    out.push({ kind: 'remove-vips' });
    out.push({ kind: 'notify', state: to, priority: this.priority });
    if (to === 'BACKUP') this.armDown(out, downMs);
  }

  private faultChanged(out: FsmAction[]): void {
    if (this.state === 'INIT') return;
    if (this.faulty && this.state !== 'FAULT') {
      this.wantsMaster = false;
      if (this.state === 'MASTER') {
        this.leaveMaster(out, 'FAULT', true);
        return;
      }
      out.push({ kind: 'cancel', timer: 'masterDown' });
      out.push({ kind: 'cancel', timer: 'preempt' });
      this.log(out, 'Entering FAULT STATE');
      this.go(out, 'FAULT');
      out.push({ kind: 'notify', state: 'FAULT', priority: this.priority });
      return;
    }
    if (!this.faulty && this.state === 'FAULT') {
      this.masterAdverIntCs = this.cfg.advertIntCs;
      this.log(out, 'Entering BACKUP STATE');
      this.go(out, 'BACKUP');
      out.push({ kind: 'notify', state: 'BACKUP', priority: this.priority });
      this.armDown(out, this.isOwner ? 0 : this.masterDownIntervalMs());
    }
  }

  private setPriority(effective: number, out: FsmAction[]): void {
    // The address owner's priority is never adjusted (vrrp_track.c).
    if (this.isOwner) return;
    const next = Math.min(254, Math.max(1, Math.round(effective)));
    if (next === this.priority) return;
    this.log(out, `Changing effective priority from ${this.priority} to ${next}`);
    this.priority = next;
    out.push({ kind: 'priority-changed', priority: next });
  }

  private shutdown(out: FsmAction[]): void {
    for (const t of ['masterDown', 'advert', 'preempt', 'garp', 'garpRefresh', 'garpLowerPrio'] as const) out.push({ kind: 'cancel', timer: t });
    if (this.state === 'MASTER') {
      this.sendAdvert(out, 0);
      this.log(out, 'sent 0 priority', 'debug');
      this.log(out, 'removing VIPs.');
      out.push({ kind: 'remove-vips' });
    }
    this.go(out, 'STOP');
    out.push({ kind: 'notify', state: 'STOP', priority: this.priority });
  }
}
