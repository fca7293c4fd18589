// The console's non-ASCII glyphs and what stands for each in ASCII (--no-unicode, a C/POSIX
// locale). Views write the Unicode text; Text (and the key labels) swap in the ASCII one, so
// no view needs a second spelling of its lines.

/**
 * One column each, the width of the glyph it stands for: the layouts are measured on the
 * Unicode text (columns, sync bars, truncation), and must stay right in ASCII.
 */
export const ASCII_GLYPHS: Readonly<Record<string, string>> = {
  '…': '~',
  '→': '>',
  '↳': '>',
  '↔': '=',
  '⇄': '=',
  '↑': '^',
  '↓': 'v',
  '·': '-',
  '•': '-',
  '—': '-',
  '–': '-',
  '×': 'x',
  '✓': '+',
  '✔': '+',
  '✗': 'x',
  '✖': '!',
  '⚠': '!',
  '▲': '^',
  '▶': '>',
  '⏸': '=',
  '●': '*',
  '◌': 'o',
  '█': '#',
  '░': '.',
  '▁': '_',
  '▂': '.',
  '▃': '-',
  '▄': ':',
  '▅': '=',
  '▆': '+',
  '▇': '*',
  '▏': '|',
};

/** Where the text is measured after the swap (Ink wraps it, the footer fits it): words read better. */
export const ASCII_WORDS: ReadonlyArray<[string, string]> = [
  ['↑↓', 'Up/Dn'],
  ['↑', 'Up'],
  ['↓', 'Dn'],
  ['⏎', 'Enter'],
];

const GLYPH = new RegExp(`[${Object.keys(ASCII_GLYPHS).join('')}]`, 'gu');

/** `s` with every glyph of the table in one ASCII column; other characters (a host's text) as they are. */
export function asciiGlyphs(s: string): string {
  return s.replace(GLYPH, (g) => ASCII_GLYPHS[g]!);
}

/** `s` for the ASCII screen where its width is measured after: keys as words, then the glyphs. */
export function asciiText(s: string): string {
  return asciiGlyphs(ASCII_WORDS.reduce((t, [g, w]) => t.replaceAll(g, w), s));
}

/** A key label (`⏎`, `↑↓`) as the screen shows it. */
export function keyLabel(k: string, unicode: boolean): string {
  return unicode ? k : asciiText(k);
}

export type BorderStyle = 'round' | 'double' | 'single' | 'bold';

/** Box borders: ASCII `+-|` where Unicode box drawing is not to be used. */
export function borderStyle(style: BorderStyle, unicode: boolean): BorderStyle | 'classic' {
  return unicode ? style : 'classic';
}
