// MISC_CHECK: runs misc_path as an argv (never a shell line we build) with misc_timeout, SIGTERM then SIGKILL
// (check_misc.c). Exit 0 = up, 1 = down; with misc_dynamic 2..255 = up with weight status-2. The script runs in its
// own process group, killed when the script exits, so a background child it leaves cannot pile up check after check;
// the engine's abort (hard timeout, stop) kills the group at once.
import type { MiscChecker } from '../src/config/model.js';
import { runScript } from '../src/exec/script.js';
import { notRunReason } from './policy.js';
import type { ProbeResult } from './types.js';

export async function probeMisc(c: MiscChecker, signal: AbortSignal): Promise<ProbeResult> {
  // The script carries its user, resolved when the config was read (script_user, enable_script_security).
  const r = await runScript(c.miscPath, { timeoutMs: c.miscTimeoutMs, killGraceMs: 1000, killGroupOnExit: true, signal });
  if (r.aborted) return { ok: false, detail: 'aborted' };
  if (r.timedOut) return { ok: false, detail: 'timed out' };
  if (r.spawnError !== undefined) {
    const notRun = notRunReason(r.spawnError);
    return { ok: false, detail: `could not run (${r.spawnError})`, ...(notRun !== undefined ? { notRun } : {}) };
  }
  if (r.code === undefined) return { ok: false, detail: `killed by ${r.signal ?? 'signal'}` };
  const code = r.code;
  const ok = code === 0 || (c.miscDynamic && code >= 2);
  return { ok, detail: `exited with status ${code}`, exitStatus: code };
}
