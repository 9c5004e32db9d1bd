// FILE_CHECK over a global track_file (check_file.c, vrrp_track.c): the file holds an integer; value × weight is
// added to the RS weight (negated with `reverse`); with weight 0 a non-zero value means failed, and a result at or
// below -2^31 means failed. The file is watched, and re-read when it changes.
import { watch, readFileSync, type FSWatcher } from 'node:fs';
import { basename, dirname } from 'node:path';

export const FILE_FAILED_BELOW = -(2 ** 31);

/** Reads the integer a track file holds; a missing, empty or non-numeric file reads as 0, as keepalived does. */
export function readTrackValue(path: string): number {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    return 0;
  }
  const m = /^\s*(-?\d+)/.exec(text);
  return m ? Number(m[1]) : 0;
}

export interface FileVerdict {
  readonly failed: boolean;
  /** Added to the RS weight while not failed. */
  readonly adjust: number;
}

export function fileVerdict(value: number, weight: number, reverse: boolean): FileVerdict {
  if (weight === 0) return { failed: value !== 0, adjust: 0 };
  const adjust = value * weight * (reverse ? -1 : 1);
  return adjust <= FILE_FAILED_BELOW ? { failed: true, adjust: 0 } : { failed: false, adjust };
}

/** Calls `onValue` with the file's value now and after every change; `close()` stops watching. */
export class TrackFileWatcher {
  private readonly watcher: FSWatcher;
  private last: number;

  constructor(
    readonly path: string,
    private readonly onValue: (value: number) => void,
  ) {
    this.last = readTrackValue(path);
    // Watch the directory so a file replaced by rename (editors, `mv`) keeps being seen.
    this.watcher = watch(dirname(path), (_event, name) => {
      if (name !== null && name !== basename(path)) return;
      const v = readTrackValue(path);
      if (v === this.last) return;
      this.last = v;
      this.onValue(v);
    });
    this.watcher.on('error', () => this.watcher.close());
  }

  get value(): number {
    return this.last;
  }

  close(): void {
    this.watcher.close();
  }
}
