// Line-level lexing as keepalived's parser does it: comments start at `#` or `!` outside double
// quotes, quotes are removed and adjoining text joined into one token, and braces outside quotes are tokens of
// their own so `a { b }` on one line works.

export interface Token {
  readonly text: string;
  /** True when any part of the token was quoted: a quoted "{" is a word, not a brace. */
  readonly quoted: boolean;
}

/**
 * parser.c decomment: strips leading blanks, a trailing comment (`#` or `!` outside double quotes; single quotes do
 * not quote here) and trailing blanks. `\#` and `\!` outside quotes lose their backslash; any other backslash keeps
 * the character after it (an escaped `"` does not open a quote). A backslash ending the line is a continuation: it
 * stays, and the blanks before it go. `unterminated` hears the line (comment still on) when a quote is left open.
 */
export function decomment(line: string, unterminated?: (text: string) => void): string {
  if (!/["#!\\]/.test(line)) return trimBlank(line);
  const s = line.replace(/^[ \t]+/, '');
  let out = '';
  let quote = false;
  let cut = -1;
  let cont = false;
  for (let i = 0; i < s.length; i++) {
    const c = s[i]!;
    if (c === '\\') {
      if (i + 1 === s.length) {
        cont = true;
        break;
      }
      const d = s[++i]!;
      out += !quote && (d === '#' || d === '!') ? d : c + d;
      continue;
    }
    if (c === '"') {
      if (cut < 0) quote = !quote;
    } else if ((c === '#' || c === '!') && !quote && cut < 0) {
      cut = out.length;
    }
    out += c;
  }
  if (quote) unterminated?.(out);
  const kept = trimBlank(cut < 0 ? out : out.slice(0, cut));
  return cont ? `${kept}\\` : kept;
}

/**
 * Strips what C's isspace() calls blank, as keepalived does, and nothing else: String.prototype.trim would also eat a
 * UTF-8 BOM or a no-break space, which keepalived keeps as part of the word (a BOM before `global_defs` makes it an
 * unknown keyword).
 */
export function trimBlank(s: string): string {
  return s.replace(/^[ \t\n\v\f\r]+|[ \t\n\v\f\r]+$/g, '');
}

function isBlank(c: string): boolean {
  return c === ' ' || c === '\t' || c === '\r' || c === '\n' || c === '\v' || c === '\f';
}

export function hasQuotes(line: string): boolean {
  return line.includes('"') || line.includes("'");
}

/**
 * Fast path for a line without quotes (nearly all of them): the words, with `{` and `}` as words of their own.
 * Allocates only the word strings, which matters on configs of 100k+ lines.
 */
export function splitWords(line: string): string[] {
  const words: string[] = [];
  let start = -1;
  for (let i = 0; i < line.length; i++) {
    const c = line.charCodeAt(i);
    // blank: space, \t \n \v \f \r
    if (c === 32 || (c >= 9 && c <= 13)) {
      if (start >= 0) words.push(line.slice(start, i));
      start = -1;
    } else if (c === 123 || c === 125) {
      if (start >= 0) words.push(line.slice(start, i));
      words.push(c === 123 ? '{' : '}');
      start = -1;
    } else if (start < 0) start = i;
  }
  if (start >= 0) words.push(line.slice(start));
  return words;
}

/** Splits a decommented line into tokens. An unterminated quote runs to the end of the line. */
export function tokenize(line: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  const n = line.length;
  while (i < n) {
    const c = line[i]!;
    if (isBlank(c)) {
      i++;
      continue;
    }
    if (c === '{' || c === '}') {
      tokens.push({ text: c, quoted: false });
      i++;
      continue;
    }
    let text = '';
    let quoted = false;
    while (i < n) {
      const d = line[i]!;
      if (d === '"' || d === "'") {
        quoted = true;
        const end = line.indexOf(d, i + 1);
        const stop = end < 0 ? n : end;
        text += line.slice(i + 1, stop);
        i = stop + 1;
        continue;
      }
      if (isBlank(d) || d === '{' || d === '}') break;
      text += d;
      i++;
    }
    tokens.push({ text, quoted });
  }
  return tokens;
}

/**
 * Splits a command string into argv the way keepalived splits script strings: blanks separate words, single and
 * double quotes group, a backslash escapes the next character.
 */
export function splitArgv(command: string): string[] {
  const argv: string[] = [];
  let word = '';
  let inWord = false;
  let quote = '';
  for (let i = 0; i < command.length; i++) {
    const c = command[i]!;
    if (quote) {
      if (c === quote) quote = '';
      else if (c === '\\' && quote === '"' && i + 1 < command.length) word += command[++i];
      else word += c;
    } else if (c === '"' || c === "'") {
      quote = c;
      inWord = true;
    } else if (c === '\\' && i + 1 < command.length) {
      word += command[++i];
      inWord = true;
    } else if (isBlank(c)) {
      if (inWord) argv.push(word);
      word = '';
      inWord = false;
    } else {
      word += c;
      inWord = true;
    }
  }
  if (inWord) argv.push(word);
  return argv;
}
