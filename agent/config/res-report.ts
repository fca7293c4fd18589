// How the .res loader reports: errors with file:line:col (tokens carry their file in a
// drbd.conf tree), the resource they keep from loading, and the shape mistakes every section
// can make (a lost `;`, a typo of a keyword).
import type { ConfigError } from './types.js';
import type { At } from './draft.js';
import type { Statement, Token } from './res-syntax.js';
import { didYouMean } from './values.js';
import { REFUSED_CONSTRUCTS } from './drbd-options.js';

export const at = (t: Token): At => ({ line: t.line, col: t.col, ...(t.file !== undefined ? { file: t.file } : {}) });
export const where = (t: Token): string => `${t.file ? `${t.file}:` : ''}${t.line}:${t.col}`;

export class Reporter {
  readonly errors: ConfigError[] = [];
  /** Set when a statement ran on over lines (a lost `;`): whole-resource checks would mislead. */
  swallowed = false;
  /** Keywords a typo probably meant ("where/keyword"): not reported again as missing. */
  readonly meant = new Set<string>();
  constructor(
    readonly file: string,
    readonly resource?: string,
  ) {}
  err(a: At, message: string): void {
    this.errors.push({ file: a.file ?? this.file, line: a.line, col: a.col, message, ...(this.resource !== undefined ? { resource: this.resource } : {}) });
  }
  runOn(s: Statement): string | undefined {
    const next = s.args.find((a) => a.line !== s.key.line);
    if (!next) return undefined;
    this.swallowed = true;
    const own = s.args.filter((a) => a.line === s.key.line).map((a) => a.text);
    return `missing ; at the end of line ${s.key.line}: "${[s.key.text, ...own].join(' ')}" runs into "${next.text}" on line ${next.line}`;
  }
  shape(s: Statement, message: string): void {
    this.err(at(s.key), this.runOn(s) ?? message);
  }
  one(s: Statement, example: string): Token | undefined {
    if (s.block || s.args.length !== 1) {
      this.shape(s, `${s.key.text} takes one value, e.g. ${example}`);
      return undefined;
    }
    return s.args[0];
  }
  unknown(s: Statement, where: string, known: readonly string[]): void {
    const refused = REFUSED_CONSTRUCTS[s.key.text];
    if (refused && known.includes(s.key.text)) return this.err(at(s.key), refused);
    const hint = didYouMean(s.key.text, known);
    if (hint) this.meant.add(`${where}/${hint}`);
    this.err(at(s.key), `unknown keyword "${s.key.text}" in ${where}${hint ? `; did you mean "${hint}"?` : `; known here: ${known.join(', ')}`}`);
  }
}
