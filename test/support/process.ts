import { readdirSync, readFileSync } from 'node:fs';

/** Whether a process with this pid still exists (signal 0 only checks). */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Processes whose command line holds `marker` (a script's background child, by a sleep argument no other uses). */
export function withMarker(marker: string): number[] {
  return readdirSync('/proc').filter((n) => /^\d+$/.test(n)).filter((n) => {
    try {
      return readFileSync(`/proc/${n}/cmdline`, 'utf8').split('\0').includes(marker);
    } catch {
      return false;
    }
  }).map(Number);
}

/** The processes with `marker` still there after up to a second (a group kill takes a moment); they are killed. */
export async function markedLeftOver(marker: string): Promise<number[]> {
  let left = withMarker(marker);
  for (let i = 0; i < 50 && left.length > 0; i++) {
    await new Promise((r) => setTimeout(r, 20));
    left = withMarker(marker);
  }
  left.forEach((pid) => process.kill(pid, 'SIGKILL'));
  return left;
}
