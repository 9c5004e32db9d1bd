// The per-server numbers of rs-telemetry.ts, for every server in a few large buffers instead of five typed arrays each:
// at 30,000 real servers those were 150,000 ArrayBuffers, about 4 KB a server with their headers and the bucket
// numbers. A server holds a slot; its ring of buckets (checks, failures, mean duration) and its duration
// histogram sit at the slot's offset in the chunk that holds it. A slot freed at a reload is reused.
// A bucket is 6 bytes: the mean is a binary16 float (a summed float32 made it 8), which keeps three significant
// digits from microseconds to a minute, all the console draws of it. 240 buckets are 1.4 KB a server.

/** A slot's bytes: `buckets` of 6 bytes and a histogram of `histogram` 4-byte counts. */
export function slotBytes(buckets: number, histogram: number): number {
  return buckets * 6 + histogram * 4;
}

/** Slots per chunk: a chunk is one ArrayBuffer (1.5 MB at 240 buckets), allocated when the last one is full. */
const CHUNK = 1024;

interface Chunk {
  readonly checks: Uint16Array;
  readonly failures: Uint16Array;
  /** binary16 bits (toHalf). */
  readonly meanMs: Uint16Array;
  readonly durations: Uint32Array;
}

/** The largest finite binary16, 65504: a longer mean is kept as that. */
const HALF_MAX = 0x7bff;

/** IEEE 754 binary16 bits of a non-negative number, rounded to nearest; above 65504 it saturates there. */
export function toHalf(v: number): number {
  if (!(v > 0)) return 0;
  if (v >= 65520) return HALF_MAX;
  // Below 2^-14 a subnormal: a multiple of 2^-24 (rounding up to 1024 gives the smallest normal's bits).
  if (v < 2 ** -14) return Math.round(v * 2 ** 24);
  let e = Math.floor(Math.log2(v));
  if (2 ** e > v) e--;
  else if (2 ** (e + 1) <= v) e++;
  let m = Math.round((v / 2 ** e - 1) * 1024);
  if (m === 1024) {
    m = 0;
    e++;
  }
  return ((e + 15) << 10) | m;
}

export function fromHalf(h: number): number {
  const e = h >> 10;
  const m = h & 0x3ff;
  return e === 0 ? m * 2 ** -24 : 2 ** (e - 15) * (1 + m / 1024);
}

export class TimelineSlab {
  private readonly chunks: Chunk[] = [];
  private readonly free: number[] = [];
  private next = 0;

  constructor(private readonly buckets: number, private readonly histogram: number) {}

  alloc(): number {
    const slot = this.free.pop();
    if (slot !== undefined) return slot;
    if (this.next === this.chunks.length * CHUNK) this.chunks.push(this.chunk());
    return this.next++;
  }

  /** For the next server that takes it: its histogram zeroed (its first check clears the whole ring: clearBucket). */
  release(slot: number): void {
    this.durations(slot).fill(0);
    this.free.push(slot);
  }

  /** `ring`: a bucket number modulo the ring's length. */
  clearBucket(slot: number, ring: number): void {
    const c = this.chunkOf(slot);
    const k = (slot % CHUNK) * this.buckets + ring;
    c.checks[k] = 0;
    c.failures[k] = 0;
    c.meanMs[k] = 0;
  }

  /**
   * `checks` of mean `ms`, `failures` of them failed, into the bucket and its running mean: one check, or a bucket of
   * another width (RsTelemetry.size). A bucket saturates at 65,535 checks.
   */
  add(slot: number, ring: number, checks: number, failures: number, ms: number): void {
    const c = this.chunkOf(slot);
    const k = (slot % CHUNK) * this.buckets + ring;
    const n = c.checks[k]!;
    const took = Math.min(checks, 0xffff - n);
    if (took === 0) return;
    c.checks[k] = n + took;
    c.failures[k] = c.failures[k]! + Math.min(failures, took);
    const mean = fromHalf(c.meanMs[k]!);
    c.meanMs[k] = toHalf(mean + ((ms - mean) * took) / (n + took));
  }

  bucket(slot: number, ring: number): { readonly checks: number; readonly failures: number; readonly meanMs: number } {
    const c = this.chunkOf(slot);
    const k = (slot % CHUNK) * this.buckets + ring;
    return { checks: c.checks[k]!, failures: c.failures[k]!, meanMs: fromHalf(c.meanMs[k]!) };
  }

  /**
   * A check's duration into the slot's histogram, cumulative as Prometheus's: each bound it is within counts it. In
   * place: a view of the slot (durations) at every check was 5% of what a 30,000-server checker process allocated.
   */
  countDuration(slot: number, secs: number, boundsS: readonly number[]): void {
    const d = this.chunkOf(slot).durations;
    const at = (slot % CHUNK) * this.histogram;
    for (let i = 0; i < boundsS.length; i++) if (secs <= boundsS[i]!) d[at + i]!++;
  }

  /** The slot's histogram counts, as a view (no copy). */
  durations(slot: number): Uint32Array {
    const i = slot % CHUNK;
    return this.chunkOf(slot).durations.subarray(i * this.histogram, (i + 1) * this.histogram);
  }

  private chunkOf(slot: number): Chunk {
    return this.chunks[Math.floor(slot / CHUNK)]!;
  }

  private chunk(): Chunk {
    const ring = CHUNK * this.buckets;
    const hist = CHUNK * this.histogram * 4;
    const buf = new ArrayBuffer(hist + ring * 6);
    return {
      durations: new Uint32Array(buf, 0, CHUNK * this.histogram),
      checks: new Uint16Array(buf, hist, ring),
      failures: new Uint16Array(buf, hist + ring * 2, ring),
      meanMs: new Uint16Array(buf, hist + ring * 4, ring),
    };
  }
}
