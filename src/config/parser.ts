// Builds the keyword tree from preprocessed lines, driven by the keyword tables in schema/. Brace handling follows
// keepalived 2.2.7 (verified against it): a brace is a token of its own, a `{` nobody asked for is reported and
// ignored but still counted, and a `}` always closes the innermost block being read — so the `}` of an unknown
// keyword's block closes the enclosing block, and everything after it lands one level up.
//
// Input arrives token by token (a word, `{`, `}`, end of line) so that nothing per line outlives its line: on
// configs with 100k+ lines, per-line records and word arrays made garbage collection the largest cost of `-t`.
import { hasQuotes, splitWords, tokenize } from './lexer.js';
import type { Reporter } from './errors.js';
import type { BlockSchema, Keyword, RunStatus } from './schema/types.js';
import type { SourceRef } from './model.js';

export interface Node {
  readonly kw: string;
  readonly args: readonly string[];
  readonly src: SourceRef;
  /** Block and list keywords: the keywords (or, for a list, one node per item line) inside the braces. */
  readonly children?: readonly Node[] | undefined;
  /**
   * A block's closing `}` (its own line while the block is unclosed): keepalived's end-of-block handlers report
   * at the line being read, which is that one.
   */
  readonly end?: SourceRef;
}

const NO_ARGS: readonly string[] = Object.freeze([]);

/**
 * A word the tree keeps, as a string of its own. V8 makes a substring of 13 characters or more a view into the string
 * it was cut from (a SlicedString), and a plain line's words are cut from the whole file's text: one such address or
 * digest kept by the running config kept all of the text alive (4.7 MB at 30,000 real servers). Concatenating makes V8
 * copy the word when it is cut again; keywords need no copy, as the tree takes the keyword table's own string.
 * checkers/flat-string.ts's flatCopy would do too, without the copy's 32-byte slice header, but its JSON round trip
 * cost 220-650 ns a word against ~50 ns (a scratch loop over the 33,234 long words of a 30,000-server file).
 */
function ownCopy(word: string): string {
  return word.length < 13 ? word : (word + ' ').slice(0, -1);
}

/** A node is its own source reference, which saves an object per config line. */
class TreeNode implements Node {
  /** Set when the block's `}` is read. */
  closedAt: SourceRef | undefined = undefined;

  constructor(
    readonly kw: string,
    readonly args: readonly string[],
    readonly file: string,
    readonly line: number,
    readonly children: Node[] | undefined,
  ) {}

  get src(): SourceRef {
    return this;
  }

  get end(): SourceRef {
    return this.closedAt ?? this;
  }
}

interface Frame {
  /** undefined: a list block, whose lines are items. */
  readonly schema: BlockSchema | undefined;
  /**
   * A value block (lib/parser.c alloc_value_block): read piece by piece, a `{` is an item (but the first piece may
   * be the block's own `{`) and the first `}` ends it. `needBob`: its `{` has not come yet.
   */
  readonly valueBlock: { needBob: boolean } | undefined;
  readonly nodes: Node[];
  /** The block's own node (undefined at the root). */
  readonly node: TreeNode | undefined;
  /** Inside a block lvskeeper does not implement: that block is named once, not each keyword in it. */
  readonly quiet: boolean;
}

/** A keyword whose run-time status is not plain `runs`, judged once its root block has been read. */
interface Use {
  readonly node: Node;
  readonly ancestors: readonly Node[];
  readonly status: RunStatus;
}

interface Pending {
  readonly kw: string;
  readonly args: readonly string[];
  readonly file: string;
  readonly line: number;
  readonly kind: 'list' | BlockSchema;
  readonly status: RunStatus;
}

/**
 * Blocks whose keepalived handler reads the name with strvec_slot(strvec, 1) unchecked (vrrp_parser.c
 * vrrp_script_handler, vrrp_tprocess_handler), so a bare one stops the read: -t exit 2.
 */
const NAME_READ_UNCHECKED: ReadonlySet<string> = new Set(['vrrp_script', 'vrrp_track_process']);

/** The one list block keepalived reads as a sublevel, not with alloc_value_block (check_parser.c vsg_handler). */
const SUBLEVEL_LIST = 'virtual_server_group';

export class TreeBuilder {
  private braces = 0;
  private file = '';
  private line = 0;
  private readonly root: Frame;
  private readonly stack: Frame[];
  /** A block keyword whose `{` has not been seen yet (it may start the next line). */
  private pending: Pending | undefined;
  /** The segment being read: its keyword and arguments so far (argBuf is reused; each node gets an exact copy). */
  private kw: string | undefined;
  private readonly argBuf: string[] = [];
  private argCount = 0;
  /** Uses of keywords that do not simply run, in file order, until their root block closes. */
  private readonly uses: Use[] = [];

  /**
   * `onRootBlock` sees each top-level block as soon as its closing brace is read; returning true means it was
   * consumed and is not kept in the tree.
   */
  constructor(
    schema: BlockSchema,
    private readonly report: Reporter,
    private readonly onRootBlock?: (node: Node) => boolean,
  ) {
    this.root = { schema, nodes: [], node: undefined, quiet: false, valueBlock: undefined };
    this.stack = [this.root];
  }

  /** One preprocessed line as text; braces split it into segments as keepalived splits it. */
  feed(file: string, line: number, text: string): void {
    this.startLine(file, line);
    if (!hasQuotes(text)) {
      for (const w of splitWords(text)) {
        if (w === '{') this.openBrace();
        else if (w === '}') this.closeBrace();
        else this.word(w);
      }
    } else {
      if ((text.split('"').length - 1) % 2 === 1) this.report.error(this.where(), `Unmatched quote: '${text}'`);
      for (const tok of tokenize(text)) {
        if (!tok.quoted && tok.text === '{') this.openBrace();
        else if (!tok.quoted && tok.text === '}') this.closeBrace();
        else this.word(tok.text);
      }
    }
    this.endLine();
  }

  /**
   * One plain line already split by the preprocessor (no quotes): token k is `source.slice(bounds[2k], bounds[2k+1])`,
   * and a one-character `{` or `}` token is a brace.
   */
  feedTokens(file: string, line: number, source: string, bounds: Int32Array, count: number): void {
    this.startLine(file, line);
    for (let k = 0; k < count; k++) {
      const s = bounds[2 * k]!;
      const e = bounds[2 * k + 1]!;
      const c = e - s === 1 ? source.charCodeAt(s) : 0;
      if (c === 123) this.openBrace();
      else if (c === 125) this.closeBrace();
      else this.word(source.slice(s, e));
    }
    this.endLine();
  }

  finish(): Node[] {
    this.judgeUses();
    if (this.pending) {
      this.report.error(this.where(), `Missing '{' at beginning of configuration block`, this.pending.kw);
      this.pending = undefined;
    }
    if (this.braces > 0) this.report.error(this.where(), `There are ${this.braces} missing '}'s or extra '{'s`);
    return this.root.nodes;
  }

  private startLine(file: string, line: number): void {
    this.file = file;
    this.line = line;
  }

  private where(): SourceRef {
    return { file: this.file, line: this.line };
  }

  private word(w: string): void {
    if (this.kw === undefined) this.kw = w;
    else this.argBuf[this.argCount++] = ownCopy(w);
  }

  private openBrace(): void {
    this.segment(true);
  }

  private closeBrace(): void {
    if (this.kw !== undefined) this.segment(false);
    this.settlePending(false, false);
    this.braces--;
    // lib/parser.c read_line counts braces by themselves; a value block ends at its `}` all the same.
    const extra = this.braces < 0;
    if (extra) {
      this.braces = 0;
      this.report.error(this.where(), `Extra '}' found`);
    }
    if ((!extra || this.top().valueBlock) && this.stack.length > 1) {
      this.stack.pop()!.node!.closedAt = this.where();
      if (this.stack.length === 1) this.judgeUses();
      if (this.stack.length === 1 && this.onRootBlock) {
        const nodes = this.root.nodes;
        if (this.onRootBlock(nodes[nodes.length - 1]!)) nodes.pop();
      }
      return;
    }
    this.report.error(this.where(), `Unknown keyword '}'`, '}');
  }

  private endLine(): void {
    if (this.kw !== undefined) this.segment(false);
  }

  private top(): Frame {
    return this.stack[this.stack.length - 1]!;
  }

  /** A `{` that opens nothing: reported, counted, ignored. */
  private strayOpen(): void {
    this.braces++;
    this.report.error(this.where(), `Unexpected '{' - ignoring`);
  }

  private open(
    kw: string, args: readonly string[], file: string, line: number, kind: 'list' | BlockSchema, status: RunStatus, braced = true,
  ): void {
    if (braced) this.braces++;
    const nodes: Node[] = [];
    const node = new TreeNode(kw, args, file, line, nodes);
    const parent = this.top();
    parent.nodes.push(node);
    this.note(node, status, true);
    this.stack.push({
      schema: kind === 'list' ? undefined : kind, nodes, node, quiet: parent.quiet || status.kind === 'not-implemented',
      valueBlock: kind === 'list' && kw !== SUBLEVEL_LIST ? { needBob: !braced } : undefined,
    });
  }

  /** A `{` piece inside a value block: the block's own when it has none yet, else an item of its own. */
  private valueBlockBrace(frame: Frame & { valueBlock: { needBob: boolean } }): void {
    this.braces++;
    if (frame.valueBlock.needBob) frame.valueBlock.needBob = false;
    else frame.nodes.push(new TreeNode('{', NO_ARGS, this.file, this.line, undefined));
  }

  /**
   * Keeps a keyword that lvskeeper does not wholly carry out, to be named once its root block is read; a root block
   * whose check reads its contents (`opening` a partial one) waits for its closing brace.
   */
  private note(node: Node, status: RunStatus, opening = false): void {
    if (status.kind === 'runs' || (status.kind === 'partial' && !status.check) || this.top().quiet) return;
    this.uses.push({ node, ancestors: this.stack.slice(1).map((f) => f.node!), status });
    if (this.stack.length === 1 && !(opening && status.kind === 'partial')) this.judgeUses();
  }

  /** One line per use lvskeeper does not carry out (`FILE:LINE: lvskeeper does not implement 'use_vmac' - ignored`). */
  private judgeUses(): void {
    for (const { node, ancestors, status } of this.uses) {
      if (status.kind === 'not-implemented') this.report.unimplemented(node.src, node.kw, node.kw);
      else if (status.kind === 'partial') for (const u of status.check?.(node, ancestors) ?? []) this.report.unimplemented(u.at, u.name, node.kw);
    }
    this.uses.length = 0;
  }

  /** Resolves a pending block keyword against the segment that follows it; true when that segment was its `{`. */
  private settlePending(hasWords: boolean, open: boolean): boolean {
    const p = this.pending;
    if (!p) return false;
    this.pending = undefined;
    if (open && !hasWords) {
      this.open(p.kw, p.args, p.file, p.line, p.kind, p.status);
      return true;
    }
    this.report.error(this.where(), `Missing '{' at beginning of configuration block`, p.kw);
    return false;
  }

  /** The words read since the last brace; `open` when a `{` ended them. */
  private segment(open: boolean): void {
    const kw = this.kw;
    const n = this.argCount;
    const args = n === 0 ? NO_ARGS : n === 1 ? [this.argBuf[0]!] : this.argBuf.slice(0, n);
    this.kw = undefined;
    this.argCount = 0;
    if (this.settlePending(kw !== undefined, open)) return;
    const frame = this.top();
    const value = frame.valueBlock ? (frame as Frame & { valueBlock: { needBob: boolean } }) : undefined;
    if (kw === undefined) {
      if (value) this.valueBlockBrace(value);
      else if (open) this.strayOpen();
      return;
    }
    if (frame.schema === undefined) {
      frame.nodes.push(new TreeNode(ownCopy(kw), args, this.file, this.line, undefined));
      if (value) {
        // A first item without the block's `{` is only logged by keepalived ("'{' missing from beginning of block").
        value.valueBlock.needBob = false;
        if (open) this.valueBlockBrace(value);
      } else if (open) this.strayOpen();
      return;
    }
    const known: Keyword | undefined = frame.schema.keywords.get(kw);
    if (known === undefined) {
      this.report.error(this.where(), `Unknown keyword '${kw}'`, kw);
      if (open) this.strayOpen();
      return;
    }
    // The table's own string: compared by identity in the resolvers' switches, and shared, not one copy per line.
    const { name, kind, status } = known;
    if (kind === 'list' && name !== SUBLEVEL_LIST) {
      // lib/parser.c alloc_value_block: the block starts here, its `{` or first item comes next; words after the
      // keyword are reported and dropped.
      if (n > 0) this.report.error(this.where(), `Block ${name} has extra parameters ${args[0]!} ...`, name);
      this.open(name, NO_ARGS, this.file, this.line, kind, status, open);
      return;
    }
    if (kind === 'list' || (typeof kind === 'object' && 'keywords' in kind)) {
      if (n === 0 && NAME_READ_UNCHECKED.has(name)) {
        this.report.add('config', this.where(), `*** Configuration line starting \`${name}\` is missing a parameter after keyword \`${name}\` at word position 2`, name);
      }
      if (open) this.open(name, args, this.file, this.line, kind, status);
      else this.pending = { kw: name, args, file: this.file, line: this.line, kind, status };
      return;
    }
    if (n === 0 && kind !== 'value') {
      if (kind === 'required') {
        this.report.add('config', this.where(), `*** Configuration line starting \`${name}\` is missing a parameter after keyword \`${name}\` at word position 2`, name);
      } else {
        this.report.error(this.where(), kind.bare, name);
      }
    }
    const node = new TreeNode(name, args, this.file, this.line, undefined);
    frame.nodes.push(node);
    this.note(node, status);
    if (open) this.strayOpen();
  }
}
