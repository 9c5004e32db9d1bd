// lvskeeper's subcommands (operator commands, `ipvs list`, genhash), loaded only when the command line can name one
// or asks for help. Their modules reach the control socket, the IPVS formatter and node:net/node:crypto, which
// `lvskeeper -t` never uses: loading them anyway was a fifth of its start-up. Commander dispatches to a subcommand
// only when the first operand is its name, and the root command takes no operands, so leaving them out changes
// nothing else.
import type { Command } from 'commander';

/**
 * Every subcommand name, and the words that print the help listing them. A test registers the subcommands and
 * checks that each one's name is here.
 */
export const SUBCOMMAND_WORDS: ReadonlySet<string> = new Set([
  'ipvs', 'genhash', 'plan', 'drain', 'undrain', 'weight', 'drain-director', 'undrain-director', 'events', 'status', 'json-dump',
  'help', '-h', '--help',
]);

/**
 * Registers the subcommands on the root program, in the order `--help` lists them, when some argument could be a
 * subcommand's name or a request for help; sets positional options on the root either way, so root flags parse the same.
 */
export async function registerSubcommands(program: Command, args: readonly string[]): Promise<void> {
  if (!args.some((a) => SUBCOMMAND_WORDS.has(a))) {
    program.enablePositionalOptions();
    return;
  }
  const [{ fetchTableFromDaemon }, { registerGenhashCommand }, { registerIpvsCommands }, { overrideFooter, registerOperatorCommands }] =
    await Promise.all([import('./daemon-client.js'), import('./genhash.js'), import('./ipvs-list.js'), import('./operator.js')]);
  registerIpvsCommands(program, {
    source: (o) => fetchTableFromDaemon(o.socket),
    footer: (o) => overrideFooter(o.socket),
    syncDaemons: async () => {
      const driver = (await import('../ipvs/driver-netlink.js')).NetlinkIpvsDriver.open();
      try {
        return await driver.getDaemons();
      } finally {
        await driver.close();
      }
    },
  });
  // Root flags only before a subcommand: genhash reuses keepalived's -v/-t/-s letters with its own meanings.
  program.enablePositionalOptions();
  registerGenhashCommand(program);
  registerOperatorCommands(program);
}
