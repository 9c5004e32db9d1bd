// The HTTP/TCP backend the daemon benches check (bench/checkers-backend.ts), started as its own process so that
// serving does not count against lvskeeper's CPU; resolves once it listens, with its port.
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';

export async function startBackend(): Promise<{ child: ChildProcess; port: number }> {
  const child = spawn(process.execPath, [new URL('./checkers-backend.js', import.meta.url).pathname], { stdio: ['pipe', 'pipe', 'inherit'] });
  const lines = createInterface({ input: child.stdout! })[Symbol.asyncIterator]();
  const first = await lines.next();
  return { child, port: Number(/port (\d+)/.exec(String(first.value))![1]) };
}
