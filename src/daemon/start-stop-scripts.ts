// global_defs startup_script and shutdown_script, run by the supervisor as keepalived's parent runs them
// (core/main.c: run_startup_script before start_keepalived; the shutdown script once every child has stopped, then
// exit): waited for up to *_script_timeout seconds (10 unless set), then SIGTERM, then SIGKILL 2 s later
// (handle_child_timeout), as the default script user, with keepalived's log lines. keepalived's parent has setns()ed
// into net_namespace before it runs either (core/main.c keepalived_main: set_namespaces, then run_startup_script);
// the supervisor stays outside, so the script is started in the namespace.
import type { GlobalDefs } from '../config/model.js';
import { runScript } from '../exec/script.js';
import type { Logger } from '../log.js';
import { scriptPolicy } from '../vrrp/notify.js';

const DEFAULT_TIMEOUT_S = 10;
const KILL_GRACE_MS = 2000;

/** `netns`: net_namespace's path, when there is one. */
export async function runStartStopScript(kind: 'startup' | 'shutdown', global: GlobalDefs, log: Logger, netns?: string): Promise<void> {
  const script = kind === 'startup' ? global.startupScript : global.shutdownScript;
  if (script === undefined) return;
  // Checked with the config (src/config/start-stop-scripts.ts): one keepalived would not run is gone by now.
  const policy = scriptPolicy(global);
  const timeoutS = Number(global.other[`${kind}_script_timeout`] ?? DEFAULT_TIMEOUT_S);
  // startup_shutdown_script_completed's `type` is "startup script", hence its doubled "script" below.
  const type = `${kind} script`;
  log.debug(`Running ${type} ${script.argv[0]}`);
  const r = await runScript(script, {
    timeoutMs: timeoutS * 1000,
    killGraceMs: KILL_GRACE_MS,
    ...(netns !== undefined ? { netns } : {}),
    ...(policy.defaultUser !== undefined ? { defaultUser: policy.defaultUser } : {}),
    ...(policy.defaultGroup !== undefined ? { defaultGroup: policy.defaultGroup } : {}),
  });
  if (r.spawnError !== undefined) log.info(`Call of ${type} ${script.argv[0]} failed`);
  else if (r.timedOut) log.info(`${type} timed out`);
  else if (r.code !== undefined && r.code !== 0) log.info(`${type} script failed, status ${r.code}`);
  else if (r.code === 0) log.debug(`${type} script succeeded`);
}
