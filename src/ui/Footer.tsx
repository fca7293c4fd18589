import { Text } from './Text.js';
import type { UiState } from './state.js';
import { confirmationText } from './text-entry.js';
import { keyLabel } from './glyphs.js';
import { useTheme } from './theme-context.js';

/** A key, what it does, and whether it is always shown (the way to more help, the way out). */
export type FooterKey = [key: string, what: string, pinned?: 'pinned'];

// Most important first: what does not fit is in the help (?), which is always shown.
const OVERVIEW: FooterKey[] = [
  ['p', 'promote'],
  ['s', 'demote'],
  ['Tab', 'host'],
  ['c/d', '(dis)connect'],
  ['t', 'target'],
  ['r', 'runbooks'],
  ['⏎', 'detail'],
  ['e', 'events'],
  ['↑↓', 'select'],
  ['L', 'runbook log'],
  ['/', 'filter'],
  ['H', 'hide keys'],
  ['?', 'help', 'pinned'],
  ['q', 'quit', 'pinned'],
];

const DETAIL: FooterKey[] = [
  ['p', 'promote'],
  ['s', 'demote'],
  ['Tab', 'host'],
  ['c/d', '(dis)connect'],
  ['t', 'target'],
  ['r', 'runbooks'],
  ['↑↓', 'select'],
  ['Esc', 'back', 'pinned'],
  ['?', 'help', 'pinned'],
];

/** The keys that make sense now, most important first. */
export function footerKeys(s: UiState): FooterKey[] {
  if (s.overlay.kind === 'help') return [['Esc/?', 'close help']];
  if (s.overlay.kind === 'filter') return [['⏎', 'keep filter'], ['Esc', 'clear filter', 'pinned']];
  if (s.overlay.kind === 'confirm') {
    const g = s.overlay.guard;
    if (!g.allowed) return g.suggestion?.action ? [['f', 'open suggestion'], ['Esc', 'close']] : [['Esc', 'close']];
    const expected = confirmationText(g);
    return expected !== undefined ? [[`type ${expected} ⏎`, 'run'], ['Esc', 'cancel']] : [['y', 'run'], ['n/Esc', 'cancel']];
  }
  if (s.overlay.kind === 'runbook-menu') return [['↑↓', 'choose'], ['⏎', 'open'], ['Esc', 'close', 'pinned']];
  if (s.overlay.kind === 'runbook') {
    if (s.overlay.abandoning) return [['type abandon ⏎', 'abandon the run'], ['Esc', 'keep it', 'pinned']];
    return [['⏎', 'run next step'], ['X', 'abandon'], ['L', 'audit log'], ['Esc', 'close (run stays active)', 'pinned']];
  }
  if (s.overlay.kind === 'runbook-log') return [['↑↓', 'scroll'], ['PgUp/PgDn', 'page'], ['Esc', 'back', 'pinned']];
  if (s.view === 'log') return [['↑↓', 'scroll'], ['PgUp/PgDn', 'page'], ['q', 'back'], ['Esc/e', 'back', 'pinned'], ['?', 'help', 'pinned']];
  if (s.view === 'detail') return DETAIL;
  return OVERVIEW;
}

const partLength = ([k, what]: FooterKey) => k.length + 1 + what.length;

/**
 * The keys shown in `width` columns: the pinned ones always (as far as they fit), then the
 * others in order of importance while they fit; shown in their listed order. Pure.
 */
export function fittingKeys(keys: FooterKey[], width: number): FooterKey[] {
  const chosen = new Set<FooterKey>();
  let used = 0;
  const take = (k: FooterKey) => {
    const len = (chosen.size ? 1 : 0) + partLength(k);
    if (used + len > width) return;
    chosen.add(k);
    used += len;
  };
  keys.filter((k) => k[2]).forEach(take);
  keys.filter((k) => !k[2]).forEach(take);
  // Listed order, but the pinned keys stay at the end where the eye expects them.
  return [...keys.filter((k) => !k[2] && chosen.has(k)), ...keys.filter((k) => k[2] && chosen.has(k))];
}

export function footerText(s: UiState, width: number): string {
  return fittingKeys(footerKeys(s), width)
    .map(([k, what]) => `${k} ${what}`)
    .join(' ');
}

/** The keys as the screen labels them (`⏎` or `Enter`), before they are fitted. */
export function labelledKeys(keys: FooterKey[], unicode: boolean): FooterKey[] {
  return unicode ? keys : keys.map(([k, ...rest]): FooterKey => [keyLabel(k, false), ...rest]);
}

/** Keys bold, what they do dim, as many as fit. */
export function Footer({ state, width }: { state: UiState; width: number }) {
  const { unicode } = useTheme();
  return (
    <Text wrap="truncate">
      {fittingKeys(labelledKeys(footerKeys(state), unicode), width).map(([k, what], i) => (
        <Text key={k}>
          {i > 0 ? ' ' : ''}
          <Text bold>{k}</Text>
          <Text dimColor> {what}</Text>
        </Text>
      ))}
    </Text>
  );
}
