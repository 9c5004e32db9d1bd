// Console lines into a pipe or socket without ever blocking the event loop. The daemon's processes share one stdout
// (the children inherit it), and node writes to a pipe or socket as if it were blocking: once a burst filled it faster
// than its reader took it (a reload of 30,000 real servers logs 30,000 `Activating healthchecker` lines, 3.3 MB, from
// the checker process), a process that logged a line stood in its write until the reader took enough: the VRRP
// process too, adverts and all. The same burst, written at once, let another process's line land inside one of its
// lines (bench:reload's output read `Activating healthchecker for seMon Dec 07 … Reload done in 381 ms`), and lines
// still queued at exit were lost when stdout was a socket.
//
// Here what the output cannot take now waits in this process and is tried again; past a bound, lines are dropped and
// the count is said once the output takes lines again. A pipe is written through a descriptor of this process's own,
// opened non-blocking on it (/proc/self/fd/1 opens a new open file description, so the shared one keeps its flags),
// in writes of whole lines of at most PIPE_BUF bytes, which a pipe takes whole or not at all (pipe(7)): no process's
// line is cut by another's. A socket (a journal's stream, the socketpair a spawning program gives) cannot be opened
// again; its shared description is used when it is non-blocking, as node's libuv makes it (uv_pipe_open). A Unix
// stream socket queues a write in buffers of up to half its send buffer and 32 KiB beyond one page (net/unix/af_unix.c
// unix_stream_sendmsg), and a non-blocking one that cannot queue the first returns EAGAIN having sent nothing: so its
// writes hold at most 16 KiB of whole lines, which any send buffer from 33 KB up (Linux's default is 208 KB) takes
// whole or not at all. Writes of 256 KiB went in several buffers, and another process's line landed between two, inside
// one of this one's lines; writes of 4 KiB put a reload's 3.3 MB of lines in 882 system calls and 56-71 ms, against
// 16 KiB's 219 and 42-44 ms. A terminal or a file is written as before.
import { constants, fstatSync, openSync, readFileSync, writeSync } from 'node:fs';

/** PIPE_BUF (<linux/limits.h>): a write to a pipe no longer than this is atomic. */
const PIPE_BUF = 4096;
/** The most one write to a socket holds (see above). */
const SOCKET_WRITE = 16 * 1024;
/** How soon an output that was full is tried again. */
const RETRY_MS = 5;
/** Characters held for an output whose reader does not keep up; lines past them are dropped and counted. */
const BACKLOG_CHARS = 16 * 1024 * 1024;
/** How long an exiting process waits for a slow reader to take its last lines: a reader that is stuck must not hold it. */
const EXIT_WAIT_MS = 2_000;

export class StdoutLines {
  private lines: string[] = [];
  private head = 0;
  private chars = 0;
  /** What the output took only in part of the last write. */
  private rest: Buffer | undefined = undefined;
  private dropped = 0;
  private scheduled = false;
  private timer: NodeJS.Timeout | undefined = undefined;
  /** The reader is gone (EPIPE) or the descriptor broke: lines go nowhere, as a write to it would fail. */
  private broken = false;

  /**
   * `fd`: a non-blocking descriptor on the output; `writeBytes`: the most one write holds, whole lines only;
   * `droppedLine`: the line that says how many were dropped.
   */
  constructor(
    private readonly fd: number,
    private readonly writeBytes: number,
    private readonly droppedLine: (count: number) => string,
  ) {}

  /** A non-blocking writer for `fd` when it is a pipe or a non-blocking socket; undefined otherwise. */
  static open(fd: number, droppedLine: (count: number) => string): StdoutLines | undefined {
    try {
      const st = fstatSync(fd);
      if (st.isFIFO()) return new StdoutLines(openSync(`/proc/self/fd/${fd}`, constants.O_WRONLY | constants.O_NONBLOCK), PIPE_BUF, droppedLine);
      if (st.isSocket() && nonBlocking(fd)) return new StdoutLines(fd, SOCKET_WRITE, droppedLine);
    } catch {
      // No /proc, or a FIFO with no reader (ENXIO): written as any other output.
    }
    return undefined;
  }

  /** Queues a line (ending in a newline); the lines of one turn of the event loop leave together. */
  push(line: string): void {
    if (this.broken) return;
    // Once dropping, until the backlog is written: the log has one gap, said where it is, not lines missing here and
    // there.
    if (this.dropped > 0 || this.chars + line.length > BACKLOG_CHARS) {
      this.dropped++;
      return;
    }
    this.lines.push(line);
    this.chars += line.length;
    if (!this.scheduled && this.timer === undefined) {
      this.scheduled = true;
      setImmediate(() => {
        this.scheduled = false;
        this.write();
      });
    }
  }

  /**
   * At exit: whatever is left, waiting for the reader as long as EXIT_WAIT_MS (nothing of this process runs after; the
   * descriptor is non-blocking, so the wait is a sleep between tries).
   */
  flushSync(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    const sleeper = new Int32Array(new SharedArrayBuffer(4));
    for (let waited = 0; !this.drain() && waited < EXIT_WAIT_MS; waited += RETRY_MS) Atomics.wait(sleeper, 0, 0, RETRY_MS);
  }

  private write(): void {
    this.timer = undefined;
    if (!this.drain()) this.timer = setTimeout(() => this.write(), RETRY_MS).unref();
  }

  /** Writes until nothing is left (true) or the output is full (false). */
  private drain(): boolean {
    const fd = this.fd;
    try {
      for (;;) {
        if (this.rest !== undefined) {
          const n = writeSync(fd, this.rest);
          this.rest = n < this.rest.length ? this.rest.subarray(n) : undefined;
          if (this.rest !== undefined) return false;
        }
        if (this.head === this.lines.length && this.dropped > 0) {
          const said = this.droppedLine(this.dropped);
          this.lines.push(said);
          this.chars += said.length;
          this.dropped = 0;
        }
        if (this.head === this.lines.length) {
          this.lines = [];
          this.head = 0;
          this.chars = 0;
          return true;
        }
        const [chunk, count] = this.chunk();
        const bytes = Buffer.from(chunk);
        const n = writeSync(fd, bytes);
        this.head += count;
        this.chars -= chunk.length;
        // Only a line longer than writeBytes goes in part.
        if (n < bytes.length) this.rest = bytes.subarray(n);
      }
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EAGAIN') return false;
      this.broken = true;
      this.lines = [];
      this.head = 0;
      this.chars = 0;
      this.rest = undefined;
      return true;
    }
  }

  /**
   * Whole lines from the head, at most writeBytes bytes (a longer line goes alone). Counted in characters, which are
   * the bytes of an ASCII line; a chunk that other characters took past the bound is made again line by line.
   */
  private chunk(): [string, number] {
    let end = this.head;
    for (let chars = 0; end < this.lines.length; end++) {
      chars += this.lines[end]!.length;
      if (end > this.head && chars > this.writeBytes) break;
    }
    const chunk = end - this.head === 1 ? this.lines[this.head]! : this.lines.slice(this.head, end).join('');
    if (end - this.head === 1 || Buffer.byteLength(chunk) <= this.writeBytes) return [chunk, end - this.head];
    let bytes = 0;
    for (end = this.head; end < this.lines.length; end++) {
      bytes += Buffer.byteLength(this.lines[end]!);
      if (end > this.head && bytes > this.writeBytes) break;
    }
    return [this.lines.slice(this.head, end).join(''), end - this.head];
  }
}

/** O_NONBLOCK on `fd`'s open file description, as /proc/self/fdinfo shows its flags (octal). */
function nonBlocking(fd: number): boolean {
  const flags = /^flags:\s+([0-7]+)$/m.exec(readFileSync(`/proc/self/fdinfo/${fd}`, 'utf8'))?.[1];
  return flags !== undefined && (parseInt(flags, 8) & constants.O_NONBLOCK) !== 0;
}
