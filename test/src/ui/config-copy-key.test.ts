import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Key } from 'ink';
import { keyIntent, type KeyContext } from '../../../src/ui/keys.js';
import { initialUiState } from '../../../src/ui/state.js';
import { resourceRows } from '../../../src/cluster/model.js';
import { loadScenario } from '../cluster/fixtures.js';

const key = {} as Key;

function ctx(readOnly = false, empty = false): KeyContext {
  const model = { ...loadScenario('config-drift'), readOnly };
  return { model, rows: empty ? [] : resourceRows(model), logLength: 0, logPage: 10 };
}

test('C copies the selected resource file from the selected host; says why when it cannot', () => {
  assert.deepEqual(keyIntent({ ...initialUiState, host: 1 }, 'C', key, ctx()), { type: 'config-copy', resource: 'r0', host: 1 });
  const ro = keyIntent(initialUiState, 'C', key, ctx(true));
  assert.equal(ro.type === 'ui' && ro.action.type === 'toast' && ro.action.text, 'read-only console: resource files cannot be written');
  const none = keyIntent(initialUiState, 'C', key, ctx(false, true));
  assert.match(none.type === 'ui' && none.action.type === 'toast' ? none.action.text : '', /no resource is selected/);
});
