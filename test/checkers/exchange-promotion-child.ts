// Child process of exchange.test.ts: runs exchanges two at a time against the parent's server (so only the exchange
// set's own objects are measured here), collects all garbage, runs more, and prints how much the old generation grew
// meanwhile. Run with a 1 MB semi-space so that scavenges come every few hundred exchanges.
import { getHeapSpaceStatistics } from 'node:v8';
import { exchanges } from '../../checkers/exchange.js';
import { conn } from './model.js';

export interface PromotionOutput {
  /** Bytes the old generation grew by over the measured exchanges, with no full collection among them. */
  readonly oldSpaceGrowth: number;
  readonly exchanges: number;
}

const [port, measured] = process.argv.slice(2).map(Number) as [number, number];
const c = conn(port, { connectTimeoutMs: 5000 });

function run(n: number): Promise<void> {
  return new Promise((resolve, reject) => {
    let started = 0;
    let ended = 0;
    const next = (): void => {
      if (started === n) return;
      started++;
      exchanges().start(c, 'GET / HTTP/1.0\r\n\r\n', {
        connected() {},
        data() {},
        end() {
          if (++ended === n) resolve();
          else next();
        },
        error: (code) => reject(new Error(code)),
        timeout: () => reject(new Error('timeout')),
      });
    };
    next();
    next();
  });
}

const oldSpace = (): number => getHeapSpaceStatistics().find((s) => s.space_name === 'old_space')!.space_used_size;
const gc = (globalThis as { gc?: () => void }).gc!;

await run(1000);
// Two full collections leave the exchange set's own structures in the old generation, where a stale reference
// from them to the young one would keep each later exchange's objects alive.
gc();
gc();
const before = oldSpace();
await run(measured);
const output: PromotionOutput = { oldSpaceGrowth: oldSpace() - before, exchanges: measured };
console.log(JSON.stringify(output));
