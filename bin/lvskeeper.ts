#!/usr/bin/env node
// The lvskeeper command line: keepalived's flags on the root command, lvskeeper's tools as subcommands.
// Each subsystem registers its own subcommand from src/cli/, so this file stays a table of contents.
import { Command } from 'commander';
import { registerSubcommands } from '../src/cli/subcommands.js';

const program = new Command('lvskeeper')
  .description('keepalived-compatible HA daemon: health checkers, IPVS manager and VRRP')
  .version('0.1.0', '-v, --version')
  .option('-f, --use-file <FILE>', 'configuration file', '/etc/keepalived/keepalived.conf')
  .option('-t, --config-test [LOGFILE]', 'check the configuration and exit (messages to stderr, or appended to LOGFILE)')
  .option('--dump-conf', 'print the resolved configuration as JSON and exit')
  .option('-i, --config-id <ID>', 'id that @id config lines are matched against (default: short host name)')
  .option('-e, --errors', 'treat missing configuration files as errors')
  .option('--strict-compat', 'a keyword lvskeeper does not implement is an error: -t exits 4, the daemon does not start')
  .option('-P, --vrrp', 'only run the VRRP subsystem')
  .option('-C, --check', 'only run the checkers and IPVS subsystem')
  .option('-n, --dont-fork', 'stay in the foreground (lvskeeper always does; accepted for keepalived compatibility)')
  .option('-l, --log-console', 'human-readable log lines on the console')
  .option('-D, --log-detail', 'detailed (debug) logging')
  .option('-p, --pid <FILE>', 'pid file', '/run/lvskeeper.pid')
  .option('-r, --vrrp_pid <FILE>', 'VRRP child process pid file (written only when VRRP runs)')
  .option('-c, --checkers_pid <FILE>', 'checkers child process pid file (written only when checkers run)')
  .option('-s, --namespace <NAME>', 'run in network namespace NAME (overrides config)')
  .option('--ipvs-driver <DRIVER>', 'auto | kernel | userspace | dry-run', 'auto')
  .option('--control-socket <PATH>', 'control socket (root-only)', '/run/lvskeeper/control.sock')
  .option('--state-file <PATH>', 'where operator overrides persist', '/var/lib/lvskeeper/overrides.json')
  .option('--metrics <[ADDR:]PORT>', 'serve Prometheus metrics on /metrics (address 127.0.0.1 unless given)')
  .option('--child-timeout <SECONDS>', 'respawn a child process that has not answered the heartbeat for this long', '15')
  .action(async (opts: {
    useFile: string; configTest?: string | true; dumpConf?: boolean; configId?: string; errors?: boolean; strictCompat?: boolean;
    vrrp?: boolean; check?: boolean; logConsole?: boolean; logDetail?: boolean; pid: string; vrrp_pid?: string; checkers_pid?: string;
    ipvsDriver: 'auto' | 'kernel' | 'userspace' | 'dry-run'; controlSocket: string; stateFile: string; metrics?: string; childTimeout: string;
    namespace?: string;
  }) => {
    // Loaded lazily so `-t` pulls in the parser only, never the daemon's subsystems.
    const cli = await import('../src/cli/config-test.js');
    const common = {
      useFile: opts.useFile,
      ...(opts.configId !== undefined ? { configId: opts.configId } : {}),
      errors: opts.errors ?? false,
      strictCompat: opts.strictCompat ?? false,
    };
    if (opts.dumpConf) process.exitCode = cli.runDumpConf(common);
    else if (opts.configTest !== undefined) {
      process.exitCode = cli.runConfigTest({ ...common, ...(opts.configTest !== true ? { logFile: opts.configTest } : {}) });
    } else {
      const { runDaemon, parseMetricsAddress, parseSeconds } = await import('../src/cli/run-daemon.js');
      await runDaemon(
        {
          configFile: opts.useFile,
          ...(opts.configId !== undefined ? { configId: opts.configId } : {}),
          strictCompat: opts.strictCompat ?? false,
          vrrpOnly: opts.vrrp ?? false,
          checkOnly: opts.check ?? false,
          pidFile: opts.pid,
          ...(opts.vrrp_pid !== undefined ? { vrrpPidFile: opts.vrrp_pid } : {}),
          ...(opts.checkers_pid !== undefined ? { checkersPidFile: opts.checkers_pid } : {}),
          controlSocket: opts.controlSocket,
          stateFile: opts.stateFile,
          ipvsDriver: opts.ipvsDriver,
          ...(opts.metrics !== undefined ? { metrics: parseMetricsAddress(opts.metrics) } : {}),
          childTimeoutMs: parseSeconds('--child-timeout', opts.childTimeout) * 1000,
          ...(opts.namespace !== undefined ? { namespace: opts.namespace } : {}),
          defaultPaths: { pid: program.getOptionValueSource('pid') === 'default', control: program.getOptionValueSource('controlSocket') === 'default' },
          log: { console: opts.logConsole ?? process.stdout.isTTY, detail: opts.logDetail ?? false },
        },
      );
    }
  });

program
  .command('demo')
  .description('quickstart: three HTTP backends on loopback behind 127.0.0.1:8080 on the userspace data plane')
  .action(async () => {
    const { runDemo } = await import('../src/cli/run-daemon.js');
    await runDemo(new URL('../../', import.meta.url).pathname);
  });

// The other subcommands load only when the command line can name one: `-t` pays for none of them.
await registerSubcommands(program, process.argv.slice(2));

program.parseAsync(process.argv).catch((err: unknown) => {
  process.stderr.write(`lvskeeper: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
