// The machine's own floor for the advert figures: a process that does nothing but wake every 2 ms, at the VRRP
// process's default scheduling (SCHED_RR 1), records how late it woke. A stall it sees too (the host taking the
// virtual CPU, the kernel busy) is not something lvskeeper's design can remove, and keepalived sees it as well.
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

  constructor() {
    this.child = spawn('chrt', ['-r', '1', process.execPath, '-e', PROBE], { stdio: ['ignore', 'pipe', 'inherit'] });
    this.result = new Promise((resolve, reject) => {
      let out = '';
      this.child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
      // 'close': stdout is drained by then, which 'exit' does not promise.
      this.child.once('close', (code) => {
        try {
          resolve(JSON.parse(out) as Floor);
        } catch {
          reject(new Error(`stall probe exited with ${code}: ${out}`));
        }
      });
    });
    // Reported by stop(), not as an unhandled rejection meanwhile.
    this.result.catch(() => undefined);
  }

  stop(): Promise<Floor> {
    this.child.kill('SIGTERM');
    return this.result;
  }
}

export const describeFloor = (f: Floor): string =>
  `an idle SCHED_RR 1 process woke up to ${f.max.toFixed(1)} ms late (${f.over10} times over 10 ms, ${f.over20} over 20 ms)`;
