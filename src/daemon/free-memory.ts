// Hands the memory glibc holds free back to the kernel (malloc_trim, in native/sched.cc). glibc keeps what a thread
// frees in that thread's arena (the supervisor's config reader, V8's compiler and collector tasks) and gives back
// only the top of an arena, and only below a threshold it raises as large blocks come and go; so a process that has
// parsed a config keeps the pages the parse used. bench:daemon, 1,000 real servers: 131-136 MB for the tree with
// this against 139-148 MB without; idle, 115-117 against 118-127 MB. And the children's arenas are kept few (childEnv).
import { loadAddon } from '../native/addon.js';

interface MemoryBinding {
  keepMallocThresholds(): void;
  /** Runs on a libuv pool thread: at 30,000 real servers a trim takes 15 ms. */
  releaseFreeMemory(): Promise<void>;
}

/** The addon's calls; undefined when it did not load (a failed build, named where the other addons are needed). */
function memoryCalls(): MemoryBinding | undefined {
  try {
    return loadAddon('lvsk_sched') as MemoryBinding;
  } catch {
    return undefined;
  }
}

/**
 * The supervisor's malloc keeps its mmap and trim thresholds. glibc's free() raises the mmap threshold to the size of
 * any larger mmapped block it frees (up to 32 MiB) and the trim threshold to twice that (malloc.c __libc_free): once
 * a block of some MB has been freed, every block under that size comes from an arena, and up to twice it stays
 * resident, free, at each arena's top until a malloc_trim. 30,000 HTTP_GET real servers, 30-40 s after the install:
 * the supervisor 74.3-76.7 MB (two runs) against 84.7 MB. The checker process's stayed where it was with both
 * thresholds set from its start (225.4-225.6 against 223.8-224.3 MB), so it is left to glibc's default.
 */
export function keepMallocThresholds(): void {
  memoryCalls()?.keepMallocThresholds();
}

/** A start or a reload has settled by then: the JIT's compile tasks and the collections it set off are done. */
export const SETTLE_MS = 5_000;

let pending: NodeJS.Timeout | undefined;

export function releaseFreeMemory(): Promise<void> {
  return (loadAddon('lvsk_sched') as MemoryBinding).releaseFreeMemory();
}

/**
 * How often the checker process gives its free pages back while it checks. Each check frees what it allocated (the
 * exchange set's buffers, its events' ArrayBuffers) between blocks that live on, and glibc gives back only the top of
 * an arena: at 30,000 HTTP_GET real servers, 11 MB of the checker process's arenas were free and resident again 40 s
 * after the start's trim. With a trim every 20 s its RSS was 214.9-222.4 MB over 30-90 s after the install, against
 * 224.7-234.4 MB (two runs each, by turns); a trim then takes about 15 ms of a pool thread.
 */
export const CHECKING_TRIM_MS = 20_000;

/**
 * releaseFreeMemory once this process has gone SETTLE_MS without another call, after a start or a reload; with
 * `everyMs`, again every `everyMs` after that, until the next call or hold. A trim holds each malloc arena's lock in
 * turn, and takes CPU the other process may want: none starts while a reload runs. `compact` runs before each trim,
 * for V8's own pages (old-generation.ts).
 */
export function releaseFreeMemorySoon(everyMs?: number, compact?: () => void): void {
  holdFreeMemoryRelease();
  const trimAfter = (ms: number): void => {
    pending = setTimeout(() => {
      compact?.();
      const calls = memoryCalls();
      if (calls === undefined) return;
      void calls.releaseFreeMemory();
      if (everyMs !== undefined) trimAfter(everyMs);
    }, ms).unref();
  };
  trimAfter(SETTLE_MS);
}

/**
 * A child process allocates from two malloc arenas, not glibc's one per allocating thread (up to 8 per core): a page
 * freed in an arena stays with it, and V8's platform threads and libuv's pool each had one. glibc reads
 * MALLOC_ARENA_MAX before any thread runs, so the child is forked with it. bench:daemon, 30,000 HTTP_GET real servers,
 * by turns: the checker process 233.6 / 232.7 MB against 241.3 / 244.6. An operator's MALLOC_ARENA_MAX stays as it is.
 */
const MALLOC_ARENAS = 2;
/** Set beside MALLOC_ARENA_MAX when lvskeeper added it: the child then takes both out of its scripts' environment. */
const ADDED = 'LVSK_MALLOC_ARENA_MAX_ADDED';

/** The environment a child process is forked with. */
export function childEnv(): NodeJS.ProcessEnv {
  if (process.env['MALLOC_ARENA_MAX'] !== undefined) return process.env;
  return { ...process.env, MALLOC_ARENA_MAX: String(MALLOC_ARENAS), [ADDED]: '1' };
}

/** First thing in a child: glibc has read MALLOC_ARENA_MAX; the scripts it runs get the environment keepalived's would. */
export function forgetAddedArenaMax(): void {
  if (process.env[ADDED] !== '1') return;
  delete process.env['MALLOC_ARENA_MAX'];
  delete process.env[ADDED];
}

/** A reload begins: a trim still waiting waits for the reload's end. */
export function holdFreeMemoryRelease(): void {
  clearTimeout(pending);
  pending = undefined;
}
