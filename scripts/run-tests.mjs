// Runs every compiled test file under dist/test with node's test runner.
// Node 20's --test cannot take globs, and a bare directory would also pick up helpers.
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';

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
let status = 0;
for (const group of [shared, ...alone.map((f) => [f])]) {
  if (group.length === 0) continue;
  const result = spawnSync(process.execPath, ['--test', '--test-concurrency=2', ...group], { stdio: 'inherit' });
  status ||= result.status ?? 1;
}
process.exit(status);
