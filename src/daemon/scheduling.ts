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
import { readdirSync } from 'node:fs';
import { setPriority } from 'node:os';
import type { GlobalDefs } from '../config/model.js';
import type { Logger } from '../log.js';
import { loadAddon } from '../native/addon.js';

export type SchedulingSide = 'vrrp' | 'checker';

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

const LABEL: Record<SchedulingSide, string> = { vrrp: 'VRRP', checker: 'Checker' };

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
  if (side === 'vrrp') return { rtPriority: DEFAULT_VRRP_RT_PRIORITY, nice: DEFAULT_VRRP_NICE, ...extra };
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
  for (const tid of readdirSync('/proc/self/task')) {
    try {
      setPriority(Number(tid), s.nice);
    } catch (err) {
      // A thread gone since the listing is no failure; anything else is said once.
      if ((err as { info?: { code?: string } }).info?.code === 'ESRCH') continue;
      log.warn(`${LABEL[side]} process: cannot set priority ${s.nice} (${(err as Error).message})`);
      return;
    }
  }
}
