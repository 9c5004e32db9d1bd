// bench:bfd's detection part: lvskeeper's BFD against keepalived 2.2.7's in the same run: each in turn holds a session
// with FRR's bfdd across a veth (test/bfd/bfd-netns.ts); bfdd is frozen with SIGSTOP, and the daemon's own "(b1)
// Expired after N ms" line — both print it, from the last packet received to the session declared Down — is one
// sample; SIGCONT, wait for Up again, repeat. p50/p99 for 3 × 50 ms and 3 × 10 ms sessions. The RFC bound is the
// detection time itself (150 / 30 ms) plus the timer's lateness, which is what this measures. Also counted: Down
// events nobody provoked (the session expiring while bfdd ran). Root, keepalived and frr needed (bench/bfd.ts checks).
import { BfdLink, lineIn, LK, PEER } from '../test/bfd/bfd-netns.js';
import { waitFor } from '../test/vrrp/netns-support.js';

const EXPIRED = /^\(b1\) Expired after (\d+) ms/;
export const session = (ms: number): string => `bfd_instance b1 {\n neighbor_ip ${PEER.v4}\n min_rx ${ms}\n min_tx ${ms}\n multiplier 3\n}\n`;
export const frr = (ms: number): string => `bfd\n peer ${LK.v4}\n  receive-interval ${ms}\n  transmit-interval ${ms}\n  detect-multiplier 3\n !\n!\n`;

export function pct(xs: readonly number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)] ?? NaN;
}

/** The last "(b1) Entering Up/Down state" line of a daemon's log says Up. */
export const lastUp = (log: string): boolean => /Entering (\w+) state/.exec(log.split('\n').filter((l) => /\(b1\) Entering (Up|Down) state/.test(l)).at(-1) ?? '')?.[1] === 'Up';

/** The detection time the daemon's last "Detection time is N us" line gave, in µs. */
export const lastDetect = (log: string): number => Number([...log.matchAll(/Detection time is (\d+) us/g)].at(-1)?.[1] ?? 0);

/** Detection times, and the Down events nobody provoked (a settled session expiring while bfdd ran). */
async function measure(daemon: 'lvskeeper' | 'keepalived', ms: number, samples: number): Promise<{ detect: number[]; falseDowns: number }> {
  const link = new BfdLink(`bn${daemon[0]}${ms}`);
  try {
    const peer = link.startFrr(frr(ms));
    await waitFor(() => link.frrPeer() !== undefined, 10_000);
    const subject = daemon === 'lvskeeper' ? link.startLvskeeper(session(ms)) : link.startKeepalived(session(ms), 'ka', 'lk');
    const detect: number[] = [];
    let falseDowns = 0;
    while (detect.length < samples) {
      // Up on both at the session's rate (not idle_tx's 3 s); then 1.5 s in which nobody disturbs the session: a
      // Down there is a false one. Only then is bfdd frozen for a sample.
      const ready = (): boolean => link.frrPeer()?.status === 'up' && lastUp(subject.log) && lastDetect(subject.log) === 3 * ms * 1000;
      if (!(await waitFor(ready, 30_000))) throw new Error(`${daemon}: no session at ${ms} ms\n${subject.log.slice(-3000)}`);
      const settled = subject.log.length;
      await waitFor(() => false, 1500);
      const downs = subject.log.slice(settled).split('\n').filter((l) => EXPIRED.test(l.replace(/^.*?\d\d:\d\d:\d\d(?: \d{4})?: /, ''))).length;
      falseDowns += downs;
      if (downs > 0 || !ready()) continue;
      const from = subject.log.length;
      // `ip netns exec` execs bfdd: the spawned pid is bfdd's.
      peer.signal('SIGSTOP');
      const line = await lineIn(subject, EXPIRED, 5000, from);
      peer.signal('SIGCONT');
      if (line === undefined) throw new Error(`${daemon}: no expiry\n${subject.log.slice(from)}`);
      detect.push(Number(EXPIRED.exec(line)![1]));
    }
    return { detect, falseDowns };
  } finally {
    await link.destroy();
  }
}

/** Detection time p50/p99 per daemon and session rate, `samples` each. */
export async function detection(samples: number): Promise<void> {
  for (const ms of [50, 10]) {
    const p99: Record<string, number> = {};
    for (const daemon of ['keepalived', 'lvskeeper'] as const) {
      const { detect: xs, falseDowns } = await measure(daemon, ms, samples);
      p99[daemon] = pct(xs, 99);
      process.stdout.write(`3 x ${String(ms).padStart(2)} ms  ${daemon.padEnd(10)}  detection p50 ${pct(xs, 50)} ms  p99 ${p99[daemon]} ms  max ${Math.max(...xs)} ms  (n=${xs.length}, detection time ${3 * ms} ms); unprovoked Down ${falseDowns}\n`);
    }
    process.stdout.write(`3 x ${String(ms).padStart(2)} ms  p99 ratio lvskeeper/keepalived ${(p99['lvskeeper']! / p99['keepalived']!).toFixed(2)}\n`);
  }
}
