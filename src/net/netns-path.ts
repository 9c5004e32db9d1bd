// Where a named network namespace lives, and whether it can be entered: read by `-t` (which must stay free of the
// daemon's modules) and by the supervisor before it forks its children into the namespace.
import { join } from 'node:path';

// Not imported: `-t` reaches this file, and node:fs's module facade loads the stream modules (config/load.ts).
const { existsSync } = process.getBuiltinModule('node:fs');

/** keepalived's netns_dir: RUNSTATEDIR "/netns/", where `ip netns add` binds a namespace. */
export const NETNS_DIR = '/var/run/netns';

export function netnsPath(name: string): string {
  return join(NETNS_DIR, name);
}

/** Why the namespace cannot be entered (keepalived: "Failed to open /var/run/netns/NAME"), or undefined. */
export function netnsProblem(name: string): string | undefined {
  return existsSync(netnsPath(name)) ? undefined : `Failed to open ${netnsPath(name)}`;
}
