import { Text } from 'ink';
import type { UiState } from './state.js';

// Most important first: what does not fit is in the help (?).
const OVERVIEW: Array<[string, string]> = [
  ['p', 'promote'],
  ['s', 'demote'],
  ['c', 'connect'],
  ['d', 'disconnect'],
  ['t', 'target'],
  ['r', 'runbooks'],
  ['?', 'help'],
  ['q', 'quit'],
  ['Tab', 'host'],
  ['⏎', 'detail'],
  ['e', 'events'],
  ['↑↓', 'select'],
];

/** The keys that make sense now, as many as fit (most important first). */
export function footerKeys(s: UiState): Array<[string, string]> {
  if (s.overlay.kind === 'help') return [['Esc/?', 'close help']];
  if (s.overlay.kind === 'confirm') {
    const g = s.overlay.guard;
    if (!g.allowed) return g.suggestion ? [['f', 'open suggestion'], ['Esc', 'close']] : [['Esc', 'close']];
    return g.destructive ? [['type name + ⏎', 'run'], ['Esc', 'cancel']] : [['y', 'run'], ['n/Esc', 'cancel']];
  }
  if (s.view === 'log') return [['↑↓', 'scroll'], ['PgUp/PgDn', 'page'], ['Esc/e', 'back'], ['?', 'help'], ['q', 'back']];
  if (s.view === 'detail') return [['↑↓', 'select'], ['Tab', 'host'], ['p', 'promote'], ['s', 'demote'], ['c', 'connect'], ['d', 'disconnect'], ['t', 'target'], ['r', 'runbooks'], ['Esc', 'back'], ['?', 'help']];
  return OVERVIEW;
}

export function footerText(s: UiState, width: number): string {
  let out = '';
  for (const [k, what] of footerKeys(s)) {
    const part = `${out ? ' ' : ''}${k} ${what}`;
    if (out.length + part.length > width) break;
    out += part;
  }
  return out;
}

/** Keys bold, what they do dim, as many as fit. */
export function Footer({ state, width }: { state: UiState; width: number }) {
  const n = footerText(state, width) === '' ? 0 : fittingKeys(state, width);
  return (
    <Text wrap="truncate">
      {footerKeys(state)
        .slice(0, n)
        .map(([k, what], i) => (
          <Text key={k}>
            {i > 0 ? ' ' : ''}
            <Text bold>{k}</Text>
            <Text dimColor> {what}</Text>
          </Text>
        ))}
    </Text>
  );
}

function fittingKeys(s: UiState, width: number): number {
  let len = 0;
  let n = 0;
  for (const [k, what] of footerKeys(s)) {
    const part = (n ? 1 : 0) + k.length + 1 + what.length;
    if (len + part > width) break;
    len += part;
    n++;
  }
  return n;
}
