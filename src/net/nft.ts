// Runs Debian's `nft` (package nftables): one `nft -f -` per batch, so each batch is one nf_tables transaction
// (all or nothing, as keepalived's libnftnl batches). nft rather than nf_tables netlink spoken here: the messages
// keepalived builds by hand (tables, base chains, sets with concatenated keys, set elements, rules of payload /
// lookup / bitwise / cmp / immediate expressions, inside NFNL_MSG_BATCH_BEGIN/END) would be a second nf_tables
// encoder to maintain, while nft's statements compile to the same bytecode (checked by the twin test against
// keepalived's ruleset); a batch runs only on a MASTER/BACKUP change, so a fork per batch costs nothing that
// matters, and it never runs on the advert path (the child is awaited off the event loop).
import { spawn } from 'node:child_process';
import { inPath } from '../config/script-secure.js';
import type { NftFamily } from '../vrrp/nft-rules.js';

export class Nft {
  private constructor(private readonly path: string) {}

  /** The `nft` on PATH, or undefined (the caller says what cannot run without it). */
  static find(): Nft | undefined {
    const path = inPath('nft');
    return path === undefined ? undefined : new Nft(path);
  }

  /** Runs a script as one transaction; rejects with nft's own message. */
  async apply(script: string): Promise<void> {
    await this.run(['-f', '-'], script);
  }

  /** The families in which a table `name` exists. */
  async tablesNamed(name: string): Promise<NftFamily[]> {
    const out = await this.run(['list', 'tables'], '');
    return out.split('\n').flatMap((l) => {
      const m = /^table (ip6?) (\S+)$/.exec(l.trim());
      return m && m[2] === name ? [m[1] as NftFamily] : [];
    });
  }

  private run(args: string[], input: string): Promise<string> {
    return new Promise((resolve, reject) => {
      const child = spawn(this.path, args, { stdio: ['pipe', 'pipe', 'pipe'] });
      let out = '';
      let err = '';
      child.stdout.on('data', (d: Buffer) => (out += d.toString()));
      child.stderr.on('data', (d: Buffer) => (err += d.toString()));
      child.on('error', reject);
      child.on('close', (code) => {
        if (code === 0) resolve(out);
        else reject(new Error(`nft ${args.join(' ')}: ${err.trim() || `exit ${code}`}`));
      });
      // An nft that fails early, or `list`, exits without reading all of stdin: the write's EPIPE says nothing the
      // exit status and stderr do not, and left unheard it would be the process's uncaught exception.
      child.stdin.on('error', () => {});
      child.stdin.end(input);
    });
  }
}
