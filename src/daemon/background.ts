// keepalived forks into the background unless -n. Node cannot fork, so the foreground process re-executes itself
// detached with -n added and exits once the child is running. Without syslog, a backgrounded daemon logs to a file.
import { spawn } from 'node:child_process';
import { openSync } from 'node:fs';

export const DEFAULT_BACKGROUND_LOG = '/var/log/lvskeeper.log';

export function relaunchInBackground(logFile: string): number {
  const out = openSync(logFile, 'a', 0o640);
  const child = spawn(process.execPath, [...process.execArgv, ...process.argv.slice(1), '--dont-fork'], {
    detached: true,
    stdio: ['ignore', out, out],
  });
  child.unref();
  return child.pid ?? -1;
}
