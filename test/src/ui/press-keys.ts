// Keys pressed on the pure UI (keys.ts → state.ts) without a terminal: UI intents applied in
// order, the last other intent (what the hooks would run) returned.
import type { Key } from 'ink';
import { resourceRows, type ClusterModel } from '../../../src/cluster/model.js';
import { keyIntent, NO_KEY, type Intent, type KeyContext } from '../../../src/ui/keys.js';
import { uiReducer, type UiState } from '../../../src/ui/state.js';

export const ctxOf = (model: ClusterModel): KeyContext => ({ model, rows: resourceRows(model), logLength: 0, logPage: 10 });

/** Presses keys, applying UI intents; returns the state and the last non-UI intent. */
export function press(s: UiState, ctx: KeyContext, keys: Array<[string, Key?]>): { s: UiState; last?: Intent } {
  let last: Intent | undefined;
  for (const [input, key] of keys) {
    const i = keyIntent(s, input, key ?? NO_KEY, ctx);
    if (i.type === 'ui') s = uiReducer(s, i.action);
    else if (i.type !== 'none') last = i;
  }
  return { s, last };
}
