// `npm run bench:parse`: whole-process `lvskeeper -t` versus `keepalived -t` on one generated config with 10,000
// real_servers (each with an HTTP_GET checker), several runs each, median wall time.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const REAL_SERVERS = 10_000;
const PER_VS = 100;
const RUNS = Number(process.env['BENCH_RUNS'] ?? 5);

function generate(): string {
  const out: string[] = ['global_defs {\n    router_id bench\n}\n'];
  for (let v = 0; v < REAL_SERVERS / PER_VS; v++) {
    out.push(`virtual_server 10.${v}.0.1 80 {\n    delay_loop 6\n    lb_algo wrr\n    lb_kind NAT\n    protocol TCP\n`);
    for (let r = 0; r < PER_VS; r++) {
      out.push(
        `    real_server 10.${v}.${1 + (r >> 8)}.${r & 255} 8080 {\n        weight 1\n        HTTP_GET {\n` +
          `            url {\n                path /health\n                digest 9b3a0c85a887a256d6939da88aabd8cd\n            }\n` +
          `            connect_timeout 3\n            retry 3\n            delay_before_retry 2\n        }\n    }\n`,
      );
    }
    out.push('}\n');
  }
  return out.join('');
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

function time(cmd: string, args: string[]): { ms: number; status: number | null } {
  const t0 = process.hrtime.bigint();
  const r = spawnSync(cmd, args, { stdio: 'ignore' });
  return { ms: Number(process.hrtime.bigint() - t0) / 1e6, status: r.status };
}

function bench(label: string, cmd: string, args: string[]): number | undefined {
  const runs: number[] = [];
  let status: number | null = null;
  for (let i = 0; i < RUNS; i++) {
    const r = time(cmd, args);
    if (r.status === null) {
      console.log(`${label}: could not run ${cmd}`);
      return undefined;
    }
    status = r.status;
    runs.push(r.ms);
  }
  const m = median(runs);
  console.log(`${label.padEnd(12)} median ${m.toFixed(0)} ms over ${RUNS} runs (exit ${status}; runs ${runs.map((x) => x.toFixed(0)).join(' ')})`);
  return m;
}

const dir = mkdtempSync(join(tmpdir(), 'lvskp-bench-'));
try {
  const file = join(dir, 'keepalived.conf');
  const text = generate();
  writeFileSync(file, text);
  console.log(`config: ${REAL_SERVERS} real_servers with HTTP_GET, ${text.split('\n').length} lines, ${(text.length / 1e6).toFixed(1)} MB`);
  const cli = new URL('../bin/lvskeeper.js', import.meta.url).pathname;
  const ours = bench('lvskeeper -t', process.execPath, [cli, '-t', '-f', file]);
  const theirs = bench('keepalived -t', 'keepalived', ['-t', '-f', file]);
  if (ours !== undefined && theirs !== undefined) {
    console.log(`ratio lvskeeper/keepalived = ${(ours / theirs).toFixed(2)} (target <= 1.00)`);
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
