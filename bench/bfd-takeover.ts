// bench:bfd's takeover part: two lvskeeper directors across a veth (test/bfd/bfd-netns.ts), VRRPv3 at advert_int 0.1
// (Master_Down_Interval 361 ms for the BACKUP at priority 100), a 3 × 50 ms bfd_instance between them. The MASTER's
// whole process group is SIGKILLed; a sample is the time from the kill to the BACKUP's "Entering MASTER STATE" line
// reaching this process (its stdout, timestamped as it arrives: the log's own stamps are whole seconds). With
// --bfd-takeover the line names BFD; without, the down timer. Between samples the MASTER is started again and
// preempts. Also reported with the option: the session's expiry ("Expired after N ms") and the BFD event's trip BFD
// process → supervisor → VRRP process ("delivered in N usec", logged with -D).
import { performance } from 'node:perf_hooks';
import { BfdLink, LK, PEER } from '../test/bfd/bfd-netns.js';
import { waitFor, type Proc } from '../test/vrrp/netns-support.js';
import { lastDetect, lastUp, pct } from './bfd-detect.js';

const config = (neighbor: string, priority: number): string => `bfd_instance b1 {
  neighbor_ip ${neighbor}
  min_rx 50
  min_tx 50
  multiplier 3
}
vrrp_instance VI_1 {
  state BACKUP
  interface eth0
  virtual_router_id 51
  version 3
  priority ${priority}
  advert_int 0.1
  virtual_ipaddress {
    10.77.0.100/24
  }
}
`;

const MASTER_LINE = /\(VI_1\) Entering MASTER STATE.*/;
const lastState = (log: string): string | undefined => [...log.matchAll(/\(VI_1\) Entering (\w+) STATE/g)].at(-1)?.[1];

/** When (performance.now()) a line matching `re` next arrives on the process's stdout, and the line. */
function nextLine(p: Proc, re: RegExp): Promise<{ at: number; line: string }> {
  return new Promise((resolve) => {
    const seen = (d: Buffer): void => {
      const m = re.exec(d.toString());
      if (!m) return;
      p.child.stdout!.off('data', seen);
      resolve({ at: performance.now(), line: m[0] });
    };
    p.child.stdout!.on('data', seen);
  });
}

interface Samples { total: number[]; expiry: number[]; deliveredUs: number[]; lines: Set<string> }

async function measure(mode: 'bfd' | 'vrrp', runs: number): Promise<Samples> {
  const link = new BfdLink(`hA${mode}`);
  const out: Samples = { total: [], expiry: [], deliveredUs: [], lines: new Set() };
  try {
    const backup = link.startLvskeeper(config(PEER.v4, 100), 'backup', 'lk', ['-D', ...(mode === 'bfd' ? ['--bfd-takeover', 'VI_1=b1'] : [])]);
    for (let i = 0; i < runs; i++) {
      const from = backup.log.length;
      const master = link.startLvskeeper(config(LK.v4, 200), `master${i}`, 'peer');
      // The MASTER in place, the BACKUP following it, the session Up at its 50 ms rate; then 1 s of adverts.
      const ready = (): boolean => {
        const since = backup.log.slice(from);
        return lastState(master.log) === 'MASTER' && lastState(backup.log) === 'BACKUP' && lastUp(since) && lastDetect(since) === 150_000;
      };
      if (!(await waitFor(ready, 60_000))) throw new Error(`${mode}: not ready\n${backup.log.slice(from).slice(-3000)}\n----\n${master.log.slice(-2000)}`);
      await waitFor(() => false, 1000);
      if (!ready()) {
        i--;
        link.killGroup(master);
        await master.exited();
        continue;
      }
      const killed = backup.log.length;
      const arrival = nextLine(backup, MASTER_LINE);
      const t0 = performance.now();
      link.killGroup(master);
      const { at, line } = await Promise.race([arrival, new Promise<never>((_, no) => setTimeout(() => no(new Error(`${mode}: no takeover\n${backup.log.slice(killed)}`)), 10_000))]);
      out.total.push(at - t0);
      out.lines.add(line);
      await master.exited();
      await waitFor(() => /delivered in \d+ usec/.test(backup.log.slice(killed)) || mode === 'vrrp', 2000);
      const after = backup.log.slice(killed);
      const expiry = /\(b1\) Expired after (\d+) ms/.exec(after);
      if (expiry) out.expiry.push(Number(expiry[1]));
      const delivered = /instance b1 is in state Down \(delivered in (\d+) usec\)/.exec(after);
      if (delivered) out.deliveredUs.push(Number(delivered[1]));
    }
  } finally {
    await link.destroy();
  }
  return out;
}

const spread = (xs: readonly number[], unit: string, digits = 0): string =>
  `p50 ${pct(xs, 50).toFixed(digits)} ${unit}  p99 ${pct(xs, 99).toFixed(digits)} ${unit}  min ${Math.min(...xs).toFixed(digits)}  max ${Math.max(...xs).toFixed(digits)}  (n=${xs.length})`;

/** Crash takeover time, plain VRRPv3 then --bfd-takeover, `runs` each. */
export async function takeover(runs: number): Promise<void> {
  const median: Record<string, number> = {};
  for (const mode of ['vrrp', 'bfd'] as const) {
    const s = await measure(mode, runs);
    median[mode] = pct(s.total, 50);
    const name = mode === 'vrrp' ? 'VRRPv3 advert_int 0.1' : '--bfd-takeover 3 x 50 ms';
    process.stdout.write(`takeover ${name.padEnd(25)} kill -9 -> MASTER  ${spread(s.total, 'ms')}; lines: ${[...s.lines].join(' | ')}\n`);
    if (mode === 'bfd') {
      process.stdout.write(`takeover ${name.padEnd(25)} session expiry    ${spread(s.expiry, 'ms')}\n`);
      process.stdout.write(`takeover ${name.padEnd(25)} BFD -> supervisor -> VRRP delivery  ${spread(s.deliveredUs.map((u) => u / 1000), 'ms', 2)}\n`);
    }
  }
  process.stdout.write(`takeover median ratio --bfd-takeover/VRRPv3 ${(median['bfd']! / median['vrrp']!).toFixed(2)}\n`);
}
