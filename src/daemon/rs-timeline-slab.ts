// The per-server numbers of rs-telemetry.ts, for every server in a few large buffers instead of five typed arrays each:
// at 30,000 real servers those were 150,000 ArrayBuffers, about 4 KB a server with their headers and the bucket
// numbers. A server holds a slot; its ring of TIMELINE_BUCKETS (checks, failures, summed duration) and its duration
// histogram sit at the slot's offset in the chunk that holds it. A slot freed at a reload is reused.

/** Slots per chunk: a chunk is one ArrayBuffer of about 2 MB, allocated when the last one is full. */
const CHUNK = 1024;

interface Chunk {
  readonly checks: Uint16Array;
  readonly failures: Uint16Array;
  readonly sumMs: Float32Array;
  readonly durations: Uint32Array;
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
    c.sumMs[k] = 0;
  }

  /** One check into the bucket; a bucket saturated at 65,535 checks takes no more. */
  add(slot: number, ring: number, ok: boolean, ms: number): void {
    const c = this.chunkOf(slot);
    const k = (slot % CHUNK) * this.buckets + ring;
    if (c.checks[k]! === 0xffff) return;
    c.checks[k]!++;
    if (!ok) c.failures[k]!++;
    c.sumMs[k]! += ms;
  }

  bucket(slot: number, ring: number): { readonly checks: number; readonly failures: number; readonly sumMs: number } {
    const c = this.chunkOf(slot);
    const k = (slot % CHUNK) * this.buckets + ring;
    return { checks: c.checks[k]!, failures: c.failures[k]!, sumMs: c.sumMs[k]! };
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
    const buf = new ArrayBuffer(ring * (2 + 2 + 4) + CHUNK * this.histogram * 4);
    return {
      sumMs: new Float32Array(buf, 0, ring),
      durations: new Uint32Array(buf, ring * 4, CHUNK * this.histogram),
      checks: new Uint16Array(buf, ring * 4 + CHUNK * this.histogram * 4, ring),
      failures: new Uint16Array(buf, ring * 6 + CHUNK * this.histogram * 4, ring),
    };
  }
}
