// Runs every compiled test file under dist/test with node's test runner.
// Node 20's --test cannot take globs, and a bare directory would also pick up helpers.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { spawn } from 'node:child_process';

function collect(dir, out) {
  for (const name of readdirSync(dir).sort()) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) collect(path, out);
    else if (name.endsWith('.test.js')) out.push(path);
  }
  return out;
}

const only = process.argv.slice(2);
const files = collect('dist/test', []).filter((f) => only.length === 0 || only.some((o) => f.includes(o)));
if (files.length === 0) {
  console.error('no test files matched');
  process.exit(1);
}
// Files that load the machine on purpose and measure that others do not suffer (30,000 real servers against a
// keepalived peer at advert_int 0.1) run after the rest, alone, so that neither skews the other. The generated VM
// differential too: its checkers time out good servers in a guest starved by tests beside it.
const ALONE = ['daemon/isolation.test.js', 'vm/generated-differential.test.js'];
const alone = files.filter((f) => ALONE.some((a) => f.endsWith(a)));
const shared = files.filter((f) => !alone.includes(f));

// A test without a timeout of its own that never ends would hold the run until CI's own limit, which names nothing.
// Two guards name it instead. In the shared group each file gets 20 minutes, given to node's runner, which fails a
// file that runs longer and kills its process (the longest, a VM boot, takes about 5). Past the deadline the files
// still running in any group are named and killed, and the run fails. CI allows 90 minutes in all; the suite takes
// about 40.
const FILE_TIMEOUT_MS = 20 * 60_000;
const DEADLINE_S = Number(process.env.LVSK_TEST_DEADLINE_S ?? 70 * 60);
const deadline = Date.now() + DEADLINE_S * 1000;

/** The test files among a process's descendants. */
function runningFiles(root) {
  const procs = [];
  for (const pid of readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      const args = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
      procs.push({ pid: Number(pid), ppid, args });
    } catch {
      // gone since the listing
    }
  }
  const tree = new Set([root]);
  for (let grew = true; grew; ) {
    grew = false;
    for (const p of procs) if (!tree.has(p.pid) && tree.has(p.ppid)) (tree.add(p.pid), (grew = true));
  }
  return procs.filter((p) => tree.has(p.pid) && p.pid !== root).map((p) => p.args.find((a) => a.endsWith('.test.js'))).filter(Boolean);
}

let interrupted = false;

function runGroup(group, nodeArgs) {
  return new Promise((resolve) => {
    // Its own process group, so that a hung file and everything it started go together.
    const child = spawn(process.execPath, ['--test', '--test-concurrency=2', ...nodeArgs, ...group], { stdio: 'inherit', detached: true });
    const signalGroup = (signal) => {
      try {
        process.kill(-child.pid, signal);
      } catch {
        // already gone
      }
    };
    // Being in a group of its own, it no longer gets the terminal's ^C: what stops this runner stops it.
    const forward = (signal) => {
      interrupted = true;
      signalGroup(signal);
    };
    for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, forward);
    const timer = setTimeout(() => {
      const hung = [...new Set(runningFiles(child.pid))];
      console.error(`run-tests: ${DEADLINE_S} s passed; still running, killed: ${hung.join(', ') || '(no test file)'}`);
      signalGroup('SIGKILL');
    }, Math.max(0, deadline - Date.now()));
    child.on('exit', (code) => {
      clearTimeout(timer);
      for (const signal of ['SIGINT', 'SIGTERM']) process.off(signal, forward);
      resolve(code ?? 1);
    });
  });
}

let status = 0;
for (const group of [shared, ...alone.map((f) => [f])]) {
  if (group.length === 0) continue;
  if (interrupted) break;
  if (Date.now() >= deadline) {
    console.error(`run-tests: ${DEADLINE_S} s passed; not run: ${group.join(', ')}`);
    status ||= 1;
    continue;
  }
  // A file run alone (the generated differential, its replays included) has a timeout of its own.
  status ||= await runGroup(group, group === shared ? [`--test-timeout=${FILE_TIMEOUT_MS}`] : []);
}
process.exit(status);
