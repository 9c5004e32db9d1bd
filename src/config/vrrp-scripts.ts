// The VRRP side's scripts checked as keepalived 2.2.7 checks them once its configuration is complete
// (vrrp/vrrp.c check_vrrp_script_security, called from vrrp_complete_init, so also under -t): each vrrp_script and
// each instance's and sync group's notify script goes through check_script_secure as the user it runs as. A
// vrrp_script that is missing or inhibited is disabled with a config error (-t exit 5) and dropped from every
// track_script; one that is not executable is dropped silently; notify scripts that fail are dropped
// (check_notify_script_secure). Scripts that will run, without enable_script_security, are the SECURITY VIOLATION.
import type { Reporter } from './errors.js';
import type { GlobalDefs, Script, VrrpInstance, VrrpNotify, VrrpScript, VrrpSyncGroup } from './model.js';
import { scriptRunAs, type GroupLookup, type UserLookup } from './check-scripts.js';
import { checkScriptSecure, SC_EXECUTABLE, SC_INHIBIT, SC_INSECURE, SC_ISSCRIPT, SC_NOTFOUND, SC_SYSTEM } from './script-secure.js';

export interface VrrpScriptsResult {
  readonly vrrpScripts: VrrpScript[];
  readonly instances: VrrpInstance[];
  readonly syncGroups: VrrpSyncGroup[];
  /** The SECURITY VIOLATION line keepalived reports, if any. */
  readonly violation?: string;
}

export function resolveVrrpScripts(
  vrrpScripts: readonly VrrpScript[],
  instances: readonly VrrpInstance[],
  syncGroups: readonly VrrpSyncGroup[],
  global: GlobalDefs,
  users: { readonly user: UserLookup; readonly group: GroupLookup },
  report: Reporter,
  /** A vrrp_instance block was read, resolved or not: keepalived's list holds instances it later finds invalid. */
  anyInstance: boolean,
): VrrpScriptsResult {
  // No vrrp_instance: keepalived runs no VRRP process and checks none of these (the function returns at once).
  if (!anyInstance) return { vrrpScripts: [...vrrpScripts], instances: [...instances], syncGroups: [...syncGroups] };
  const runAs = scriptRunAs(global, users);
  let flags = 0;
  const check = (s: Script): number => {
    const as = runAs(s);
    if (!as) return 0; // no such user or group: never run, and already reported where the config is resolved
    const f = checkScriptSecure(s.argv[0] ?? '', as.uid, as.gid, global.enableScriptSecurity).flags;
    flags |= f;
    return f;
  };

  // check_track_script_secure, in declaration order (keepalived names no line; the vrrp_script's is given).
  const insecure = new Set<string>();
  for (const s of vrrpScripts) {
    const f = check(s.script);
    if (f & SC_INHIBIT) report.error(s.src, `Disabling track script ${s.name} due to insecure`, 'vrrp_script');
    else if (f & SC_NOTFOUND) report.error(s.src, `Disabling track script ${s.name} since not found/accessible`, 'vrrp_script');
    if (f & (SC_INHIBIT | SC_NOTFOUND) || !(f & (SC_EXECUTABLE | SC_SYSTEM))) insecure.add(s.name);
  }
  // check_notify_script_secure: a script that is inhibited, missing or not executable is freed.
  const notify = (n: VrrpNotify): VrrpNotify => {
    const out: Record<string, Script | true> = {};
    for (const [k, s] of Object.entries(n) as [keyof VrrpNotify, Script | true | undefined][]) {
      if (s === undefined) continue;
      if (s === true) out[k] = s;
      else {
        const f = check(s);
        if (!(f & (SC_INHIBIT | SC_NOTFOUND)) && f & SC_EXECUTABLE) out[k] = s;
      }
    }
    return out as VrrpNotify;
  };
  const outInstances = instances.map((i) => ({ ...i, notify: notify(i.notify), trackScripts: i.trackScripts.filter((t) => !insecure.has(t.name)) }));
  const outGroups = syncGroups.map((g) => ({ ...g, notify: notify(g.notify), trackScripts: g.trackScripts.filter((t) => !insecure.has(t.name)) }));
  return {
    vrrpScripts: vrrpScripts.filter((s) => !insecure.has(s.name)),
    instances: outInstances,
    syncGroups: outGroups,
    ...(!global.enableScriptSecurity && flags & SC_ISSCRIPT
      ? { violation: `SECURITY VIOLATION - scripts are being executed but script_security not enabled.${flags & SC_INSECURE ? ' There are insecure scripts.' : ''}` }
      : {}),
  };
}
