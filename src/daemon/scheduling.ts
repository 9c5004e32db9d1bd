// How each child process is scheduled, as keepalived's children set it for themselves at start (lib/process.c,
// set_process_priorities, called from vrrp_daemon.c and check_daemon.c):
//   *_rt_priority N     SCHED_RR at N with SCHED_RESET_ON_FORK (scripts start as SCHED_OTHER), and then
//   *_rlimit_rttime U   RLIMIT_RTTIME soft U/2 (SIGXCPU, logged), hard U (SIGKILL; the supervisor respawns)
//   *_priority N        otherwise, nice N
//   *_no_swap           mlockall, so no page of the process waits on swap when it is needed
//   *_cpu_affinity C…   sched_setaffinity to those CPUs (set_process_cpu_affinity, after the above)
// One difference, on purpose: keepalived applies RLIMIT_RTTIME's default of 10 ms whenever a realtime priority is
// set. A JavaScript runtime's major garbage collection runs longer than that without sleeping, so here the limit
// applies only when the config gives it; the supervisor's heartbeat already replaces a child that spins.
// With none of these set, the VRRP process runs at lvskeeper's own default, SCHED_RR 1: the lowest realtime
// priority still runs before every ordinary process, so neither the checker process nor anything else on the
// director delays an advert (keepalived leaves VRRP at the parent's nice unless told). Where realtime scheduling
// is refused (a container without CAP_SYS_NICE), it falls back to nice -10.
import { readdirSync, readFileSync } from 'node:fs';
import { getPriority, setPriority } from 'node:os';
import { performance } from 'node:perf_hooks';
import type { GlobalDefs } from '../config/model.js';
import type { Logger } from '../log.js';
import { loadAddon } from '../native/addon.js';

export type SchedulingSide = 'vrrp' | 'checker' | 'bfd';

export interface ProcessScheduling {
  /** SCHED_RR priority (1..99), or none for SCHED_OTHER. */
  readonly rtPriority?: number;
  /** RLIMIT_RTTIME hard limit in microseconds (the soft limit is half). */
  readonly rlimitRttimeUs?: number;
  /** nice (-20..19) when not realtime, or when realtime is refused. */
  readonly nice?: number;
  /** Lock the process's pages in memory. */
  readonly noSwap?: true;
  /** CPU ids the process's threads may run on. */
  readonly cpus?: readonly number[];
}

const DEFAULT_VRRP_RT_PRIORITY = 1;
const DEFAULT_VRRP_NICE = -10;

const LABEL: Record<SchedulingSide, string> = { vrrp: 'VRRP', checker: 'Checker', bfd: 'BFD' };

/** The scheduling global_defs asks for one side; lvskeeper's defaults where it says nothing. */
export function schedulingFor(global: GlobalDefs, side: SchedulingSide): ProcessScheduling {
  const num = (kw: string): number | undefined => (global.other[kw] === undefined ? undefined : Number(global.other[kw]));
  const rt = num(`${side}_rt_priority`);
  const nice = num(`${side}_priority`);
  // The deprecated spelling *_rlimit_rtime still counts; keepalived raises 1 to 2 so the soft half is not 0.
  const rlimit = num(`${side}_rlimit_rttime`) ?? num(`${side}_rlimit_rtime`);
  const rlimitRttimeUs = rlimit === undefined ? undefined : Math.max(2, rlimit);
  const affinity = global.other[`${side}_cpu_affinity`];
  const extra = {
    ...(global.other[`${side}_no_swap`] !== undefined ? { noSwap: true as const } : {}),
    ...(affinity !== undefined ? { cpus: affinity.split(/\s+/).filter((c) => c !== '').map(Number) } : {}),
  };
  if (rt !== undefined) return { rtPriority: rt, ...(rlimitRttimeUs !== undefined ? { rlimitRttimeUs } : {}), ...(nice !== undefined ? { nice } : {}), ...extra };
  if (nice !== undefined) return { nice, ...extra };
  // BFD's timers are as short as VRRP's adverts (50 ms × 3 and less): it gets the same protection by default.
  if (side === 'vrrp' || side === 'bfd') return { rtPriority: DEFAULT_VRRP_RT_PRIORITY, nice: DEFAULT_VRRP_NICE, ...extra };
  return extra;
}

interface SchedBinding {
  setRealtime(priority: number, rlimitUs: number): void;
  setAffinity(cpus: readonly number[]): void;
  lockMemory(): void;
}

const sched = (): SchedBinding => loadAddon('lvsk_sched') as SchedBinding;

/** Applies `s` to every thread of this process (threads started later inherit it from the main thread). */
export function applyScheduling(s: ProcessScheduling, side: SchedulingSide, log: Logger): void {
  applyPriority(s, side, log);
  if (s.noSwap) {
    try {
      sched().lockMemory();
    } catch (err) {
      log.info(`Unable to lock process in memory - ${(err as Error).message}`);
    }
  }
  if (s.cpus !== undefined && s.cpus.length > 0) {
    try {
      sched().setAffinity(s.cpus);
    } catch (err) {
      log.warn(`unable to set cpu affinity to ${side} process (${(err as Error).message})`);
    }
  }
}

function applyPriority(s: ProcessScheduling, side: SchedulingSide, log: Logger): void {
  if (s.rtPriority !== undefined) {
    try {
      sched().setRealtime(s.rtPriority, s.rlimitRttimeUs ?? 0);
      if (s.rlimitRttimeUs !== undefined) {
        process.on('SIGXCPU', () => log.info(`${LABEL[side]} process has used too much CPU time, ${side}_rlimit_rttime may need to be increased`));
      }
      return;
    } catch (err) {
      log.warn(`${LABEL[side]} process: cannot set realtime priority ${s.rtPriority} (${(err as Error).message})`);
    }
  }
  if (s.nice === undefined) return;
  try {
    niceEveryThread(s.nice);
  } catch (err) {
    log.warn(`${LABEL[side]} process: cannot set priority ${s.nice} (${(err as Error).message})`);
  }
}

/** nice is per thread on Linux: every thread of this process, the main one included, is given `nice`. */
function niceEveryThread(nice: number): void {
  for (const tid of readdirSync('/proc/self/task')) {
    try {
      setPriority(Number(tid), nice);
    } catch (err) {
      // A thread gone since the listing is no failure.
      if ((err as { info?: { code?: string } }).info?.code !== 'ESRCH') throw err;
    }
  }
}

/** How much nicer the checker process runs while it reloads. */
const RELOAD_NICE_STEP = 10;
const CAP_SYS_NICE = 23;
/** This process's nice before the reload that runs (undefined: none runs, or it was left as it was). */
let niceBeforeReload: number | undefined;

/**
 * A reload's parse and IPVS pass are batch work on the checker process's loop, which checks nothing meanwhile: for
 * their length its threads run RELOAD_NICE_STEP nicer, so that on a busy machine the supervisor's loop (the
 * userspace data plane, the control socket) gets a CPU before them. On this project's 2-CPU machine, over 16
 * unchanged 30,000-server reloads, the supervisor woke more than 8 ms late during the parse 7 times without it, never
 * with it. Going back takes CAP_SYS_NICE: without it the process is left as it is. A realtime process is not moved by
 * nice. A failure is logged; the reload goes on.
 */
export function yieldDuringReload(log: Logger): void {
  if (niceBeforeReload !== undefined || !hasCapability(CAP_SYS_NICE)) return;
  niceBeforeReload = getPriority();
  try {
    niceEveryThread(Math.min(19, niceBeforeReload + RELOAD_NICE_STEP));
  } catch (err) {
    log.warn(`Checker process: cannot lower its priority for the reload (${(err as Error).message})`);
  }
}

/** The reload is over (applied or dropped): the threads go back to their nice, those started meanwhile too. */
export function reloadYieldOver(log: Logger): void {
  if (niceBeforeReload === undefined) return;
  const nice = niceBeforeReload;
  niceBeforeReload = undefined;
  try {
    niceEveryThread(nice);
  } catch (err) {
    log.warn(`Checker process: cannot set priority ${nice} again after the reload (${(err as Error).message})`);
  }
}

function hasCapability(bit: number): boolean {
  const eff = /^CapEff:\s*([0-9a-f]+)$/m.exec(readFileSync('/proc/self/status', 'utf8'))?.[1];
  return eff !== undefined && (BigInt(`0x${eff}`) >> BigInt(bit)) % 2n === 1n;
}

/** How often the lateness probe fires: a stall shows as this timer firing late. */
const PROBE_MS = 100;

/**
 * max_auto_priority [N] / min_auto_priority_delay U (lib/scheduler.c thread_fetch_next_queue, lib/process.c
 * increment_process_priority): when a timer fires more than U µs (default 1 s) late, the process goes to SCHED_RR
 * at priority 1, or one higher if realtime already, up to N (99 when given without a value; 0 or -1: never). keepalived
 * checks its earliest timer on each epoll return; here a probe timer every 100 ms stands for it, so a stall is seen
 * when it ends, as there. The probe lives as long as the process.
 */
export function watchAutoPriority(global: GlobalDefs, s: ProcessScheduling, side: SchedulingSide, log: Logger): void {
  const raw = global.other['max_auto_priority'];
  const max = raw === undefined ? 0 : raw === '' ? 99 : Number(raw);
  if (!(max > 0)) return;
  const minDelayUs = Number(global.other['min_auto_priority_delay'] ?? 1_000_000);
  let current = s.rtPriority ?? 0;
  let expected = performance.now() + PROBE_MS;
  const timer = setInterval(() => {
    const lateUs = Math.round((performance.now() - expected) * 1000);
    expected = performance.now() + PROBE_MS;
    if (lateUs <= minDelayUs || current >= max) return;
    log.info(`A thread timer expired ${Math.floor(lateUs / 1e6)}.${String(lateUs % 1e6).padStart(6, '0')} seconds ago`);
    const next = current === 0 ? 1 : current + 1;
    try {
      (loadAddon('lvsk_sched') as SchedBinding).setRealtime(next, s.rlimitRttimeUs ?? 0);
      current = next;
      log.info(`Set realtime priority ${current}`);
    } catch (err) {
      log.warn(`${LABEL[side]} process: cannot set realtime priority ${next} (${(err as Error).message})`);
    }
  }, PROBE_MS);
  timer.unref();
}
