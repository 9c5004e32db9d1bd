// net_namespace NAME (keepalived 2.2.7 core/namespaces.c set_namespaces): the daemon's VRRP and checker work is done
// in the network namespace /var/run/netns/NAME, and its pid files and control socket get the name in their paths.
//
// keepalived setns()s its single-threaded process before forking its children. A Node process cannot do that: setns()
// moves only the calling thread, and by the time JavaScript runs, V8's and libuv's threads exist (the threadpool that
// runs getaddrinfo for DNS_CHECK and SMTP, for one, would stay behind in the old namespace). So each child is forked
// through nsenter(1), which setns()s and then execve()s node: the child's whole process, every thread it ever makes
// and every script it runs are in the namespace from its first instruction, with the pid fork() reported (nsenter
// without --fork execs in place) and its IPC channel inherited. The supervisor itself stays in the namespace it was
// started in, as keepalived's process-event socket does (process-monitor.ts): it opens no network socket there but
// the optional metrics listener. What it does in the namespace, it does through net/in-netns.ts, one call at a time:
// its IPVS socket (the sync daemon's) is made where ipvsNetnsPath says, and the scripts it runs itself
// (startup/shutdown, the notify FIFOs') are forked from inside, as keepalived's processes that run them are in it.
//
// net_namespace_ipvs NAME (core/namespaces.c nl_ipvs_connect, via set_netns_name): keepalived makes every IPVS
// socket there, the checker's and the VRRP process's (the sync daemon's), and nothing else; without a name, in the
// namespace of process 1 (open_ipvs_namespace). lvskeeper's IPVS sockets follow the same rule (ipvsNetnsPath).
import { join } from 'node:path';
import { netnsPath } from '../net/netns-path.js';

/** keepalived's open_ipvs_namespace for `net_namespace_ipvs` without a name: the init process's namespace. */
const INIT_NETNS = '/proc/1/ns/net';

/**
 * Where the IPVS sockets are made: net_namespace_ipvs's namespace when it is set (`''`: no name), else
 * net_namespace's (the supervisor is outside it), else undefined: here.
 */
export function ipvsNetnsPath(ipvsName: string | undefined, netns: string | undefined): string | undefined {
  if (ipvsName !== undefined) return ipvsName === '' ? INIT_NETNS : netnsPath(ipvsName);
  return netns === undefined ? undefined : netnsPath(netns);
}

/** fork() options that start the child inside the namespace (node with `nodeArgs`); none without one. */
export function forkInNamespace(name: string | undefined, nodeArgs: readonly string[]): { execPath?: string; execArgv?: string[] } {
  if (name === undefined) return {};
  return { execPath: 'nsenter', execArgv: [`--net=${netnsPath(name)}`, '--', process.execPath, ...nodeArgs] };
}

/**
 * keepalived with a namespace keeps its pid files in RUNSTATEDIR/keepalived/NAME/ (set_run_mount binds that
 * directory over /run/keepalived/ in a mount namespace of its own): lvskeeper's default paths move the same way.
 */
export function namespacedDefault(path: string, name: string | undefined, dir = '/run/lvskeeper'): string {
  if (name === undefined) return path;
  return join(dir, name, path.split('/').at(-1)!);
}
