// The VRRP state machine on a FakeClock, as instance.ts drives it: every timer the FSM arms goes on the clock, and
// when it fires the timer event goes back in. Every action is recorded with the time it happened.
import { FakeClock, type TimerHandle } from '../../src/clock.js';
import { VrrpFsm, type FsmAction, type FsmConfig, type FsmEvent, type TimerName } from '../../src/vrrp/fsm.js';

export const baseFsmConfig: FsmConfig = {
  name: 'VI_1',
  version: 2,
  priority: 100,
  advertIntCs: 100,
  wantMaster: false,
  preempt: true,
  preemptDelayMs: 0,
  downTimerAdverts: 3,
  lowerPrioNoAdvert: false,
  higherPrioSendAdvert: false,
  garpMasterDelayMs: 5000,
  garpMasterRepeat: 5,
  garpMasterRefreshMs: 0,
  garpMasterRefreshRepeat: 1,
  garpLowerPrioDelayMs: 5000,
  garpLowerPrioRepeat: 5,
  garpExtraIfMs: 0,
  ownAddress: '192.0.2.1',
  inSyncGroup: false,
};

export class FsmHarness {
  readonly clock = new FakeClock();
  readonly fsm: VrrpFsm;
  readonly log: { at: number; action: FsmAction }[] = [];
  private readonly timers = new Map<TimerName, TimerHandle>();

  constructor(cfg: Partial<FsmConfig> = {}) {
    this.fsm = new VrrpFsm({ ...baseFsmConfig, ...cfg }, () => this.clock.now());
  }

  send(ev: FsmEvent): FsmAction[] {
    const actions = this.fsm.handle(ev);
    for (const a of actions) {
      this.log.push({ at: this.clock.now(), action: a });
      const old = a.kind === 'arm' || a.kind === 'cancel' ? this.timers.get(a.timer) : undefined;
      if (old) this.clock.clearTimeout(old);
      if (a.kind === 'arm') {
        this.timers.set(a.timer, this.clock.setTimeout(() => {
          this.timers.delete(a.timer);
          this.send({ kind: 'timer', timer: a.timer });
        }, a.ms));
      } else if (a.kind === 'cancel') this.timers.delete(a.timer);
    }
    return actions;
  }

  advert(priority: number, src = '192.0.2.2', advertIntCs = 100): FsmAction[] {
    return this.send({ kind: 'advert', priority, src, advertIntCs });
  }

  /** Actions taken at or after time `t`. */
  since(t: number): FsmAction[] {
    return this.log.filter((l) => l.at >= t).map((l) => l.action);
  }

  /** Time at which the FSM entered `to`, or undefined. */
  enteredAt(to: string): number | undefined {
    return this.log.find((e) => e.action.kind === 'transition' && e.action.to === to)?.at;
  }

  messages(): string[] {
    return this.log.flatMap((e) => (e.action.kind === 'log' ? [e.action.msg] : []));
  }

  kinds(actions: FsmAction[]): string[] {
    return actions.map((a) => a.kind);
  }
}
