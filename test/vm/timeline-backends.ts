// The backends of a generated differential run (scenario-generator.ts), run in the guest's root namespace where the
// daemons' namespaces route to: one TCP or HTTP listener per real server, and the exit code each MISC_CHECK script
// reads. Every SIGUSR1 moves all of them to the next phase of their timeline, then writes the phase number to
// <dir>/phase. `slow` drops the backend's SYN-ACKs (its address and port in the guest's nft set inet lvskslow) and
// answers no request.
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import type { BackendState } from './scenario-generator.js';

export interface BackendSpec {
  readonly id: string;
  readonly addr: string;
  readonly port: number;
  readonly kind: 'tcp' | 'http' | 'misc';
  readonly body: string;
  readonly states: readonly BackendState[];
}

interface Live {
  readonly spec: BackendSpec;
  server?: Server;
  state?: BackendState;
  slow: boolean;
}

function answer(live: Live, sock: Socket): void {
  sock.on('error', () => {});
  if (live.spec.kind === 'tcp') {
    sock.end();
    return;
  }
  let seen = '';
  sock.on('data', (chunk: Buffer) => {
    seen += chunk.toString('latin1');
    // A slow backend answers no request, as if its reply were lost: a check that connected just before it turned
    // slow fails as the next one will.
    if (!seen.includes('\r\n\r\n') || live.state === 'slow') return;
    const [status, body] = live.state === 'status' ? ['503 Service Unavailable', 'busy'] : ['200 OK', live.state === 'digest' ? 'another body' : live.spec.body];
    sock.end(`HTTP/1.0 ${status}\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n${body}`);
  });
}

function apply(live: Live, state: BackendState, dir: string): void {
  live.state = state;
  const { spec } = live;
  if (spec.kind === 'misc') {
    writeFileSync(`${dir}/misc/${spec.id}`, `${state.startsWith('exit:') ? state.slice(5) : '1'}\n`);
    return;
  }
  const slow = state === 'slow';
  if (slow !== live.slow) {
    const set = spec.addr.includes(':') ? 'v6' : 'v4';
    execFileSync('nft', [slow ? 'add' : 'delete', 'element', 'inet', 'lvskslow', set, `{ ${spec.addr} . ${spec.port} }`]);
    live.slow = slow;
  }
  if (state === 'down') {
    live.server?.close();
    delete live.server;
  } else if (live.server === undefined) {
    const server = createServer((s) => answer(live, s));
    server.on('error', (e) => process.stderr.write(`backend ${spec.id}: ${String(e)}\n`));
    server.listen({ host: spec.addr, port: spec.port, exclusive: true });
    live.server = server;
  }
}

function main(): void {
  const [specPath, dir] = process.argv.slice(2);
  if (specPath === undefined || dir === undefined) throw new Error('usage: timeline-backends SPEC DIR');
  const specs = JSON.parse(readFileSync(specPath, 'utf8')) as BackendSpec[];
  mkdirSync(`${dir}/misc`, { recursive: true });
  const lives: Live[] = specs.map((spec) => ({ spec, slow: false }));
  let phase = 0;
  const enter = (): void => {
    for (const l of lives) apply(l, l.spec.states[phase] ?? l.spec.states[l.spec.states.length - 1]!, dir);
    // Listeners bind asynchronously; a tick later they are up.
    setTimeout(() => writeFileSync(`${dir}/phase`, `${phase}\n`), 200);
  };
  process.on('SIGUSR1', () => {
    phase += 1;
    enter();
  });
  process.on('SIGTERM', () => process.exit(0));
  enter();
}

main();
