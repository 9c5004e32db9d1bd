// bench:heap's reading of a heap snapshot, on a real one: this process's own, taken with a structure of known shape
// and count alive.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { writeHeapSnapshot } from 'node:v8';
import { heapStructures } from '../../bench/heap-structures.js';

test('objects are counted by constructor and property names, strings by representation', () => {
  const dir = mkdtempSync(join(tmpdir(), 'lvsk-heap-'));
  try {
    const n = 5000;
    // gammaField holds a number, which a snapshot keeps inside the object: no edge names it.
    const kept = Array.from({ length: n }, (_, i) => ({ alphaField: `a${i}`, betaField: `b${i}`, gammaField: i }));
    // A cons string per element: a `+` of two strings at least 13 characters long together is one.
    const joined = kept.map((o) => o.betaField + '-suffix-of-thirteen');
    const file = writeHeapSnapshot(join(dir, 'self.heapsnapshot'));
    const { total, rows } = heapStructures(readFileSync(file, 'utf8'));
    const row = rows.find((r) => r.what === 'Object{alphaField,betaField}');
    assert.ok(row, 'a row for the structure');
    // The n objects and at most the literal's boilerplate, which V8 keeps for the function that makes them. (Read
    // from `kept` and `joined` after the snapshot, so neither can be collected before it.)
    assert.ok(row.count === kept.length || row.count === kept.length + 1, `${row.count} objects`);
    // Three in-object fields and the header, and no other structure counted in the row.
    assert.ok(row.bytes >= n * 32 && row.bytes <= (n + 1) * 64, `${row.bytes} bytes`);
    const cons = rows.find((r) => r.what === '(concatenated string)');
    assert.ok(cons && cons.count >= joined.length, 'the concatenations');
    assert.equal(rows.reduce((s, r) => s + r.bytes, 0), total);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
