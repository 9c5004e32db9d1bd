// The descriptor budget. Node raises RLIMIT_NOFILE's soft limit to the hard limit at start-up (src/node.cc,
// PlatformInit), so the soft limit read back here is what the process really has; tests check that rather than
// assume it. The userspace data plane may use half of it (two descriptors per TCP connection, one per UDP flow);
// the control socket has its own small cap (control.ts); the rest is left to checkers (one socket per attempt in
// flight), VRRP, scripts and Node itself, so that no flood of clients can starve the checks.
import { readFileSync } from 'node:fs';

export interface NofileLimit {
  readonly soft: number;
  readonly hard: number;
}

/** RLIMIT_NOFILE from /proc/self/limits (`Max open files  SOFT  HARD  files`); 1024 each when it cannot be read. */
export function nofileLimit(limits?: string): NofileLimit {
  let text = limits;
  if (text === undefined) {
    try {
      text = readFileSync('/proc/self/limits', 'utf8');
    } catch {
      return { soft: 1024, hard: 1024 };
    }
  }
  const m = /^Max open files\s+(\S+)\s+(\S+)/m.exec(text);
  const num = (s: string | undefined): number => (s === undefined ? 1024 : s === 'unlimited' ? Number.MAX_SAFE_INTEGER : Number(s));
  return { soft: num(m?.[1]), hard: num(m?.[2]) };
}

/** The data plane's default cap on TCP connections plus UDP flows: a quarter of the soft limit (≤ half its descriptors). */
export function dataplaneConnectionCap(limit: NofileLimit = nofileLimit()): number {
  return Math.max(16, Math.floor(limit.soft / 4));
}
