// Writes the README's compatibility table from the keyword tables (src/config/schema/compat-table.ts); run by
// `npm run compat-table` after a keyword's run-time status changes. test/config/compat-table.test.ts checks it.
import { readFileSync, writeFileSync } from 'node:fs';
import { withCompatTable } from '../dist/src/config/schema/compat-table.js';

const path = new URL('../README.md', import.meta.url);
const before = readFileSync(path, 'utf8');
const after = withCompatTable(before);
if (after !== before) writeFileSync(path, after);
process.stdout.write(after !== before ? 'README.md: compatibility table updated\n' : 'README.md: compatibility table already current\n');
