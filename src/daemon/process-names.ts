// The names keepalived gives its processes: process_names, process_name, vrrp_process_name and checker_process_name
// (core/global_parser.c), set with prctl(PR_SET_NAME) by lib/utils.c set_process_name — the parent in core/main.c,
// the children in vrrp_daemon.c and check_daemon.c, at start and again when a reload changes the name. Node's
// process.title sets the same comm (and the command line ps shows). Without a configured name each process keeps
// lvskeeper's own, so `pgrep -x keepalived_vrrp` finds the VRRP process exactly when it would find keepalived's.
import type { ProcessNames } from '../config/model.js';

/** The title each process has before any config names it. */
const OWN: Readonly<Record<keyof ProcessNames, string>> = {
  parent: process.title,
  vrrp: 'lvskeeper: vrrp',
  checker: 'lvskeeper: checkers',
  bfd: 'lvskeeper: bfd',
};

export function nameProcess(names: ProcessNames, role: keyof ProcessNames): void {
  const name = names[role] ?? OWN[role];
  if (process.title !== name) process.title = name;
}
