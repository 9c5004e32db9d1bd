// `npm run bench`: every `bench:*` script of package.json one after the other (each measures its peer in the same
// run), its output passed through as it comes, then one summary table of the lines that carry a comparison or a
// verdict. `npm run bench -- parse takeover` runs only the named ones. Exit status: the number of benches that failed.
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const scripts = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).scripts;
const all = Object.keys(scripts).filter((s) => s.startsWith('bench:')).map((s) => s.slice('bench:'.length));
const wanted = process.argv.slice(2);
const unknown = wanted.filter((w) => !all.includes(w));
if (unknown.length > 0) {
  process.stderr.write(`unknown bench: ${unknown.join(', ')} (there are: ${all.join(', ')})\n`);
  process.exit(2);
}
const names = wanted.length > 0 ? wanted : all;

/** The lines a reader compares: ratios, targets, survival counts, and the skips that explain a missing figure. */
const SUMMARY = /ratio|target|survived|median|not installed|skipped|busy machine/i;

function run(name) {
  return new Promise((resolve) => {
    const started = Date.now();
    process.stdout.write(`\n===== bench:${name}\n`);
    // The script's own entry (`npm run bench` built dist/ once before this runs, so no rebuild per bench).
    const entry = /node (dist\/bench\/\S+\.js)/.exec(scripts[`bench:${name}`])[1];
    const child = spawn(process.execPath, [join(root, entry)], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (d) => {
      out += d;
      process.stdout.write(d);
    });
    child.on('close', (code, signal) => {
      const lines = out.split('\n').filter((l) => SUMMARY.test(l)).map((l) => l.trim());
      resolve({ name, ok: code === 0, status: signal ?? String(code), seconds: (Date.now() - started) / 1000, lines });
    });
  });
}

const results = [];
for (const name of names) results.push(await run(name));

process.stdout.write('\n===== summary\n');
for (const r of results) {
  const head = `bench:${r.name} (${r.seconds.toFixed(0)} s${r.ok ? '' : `, failed: ${r.status}`})`;
  process.stdout.write(`${head}\n`);
  for (const l of r.lines) process.stdout.write(`    ${l}\n`);
  if (r.lines.length === 0) process.stdout.write('    (no comparison line; see its output above)\n');
}
process.exitCode = results.filter((r) => !r.ok).length;
