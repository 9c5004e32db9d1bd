// keepalived's pid-file rule: refuse to start while another daemon owns the pid file; replace a stale one.
// The file is published whole and exclusively (safe-write.ts: a fresh file linked into place, never through a link a
// user planted), and read back only as a root-owned regular file, so a forged pid file cannot block or fool us.
import { unlinkSync } from 'node:fs';
import { dirname } from 'node:path';
import { mkdirWithMode, readFileSafe, UnsafePathError, writeFileSafe } from '../fs/safe-write.js';

export class PidFileError extends Error {}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** The pid a pid file names; undefined when it is gone. Throws PidFileError when it is not a file root wrote. */
function readPid(path: string): number | undefined {
  try {
    const bytes = readFileSafe(path, { maxBytes: 64 });
    return bytes === undefined ? undefined : Number(bytes.toString('latin1').trim());
  } catch (err) {
    if (err instanceof UnsafePathError) throw new PidFileError(`unsafe pid file: ${err.message}`);
    throw err;
  }
}

/** Creates the pid file exclusively; returns a release function. Throws PidFileError if a live daemon holds it. */
export function acquirePidFile(path: string): () => void {
  // keepalived creates its pid directory rwxr-xr-x and the file rw-r--r-- (pidfile.c): readable by monitoring.
  mkdirWithMode(dirname(path), 0o755);
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      writeFileSafe(path, `${process.pid}\n`, { mode: 0o644, exclusive: true });
      return () => {
        try {
          if (readPid(path) === process.pid) unlinkSync(path);
        } catch {
          // Already gone, or no longer ours.
        }
      };
    } catch (err) {
      if (err instanceof UnsafePathError) throw new PidFileError(`cannot create pid file: ${err.message}`);
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw new PidFileError(`cannot create pid file ${path}: ${(err as Error).message}`);
      const pid = readPid(path);
      if (pid !== undefined && Number.isInteger(pid) && pid > 0 && pid !== process.pid && alive(pid)) {
        throw new PidFileError(`daemon is already running (pid ${pid} in ${path})`);
      }
      if (pid !== undefined) unlinkSync(path);
    }
  }
  throw new PidFileError(`cannot take over stale pid file ${path}`);
}
