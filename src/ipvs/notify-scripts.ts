// The one runner of the checker side's notify scripts: notify_up/notify_down of real servers and quorum_up/
// quorum_down of virtual servers, as ipwrapper.c do_rs_notifies / do_vs_notifies run them; and the notify FIFO
// lines those two write (notify_fifo_vs, notify_fifo_rs), `VS [192.0.2.1]:tcp:80 UP` and
// `RS [10.0.0.1]:tcp:80 [192.0.2.1]:tcp:80 DOWN`, from the same events. The script arrives with
// its user resolved and its security checked (config/check-scripts.ts), so it runs exactly as given: its configured
// argv, fire-and-forget, but killed after NOTIFY_TIMEOUT_MS rather than left hanging.
import type { Script } from '../config/model.js';
import type { Logger } from '../log.js';
import { NOTIFY_TIMEOUT_MS, runScript } from '../exec/script.js';

/**
 * At shutdown ipwrapper.c runs these through system_call_script with child_killed_thread and TIMER_HZ: the checker
 * process waits a second for them, then SIGKILLs the script's group and exits.
 */
export const STOP_NOTIFY_TIMEOUT_MS = 1000;

export function runNotifyScript(script: Script, log: Logger, stopping = false): Promise<void> {
  const timeoutMs = stopping ? STOP_NOTIFY_TIMEOUT_MS : NOTIFY_TIMEOUT_MS;
  return runScript(script, { timeoutMs, ...(stopping ? { killGraceMs: 0 } : {}) }).then((r) => {
    if (r.timedOut) log.warn(`Script ${script.text} timed out after ${timeoutMs / 1000} s: killed`);
    else if (r.spawnError !== undefined) log.warn(`Cannot run script ${script.text}: ${r.spawnError}`);
  });
}

/** A pool's quorum or real-server event as its FIFO line; rsId is `VS/RS` (config/identity.ts). */
export function lvsFifoLine(ev: { readonly kind: 'quorum'; readonly vsId: string; readonly up: boolean } | { readonly kind: 'rs-state'; readonly vsId: string; readonly rsId: string; readonly alive: boolean }): string {
  if (ev.kind === 'quorum') return `VS ${ev.vsId} ${ev.up ? 'UP' : 'DOWN'}\n`;
  return `RS ${ev.rsId.slice(ev.vsId.length + 1)} ${ev.vsId} ${ev.alive ? 'UP' : 'DOWN'}\n`;
}
