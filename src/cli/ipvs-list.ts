// `lvskeeper ipvs list [--stats|--rate]`: the IPVS table as `ipvsadm -Ln` prints it, whichever driver holds it.
// `lvskeeper ipvs list --daemon`: the kernel's sync daemons as `ipvsadm -L --daemon` prints them.
import type { Command } from 'commander';
import { formatIpvsadm, formatSyncDaemons, type IpvsadmListFormat } from '../ipvs/format-ipvsadm.js';
import type { IpvsTable, SyncDaemon } from '../ipvs/types.js';

export interface IpvsCommandDeps {
  /** Where the table comes from; the option values are passed so a source can honour --socket. */
  readonly source: (opts: { readonly socket?: string }) => Promise<IpvsTable>;
  /** Printed after the table (operator overrides); ipvsadm's own lines stay untouched. */
  readonly footer?: (opts: { readonly socket?: string }) => Promise<string>;
  /** The kernel's sync daemons (read from the kernel, as ipvsadm does: no daemon needed). */
  readonly syncDaemons: () => Promise<SyncDaemon[]>;
  readonly write?: (text: string) => void;
}

export function registerIpvsCommands(program: Command, deps: IpvsCommandDeps): Command {
  const ipvs = program.command('ipvs').description('inspect the IPVS table lvskeeper manages');
  ipvs
    .command('list')
    .description('print the table like `ipvsadm -Ln`')
    .option('--stats', 'counters (like ipvsadm -Ln --stats)')
    .option('--rate', 'rates (like ipvsadm -Ln --rate)')
    .option('--daemon', 'the connection-sync daemons (like ipvsadm -L --daemon)')
    .option('--socket <PATH>', 'control socket of the running daemon')
    .action(async (opts: { stats?: boolean; rate?: boolean; daemon?: boolean; socket?: string }) => {
      if (opts.stats && opts.rate) throw new Error('--stats and --rate are mutually exclusive');
      const write = deps.write ?? ((t: string) => process.stdout.write(t));
      if (opts.daemon) {
        write(formatSyncDaemons(await deps.syncDaemons()));
        return;
      }
      const format: IpvsadmListFormat = opts.stats ? 'stats' : opts.rate ? 'rate' : 'plain';
      const from = opts.socket !== undefined ? { socket: opts.socket } : {};
      const table = await deps.source(from);
      const footer = deps.footer ? await deps.footer(from) : '';
      write(formatIpvsadm(table, format) + footer);
    });
  return ipvs;
}
