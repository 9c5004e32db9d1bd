#!/usr/bin/env node
// The lvskeeper command line: keepalived's flags on the root command, lvskeeper's tools as subcommands.
// Each subsystem registers its own subcommand from src/cli/, so this file stays a table of contents.
import { Command } from 'commander';

const program = new Command('lvskeeper')
  .description('keepalived-compatible HA daemon: health checkers, IPVS manager and VRRP')
  .version('0.1.0', '-v, --version');

program.parseAsync(process.argv).catch((err: unknown) => {
  process.stderr.write(`lvskeeper: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
