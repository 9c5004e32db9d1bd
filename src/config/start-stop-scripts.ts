// global_defs startup_script and shutdown_script checked as keepalived's parent checks them after reading the
// config (core/main.c, check_start_stop_script_secure): each goes through check_script_secure as the user it runs as,
// and one that is missing, inhibited or not executable is dropped, never run.
import type { GlobalDefs, Script } from './model.js';
import { scriptRunAs, type GroupLookup, type UserLookup } from './check-scripts.js';
import { checkScriptSecure, SC_EXECUTABLE, SC_INHIBIT, SC_NOTFOUND, SC_SYSTEM } from './script-secure.js';

export function checkStartStopScripts(
  global: GlobalDefs,
  users: { readonly user: UserLookup; readonly group: GroupLookup },
): { readonly global: GlobalDefs; readonly flags: number } {
  if (global.startupScript === undefined && global.shutdownScript === undefined) return { global, flags: 0 };
  const runAs = scriptRunAs(global, users);
  let flags = 0;
  const check = (s: Script | undefined): Script | undefined => {
    if (s === undefined) return undefined;
    const as = runAs(s);
    if (!as) return undefined;
    const f = checkScriptSecure(s.argv[0] ?? '', as.uid, as.gid, global.enableScriptSecurity).flags;
    flags |= f;
    return f & (SC_INHIBIT | SC_NOTFOUND) || !(f & (SC_EXECUTABLE | SC_SYSTEM)) ? undefined : s;
  };
  const { startupScript: _start, shutdownScript: _stop, ...rest } = global;
  const startupScript = check(global.startupScript);
  const shutdownScript = check(global.shutdownScript);
  return {
    global: { ...rest, ...(startupScript ? { startupScript } : {}), ...(shutdownScript ? { shutdownScript } : {}) },
    flags,
  };
}
