// `lvskeeper genhash`: keepalived's genhash (chk/check_genhash.c). Sends the HTTP_GET checker's
// request and prints the hex MD5 of the body only; -v adds keepalived's header/body hex dumps. A connection failure
// prints `Connection failed` and exits 0, as genhash 2.2.7 does.
import type { Command } from 'commander';
import { isIP } from 'node:net';

export interface GenhashOptions {
  readonly server: string;
  readonly port: number;
  readonly url: string;
  readonly ssl: boolean;
  /** true = SNI from the virtualhost (genhash's -I flag); a string names the SNI explicitly. */
  readonly sni?: boolean | string;
  readonly vhost?: string;
  readonly protocol: '1.0' | '1.0C' | '1.1';
  readonly timeoutMs: number;
  readonly verbose: boolean;
}

const rule = (title: string): string => `-----------------------[ ${title} ]-----------------------\n`;

/** genhash's dump: decimal offset, 8 + 8 hex bytes split by `-`, then the printable characters. */
export function hexDump(buf: Uint8Array): string {
  let out = '';
  for (let off = 0; off < buf.length; off += 16) {
    const row = buf.subarray(off, off + 16);
    const hex = (part: Uint8Array): string => [...part].map((b) => `${b.toString(16).padStart(2, '0')} `).join('').padEnd(24);
    const ascii = [...row].map((b) => (b >= 0x20 && b < 0x7f ? String.fromCharCode(b) : '.')).join('').padEnd(16);
    out += `${String(off).padStart(4, '0')}  ${hex(row.subarray(0, 8))}- ${hex(row.subarray(8))}  ${ascii}\n`;
  }
  return out;
}

export async function genhash(o: GenhashOptions, write: (s: string) => void): Promise<void> {
  // Loaded on use: this module is imported by every `lvskeeper` start, and `-t` must not pay for TLS and HTTP.
  const [{ httpFetch }, { defaultHost }] = await Promise.all([import('../../checkers/http.js'), import('../../checkers/http-wire.js')]);
  const family = isIP(o.server) === 6 ? 'inet6' : 'inet';
  const host = o.vhost ?? defaultHost(o.server, o.port);
  const sni = typeof o.sni === 'string' ? o.sni : o.sni ? o.vhost : undefined;
  const started = process.hrtime.bigint();
  let r;
  try {
    r = await httpFetch(
      { connectIp: o.server, connectPort: o.port, family, connectTimeoutMs: o.timeoutMs },
      { ssl: o.ssl, host, path: o.url, protocol: o.protocol, ...(sni !== undefined ? { sni } : {}), ...(o.verbose ? { keepBody: 1 << 30 } : {}) },
      AbortSignal.timeout(o.timeoutMs * 3),
    );
  } catch {
    write('Connection failed\n');
    return;
  }
  if (o.verbose) {
    write(rule('   HTTP Header Buffer   ') + hexDump(r.headers));
    write(rule('HTTP Header Ascii Buffer') + r.headers.toString('latin1') + '\n');
    write(rule('       HTML Buffer       ') + hexDump(Buffer.from(r.body ?? '', 'latin1')) + '\n');
    write(rule('   HTML hash resulting   ') + hexDump(Buffer.from(r.digest, 'hex')));
    write(rule('HTML hash final resulting'));
  }
  write(`${r.digest}\n`);
  if (o.verbose) {
    const usecs = Number((process.hrtime.bigint() - started) / 1000n);
    write(`\nGlobal response time for [${o.url}] = ${usecs} usecs\n`);
  }
}

function parseProtocol(v: string): GenhashOptions['protocol'] {
  if (v === '1.0') return '1.0';
  if (v === '1.0c' || v === '1.0C') return '1.0C';
  if (v === '1.1') return '1.1';
  throw new Error(`invalid HTTP protocol '${v}' (1.0, 1.0c or 1.1)`);
}

export function registerGenhashCommand(program: Command): Command {
  return program
    .command('genhash')
    .description("print the MD5 of a URL's body, as keepalived's genhash does (for HTTP_GET/SSL_GET digest)")
    .requiredOption('-s, --server <ADDR>', 'server address')
    .requiredOption('-p, --port <PORT>', 'server port', (v) => Number.parseInt(v, 10))
    .requiredOption('-u, --url <URL>', 'URL path')
    .option('-S, --use-ssl', 'use SSL')
    .option('-I, --use-sni [NAME]', 'send SNI (the virtualhost unless NAME is given)')
    .option('-V, --use-virtualhost <VHOST>', 'virtualhost for the Host header')
    .option('-P, --protocol <VER>', "HTTP protocol: 1.0, 1.0c ('Connection: close') or 1.1", parseProtocol, '1.0' as const)
    .option('-t, --timeout <SECONDS>', 'timeout in seconds', (v) => Number.parseFloat(v), 5)
    .option('-v, --verbose', 'dump headers and body')
    .action(
      async (opts: {
        server: string;
        port: number;
        url: string;
        useSsl?: boolean;
        useSni?: boolean | string;
        useVirtualhost?: string;
        protocol: GenhashOptions['protocol'];
        timeout: number;
        verbose?: boolean;
      }) => {
        await genhash(
          {
            server: opts.server,
            port: opts.port,
            url: opts.url,
            ssl: opts.useSsl ?? false,
            ...(opts.useSni !== undefined ? { sni: opts.useSni } : {}),
            ...(opts.useVirtualhost !== undefined ? { vhost: opts.useVirtualhost } : {}),
            protocol: opts.protocol,
            timeoutMs: opts.timeout * 1000,
            verbose: opts.verbose ?? false,
          },
          (s) => process.stdout.write(s),
        );
      },
    );
}
