// Console lines into a shared pipe or socket (src/stdout-lines.ts): a process's loop never waits for the reader, lines
// logged at exit are all written, and the lines of processes writing one pipe at once arrive whole. Real processes;
// node's spawn gives a socketpair, a shell's `|` a pipe.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { test } from 'node:test';
import { lineLength } from './console-pipe-lines.js';

const child = new URL('./console-pipe-child.js', import.meta.url).pathname;
const LINE = /^\w{3} \w{3} [ \d]\d \d{4} \d\d:\d\d:\d\d: (\w+) (\d+) (x+)$/;

/** Every line whole, each writer's in order and all there. */
function assertWhole(lines: readonly string[], writers: Record<string, number>): void {
  const next = new Map(Object.keys(writers).map((w) => [w, 0]));
  for (const l of lines) {
    const m = LINE.exec(l);
    assert.ok(m, `a line cut or mixed: ${l.slice(0, 120)}…`);
    const [, who, seq, xs] = m;
    assert.equal(Number(seq), next.get(who!), `${who}'s lines out of order`);
    assert.equal(xs!.length, lineLength(Number(seq)), `${who} ${seq} has lost or gained bytes`);
    next.set(who!, Number(seq) + 1);
  }
  for (const [who, n] of Object.entries(writers)) assert.equal(next.get(who), n, `${who}'s lines missing`);
}

async function readAll(out: NodeJS.ReadableStream): Promise<string[]> {
  const lines: string[] = [];
  for await (const l of createInterface({ input: out })) lines.push(l);
  return lines;
}

const node = `"${process.execPath}" "${child}"`;

for (const [output, argv] of [['socket', [child]], ['pipe', ['-c', `${node} A 20000 | cat`]]] as const) {
  test(`into a ${output}: a process whose 10 MB of lines fill it keeps its loop turning while nobody reads, and loses no line`, { timeout: 60_000 }, async () => {
    // Written as node writes to a pipe or socket, the child would wait for the reader and never say it is alive, and
    // this test would time out. Through the shell, the child's IPC channel is the descriptor the shell inherited.
    const c = output === 'socket'
      ? spawn(process.execPath, [...argv, 'A', '20000'], { stdio: ['ignore', 'pipe', 'inherit', 'ipc'] })
      : spawn('sh', argv, { stdio: ['ignore', 'pipe', 'inherit', 'ipc'] });
    const said = await new Promise((resolve) => c.once('message', resolve));
    assert.equal(said, 'alive');
    const lines = readAll(c.stdout!);
    c.send('exit');
    assertWhole(await lines, { A: 20_000 });
  });
}

test('past 16 Mi characters waiting, lines are dropped, and their count is said once the reader takes lines again', { timeout: 60_000 }, async () => {
  const c = spawn(process.execPath, [child, 'A', '40000'], { stdio: ['ignore', 'pipe', 'inherit', 'ipc'] });
  assert.equal(await new Promise((resolve) => c.once('message', resolve)), 'alive');
  const lines = readAll(c.stdout!);
  c.send('exit');
  const all = await lines;
  const said = /: (\d+) log lines dropped: this output's reader did not keep up$/.exec(all.at(-1) ?? '');
  assert.ok(said, `no count of the dropped lines at the end: ${all.at(-1)?.slice(0, 120)}`);
  const kept = all.length - 1;
  assertWhole(all.slice(0, kept), { A: kept });
  assert.equal(kept + Number(said[1]), 40_000);
  assert.ok(kept > 20_000, `only ${kept} lines kept`);
});

test('lines logged just before exit are all written, in order', { timeout: 60_000 }, async () => {
  const c = spawn(process.execPath, [child, 'A', '20000', 'exit-now'], { stdio: ['ignore', 'pipe', 'inherit'] });
  assertWhole(await readAll(c.stdout!), { A: 20_000 });
});

for (const output of ['pipe', 'socket'] as const) {
  test(`two processes writing one ${output} at once: every line arrives whole, each writer's in its order`, { timeout: 60_000 }, async () => {
    // The shell gives both children one output, as the supervisor gives its stdout to the children it forks; node's
    // spawn makes it a socketpair, as a service manager's journal stream is a socket.
    const both = `${node} A 20000 exit-now & ${node} B 20000 exit-now & wait`;
    const sh = spawn('sh', ['-c', output === 'pipe' ? `(${both}) | cat` : both], { stdio: ['ignore', 'pipe', 'inherit'] });
    assertWhole(await readAll(sh.stdout!), { A: 20_000, B: 20_000 });
  });
}
