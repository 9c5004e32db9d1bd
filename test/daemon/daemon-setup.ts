// A daemon under test: its own temp dir (pid file, control socket, state file, config), started through the built
// CLI in the foreground with console logs; removed when the test ends.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { Backend, cli, Running, until } from './drain-harness.js';

export class DaemonUnderTest {
  readonly dir: string;
  readonly conf: string;
  daemon: Running | undefined;

  constructor(t: TestContext, config: string) {
    this.dir = mkdtempSync(join(tmpdir(), 'lvskd-'));
    this.conf = join(this.dir, 'keepalived.conf');
    writeFileSync(this.conf, config);
    t.after(async () => {
      await this.daemon?.stop('SIGKILL');
      rmSync(this.dir, { recursive: true, force: true });
    });
  }

  args(extra: readonly string[] = []): string[] {
    const d = this.dir;
    return ['-n', '-l', '--ipvs-driver', 'userspace', '--pid', join(d, 'pid'), '--control-socket', join(d, 'control.sock'),
      '--state-file', join(d, 'state.json'), ...extra, '-f', this.conf];
  }

  start(extra: readonly string[] = [], prefix: readonly string[] = []): Running {
    this.daemon = new Running(this.args(extra), prefix);
    return this.daemon;
  }

  rewrite(config: string): void {
    writeFileSync(this.conf, config);
  }

  get pid(): number {
    return this.daemon!.child.pid!;
  }

  signal(sig: NodeJS.Signals): void {
    process.kill(this.pid, sig);
  }
}

/** A loopback real_server with an HTTP_GET /health checker; `extra` goes inside the block after the checker. */
export function httpRealServer(port: number, weight: number, opts: { retry?: number; extra?: string } = {}): string {
  return `    real_server 127.0.0.1 ${port} {
        weight ${weight}
        HTTP_GET {
            url {
                path /health
                status_code 200
            }
            connect_timeout 1
            retry ${opts.retry ?? 1}
            delay_before_retry 1
        }
${opts.extra ?? ''}    }`;
}

/** One virtual server on 127.0.0.1:`vsPort` with HTTP_GET /health real servers `rs` ([port, weight]) at delay_loop 1. */
export function httpConfig(vsPort: number, rs: readonly (readonly [number, number])[], extra = ''): string {
  const servers = rs.map(([port, weight]) => httpRealServer(port, weight)).join('\n');
  return `global_defs {
    router_id lvskd-test
}
virtual_server 127.0.0.1 ${vsPort} {
    delay_loop 1
    lb_algo rr
    lb_kind NAT
    protocol TCP
${extra}
${servers}
}
`;
}

/**
 * `rs` real servers (TCP_CHECK every 5 s, to a port nothing listens on, inhibited when down so that every one stays
 * in the table) in 30 virtual servers on 127.0.0.1 from `basePort`: a daemon with output in the megabytes.
 */
export function largeTcpConfig(routerId: string, basePort: number, rs: number): string {
  const out = ['global_defs {', `  router_id ${routerId}`, '}'];
  for (let v = 0; v < 30; v++) {
    out.push(`virtual_server 127.0.0.1 ${basePort + v} {`, '  delay_loop 5', '  lb_algo rr', '  lb_kind NAT', '  protocol TCP');
    for (let i = 0; i < rs / 30; i++) out.push(`  real_server 127.1.${v}.${i + 1} 9 {`, '    weight 1', '    inhibit_on_failure', '    TCP_CHECK {', '      connect_timeout 1', '    }', '  }');
    out.push('}');
  }
  return out.join('\n') + '\n';
}

/** HTTP backends `web1`, `web2` … on `ports`, started now and stopped when the test ends. */
export async function startBackends(t: TestContext, ports: readonly number[]): Promise<Backend[]> {
  const backends = ports.map((port, i) => new Backend(`web${i + 1}`, port));
  t.after(async () => {
    for (const b of backends) await b.stop();
  });
  for (const b of backends) await b.start();
  return backends;
}

/** Waits until the daemon at `socket` has `count` real servers, every one alive. */
export async function untilAllAlive(socket: string, count: number): Promise<void> {
  await until(`${count} real servers alive`, 30_000, async () => {
    const r = await cli(['status', '--json', '--socket', socket]);
    if (r.code !== 0) return undefined;
    const s = JSON.parse(r.stdout) as { ipvs?: { virtualServers: { realServers: { alive: boolean }[] }[] } };
    const rss = (s.ipvs?.virtualServers ?? []).flatMap((vs) => vs.realServers);
    return rss.length === count && rss.every((x) => x.alive) ? true : undefined;
  });
}
