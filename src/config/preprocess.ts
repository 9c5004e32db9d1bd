// Turns the main config file into the stream of logical lines the parser reads: includes (globs,
// braces, relative to the including file, cycle-safe), `@id` conditionals, `$VAR=` definitions and substitution,
// predefined `${_…}` variables and the `~SEQ` / `~LST` line generators. Comments are stripped here, before variable
// substitution, so `${_HASH}` can put a literal `#` into a value as keepalived allows.
import { posix } from 'node:path';
import { decomment, trimBlank } from './lexer.js';
import type { Reporter } from './errors.js';

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
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly random: () => number;
}

/** keepalived reads with fgets into a 1024-byte buffer: longer lines arrive as several lines. */
const MAX_LINE = 1023;
/** Bound on recursive substitution, against self-referencing definitions. */
const MAX_DEPTH = 32;
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
/** Bounds on what one source line may expand to (`$A=${A}${A}` doubles per pass; nested ~SEQs multiply). */
const MAX_EXPANDED_CHARS = 1 << 20;
const MAX_GENERATED_LINES = 100_000;
const INCLUDE_WORDS = new Set(['include', 'includer', 'includem', 'includew', 'includeb', 'includea']);
const DEF_RE = /^\$([A-Za-z_][A-Za-z0-9_]*)=(.*)$/s;

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

interface FileCtx {
  readonly file: string;
  readonly dir: string;
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
 * only, no quotes, backslashes, `$` or `~` before any comment, not an `@id` or include line. Returns the number of
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
      // `#` or `!`: the rest is a comment
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
      if (n === 0 && (c === 64 || (c === 105 && text.startsWith('include', i)))) return -1;
      word = i;
    }
  }
  if (word >= 0) {
    bounds[n++] = word;
    bounds[n++] = stop;
  }
  return n >> 1;
}

export class Preprocessor {
  private readonly vars = new Map<string, string>();
  private readonly out: SourceLine[];
  readonly files: string[] = [];
  private readonly stack: string[] = [];
  private readonly sink: LineSink;
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
  }

  private emit(file: string, line: number, text: string): void {
    if (this.overBudget(file, line, text.length)) return;
    this.sink.feed(file, line, text);
  }

  /** Counts `chars` more text; at the first excess reports it and stops everything. */
  private overBudget(file: string, line: number, chars: number): boolean {
    if (this.stopped) return true;
    this.textFed += chars;
    if (this.textFed <= MAX_CONFIG_TEXT) return false;
    this.stopped = true;
    this.report.error({ file, line }, `configuration text exceeds ${MAX_CONFIG_TEXT >> 20} MiB after includes and expansions; the rest is not read`);
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
    this.processText(mainFile, text);
    return this.out;
  }

  processText(file: string, text: string): SourceLine[] {
    if (!this.files.includes(file)) this.files.push(file);
    this.stack.push(file);
    const ctx: FileCtx = { file, dir: dirname(file) };
    let pendingDef: { name: string; value: string[] } | undefined;
    // Walk the text line by line rather than split() it, so no array of every line is kept alive meanwhile.
    const bounds = this.bounds;
    for (let start = 0, lineNo = 1; start <= text.length && !this.stopped; lineNo++) {
      let end = text.indexOf('\n', start);
      if (end < 0) end = text.length;
      if (pendingDef === undefined && end - start <= MAX_LINE) {
        const count = plainTokens(text, start, end, bounds);
        if (count >= 0) {
          if (count > 0 && !this.overBudget(file, lineNo, end - start)) this.sink.feedTokens(file, lineNo, text, bounds, count);
          start = end + 1;
          continue;
        }
      }
      const whole = text.slice(start, end);
      start = end + 1;
      for (let off = 0; off === 0 || off < whole.length; off += MAX_LINE) {
        const chunk = whole.length > MAX_LINE ? whole.slice(off, off + MAX_LINE) : whole;
        if (pendingDef) {
          const body = decomment(chunk);
          const cont = body.endsWith('\\');
          pendingDef.value.push(cont ? body.slice(0, -1).trim() : body);
          if (!cont) {
            this.vars.set(pendingDef.name, pendingDef.value.filter((v) => v !== '').join('\n'));
            pendingDef = undefined;
          }
          continue;
        }
        pendingDef = this.processLine(ctx, lineNo, decomment(chunk));
      }
    }
    if (pendingDef) this.vars.set(pendingDef.name, pendingDef.value.join('\n'));
    this.stack.pop();
    return this.out;
  }

  private processLine(ctx: FileCtx, line: number, text: string): { name: string; value: string[] } | undefined {
    if (text === '') return undefined;
    const where = { file: ctx.file, line };
    const first = text.startsWith('include') ? /^\S+/.exec(text)![0] : '';
    if (INCLUDE_WORDS.has(first)) {
      this.include(ctx, line, first, text.slice(first.length).trim());
      return undefined;
    }
    let body = text;
    if (body.startsWith('@')) {
      const m = /^@(\^?)(\S*)\s*(.*)$/s.exec(body)!;
      const matches = m[2] === this.opts.configId;
      if ((m[1] === '^') === matches) return undefined;
      body = m[3]!;
      if (body === '') return undefined;
    }
    const def = body.startsWith('$') ? DEF_RE.exec(body) : null;
    if (def) {
      const name = def[1]!;
      const value = def[2]!.trim();
      if (value.endsWith('\\')) return { name, value: [value.slice(0, -1).trim()] };
      this.vars.set(name, value);
      return undefined;
    }
    const substituted = this.substitute(body, ctx, 0);
    if (!substituted.includes('\n') && !substituted.includes('~')) {
      this.emit(ctx.file, line, trimBlank(substituted));
      return undefined;
    }
    for (const part of substituted.split('\n')) {
      for (const expanded of this.expandGenerators(part, where, 0)) {
        const t = trimBlank(expanded);
        if (t !== '') this.emit(ctx.file, line, t);
      }
    }
    return undefined;
  }

  private include(ctx: FileCtx, line: number, word: string, arg: string): void {
    const where = { file: ctx.file, line };
    if (arg === '') {
      this.report.error(where, `No config file specified for ${word}`);
      return;
    }
    if (this.stopped) return;
    const strict = this.opts.includesAreErrors || word !== 'include';
    // Refused includes are errors (-t exit 5): a reload with one keeps the running config.
    const refuse = (why: string): void => this.report.error(where, `${word} '${arg}': ${why}; not read`, word);
    if (this.stack.length > INCLUDE_LIMITS.depth) return refuse(`includes nested more than ${INCLUDE_LIMITS.depth} deep`);
    const pattern = this.substitute(arg.replace(/^["']|["']$/g, ''), ctx, 0);
    const limit = INCLUDE_LIMITS.names;
    if (countBraces(pattern, limit) > limit) return refuse(`braces expand to more than ${limit} file names`);
    const found: string[] = [];
    for (const alt of expandBraces(pattern)) {
      const full = posix.normalize(alt.startsWith('/') ? alt : `${ctx.dir}/${alt}`);
      for (const f of globFiles(this.fs, full, limit)) found.push(f);
      if (found.length > limit) return refuse(`matches more than ${limit} files`);
    }
    const readable: { f: string; text: string }[] = [];
    for (const f of found) {
      if (this.stack.includes(f)) {
        const key = `${where.file}:${line}:${f}`;
        if (!this.loopsReported.has(key)) this.report.warn(where, `Configuration file '${f}' is already being read (include loop) - skipping`, word);
        this.loopsReported.add(key);
        readable.push({ f, text: '' });
        continue;
      }
      if (++this.includedFiles > INCLUDE_LIMITS.files) {
        this.stopped = true;
        return refuse(`more than ${INCLUDE_LIMITS.files} files included in all (nothing more is read)`);
      }
      const text = this.fs.readFile(f);
      if (text !== undefined) readable.push({ f, text });
    }
    if (readable.length === 0) {
      this.report.add(strict ? 'error' : 'warning', where, `Config files missing '${arg}'.`, word);
      return;
    }
    for (const { f, text } of readable) {
      if (this.stack.includes(f)) continue;
      this.processText(f, text);
      if (this.stopped) return;
    }
  }

  private predefined(expr: string, ctx: FileCtx): string | undefined {
    const [name, ...args] = expr.trim().split(/\s+/);
    switch (name) {
      case '_PWD':
        return ctx.dir;
      case '_INSTANCE':
        return this.opts.configId;
      case '_HASH':
        return '#';
      case '_BANG':
        return '!';
      case '_ENV':
        return args[0] !== undefined ? (this.opts.env[args[0]] ?? '') : '';
      case '_RANDOM': {
        const min = args[0] !== undefined ? Number.parseInt(args[0], 10) || 0 : 0;
        const max = args[1] !== undefined ? Number.parseInt(args[1], 10) || 0 : 32767;
        return String(min + Math.floor(this.opts.random() * (Math.max(max, min) - min + 1)));
      }
      default:
        return undefined;
    }
  }

  /** `${NAME}` anywhere, `$NAME` when followed by a blank or the end; undefined names stay as written. */
  private substitute(text: string, ctx: FileCtx, depth: number, extra?: ReadonlyMap<string, string>): string {
    if (!text.includes('$') || depth > MAX_DEPTH) return text;
    let changed = false;
    const lookup = (name: string): string | undefined => extra?.get(name) ?? this.vars.get(name);
    const result = text.replace(/\$\{([^}]*)\}|\$([A-Za-z_][A-Za-z0-9_]*)(?=\s|$)/g, (all, braced?: string, bare?: string) => {
      const value = braced !== undefined ? (lookup(braced) ?? this.predefined(braced, ctx)) : lookup(bare!);
      if (value === undefined) return all;
      changed = true;
      return value;
    });
    if (result.length > MAX_EXPANDED_CHARS) return result.slice(0, MAX_EXPANDED_CHARS);
    return changed ? this.substitute(result, ctx, depth + 1, extra) : result;
  }

  /** Expands the first `~SEQ(...)`, `~SEQx(...)` or `~LST(...)` on the line; later ones are expanded recursively. */
  private expandGenerators(text: string, where: { file: string; line: number }, depth: number): string[] {
    const m = /~(SEQx?|LST)\(/.exec(text);
    if (!m || depth > MAX_DEPTH) return [text];
    const open = m.index + m[0].length;
    let level = 1;
    let close = -1;
    for (let i = open; i < text.length; i++) {
      if (text[i] === '(') level++;
      else if (text[i] === ')' && --level === 0) {
        close = i;
        break;
      }
    }
    if (close < 0) {
      this.report.error(where, `Missing ')' in ~${m[1]}`);
      return [text];
    }
    const prefix = text.slice(0, m.index);
    const template = text.slice(close + 1);
    const args = splitTopLevel(text.slice(open, close));
    const bindings = m[1] === 'LST' ? this.lstBindings(args, where) : this.seqBindings(m[1] === 'SEQx', args, where);
    const lines: string[] = [];
    let chars = 0;
    const ctx = { file: where.file, dir: dirname(where.file) };
    for (const binding of bindings) {
      const line = `${prefix.trimEnd()} ${this.substitute(template, ctx, 0, binding).trimStart()}`.trim();
      for (const l of this.expandGenerators(line, where, depth + 1)) {
        lines.push(l);
        chars += l.length;
      }
      // No more than the text budget has room for: emitting them reports the excess.
      if (this.textFed + chars > MAX_CONFIG_TEXT) return lines;
      if (lines.length > MAX_GENERATED_LINES) {
        this.report.error(where, `~${m[1]} generates more than ${MAX_GENERATED_LINES} lines - truncating`);
        return lines.slice(0, MAX_GENERATED_LINES);
      }
    }
    return lines;
  }

  private seqBindings(hex: boolean, args: string[], where: { file: string; line: number }): Map<string, string>[] {
    const [name, ...nums] = args.map((a) => a.trim());
    // Bounds are decimal for both forms; ~SEQx only prints the values in hex.
    const values = nums.map((v) => (/^[+-]?\d+$/.test(v) ? Number(v) : NaN));
    if (!name || values.length < 1 || values.length > 3 || values.some((v) => !Number.isFinite(v))) {
      this.report.error(where, `Invalid ~SEQ parameters`);
      return [];
    }
    const end = values[values.length - 1]!;
    const start = values.length >= 2 ? values[0]! : 1;
    const step = values.length === 3 ? values[1]! : end >= start ? 1 : -1;
    if (step === 0 || (step > 0 && start > end) || (step < 0 && start < end)) {
      if (step === 0) this.report.error(where, `Invalid ~SEQ parameters`);
      return [];
    }
    const out: Map<string, string>[] = [];
    for (let v = start; step > 0 ? v <= end : v >= end; v += step) {
      out.push(new Map([[name, hex ? v.toString(16) : String(v)]]));
      if (out.length > MAX_GENERATED_LINES) break;
    }
    return out;
  }

  private lstBindings(args: string[], where: { file: string; line: number }): Map<string, string>[] {
    const [head, ...values] = args.map((a) => a.trim());
    if (!head || values.length === 0) {
      this.report.error(where, `Invalid ~LST parameters`);
      return [];
    }
    const tuple = (s: string): string[] => (s.startsWith('{') && s.endsWith('}') ? s.slice(1, -1).split(',').map((x) => x.trim()) : [s]);
    const names = tuple(head);
    return values.map((v) => {
      const vals = tuple(v);
      return new Map(names.map((n, i) => [n, vals[i] ?? '']));
    });
  }
}

/** Splits on commas that are not inside `{…}`. */
function splitTopLevel(s: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i < s.length; i++) {
    if (s[i] === '{') depth++;
    else if (s[i] === '}') depth--;
    else if (s[i] === ',' && depth === 0) {
      parts.push(s.slice(start, i));
      start = i + 1;
    }
  }
  parts.push(s.slice(start));
  return parts;
}
