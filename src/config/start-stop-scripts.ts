// global_defs startup_script and shutdown_script checked as keepalived's parent checks them after reading the
// config (core/main.c, check_start_stop_script_secure): each goes through check_script_secure as the user it runs as,
// and one that is missing, inhibited or not executable is dropped, never run. The notify FIFO scripts, which the
// supervisor runs too (src/daemon/notify-fifos.ts), are checked the same way (vrrp.c and check_data.c,
// check_notify_script_secure) and dropped alike; they do not count towards the start/shutdown message.
import type { Fifo, GlobalDefs, Script } from './model.js';
import { scriptRunAs, type GroupLookup, type UserLookup } from './check-scripts.js';
import { checkScriptSecure, SC_EXECUTABLE, SC_INHIBIT, SC_NOTFOUND, SC_SYSTEM } from './script-secure.js';

export function checkStartStopScripts(
  global: GlobalDefs,
  users: { readonly user: UserLookup; readonly group: GroupLookup },
): { readonly global: GlobalDefs; readonly flags: number } {
  const fifos = [global.notifyFifo, global.vrrpNotifyFifo, global.lvsNotifyFifo];
  if (global.startupScript === undefined && global.shutdownScript === undefined && fifos.every((f) => f?.script === undefined)) return { global, flags: 0 };
  const runAs = scriptRunAs(global, users);
  let flags = 0;
  const check = (s: Script | undefined, counted = true): Script | undefined => {
    if (s === undefined) return undefined;
    const as = runAs(s);
    if (!as) return undefined;
    const f = checkScriptSecure(s.argv[0] ?? '', as.uid, as.gid, global.enableScriptSecurity).flags;
    if (counted) flags |= f;
    return f & (SC_INHIBIT | SC_NOTFOUND) || !(f & (SC_EXECUTABLE | SC_SYSTEM)) ? undefined : s;
  };
  const fifo = (f: Fifo | undefined): Fifo | undefined => {
    if (f?.script === undefined) return f;
    const { script: _s, ...bare } = f;
    const script = check(f.script, false);
    return script ? { ...bare, script } : bare;
  };
  const { startupScript: _start, shutdownScript: _stop, notifyFifo: _n, vrrpNotifyFifo: _v, lvsNotifyFifo: _l, ...rest } = global;
  const startupScript = check(global.startupScript);
  const shutdownScript = check(global.shutdownScript);
  const [notifyFifo, vrrpNotifyFifo, lvsNotifyFifo] = fifos.map(fifo);
  return {
    global: {
      ...rest, ...(startupScript ? { startupScript } : {}), ...(shutdownScript ? { shutdownScript } : {}),
      ...(notifyFifo ? { notifyFifo } : {}), ...(vrrpNotifyFifo ? { vrrpNotifyFifo } : {}), ...(lvsNotifyFifo ? { lvsNotifyFifo } : {}),
    },
    flags,
  };
}
