// `lvskeeper ipvs list [--stats|--rate]`: the IPVS table as `ipvsadm -Ln` prints it, whichever driver holds it.
import type { Command } from 'commander';
import { formatIpvsadm, type IpvsadmListFormat } from '../ipvs/format-ipvsadm.js';
import type { IpvsTable } from '../ipvs/types.js';

export interface IpvsCommandDeps {
  /** Where the table comes from; the option values are passed so a source can honour --socket. */
  readonly source: (opts: { readonly socket?: string }) => Promise<IpvsTable>;
  readonly write?: (text: string) => void;
}

export function registerIpvsCommands(program: Command, deps: IpvsCommandDeps): Command {
  const ipvs = program.command('ipvs').description('inspect the IPVS table lvskeeper manages');
  ipvs
    .command('list')
    .description('print the table like `ipvsadm -Ln`')
    .option('--stats', 'counters (like ipvsadm -Ln --stats)')
    .option('--rate', 'rates (like ipvsadm -Ln --rate)')
    .option('--socket <PATH>', 'control socket of the running daemon')
    .action(async (opts: { stats?: boolean; rate?: boolean; socket?: string }) => {
      if (opts.stats && opts.rate) throw new Error('--stats and --rate are mutually exclusive');
      const format: IpvsadmListFormat = opts.stats ? 'stats' : opts.rate ? 'rate' : 'plain';
      const table = await deps.source(opts.socket !== undefined ? { socket: opts.socket } : {});
      (deps.write ?? ((t) => process.stdout.write(t)))(formatIpvsadm(table, format));
    });
  return ipvs;
}
