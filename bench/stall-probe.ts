// The machine's own floor for the advert figures: a process that does nothing but wake every 2 ms, at the VRRP
// process's default scheduling (SCHED_RR 1), records how late it woke. A stall it sees too (the host taking the
// virtual CPU, the kernel busy) is not something lvskeeper's design can remove, and keepalived sees it as well.
// Its own start-up is node's, some 30 ms of CPU at that realtime priority, which takes a CPU from everything else: a
// bench waits for it (StallProbe.start) before the work it measures, or the floor would be its first stall.
import { spawn, type ChildProcess } from 'node:child_process';

const PROBE = `
const { performance } = require('node:perf_hooks');
let last = performance.now();
const late = [];
setInterval(() => {
  const now = performance.now();
  late.push(now - last - 2);
  last = now;
}, 2);
process.stdout.write('running\\n');
process.on('SIGTERM', () => {
  const over = (ms) => late.filter((x) => x > ms).length;
  console.log(JSON.stringify({ max: Math.max(0, ...late), over10: over(10), over20: over(20) }));
  process.exit(0);
});
`;

export interface Floor {
  /** Longest wake-up delay (ms). */
  readonly max: number;
  readonly over10: number;
  readonly over20: number;
}

export class StallProbe {
  private readonly child: ChildProcess;
  private readonly result: Promise<Floor>;
  private readonly running: Promise<void>;

  /** A probe that is up and waking: its start-up is over. */
  static async start(): Promise<StallProbe> {
    const probe = new StallProbe();
    await probe.running;
    return probe;
  }

  private constructor() {
    this.child = spawn('chrt', ['-r', '1', process.execPath, '-e', PROBE], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    this.child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    this.running = new Promise((resolve, reject) => {
      const seen = (): void => {
        if (!out.startsWith('running\n')) return;
        this.child.stdout!.off('data', seen);
        resolve();
      };
      this.child.stdout!.on('data', seen);
      this.child.once('close', (code) => reject(new Error(`stall probe exited with ${code} before it ran: ${out}`)));
    });
    this.result = new Promise((resolve, reject) => {
      // 'close': stdout is drained by then, which 'exit' does not promise.
      this.child.once('close', (code) => {
        try {
          resolve(JSON.parse(out.slice('running\n'.length)) as Floor);
        } catch {
          reject(new Error(`stall probe exited with ${code}: ${out}`));
        }
      });
    });
    // Reported by start() and stop(), not as unhandled rejections meanwhile.
    this.running.catch(() => undefined);
    this.result.catch(() => undefined);
  }

  stop(): Promise<Floor> {
    this.child.kill('SIGTERM');
    return this.result;
  }
}

export const describeFloor = (f: Floor): string =>
  `an idle SCHED_RR 1 process woke up to ${f.max.toFixed(1)} ms late (${f.over10} times over 10 ms, ${f.over20} over 20 ms)`;
