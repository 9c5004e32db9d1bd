// V8 keeps a concatenation (a template literal's result) as a tree of its pieces until something flattens it; a
// string kept for long is better kept whole.

/** A flat copy of `s`: JSON.parse builds the strings it returns whole. */
export function flatCopy(s: string): string {
  return JSON.parse(JSON.stringify(s)) as string;
}
