// Text that came from the network or a file, made safe to show on a terminal or in a log:
// an iSCSI client's InitiatorName, a config file's value, an agent's error message. Anything
// a terminal would act on instead of print (C0/C1 controls and so ESC sequences, DEL),
// anything that would start a forged log line (newlines, U+2028/9), bidi controls that
// reorder what follows, and lone surrogates are shown as escapes; the rest is untouched, so
// an ordinary name reads as it was written. Dependency-free: the agent bundle and the
// console both import it.

/** Characters shown escaped. Backslash is not: the output is for eyes, not for parsing back. */
// eslint-disable-next-line no-control-regex
const UNSAFE = /[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;
const UNSAFE_ALL = new RegExp(UNSAFE.source, 'g');
/** The same class as a pattern, for formats that escape these characters their own way (events2). */
export const UNSAFE_SOURCE = UNSAFE.source;

const NAMED: Record<string, string> = { '\n': '\\n', '\r': '\\r', '\t': '\\t' };

/** What a string is cut to by default: longer than any name we accept, short enough for one line. */
export const DISPLAY_LIMIT = 256;

/** The escape an unsafe character is shown as: `\n`, `\x1b`, `\u202e`. */
export function escapeChar(c: string): string {
  const named = NAMED[c];
  if (named) return named;
  const code = c.charCodeAt(0);
  return code <= 0xff ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`;
}

/** Whether `s` holds anything untrustedText would escape. */
export function hasUnsafeText(s: string): boolean {
  return UNSAFE.test(s);
}

/**
 * `s` as it may be shown: unsafe characters escaped, and when the result passes `max`
 * characters, cut there with `…` and the original length, so a flood reads as one.
 */
export function untrustedText(s: string, max = DISPLAY_LIMIT): string {
  if (!(max >= 1)) throw new RangeError(`untrustedText: max must be at least 1, got ${max}`);
  // Escaping at most max+1 input characters bounds the work for any input size.
  const head = s.length > max ? s.slice(0, max + 1) : s;
  const escaped = head.replace(UNSAFE_ALL, escapeChar);
  if (escaped.length <= max && head.length === s.length) return escaped;
  let cut = escaped.slice(0, max);
  // Never leave half an escape or half a surrogate pair at the cut.
  const lastEscape = cut.lastIndexOf('\\');
  if (lastEscape >= 0 && /^\\(x[0-9a-f]?|u[0-9a-f]{0,3})?$/.test(cut.slice(lastEscape))) cut = cut.slice(0, lastEscape);
  if (/[\ud800-\udbff]$/.test(cut)) cut = cut.slice(0, -1);
  return `${cut}…(${s.length} chars)`;
}

/** Text of several lines made safe line by line: its own line breaks stay, each line is capped at `max`. */
export function untrustedLines(s: string, max = DISPLAY_LIMIT): string {
  return s
    .split('\n')
    .map((l) => (l === '' ? l : untrustedText(l, max)))
    .join('\n');
}
