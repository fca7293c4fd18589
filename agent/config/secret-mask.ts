// Resource files hold secrets (the peer link's shared secret, CHAP secrets). Whatever is shown
// of a file — a diff in the console above all, a config error message on either side — shows
// them masked, yet a diff says whether one changes.
import type { ResourceConfig } from './types.js';

export const HIDDEN = '<hidden>';
export const HIDDEN_CHANGED = '<hidden, changed>';

// A key ending in "secret" and its value, in YAML (`secret: "x"`, inside a flow map too) and
// in a DRBD .res file (`shared-secret "x";`). A word in a comment may match: masking it is harmless.
const SECRET = /(^|[\s{,])((?:[A-Za-z]+-)?secret)(\s*:\s*|\s+)("(?:[^"\\\n]|\\.)*"|'(?:[^'\n]|'')*'|[^\s,}#;]+)/g;

/** The raw values (quotes included) of the secret keys in a text, in order. */
export function secretTokens(text: string): string[] {
  return [...text.matchAll(SECRET)].map((m) => m[4]!);
}

// The first word after a secret key, past brackets and quotes: what a parser stumbling on a
// malformed value (`shared-secret { x }`, `secret: [x]`) quotes back.
const AFTER_SECRET_KEY = /(?:^|[\s{,])(?:[A-Za-z]+-)?secret[\s:{[(]*["']?([^\s"',;{}[\]()]+)/g;

/** The secret values of a text, quoted as written and bare, for masking them in what quotes the text. */
export function textSecrets(text: string): string[] {
  const tokens = secretTokens(text).flatMap((t) => (/^["']/.test(t) ? [t, t.slice(1, -1)] : [t]));
  return [...new Set([...tokens, ...[...text.matchAll(AFTER_SECRET_KEY)].map((m) => m[1]!)])];
}

/** The secrets a loaded config holds, for masking them wherever else they are written. */
export function configSecrets(c: ResourceConfig | undefined): string[] {
  if (!c) return [];
  return [c.net.sharedSecret, c.iscsi?.chap?.secret, c.iscsi?.chap?.targetSecret].filter((s): s is string => typeof s === 'string' && s !== '');
}

/**
 * `text` with every secret value masked. With `before` (the text it replaces), a value that
 * was not there before reads HIDDEN_CHANGED, so a diff still shows that the secret changes.
 * `known` secrets are masked wherever they appear besides (an unusual spelling of the key).
 */
export function maskSecrets(text: string, opts: { before?: string; known?: readonly string[] } = {}): string {
  const old = opts.before === undefined ? undefined : new Set(secretTokens(opts.before));
  const out = text.replace(SECRET, (_all, pre: string, key: string, sep: string, value: string) => `${pre}${key}${sep}${old && !old.has(value) ? HIDDEN_CHANGED : HIDDEN}`);
  return maskKnown(out, opts.known ?? []);
}

/** `text` with each of the `known` secrets masked wherever it appears (prose, where the key pattern would misfire). */
export function maskKnown(text: string, known: readonly string[]): string {
  let out = text;
  // Longest first, so that a secret containing another is masked whole.
  for (const s of [...known].sort((a, b) => b.length - a.length)) if (s.length >= 4) out = out.split(s).join(HIDDEN);
  return out;
}
