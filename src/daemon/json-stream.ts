// JSON text written as it is produced, for replies too large to build in one turn of the supervisor's loop: the
// status of 30,000 real servers is 4.6 MB of JSON, and the checker process hands its virtual servers over in batches
// (ipc/pages.ts). A LazyArray stands for such a list inside an otherwise ordinary value; jsonPieces gives the text
// JSON.stringify would give for the whole, piece by piece, with each element of such a list stringified on its own.
import { childPages, type Batch } from '../ipc/pages.js';
import type { PagedArray } from '../ipc/protocol.js';

/** An array whose elements arrive in batches; read once, by jsonPieces. */
export class LazyArray {
  constructor(readonly batches: () => AsyncIterable<readonly unknown[]>) {}
}

/** The elements of a list, whether it is all here or arrives in batches. */
export async function* itemsOf<T>(list: readonly T[] | LazyArray): AsyncGenerator<T> {
  if (!(list instanceof LazyArray)) return yield* list;
  for await (const batch of list.batches()) yield* batch as readonly T[];
}

/** bigints travel as decimal strings, as everywhere on the control socket. */
export const bigintAsString = (_key: string, v: unknown): unknown => (typeof v === 'bigint' ? v.toString() : v);

const isPlainObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && Object.getPrototypeOf(v) === Object.prototype;

function holdsLazy(v: unknown): boolean {
  return v instanceof LazyArray || (isPlainObject(v) && Object.values(v).some(holdsLazy));
}

/**
 * `value` as JSON.stringify(value, bigintAsString, indent) writes it, in pieces. A LazyArray may stand as the value of
 * a plain object's member, at any depth; everything else is stringified whole.
 */
export async function* jsonPieces(value: unknown, indent = 0): AsyncGenerator<string> {
  yield* pieces(value, indent, '');
}

async function* pieces(value: unknown, indent: number, pad: string): AsyncGenerator<string> {
  if (!holdsLazy(value)) {
    yield whole(value, indent, pad);
    return;
  }
  const inner = pad + ' '.repeat(indent);
  const open = indent > 0 ? `\n${inner}` : '';
  let first = true;
  if (value instanceof LazyArray) {
    yield '[';
    // An element a piece: a writer that waits for each piece to leave gives the loop back between them.
    for await (const batch of value.batches()) {
      for (const el of batch) {
        yield `${first ? '' : ','}${open}${whole(el === undefined ? null : el, indent, inner)}`;
        first = false;
      }
    }
    yield first || indent === 0 ? ']' : `\n${pad}]`;
    return;
  }
  yield '{';
  for (const [key, member] of Object.entries(value as Record<string, unknown>)) {
    if (member === undefined || typeof member === 'function' || typeof member === 'symbol') continue;
    yield `${first ? '' : ','}${open}${JSON.stringify(key)}:${indent > 0 ? ' ' : ''}`;
    yield* pieces(member, indent, inner);
    first = false;
  }
  yield first || indent === 0 ? '}' : `\n${pad}}`;
}

/** JSON.stringify's text for `value` at depth `pad`: its own lines indented from there (JSON text holds no raw newline but these). */
function whole(value: unknown, indent: number, pad: string): string {
  const text = JSON.stringify(value, bigintAsString, indent);
  return indent > 0 && pad !== '' ? text.replaceAll('\n', `\n${pad}`) : text;
}

const isPagedArray = (v: unknown): v is PagedArray =>
  typeof v === 'object' && v !== null && Object.keys(v).length === 1 && typeof (v as PagedArray).pagedArray === 'number';

/**
 * The supervisor's side of a child's reply: each PagedArray in it (a member of a plain object, at any depth) becomes a
 * LazyArray over the child's batches, whose cursor is closed if the reader stops before the last.
 */
export function withLazyLists(value: unknown, page: (cursor: number) => Promise<Batch<unknown>>, close: (cursor: number) => void): unknown {
  if (isPagedArray(value)) {
    const cursor = value.pagedArray;
    return new LazyArray(async function* () {
      let done = false;
      try {
        for await (const b of childPages(cursor, page)) {
          done = b.done;
          yield b.items;
        }
      } finally {
        if (!done) close(cursor);
      }
    });
  }
  if (typeof value !== 'object' || value === null || Object.getPrototypeOf(value) !== Object.prototype) return value;
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, withLazyLists(v, page, close)]));
}
