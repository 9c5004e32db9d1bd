// keepalived's script checks before a script may run (lib/notify.c check_script_secure, check_security,
// is_executable): found, executable by the user it runs as, and — when it runs as root — not writable by anyone but
// root along its whole path. Returns keepalived's SC_* flags and the lines it logs (log_message, not -t output).
import type { Stats } from 'node:fs';
import { basename, delimiter, dirname, join } from 'node:path';
import { strerror } from '../errno-text.js';

// Not imported: see load.ts (node:fs's module facade loads the stream modules `-t` never uses).
const { accessSync, constants, lstatSync, realpathSync, statSync } = process.getBuiltinModule('node:fs');

export const SC_ISSCRIPT = 0x01;
export const SC_INHIBIT = 0x02;
export const SC_NOTFOUND = 0x04;
export const SC_EXECUTABLE = 0x08;
export const SC_INSECURE = 0x10;
export const SC_SYSTEM = 0x20;

export interface ScriptCheck {
  readonly flags: number;
  readonly lines: readonly string[];
}

/** lib/notify.c cmd_str: each word in single quotes (a leading `<`/`>` redirection word bare), space-separated. */
export function cmdStr(argv: readonly string[]): string {
  return argv.map((a, i) => (i === 0 && (a.startsWith('<') || a.startsWith('>')) ? a : `'${a}'`)).join(' ');
}

function isExecutable(st: Stats, uid: number, gid: number): boolean {
  const m = st.mode;
  return (uid === 0 && (m & 0o111) !== 0) ||
    (uid === st.uid && (m & 0o100) !== 0) ||
    (uid !== st.uid && ((gid === st.gid && (m & 0o010) !== 0) || (gid !== st.gid && (m & 0o001) !== 0)));
}

/** check_security: every component from `/` down, unfollowed; the first unsafe one decides. */
function checkSecurity(filename: string, scriptSecurity: boolean, lines: string[]): number {
  const parts = filename.split('/');
  for (let i = 1; i <= parts.length; i++) {
    const last = i === parts.length;
    const path = last ? filename : parts.slice(0, i).join('/') || '/';
    let st: Stats;
    try {
      st = lstatSync(path);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      lines.push(code === 'EACCES' || code === 'ELOOP' || code === 'ENOENT' || code === 'ENOTDIR'
        ? `check_script_secure could not find script '${filename}' - disabling`
        : `check_script_secure('${filename}') returned errno ${code ?? '?'} - disabling`);
      return SC_NOTFOUND;
    }
    if ((!last && !st.isDirectory()) || (last && !st.isFile() && !st.isSymbolicLink())) {
      lines.push(`Wrong file type found in script path '${filename}'.`);
      return SC_INHIBIT;
    }
    const sticky = (st.mode & 0o1000) !== 0;
    const writable = (st.gid !== 0 && (st.mode & 0o020) !== 0) || (st.mode & 0o002) !== 0;
    if (st.uid !== 0 || (((st.isDirectory() && !sticky) || st.isFile()) && writable)) {
      lines.push(`Unsafe permissions found for script '${filename}'${scriptSecurity ? ' - disabling' : ''}.`);
      return SC_INSECURE | (scriptSecurity ? SC_INHIBIT : 0);
    }
  }
  return 0;
}

/** The first executable `name` on PATH, as execvp would find it. */
export function inPath(name: string): string | undefined {
  for (const dir of (process.env['PATH'] ?? '/usr/bin:/bin').split(delimiter)) {
    const p = join(dir, name);
    try {
      accessSync(p, constants.X_OK);
      if (statSync(p).isFile()) return p;
    } catch {
      // next directory
    }
  }
  return undefined;
}

/** check_script_secure for a script that runs as uid:gid. */
export function checkScriptSecure(argv0: string, uid: number, gid: number, scriptSecurity: boolean): ScriptCheck {
  const lines: string[] = [];
  // "</file": a test that a file opens, never executed.
  if (/^<[ \t]*\//.test(argv0)) return { flags: SC_SYSTEM, lines };
  let file = argv0;
  if (!file.includes('/')) {
    const found = inPath(file);
    if (found === undefined) return { flags: SC_NOTFOUND, lines: [`Cannot find script ${argv0} in path - disabling`] };
    file = found;
  }
  let real: string;
  try {
    real = realpathSync(file);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? '';
    return { flags: SC_NOTFOUND, lines: [`Script ${file} cannot be accessed - ${strerror(code)}`] };
  }
  // The script is checked (and named) by its resolved path, keeping its own file name when the link's differs and
  // both name the same file: some programs act on the name they are called by.
  let realExtra: string | undefined;
  if (real !== file) {
    const named = basename(file) === basename(real) ? real : join(dirname(real), basename(file));
    const same = named === real || sameFile(named, real);
    if (named !== real && same) realExtra = real;
    file = same ? named : real;
  }
  let st: Stats;
  try {
    st = statSync(realExtra ?? file);
  } catch {
    return { flags: SC_NOTFOUND, lines: [`Unable to access script \`${file}\` - disabling`] };
  }
  let flags = SC_ISSCRIPT;
  let protect = false;
  if (isExecutable(st, uid, gid)) {
    flags |= SC_EXECUTABLE;
    protect = uid === 0 || gid === 0 ||
      (st.uid === 0 && (st.mode & 0o100) !== 0 && (st.mode & 0o4000) !== 0) ||
      (st.gid === 0 && (st.mode & 0o010) !== 0 && (st.mode & 0o2000) !== 0);
  } else {
    lines.push(`WARNING - script '${file}' is not executable for uid:gid ${uid}:${gid} - disabling.`);
  }
  if (!protect) return { flags, lines };
  flags |= checkSecurity(file, scriptSecurity, lines);
  if (realExtra !== undefined) flags |= checkSecurity(realExtra, scriptSecurity, lines);
  return { flags, lines };
}

function sameFile(a: string, b: string): boolean {
  try {
    const x = statSync(a);
    const y = statSync(b);
    return x.dev === y.dev && x.ino === y.ino;
  } catch {
    return false;
  }
}
