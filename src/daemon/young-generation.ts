// The supervisor's young generation, handed back once the supervisor is quiet. V8 grows new space (up to 16 MiB
// semi-spaces, 32 MB resident) while a start-up or a reload of many real servers allocates, and shrinks it only in a
// collection made while allocation is slow, under 1,000 bytes per ms but not none (heap.cc
// Heap::ShouldResizeNewSpace). A quiet supervisor allocates too little to set off any collection, so it kept the 32 MB
// until the next burst: 28 MB resident at 30,000 real servers. A smaller new space for good (--max-semi-space-size)
// would have to be on node's command line, which is the operator's.
//
// The process must be quiet for two looks in a row, not one: V8's memory reducer (heap/memory-reducer.cc) makes its
// first try 8 s after the start-up, and its collection shrinks the new space as well. A scavenge of ours at the first
// quiet look, about 6 s after the start, made it pass that try and wait for its next, 8 s later: at 1,000 real servers
// (--trace-gc in the supervisor) its `Mark-Compact (reduce)` came at 16.3 s in three runs of three, and the
// supervisor held 2 MB more until then (58.1 against 56.2 MB); with no scavenge of ours it came at 8.2 s (two runs).
import { getHeapSpaceStatistics, setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

/** How often the supervisor looks. */
export const LOOK_MS = 5_000;
/** A new space this size or smaller is at rest: V8 starts it at 1 MiB semi-spaces, and one scavenge took it to 1 MB. */
export const RESTING_BYTES = 4 * 1024 * 1024;
/** What a look may find allocated and still call quiet: half V8's bar for slow allocation. */
const QUIET_BYTES_PER_MS = 500;
/** Quiet looks in a row before the scavenge (see the top of this file). */
export const QUIET_LOOKS = 2;

export interface NewSpaceLook {
  /** Bytes of new space in memory. */
  readonly resident: number;
  /** Bytes of it that objects take. */
  readonly used: number;
}

/** What a look finds: the quiet looks in a row so far, and whether a scavenge now gives the new space back. */
export interface YoungGenerationLook {
  readonly quiet: number;
  readonly scavenge: boolean;
}

/**
 * A look after `quietSoFar` quiet ones. Quiet: the new space has grown past `floor` (what it came down to last, at
 * least RESTING_BYTES), and since the look before little was allocated and no collection came (it would have emptied
 * the space, leaving less in use than before). The scavenge is due at QUIET_LOOKS of them, on a look that found
 * something allocated: V8 resizes only on a throughput that is not zero (heap.cc Heap::ShouldResizeNewSpace).
 */
export function youngGenerationLook(quietSoFar: number, before: NewSpaceLook, now: NewSpaceLook, lookMs: number, floor = RESTING_BYTES): YoungGenerationLook {
  const allocated = now.used - before.used;
  const grown = now.resident > Math.max(RESTING_BYTES, floor);
  const quiet = grown && allocated >= 0 && allocated < QUIET_BYTES_PER_MS * lookMs ? quietSoFar + 1 : 0;
  return { quiet, scavenge: quiet >= QUIET_LOOKS && allocated > 0 };
}

function newSpace(): NewSpaceLook {
  const space = getHeapSpaceStatistics().find((s) => s.space_name === 'new_space');
  return { resident: space?.physical_space_size ?? 0, used: space?.space_used_size ?? 0 };
}

/** With no options, a full collection; `{ type: 'minor' }`, a scavenge. */
export type Collect = (options?: { readonly type: 'minor' }) => void;

/**
 * V8's gc(), as --expose-gc gives it: set at run time, the flag puts it on the contexts made after, and is taken off
 * again so none else gets it. A scavenge it asks for resizes the new space as any other does.
 */
export function collector(): Collect {
  const given = (globalThis as { gc?: Collect }).gc;
  if (given) return given;
  setFlagsFromString('--expose-gc');
  try {
    return runInNewContext('gc') as Collect;
  } finally {
    setFlagsFromString('--no-expose-gc');
  }
}

/** The supervisor's handle on the watch. */
export interface YoungGenerationWatch {
  /**
   * A reload begins: no scavenge until `resume`. A look landing in a reload saw only the little allocated since the
   * look before and took it for quiet; its scavenge of the start-up's survivors stalled the first reload of
   * bench:reload 38-53 ms, against 11-13 ms on its own.
   */
  hold(): void;
  /**
   * That reload is done (reloads may overlap: each hold has its resume). Once none is held, QUIET_LOOKS looks in a row
   * that find the supervisor quiet give the space back.
   */
  resume(): void;
  stop(): void;
}

/**
 * Looks every `lookMs` and scavenges once the new space has grown and the process has been quiet for QUIET_LOOKS
 * looks. At 30,000 real servers one scavenge of 11-24 ms after start-up takes the new space from 28 MB to 4.8 MB.
 *
 * Grown means past where it came down to last. V8 shrinks the space to twice what survives the scavenge
 * (heap/new-spaces.cc SemiSpaceNewSpace::Shrink): 4.8 MB resident for the supervisor of 30,000 real servers, over
 * RESTING_BYTES. Measured against RESTING_BYTES alone, every second look scavenged again, each one 3-16 ms of the
 * supervisor's loop, and V8 grew the space back after some of them (its survivors since the last growth were more
 * than the small space held), 22 to 28 MB committed and down again, for as long as the daemon ran (--trace-gc, 60 s).
 */
export function watchYoungGeneration(lookMs = LOOK_MS): YoungGenerationWatch {
  const collect = collector();
  let before = newSpace();
  let holds = 0;
  let quiet = 0;
  let floor = RESTING_BYTES;
  const timer = setInterval(() => {
    const now = newSpace();
    // V8's own shrinking (its memory reducer) lowers the floor too.
    floor = Math.min(floor, now.resident);
    const look = holds === 0 ? youngGenerationLook(quiet, before, now, lookMs, floor) : undefined;
    quiet = look?.quiet ?? 0;
    if (look?.scavenge) {
      collect({ type: 'minor' });
      quiet = 0;
      before = newSpace();
      // Not shrunk (V8 still counts the burst in its allocation rate): the next quiet looks try again.
      if (before.resident < now.resident) floor = before.resident;
    } else {
      before = now;
    }
  }, lookMs).unref();
  return {
    hold: () => void holds++,
    resume: () => void holds--,
    stop: () => clearInterval(timer),
  };
}
