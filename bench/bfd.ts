// `npm run bench:bfd` (issue #22): three parts, all by default, one or some with BFD_PARTS=detect,takeover,load.
// - detect (bfd-detect.ts): detection time of lvskeeper's and keepalived's BFD against FRR's bfdd, 3 × 50 and 3 × 10 ms;
// - takeover (bfd-takeover.ts): a MASTER director SIGKILLed, time to the BACKUP's MASTER transition, with
//   --bfd-takeover and with plain VRRPv3 at advert_int 0.1;
// - load (bfd-load.ts): Down events nobody provoked on a 3 × 50 ms session to bfdd over BENCH_SECONDS (600) while the
//   same daemon runs ~5,000 TCP checks a second and reloads every 10 s.
// Root, keepalived and frr needed. Run: npm run bench:bfd [-- N]   (N: samples per daemon and session, and takeover
// runs per mode; default 20)
import { existsSync } from 'node:fs';
import { loadavg } from 'node:os';
import { BFDD } from '../test/bfd/bfd-netns.js';

const PARTS = ['detect', 'takeover', 'load'] as const;
const n = Number(process.argv[2] ?? 20);
const parts = (process.env['BFD_PARTS'] ?? PARTS.join(',')).split(',');
const unknown = parts.filter((p) => !(PARTS as readonly string[]).includes(p));
if (unknown.length > 0) {
  process.stderr.write(`bench:bfd: unknown part ${unknown.join(', ')} in BFD_PARTS (there are: ${PARTS.join(', ')})\n`);
  process.exit(2);
}
if (process.getuid?.() !== 0 || !existsSync('/usr/sbin/keepalived') || !existsSync(BFDD)) {
  process.stderr.write('bench:bfd: needs root, /usr/sbin/keepalived (apt-get install keepalived) and bfdd (apt-get install frr)\n');
  process.exit(2);
}

const load = (): string => loadavg().map((l) => l.toFixed(2)).join(' ');
for (const part of parts) {
  process.stdout.write(`--- ${part} (load average ${load()})\n`);
  if (part === 'detect') await (await import('./bfd-detect.js')).detection(n);
  if (part === 'takeover') await (await import('./bfd-takeover.js')).takeover(n);
  if (part === 'load') await (await import('./bfd-load.js')).underLoad(Number(process.env['BENCH_SECONDS'] ?? 600));
}
process.stdout.write(`--- done (load average ${load()})\n`);
