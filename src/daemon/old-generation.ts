// The checker process's old generation, compacted when it has grown since the last compaction. A start or a reload
// parses the config on the checker process's main thread, and the first round of checks reports every server once:
// at 30,000 HTTP_GET real servers, 27 MB of the old generation was dead after the first round, and a checker process
// that only checks allocates too little for V8 to start another full collection, so it stayed. A full collection
// frees the dead objects but gives back only the pages it leaves empty (5 MB of them there): V8 moves the live
// objects off fragmented pages only up to a few MB per collection (heap/mark-compact.cc, evacuation candidates). One
// made with --compact-on-every-full-gc moves them off every page, and gave back 29 MB in a 267 ms pause. That pause
// falls in the checker process, which sends no VRRP advert, and comes only with its trims after the start, before the
// first reload (checker-process.ts), once the old generation has grown: a daemon that only checks compacts no more.
//
// Not after a reload: the compacting collection also shrinks the young generation (then a 16 MiB semi-space, 32 MB
// resident at 30,000 real servers) when allocation is slow, and the next reload's parse then grew it back through one
// scavenge after another: bench:reload's `unchanged, after a settle` took 380-388 ms (four runs) against 311 ms
// without the compaction. With the 8 MiB semi-space of checker-node-flags.ts, 495 ms (one run) against 192 and 234.
import { getHeapSpaceStatistics, setFlagsFromString } from 'node:v8';
import { collector } from './young-generation.js';

/** Growth of the old generation's use since the last compaction that calls for another, unless 10% of it is more. */
export const COMPACT_AFTER_BYTES = 8 * 1024 * 1024;

/** Whether the old generation has grown enough since the last compaction (its use then: `compactedUsed`). */
export function oldGenerationGrown(compactedUsed: number, used: number): boolean {
  return used - compactedUsed >= Math.max(COMPACT_AFTER_BYTES, compactedUsed / 10);
}

function oldSpaceUsed(): number {
  return getHeapSpaceStatistics().find((s) => s.space_name === 'old_space')?.space_used_size ?? 0;
}

/**
 * A look at the old generation, for where the process gives memory back: it compacts the old generation when it has
 * grown enough since the last compaction (for the first look, since it was empty). True when it compacted.
 */
export function oldGenerationLook(): () => boolean {
  const collect = collector();
  let compactedUsed = 0;
  return () => {
    if (!oldGenerationGrown(compactedUsed, oldSpaceUsed())) return false;
    setFlagsFromString('--compact-on-every-full-gc');
    try {
      collect();
    } finally {
      setFlagsFromString('--no-compact-on-every-full-gc');
    }
    compactedUsed = oldSpaceUsed();
    return true;
  };
}
