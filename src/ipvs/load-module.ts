// Loading ip_vs before the first IPVS request, as keepalived's ipvs_start does (check/ipvswrapper.c: on a failed
// ipvs_init, keepalived_modprobe("ip_vs") in lib/utils.c, then one more try): the kernel's own modprobe
// (/proc/sys/kernel/modprobe, else /sbin/modprobe) run as `modprobe -s -- ip_vs`.
import { execFile } from 'node:child_process';
import { readFileSync, statSync } from 'node:fs';

/** The modprobe the kernel itself would run, if it is an executable regular file (lib/utils.c get_modprobe). */
function kernelModprobe(): string {
  try {
    const path = readFileSync('/proc/sys/kernel/modprobe', 'utf8').trim();
    const st = statSync(path);
    if (st.isFile() && (st.mode & 0o111) !== 0) return path;
  } catch {
    // keepalived falls back to /sbin/modprobe too.
  }
  return '/sbin/modprobe';
}

/** Runs modprobe for `module`; resolves with its failure's text, or undefined once it exited 0. */
export function modprobe(module: string): Promise<string | undefined> {
  return new Promise((resolve) => {
    execFile(kernelModprobe(), ['-s', '--', module], { timeout: 30_000 }, (err, _out, stderr) => {
      resolve(err ? (stderr.trim() || err.message.trim()) : undefined);
    });
  });
}

/**
 * True once the IPVS generic-netlink family exists, loading ip_vs first when it does not; `why` receives modprobe's
 * failure when the family is still missing.
 */
export async function ensureIpvsFamily(probe: () => Promise<boolean>, why?: (text: string) => void): Promise<boolean> {
  if (await probe()) return true;
  const failed = await modprobe('ip_vs');
  if (await probe()) return true;
  why?.(failed ?? 'modprobe ip_vs succeeded but the IPVS netlink family is still missing');
  return false;
}
