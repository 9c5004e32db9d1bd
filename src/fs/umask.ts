// The daemon's file-creation mask, as keepalived 2.2.7 keeps it: lib/utils.c umask_val, S_IXUSR | S_IRWXG | S_IRWXO
// by default, set with umask(2) at start (core/main.c), then by `-u/--umask` (main.c set_umask) or else by global_defs
// `umask` (global_parser.c umask_handler, at each read of the config). Scripts inherit it. Files given an explicit
// mode here (safe-write.ts fchmod, mkfifo -m) take createMode(mode), as keepalived's open/mkfifo under the mask.
import type { Logger } from '../log.js';

const DEFAULT_UMASK = 0o177;

/** The mask in force in this process (keepalived's umask_val). */
let mask = DEFAULT_UMASK;
let fromCommandLine = false;

/** `mode` as a file created under the mask gets it. */
export function createMode(mode: number): number {
  return mode & ~mask;
}

function apply(m: number): void {
  mask = m;
  process.umask(m);
}

/** main.c: umask(umask_val) before anything is created, -u's mask or the default; the children inherit it. */
export function applyDaemonUmask(commandLine: number | undefined): void {
  fromCommandLine = commandLine !== undefined;
  apply(commandLine ?? DEFAULT_UMASK);
}

const IGNORED = 'umask command line option specified, ignoring config option';

/** A config's mask as a child process takes it at a reload: the mask the supervisor now has, and whether -u won. */
export interface ReloadUmask {
  readonly mask: number;
  readonly ignoredConfig: boolean;
}

/**
 * global_parser.c umask_handler: a config's `umask` takes effect when read, unless -u gave one (then only its line);
 * a config without it leaves the mask as it was, a reload included. Returns what the children apply at a reload.
 */
export function applyConfigUmask(configured: number | undefined, log: Logger): ReloadUmask {
  const ignoredConfig = configured !== undefined && fromCommandLine;
  if (ignoredConfig) log.info(IGNORED);
  else if (configured !== undefined) apply(configured);
  return { mask, ignoredConfig };
}

/** A child re-reads the config at a reload in keepalived (vrrp_daemon.c reload_vrrp_thread): the same mask and line. */
export function applyReloadUmask(r: ReloadUmask, log: Logger): void {
  if (r.ignoredConfig) log.info(IGNORED);
  apply(r.mask);
}

/**
 * strtol(text, &end, 0) as umask_handler and main.c set_umask read a mask: optional blanks and sign, then decimal,
 * 0octal or 0xhex to the end of the word; undefined for anything else, a negative value or one beyond 0777.
 */
export function umaskNumber(text: string): number | undefined {
  const m = /^[ \t\n\v\f\r]*([+-]?)(?:0[xX]([0-9a-fA-F]+)|(0[0-7]*)|([1-9]\d*))$/.exec(text);
  if (!m) return undefined;
  const value = m[2] !== undefined ? parseInt(m[2], 16) : m[3] !== undefined ? parseInt(m[3], 8) : Number(m[4]);
  // Negative is refused, but -0 is 0.
  return (m[1] === '-' && value !== 0) || value > 0o777 ? undefined : value;
}
