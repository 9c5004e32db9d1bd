// Runs configured scripts (MISC_CHECK, vrrp_script, notify*, quorum_*) the way keepalived does:
// execve of an argv — never a shell string we build — in its own process group, with IFS/LD_PRELOAD/LD_LIBRARY_PATH
// removed from the environment, optionally as another user, and with a timeout that sends SIGTERM to the group and
// SIGKILL after a grace period.
import { readFileSync } from 'node:fs';
import { getPriority, setPriority } from 'node:os';
import type { Script } from '../config/model.js';
import { inNetns } from '../net/in-netns.js';
import { spawnScript, type ScriptProcess } from './spawn.js';

/**
 * The nice this process started with, read when the module loads (before a child process applies vrrp_priority or
 * checker_priority): keepalived starts every script at it (lib/notify.c, reset_process_priorities in the forked child).
 */
const STARTING_NICE = getPriority();

/**
 * Starts at STARTING_NICE: the child inherits the calling thread's nice when it is created (spawnScript creates it
 * synchronously), so the script never runs a moment at the child process's priority, as renicing it after would allow.
 */
function atStartingNice<T>(fork: () => T): T {
  const current = getPriority();
  if (current === STARTING_NICE) return fork();
  try {
    setPriority(STARTING_NICE);
  } catch {
    // Lowering nice needs CAP_SYS_NICE; without it the script starts at ours, as keepalived's would fail to reset.
    return fork();
  }
  try {
    return fork();
  } finally {
    setPriority(current);
  }
}

export interface ScriptResult {
  /** Exit status, or undefined when the script was killed by a signal or could not start. */
  readonly code?: number;
  readonly signal?: NodeJS.Signals;
  readonly timedOut: boolean;
  /** Set when the script could not be started at all (ENOENT, EACCES …). */
  readonly spawnError?: string;
  /** Killed because RunOptions.signal was aborted. */
  readonly aborted?: boolean;
}

export interface RunOptions {
  /** Extra arguments appended to the configured argv (generic `notify` appends INSTANCE name STATE prio). */
  readonly extraArgs?: readonly string[];
  /** 0 or undefined: no timeout. */
  readonly timeoutMs?: number;
  /** Delay between SIGTERM and SIGKILL once timed out (keepalived: 2 s for vrrp_script). */
  readonly killGraceMs?: number;
  /** Default user/group when the script names none (global script_user). */
  readonly defaultUser?: string;
  readonly defaultGroup?: string;
  /**
   * Kill the script's process group once the script exits, so nothing it started in the background outlives it
   * (MISC_CHECK: a check is over when its script exits).
   */
  readonly killGroupOnExit?: boolean;
  /** Aborting kills the process group at once (daemon shutdown) and resolves with `aborted`. */
  readonly signal?: AbortSignal;
  /** The script's pid (its process group), for an owner that signals a script it never times out. */
  readonly onSpawn?: (pid: number) => void;
  /**
   * The network namespace (its path) the script starts in, for a process that is not in net_namespace itself
   * (the supervisor): keepalived runs every script from a process that setns()ed into it.
   */
  readonly netns?: string;
}

/**
 * Notify-style scripts (VRRP notify*, quorum_up/down): keepalived never waits for them, but lvskeeper runs them in
 * order, so one that hangs is killed after this long rather than holding back every later notification.
 */
export const NOTIFY_TIMEOUT_MS = 10_000;

const STRIPPED_ENV = ['IFS', 'LD_PRELOAD', 'LD_LIBRARY_PATH'];

function cleanEnv(): NodeJS.ProcessEnv {
  const env = { ...process.env };
  for (const name of STRIPPED_ENV) delete env[name];
  return env;
}

/** Looks a user or group up in /etc/passwd or /etc/group; a numeric name is taken as an id. */
export function lookupId(db: '/etc/passwd' | '/etc/group', name: string): number | undefined {
  if (/^\d+$/.test(name)) return Number(name);
  let text: string;
  try {
    text = readFileSync(db, 'utf8');
  } catch {
    return undefined;
  }
  for (const line of text.split('\n')) {
    const fields = line.split(':');
    if (fields[0] === name && fields[2] !== undefined) return Number(fields[2]);
  }
  return undefined;
}

/** Primary group of a user, for `user NAME` without a group. */
export function primaryGid(user: string): number | undefined {
  try {
    for (const line of readFileSync('/etc/passwd', 'utf8').split('\n')) {
      const fields = line.split(':');
      if (fields[0] === user && fields[3] !== undefined) return Number(fields[3]);
    }
  } catch {
    return undefined;
  }
  return undefined;
}

export function runScript(script: Script, opts: RunOptions = {}): Promise<ScriptResult> {
  const [file, ...args] = script.argv;
  if (file === undefined) return Promise.resolve({ timedOut: false, spawnError: 'empty command' });
  const user = script.user ?? opts.defaultUser;
  const group = script.group ?? opts.defaultGroup;
  let uid: number | undefined;
  let gid: number | undefined;
  if (user !== undefined) {
    uid = lookupId('/etc/passwd', user);
    if (uid === undefined) return Promise.resolve({ timedOut: false, spawnError: `unknown user '${user}'` });
    gid = group !== undefined ? lookupId('/etc/group', group) : primaryGid(user);
    if (gid === undefined) return Promise.resolve({ timedOut: false, spawnError: `unknown group '${group ?? user}'` });
  }
  return new Promise((resolve) => {
    let timedOut = false;
    let settled = false;
    let termTimer: NodeJS.Timeout | undefined;
    let killTimer: NodeJS.Timeout | undefined;
    const finish = (result: ScriptResult): void => {
      if (settled) return;
      settled = true;
      clearTimeout(termTimer);
      clearTimeout(killTimer);
      opts.signal?.removeEventListener('abort', onAbort);
      resolve(result);
    };
    const onAbort = (): void => {
      signalGroup('SIGKILL');
      finish({ timedOut: false, aborted: true });
    };
    if (opts.signal?.aborted) return finish({ timedOut: false, aborted: true });
    let child: ScriptProcess;
    try {
      child = atStartingNice(() => inNetns(opts.netns, () =>
        spawnScript(file, [...args, ...(opts.extraArgs ?? [])], { env: cleanEnv(), uid, gid }),
      ));
    } catch (err) {
      // The namespace could not be entered (gone since the start), or the script could not start (ENOENT, EACCES,
      // EPERM from setuid …).
      return finish({ timedOut: false, spawnError: (err as NodeJS.ErrnoException).code ?? (err as Error).message });
    }
    if (child.pid !== undefined) opts.onSpawn?.(child.pid);
    const signalGroup = (signal: NodeJS.Signals): void => {
      if (child.pid === undefined) return;
      try {
        process.kill(-child.pid, signal);
      } catch {
        // The group is already gone.
      }
    };
    child.once('error', (err: NodeJS.ErrnoException) => finish({ timedOut: false, spawnError: err.code ?? err.message }));
    child.once('exit', (code, signal) => {
      // Reap anything the script left behind in its group once a timeout has been declared (or always, when asked).
      // A group keeps its id while any member lives; an empty one is gone (ESRCH) unless the id was reused within
      // this event-loop turn by a new group leader, the same window keepalived's kill(-pid) has.
      if (timedOut || opts.killGroupOnExit) signalGroup('SIGKILL');
      finish({ ...(code !== null ? { code } : {}), ...(signal !== null ? { signal } : {}), timedOut });
    });
    opts.signal?.addEventListener('abort', onAbort, { once: true });
    if (opts.timeoutMs && opts.timeoutMs > 0) {
      termTimer = setTimeout(() => {
        timedOut = true;
        signalGroup('SIGTERM');
        killTimer = setTimeout(() => signalGroup('SIGKILL'), opts.killGraceMs ?? 2000);
      }, opts.timeoutMs);
    }
  });
}
