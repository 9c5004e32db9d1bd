// What the benches read of a running lvskeeper from /proc: it is a supervisor with child processes, so memory and
// CPU are the sums over the tree.
import { readdirSync, readFileSync } from 'node:fs';

const TICKS = 100; // USER_HZ on Linux

function stat(pid: number): string[] {
  return readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
}

export function rssMb(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return Number(m?.[1] ?? 0) / 1024;
}

export function cpuS(pid: number): number {
  const f = stat(pid);
  return (Number(f[11]) + Number(f[12])) / TICKS;
}

/** `pid` and its children (the supervisor's VRRP and checker processes; not their scripts' children). */
export function tree(pid: number): number[] {
  const kids: number[] = [];
  for (const name of readdirSync('/proc')) {
    const p = Number(name);
    if (!Number.isInteger(p)) continue;
    try {
      if (Number(stat(p)[1]) === pid) kids.push(p);
    } catch {
      // exited meanwhile
    }
  }
  return [pid, ...kids];
}

export const treeRssMb = (pid: number): number => tree(pid).reduce((n, p) => n + rssMb(p), 0);

/**
 * A tree's resident memory with what its processes share counted once, in MB, from /proc/PID/smaps_rollup: each
 * process's RSS includes the file pages every node process maps (node's own text, ~40 MB), so the sum of RSS counts
 * them once per process. `anon`: the processes' own heaps and stacks, summed; `file`: the largest file-backed share
 * of one process, which the others' mostly are. (PSS would share the file pages with every other node process on
 * the machine as well, so it changes with what else runs.)
 */
export function treeMemory(pid: number): { readonly once: number; readonly anon: number; readonly file: number } {
  let anon = 0;
  let file = 0;
  for (const p of tree(pid)) {
    const text = readFileSync(`/proc/${p}/smaps_rollup`, 'utf8');
    const kb = (field: string): number => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(text)?.[1] ?? 0) / 1024;
    anon += kb('Anonymous');
    file = Math.max(file, kb('Rss') - kb('Anonymous'));
  }
  return { once: anon + file, anon, file };
}

/** `RSS with shared pages counted once 150.2 MB (anonymous 110.1 + file-backed 40.1)`. */
export function memoryLine(pid: number): string {
  const m = treeMemory(pid);
  return `RSS with shared pages counted once ${m.once.toFixed(1)} MB (anonymous ${m.anon.toFixed(1)} + file-backed ${m.file.toFixed(1)})`;
}

/** A process of the tree of `root`: `supervisor` for the root, the children by title (`checkers`, `vrrp`, …). */
export function processName(p: number, root: number): string {
  return p === root ? 'supervisor' : title(p).replace(/^lvskeeper: /, '');
}

/** Each process's RSS, `supervisor 60.1 + checkers 70.2 MB`. */
export function rssBreakdown(pid: number): string {
  return tree(pid).map((p) => `${processName(p, pid)} ${rssMb(p).toFixed(1)}`).join(' + ') + ' MB';
}
export const treeCpuS = (pid: number): number => tree(pid).reduce((n, p) => n + cpuS(p), 0);

/** The process title each lvskeeper process sets (`lvskeeper: vrrp`, …), or the command line. */
export function title(pid: number): string {
  return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0')[0] ?? '';
}
