// Userspace IPVS data plane vs HAProxy (TCP mode), same loopback backends, same run.
// Backends: one node HTTP server process answering on 127.0.0.11-13 (1 KiB keep-alive responses).
// Userspace plane: UserspaceIpvsDriver in its own process, VIP 127.0.0.10, rr. HAProxy: 127.0.0.20, roundrobin,
// one thread (the userspace plane is one event loop). Load: wrk, 256 keep-alive connections.
// Needs: apt-get install -y haproxy wrk.   Run: npm run bench:dataplane [-- SECONDS]
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:http';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { UserspaceIpvsDriver } from '../src/ipvs/driver-userspace.js';
import { silentLogger } from '../src/log.js';

const BACKENDS = ['127.0.0.11', '127.0.0.12', '127.0.0.13'];
const VIP = '127.0.0.10';
const HAPROXY_VIP = '127.0.0.20';
const PORT = 18580;
const self = fileURLToPath(import.meta.url);

async function runBackends(): Promise<void> {
  const body = Buffer.alloc(1024, 'x');
  for (const host of BACKENDS) {
    const server = createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/plain', 'content-length': body.length });
      res.end(body);
    });
    server.keepAliveTimeout = 60_000;
    await new Promise<void>((r) => server.listen(PORT, host, r));
  }
  process.send?.('ready');
}

async function runPlane(): Promise<void> {
  const driver = new UserspaceIpvsDriver(silentLogger());
  const key = { family: 'inet', protocol: 'tcp', address: VIP, port: PORT } as const;
  await driver.apply({ kind: 'addService', service: { key, scheduler: 'rr', flags: {}, persistenceTimeoutS: 0, persistenceNetmask: 0xffffffff } });
  for (const address of BACKENDS) {
    await driver.apply({ kind: 'addDest', key, dest: { family: 'inet', address, port: PORT, forward: 'NAT', weight: 1, upperThreshold: 0, lowerThreshold: 0 } });
  }
  process.send?.('ready');
}

function child(mode: string): Promise<ChildProcess> {
  const c = spawn(process.execPath, [self, mode], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  return new Promise((resolve, reject) => {
    c.once('message', () => resolve(c));
    c.once('exit', (code) => reject(new Error(`${mode} exited with ${code}`)));
  });
}

interface Result {
  readonly reqPerS: number;
  readonly mbPerS: number;
}

function wrk(host: string, seconds: number): Result {
  const r = spawnSync('wrk', ['-t2', '-c256', `-d${seconds}s`, `http://${host}:${PORT}/`], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`wrk failed: ${r.stderr}`);
  const reqs = /Requests\/sec:\s+([\d.]+)/.exec(r.stdout);
  const xfer = /Transfer\/sec:\s+([\d.]+)(KB|MB|GB)/.exec(r.stdout);
  const errors = /Socket errors:.*|Non-2xx.*/.exec(r.stdout);
  if (errors) process.stdout.write(`  wrk (${host}): ${errors[0]}\n`);
  if (!reqs || !xfer) throw new Error(`cannot read wrk output:\n${r.stdout}`);
  const scale = xfer[2] === 'KB' ? 1 / 1024 : xfer[2] === 'GB' ? 1024 : 1;
  return { reqPerS: Number(reqs[1]), mbPerS: Number(xfer[1]) * scale };
}

async function main(): Promise<void> {
  const seconds = Number(process.argv[2] ?? 10);
  for (const cmd of ['wrk', 'haproxy']) {
    if (spawnSync('sh', ['-c', `command -v ${cmd}`]).status !== 0) throw new Error(`needs ${cmd}: apt-get install -y ${cmd}`);
  }
  const dir = mkdtempSync(join(tmpdir(), 'lvsku-bench-'));
  const cfg = join(dir, 'haproxy.cfg');
  writeFileSync(
    cfg,
    [
      'global',
      '  maxconn 8192',
      '  nbthread 1',
      'defaults',
      '  mode tcp',
      '  timeout connect 5s',
      '  timeout client 60s',
      '  timeout server 60s',
      'listen vs',
      `  bind ${HAPROXY_VIP}:${PORT}`,
      '  balance roundrobin',
      ...BACKENDS.map((b, i) => `  server b${i} ${b}:${PORT}`),
      '',
    ].join('\n'),
  );
  const procs: ChildProcess[] = [];
  try {
    procs.push(await child('backends'));
    procs.push(await child('plane'));
    const haproxy = spawn('haproxy', ['-db', '-f', cfg], { stdio: ['ignore', 'ignore', 'inherit'] });
    procs.push(haproxy);
    await new Promise((r) => setTimeout(r, 500));
    // Warm both paths (JIT, connection pools) before measuring.
    wrk(VIP, 2);
    wrk(HAPROXY_VIP, 2);
    const ours = wrk(VIP, seconds);
    const theirs = wrk(HAPROXY_VIP, seconds);
    const line = (name: string, r: Result): string => `${name.padEnd(18)} ${r.reqPerS.toFixed(0).padStart(9)} req/s ${r.mbPerS.toFixed(1).padStart(8)} MB/s\n`;
    process.stdout.write(`wrk -t2 -c256 -d${seconds}s, 1 KiB HTTP responses, 3 backends, rr\n`);
    process.stdout.write(line('userspace plane', ours));
    process.stdout.write(line('haproxy (1 thread)', theirs));
    process.stdout.write(`ratio userspace/haproxy: ${(ours.reqPerS / theirs.reqPerS).toFixed(2)} (req/s), ${(ours.mbPerS / theirs.mbPerS).toFixed(2)} (MB/s)\n`);
  } finally {
    for (const p of procs) p.kill();
    rmSync(dir, { recursive: true, force: true });
  }
}

const mode = process.argv[2];
if (mode === 'backends') void runBackends();
else if (mode === 'plane') void runPlane();
else
  main().catch((err: unknown) => {
    process.stderr.write(`bench:dataplane: ${(err as Error).message}\n`);
    process.exit(1);
  });
