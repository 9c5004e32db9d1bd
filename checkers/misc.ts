// MISC_CHECK: runs misc_path as an argv (never a shell line we build) with misc_timeout, SIGTERM then SIGKILL
// (check_misc.c). Exit 0 = up, 1 = down; with misc_dynamic 2..255 = up with weight status-2.
import type { MiscChecker } from '../src/config/model.js';
import { runScript } from '../src/exec/script.js';
import type { ProbeResult } from './types.js';

export async function probeMisc(c: MiscChecker): Promise<ProbeResult> {
  const r = await runScript(c.miscPath, { timeoutMs: c.miscTimeoutMs, killGraceMs: 1000 });
  if (r.timedOut) return { ok: false, detail: 'timed out' };
  if (r.spawnError !== undefined) return { ok: false, detail: `could not run (${r.spawnError})` };
  if (r.code === undefined) return { ok: false, detail: `killed by ${r.signal ?? 'signal'}` };
  const code = r.code;
  const ok = code === 0 || (c.miscDynamic && code >= 2);
  return { ok, detail: `exited with status ${code}`, exitStatus: code };
}
