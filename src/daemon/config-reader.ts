// The supervisor reads the config in a worker thread, once per start or reload: parsing a 30,000-server file takes
// hundreds of milliseconds, which the supervisor's own loop (signals, control socket, data plane, child
// heartbeats) must not spend. The worker's heap is bounded and so is its time: a config that expands without end
// costs a refused reload, never the running daemon.
import { Worker } from 'node:worker_threads';
import type { ConfigRead } from '../ipc/protocol.js';

export interface ReadRequest {
  readonly file: string;
  readonly configId?: string;
  readonly strictCompat: boolean;
}

/** The worker's old generation, in MiB: several times what 100,000 real servers take. */
export const READER_HEAP_MB = 2048;
export const READER_TIMEOUT_MS = 120_000;

export function readConfig(req: ReadRequest): Promise<ConfigRead> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(new URL('./config-worker.js', import.meta.url), {
      workerData: req,
      resourceLimits: { maxOldGenerationSizeMb: READER_HEAP_MB },
    });
    let settled = false;
    const settle = (fn: () => void): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      fn();
    };
    const timer = setTimeout(() => {
      settle(() => reject(new Error(`reading ${req.file} took more than ${READER_TIMEOUT_MS / 1000} s`)));
      void worker.terminate();
    }, READER_TIMEOUT_MS);
    worker.once('message', (read: ConfigRead) => settle(() => resolve(read)));
    worker.once('error', (err: Error & { code?: string }) =>
      settle(() => reject(new Error(err.code === 'ERR_WORKER_OUT_OF_MEMORY' ? `reading ${req.file} needs more than ${READER_HEAP_MB} MiB` : err.message))),
    );
    worker.once('exit', (code) => settle(() => reject(new Error(`config reader exited with status ${code}`))));
  });
}
