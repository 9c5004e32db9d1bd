// What both child processes do about signals and about losing their supervisor.
import type { Logger } from '../log.js';

/**
 * TERM and INT stop the child gracefully: a service manager's stop (systemd's control-group kill) and Ctrl-C reach
 * every process, not only the supervisor. HUP and USR1/USR2 belong to the supervisor, which relays what each child
 * must do; here their default action (terminate) is only disarmed.
 */
export function childSignals(stop: () => void): void {
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  for (const s of ['SIGHUP', 'SIGUSR1', 'SIGUSR2'] as const) process.on(s, () => undefined);
}

/** A child whose supervisor is gone stops as keepalived's children do on their parent's death (PDEATHSIG SIGTERM). */
export function exitWhenOrphaned(stop: () => void, log: () => Logger): void {
  process.on('disconnect', () => {
    log().warn('supervisor gone: stopping');
    stop();
  });
}
