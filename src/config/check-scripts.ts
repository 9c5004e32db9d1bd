// The checker side's scripts (quorum_up/down, notify_up/down, MISC_CHECK misc_path) resolved as keepalived 2.2.7
// resolves them before the checker process starts: each gets the user it runs as (its own `user`, else script_user,
// else keepalived_script when that user exists, else root: lib/notify.c notify_script_init, get_default_script_user),
// then check_check_script_security (check_data.c) and check_misc_script_security (check_misc.c) disable those
// that are missing, not executable by that user, or — run as root under enable_script_security — unsafe.
// keepalived logs what it disables when its checker process starts, not in -t's output: so the lines go with each
// virtual server (scriptLog) for the IPVS manager to log at start.
import type { Checker, GlobalDefs, RealServer, Script, VirtualServer } from './model.js';
import { checkScriptSecure, cmdStr, SC_EXECUTABLE, SC_INHIBIT, SC_INSECURE, SC_ISSCRIPT, SC_NOTFOUND, SC_SYSTEM } from './script-secure.js';

export const DEFAULT_SCRIPT_USER = 'keepalived_script';

/** A user's uid and primary gid, or undefined when it does not exist. */
export type UserLookup = (user: string) => { readonly uid: number; readonly gid: number } | undefined;
/** A group's gid. */
export type GroupLookup = (group: string) => number | undefined;

export interface CheckScriptsResult {
  readonly virtualServers: VirtualServer[];
  /** SC_ISSCRIPT seen: scripts will run (keepalived's SECURITY VIOLATION test). */
  readonly scripts: boolean;
  /** SC_INSECURE seen: ` There are insecure scripts.` */
  readonly insecure: boolean;
}

export interface RunAs {
  readonly user?: string;
  readonly group?: string;
  readonly uid: number;
  readonly gid: number;
}

/** Resolves every check script's user and disables the ones keepalived would not run, with keepalived's lines. */
export function resolveCheckScripts(
  virtualServers: readonly VirtualServer[],
  global: GlobalDefs,
  users: { readonly user: UserLookup; readonly group: GroupLookup },
): CheckScriptsResult {
  let scripts = false;
  let insecure = false;
  const self = { uid: process.getuid?.() ?? 0, gid: process.getgid?.() ?? 0 };
  const runAs = scriptRunAs(global, users);
  /** The script with its user, and keepalived's verdict (its lines added to `log`); undefined = disabled. */
  const secure = (s: Script, log: string[], type: 'notify' | 'quorum' | 'misc'): Script | undefined => {
    const info = (line: string): void => void log.push(line);
    const as = runAs(s);
    if (!as) {
      if (type !== 'misc') {
        info(s.user !== undefined
          ? `Invalid user/group for ${type} script ${s.argv[0] ?? ''} - ignoring`
          : `Failed to set default user for ${type} script ${s.argv[0] ?? ''} - ignoring`);
      }
      return undefined;
    }
    const check = checkScriptSecure(s.argv[0] ?? '', as.uid, as.gid, global.enableScriptSecurity);
    for (const l of check.lines) info(l);
    if (check.flags & SC_ISSCRIPT) scripts = true;
    if (check.flags & SC_INSECURE) insecure = true;
    if (type === 'misc') {
      if (check.flags & SC_INHIBIT) info(`Disabling misc script ${cmdStr(s.argv)} due to insecure`);
      else if (check.flags & SC_NOTFOUND) info(`Disabling misc script ${cmdStr(s.argv)} since not found/accessible`);
      else if (check.flags & (SC_EXECUTABLE | SC_SYSTEM)) return withUser(s, as, self);
      return undefined;
    }
    if (check.flags & (SC_INHIBIT | SC_NOTFOUND) || !(check.flags & SC_EXECUTABLE)) return undefined;
    return withUser(s, as, self);
  };

  // check_misc_script_security first (the checkers queue), then each virtual server's and real server's notifies.
  const miscKept = new Map<Checker, Checker | undefined>();
  const logs = new Map<VirtualServer, string[]>();
  const logOf = (vs: VirtualServer): string[] => logs.get(vs) ?? logs.set(vs, []).get(vs)!;
  for (const vs of virtualServers) {
    // Indexed: this runs once per real server and checker, mostly before V8 has optimised it.
    for (let i = 0; i < vs.realServers.length; i++) {
      const checkers = vs.realServers[i]!.checkers;
      for (let j = 0; j < checkers.length; j++) {
        const c = checkers[j]!;
        if (c.type !== 'MISC_CHECK') continue;
        const s = secure(c.miscPath, logOf(vs), 'misc');
        miscKept.set(c, s && { ...c, miscPath: s });
      }
    }
  }
  // Most servers have no scripts: they are kept as they are (10,000-server configs are resolved in one pass).
  const hasScripts = (rs: RealServer): boolean => rs.notifyUp !== undefined || rs.notifyDown !== undefined || rs.checkers.some((c) => miscKept.has(c));
  const out = virtualServers.map((vs): VirtualServer => {
    if (!vs.quorumUp && !vs.quorumDown && !vs.realServers.some(hasScripts)) return vs;
    const log = logOf(vs);
    const quorumUp = vs.quorumUp && secure(vs.quorumUp, log, 'quorum');
    const quorumDown = vs.quorumDown && secure(vs.quorumDown, log, 'quorum');
    const realServers = vs.realServers.map((rs): RealServer => {
      if (!hasScripts(rs)) return rs;
      const notifyUp = rs.notifyUp && secure(rs.notifyUp, log, 'notify');
      const notifyDown = rs.notifyDown && secure(rs.notifyDown, log, 'notify');
      const checkers = rs.checkers.some((c) => miscKept.has(c))
        ? rs.checkers.flatMap((c) => (miscKept.has(c) ? (miscKept.get(c) ?? []) : [c]))
        : rs.checkers;
      return { ...rs, notifyUp, notifyDown, checkers };
    });
    const { quorumUp: _u, quorumDown: _d, ...rest } = vs;
    return { ...rest, ...(quorumUp ? { quorumUp } : {}), ...(quorumDown ? { quorumDown } : {}), realServers, ...(log.length ? { scriptLog: log } : {}) };
  });
  return { virtualServers: out, scripts, insecure };
}

/** The script pinned to the user it runs as; running as ourselves needs no switch. */
function withUser(s: Script, as: RunAs, self: { uid: number; gid: number }): Script {
  if (as.uid === self.uid && as.gid === self.gid) return { argv: s.argv, text: s.text };
  return { argv: s.argv, text: s.text, ...(as.user !== undefined ? { user: as.user } : {}), ...(as.group !== undefined ? { group: as.group } : {}) };
}

/**
 * Who a script runs as (lib/notify.c notify_script_init, get_default_script_user): its own user, else script_user,
 * else keepalived_script if it exists, else ourselves. undefined: a user or group that does not exist, or — under
 * enable_script_security — no default user (reported where the configuration is resolved, resolve.ts).
 */
export function scriptRunAs(
  global: GlobalDefs, users: { readonly user: UserLookup; readonly group: GroupLookup },
): (s: Script) => RunAs | undefined {
  const self = { uid: process.getuid?.() ?? 0, gid: process.getgid?.() ?? 0 };
  const defaultUser = ((): RunAs | undefined => {
    const name = global.scriptUser ?? DEFAULT_SCRIPT_USER;
    const u = users.user(name);
    if (!u) return global.scriptUser === undefined && !global.enableScriptSecurity ? self : undefined;
    const gid = global.scriptGroup !== undefined ? users.group(global.scriptGroup) : u.gid;
    if (gid === undefined) return undefined;
    return { user: name, ...(global.scriptGroup !== undefined ? { group: global.scriptGroup } : {}), uid: u.uid, gid };
  })();
  return (s) => {
    if (s.user === undefined) return defaultUser;
    const u = users.user(s.user);
    const gid = s.group !== undefined ? users.group(s.group) : u?.gid;
    return u && gid !== undefined ? { user: s.user, ...(s.group !== undefined ? { group: s.group } : {}), uid: u.uid, gid } : undefined;
  };
}
