// A process of the console pipe test (console-pipe.test.ts): logs `count` console lines through lvskeeper's logger
// in one turn, each `<who> <seq> <x…>` with a length that follows from seq, then tells the parent over IPC that its
// loop still turns, and exits when told (or at once with `exit-now`).
import { createLogger } from '../../src/log.js';
import { lineLength } from './console-pipe-lines.js';

const [who, count, mode] = process.argv.slice(2);
const log = createLogger({ console: true });
for (let seq = 0; seq < Number(count); seq++) log.info(`${who} ${seq} ${'x'.repeat(lineLength(seq))}`);
if (mode === 'exit-now') process.exit(0);
setTimeout(() => process.send?.('alive'), 0);
process.on('message', () => process.exit(0));
