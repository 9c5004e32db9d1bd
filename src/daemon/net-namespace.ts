// net_namespace NAME (keepalived 2.2.7 core/namespaces.c set_namespaces): the daemon's VRRP and checker work is done
// in the network namespace /var/run/netns/NAME, and its pid files and control socket get the name in their paths.
//
// keepalived setns()s its single-threaded process before forking its children. A Node process cannot do that: setns()
// moves only the calling thread, and by the time JavaScript runs, V8's and libuv's threads exist (the threadpool that
// runs getaddrinfo for DNS_CHECK and SMTP, for one, would stay behind in the old namespace). So each child is forked
// through nsenter(1), which setns()s and then execve()s node: the child's whole process, every thread it ever makes
// and every script it runs are in the namespace from its first instruction, with the pid fork() reported (nsenter
// without --fork execs in place) and its IPC channel inherited. The supervisor itself stays in the namespace it was
// started in, as keepalived's process-event socket does (process-monitor.ts): it opens no network socket of its own
// but the optional metrics listener. Scripts the supervisor runs itself (startup/shutdown) are not moved.
import { join } from 'node:path';
import { netnsPath } from '../net/netns-path.js';

/** fork() options that start the child inside the namespace; none without one. */
export function forkInNamespace(name: string | undefined): { execPath?: string; execArgv?: string[] } {
  if (name === undefined) return {};
  return { execPath: 'nsenter', execArgv: [`--net=${netnsPath(name)}`, '--', process.execPath, ...process.execArgv] };
}

/**
 * keepalived with a namespace keeps its pid files in RUNSTATEDIR/keepalived/NAME/ (set_run_mount binds that
 * directory over /run/keepalived/ in a mount namespace of its own): lvskeeper's default paths move the same way.
 */
export function namespacedDefault(path: string, name: string | undefined, dir = '/run/lvskeeper'): string {
  if (name === undefined) return path;
  return join(dir, name, path.split('/').at(-1)!);
}
