#!/usr/bin/env node
// The lvskeeper command line: keepalived's flags on the root command, lvskeeper's tools as subcommands.
// Each subsystem registers its own subcommand from src/cli/, so this file stays a table of contents.
import { Command } from 'commander';
import { fetchTableFromDaemon } from '../src/cli/daemon-client.js';
import { registerGenhashCommand } from '../src/cli/genhash.js';
import { registerIpvsCommands } from '../src/cli/ipvs-list.js';

const program = new Command('lvskeeper')
  .description('keepalived-compatible HA daemon: health checkers, IPVS manager and VRRP')
  .version('0.1.0', '-v, --version')
  .option('-f, --use-file <FILE>', 'configuration file', '/etc/keepalived/keepalived.conf')
  .option('-t, --config-test [LOGFILE]', 'check the configuration and exit (messages to stderr, or appended to LOGFILE)')
  .option('--dump-conf', 'print the resolved configuration as JSON and exit')
  .option('-i, --config-id <ID>', 'id that @id config lines are matched against (default: short host name)')
  .option('-e, --errors', 'treat missing configuration files as errors')
  .action(async (opts: { useFile: string; configTest?: string | true; dumpConf?: boolean; configId?: string; errors?: boolean }) => {
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
    } else program.help();
  });

registerIpvsCommands(program, { source: (o) => fetchTableFromDaemon(o.socket) });
// Root flags only before a subcommand: genhash reuses keepalived's -v/-t/-s letters with its own meanings.
program.enablePositionalOptions();
registerGenhashCommand(program);

program.parseAsync(process.argv).catch((err: unknown) => {
  process.stderr.write(`lvskeeper: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
