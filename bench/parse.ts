// `npm run bench:parse`: whole-process `lvskeeper -t` versus `keepalived -t` on one generated config with 10,000
// real_servers (each with an HTTP_GET checker). Every contender runs once per round, in turns, after one untimed
// round, so a burst of load on the machine hits all of them rather than one. Two more contenders show the fixed cost
// under lvskeeper's: bare `node -e 0`, and `lvskeeper -t` on an empty file (start-up + module loading).
// Both programs also run on a half-size file (5,000 real_servers); the difference gives each one's cost per 1,000
// real_servers with its start-up taken out. The two figures issue #16 sets targets for: that per-1,000 cost against
// keepalived's (<= 1.0x), and the start-up floor, `-t` on an empty file, against `node -e 0` (<= 1.5x). Each ratio is
// taken within each round (the runs of one round are seconds apart) and reported as the median over the rounds with
// its quartiles and range: a wide spread says the machine was busy and the figure is to be measured again.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';

const REAL_SERVERS = 10_000;
const PER_VS = 100;
const RUNS = Math.max(1, Number(process.env['BENCH_RUNS']) || 11);

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

/** The q-quantile (0..1) of xs, interpolated between neighbours. */
function quantile(xs: readonly number[], q: number): number {
  const s = [...xs].sort((a, b) => a - b);
  const at = (s.length - 1) * q;
  const lo = Math.floor(at);
  return s[lo]! + (s[Math.min(lo + 1, s.length - 1)]! - s[lo]!) * (at - lo);
}

const median = (xs: readonly number[]): number => quantile(xs, 0.5);

/** `median (quartiles q1–q3, range min–max)` of per-round figures. */
function spread(xs: readonly number[], digits: number): string {
  const f = (x: number): string => x.toFixed(digits);
  return `${f(median(xs))} (quartiles ${f(quantile(xs, 0.25))}–${f(quantile(xs, 0.75))}, range ${f(Math.min(...xs))}–${f(Math.max(...xs))}, ${xs.length} rounds)`;
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
  console.log(`${c.label.padEnd(25)} ${spread(c.runs, 0)} ms, exit ${c.status}`);
  return m;
}

/**
 * Runs the contenders in rounds, each once per round; one that cannot be started is dropped, and said so. A
 * round's runs are all kept or (for a dropped contender) none, so runs[i] of every live contender is round i.
 */
function bench(contenders: Contender[]): void {
  const live = new Set(contenders);
  for (let i = -1; i < RUNS; i++) {
    for (const c of live) {
      const r = time(c.cmd, c.args);
      c.status = r.status;
      if (r.status === null) {
        console.log(`${c.label}: could not run ${c.cmd}`);
        live.delete(c);
        c.runs.length = 0;
      } else if (i >= 0) c.runs.push(r.ms);
    }
  }
}

/** f applied to round i's runs of each contender, for every round. */
function perRound(cs: readonly Contender[], f: (...ms: number[]) => number): number[] {
  return cs[0]!.runs.map((_, i) => f(...cs.map((c) => c.runs[i]!)));
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
  const load = loadavg()[0]!;
  bench([ours, theirs, oursHalf, theirsHalf, bare, idle]);
  const loadAfter = loadavg()[0]!;
  for (const c of [ours, theirs, oursHalf, theirsHalf, bare, idle]) if (c.runs.length) report(c);
  const has = (...cs: Contender[]): boolean => cs.every((c) => c.runs.length > 0);
  if (has(ours, theirs)) console.log(`whole-process ratio lvskeeper/keepalived = ${spread(perRound([ours, theirs], (a, b) => a! / b!), 2)} (start-up included)`);
  const k = REAL_SERVERS / 2 / 1000;
  console.log('cost per 1,000 real_servers, start-up taken out (10,000 minus 5,000, over 5):');
  if (has(ours, oursHalf)) console.log(`  lvskeeper  ${spread(perRound([ours, oursHalf], (a, b) => (a! - b!) / k), 1)} ms`);
  if (has(theirs, theirsHalf)) console.log(`  keepalived ${spread(perRound([theirs, theirsHalf], (a, b) => (a! - b!) / k), 1)} ms`);
  if (has(ours, oursHalf, theirs, theirsHalf)) {
    // Per round the two differences are tens of ms each and noisy; the ratio of the medians is the steadier figure.
    const pa = (median(ours.runs) - median(oursHalf.runs)) / k;
    const pb = (median(theirs.runs) - median(theirsHalf.runs)) / k;
    console.log(`  ratio of medians ${(pa / pb).toFixed(2)} (target <= 1.00); per round ${spread(perRound([ours, oursHalf, theirs, theirsHalf], (a, b, c, d) => (a! - b!) / (c! - d!)), 2)}`);
  }
  if (has(bare, idle)) {
    console.log(`start-up floor: lvskeeper -t (empty file) / node -e 0 = ${spread(perRound([idle, bare], (a, b) => a! / b!), 2)} (target <= 1.50)`);
  }
  const cores = availableParallelism();
  console.log(`load average ${load.toFixed(1)} before, ${loadAfter.toFixed(1)} after, ${cores} CPUs${Math.max(load, loadAfter) > cores / 2 ? ': a busy machine; measure again on a quiet one' : ''}`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
