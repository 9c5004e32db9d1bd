// Starts a script process the way child_process.spawn(file, args, { detached: true, stdio: 'ignore', env, uid, gid })
// does — its own session and process group, /dev/null for stdin/stdout/stderr, default signal dispositions, PATH
// search — but through the lvsk_spawn addon's clone(CLONE_VM | CLONE_VFORK), whose cost does not grow with this
// process's memory: libuv forks, and fork copies the page tables while the event loop waits (2–4 ms at 500 MB RSS
// here against 0.2 ms this way: npm run bench:spawn). Kernels without pidfd_open (before Linux 5.3) keep
// child_process.spawn.
import { spawn } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { constants } from 'node:os';
import { loadAddon } from '../native/addon.js';

interface SpawnBinding {
  supported(): boolean;
  spawn(file: string, argv: string[], envp: string[], uid: number, gid: number,
    onExit: (code: number, signal: number) => void): number;
}

/** What runScript uses of a started script: ChildProcess's pid and its 'error' and 'exit' events. */
export interface ScriptProcess {
  readonly pid?: number | undefined;
  once(event: 'error', listener: (err: NodeJS.ErrnoException) => void): unknown;
  once(event: 'exit', listener: (code: number | null, signal: NodeJS.Signals | null) => void): unknown;
}

export interface SpawnOptions {
  readonly env: NodeJS.ProcessEnv;
  readonly uid?: number | undefined;
  readonly gid?: number | undefined;
}

let binding: SpawnBinding | null | undefined;

/** The addon when this kernel can watch its children (pidfd_open); null when it cannot. */
function vforkBinding(): SpawnBinding | null {
  if (binding === undefined) {
    const b = loadAddon('lvsk_spawn') as SpawnBinding;
    binding = b.supported() ? b : null;
  }
  return binding;
}

/** Signal number → name, the first name os.constants lists for a number (SIGABRT, not SIGIOT), as Node reports. */
const SIGNAL_NAMES = new Map<number, NodeJS.Signals>();
for (const [name, number] of Object.entries(constants.signals) as [NodeJS.Signals, number][]) {
  if (!SIGNAL_NAMES.has(number)) SIGNAL_NAMES.set(number, name);
}

/**
 * Starts `file` with `args`. A script that cannot start throws (ENOENT, EACCES, EPERM from setuid …, as
 * NodeJS.ErrnoException with its code) or, on the child_process path, emits 'error'; either way it never emits 'exit'.
 */
export function spawnScript(file: string, args: readonly string[], opts: SpawnOptions): ScriptProcess {
  const b = vforkBinding();
  if (b === null) {
    return spawn(file, args, {
      detached: true,
      stdio: 'ignore',
      env: opts.env,
      ...(opts.uid !== undefined ? { uid: opts.uid } : {}),
      ...(opts.gid !== undefined ? { gid: opts.gid } : {}),
    });
  }
  // child_process.spawn's envPairs: every variable with a value, as KEY=VALUE.
  const envp = Object.entries(opts.env).flatMap(([k, v]) => (v === undefined ? [] : [`${k}=${v}`]));
  const events = new EventEmitter();
  const pid = b.spawn(file, [file, ...args], envp, opts.uid ?? -1, opts.gid ?? -1, (code, signal) =>
    events.emit('exit', code >= 0 ? code : null, signal > 0 ? (SIGNAL_NAMES.get(signal) ?? null) : null));
  return Object.assign(events, { pid });
}
