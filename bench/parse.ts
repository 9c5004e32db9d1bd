// `npm run bench:parse`: whole-process `lvskeeper -t` versus `keepalived -t` on one generated config with 10,000
// real_servers (each with an HTTP_GET checker), median wall time. The programs run in turns (A B A B …) after one
// untimed run each, so a burst of load on the machine hits both rather than one of them. Two more figures show the
// fixed cost under lvskeeper's: bare `node -e 0`, and `lvskeeper -t` on an empty file (start-up + module loading).
// Both programs also run on a half-size file (5,000 real_servers); the difference gives each one's cost per 1,000
// real_servers with its start-up taken out. The two figures issue #16 sets targets for: that per-1,000 cost against
// keepalived's (<= 1.0x), and the start-up floor, `-t` on an empty file, against `node -e 0` (<= 1.5x).
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const REAL_SERVERS = 10_000;
const PER_VS = 100;
const RUNS = Math.max(1, Number(process.env['BENCH_RUNS']) || 9);

function generate(realServers: number): string {
  const out: string[] = ['global_defs {\n    router_id bench\n}\n'];
  for (let v = 0; v < realServers / PER_VS; v++) {
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
  return { ms: Number(process.hrtime.bigint() - t0) / 1e6, status: r.error ? null : r.status };
}

interface Contender {
  readonly label: string;
  readonly cmd: string;
  readonly args: string[];
  readonly runs: number[];
  status: number | null;
}

function report(c: Contender): number {
  const m = median(c.runs);
  const runs = c.runs.map((x) => x.toFixed(0)).join(' ');
  console.log(`${c.label.padEnd(25)} median ${m.toFixed(0)} ms over ${c.runs.length} runs (exit ${c.status}; runs ${runs})`);
  return m;
}

/** Runs the contenders in turns; one that cannot be started is dropped, and said so. */
function bench(contenders: Contender[]): void {
  const live = new Set(contenders);
  for (let i = -1; i < RUNS; i++) {
    for (const c of live) {
      const r = time(c.cmd, c.args);
      c.status = r.status;
      if (r.status === null) {
        console.log(`${c.label}: could not run ${c.cmd}`);
        live.delete(c);
      } else if (i >= 0) c.runs.push(r.ms);
    }
  }
}

const dir = mkdtempSync(join(tmpdir(), 'lvskp-bench-'));
try {
  const file = join(dir, 'keepalived.conf');
  const half = join(dir, 'half.conf');
  const text = generate(REAL_SERVERS);
  writeFileSync(file, text);
  writeFileSync(half, generate(REAL_SERVERS / 2));
  console.log(`config: ${REAL_SERVERS} real_servers with HTTP_GET, ${text.split('\n').length} lines, ${(text.length / 1e6).toFixed(1)} MB`);
  const cli = new URL('../bin/lvskeeper.js', import.meta.url).pathname;
  const empty = join(dir, 'empty.conf');
  writeFileSync(empty, '');
  const contender = (label: string, cmd: string, args: string[]): Contender => ({ label, cmd, args, runs: [], status: null });
  const ours = contender('lvskeeper -t', process.execPath, [cli, '-t', '-f', file]);
  const theirs = contender('keepalived -t', 'keepalived', ['-t', '-f', file]);
  const oursHalf = contender('lvskeeper -t (5,000)', process.execPath, [cli, '-t', '-f', half]);
  const theirsHalf = contender('keepalived -t (5,000)', 'keepalived', ['-t', '-f', half]);
  // The fixed costs under the lvskeeper figure: Node's own start-up, and start-up plus module loading.
  const bare = contender('node -e 0', process.execPath, ['-e', '0']);
  const idle = contender('lvskeeper -t (empty file)', process.execPath, [cli, '-t', '-f', empty]);
  bench([ours, theirs, oursHalf, theirsHalf, bare, idle]);
  const a = ours.runs.length ? report(ours) : undefined;
  const b = theirs.runs.length ? report(theirs) : undefined;
  if (a !== undefined && b !== undefined) console.log(`whole-process ratio lvskeeper/keepalived = ${(a / b).toFixed(2)} (start-up included)`);
  console.log('cost per 1,000 real_servers, start-up taken out (10,000 minus 5,000, over 5):');
  const perThousand = (full: Contender, halfSize: Contender): number | undefined =>
    full.runs.length && halfSize.runs.length ? (median(full.runs) - median(halfSize.runs)) / (REAL_SERVERS / 2 / 1000) : undefined;
  const pa = perThousand(ours, oursHalf);
  const pb = perThousand(theirs, theirsHalf);
  if (pa !== undefined) console.log(`  lvskeeper  ${pa.toFixed(1)} ms`);
  if (pb !== undefined) console.log(`  keepalived ${pb.toFixed(1)} ms`);
  if (pa !== undefined && pb !== undefined) console.log(`  ratio ${(pa / pb).toFixed(2)} (target <= 1.00)`);
  console.log('start-up floor:');
  for (const c of [oursHalf, theirsHalf, bare, idle]) if (c.runs.length) report(c);
  if (bare.runs.length && idle.runs.length) {
    console.log(`  ratio lvskeeper -t (empty file) / node -e 0 = ${(median(idle.runs) / median(bare.runs)).toFixed(2)} (target <= 1.50)`);
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
