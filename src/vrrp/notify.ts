// notify_master/backup/fault/stop and the generic `notify` (vrrp_notify.c, notify.c), and the notify FIFO lines.
// Scripts run as argv through exec/script.ts. Unlike keepalived, whose notifies are fire-and-forget, each
// instance (or group) has a queue, so its scripts run one after another in transition order; a script that hangs
// is killed after NOTIFY_TIMEOUT_MS so the queue moves on. FIFO lines leave at once, in keepalived's format
// (vrrp_notify.c notify_fifo), through a sink: the supervisor owns the FIFOs (daemon/notify-fifos.ts).
import { statSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Script, VrrpNotify } from '../config/model.js';
import type { Logger } from '../log.js';
import { lookupId, NOTIFY_TIMEOUT_MS, runScript } from '../exec/script.js';

export type NotifyKind = 'INSTANCE' | 'GROUP';
export type NotifyStateName = 'MASTER' | 'BACKUP' | 'FAULT' | 'STOP' | 'DELETED';
/** vrrp_notify.c notify_fifo's events besides the states. */
type FifoEvent = 'MASTER_RX_LOWER_PRI' | 'MASTER_PRIORITY' | 'BACKUP_PRIORITY';

/** Where FIFO lines go; undefined when no notify_fifo or vrrp_notify_fifo is configured. */
export type FifoSink = (line: string) => void;

/** `INSTANCE "VI_1" MASTER 150` (a group's priority is always 0). */
export function fifoLine(kind: NotifyKind, name: string, state: NotifyStateName | FifoEvent, priority: number): string {
  return `${kind} "${name}" ${state} ${priority}\n`;
}

/** Global script settings: `script_user` and `enable_script_security`. */
export interface ScriptPolicy {
  readonly defaultUser?: string;
  readonly defaultGroup?: string;
  readonly enableScriptSecurity: boolean;
}

/** keepalived's default: `keepalived_script` when that user exists, else root (no user switch). */
export function scriptPolicy(global: {
  readonly scriptUser?: string;
  readonly scriptGroup?: string;
  readonly enableScriptSecurity: boolean;
}): ScriptPolicy {
  const user = global.scriptUser ?? (lookupId('/etc/passwd', 'keepalived_script') !== undefined ? 'keepalived_script' : undefined);
  return {
    ...(user !== undefined ? { defaultUser: user } : {}),
    ...(global.scriptGroup !== undefined ? { defaultGroup: global.scriptGroup } : {}),
    enableScriptSecurity: global.enableScriptSecurity,
  };
}

/**
 * enable_script_security: a script that would run as root must not be writable by anyone but root — neither
 * the file nor any directory above it. Returns the reason it is unsafe, or undefined.
 */
export function unsafeScriptReason(script: Script, policy: ScriptPolicy): string | undefined {
  if (!policy.enableScriptSecurity) return undefined;
  const user = script.user ?? policy.defaultUser;
  const uid = user === undefined ? 0 : lookupId('/etc/passwd', user);
  if (uid !== 0) return undefined;
  const file = script.argv[0];
  if (file === undefined) return 'empty command';
  if (!file.startsWith('/')) return `${file} is not an absolute path`;
  for (let path = file; ; path = dirname(path)) {
    let st;
    try {
      st = statSync(path);
    } catch {
      return `cannot stat ${path}`;
    }
    if (st.uid !== 0 || (st.mode & 0o022) !== 0) return `${path} is writable by a non-root user`;
    if (path === '/') return undefined;
  }
}

/** A serial queue of notify runs for one instance or group. */
export class Notifier {
  private chain: Promise<void> = Promise.resolve();

  constructor(
    private readonly kind: NotifyKind,
    private readonly name: string,
    private readonly scripts: VrrpNotify,
    private readonly policy: ScriptPolicy,
    private readonly logger: Logger,
    private readonly fifo?: FifoSink,
    private readonly timeoutMs = NOTIFY_TIMEOUT_MS,
  ) {}

  /** Queues the state's own script, then the generic `notify` with `KIND name STATE priority` appended. */
  notify(state: NotifyStateName, priority: number): void {
    const specific =
      state === 'MASTER'
        ? this.scripts.master
        : state === 'BACKUP'
          ? this.scripts.backup
          : state === 'FAULT'
            ? this.scripts.fault
            : state === 'STOP'
              ? this.scripts.stop
              : typeof this.scripts.deleted === 'object'
                ? this.scripts.deleted
                : undefined;
    // notify_stop is bounded tighter so shutdown cannot hang on it (keepalived: 1 s).
    const timeoutMs = state === 'STOP' ? Math.min(1000, this.timeoutMs) : this.timeoutMs;
    if (specific) this.enqueue(specific, [], timeoutMs);
    if (this.scripts.generic) this.enqueue(this.scripts.generic, [this.kind, this.name, state, String(priority)], timeoutMs);
    this.fifo?.(fifoLine(this.kind, this.name, state, priority));
  }

  /** vrrp_notify.c send_event_notify. */
  notifyRxLowerPri(priority: number): void {
    if (this.scripts.masterRxLowerPri) this.enqueue(this.scripts.masterRxLowerPri, [], this.timeoutMs);
    this.fifo?.(fifoLine(this.kind, this.name, 'MASTER_RX_LOWER_PRI', priority));
  }

  /** vrrp_notify.c send_instance_priority_notifies: FIFO only. */
  priorityChanged(master: boolean, priority: number): void {
    this.fifo?.(fifoLine(this.kind, this.name, master ? 'MASTER_PRIORITY' : 'BACKUP_PRIORITY', priority));
  }

  /** notify_instance_fifo / notify_group_fifo alone: fifo_write_vrrp_states_on_reload. */
  stateLine(state: NotifyStateName, priority: number): void {
    this.fifo?.(fifoLine(this.kind, this.name, state, priority));
  }

  /** Resolves when everything queued so far has finished. */
  idle(): Promise<void> {
    return this.chain;
  }

  private enqueue(script: Script, extraArgs: string[], timeoutMs: number): void {
    const unsafe = unsafeScriptReason(script, this.policy);
    if (unsafe !== undefined) {
      this.logger.warn(`SECURITY VIOLATION - not running notify script ${script.text}: ${unsafe}`);
      return;
    }
    this.chain = this.chain.then(async () => {
      const r = await runScript(script, {
        extraArgs,
        timeoutMs,
        killGraceMs: 1000,
        ...(this.policy.defaultUser !== undefined ? { defaultUser: this.policy.defaultUser } : {}),
        ...(this.policy.defaultGroup !== undefined ? { defaultGroup: this.policy.defaultGroup } : {}),
      });
      if (r.spawnError !== undefined) this.logger.warn(`Failed to run notify script ${script.text}: ${r.spawnError}`);
      if (r.timedOut) this.logger.warn(`Notify script ${script.text} timed out after ${timeoutMs / 1000} s: killed`);
    });
  }
}
