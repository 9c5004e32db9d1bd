#!/usr/bin/env node
// The lvskeeper command line: keepalived's flags on the root command, lvskeeper's tools as subcommands.
// Each subsystem registers its own subcommand from src/cli/, so this file stays a table of contents.
import { Command } from 'commander';
import { fetchTableFromDaemon } from '../src/cli/daemon-client.js';
import { registerGenhashCommand } from '../src/cli/genhash.js';
import { registerIpvsCommands } from '../src/cli/ipvs-list.js';
import { overrideFooter, registerOperatorCommands } from '../src/cli/operator.js';

const program = new Command('lvskeeper')
  .description('keepalived-compatible HA daemon: health checkers, IPVS manager and VRRP')
  .version('0.1.0', '-v, --version')
  .option('-f, --use-file <FILE>', 'configuration file', '/etc/keepalived/keepalived.conf')
  .option('-t, --config-test [LOGFILE]', 'check the configuration and exit (messages to stderr, or appended to LOGFILE)')
  .option('--dump-conf', 'print the resolved configuration as JSON and exit')
  .option('-i, --config-id <ID>', 'id that @id config lines are matched against (default: short host name)')
  .option('-e, --errors', 'treat missing configuration files as errors')
  .option('-P, --vrrp', 'only run the VRRP subsystem')
  .option('-C, --check', 'only run the checkers and IPVS subsystem')
  .option('-n, --dont-fork', 'stay in the foreground (lvskeeper always does)')
  .option('-l, --log-console', 'human-readable log lines on the console')
  .option('-D, --log-detail', 'detailed (debug) logging')
  .option('-p, --pid <FILE>', 'pid file', '/run/lvskeeper.pid')
  .option('--ipvs-driver <DRIVER>', 'auto | kernel | userspace | dry-run', 'auto')
  .option('--control-socket <PATH>', 'control socket (root-only)', '/run/lvskeeper/control.sock')
  .option('--state-file <PATH>', 'where operator overrides persist', '/var/lib/lvskeeper/overrides.json')
  .action(async (opts: {
    useFile: string; configTest?: string | true; dumpConf?: boolean; configId?: string; errors?: boolean;
    vrrp?: boolean; check?: boolean; logConsole?: boolean; logDetail?: boolean; pid: string;
    ipvsDriver: 'auto' | 'kernel' | 'userspace' | 'dry-run'; controlSocket: string; stateFile: string;
  }) => {
    // Loaded lazily so `-t` pulls in the parser only, never the daemon's subsystems.
    const cli = await import('../src/cli/config-test.js');
    const common = {
      useFile: opts.useFile,
      ...(opts.configId !== undefined ? { configId: opts.configId } : {}),
      errors: opts.errors ?? false,
    };
    if (opts.dumpConf) process.exitCode = cli.runDumpConf(common);
    else if (opts.configTest !== undefined) {
      process.exitCode = cli.runConfigTest({ ...common, ...(opts.configTest !== true ? { logFile: opts.configTest } : {}) });
    } else {
      const { runDaemon } = await import('../src/cli/run-daemon.js');
      await runDaemon(
        {
          configFile: opts.useFile,
          ...(opts.configId !== undefined ? { configId: opts.configId } : {}),
          vrrpOnly: opts.vrrp ?? false,
          checkOnly: opts.check ?? false,
          pidFile: opts.pid,
          controlSocket: opts.controlSocket,
          stateFile: opts.stateFile,
          ipvsDriver: opts.ipvsDriver,
        },
        { console: opts.logConsole ?? process.stdout.isTTY, detail: opts.logDetail ?? false },
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

registerIpvsCommands(program, { source: (o) => fetchTableFromDaemon(o.socket), footer: (o) => overrideFooter(o.socket) });
// Root flags only before a subcommand: genhash reuses keepalived's -v/-t/-s letters with its own meanings.
program.enablePositionalOptions();
registerGenhashCommand(program);
registerOperatorCommands(program);

program.parseAsync(process.argv).catch((err: unknown) => {
  process.stderr.write(`lvskeeper: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
