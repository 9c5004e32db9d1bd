// The root command's options as one table: bin/lvskeeper.ts gives it to commander, and readConfigTestArgs reads the
// plain `-t` / `--dump-conf` command lines from it without loading commander at all. Commander pulls in
// node:child_process (and with it node:net) when it loads, about a third of `lvskeeper -t`'s start-up over bare node.
import type { Command } from 'commander';

export interface RootOption {
  /** Commander's flags string: `-f, --use-file <FILE>` (value required), `[FILE]` (value optional), or neither (flag). */
  readonly flags: string;
  readonly description: string;
  readonly default?: string;
}

export const DEFAULT_CONFIG_FILE = '/etc/keepalived/keepalived.conf';

export const ROOT_OPTIONS: readonly RootOption[] = [
  { flags: '-f, --use-file <FILE>', description: 'configuration file', default: DEFAULT_CONFIG_FILE },
  { flags: '-t, --config-test [LOGFILE]', description: 'check the configuration and exit (messages to stderr, or appended to LOGFILE)' },
  { flags: '--dump-conf', description: 'print the resolved configuration as JSON and exit' },
  { flags: '-i, --config-id <ID>', description: 'id that @id config lines are matched against (default: short host name)' },
  { flags: '-e, --errors', description: 'treat missing configuration files as errors' },
  { flags: '--strict-compat', description: 'a keyword lvskeeper does not implement is an error: -t exits 4, the daemon does not start' },
  { flags: '-P, --vrrp', description: 'only run the VRRP subsystem' },
  { flags: '-C, --check', description: 'only run the checkers and IPVS subsystem' },
  { flags: '-B, --no_bfd', description: 'do not run the BFD subsystem' },
  { flags: '-n, --dont-fork', description: 'stay in the foreground (lvskeeper always does; accepted for keepalived compatibility)' },
  { flags: '-l, --log-console', description: 'human-readable log lines on the console' },
  { flags: '-D, --log-detail', description: 'detailed (debug) logging' },
  { flags: '-p, --pid <FILE>', description: 'pid file', default: '/run/lvskeeper.pid' },
  { flags: '-r, --vrrp_pid <FILE>', description: 'VRRP child process pid file (written only when VRRP runs)' },
  { flags: '-c, --checkers_pid <FILE>', description: 'checkers child process pid file (written only when checkers run)' },
  { flags: '-b, --bfd_pid <FILE>', description: 'BFD child process pid file (written only when BFD runs)' },
  { flags: '-s, --namespace <NAME>', description: 'run in network namespace NAME (overrides config)' },
  { flags: '-u, --umask <MASK>', description: 'umask for file creation (in numeric form; overrides the config\'s umask)' },
  { flags: '--ipvs-driver <DRIVER>', description: 'auto | kernel | userspace | dry-run', default: 'auto' },
  { flags: '--control-socket <PATH>', description: 'control socket (root-only)', default: '/run/lvskeeper/control.sock' },
  { flags: '--state-file <PATH>', description: 'where operator overrides persist', default: '/var/lib/lvskeeper/overrides.json' },
  { flags: '--metrics <[ADDR:]PORT>', description: 'serve Prometheus metrics on /metrics (address 127.0.0.1 unless given)' },
  { flags: '--http <[ADDR:]PORT>', description: 'serve the read-only operator console, a live status page (address 127.0.0.1 unless given)' },
  { flags: '--announce-table <N>', description: 'announce each healthy virtual server\'s VIP as a route in kernel routing table N, for a routing engine to redistribute into BGP' },
  { flags: '--announce-vs <LIST>', description: 'with --announce-table: only these virtual servers (comma-separated, e.g. 192.0.2.10:80); default every one given by address' },
  // 249: not a number in linux/rtnetlink.h RTPROT_* nor one FRR's zebra uses for its daemons (186-198, rt_netlink.h).
  { flags: '--announce-protocol <N>', description: 'with --announce-table: the routes\' protocol number (rtm_protocol), which marks them as lvskeeper\'s', default: '249' },
  { flags: '--withdraw-grace <SECONDS>', description: 'with --announce-table: on SIGTERM, wait this long after withdrawing the VIPs before stopping', default: '2' },
  { flags: '--bfd-takeover <LIST>', description: 'beyond keepalived: a BACKUP takes over when this bfd_instance session to its current master goes Down, without waiting for Master_Down_Interval (VRRP_INSTANCE=BFD_INSTANCE, comma-separated)' },
  { flags: '--child-timeout <SECONDS>', description: 'respawn a child process that has not answered the heartbeat for this long', default: '15' },
];

/** What commander's `program.opts()` holds after parsing the root options. */
export interface RootOpts {
  useFile: string; configTest?: string | true; dumpConf?: boolean; configId?: string; errors?: boolean; strictCompat?: boolean;
  vrrp?: boolean; check?: boolean; no_bfd?: boolean; logConsole?: boolean; logDetail?: boolean; pid: string; vrrp_pid?: string;
  checkers_pid?: string; bfd_pid?: string;
  ipvsDriver: 'auto' | 'kernel' | 'userspace' | 'dry-run'; controlSocket: string; stateFile: string; metrics?: string; http?: string; childTimeout: string;
  namespace?: string; umask?: string; announceTable?: string; announceVs?: string; announceProtocol: string; withdrawGrace: string;
  bfdTakeover?: string;
}

export function addRootOptions(program: Command): void {
  for (const o of ROOT_OPTIONS) program.option(o.flags, o.description, o.default);
}

interface Spec {
  readonly key: string;
  readonly value: 'none' | 'required' | 'optional';
}

/** Option word (`-f`, `--use-file`) → the opts key commander stores it under and whether it takes a value. */
function specs(): Map<string, Spec> {
  const out = new Map<string, Spec>();
  for (const o of ROOT_OPTIONS) {
    const m = /^(?:(-\w), )?(--[\w-]+)(?: ([<[]))?/.exec(o.flags)!;
    const spec: Spec = { key: attributeName(m[2]!), value: m[3] === '<' ? 'required' : m[3] === '[' ? 'optional' : 'none' };
    if (m[1] !== undefined) out.set(m[1], spec);
    out.set(m[2]!, spec);
  }
  return out;
}

/** Commander's attribute name for a long option: `--use-file` → `useFile` (underscores stay: `vrrp_pid`). */
function attributeName(long: string): string {
  return long.slice(2).replace(/-(\w)/g, (_, c: string) => c.toUpperCase());
}

/** Commander's test for a negative number, which it takes as an option's value although it starts with `-`. */
const NEGATIVE_NUMBER = /^-(\d+|\d*\.\d+)(e[+-]?\d+)?$/;

/**
 * The root options of a command line that runs `-t` or `--dump-conf`, as commander would give them, or undefined
 * for any other command line and for any form this reader leaves to commander: a subcommand, an operand, `--`,
 * grouped short options (`-tn`), a value joined to a short option (`-fFILE`), a required value that looks like an
 * option, help, version, an unknown option. Only separate words and `--long=value` are read here; a test checks
 * every answer against commander's own parse.
 */
export function readConfigTestArgs(args: readonly string[]): RootOpts | undefined {
  const table = specs();
  const opts: Record<string, string | boolean> = {};
  for (const o of ROOT_OPTIONS) if (o.default !== undefined) opts[attributeName(/--[\w-]+/.exec(o.flags)![0])] = o.default;
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    const eq = arg.startsWith('--') ? arg.indexOf('=') : -1;
    const spec = table.get(eq > 2 ? arg.slice(0, eq) : arg);
    if (spec === undefined) return undefined;
    if (eq > 2) {
      if (spec.value === 'none') return undefined;
      opts[spec.key] = arg.slice(eq + 1);
    } else if (spec.value === 'none') {
      opts[spec.key] = true;
    } else {
      const next = args[i + 1];
      // Commander takes the next word as an optional value unless it looks like an option (`-x`); a lone `-` is a value.
      const looksLikeOption = next !== undefined && next.length > 1 && next.startsWith('-');
      if (looksLikeOption && NEGATIVE_NUMBER.test(next)) return undefined;
      if (spec.value === 'required' && (next === undefined || looksLikeOption)) return undefined;
      if (next !== undefined && !looksLikeOption) {
        opts[spec.key] = next;
        i++;
      } else opts[spec.key] = true;
    }
  }
  return opts['configTest'] !== undefined || opts['dumpConf'] === true ? (opts as unknown as RootOpts) : undefined;
}
