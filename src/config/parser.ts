// Builds the keyword tree from preprocessed lines, driven by the keyword tables in schema/. Brace handling follows
// keepalived 2.2.7 (reference §1.1, verified): a brace is a token of its own, a `{` nobody asked for is reported and
// ignored but still counted, and a `}` always closes the innermost block being read — so the `}` of an unknown
// keyword's block closes the enclosing block, and everything after it lands one level up.
//
// Lines are pushed in one at a time (`feed`) so that no per-line records outlive their line: on configs with
// 100k+ lines, retaining them made garbage collection the largest cost of `lvskeeper -t`.
import { hasQuotes, splitWords, tokenize } from './lexer.js';
import type { Reporter } from './errors.js';
import type { BlockSchema, KeywordKind } from './schema/types.js';
import type { SourceRef } from './model.js';

export interface Node {
  readonly kw: string;
  readonly args: readonly string[];
  readonly src: SourceRef;
  /** Block and list keywords: the keywords (or, for a list, one node per item line) inside the braces. */
  readonly children?: readonly Node[];
}

interface Frame {
  /** undefined: a list block, whose lines are items. */
  readonly schema: BlockSchema | undefined;
  readonly nodes: Node[];
}

interface Pending {
  readonly kw: string;
  readonly args: string[];
  readonly src: SourceRef;
  readonly kind: 'list' | BlockSchema;
}

export class TreeBuilder {
  private braces = 0;
  private last: SourceRef = { file: '', line: 0 };
  private readonly root: Frame;
  private readonly stack: Frame[];
  /** A block keyword whose `{` has not been seen yet (it may start the next line). */
  private pending: Pending | undefined;

  /**
   * `onRootBlock` sees each top-level block as soon as its closing brace is read; returning true means it was
   * consumed and is not kept in the tree.
   */
  constructor(
    schema: BlockSchema,
    private readonly report: Reporter,
    private readonly onRootBlock?: (node: Node) => boolean,
  ) {
    this.root = { schema, nodes: [] };
    this.stack = [this.root];
  }

  /** One preprocessed line; braces split it into segments as keepalived splits it. */
  feed(file: string, line: number, text: string): void {
    const src: SourceRef = { file, line };
    this.last = src;
    let words: string[] = [];
    if (!hasQuotes(text)) {
      for (const w of splitWords(text)) {
        if (w === '{') {
          this.segment(words, true, src);
          words = [];
        } else if (w === '}') {
          if (words.length) this.segment(words, false, src);
          this.closeBrace(src);
          words = [];
        } else words.push(w);
      }
    } else {
      if ((text.split('"').length - 1) % 2 === 1) this.report.error(src, `Unmatched quote: '${text}'`);
      for (const tok of tokenize(text)) {
        if (!tok.quoted && tok.text === '{') {
          this.segment(words, true, src);
          words = [];
        } else if (!tok.quoted && tok.text === '}') {
          if (words.length) this.segment(words, false, src);
          this.closeBrace(src);
          words = [];
        } else words.push(tok.text);
      }
    }
    if (words.length) this.segment(words, false, src);
  }

  finish(): Node[] {
    if (this.pending) {
      this.report.error(this.last, `Missing '{' at beginning of configuration block`, this.pending.kw);
      this.pending = undefined;
    }
    if (this.braces > 0) this.report.error(this.last, `There are ${this.braces} missing '}'s or extra '{'s`);
    return this.root.nodes;
  }

  private top(): Frame {
    return this.stack[this.stack.length - 1]!;
  }

  /** A `{` that opens nothing: reported, counted, ignored. */
  private strayOpen(src: SourceRef): void {
    this.braces++;
    this.report.error(src, `Unexpected '{' - ignoring`);
  }

  private open(p: Pending): void {
    this.braces++;
    const nodes: Node[] = [];
    this.top().nodes.push({ kw: p.kw, args: p.args, src: p.src, children: nodes });
    this.stack.push({ schema: p.kind === 'list' ? undefined : p.kind, nodes });
  }

  /** Resolves a pending block keyword against the segment that follows it; true when that segment was its `{`. */
  private settlePending(words: string[], open: boolean, src: SourceRef): boolean {
    const p = this.pending;
    if (!p) return false;
    this.pending = undefined;
    if (open && words.length === 0) {
      this.open(p);
      return true;
    }
    this.report.error(src, `Missing '{' at beginning of configuration block`, p.kw);
    return false;
  }

  private closeBrace(src: SourceRef): void {
    this.settlePending([], false, src);
    this.braces--;
    if (this.braces < 0) {
      this.braces = 0;
      this.report.error(src, `Extra '}' found`);
    } else if (this.stack.length > 1) {
      this.stack.pop();
      if (this.stack.length === 1 && this.onRootBlock) {
        const nodes = this.root.nodes;
        if (this.onRootBlock(nodes[nodes.length - 1]!)) nodes.pop();
      }
      return;
    }
    this.report.error(src, `Unknown keyword '}'`, '}');
  }

  /** Words up to a brace; `open` when a `{` ended them. */
  private segment(words: string[], open: boolean, src: SourceRef): void {
    if (this.settlePending(words, open, src)) return;
    const frame = this.top();
    if (words.length === 0) {
      if (open) this.strayOpen(src);
      return;
    }
    const kw = words[0]!;
    const args = words.slice(1);
    if (frame.schema === undefined) {
      frame.nodes.push({ kw, args, src });
      if (open) this.strayOpen(src);
      return;
    }
    const kind: KeywordKind | undefined = frame.schema.keywords.get(kw);
    if (kind === undefined) {
      this.report.error(src, `Unknown keyword '${kw}'`, kw);
      if (open) this.strayOpen(src);
      return;
    }
    if (kind === 'value') {
      frame.nodes.push({ kw, args, src });
      if (open) this.strayOpen(src);
      return;
    }
    const p: Pending = { kw, args, src, kind };
    if (open) this.open(p);
    else this.pending = p;
  }
}
