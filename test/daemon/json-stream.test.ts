// Replies written as they are produced: jsonPieces gives JSON.stringify's exact text, compact and indented, with
// lists that arrive in batches standing anywhere in plain objects.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { bigintAsString, jsonPieces, LazyArray } from '../../src/daemon/json-stream.js';

const text = async (value: unknown, indent = 0): Promise<string> => {
  let out = '';
  for await (const p of jsonPieces(value, indent)) out += p;
  return out;
};

/** `items` as a LazyArray of batches of `size`, and the list it stands for. */
function lazy(items: readonly unknown[], size: number): LazyArray {
  return new LazyArray(async function* () {
    for (let i = 0; i < items.length; i += size) yield items.slice(i, i + size);
  });
}

test('jsonPieces writes what JSON.stringify writes, compact and indented, lazy lists at any depth', async () => {
  const servers = Array.from({ length: 25 }, (_, i) => ({ rsId: `rs-${i}`, alive: i % 3 !== 0, weight: i, bytes: BigInt(i) * 10n ** 18n, note: i === 4 ? 'a\nb "q"' : undefined }));
  const shapes: [unknown, unknown][] = [
    [{ a: 1, list: lazy(servers, 7), b: 'x' }, { a: 1, list: servers, b: 'x' }],
    [{ ipvs: { driver: 'netlink', passes: 3, virtualServers: lazy(servers, 1), empty: {} }, overrides: [], n: null }, { ipvs: { driver: 'netlink', passes: 3, virtualServers: servers, empty: {} }, overrides: [], n: null }],
    [{ none: lazy([], 5), gone: undefined, also: lazy([undefined, 1n], 1) }, { none: [], gone: undefined, also: [undefined, 1n] }],
    [lazy(servers, 4), servers],
    [{ plain: { deep: [1, { x: 2 }] }, when: new Date(0) }, { plain: { deep: [1, { x: 2 }] }, when: new Date(0) }],
  ];
  for (const [streamed, whole] of shapes) {
    for (const indent of [0, 2]) assert.equal(await text(streamed, indent), JSON.stringify(whole, bigintAsString, indent), `indent ${indent}`);
  }
});

test('a lazy list is read a batch at a time, and left when the reader stops', async () => {
  let read = 0;
  let closed = false;
  const list = new LazyArray(async function* () {
    try {
      for (let i = 0; i < 100; i++) {
        read++;
        yield [i];
      }
    } finally {
      closed = true;
    }
  });
  // '{', '"list":', '[', '0', ',1', ',2': three batches read, then the reader goes.
  let pieces = 0;
  for await (const _ of jsonPieces({ list })) if (++pieces === 6) break;
  assert.equal(read, 3);
  assert.ok(closed);
});
