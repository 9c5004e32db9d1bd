// Files root writes and reads where other users may have a hand: dumps in /tmp, the state file, pid files.
// Writes follow keepalived 2.2.7's fopen_safe (lib/utils.c, its fix for CVE-2018-19044/19046): a fresh file under a
// random name beside the target, created O_EXCL|O_NOFOLLOW and owner-only, then renamed over the target, so a link
// planted at the path is never followed and a file someone else holds open never receives our bytes. Safer than
// keepalived: the bytes are written before the rename (no reader sees a half-written file), and a path whose
// directories another user could change, or whose last component is a symbolic link or not a regular file, is refused.
import { randomBytes } from 'node:crypto';
import {
  chmodSync, close, closeSync, constants, fchmodSync, fstatSync, fsync, fsyncSync, linkSync, lstatSync, mkdirSync, openSync, readlinkSync, readSync, renameSync,
  unlinkSync, write, writeSync,
} from 'node:fs';
import { dirname, resolve } from 'node:path';
import { promisify } from 'node:util';

const writeAsync = promisify(write);
const fsyncAsync = promisify(fsync);
const closeAsync = promisify(close);

const { O_CREAT, O_EXCL, O_NOFOLLOW, O_NONBLOCK, O_RDONLY, O_WRONLY, O_NOCTTY } = constants;

/** A path refused for safety; the message names the path and why, for the log. */
export class UnsafePathError extends Error {}

export interface DirectoryPolicy {
  /**
   * Whether the last directory may be writable by others when it is sticky (/tmp: others cannot replace our entries).
   * Directories above it always may: a sticky one keeps our subdirectory's entry ours.
   */
  readonly allowSticky: boolean;
}

const euid = (): number => process.geteuid?.() ?? 0;
const trusted = (uid: number): boolean => uid === 0 || uid === euid();

/**
 * Refuses a directory that someone other than root (or us) could change: every directory from `/` down must be owned
 * by root or us and not group/world-writable (unless sticky, where allowed), and every symbolic link on the way must
 * be ours too (a link another user planted in /tmp would otherwise redirect us, as fs.protected_symlinks guards).
 */
export function checkDirectory(dir: string, policy: DirectoryPolicy = { allowSticky: true }): void {
  const parts = resolve(dir).split('/').filter((p) => p !== '');
  let current = '/';
  const policyAt = (i: number): DirectoryPolicy => (i === parts.length - 1 ? policy : { allowSticky: true });
  checkDir(current, parts.length === 0 ? policy : { allowSticky: true });
  for (let i = 0; i < parts.length; i++) {
    const next = current === '/' ? `/${parts[i]}` : `${current}/${parts[i]}`;
    let st;
    try {
      st = lstatSync(next);
    } catch (err) {
      throw new UnsafePathError(`${next}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
    }
    if (st.isSymbolicLink()) {
      if (!trusted(st.uid)) throw new UnsafePathError(`${next} is a symbolic link owned by uid ${st.uid}`);
      // A trusted link: check what it leads to, from the top, then the rest of the path.
      const rest = parts.slice(i + 1).join('/');
      const target = resolve(dirname(next), readlinkSync(next));
      return checkDirectory(rest === '' ? target : `${target}/${rest}`, policy);
    }
    current = next;
    checkDir(current, policyAt(i), st);
  }
}

function checkDir(path: string, policy: DirectoryPolicy, st = lstatSync(path)): void {
  if (!st.isDirectory()) throw new UnsafePathError(`${path} is not a directory`);
  if (!trusted(st.uid)) throw new UnsafePathError(`directory ${path} is owned by uid ${st.uid}, not root`);
  const othersWrite = (st.mode & 0o022) !== 0;
  const sticky = (st.mode & 0o1000) !== 0;
  if (othersWrite && !(sticky && policy.allowSticky)) {
    throw new UnsafePathError(`directory ${path} is writable by group or others (mode ${(st.mode & 0o7777).toString(8).padStart(4, '0')})`);
  }
}

export interface WriteOptions {
  /** File mode, applied with fchmod whatever the umask (default 0600). */
  readonly mode?: number;
  /** Fail with EEXIST instead of replacing an existing file (pid files): published with link(2), atomic too. */
  readonly exclusive?: boolean;
  /** fsync before the rename, for files that must survive a crash whole (the state file). */
  readonly durable?: boolean;
}

/**
 * Writes `data` to `path` as a whole new file, atomically. Throws UnsafePathError for a refused path, or the
 * system error (EEXIST when `exclusive` and the path exists).
 */
export function writeFileSafe(path: string, data: string | Buffer, opts: WriteOptions = {}): void {
  const temp = openTemp(path, opts);
  try {
    const buf = typeof data === 'string' ? Buffer.from(data) : data;
    for (let off = 0; off < buf.length; ) off += writeSync(temp.fd, buf, off, buf.length - off);
    if (opts.durable) fsyncSync(temp.fd);
    // Marked first: Linux frees the descriptor even when close fails, and its number may be reused at once.
    temp.closed = true;
    closeSync(temp.fd);
    publish(temp, path, opts);
  } finally {
    discard(temp);
  }
}

/**
 * writeFileSafe for text that comes in parts (a dump of 30,000 real servers): the same checks and the same
 * publication, with each part encoded and written on its own, off the loop, so no turn of the caller's loop holds
 * more than a part.
 */
export async function writeFileSafeFrom(path: string, parts: AsyncIterable<string> | Iterable<string>, opts: WriteOptions = {}): Promise<void> {
  const temp = openTemp(path, opts);
  try {
    for await (const part of parts) {
      const buf = Buffer.from(part);
      for (let off = 0; off < buf.length; ) off += (await writeAsync(temp.fd, buf, off, buf.length - off)).bytesWritten;
    }
    if (opts.durable) await fsyncAsync(temp.fd);
    temp.closed = true;
    await closeAsync(temp.fd);
    publish(temp, path, opts);
  } finally {
    discard(temp);
  }
}

/** A new file under a random name beside its target, until publish() renames it over the target. */
interface TempFile {
  readonly name: string;
  readonly fd: number;
  closed: boolean;
  published: boolean;
}

function openTemp(path: string, opts: WriteOptions): TempFile {
  checkDirectory(dirname(path));
  checkTarget(path);
  const name = `${path}.${randomBytes(6).toString('hex')}.tmp`;
  // O_EXCL|O_CREAT never follows a link and fails on any existing name; O_NOFOLLOW says so twice.
  const fd = openSync(name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_NOCTTY, 0o600);
  const temp = { name, fd, closed: false, published: false };
  try {
    fchmodSync(fd, opts.mode ?? 0o600);
  } catch (err) {
    discard(temp);
    throw err;
  }
  return temp;
}

function publish(temp: TempFile, path: string, opts: WriteOptions): void {
  if (opts.exclusive) {
    linkSync(temp.name, path);
    unlinkSync(temp.name);
  } else renameSync(temp.name, path);
  temp.published = true;
}

/** Closes and removes a temporary file that was not published; nothing once it was. */
function discard(temp: TempFile): void {
  if (temp.published) return;
  if (!temp.closed) {
    try {
      closeSync(temp.fd);
    } catch {
      // Nothing to add to the error under way.
    }
  }
  try {
    unlinkSync(temp.name);
  } catch {
    // Already gone.
  }
}

/** What may stand at a path we replace: nothing, or a regular file. A link or anything else is refused. */
function checkTarget(path: string): void {
  let st;
  try {
    st = lstatSync(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw err;
  }
  if (st.isSymbolicLink()) throw new UnsafePathError(`${path} is a symbolic link (not followed; remove it)`);
  if (!st.isFile()) throw new UnsafePathError(`${path} exists and is not a regular file`);
}

export interface ReadOptions {
  /** Longer files are refused rather than read. */
  readonly maxBytes: number;
}

/**
 * Reads a file root wrote and will trust: refused (UnsafePathError) when its directories are not root's, when it is
 * a symbolic link (opened O_NOFOLLOW), not a regular file, owned by another user, writable by group or others, or
 * longer than maxBytes. Returns undefined when it does not exist. The error never quotes the file's contents.
 */
export function readFileSafe(path: string, opts: ReadOptions): Buffer | undefined {
  checkDirectory(dirname(path));
  let fd: number;
  try {
    // O_NONBLOCK: a FIFO planted at the path must not block the open.
    fd = openSync(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return undefined;
    if (code === 'ELOOP') throw new UnsafePathError(`${path} is a symbolic link (not followed)`);
    throw err;
  }
  try {
    const st = fstatSync(fd);
    if (!st.isFile()) throw new UnsafePathError(`${path} is not a regular file`);
    if (!trusted(st.uid)) throw new UnsafePathError(`${path} is owned by uid ${st.uid}, not root`);
    if ((st.mode & 0o022) !== 0) throw new UnsafePathError(`${path} is writable by group or others (mode ${(st.mode & 0o7777).toString(8).padStart(4, '0')})`);
    if (st.size > opts.maxBytes) throw new UnsafePathError(`${path} is larger than ${opts.maxBytes} bytes`);
    // Sized by fstat, plus one byte to notice a file that grew since.
    const buf = Buffer.alloc(st.size + 1);
    let n = 0;
    for (let r; n < buf.length && (r = readSync(fd, buf, n, buf.length - n, null)) > 0; ) n += r;
    if (n > st.size) throw new UnsafePathError(`${path} changed while being read`);
    return buf.subarray(0, n);
  } finally {
    closeSync(fd);
  }
}

/**
 * mkdir -p with each directory it creates given exactly `mode`, whatever the mask: keepalived lifts the mask for its
 * pid directory (pidfile.c create_pid_dir, rwxr-xr-x), and a directory of ours without its owner's x would be absurd.
 */
export function mkdirWithMode(dir: string, mode: number): void {
  const first = mkdirSync(dir, { recursive: true, mode });
  if (first === undefined) return;
  for (let d = dir; ; d = dirname(d)) {
    chmodSync(d, mode);
    if (d === first || d === dirname(d)) return;
  }
}
