// Runs inside the IPVS VM (started by bench/startup.ts): keepalived and lvskeeper start in turn on the same
// 30,000-real-server config against the kernel's IPVS table, and each is timed from its spawn to the moment the
// table holds every real server. The real servers are 10.b.c.d, local to the guest through one `local` route (the
// kernel takes a local address as a destination: ip_vs_ctl.c ip_vs_new_dest accepts RTN_LOCAL and RTN_UNICAST),
// and a listener on 0.0.0.0 answers the TCP_CHECKs that warmup lets run meanwhile.
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { performance } from 'node:perf_hooks';

const RS = Number(process.env['LVSK_BENCH_RS'] ?? 30_000);
const ROUNDS = Number(process.env['LVSK_BENCH_ROUNDS'] ?? 3);
const PER_VS = 100;
const PORT = 8080;
const LIMIT_S = 600;
const dir = '/tmp/lvsk-startup';
mkdirSync(dir, { recursive: true });

const vsCount = Math.ceil(RS / PER_VS);
const vsAddr = (v: number): string => `198.51.100.${1 + (v % 250)} ${10000 + Math.floor(v / 250)}`;
function config(): string {
  const out = ['global_defs {', '  router_id startup', '}'];
  for (let v = 0; v < vsCount; v++) {
    out.push(`virtual_server ${vsAddr(v)} {`, '  delay_loop 600', '  lb_algo wrr', '  lb_kind DR', '  protocol TCP');
    for (let i = v * PER_VS; i < Math.min(RS, (v + 1) * PER_VS); i++) {
      const n = i + 1;
      out.push(`  real_server 10.${(n >> 16) & 255}.${(n >> 8) & 255}.${n & 255} ${PORT} {`, '    weight 1', '    TCP_CHECK {', '      connect_timeout 5', '    }', '  }');
    }
    out.push('}');
  }
  return out.join('\n') + '\n';
}
const conf = `${dir}/keepalived.conf`;
writeFileSync(conf, config());

execFileSync('ip', ['route', 'add', 'local', '10.0.0.0/8', 'dev', 'lo']);
const listener = createServer((s) => s.destroy()).listen(PORT, '0.0.0.0');

type Side = 'keepalived' | 'lvskeeper';
const START: Record<Side, [string, string[]]> = {
  keepalived: ['keepalived', ['-n', '-C', '-l', '-f', conf, '-p', `${dir}/k.pid`, '-c', `${dir}/c.pid`]],
  lvskeeper: [process.execPath, ['dist/bin/lvskeeper.js', '-n', '-C', '-l', '-f', conf, '--ipvs-driver', 'kernel', '--control-socket', `${dir}/control.sock`,
    '--state-file', `${dir}/overrides.json`, '-p', `${dir}/pid`]],
};

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
/** Destinations in the kernel's table, from /proc/net/ip_vs: its `  -> ` lines but the column header. */
function destinations(): number {
  return readFileSync('/proc/net/ip_vs', 'latin1').split('\n  -> ').length - 2;
}
/** The last virtual server's destinations: a cheap look while the table fills. */
function lastServiceDests(): number {
  const [addr, port] = vsAddr(vsCount - 1).split(' ');
  try {
    return execFileSync('ipvsadm', ['-Ln', '-t', `${addr}:${port}`], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).split('\n').filter((l) => l.includes('->') && !l.includes('RemoteAddress')).length;
  } catch {
    return 0;
  }
}

async function run(side: Side): Promise<number | undefined> {
  execFileSync('ipvsadm', ['-C']);
  const t0 = performance.now();
  const [cmd, args] = START[side];
  const child: ChildProcess = spawn(cmd, args, { stdio: 'ignore' });
  const lastCount = RS - (vsCount - 1) * PER_VS;
  let seconds: number | undefined;
  while (performance.now() - t0 < LIMIT_S * 1000) {
    await sleep(250);
    // The last service full first (each daemon installs in config order), then the whole table counted.
    if (lastServiceDests() === lastCount && destinations() === RS) {
      seconds = (performance.now() - t0) / 1000;
      break;
    }
  }
  process.stderr.write(`${side}: ${seconds === undefined ? `${destinations()} of ${RS} after ${LIMIT_S} s` : `${seconds.toFixed(1)} s`}\n`);
  child.kill('SIGTERM');
  await new Promise((r) => child.once('exit', r));
  execFileSync('ipvsadm', ['-C']);
  return seconds;
}

const times: Record<Side, (number | undefined)[]> = { keepalived: [], lvskeeper: [] };
for (let r = 0; r < ROUNDS; r++) {
  // Alternating which goes first, so neither always meets the page cache cold.
  for (const side of (r % 2 === 0 ? ['keepalived', 'lvskeeper'] : ['lvskeeper', 'keepalived']) as Side[]) times[side].push(await run(side));
}
listener.close();

const fmt = (xs: (number | undefined)[]): string => xs.map((x) => (x === undefined ? `not installed within ${LIMIT_S} s` : `${x.toFixed(1)} s`)).join(', ');
const median = (xs: (number | undefined)[]): number | undefined => {
  const ok = xs.filter((x): x is number => x !== undefined).sort((a, b) => a - b);
  return ok.length === xs.length ? ok[Math.floor((ok.length - 1) / 2)] : undefined;
};
console.log(`start-up to the last of ${RS} real servers installed (${vsCount} virtual servers, TCP_CHECK, kernel ${execFileSync('uname', ['-r'], { encoding: 'utf8' }).trim()}, qemu TCG), ${ROUNDS} rounds`);
// keepalived prints its version on stderr.
const version = spawnSync('keepalived', ['--version'], { encoding: 'utf8' });
console.log(`keepalived ${/v[\d.]+/.exec(version.stdout + version.stderr)?.[0] ?? '?'}   ${fmt(times.keepalived)}`);
console.log(`lvskeeper           ${fmt(times.lvskeeper)}`);
const k = median(times.keepalived);
const l = median(times.lvskeeper);
if (k !== undefined && l !== undefined) console.log(`ratio lvskeeper/keepalived start-up (medians): ${(l / k).toFixed(2)}x`);
