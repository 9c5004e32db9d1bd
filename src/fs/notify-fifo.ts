// One notify FIFO, created, fed and removed as keepalived 2.2.7's lib/notify.c fifo_open / fifo_close do it:
// mkfifo with mode rw-r--r-- under the umask, chown to the FIFO's user and group when they are not ours, the FIFO
// script started with the FIFO's name as its last argument, then the FIFO opened O_RDWR | O_NONBLOCK | O_NOFOLLOW.
// Holding a read end of our own means a writer never blocks and never gets SIGPIPE: when the reader is slow or gone
// the pipe fills and a line is dropped (EAGAIN; write() says so and the owner counts it), exactly where keepalived
// ignores write()'s error. Nothing at the path is followed: mkfifo does not follow a planted link (EEXIST) and the
// open refuses one (ELOOP). Unlike keepalived, which would write into a regular file found at the path, anything but
// a FIFO there is refused.
import { execFile } from 'node:child_process';
import { chownSync, closeSync, constants, fstatSync, lstatSync, openSync, unlinkSync, writeSync } from 'node:fs';
import type { Script } from '../config/model.js';
import { runScript } from '../exec/script.js';
import type { Logger } from '../log.js';
import { createMode } from './umask.js';

export interface NotifyFifoSpec {
  readonly path: string;
  /** keepalived's `type`: '', 'vrrp_' or 'lvs_', as in its log lines. */
  readonly type: string;
  /** The FIFO's owner (its user and group, else the default script user's); undefined leaves it ours. */
  readonly uid?: number;
  readonly gid?: number;
  readonly script?: Script;
  /** The default script user, for a script that names none. */
  readonly defaultUser?: string;
  readonly defaultGroup?: string;
  /** Logged when the script ends by itself: `vrrp notify fifo script terminated` (vrrp.c) or the lvs one. */
  readonly scriptExitLine: string;
  /** net_namespace's path: keepalived's children, which run the FIFO scripts, are in it. */
  readonly netns?: string;
}

/** keepalived asks mkfifo(3) for S_IRUSR | S_IWUSR | S_IRGRP | S_IROTH under its mask (umask.ts): 0600 by default. */
const fifoMode = (): string => createMode(0o644).toString(8).padStart(4, '0');

function exists(path: string): boolean {
  try {
    lstatSync(path);
    return true;
  } catch {
    return false;
  }
}

/** mkfifo(3) through coreutils' mkfifo (Node has none): true when created, false when something is already there. */
async function mkfifo(path: string): Promise<boolean | Error> {
  if (exists(path)) return false;
  return new Promise((resolve) => {
    execFile('mkfifo', ['-m', fifoMode(), '--', path], { env: { ...process.env, LC_ALL: 'C' } }, (err, _out, stderr) => {
      if (!err) resolve(true);
      else resolve(exists(path) ? false : new Error(stderr.trim() || err.message));
    });
  });
}

export class NotifyFifo {
  private fd = -1;
  private created = false;
  private scriptPid: number | undefined;
  private scriptDone: Promise<void> = Promise.resolve();
  private stopping = false;

  private constructor(readonly spec: NotifyFifoSpec, private readonly log: Logger) {}

  get path(): string {
    return this.spec.path;
  }

  get open(): boolean {
    return this.fd >= 0;
  }

  /** Creates (when missing) and opens the FIFO, starting its script first; a FIFO that cannot be opened is left closed. */
  static async open(spec: NotifyFifoSpec, log: Logger): Promise<NotifyFifo> {
    const f = new NotifyFifo(spec, log);
    const made = await mkfifo(spec.path);
    if (made instanceof Error) {
      log.info(`Unable to create ${spec.type}notify fifo ${spec.path}`);
      log.debug(`mkfifo ${spec.path}: ${made.message}`);
      return f;
    }
    if (made) {
      f.created = true;
      const ours = { uid: process.getuid?.() ?? 0, gid: process.getgid?.() ?? 0 };
      const uid = spec.uid !== undefined && spec.uid !== ours.uid ? spec.uid : -1;
      const gid = spec.gid !== undefined && spec.gid !== ours.gid ? spec.gid : -1;
      if (uid !== -1 || gid !== -1) {
        try {
          chownSync(spec.path, uid, gid);
        } catch {
          log.info(`Failed to set uid:gid for fifo ${spec.path}`);
        }
      }
    }
    if (spec.script) f.startScript(spec.script);
    try {
      f.fd = openSync(spec.path, constants.O_RDWR | constants.O_NONBLOCK | constants.O_NOFOLLOW);
      if (!fstatSync(f.fd).isFIFO()) {
        closeSync(f.fd);
        f.fd = -1;
        log.warn(`${spec.path} is not a FIFO: ${spec.type}notify fifo not used`);
      }
    } catch (err) {
      log.info(`Unable to open ${spec.type}notify fifo ${spec.path} - errno ${errnoOf(err)}`);
    }
    if (f.fd < 0 && f.created) {
      unlinkSync(spec.path);
      f.created = false;
    }
    return f;
  }

  private startScript(script: Script): void {
    this.scriptDone = runScript(script, {
      extraArgs: [this.spec.path],
      ...(this.spec.defaultUser !== undefined ? { defaultUser: this.spec.defaultUser } : {}),
      ...(this.spec.defaultGroup !== undefined ? { defaultGroup: this.spec.defaultGroup } : {}),
      ...(this.spec.netns !== undefined ? { netns: this.spec.netns } : {}),
      onSpawn: (pid) => (this.scriptPid = pid),
    }).then((r) => {
      this.scriptPid = undefined;
      if (r.spawnError !== undefined) this.log.warn(`Cannot run ${this.spec.type}notify fifo script ${script.text}: ${r.spawnError}`);
      else if (!this.stopping) this.log.info(this.spec.scriptExitLine);
    });
  }

  /** One line, whole or not at all (a line is shorter than PIPE_BUF, so a pipe write is atomic); false when dropped. */
  write(line: string): boolean {
    if (this.fd < 0) return false;
    try {
      writeSync(this.fd, line);
      return true;
    } catch {
      return false;
    }
  }

  /** script_killall's SIGTERM to the script's process group (reload and shutdown). */
  terminateScript(): void {
    this.stopping = true;
    this.signalScript('SIGTERM');
  }

  /**
   * fifo_close: the FIFO is unlinked first (if we made it), so a script that reopens it in a loop cannot, then
   * closed. A script still running after `graceMs` is killed (keepalived's shutdown backstop); 0 leaves it be.
   */
  async close(graceMs: number): Promise<void> {
    this.stopping = true;
    if (this.created) {
      try {
        unlinkSync(this.spec.path);
      } catch {
        // Removed by someone else already.
      }
      this.created = false;
    }
    if (this.fd >= 0) closeSync(this.fd);
    this.fd = -1;
    if (graceMs <= 0 || this.scriptPid === undefined) return;
    let timer: NodeJS.Timeout | undefined;
    const timedOut = await Promise.race([
      this.scriptDone.then(() => false),
      new Promise<boolean>((r) => (timer = setTimeout(() => r(true), graceMs))),
    ]);
    clearTimeout(timer);
    if (timedOut) this.signalScript('SIGKILL');
  }

  private signalScript(signal: NodeJS.Signals): void {
    if (this.scriptPid === undefined) return;
    try {
      process.kill(-this.scriptPid, signal);
    } catch {
      // Already gone.
    }
  }
}

/** The errno keepalived logs (libuv reports it negated). */
function errnoOf(err: unknown): number {
  return Math.abs((err as NodeJS.ErrnoException).errno ?? 0);
}
