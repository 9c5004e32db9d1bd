// The pool of one virtual server, exactly as keepalived's ipwrapper.c runs it:
// alive real servers, quorum with hysteresis, inhibit_on_failure, the sorry server. I/O-free: inputs are checker
// verdicts and weights, outputs are events (log lines in keepalived's wording, scripts to run) and the destination
// set the service should hold, which the reconciler turns into IPVS operations.
import { vsId as makeVsId } from '../config/identity.js';
import type { RealServer, Script, VirtualServer } from '../config/model.js';
import { destinationFor, sameDestinationOf, sameSorryDestinationOf, sorryDestinationFor } from './desired.js';
import type { Destination } from './types.js';

/** keepalived caps weights at INT_MAX (real_weight); negative dynamic weights count as 0. */
const WEIGHT_MAX = 2147483647;

export type PoolEvent =
  | { readonly kind: 'log'; readonly vsId: string; readonly msg: string }
  /**
   * Quorum reached or lost (ipwrapper.c do_vs_notifies): `threshold` and `weightSum` as keepalived compared them,
   * `init` at start, `stopping` at shutdown with omega.
   */
  | {
    readonly kind: 'quorum'; readonly vsId: string; readonly up: boolean; readonly script?: Script;
    readonly threshold: number; readonly weightSum: number; readonly init?: true; readonly stopping?: true;
  }
  /** A live real server taken out by a reload (`Removing`) or by a stop with omega (`Shutting down`): SMTP_MSG_RS_SHUT. */
  | { readonly kind: 'rs-shut'; readonly vsId: string; readonly rsId: string; readonly stopping: boolean }
  /** `notifyOnly`: the script runs for a server whose state did not change (no alert, no pool change). */
  | {
    readonly kind: 'rs-state'; readonly vsId: string; readonly rsId: string; readonly alive: boolean; readonly script?: Script; readonly notifyOnly?: true;
    /** Sent by the daemon's shutdown (clear_service_rs with stopping). */
    readonly stopping?: true;
  }
  | { readonly kind: 'weight'; readonly vsId: string; readonly rsId: string; readonly from: number; readonly to: number }
  | { readonly kind: 'sorry'; readonly vsId: string; readonly active: boolean };

/** A destination the pool wants installed, with the real server it stands for (`sorry` for the sorry server). */
export interface PoolDest {
  readonly id: string;
  readonly dest: Destination;
}

export interface RealServerStatus {
  readonly rsId: string;
  readonly alive: boolean;
  /** override ?? dynamic ?? configured. */
  readonly effectiveWeight: number;
  readonly configuredWeight: number;
  readonly dynamicWeight?: number;
  readonly overrideWeight?: number;
  /** Present in the service (possibly with weight 0 when inhibited). */
  readonly installed: boolean;
  /** The weight the service holds for it, 0 when absent. */
  readonly installedWeight: number;
}

export interface PoolStatus {
  readonly vsId: string;
  readonly quorumUp: boolean;
  readonly quorum: number;
  readonly hysteresis: number;
  /** W: Σ effective weights of alive real servers. */
  readonly aliveWeight: number;
  readonly sorryServer?: string;
  readonly sorryActive: boolean;
  readonly realServers: readonly RealServerStatus[];
}

interface RsState {
  rs: RealServer;
  readonly id: string;
  alive: boolean;
  dynamic?: number;
  override?: number;
}

/**
 * check_data.c validate_check_config: an alpha checker starts failed and so unsets its real server's alive state;
 * a real server without checkers has none to fail and starts alive, alpha or not.
 */
function startsDown(rs: RealServer): boolean {
  return rs.checkers.some((c) => 'alpha' in c && c.alpha === true);
}

function realWeight(w: number): number {
  return Math.min(WEIGHT_MAX, Math.max(0, w));
}

function sorryName(vs: VirtualServer): string | undefined {
  return vs.sorryServer?.displayName;
}

export class VsPool {
  readonly vsId: string;
  private vs: VirtualServer;
  private rss = new Map<string, RsState>();
  private quorumUp = false;
  private sorryActive = false;

  constructor(vs: VirtualServer) {
    this.vs = vs;
    this.vsId = makeVsId(vs);
    for (const rs of vs.realServers) {
      const id = rs.id;
      this.rss.set(id, { rs, id, alive: !startsDown(rs) });
    }
  }

  /** A copy to try a reload on (`lvskeeper plan`): its server states are its own, the configs shared. */
  clone(): VsPool {
    const copy = Object.create(VsPool.prototype) as VsPool;
    Object.assign(copy, this);
    copy.rss = new Map([...this.rss].map(([id, st]) => [id, { ...st }]));
    return copy;
  }

  get config(): VirtualServer {
    return this.vs;
  }

  /**
   * Initial quorum, as ipwrapper.c init_service_vs → update_quorum_state(vs, init): reaching it is `Gained quorum`
   * with the quorum_up script; missing it is reported (and quorum_down run) only when a sorry server goes in.
   */
  start(rsInitNotifies = false): PoolEvent[] {
    const ev: PoolEvent[] = [];
    // ipwrapper.c init_service_rs: with rs_init_notifies each real server that starts alive has its up notifies.
    if (rsInitNotifies) {
      for (const st of this.rss.values()) {
        if (st.alive) ev.push({ kind: 'rs-state', vsId: this.vsId, rsId: st.id, alive: true, ...(st.rs.notifyUp ? { script: st.rs.notifyUp } : {}), notifyOnly: true });
      }
    }
    const { quorum: q, hysteresis: h, displayName: name } = this.vs;
    const w = this.aliveWeight();
    this.quorumUp = w >= q + h;
    const counts = { threshold: q + h, weightSum: w, init: true as const };
    if (this.quorumUp) {
      this.log(ev, `Gained quorum ${q}+${h}=${q + h} <= ${w} for VS ${name}`);
      ev.push({ kind: 'quorum', vsId: this.vsId, up: true, ...counts, ...(this.vs.quorumUp ? { script: this.vs.quorumUp } : {}) });
    } else if (this.vs.sorryServer) {
      this.log(ev, `Starting with quorum down ${q}-${h}=${q + h} > ${w} for VS ${name}`);
      this.activateSorry(ev);
      ev.push({ kind: 'quorum', vsId: this.vsId, up: false, ...counts, ...(this.vs.quorumDown ? { script: this.vs.quorumDown } : {}) });
    }
    return ev;
  }

  /**
   * ipwrapper.c clear_service_rs at stop (lvs_flush_on_stop off): one line per real server, installed or not,
   * marked `(inhibited)` for a failed one kept at weight 0.
   */
  shutdownLines(): string[] {
    return [...this.rss.values()].map((st) =>
      `Shutting down ${st.rs.inhibitOnFailure && !st.alive ? '(inhibited) ' : ''}service ${st.rs.displayName} from VS ${this.vs.displayName}`);
  }

  /** A checker verdict for one real server (all its checkers combined). */
  setAlive(rsId: string, alive: boolean): PoolEvent[] {
    const st = this.rss.get(rsId);
    if (!st || st.alive === alive) return [];
    const ev: PoolEvent[] = [];
    st.alive = alive;
    const script = alive ? st.rs.notifyUp : st.rs.notifyDown;
    ev.push({ kind: 'rs-state', vsId: this.vsId, rsId, alive, ...(script ? { script } : {}) });
    // ipwrapper.c perform_svr_state logs the change before it decides whether IPVS sees it (not while a sorry
    // server stands in for a pool without quorum).
    const rsName = st.rs.displayName;
    const vsName = this.vs.displayName;
    this.log(ev, alive
      ? st.rs.inhibitOnFailure ? `Enabling service ${rsName} of VS ${vsName}` : `Adding service ${rsName} to VS ${vsName}`
      : st.rs.inhibitOnFailure ? `Disabling service ${rsName} of VS ${vsName}` : `Removing service ${rsName} from VS ${vsName}`);
    this.updateQuorum(ev);
    return ev;
  }

  /**
   * ipwrapper.c update_svr_checker_state: an alpha checker's failed first run leaves its server down and still
   * calls do_rs_notifies, so notify_down runs (and the FIFO line is written) with no pool change and no alert.
   */
  notifyDownAgain(rsId: string): PoolEvent[] {
    const st = this.rss.get(rsId);
    if (!st || st.alive) return [];
    return [{ kind: 'rs-state', vsId: this.vsId, rsId, alive: false, ...(st.rs.notifyDown ? { script: st.rs.notifyDown } : {}), notifyOnly: true }];
  }

  /**
   * A weight from misc_dynamic / FILE_CHECK, or a reload's; undefined returns to the configured weight. `weighQuorum`
   * false: a reload's weight, which the quorum takes only at the reload's reconfigure (ipwrapper.c init_service_rs
   * calls update_svr_wgt without update_quorum).
   */
  setDynamicWeight(rsId: string, weight: number | undefined, silent = false, weighQuorum = true): PoolEvent[] {
    const set = (st: RsState): void => {
      st.dynamic = weight;
    };
    if (!silent) return this.changeWeight(rsId, set, weighQuorum);
    // A server already out of service: nothing to log, and its weight counts toward no quorum.
    const st = this.rss.get(rsId);
    if (st && !st.alive) set(st);
    return [];
  }

  /** An operator override (drain = 0): wins over checker weights and survives alive/dead transitions. */
  setOverrideWeight(rsId: string, weight: number | undefined): PoolEvent[] {
    return this.changeWeight(rsId, (st) => {
      st.override = weight;
    });
  }

  /**
   * A reload's first step (ipwrapper.c clear_diff_services → clear_diff_rs, clear_diff_s_srv), taken by every kept
   * virtual server before any takes the second (reconfigure): the real servers `vs` no longer names leave (`service RS
   * no longer exist`), and the sorry server it no longer has. Nothing else changes; a second call finds nothing.
   */
  clearDiff(vs: VirtualServer): PoolEvent[] {
    return this.clear(vs, this.samePositions(vs));
  }

  /** clearDiff, told whether `vs` names the same servers in the same order (the common reload: none leaves). */
  private clear(vs: VirtualServer, samePositions: boolean): PoolEvent[] {
    const ev: PoolEvent[] = [];
    if (!samePositions) {
      const kept = new Set(vs.realServers.map((rs) => rs.id));
      for (const [id, st] of this.rss) {
        if (kept.has(id)) continue;
        this.rss.delete(id);
        this.log(ev, `service ${st.rs.displayName} no longer exist`);
        // ipwrapper.c clear_service_rs: an installed server is deleted with its line; a live one also notifies.
        if (!this.installed(st)) continue;
        this.log(ev, `Removing ${st.rs.inhibitOnFailure && !st.alive ? '(inhibited) ' : ''}service ${st.rs.displayName} from VS ${this.vs.displayName}`);
        if (!st.alive) continue;
        // do_rs_notifies: the script if any, and the FIFO line in any case.
        ev.push({ kind: 'rs-state', vsId: this.vsId, rsId: id, alive: false, ...(st.rs.notifyDown ? { script: st.rs.notifyDown } : {}) });
        ev.push({ kind: 'rs-shut', vsId: this.vsId, rsId: id, stopping: false });
      }
    }
    if (this.sorryActive && !vs.sorryServer) {
      this.sorryActive = false;
      this.log(ev, `${this.vs.sorryServerInhibit ? 'Disabling' : 'Removing'} sorry server ${sorryName(this.vs)} from VS ${vs.displayName}`);
      ev.push({ kind: 'sorry', vsId: this.vsId, active: false });
    }
    return ev;
  }

  /**
   * Reload (keepalived `init_service_vs` after `clear_diff_services` / `migrate_checkers`): kept real servers keep
   * alive state, dynamic weight and override; new ones follow the start rules; removed ones leave (clearDiff, which
   * this takes first if the caller has not).
   */
  reconfigure(vs: VirtualServer): PoolEvent[] {
    const samePositions = this.samePositions(vs);
    const ev = this.clear(vs, samePositions);
    this.vs = vs;
    if (samePositions) {
      // The common reload: the same real servers in the same order; each state takes its new server in place.
      let i = 0;
      for (const st of this.rss.values()) {
        const before = this.effective(st);
        st.rs = vs.realServers[i++]!;
        const after = this.effective(st);
        if (before !== after) this.logWeightChange(ev, st, before, after);
      }
    } else this.remap(vs, ev);
    // ipwrapper.c init_service_vs weighs the quorum of a reloaded virtual server as at start.
    this.updateQuorum(ev, true);
    return ev;
  }

  /** Whether `vs` names the real servers this pool holds, in the same order. */
  private samePositions(vs: VirtualServer): boolean {
    if (vs.realServers.length !== this.rss.size) return false;
    let i = 0;
    for (const st of this.rss.values()) if (st.id !== vs.realServers[i++]!.id) return false;
    return true;
  }

  /**
   * The real servers whose destination reconfigure(vs) changes, read before it, when weights are all it changes: the
   * same servers in the same order, each with the same destination and inhibit_on_failure, the same sorry server and
   * quorum settings. A server counts when it is in service (alive, no sorry server standing in) and its effective
   * weight moves; one out of service keeps no entry, or weight 0, whatever its weight. undefined: more may change, and
   * the caller takes the whole pool. New weights can move the quorum, and with it the sorry server: the caller
   * compares sorryOn across reconfigure.
   */
  reweighted(vs: VirtualServer): string[] | undefined {
    const old = this.vs;
    if (old.quorum !== vs.quorum || old.hysteresis !== vs.hysteresis || old.sorryServerInhibit !== vs.sorryServerInhibit) return undefined;
    if (!sameSorryDestinationOf(old.sorryServer, vs.sorryServer) || vs.realServers.length !== this.rss.size) return undefined;
    const inService = !this.sorryOn;
    const moved: string[] = [];
    let i = 0;
    for (const st of this.rss.values()) {
      const next = vs.realServers[i++]!;
      if (next.id !== st.id || next.inhibitOnFailure !== st.rs.inhibitOnFailure || !sameDestinationOf(st.rs, next)) return undefined;
      if (inService && st.alive && realWeight(st.override ?? st.dynamic ?? next.weight) !== this.effective(st)) moved.push(st.id);
    }
    return moved;
  }

  /**
   * Servers added or reordered (clearDiff took the removed ones out): states matched by id; new ones follow the start
   * rules.
   */
  private remap(vs: VirtualServer, ev: PoolEvent[]): void {
    const next = new Map<string, RsState>();
    for (const rs of vs.realServers) {
      const id = rs.id;
      const st = this.rss.get(id);
      if (!st) {
        next.set(id, { rs, id, alive: !startsDown(rs) });
        continue;
      }
      const before = this.effective(st);
      st.rs = rs;
      const after = this.effective(st);
      if (before !== after) this.logWeightChange(ev, st, before, after);
      next.set(id, st);
    }
    this.rss = next;
  }

  /**
   * What omega runs at shutdown (ipwrapper.c clear_service_vs → clear_service_rs, update_vs_notifies): each live
   * installed real server's notify_down and alert when its servers are removed one by one (`rsToo`, no
   * lvs_flush_on_stop), then quorum_down and the virtual server's alert whatever the quorum was.
   */
  shutdownEvents(rsToo: boolean): PoolEvent[] {
    if (!this.vs.omega) return [];
    const ev: PoolEvent[] = [];
    for (const st of rsToo ? this.rss.values() : []) {
      if (!st.alive || !this.installed(st)) continue;
      ev.push({ kind: 'rs-state', vsId: this.vsId, rsId: st.id, alive: false, ...(st.rs.notifyDown ? { script: st.rs.notifyDown } : {}), notifyOnly: true, stopping: true });
      ev.push({ kind: 'rs-shut', vsId: this.vsId, rsId: st.id, stopping: true });
    }
    const { quorum: q, hysteresis: h } = this.vs;
    ev.push({
      kind: 'quorum', vsId: this.vsId, up: false, threshold: q - h, weightSum: this.aliveWeight(), stopping: true,
      ...(this.vs.quorumDown ? { script: this.vs.quorumDown } : {}),
    });
    return ev;
  }

  /** Whether the server is in the kernel's table now (keepalived's rs->set). */
  private installed(st: RsState): boolean {
    return !this.sorryActive && (st.alive || st.rs.inhibitOnFailure);
  }

  /**
   * The destinations the service should hold now. While the sorry server is active every real server is out
   * (inhibited ones at weight 0); otherwise alive ones carry their weight and failed inhibited ones weight 0.
   */
  destinations(): PoolDest[] {
    const out: PoolDest[] = [];
    const sorryOn = this.sorryOn;
    for (const st of this.rss.values()) {
      const dest = this.destinationOf(st, sorryOn);
      if (dest) out.push({ id: st.id, dest });
    }
    const s = this.vs.sorryServer;
    if (s && (sorryOn || this.vs.sorryServerInhibit)) out.push({ id: 'sorry', dest: sorryDestinationFor(s, sorryOn ? 1 : 0) });
    return out;
  }

  /** destinations() of the real servers `ids` names alone, in pool order: those whose weights moved. */
  destinationsOf(ids: ReadonlySet<string>): Destination[] {
    const out: Destination[] = [];
    const sorryOn = this.sorryOn;
    for (const st of this.rss.values()) {
      const dest = ids.has(st.id) ? this.destinationOf(st, sorryOn) : undefined;
      if (dest) out.push(dest);
    }
    return out;
  }

  /** Whether the sorry server stands in for the real servers (so only inhibited ones stay, at weight 0). */
  get sorryOn(): boolean {
    return this.vs.sorryServer !== undefined && this.sorryActive;
  }

  private destinationOf(st: RsState, sorryOn: boolean): Destination | undefined {
    if (!sorryOn && st.alive) return destinationFor(st.rs, this.effective(st));
    return st.rs.inhibitOnFailure ? destinationFor(st.rs, 0) : undefined;
  }

  status(): PoolStatus {
    const installed = new Map(this.destinations().map((d) => [d.id, d.dest.weight]));
    const sorry = sorryName(this.vs);
    return {
      vsId: this.vsId,
      quorumUp: this.quorumUp,
      quorum: this.vs.quorum,
      hysteresis: this.vs.hysteresis,
      aliveWeight: this.aliveWeight(),
      ...(sorry ? { sorryServer: sorry } : {}),
      sorryActive: this.sorryActive,
      realServers: [...this.rss.values()].map((st) => ({
        rsId: st.id,
        alive: st.alive,
        effectiveWeight: this.effective(st),
        configuredWeight: st.rs.weight,
        ...(st.dynamic !== undefined ? { dynamicWeight: st.dynamic } : {}),
        ...(st.override !== undefined ? { overrideWeight: st.override } : {}),
        installed: installed.has(st.id),
        installedWeight: installed.get(st.id) ?? 0,
      })),
    };
  }

  /** Each real server's weight as the pool wants it (0 while down), read in place for /metrics. */
  *wantedWeights(): Iterable<{ readonly rsId: string; readonly weight: number }> {
    for (const st of this.rss.values()) yield { rsId: st.id, weight: st.alive ? this.effective(st) : 0 };
  }

  private effective(st: RsState): number {
    return realWeight(st.override ?? st.dynamic ?? st.rs.weight);
  }

  private aliveWeight(): number {
    let w = 0;
    for (const st of this.rss.values()) if (st.alive) w += this.effective(st);
    return w;
  }

  private changeWeight(rsId: string, set: (st: RsState) => void, weighQuorum = true): PoolEvent[] {
    const st = this.rss.get(rsId);
    if (!st) return [];
    const before = this.effective(st);
    set(st);
    const after = this.effective(st);
    if (before === after) return [];
    const ev: PoolEvent[] = [];
    this.logWeightChange(ev, st, before, after);
    if (weighQuorum) this.updateQuorum(ev);
    return ev;
  }

  private logWeightChange(ev: PoolEvent[], st: RsState, from: number, to: number): void {
    this.log(ev, `Changing weight from ${from} to ${to} for ${st.alive ? 'active' : 'inactive'} service ${st.rs.displayName} of VS ${this.vs.displayName}`);
    ev.push({ kind: 'weight', vsId: this.vsId, rsId: st.id, from, to });
  }

  /**
   * ipwrapper.c update_quorum_state. `init` (a reload's reconfigure, as init_service_vs calls it): a loss reads
   * `Starting with quorum down`, and a virtual server whose quorum is already down gets its sorry server if it is out.
   */
  private updateQuorum(ev: PoolEvent[], init = false): void {
    const { quorum: q, hysteresis: h, displayName: name } = this.vs;
    const w = this.aliveWeight();
    const counts = (threshold: number) => ({ threshold, weightSum: w, ...(init ? { init: true as const } : {}) });
    if (!this.quorumUp && w >= q + h) {
      this.quorumUp = true;
      this.log(ev, `Gained quorum ${q}+${h}=${q + h} <= ${w} for VS ${name}`);
      ev.push({ kind: 'quorum', vsId: this.vsId, up: true, ...counts(q + h), ...(this.vs.quorumUp ? { script: this.vs.quorumUp } : {}) });
      if (this.sorryActive) {
        this.sorryActive = false;
        this.log(ev, `${this.vs.sorryServerInhibit ? 'Disabling' : 'Removing'} sorry server ${sorryName(this.vs)} from VS ${name}`);
        ev.push({ kind: 'sorry', vsId: this.vsId, active: false });
        this.log(ev, `Adding alive servers to the pool for VS ${name}`);
      }
    } else if ((this.quorumUp && (w === 0 || w < q - h)) || (init && !this.quorumUp && this.vs.sorryServer && !this.sorryActive)) {
      // keepalived's threshold is the one on the side the quorum was: q-h when up, q+h when already down.
      const threshold = this.quorumUp ? q - h : q + h;
      this.quorumUp = false;
      this.log(ev, `${init ? 'Starting with quorum down' : 'Lost quorum'} ${q}-${h}=${threshold} > ${w} for VS ${name}`);
      ev.push({ kind: 'quorum', vsId: this.vsId, up: false, ...counts(threshold), ...(this.vs.quorumDown ? { script: this.vs.quorumDown } : {}) });
      if (this.vs.sorryServer && !this.sorryActive) this.activateSorry(ev);
    }
  }

  private activateSorry(ev: PoolEvent[]): void {
    this.sorryActive = true;
    const name = this.vs.displayName;
    this.log(ev, `${this.vs.sorryServerInhibit ? 'Enabling' : 'Adding'} sorry server ${sorryName(this.vs)} to VS ${name}`);
    ev.push({ kind: 'sorry', vsId: this.vsId, active: true });
    this.log(ev, `Removing alive servers from the pool for VS ${name}`);
  }

  private log(ev: PoolEvent[], msg: string): void {
    ev.push({ kind: 'log', vsId: this.vsId, msg });
  }
}
