// HTTP_GET/SSL_GET `regex`: keepalived compiles it with PCRE2 (check/check_http.c, no PCRE2_UTF, newline LF); this
// runs it as a JavaScript RegExp. The common subset is carried over, with the four tokens whose meaning differs
// rewritten to PCRE2's: `.` (PCRE2 stops only at LF, JavaScript also at CR, U+2028, U+2029), `$` (PCRE2 also matches
// before a final LF), `^` under multiline (PCRE2 not after a final LF, JavaScript also after CR) and `\s` (ASCII
// only in PCRE2). Anything else PCRE2 reads differently — \A, possessive quantifiers, atomic groups, inline options,
// POSIX classes … — is named by `pcre2Difference`, so the config check can report it instead of matching differently.

export type Pcre2Translation =
  | { readonly source: string; readonly flags: string }
  | { readonly differs: string };

/** Escapes whose PCRE2 meaning JavaScript (without the u flag) does not share. */
const ESCAPES_DIFFERING = new Set(['A', 'Z', 'z', 'G', 'h', 'H', 'v', 'V', 'R', 'X', 'K', 'Q', 'E', 'e', 'a', 'N', 'p', 'P', 'o', 'g', 'C']);
/** After `(?`: what JavaScript reads the same. */
const GROUP_SAME = [':', '=', '!', '<=', '<!'];
const PCRE2_SPACE = '\\t\\n\\v\\f\\r ';

/** PCRE2 options with a JavaScript counterpart (keepalived's regex_options words). */
function optionSet(options: string | undefined): Set<string> {
  return new Set((options ?? '').split(/\s+/).filter(Boolean));
}

export function translatePcre2(pattern: string, options?: string): Pcre2Translation {
  const opts = optionSet(options);
  const dotall = opts.has('dotall');
  const multiline = opts.has('multiline');
  let out = '';
  let inClass = false;
  let prevQuantifier = false;
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i]!;
    const wasQuantifier: boolean = prevQuantifier;
    prevQuantifier = false;
    if (c === '\\') {
      const e = pattern[i + 1];
      if (e === undefined) return { differs: 'a trailing \\' };
      i++;
      if (ESCAPES_DIFFERING.has(e) || (e === 'x' && pattern[i + 1] === '{')) return { differs: `\\${e}` };
      if (e === 's') out += inClass ? PCRE2_SPACE : `[${PCRE2_SPACE}]`;
      else if (e === 'S') {
        if (inClass) return { differs: '\\S inside a character class' };
        out += `[^${PCRE2_SPACE}]`;
      } else out += `\\${e}`;
      continue;
    }
    if (inClass) {
      if (c === '[' && pattern[i + 1] === ':') return { differs: 'a POSIX class [:...:]' };
      if (c === ']') inClass = false;
      out += c;
      continue;
    }
    switch (c) {
      case '[': {
        inClass = true;
        const negated = pattern[i + 1] === '^';
        // PCRE2 takes a `]` first in a class as a literal; JavaScript as the end of an empty class.
        if (pattern[i + (negated ? 2 : 1)] === ']') return { differs: 'a ] first in a character class' };
        out += c;
        continue;
      }
      case '(':
        if (pattern[i + 1] === '*') return { differs: 'a (*VERB)' };
        if (pattern[i + 1] === '?') {
          const rest = pattern.slice(i + 2);
          const same = GROUP_SAME.some((g) => rest.startsWith(g)) || /^<[A-Za-z_]\w*>/.test(rest);
          if (!same) return { differs: `(?${rest.slice(0, 1)}` };
        }
        out += c;
        continue;
      case '.':
        out += dotall ? '[\\s\\S]' : '[^\\n]';
        continue;
      case '$':
        out += multiline ? '(?=\\n|(?![\\s\\S]))' : '(?=\\n?(?![\\s\\S]))';
        continue;
      case '^':
        out += multiline ? '(?:(?<![\\s\\S])|(?<=\\n)(?=[\\s\\S]))' : '^';
        continue;
      case '*':
      case '?':
      case '}':
        out += c;
        // `?` right after a quantifier makes it lazy (same in both); after an atom it is itself a quantifier.
        prevQuantifier = !(c === '?' && wasQuantifier);
        continue;
      case '+':
        if (wasQuantifier) return { differs: 'a possessive quantifier' };
        out += c;
        prevQuantifier = true;
        continue;
      default:
        out += c;
    }
  }
  // multiline and dotall are carried by the rewritten tokens themselves.
  return { source: out, flags: opts.has('caseless') ? 'i' : '' };
}

/** What in `pattern` PCRE2 reads differently from JavaScript, if anything. */
export function pcre2Difference(pattern: string): string | undefined {
  const t = translatePcre2(pattern);
  return 'differs' in t ? t.differs : undefined;
}
