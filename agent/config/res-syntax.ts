// The syntax of DRBD .res files, without their meaning: a tokenizer (comments `#`, strings in
// double quotes, words, `{ } ;`) and a parser into nested statements of the one shape the
// format has: `keyword args... ;` or `keyword args... { statements }`.

export interface Token {
  kind: 'word' | 'string' | '{' | '}' | ';';
  text: string;
  line: number;
  col: number;
  /** The file it was read from, when the text came from one (drbd.conf trees span several). */
  file?: string;
}

export interface Statement {
  key: Token;
  args: Token[];
  /** Present for `keyword args { ... }`. */
  block?: Statement[];
}

export interface SyntaxError {
  line: number;
  col: number;
  message: string;
}

export type Tokens = { tokens: Token[] } | { error: SyntaxError };

export function tokenize(text: string, file?: string): Tokens {
  const tokens: Token[] = [];
  let line = 1;
  let col = 1;
  let i = 0;
  const advance = (n: number) => {
    for (let k = 0; k < n; k++) {
      if (text[i] === '\n') {
        line++;
        col = 1;
      } else col++;
      i++;
    }
  };
  while (i < text.length) {
    const c = text[i]!;
    if (c === '\n' || c === ' ' || c === '\t' || c === '\r' || c === '\f' || c === '\v') {
      advance(1);
    } else if (c === '#') {
      while (i < text.length && text[i] !== '\n') advance(1);
    } else if (c === '{' || c === '}' || c === ';') {
      tokens.push({ kind: c, text: c, line, col, ...(file !== undefined ? { file } : {}) });
      advance(1);
    } else if (c === '"') {
      const start = { line, col };
      advance(1);
      let s = '';
      for (;;) {
        const d = text[i];
        // The string's content is never quoted back: it may be a shared secret.
        if (d === undefined || d === '\n') return { error: { ...start, message: 'this string has no closing double quote (strings must end on the line they start)' } };
        if (d === '"') break;
        if (d === '\\' && text[i + 1] !== undefined && text[i + 1] !== '\n') {
          s += text[i + 1];
          advance(2);
          continue;
        }
        s += d;
        advance(1);
      }
      advance(1);
      tokens.push({ kind: 'string', text: s, ...start, ...(file !== undefined ? { file } : {}) });
    } else {
      const start = { line, col };
      let s = '';
      while (i < text.length && !/[\s{};"#]/.test(text[i]!)) {
        s += text[i];
        advance(1);
      }
      tokens.push({ kind: 'word', text: s, ...start, ...(file !== undefined ? { file } : {}) });
    }
  }
  return { tokens };
}

export type Parsed = { statements: Statement[] } | { error: SyntaxError };

export function parseStatements(tokens: Token[], end: { line: number; col: number }): Parsed {
  let i = 0;
  const block = (opener: Token | undefined, keyword?: Token): Statement[] | SyntaxError => {
    const out: Statement[] = [];
    for (;;) {
      const t = tokens[i];
      if (t === undefined) {
        if (opener) {
          const what = keyword ? `the ${keyword.text} block` : 'the block';
          return { ...end, message: `${what} opened at ${opener.line}:${opener.col} is never closed: a } is missing, at the end or inside that block` };
        }
        return out;
      }
      if (t.kind === '}') {
        if (!opener) return { line: t.line, col: t.col, message: 'this } closes nothing: remove it or add the { it belongs to' };
        i++;
        return out;
      }
      if (t.kind === ';') {
        // A stray `;` (e.g. after a `}`) is harmless and drbdadm tolerates it.
        i++;
        continue;
      }
      if (t.kind !== 'word') return { line: t.line, col: t.col, message: `expected a keyword here, got ${t.kind === '{' ? 'a {' : 'a quoted string'}` };
      i++;
      const args: Token[] = [];
      for (;;) {
        const a = tokens[i];
        if (a === undefined) return { ...end, message: `"${t.text}" at ${t.line}:${t.col} is not finished: end it with ; (or a { ... } block)` };
        if (a.kind === 'word' || a.kind === 'string') {
          args.push(a);
          i++;
          continue;
        }
        if (a.kind === ';') {
          i++;
          out.push({ key: t, args });
          break;
        }
        if (a.kind === '{') {
          i++;
          // drbdadm skips what `skip { }` holds token by token, to the matching brace: it need not be statements.
          if (t.text === 'skip') {
            for (let depth = 1; depth > 0; i++) {
              const x = tokens[i];
              if (x === undefined) return { ...end, message: `the skip block opened at ${a.line}:${a.col} is never closed: a } is missing, at the end or inside that block` };
              if (x.kind === '{') depth++;
              else if (x.kind === '}') depth--;
            }
            out.push({ key: t, args, block: [] });
            break;
          }
          const inner = block(a, t);
          if (!Array.isArray(inner)) return inner;
          out.push({ key: t, args, block: inner });
          break;
        }
        // A `}` right after a parameter: the `;` was forgotten.
        return { line: a.line, col: a.col, message: `missing ; after "${t.text}" (line ${t.line}) before this }` };
      }
    }
  };
  const r = block(undefined);
  return Array.isArray(r) ? { statements: r } : { error: r };
}
