// What the terminal is told to draw, decided once at start: colour (NO_COLOR, FORCE_COLOR) and
// Unicode glyphs (--no-unicode, the locale). Ink's colour library (chalk) reads FORCE_COLOR but
// not NO_COLOR, so the views ask this, through Text and Frame, instead of chalk alone.

export interface Theme {
  /** Foreground and background colours; bold, dim and inverse stay either way (they are not colour). */
  color: boolean;
  /** Unicode glyphs and box borders; else the ASCII ones of glyphs.ts. */
  unicode: boolean;
}

export const FULL_THEME: Theme = { color: true, unicode: true };

export interface ThemeFlags {
  /** false: `--no-unicode`. */
  unicode?: boolean;
}

export type Env = Readonly<Record<string, string | undefined>>;

/**
 * FORCE_COLOR as chalk reads it (`0`/`false` off, anything else on) wins over NO_COLOR, as in
 * Node itself; NO_COLOR counts when present and not empty (no-color.org).
 */
function colorFrom(env: Env): boolean {
  const force = env.FORCE_COLOR;
  if (force !== undefined) return force !== '0' && force !== 'false';
  return !env.NO_COLOR;
}

/**
 * The locale that decides the character set (LC_ALL over LC_CTYPE over LANG, the first set and
 * not empty, as setlocale takes them). None set says nothing about the terminal: Unicode stays,
 * as it does in terminals that set no locale for their programs (tmux panes, containers).
 */
function unicodeLocale(env: Env): boolean {
  const locale = [env.LC_ALL, env.LC_CTYPE, env.LANG].find((v) => v !== undefined && v !== '');
  return locale === undefined || /utf-?8/i.test(locale);
}

export function decideTheme(env: Env, flags: ThemeFlags = {}): Theme {
  return { color: colorFrom(env), unicode: flags.unicode !== false && unicodeLocale(env) };
}
