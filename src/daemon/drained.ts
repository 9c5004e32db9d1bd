// Writing to a client at the client's pace (the /metrics endpoint, the control socket): the next piece waits until
// the client has taken the last, and a client that takes nothing for too long is let go. Node's own socket timeout
// is no bound here: with writes pending it was seen not to fire.
import type { EventEmitter } from 'node:events';

/** Resolves once `stream` has drained or closed; destroys it (and so resolves) when it takes nothing for `idleMs`. */
export function drainedOrClosed(stream: EventEmitter & { destroy(): void }, idleMs: number): Promise<void> {
  return new Promise((resolve) => {
    const idle = setTimeout(() => stream.destroy(), idleMs);
    const done = (): void => {
      clearTimeout(idle);
      stream.off('drain', done);
      stream.off('close', done);
      resolve();
    };
    stream.on('drain', done);
    stream.on('close', done);
  });
}
