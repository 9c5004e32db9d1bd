// Real parts for the drain tests: HTTP backends that can be stopped and restarted on their port, a steady client
// through the virtual server, the daemon and the CLI as child processes of the built `dist/bin/lvskeeper.js`.
import { spawn, type ChildProcess } from 'node:child_process';
import { request, createServer, type Server } from 'node:http';
import type { Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import { repoRoot } from '../support/tier.js';

export const CLI = `${repoRoot}dist/bin/lvskeeper.js`;

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Polls `fn` every 50 ms until it returns a value other than undefined; throws `what` after `limitMs`. */
export async function until<T>(what: string, limitMs: number, fn: () => T | undefined | Promise<T | undefined>): Promise<T> {
  const end = performance.now() + limitMs;
  for (;;) {
    const v = await fn();
    if (v !== undefined) return v;
    if (performance.now() > end) throw new Error(`timed out after ${limitMs} ms waiting for ${what}`);
    await sleep(50);
  }
}

/** An HTTP backend answering `name` on `/`, and the checker on `/health`. */
export class Backend {
  private server: Server | undefined;
  private readonly sockets = new Set<Socket>();
  healthChecks = 0;

  constructor(
    readonly name: string,
    readonly port: number,
  ) {}

  async start(): Promise<void> {
    const server = createServer((req, res) => {
      if (req.url === '/health') this.healthChecks++;
      res.setHeader('connection', 'close');
      res.end(this.name);
    });
    server.on('connection', (s: Socket) => {
      this.sockets.add(s);
      s.on('close', () => this.sockets.delete(s));
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.port, '127.0.0.1', () => resolve());
    });
    this.server = server;
  }

  async stop(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (!server) return;
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}

export interface Answer {
  /** performance.now() just before the client connected. */
  readonly startedAt: number;
  /** The backend's name, or undefined when the request failed. */
  readonly backend?: string;
  readonly error?: string;
}

/** One request at a time through the virtual server, a new connection each (IPVS balances connections). */
export class SteadyClient {
  readonly answers: Answer[] = [];
  private running = false;
  private loop: Promise<void> | undefined;

  constructor(private readonly port: number) {}

  start(): void {
    if (this.running) return;
    this.running = true;
    this.loop = (async () => {
      while (this.running) {
        this.answers.push(await this.once());
        await sleep(10);
      }
    })();
  }

  async pause(): Promise<void> {
    this.running = false;
    await this.loop;
  }

  private once(): Promise<Answer> {
    const startedAt = performance.now();
    return new Promise((resolve) => {
      const req = request({ host: '127.0.0.1', port: this.port, path: '/', agent: false, headers: { connection: 'close' }, timeout: 3000 }, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (body += c));
        res.on('end', () => resolve({ startedAt, backend: body }));
        res.on('error', (e) => resolve({ startedAt, error: e.message }));
      });
      req.on('timeout', () => req.destroy(new Error('timeout')));
      req.on('error', (e) => resolve({ startedAt, error: e.message }));
      req.end();
    });
  }

  since(t: number): Answer[] {
    return this.answers.filter((a) => a.startedAt >= t);
  }

  failures(): Answer[] {
    return this.answers.filter((a) => a.error !== undefined);
  }
}

export interface CliResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
  /** performance.now() when the process was seen to exit. */
  readonly exitedAt: number;
}

/** Runs the built CLI once (killed after 15 s); `prefix` runs it through another command (setpriv …). */
export function cli(args: readonly string[], prefix: readonly string[] = []): Promise<CliResult> {
  const argv = [...prefix, process.execPath, CLI, ...args];
  const child = spawn(argv[0]!, argv.slice(1), { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr, exitedAt: performance.now() });
    });
  });
}

/** A long-running child (daemon, `events`) whose output lines are collected as they come. */
export class Running {
  readonly child: ChildProcess;
  readonly lines: string[] = [];
  stderr = '';
  readonly exited: Promise<number | null>;

  /** `prefix` runs it through another command (`ip netns exec NS`). */
  constructor(args: readonly string[], prefix: readonly string[] = []) {
    const argv = [...prefix, process.execPath, CLI, ...args];
    this.child = spawn(argv[0]!, argv.slice(1), { stdio: ['ignore', 'pipe', 'pipe'] });
    let buf = '';
    this.child.stdout!.on('data', (c: Buffer) => {
      buf += c.toString();
      const parts = buf.split('\n');
      buf = parts.pop()!;
      this.lines.push(...parts);
    });
    this.child.stderr!.on('data', (c: Buffer) => (this.stderr += c.toString()));
    this.exited = new Promise((resolve) => this.child.on('exit', (code) => resolve(code)));
  }

  /** Waits for a line matching `re` at or after line `from`; returns its index. */
  waitFor(re: RegExp, limitMs = 10_000, from = 0): Promise<number> {
    return until(`a line matching ${re}`, limitMs, () => {
      const i = this.lines.findIndex((l, idx) => idx >= from && re.test(l));
      return i >= 0 ? i : undefined;
    });
  }

  async stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<number | null> {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill(signal);
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 10_000);
    const code = await this.exited;
    clearTimeout(timer);
    return code;
  }
}
