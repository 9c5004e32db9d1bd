// A synchronous call made from inside another network namespace (the lvsk_netns addon), as keepalived's
// core/namespaces.c set_netns_name / restore_net_namespace bracket its IPVS socket: what the call opens (a socket)
// or forks (a script) belongs to that namespace; the process and its other threads stay where they are.
import { loadAddon } from '../native/addon.js';

interface NetnsBinding {
  inNetns<T>(path: string, fn: () => T): T;
}

/** fn() with this thread in the namespace at `path` (a netns bind mount or /proc/PID/ns/net); here when undefined. */
export function inNetns<T>(path: string | undefined, fn: () => T): T {
  if (path === undefined) return fn();
  return (loadAddon('lvsk_netns') as NetnsBinding).inNetns(path, fn);
}
