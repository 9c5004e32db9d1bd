// Runs the daemon with keepalived's signal semantics; `demo` wraps it with quickstart backends.
// lvskeeper always stays in the foreground (as keepalived with -n): Node cannot fork, a re-executed detached copy
// would race its parent for the pid file, and service managers (contrib/lvskeeper.service) supervise it anyway.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AnnounceSettings } from '../daemon/announce-owner.js';
import { Supervisor, type DaemonOptions } from '../daemon/supervisor.js';
import { applyDaemonUmask } from '../fs/umask.js';
import { createLogger } from '../log.js';

export async function runDaemon(opts: DaemonOptions, onStop?: () => void): Promise<void> {
  applyDaemonUmask(opts.umask);
  const log = createLogger(opts.log);
  const daemon = new Supervisor(opts, log);
  // Handlers first: a signal that arrives while the children start must not take the default action (HUP, USR1
  // and USR2 terminate). A reload asked for then runs once the start is over; dumps wait for none.
  let started = false;
  let reloadAsked = false;
  let stopping = false;
  const reload = (): void => void daemon.reload().catch((err: Error) => log.error(`reload failed: ${err.message}`));
  const stop = (): void => {
    stopping = true;
    void daemon.stop().then(() => {
      onStop?.();
      process.exit(0);
    });
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  process.on('SIGHUP', () => {
    if (started) reload();
    else reloadAsked = true;
  });
  const dump = (kind: 'data' | 'stats'): void => {
    if (started) daemon.writeDump(kind).catch((err: Error) => log.error(`cannot write ${kind} dump: ${err.message}`));
  };
  process.on('SIGUSR1', () => dump('data'));
  process.on('SIGUSR2', () => dump('stats'));
  let code: number | undefined;
  try {
    code = await daemon.start();
  } catch (err) {
    log.error(`cannot start: ${(err as Error).message}`);
    code = 1;
  }
  if (stopping) return;
  if (code !== undefined) {
    await daemon.stop();
    onStop?.();
    process.exit(code);
  }
  started = true;
  if (reloadAsked) reload();
}

/** `--metrics [ADDR:]PORT`, `--http [ADDR:]PORT`: loopback unless an address is given (`[::1]:9650` for IPv6). */
export function parseListenAddress(flag: string, text: string): { host: string; port: number } {
  const m = /^(?:\[([^\]]+)\]:|([^:]+):)?(\d+)$/.exec(text);
  const port = Number(m?.[3]);
  if (!m || !Number.isInteger(port) || port < 1 || port > 65535) throw new Error(`${flag}: expected [ADDR:]PORT, got '${text}'`);
  return { host: m[1] ?? m[2] ?? '127.0.0.1', port };
}

export function parseSeconds(flag: string, text: string): number {
  const n = Number(text);
  if (!Number.isFinite(n) || n <= 0) throw new Error(`${flag}: expected a positive number of seconds, got '${text}'`);
  return n;
}

/** `--announce-table N` and its companions; undefined without it. */
export function parseAnnounce(o: { announceTable?: string; announceVs?: string; announceProtocol: string; withdrawGrace: string }): AnnounceSettings | undefined {
  if (o.announceTable === undefined) {
    if (o.announceVs !== undefined) throw new Error('--announce-vs: needs --announce-table');
    return undefined;
  }
  const table = /^\d{1,10}$/.test(o.announceTable) ? Number(o.announceTable) : NaN;
  // 0 is RT_TABLE_UNSPEC; 253-255 are the kernel's default, main and local tables (linux/rtnetlink.h rt_class_t).
  if (!(table >= 1 && table <= 0xffffffff) || (table >= 253 && table <= 255)) {
    throw new Error(`--announce-table: expected a table number 1..4294967295 other than 253, 254, 255, got '${o.announceTable}'`);
  }
  const protocol = /^\d{1,3}$/.test(o.announceProtocol) ? Number(o.announceProtocol) : NaN;
  // Below RTPROT_STATIC the kernel interprets the number (linux/rtnetlink.h).
  if (!(protocol > 4 && protocol <= 255)) throw new Error(`--announce-protocol: expected 5..255, got '${o.announceProtocol}'`);
  const grace = Number(o.withdrawGrace);
  if (!/^\d+(\.\d+)?$/.test(o.withdrawGrace) || !Number.isFinite(grace)) throw new Error(`--withdraw-grace: expected a number of seconds, got '${o.withdrawGrace}'`);
  const only = o.announceVs?.split(',').map((v) => v.trim()).filter((v) => v !== '');
  return { table, protocol, withdrawGraceMs: grace * 1000, ...(only !== undefined ? { only } : {}) };
}

/** The quickstart: three HTTP backends on 127.0.0.1:8081-8083, the daemon on config/quickstart.conf. */
export async function runDemo(repoRoot: string): Promise<void> {
  const backends: ChildProcess[] = [];
  for (const [i, port] of [8081, 8082, 8083].entries()) {
    const child = spawn(process.execPath, [join(repoRoot, 'dist/src/daemon/demo-backend.js'), String(port), `web${i + 1}`], { stdio: 'inherit' });
    backends.push(child);
    process.stdout.write(`backend web${i + 1} on 127.0.0.1:${port} (pid ${child.pid}; stop it with: kill ${child.pid})\n`);
  }
  const socketDir = mkdtempSync(join(tmpdir(), 'lvskeeper-demo-'));
  const controlSocket = join(socketDir, 'control.sock');
  process.stdout.write(`virtual server on 127.0.0.1:8080 — try: curl http://127.0.0.1:8080/\n`);
  process.stdout.write(`table: npx lvskeeper ipvs list --socket ${controlSocket}\n`);
  await runDaemon(
    { configFile: join(repoRoot, 'config/quickstart.conf'), ipvsDriver: 'userspace', controlSocket, log: { console: true, detail: false } },
    () => {
      backends.forEach((b) => b.kill('SIGTERM'));
      rmSync(socketDir, { recursive: true, force: true });
    },
  );
}
