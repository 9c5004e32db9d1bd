// vrrp_track_process counting, as keepalived 2.2.7's core/track_process.c: which pids match which tracked process,
// how many each has, and when its quorum is gained or lost (with fork_delay/terminate_delay). I/O-free: the adapter
// (src/daemon/process-monitor.ts) feeds it the /proc scan and the kernel's process events, and reads /proc for it
// through `read`; the quorum changes come out through `onQuorum`.
import type { Clock, TimerHandle } from '../clock.js';
import type { TrackProcessDef } from '../config/model.js';
import type { Logger } from '../log.js';

/** What /proc says about one process: `comm` (without its newline) and `cmdline` (NUL-separated), each if read. */
export interface ProcInfo {
  readonly comm?: string;
  readonly cmdline?: string;
}

interface Counted {
  readonly def: TrackProcessDef;
  count: number;
  haveQuorum: boolean;
  forkTimer?: TimerHandle;
  terminateTimer?: TimerHandle;
}

export interface ProcessTrackerOptions {
  readonly clock: Clock;
  readonly logger: Logger;
  /** Reads /proc/PID: comm when `comm`, cmdline when `cmdline`; undefined when the process is gone. */
  readonly read: (pid: number, what: { comm: boolean; cmdline: boolean }) => ProcInfo | undefined;
  readonly onQuorum: (name: string, up: boolean) => void;
}

/** keepalived's check_params: the parameters after argv[0] against the configured ones (each NUL-terminated). */
export function paramsMatch(def: TrackProcessDef, params: string): boolean {
  const want = def.params;
  if (def.paramMatch === 'exact' && want === undefined && params.length === 0) return true;
  const len = want?.length ?? 0;
  if (params.length < len) return false;
  if (def.paramMatch === 'exact') return params.length === len && (want === undefined || params === want);
  if (want === undefined) return true;
  if (def.paramMatch === 'partial') return params.startsWith(want);
  // initial: the last configured parameter may be the start of a longer one.
  return len === 1 || params.startsWith(want.slice(0, -1));
}

/** Whether a process with this comm/cmdline is one the tracked process counts. */
export function matches(def: TrackProcessDef, info: ProcInfo): boolean {
  const name = def.fullCommand ? info.cmdline?.split('\0', 1)[0] : info.comm;
  if (name === undefined || name !== def.process) return false;
  if (def.paramMatch === 'none') return true;
  return paramsMatch(def, (info.cmdline ?? '').slice(name.length + 1));
}

export class ProcessTracker {
  private readonly counted: Counted[];
  /** pid → the tracked processes counting it, one entry per count (keepalived's tracked_process_instance). */
  private readonly pids = new Map<number, Counted[]>();
  private readonly useComm: boolean;
  private readonly useCmdline: boolean;

  constructor(defs: readonly TrackProcessDef[], private readonly opts: ProcessTrackerOptions) {
    this.counted = defs.map((def) => ({ def, count: 0, haveQuorum: false }));
    this.useComm = defs.some((d) => !d.fullCommand);
    this.useCmdline = defs.some((d) => d.fullCommand);
  }

  /** The /proc scan (read_procs + initialise_process_tracking_priorities): counts set, no quorum line logged. */
  scan(procs: Iterable<readonly [number, ProcInfo]>): void {
    for (const [pid, info] of procs) {
      for (const c of this.counted) if (matches(c.def, info)) this.add(pid, c);
    }
    for (const c of this.counted) c.haveQuorum = c.count >= c.def.quorum && c.count <= c.def.quorumMax;
  }

  /** What /proc must be read for in a scan. */
  get reads(): { comm: boolean; cmdline: boolean } {
    return { comm: this.useComm, cmdline: this.useCmdline };
  }

  quorum(name: string): boolean {
    return this.counted.find((c) => c.def.name === name)?.haveQuorum ?? false;
  }

  get quorums(): Record<string, boolean> {
    return Object.fromEntries(this.counted.map((c) => [c.def.name, c.haveQuorum]));
  }

  /**
   * Messages were lost (ENOBUFS): count again from a fresh scan, timers cleared, and report what moved across a
   * quorum boundary (reinitialise_track_processes).
   */
  rescan(procs: Iterable<readonly [number, ProcInfo]>): void {
    this.pids.clear();
    for (const c of this.counted) {
      this.cancel(c);
      c.count = 0;
    }
    for (const [pid, info] of procs) {
      for (const c of this.counted) if (matches(c.def, info)) this.add(pid, c);
    }
    for (const c of this.counted) this.update(c, c.count >= c.def.quorum && c.count <= c.def.quorumMax);
  }

  /** PROC_EVENT_FORK of a process (not a thread): the child counts for whatever the parent counts for. */
  fork(parent: number, child: number): void {
    const refs = this.pids.get(parent);
    if (!refs) return;
    const childRefs: Counted[] = [];
    this.pids.set(child, childRefs);
    for (const c of refs) {
      childRefs.push(c);
      if (++c.count !== c.def.quorum && c.count !== c.def.quorumMax + 1) continue;
      this.opts.logger.info(`track_process ${c.def.name} num_proc now ${c.count}, quorum [${c.def.quorum}:${c.def.quorumMax}]`);
      if (c.terminateTimer) this.clear(c, 'terminateTimer');
      else if (c.def.forkDelayMs > 0) {
        c.forkTimer = this.opts.clock.setTimeout(() => this.settle(c, 'forkTimer'), c.def.forkDelayMs);
        continue;
      }
      this.update(c, c.count === c.def.quorum);
    }
  }

  /** PROC_EVENT_EXEC: the process may have become, or stopped being, one we count. */
  exec(pid: number): void {
    const info = this.opts.read(pid, { comm: this.useComm, cmdline: this.useCmdline });
    if (info) this.check(pid, info, false);
  }

  /** PROC_EVENT_COMM: a changed comm (prctl PR_SET_NAME) counts for the comm-matched processes only. */
  comm(pid: number, comm: string): void {
    const refs = this.pids.get(pid);
    if (refs) {
      for (const c of [...refs]) {
        if (c.def.fullCommand) continue;
        if (comm === c.def.process) return;
        refs.splice(refs.indexOf(c), 1);
        this.lose(c, false);
      }
    }
    this.check(pid, { comm }, true);
  }

  /** PROC_EVENT_EXIT of a process. */
  exit(pid: number): void {
    const refs = this.pids.get(pid);
    if (!refs) return;
    this.pids.delete(pid);
    for (const c of refs) this.lose(c, true);
  }

  stop(): void {
    for (const c of this.counted) this.cancel(c);
  }

  /** keepalived's check_process. */
  private check(pid: number, info: ProcInfo, commEvent: boolean): void {
    const had = this.pids.has(pid);
    for (const c of this.counted) {
      if (c.def.fullCommand && commEvent) continue;
      const name = c.def.fullCommand ? info.cmdline?.split('\0', 1)[0] : info.comm;
      if (name === c.def.process) {
        if (!matches(c.def, info)) {
          if (had) this.remove(pid, c);
          continue;
        }
        this.add(pid, c);
        if (c.count === c.def.quorum || c.count === c.def.quorumMax + 1) {
          if (c.terminateTimer) this.clear(c, 'terminateTimer');
          this.update(c, c.count === c.def.quorum);
        }
      } else if (had && !commEvent) this.remove(pid, c);
    }
    if (this.pids.get(pid)?.length === 0) this.pids.delete(pid);
  }

  private add(pid: number, c: Counted): void {
    const refs = this.pids.get(pid);
    if (refs) refs.push(c);
    else this.pids.set(pid, [c]);
    c.count++;
  }

  /** remove_process_from_track: one count of `c` for this pid, if it has one. */
  private remove(pid: number, c: Counted): void {
    const refs = this.pids.get(pid);
    const i = refs?.indexOf(c) ?? -1;
    if (i < 0) return;
    refs!.splice(i, 1);
    this.lose(c, false);
  }

  /** One count fewer; at a quorum boundary the status follows, after terminate_delay when `delayed`. */
  private lose(c: Counted, delayed: boolean): void {
    if (c.count-- !== c.def.quorum && c.count !== c.def.quorumMax) return;
    if (c.forkTimer) this.clear(c, 'forkTimer');
    else if (delayed && c.def.terminateDelayMs > 0) {
      c.terminateTimer = this.opts.clock.setTimeout(() => this.settle(c, 'terminateTimer'), c.def.terminateDelayMs);
      return;
    }
    this.update(c, c.count === c.def.quorumMax);
  }

  /** A fork or terminate timer expired: the status is whatever the count says now. */
  private settle(c: Counted, timer: 'forkTimer' | 'terminateTimer'): void {
    c[timer] = undefined;
    this.update(c, c.count >= c.def.quorum && c.count <= c.def.quorumMax);
  }

  private update(c: Counted, up: boolean): void {
    if (up === c.haveQuorum) return;
    c.haveQuorum = up;
    this.opts.onQuorum(c.def.name, up);
  }

  private clear(c: Counted, timer: 'forkTimer' | 'terminateTimer'): void {
    this.opts.clock.clearTimeout(c[timer]!);
    c[timer] = undefined;
  }

  private cancel(c: Counted): void {
    if (c.forkTimer) this.clear(c, 'forkTimer');
    if (c.terminateTimer) this.clear(c, 'terminateTimer');
  }
}
