// Turns the main config file into the stream of logical lines the parser reads, as keepalived 2.2.7's lib/parser.c
// read_line does: includes (globs, braces, relative to the including file, cycle-safe), `@id` conditionals, `$VAR=`
// definitions (multi-line ones continued with a backslash) and substitution, predefined `${_…}` variables, the
// `~SEQ` / `~LST` line generators, and the cut of a line at a brace. Comments are stripped before substitution and
// again after it, so a `#` a value brings in starts a comment unless it is inside double quotes.
import { posix } from 'node:path';
import { decomment } from './lexer.js';
import type { Reporter } from './errors.js';
import type { SourceRef } from './model.js';

/** The only file access the loader needs, so tests can point it at a temp dir and the CLI at the real disk. */
export interface ConfigFs {
  /** File contents, or undefined when it cannot be read. */
  readFile(path: string): string | undefined;
  /** Names in a directory (empty when it is not one). */
  listDir(path: string): string[];
}

export interface SourceLine {
  readonly file: string;
  readonly line: number;
  readonly text: string;
}

export interface PreprocessOptions {
  readonly configId: string;
  readonly includesAreErrors: boolean;
  readonly random: () => number;
}

/** keepalived reads with fgets into a 1024-byte buffer: longer lines arrive as several lines. */
const MAX_LINE = 1023;
/**
 * Bounds on includes, so that a config whose includes multiply (`include x/{a,b}{a,b}…`, files that glob each other)
 * is refused in milliseconds instead of taking gigabytes and minutes. keepalived 2.2.7 has none: it expands every
 * brace with glob(3) and follows includes until it runs out of descriptors. Each bound sits far above real configs.
 */
export const INCLUDE_LIMITS = {
  /** Names one include's braces may expand to, and files its wildcards may match. */
  names: 1024,
  /** Includes open inside each other. */
  depth: 16,
  /** Files read through includes in all (a file included twice counts twice). */
  files: 4096,
} as const;
/**
 * Text the parser may receive in all, after includes, variables and ~SEQ: the bound on what -t and a reload hold.
 * 16 MiB is about 145,000 real_servers with a checker each (-t: 4 s, 200 MB peak RSS); past it the rest is not read.
 */
export const MAX_CONFIG_TEXT = 16 << 20;
/**
 * Lines one file line may give through ~SEQ and multi-line definitions that give no text (each bounded already by
 * MAX_CONFIG_TEXT otherwise): keepalived reads a self-referencing definition forever.
 */
const MAX_GENERATED_LINES = 1_000_000;

export function dirname(path: string): string {
  const i = path.lastIndexOf('/');
  if (i < 0) return '.';
  return i === 0 ? '/' : path.slice(0, i);
}

/** The first balanced `{…}` of a pattern: what precedes it, its comma-separated parts, what follows it. */
function firstBraces(pattern: string): { head: string; parts: string[]; rest: string } | undefined {
  const open = pattern.indexOf('{');
  if (open < 0) return undefined;
  let depth = 0;
  const parts: string[] = [];
  let start = open + 1;
  for (let i = open; i < pattern.length; i++) {
    const c = pattern[i];
    if (c === '{') depth++;
    else if (c === '}') {
      depth--;
      if (depth === 0) {
        parts.push(pattern.slice(start, i));
        return { head: pattern.slice(0, open), parts, rest: pattern.slice(i + 1) };
      }
    } else if (c === ',' && depth === 1) {
      parts.push(pattern.slice(start, i));
      start = i + 1;
    }
  }
  return undefined;
}

/** How many names expandBraces(pattern) gives, counted without building them; stops counting past `limit`. */
export function countBraces(pattern: string, limit = Infinity): number {
  const b = firstBraces(pattern);
  if (!b) return 1;
  const tails = countBraces(b.rest, limit);
  let n = 0;
  for (const p of b.parts) {
    n += countBraces(b.head + p, limit) * tails;
    if (n > limit) return n;
  }
  return n;
}

/** `{a,b}c{d,e}` → `acd ace bcd bce`; unbalanced braces are left alone. */
export function expandBraces(pattern: string): string[] {
  const b = firstBraces(pattern);
  if (!b) return [pattern];
  const tails = expandBraces(b.rest);
  return b.parts.flatMap((p) => expandBraces(b.head + p).flatMap((h) => tails.map((t) => h + t)));
}

function globToRegExp(segment: string): RegExp {
  let re = '';
  for (let i = 0; i < segment.length; i++) {
    const c = segment[i]!;
    if (c === '*') re += '[^/]*';
    else if (c === '?') re += '[^/]';
    else if (c === '[') {
      const end = segment.indexOf(']', i + 2);
      if (end < 0) re += '\\[';
      else {
        const body = segment.slice(i + 1, end).replace(/^!/, '^').replace(/\\/g, '\\\\');
        re += `[${body}]`;
        i = end;
      }
    } else re += c.replace(/[.+^${}()|\\]/g, '\\$&');
  }
  return new RegExp(`^${re}$`);
}

/**
 * Expands shell wildcards segment by segment; a pattern without wildcards is returned as is. Sorted like glob(3).
 * Stops once a segment gives more than `limit` paths, returning what it has (the caller sees the excess).
 */
export function globFiles(fs: ConfigFs, pattern: string, limit = Infinity): string[] {
  if (!/[*?[]/.test(pattern)) return [pattern];
  const absolute = pattern.startsWith('/');
  const segments = pattern.split('/').filter((s, i) => s !== '' || i === 0);
  let bases = [absolute ? '' : '.'];
  for (let i = absolute ? 1 : 0; i < segments.length; i++) {
    const seg = segments[i]!;
    const next: string[] = [];
    for (const base of bases) {
      const dir = base === '' ? '/' : base;
      if (!/[*?[]/.test(seg)) {
        next.push(`${base}/${seg}`);
        continue;
      }
      const re = globToRegExp(seg);
      for (const name of fs.listDir(dir).sort()) {
        if (name.startsWith('.') && !seg.startsWith('.')) continue;
        if (re.test(name)) next.push(`${base}/${name}`);
      }
      if (next.length > limit) break;
    }
    bases = next;
  }
  return bases.map((p) => (absolute ? p : p.replace(/^\.\//, '')));
}

/** Receives each logical line as it is produced. */
export interface LineSink {
  /** A logical line as text (comments stripped, variables substituted, trimmed). */
  feed(file: string, line: number, text: string): void;
  /**
   * A plain line (see plainTokens), already split: token k is `source.slice(bounds[2k], bounds[2k+1])`, braces are
   * tokens of their own.
   */
  feedTokens(file: string, line: number, source: string, bounds: Int32Array, count: number): void;
}

/** Collects lines as text, for callers that want the preprocessed lines themselves. */
class LineCollector implements LineSink {
  readonly lines: SourceLine[] = [];

  feed(file: string, line: number, text: string): void {
    this.lines.push({ file, line, text });
  }

  feedTokens(file: string, line: number, source: string, bounds: Int32Array, count: number): void {
    this.lines.push({ file, line, text: source.slice(bounds[0]!, bounds[2 * count - 1]!) });
  }
}

/**
 * Splits the line `text[start, end)` into tokens when it needs none of the preprocessor's work: printable ASCII
 * only, no quotes, backslashes, `$` or `~` before any comment, no word starting `@` or `include`. Returns the number of
 * tokens (0 for a blank or comment line), or -1 when the line must take the general path. Nearly every line of a
 * large config is plain, and this way costs no per-line strings besides the words themselves.
 */
function plainTokens(text: string, start: number, end: number, bounds: Int32Array): number {
  let n = 0;
  let word = -1;
  let stop = end;
  for (let i = start; i < end; i++) {
    const c = text.charCodeAt(i);
    // blank: space, \t, \v, \f, \r (as trim() and splitWords treat them)
    if (c === 32 || (c >= 9 && c <= 13)) {
      if (word >= 0) {
        bounds[n++] = word;
        bounds[n++] = i;
        word = -1;
      }
    } else if (c === 35 || c === 33) {
      // `#` or `!`: the rest is a comment, but a backslash ending it still continues the line (parser.c decomment)
      if (text.charCodeAt(end - 1) === 92) return -1;
      stop = i;
      break;
    } else if (c < 32 || c > 125 || c === 34 || c === 39 || c === 92 || c === 36) {
      // controls, non-ASCII, `~`, quotes, backslash, `$`
      return -1;
    } else if (c === 123 || c === 125) {
      if (word >= 0) {
        bounds[n++] = word;
        bounds[n++] = i;
        word = -1;
      }
      bounds[n++] = i;
      bounds[n++] = i + 1;
    } else if (word < 0) {
      // `@id` and include lines; after a brace too, where read_line reads the rest as a line of its own
      if (c === 64 || (c === 105 && text.startsWith('include', i))) return -1;
      word = i;
    }
  }
  if (word >= 0) {
    bounds[n++] = word;
    bounds[n++] = stop;
  }
  return n >> 1;
}

/** A file being read: parser.c include_file_t's stream and line count. */
interface Source {
  readonly file: string;
  readonly dir: string;
  readonly text: string;
  /** Where the next read starts. */
  pos: number;
  lineNo: number;
  /** The last read stopped inside a line longer than fgets' buffer: the next read continues that line. */
  midLine: boolean;
}

/** One include's files (parser.c include_file_t with its glob matches): the one being read, then the rest in order. */
interface IncludeGroup {
  cur: Source;
  readonly rest: { readonly f: string; readonly text: string }[];
}

/** A `$NAME=` definition or a predefined `${_…}` one (parser.c def_t). */
interface Def {
  value: string;
  /** Continued with a backslash: the value holds `\n`-separated lines and is substituted only at a line's end. */
  multiline: boolean;
  /** A predefined value computed at each use (from `${_RANDOM 1 9}`'s parameters); a definition replaces it. */
  fn: ((params: string | undefined) => string) | undefined;
  /** Parameters a predefined one takes: a reference with digits after the name needs them. */
  readonly maxParams: number;
}

/** A `~SEQ` or `~LST` still giving lines (parser.c seq_t): the text to repeat and the bindings left. */
type Generator =
  | { readonly kind: 'seq'; readonly text: string; readonly name: string; next: number; readonly step: number; readonly last: number; readonly hex: boolean }
  | { readonly kind: 'lst'; readonly text: string; readonly names: readonly string[]; readonly sets: readonly string[][]; next: number };

/** add_seq copies the parameters into `char seq_buf[3 * 20 + 3 + 1]`: three longs, their separators and a NUL. */
const SEQ_PARAMS_BUF = 64;
/** Bounds where keepalived would loop forever: substitutions in one line, rechecks of one line. */
const MAX_SUBSTITUTIONS = 10_000;

function skipBlanks(s: string, i: number): number {
  while (s[i] === ' ' || s[i] === '\t') i++;
  return i;
}

const isAlpha = (c: string | undefined): boolean => c !== undefined && /^[A-Za-z]$/.test(c);
const isWordChar = (c: string | undefined): boolean => c !== undefined && /^[A-Za-z0-9_]$/.test(c);
const isDigit = (c: string | undefined): boolean => c !== undefined && c >= '0' && c <= '9';
const isSpace = (c: string | undefined): boolean => c !== undefined && /^[ \t\n\v\f\r]$/.test(c);

/** strtol(s + i, &end, 0): leading blanks, a sign, then hex (0x), octal (0) or decimal; no digits gives 0 at i. */
function strtol(s: string, i: number): { value: number; end: number } {
  let p = i;
  while (isSpace(s[p])) p++;
  let sign = 1;
  if (s[p] === '+' || s[p] === '-') sign = s[p++] === '-' ? -1 : 1;
  let base = 10;
  if (s[p] === '0' && (s[p + 1] === 'x' || s[p + 1] === 'X') && /^[0-9a-fA-F]$/.test(s[p + 2] ?? '')) {
    base = 16;
    p += 2;
  } else if (s[p] === '0') base = 8;
  const digits = base === 16 ? /^[0-9a-fA-F]/ : base === 8 ? /^[0-7]/ : /^[0-9]/;
  const start = p;
  while (p < s.length && digits.test(s[p]!)) p++;
  if (p === start) return { value: 0, end: i };
  return { value: sign * Number.parseInt(s.slice(start, p), base), end: p };
}

/**
 * Reads the config as keepalived 2.2.7's parser.c read_line does, line by line: `@id` lines, `$NAME=` definitions
 * (continued with a backslash into multi-line ones), substitution, `~SEQ`/`~LST`, includes, and the cut before a
 * brace. Lines that need none of that (nearly all) go to the sink already split.
 */
export class Preprocessor {
  private readonly defs = new Map<string, Def>();
  readonly files: string[] = [];
  private readonly out: SourceLine[];
  private readonly sink: LineSink;
  /** The include stack, innermost last. */
  private readonly groups: IncludeGroup[] = [];
  /** The file and line read last (`at`). */
  private atFile = '';
  private atLine = 0;
  /** Where nextChunk's line lies in its source (fields, not an object per line: a large config has 200,000 lines). */
  private chunkStart = 0;
  private chunkEnd = 0;
  /** What follows a brace on the line just returned, read as the next line (read_line's line_residue). */
  private residue: string | undefined;
  /** `~SEQ`/`~LST` giving lines, innermost last (seq_list). */
  private readonly gens: Generator[] = [];
  /** Generators a multi-line expansion started under; only newer ones run until it ends (multiline_seq_depth). */
  private multilineSeqDepth = 0;
  /** The lines still to come of the multi-line definition being expanded (read_line's next_ptr). */
  private nextPtr: string | undefined;
  /** Expansions interrupted by a multi-line definition met inside them (multiline_stack). */
  private readonly multilineStack: { readonly next: string; readonly seqDepth: number }[] = [];
  /** Lines given by expansion since the last line read from a file, against MAX_GENERATED_LINES. */
  private generated = 0;
  /** Files includes have read so far, against INCLUDE_LIMITS.files. */
  private includedFiles = 0;
  /** Text given to the sink so far, against MAX_CONFIG_TEXT. */
  private textFed = 0;
  /** Set once an overall bound is hit: reported once, and nothing more is read. */
  private stopped = false;
  /** Include-loop warnings already given (file:line:target): a loop met again by another path is not news. */
  private readonly loopsReported = new Set<string>();
  /** Token bounds of the current plain line (at most one token per character). */
  private readonly bounds = new Int32Array(2 * MAX_LINE + 2);
  private readonly unterminated = (text: string): void => this.report.error(this.at, `Unterminated quote '${text}'`);

  /** The file and line read last: where reports and lines are placed (the current_line_no keepalived reports). */
  private get at(): SourceRef {
    return { file: this.atFile, line: this.atLine };
  }

  /** Without a sink, lines are collected and returned by run()/processText(). */
  constructor(
    private readonly fs: ConfigFs,
    private readonly opts: PreprocessOptions,
    private readonly report: Reporter,
    sink?: LineSink,
  ) {
    if (sink) {
      this.sink = sink;
      this.out = [];
    } else {
      const collector = new LineCollector();
      this.out = collector.lines;
      this.sink = collector;
    }
    // parser.c set_std_definitions
    const std = (name: string, value: string, fn?: Def['fn'], maxParams = 0): void => {
      this.defs.set(name, { value, multiline: false, fn, maxParams });
    };
    std('_PWD', '', () => this.groups[this.groups.length - 1]?.cur.dir ?? '.');
    std('_INSTANCE', '', () => this.opts.configId);
    std('_RANDOM', '', (params) => this.random(params), 2);
    std('_HASH', '#');
    std('_BANG', '!');
  }

  /** get_random: `${_RANDOM}` is 0..32767, `${_RANDOM MIN MAX}` MIN..MAX. */
  private random(params: string | undefined): string {
    const [lo, hi] = (params ?? '').split(/ +/).filter((x) => x !== '').map((x) => Number.parseInt(x, 10));
    const min = lo ?? 0;
    const max = hi ?? 32767;
    return String(min + Math.floor(this.opts.random() * (Math.max(max, min) - min + 1)));
  }

  /** Counts `chars` more text; at the first excess reports it and stops everything. */
  private overBudget(chars: number): boolean {
    if (this.stopped) return true;
    this.textFed += chars;
    if (this.textFed <= MAX_CONFIG_TEXT) return false;
    this.stopped = true;
    this.report.error(this.at, `configuration text exceeds ${MAX_CONFIG_TEXT >> 20} MiB after includes and expansions; the rest is not read`);
    return true;
  }

  /** Reads the main file and everything it includes. */
  run(mainFile: string): SourceLine[] {
    const text = this.fs.readFile(mainFile);
    if (text === undefined) {
      const sev = this.opts.includesAreErrors ? 'fatal' : 'warning';
      this.report.add(sev, { file: mainFile, line: 0 }, `Config files missing '${mainFile}'.`);
      return this.out;
    }
    return this.processText(mainFile, text);
  }

  processText(file: string, text: string): SourceLine[] {
    this.groups.push({ cur: this.open(file, text), rest: [] });
    while (!this.stopped) {
      const line = this.readLine();
      if (line === undefined) break;
      if (!this.overBudget(line.length)) this.sink.feed(this.atFile, this.atLine, line);
    }
    return this.out;
  }

  private open(file: string, text: string): Source {
    if (!this.files.includes(file)) this.files.push(file);
    return { file, dir: dirname(file), text, pos: 0, lineNo: 0, midLine: false };
  }

  /** Files being read now (one per include level). */
  private isOpen(file: string, except?: IncludeGroup): boolean {
    return this.groups.some((g) => g !== except && g.cur.file === file);
  }

  /**
   * fgets into keepalived's 1024-byte buffer: the next line of the innermost file (a longer line comes in pieces),
   * moving on to the include's next file, then back out, at each end: its source, with its bounds in chunkStart and
   * chunkEnd. undefined once every file is read.
   */
  private nextChunk(): Source | undefined {
    for (;;) {
      const g = this.groups[this.groups.length - 1];
      if (!g) return undefined;
      const src = g.cur;
      if (src.pos >= src.text.length) {
        let next;
        while ((next = g.rest.shift()) && this.isOpen(next.f, g));
        if (next) g.cur = this.open(next.f, next.text);
        else this.groups.pop();
        continue;
      }
      let end = src.text.indexOf('\n', src.pos);
      if (end < 0) end = src.text.length;
      if (!src.midLine) src.lineNo++;
      const start = src.pos;
      src.midLine = end - start > MAX_LINE;
      if (src.midLine) end = start + MAX_LINE;
      src.pos = src.midLine ? end : end + 1;
      this.atFile = src.file;
      this.atLine = src.lineNo;
      this.chunkStart = start;
      this.chunkEnd = end;
      return src;
    }
  }

  /**
   * parser.c read_line: the next line the keyword parser sees, or undefined at the end of all files. Its sources, in
   * this order: the rest of a line cut at a brace, a pending ~SEQ/~LST, the next line of a multi-line definition being
   * expanded, the files.
   */
  private readLine(): string | undefined {
    /** A multi-line definition still taking lines (read_line's multiline_param_def). */
    let def: Def | undefined;
    let buf: string;
    do {
      if (this.residue !== undefined || this.gens.length > this.multilineSeqDepth || this.nextPtr !== undefined) {
        if (++this.generated > MAX_GENERATED_LINES) {
          this.report.error(this.at, `expanding this line gives more than ${MAX_GENERATED_LINES} lines - the rest of it is not read`);
          this.residue = this.nextPtr = undefined;
          this.gens.length = this.multilineStack.length = this.multilineSeqDepth = 0;
          buf = '';
          continue;
        }
      }
      if (this.residue !== undefined) {
        buf = this.residue;
        this.residue = undefined;
      } else if (this.gens.length > this.multilineSeqDepth) {
        buf = this.generate();
      } else if (this.nextPtr !== undefined) {
        buf = this.nextDefinitionLine(this.nextPtr);
      } else {
        buf = '';
        for (;;) {
          const src = this.nextChunk();
          if (!src) return undefined;
          this.generated = 0;
          const start = this.chunkStart;
          let end = this.chunkEnd;
          while (end > start && src.text.charCodeAt(end - 1) === 13) end--;
          if (end > start && def === undefined) {
            const count = plainTokens(src.text, start, end, this.bounds);
            if (count >= 0) {
              if (count > 0 && !this.overBudget(end - start)) this.sink.feedTokens(src.file, src.lineNo, src.text, this.bounds, count);
              if (this.stopped) return undefined;
              continue;
            }
          }
          // The VRRP and checker processes read the parent's decommented copy of the file (init_data, read_conf_copy),
          // and decomment it again: a `\#` the parent kept as `#` starts a comment there, and a line that was only a
          // comment is a blank line there, which ends a multi-line definition.
          const copy = end > start ? decomment(src.text.slice(start, end), this.unterminated) : '';
          if (copy === '') {
            if (def) def = this.endDefinition(def);
            continue;
          }
          buf = decomment(copy);
          if (buf !== '') break;
        }
      }

      if (def) {
        // A line of a multi-line definition: kept without its backslash, a line holding only the backslash dropped
        const cont = buf.endsWith('\\');
        const piece = cont ? `${buf.slice(0, -1).replace(/[ \t]+$/, '')}\n` : buf;
        const d = def;
        if (!cont) def = this.endDefinition(d);
        if (piece.length >= 2 || (piece !== '' && !cont)) d.value += piece;
        buf = '';
        continue;
      }
      if (buf === '') continue;

      let recheck: boolean;
      let rechecks = 0;
      do {
        recheck = false;
        if (buf.startsWith('@')) {
          // `@id rest` keeps rest only on the system with that config id, `@^id rest` everywhere else
          const reverse = buf[1] === '^';
          const ofs = reverse ? 2 : 1;
          const blank = buf.slice(ofs).search(/[ \t]/);
          if (blank < 0 || (buf.slice(ofs, ofs + blank) !== this.opts.configId) !== reverse) {
            buf = '';
            break;
          }
          buf = buf.slice(skipBlanks(buf, ofs + blank));
        }
        if (buf.startsWith('$')) {
          const d = this.checkDefinition(buf);
          if (d) {
            if (d.multiline) def = d;
            buf = '';
            break;
          }
        }
        if (buf.startsWith('~SEQ') || buf.startsWith('~LST')) {
          if (buf[1] === 'S') {
            if (!this.addSeq(buf)) this.report.error(this.at, `Invalid ~SEQ specification '${buf}'`);
          } else if (!this.addLst(buf)) this.report.error(this.at, `Invalid ~LST specification '${buf}'`);
          buf = '';
          break;
        }
        if (buf.startsWith('~') || !buf.includes('$')) break;
        const r = this.replaceParam(buf, MAX_LINE + 1, this.nextPtr);
        buf = r.buf;
        if (!r.found) break;
        this.nextPtr = r.next;
        buf = decomment(buf, this.unterminated);
        recheck = buf.startsWith('@') || buf.includes('$');
        if (recheck && ++rechecks > MAX_SUBSTITUTIONS) {
          this.report.error(this.at, `Parameter substitution on line '${buf}' does not end - line dropped`);
          buf = '';
          break;
        }
      } while (recheck);
    } while (buf === '' || this.checkInclude(buf));
    return this.cutAtBrace(buf);
  }

  /** The end of a multi-line definition: one that took no text is an ordinary (empty) one. */
  private endDefinition(def: Def): undefined {
    if (def.value === '') def.multiline = false;
    return undefined;
  }

  /** The next line of the multi-line definition being expanded; after its last, the one it interrupted resumes. */
  private nextDefinitionLine(next: string): string {
    const nl = next.indexOf('\n');
    if (nl >= 0) {
      this.nextPtr = next.slice(nl + 1);
      return next.slice(0, nl);
    }
    const outer = this.multilineStack.pop();
    this.nextPtr = outer?.next;
    this.multilineSeqDepth = outer?.seqDepth ?? 0;
    return next;
  }

  /**
   * read_line's last step: a line holding a `{` or `}` outside double quotes is cut before it (or, when the line
   * starts with it, after it); the rest is read next, as a line of its own, through all of read_line again.
   */
  private cutAtBrace(line: string): string {
    let p = 0;
    if (line[0] !== '{' && line[0] !== '}') {
      p = -1;
      for (let i = 0; i < line.length; i++) {
        const c = line[i];
        if (c === '{' || c === '}') {
          p = i;
          break;
        }
        if (c === '"') {
          i = line.indexOf('"', i + 1);
          if (i < 0) break;
        }
      }
    }
    let buf = line;
    if (p >= 0) {
      const cut = p === 0 ? skipBlanks(line, 1) : p;
      if (cut < line.length) {
        this.residue = line.slice(cut).replace(/[ \t]+$/, '');
        buf = line.slice(0, cut);
      }
    }
    return buf.replace(/[ \t]+$/, '');
  }

  /** check_definition: `$NAME=value`; a value ending in a backslash starts a multi-line definition. */
  private checkDefinition(buf: string): Def | undefined {
    if (!isAlpha(buf[1]) && buf[1] !== '_') return undefined;
    let p = 2;
    for (; p < buf.length && buf[p] !== '='; p++) if (!isWordChar(buf[p])) return undefined;
    if (buf[p] !== '=') return undefined;
    let value = buf.slice(skipBlanks(buf, p + 1));
    const multiline = value.endsWith('\\');
    if (multiline) {
      const first = value.slice(0, -1).replace(/[ \t]+$/, '');
      value = first === '' ? '' : `${first}\n`;
    }
    const name = buf.slice(1, p);
    const def = this.defs.get(name) ?? { value, multiline, fn: undefined, maxParams: 0 };
    Object.assign(def, { value, multiline, fn: undefined });
    this.defs.set(name, def);
    return def;
  }

  /** set_definition, for ~SEQ and ~LST variables: the value replaced, a multi-line one staying multi-line. */
  private setDefinition(name: string, value: string): void {
    const def = this.defs.get(name);
    if (def) Object.assign(def, { value, fn: undefined });
    else this.defs.set(name, { value, multiline: false, fn: undefined, maxParams: 0 });
  }

  /**
   * find_definition: the definition `$NAME` (before a blank, `,`, `)` or the end) or `${NAME}` refers to at `i`
   * (just after the `$`), with the length of the reference. A multi-line definition is found only at the line's end;
   * only a predefined one takes parameters (`${_RANDOM 1 9}`).
   */
  private findReference(buf: string, i: number): { def: Def; len: number; params: string | undefined } | undefined {
    const braces = buf[i] === '{';
    const n = braces ? i + 1 : i;
    if (!isAlpha(buf[n]) && buf[n] !== '_') return undefined;
    let p = n + 1;
    while (isWordChar(buf[p])) p++;
    const name = buf.slice(n, p);
    let first = -1;
    let last = -1;
    if (braces) {
      for (; buf[p] === ' ' || isDigit(buf[p]); p++) {
        if (buf[p] === ' ') continue;
        if (first < 0) first = p;
        last = p;
      }
      if ((first >= 0 && last + 1 !== p) || buf[p] !== '}') return undefined;
    } else if (p < buf.length && !' \t,)'.includes(buf[p]!)) return undefined;
    const atEnd = n + name.length + (braces ? 1 : 0) >= buf.length;
    const def = this.defs.get(name);
    if (!def || (def.multiline && !atEnd) || (first >= 0 && def.maxParams === 0)) return undefined;
    // replace_param replaces `$` and the name with its braces, or up to the last parameter digit and one more
    const len = first >= 0 ? last - i + 3 : 1 + (braces ? 2 : 0) + name.length;
    return { def, len, params: first >= 0 ? buf.slice(first, last + 1) : undefined };
  }

  /**
   * replace_param: substitutes each reference in turn, rescanning from the start of what it put in (so values
   * holding references are substituted too); a value starting with `~` ends the pass. A multi-line definition puts
   * its first line in and leaves the rest for the lines that follow. `found` is false when nothing was substituted
   * or the line would reach `maxLen` (keepalived's buffer), and then the line stays as substituted so far.
   */
  private replaceParam(line: string, maxLen: number, multiline: string | undefined): { buf: string; found: boolean; next: string | undefined } {
    let buf = line;
    let next = multiline;
    let found = false;
    let count = 0;
    for (let cur = buf.indexOf('$'); cur >= 0 && cur + 1 < buf.length; cur = buf.indexOf('$', cur)) {
      const ref = this.findReference(buf, cur + 1);
      if (!ref) {
        cur++;
        continue;
      }
      if (++count > MAX_SUBSTITUTIONS) {
        this.report.error(this.at, `Parameter substitution on line '${line}' does not end`);
        return { buf, found: false, next: multiline };
      }
      const { def, len, params } = ref;
      found = true;
      if (def.multiline) {
        if (next !== undefined) this.multilineStack.push({ next, seqDepth: this.multilineSeqDepth });
        this.multilineSeqDepth = this.gens.length;
      }
      if (def.fn) def.value = def.fn(params);
      let text = def.value;
      if (def.multiline) {
        const nl = text.indexOf('\n');
        next = nl < 0 ? '' : text.slice(nl + 1);
        if (nl >= 0) text = text.slice(0, nl);
      }
      // keepalived logs this to syslog only ("would exceed maximum line length"): -t prints nothing
      if (buf.length + text.length - len >= maxLen) return { buf, found: false, next: multiline };
      const after = cur + len;
      if (params !== undefined && text.length < len && after < buf.length) {
        // keepalived's copy that closes the gap stops one character past the `}`: the rest of the line stays put
        buf = buf.slice(0, cur) + text + buf[after]! + buf.slice(cur + text.length + 1);
      } else {
        buf = buf.slice(0, cur) + text + buf.slice(after);
      }
      if (def.value[skipBlanks(def.value, 0)] === '~') break;
    }
    return { buf, found, next: found ? next : multiline };
  }

  /** The line a pending generator gives next, its variables set (read_line); the last one removes it. */
  private generate(): string {
    const g = this.gens[this.gens.length - 1]!;
    if (g.kind === 'seq') {
      this.setDefinition(g.name, g.hex ? g.next.toString(16) : String(g.next));
      g.next += g.step;
      if ((g.step > 0 && g.next > g.last) || (g.step < 0 && g.next < g.last)) this.gens.pop();
    } else {
      const set = g.sets[g.next]!;
      g.names.forEach((name, k) => this.setDefinition(name, set[k]!));
      if (++g.next === g.sets.length) this.gens.pop();
    }
    return g.text;
  }

  /**
   * add_seq: `~SEQ(var, [start,] [step,] end) text` (`~SEQx` in hex); the numbers are C integers (0x…, 0…) and may be
   * variables. One number n counts 1..n (or -1..n, or 1 down to 0); two count up or down.
   */
  private addSeq(buf: string): boolean {
    const bad = (why: string): false => {
      this.report.error(this.at, `${why} '${buf}'`);
      return false;
    };
    let p = 4;
    const hex = buf[p] === 'x';
    if (hex) p++;
    p = skipBlanks(buf, p);
    if (buf[p++] !== '(') return false;
    p = skipBlanks(buf, p);
    const varStart = p;
    while (p < buf.length && !' \t,)'.includes(buf[p]!)) p++;
    const name = buf.slice(varStart, p);
    p = skipBlanks(buf, p);
    if (p >= buf.length || buf[p] === ')' || name === '') return bad('Invalid ~SEQ definition');
    p = skipBlanks(buf, p + 1);
    const close = buf.indexOf(')', p);
    if (close < 0 || close + 2 - p > SEQ_PARAMS_BUF) return bad('~SEQ parameter strings too long');
    const params = this.replaceParam(buf.slice(p, close + 1), SEQ_PARAMS_BUF, undefined).buf;
    const nums: number[] = [];
    for (let q = 0; ; q++) {
      const n = strtol(params, q);
      nums.push(n.value);
      q = skipBlanks(params, n.end);
      if (params[q] === ')') break;
      if (params[q] !== ',' || nums.length === 3) return bad('Invalid ~SEQ definition');
    }
    let [start, step, last] = [1, 1, nums[0]!];
    if (nums.length === 1) [start, step] = [last < 0 ? -1 : 1, last < 1 ? -1 : 1];
    else if (nums.length === 2) [start, last, step] = [nums[0]!, nums[1]!, nums[0]! <= nums[1]! ? 1 : -1];
    else {
      [start, step, last] = nums as [number, number, number];
      if (step === 0 || (start < last && step < 0) || (start > last && step > 0)) return bad('Invalid ~SEQ values');
    }
    if (hex && (start < 0 || last < 0)) return bad('~SEQx is only valid for positive numbers');
    this.gens.push({ kind: 'seq', text: buf.slice(skipBlanks(buf, close + 1)), name, next: start, step, last, hex });
    return true;
  }

  /**
   * add_lst: `~LST(var, v1, v2…) text` or `~LST({a,b}, {1,2}, {3}…) text`: the text once per value (set), missing
   * values empty.
   */
  private addLst(buf: string): boolean {
    let p = skipBlanks(buf, 4);
    if (buf[p++] !== '(') return false;
    p = skipBlanks(buf, p);
    let endChar = ',';
    if (buf[p] === '{') {
      endChar = '}';
      p = skipBlanks(buf, p + 1);
    }
    const names: string[] = [];
    for (;;) {
      const s = p;
      while (p < buf.length && !' \t,}'.includes(buf[p]!)) p++;
      names.push(buf.slice(s, p));
      p = skipBlanks(buf, p);
      if (buf[p] === endChar) break;
      if (buf[p] !== ',') return false;
      p = skipBlanks(buf, p + 1);
    }
    if (buf[p] === '}') p = skipBlanks(buf, p + 1);
    if (buf[p++] !== ',') return false;
    p = skipBlanks(buf, p);
    const sets: string[][] = [];
    for (;;) {
      let end = ',';
      if (buf[p] === '{') {
        end = '}';
        p = skipBlanks(buf, p + 1);
      }
      const values: string[] = [];
      for (;;) {
        const s = p;
        while (p < buf.length && !' \t,})'.includes(buf[p]!)) p++;
        values.push(buf.slice(s, p));
        p = skipBlanks(buf, p);
        if (buf[p] === end || (buf[p] === ')' && end === ',')) break;
        if (buf[p] !== ',') return false;
        p = skipBlanks(buf, p + 1);
        if (values.length >= names.length) {
          this.report.error(this.at, `~LST specification has too many values '${buf}'`);
          return false;
        }
      }
      while (values.length < names.length) values.push('');
      sets.push(values);
      if (buf[p] === '}' && end === '}') p = skipBlanks(buf, p + 1);
      if (buf[p] === ')') break;
      if (buf[p] !== ',') return false;
      p = skipBlanks(buf, p + 1);
    }
    this.gens.push({ kind: 'lst', text: buf.slice(skipBlanks(buf, p + 1)), names, sets, next: 0 });
    return true;
  }

  /** is_include / check_include: `include FILE` (or includer, includem, includew, includeb, includea) is read now. */
  private checkInclude(buf: string): boolean {
    if (!buf.startsWith('include') || buf.length === 7) return false;
    let argAt = 8;
    if (!isSpace(buf[7])) {
      if (!'rmwba'.includes(buf[7]!) || !isSpace(buf[8])) return false;
      argAt = 9;
    }
    this.include(buf.slice(0, argAt - 1), buf.slice(skipBlanks(buf, argAt)));
    return true;
  }

  private include(word: string, arg: string): void {
    const where = this.at;
    if (arg === '') {
      this.report.error(where, `No config file specified for ${word}`);
      return;
    }
    if (this.stopped) return;
    const strict = this.opts.includesAreErrors || word !== 'include';
    // Refused includes are errors (-t exit 5): a reload with one keeps the running config.
    const refuse = (why: string): void => this.report.error(where, `${word} '${arg}': ${why}; not read`, word);
    if (this.groups.length > INCLUDE_LIMITS.depth) return refuse(`includes nested more than ${INCLUDE_LIMITS.depth} deep`);
    const pattern = arg.replace(/^["']|["']$/g, '');
    const limit = INCLUDE_LIMITS.names;
    if (countBraces(pattern, limit) > limit) return refuse(`braces expand to more than ${limit} file names`);
    const dir = dirname(where.file);
    const found: string[] = [];
    for (const alt of expandBraces(pattern)) {
      const full = posix.normalize(alt.startsWith('/') ? alt : `${dir}/${alt}`);
      for (const f of globFiles(this.fs, full, limit)) found.push(f);
      if (found.length > limit) return refuse(`matches more than ${limit} files`);
    }
    let anyReadable = false;
    const rest: { f: string; text: string }[] = [];
    for (const f of found) {
      if (this.isOpen(f)) {
        const key = `${where.file}:${where.line}:${f}`;
        if (!this.loopsReported.has(key)) this.report.warn(where, `Configuration file '${f}' is already being read (include loop) - skipping`, word);
        this.loopsReported.add(key);
        anyReadable = true;
        continue;
      }
      if (++this.includedFiles > INCLUDE_LIMITS.files) {
        this.stopped = true;
        return refuse(`more than ${INCLUDE_LIMITS.files} files included in all (nothing more is read)`);
      }
      const text = this.fs.readFile(f);
      if (text === undefined) continue;
      anyReadable = true;
      rest.push({ f, text });
    }
    if (!anyReadable) {
      this.report.add(strict ? 'error' : 'warning', where, `Config files missing '${arg}'.`, word);
      return;
    }
    const first = rest.shift();
    if (first) this.groups.push({ cur: this.open(first.f, first.text), rest });
  }
}
