// Trackers → effective priority and fault (vrrp_track.c).
// The core (ScriptStatus, Tracker) is I/O-free; ScriptRunner is the small adapter that runs a vrrp_script on a Clock.
import type { Clock, TimerHandle } from '../clock.js';
import type { Logger } from '../log.js';
import type { VrrpInstance, VrrpScript } from '../config/model.js';
import { runScript, type ScriptResult } from '../exec/script.js';

/** A tracked object's state as trackers see it; `init` (a script that has not run yet) has no effect. */
export type ScriptState = 'init' | 'ok' | 'failed';

/**
 * rise/fall bookkeeping of one vrrp_script, keepalived's counter model: `count` runs 0..rise+fall−1 and the
 * script is OK from `rise` up. Without init_fail the first result decides at once; with it, `rise`
 * successes are needed.
 */
export class ScriptStatus {
  state: ScriptState;
  private count: number;

  constructor(readonly rise: number, readonly fall: number, initFail: boolean) {
    this.state = initFail ? 'failed' : 'init';
    this.count = initFail ? 0 : rise - 1;
  }

  /** Records one result; returns true when the state changed. */
  record(success: boolean): boolean {
    const before = this.state;
    const top = this.rise + this.fall - 1;
    if (success) {
      if (this.count < this.rise - 1) this.count++;
      else {
        this.count = top;
        this.state = 'ok';
      }
    } else if (this.count > this.rise) {
      this.count--;
    } else {
      this.count = 0;
      this.state = 'failed';
    }
    return this.state !== before;
  }
}

/** One tracked object with the weight and direction the instance (or sync group) gave it. */
export interface TrackInput {
  readonly kind: 'script' | 'interface' | 'file' | 'process' | 'bfd';
  readonly name: string;
  readonly weight: number;
  readonly reverse: boolean;
}

export interface TrackOutcome {
  readonly faulty: boolean;
  readonly effectivePriority: number;
  /** Names of the trackers holding the instance in FAULT, for logs. */
  readonly faultReasons: readonly string[];
}

/**
 * Combines the current states of an instance's trackers:
 * - script: weight 0 → failure means FAULT; weight > 0 → +weight while OK; weight < 0 → −|weight| while failed.
 * - interface: weight 0 → down means FAULT; weight > 0 → +weight while up; weight < 0 → −|weight| while down.
 * - file: value × weight is added; weight 0 and a non-zero value → FAULT; a product below −253 → FAULT.
 * - process (vrrp_track.c process_update_track_process_status): weight 0 → no quorum means FAULT (reverse: quorum
 *   means FAULT); weight > 0 → +weight while in quorum; weight < 0 → −|weight| while not; reverse negates the amount.
 * - bfd, the same with the session Up for the quorum (vrrp_track.c initialise_track_bfd_state, vrrp_scheduler.c
 *   vrrp_handle_bfd_event).
 * `reverse` flips the tracked state (script/interface) or the sign (file). The base 255 is never adjusted and
 * the result is clamped to 1..254.
 */
export function evaluateTracking(
  base: number,
  inputs: readonly TrackInput[],
  values: {
    readonly script: (name: string) => ScriptState;
    readonly interface: (name: string) => boolean;
    readonly file: (name: string) => number;
    readonly process: (name: string) => boolean;
    readonly bfd: (name: string) => boolean;
  },
): TrackOutcome {
  let delta = 0;
  const faultReasons: string[] = [];
  for (const t of inputs) {
    if (t.kind === 'file') {
      const product = values.file(t.name) * t.weight * (t.reverse ? -1 : 1);
      if (t.weight === 0 ? values.file(t.name) !== 0 : product < -253) faultReasons.push(`track_file ${t.name}`);
      else delta += product;
      continue;
    }
    if (t.kind === 'process' || t.kind === 'bfd') {
      const quorum = values[t.kind](t.name);
      if (t.weight === 0) {
        if (quorum === t.reverse) faultReasons.push(`track_${t.kind} ${t.name}`);
      } else if (quorum === t.weight > 0) delta += t.reverse ? -t.weight : t.weight;
      continue;
    }
    let good: boolean;
    if (t.kind === 'script') {
      const s = values.script(t.name);
      if (s === 'init') continue;
      good = s === 'ok';
    } else {
      good = values.interface(t.name);
    }
    if (t.reverse) good = !good;
    if (t.weight === 0) {
      if (!good) faultReasons.push(`${t.kind === 'script' ? 'track_script' : 'track_interface'} ${t.name}`);
    } else if (t.weight > 0 && good) delta += t.weight;
    else if (t.weight < 0 && !good) delta += t.weight;
  }
  const effectivePriority = base === 255 ? 255 : Math.min(254, Math.max(1, base + delta));
  return { faulty: faultReasons.length > 0, effectivePriority, faultReasons };
}

/**
 * The other interfaces an instance's VIPs and eVIPs live on, each tracked as an unweighted interface unless the
 * address says `no_track` (keepalived vrrp.c vrrp_complete_instance, TRACK_ADDR): one going down puts the instance
 * in FAULT. A VIP on the instance's own interface adds nothing: that one is tracked unless dont_track_primary.
 */
export function vipInterfaces(vi: VrrpInstance): string[] {
  const names = [...vi.virtualIpaddresses, ...vi.virtualIpaddressesExcluded]
    .filter((v) => !v.noTrack && v.dev !== undefined && v.dev !== vi.interface)
    .map((v) => v.dev!);
  return [...new Set(names)];
}

/**
 * The interfaces of an instance's tracked virtual routes (`dev`) and rules (`iif`, `oif`): vrrp.c
 * vrrp_complete_instance's add_vrrp_to_interface with TRACK_ROUTE / TRACK_RULE.
 */
export function routingInterfaces(vi: VrrpInstance): string[] {
  const names = [
    ...vi.virtualRoutes.filter((r) => !r.noTrack && r.dev !== undefined).map((r) => r.dev!),
    ...vi.virtualRules.filter((r) => !r.noTrack).flatMap((r) => [r.iif, r.oif].filter((n): n is string => n !== undefined)),
  ];
  return [...new Set(names)];
}

export interface ScriptRunnerOptions {
  readonly clock: Clock;
  readonly logger: Logger;
  readonly defaultUser?: string;
  readonly defaultGroup?: string;
  /** Refuses to run when false (enable_script_security found the script unsafe); logged once. */
  readonly allowed: boolean;
  /** Called after each state change. */
  readonly onChange: (name: string, state: ScriptState) => void;
}

/** Runs one vrrp_script every `interval`, with its timeout, and keeps its rise/fall status. */
export class ScriptRunner {
  readonly status: ScriptStatus;
  private timer?: TimerHandle;
  private stopped = false;
  private lastCode?: number;

  constructor(readonly def: VrrpScript, private readonly opts: ScriptRunnerOptions) {
    this.status = new ScriptStatus(def.rise, def.fall, def.initFail);
  }

  start(): void {
    if (!this.opts.allowed) {
      this.opts.logger.warn(`VRRP_Script(${this.def.name}) not run: unsafe script path (enable_script_security)`);
      return;
    }
    this.timer = this.opts.clock.setTimeout(() => void this.tick(), 0);
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) this.opts.clock.clearTimeout(this.timer);
  }

  private async tick(): Promise<void> {
    const r = await runScript(this.def.script, {
      timeoutMs: this.def.timeoutMs,
      killGraceMs: 2000,
      ...(this.opts.defaultUser !== undefined ? { defaultUser: this.opts.defaultUser } : {}),
      ...(this.opts.defaultGroup !== undefined ? { defaultGroup: this.opts.defaultGroup } : {}),
    });
    if (this.stopped) return;
    this.apply(r);
    this.timer = this.opts.clock.setTimeout(() => void this.tick(), this.def.intervalMs);
  }

  private apply(r: ScriptResult): void {
    const ok = !r.timedOut && r.code === 0;
    const name = this.def.name;
    if (r.code !== undefined && r.code !== this.lastCode && this.lastCode !== undefined) {
      this.opts.logger.debug(`Script \`${name}\` now returning ${r.code}`);
    }
    this.lastCode = r.code;
    if (!this.status.record(ok)) return;
    if (ok) this.opts.logger.info(`VRRP_Script(${name}) succeeded`);
    else if (r.timedOut) this.opts.logger.info(`VRRP_Script(${name}) timed_out`);
    else if (r.spawnError !== undefined) this.opts.logger.info(`VRRP_Script(${name}) failed (${r.spawnError})`);
    else if (r.code !== undefined) this.opts.logger.info(`VRRP_Script(${name}) failed (exited with status ${r.code})`);
    else this.opts.logger.info(`VRRP_Script(${name}) failed (killed by ${r.signal ?? 'signal'})`);
    this.opts.onChange(name, this.status.state);
  }
}
