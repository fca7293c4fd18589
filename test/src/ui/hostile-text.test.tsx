// Names and messages from the network and from files reach the screen escaped: an
// InitiatorName carrying a title-setting OSC and a screen clear, a config error with a newline.
import './setup.js';
import { test, describe, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { formatEvent, parseEventLine } from '../../../src/cluster/events2.js';
import { applyHostEvent } from '../../../src/cluster/model.js';
import { loadScenario } from '../cluster/fixtures.js';
import { renderApp, type Harness } from './harness.js';

let h: Harness | undefined;
afterEach(async () => {
  await h?.unmount();
  h = undefined;
});

const EVIL_INITIATOR = 'iqn.2026-11.test:\x1b]2;pwned\x07\x1b[2J';
const EVIL_MESSAGE = 'bad value\nSplit-Brain detected\x1b[31m';

function hostileModel() {
  const m = loadScenario('primary-iscsi');
  const session = formatEvent({ time: '', verb: 'change', object: 'session', props: [['name', 'r0'], ['id', '1'], ['initiator', EVIL_INITIATOR]] });
  const error = formatEvent({ time: '', verb: 'create', object: 'config-error', props: [['file', '/etc/drbd-tui/r9.yaml'], ['line', '3'], ['col', '1'], ['message', EVIL_MESSAGE]] });
  return applyHostEvent(applyHostEvent(m, 0, parseEventLine(session)!), 0, parseEventLine(error)!);
}

describe('hostile text on screen', () => {
  test('the detail view shows an escape-laden InitiatorName escaped, and nothing of it acts on the terminal', async () => {
    h = await renderApp(hostileModel());
    await h.press('\r');
    const frame = h.frame();
    assert.ok(frame.includes('iqn.2026-11.test:\\x1b]2;pwned\\x07\\x1b[2J'), h.text());
    assert.ok(!frame.includes('\x1b]'), 'no OSC reaches the terminal');
    assert.ok(!frame.includes('\x07'), 'no BEL');
    assert.ok(!frame.includes('\x1b[2J'), 'no screen clear');
  });

  test('a config error with a newline and a colour change is one escaped line', async () => {
    h = await renderApp(hostileModel());
    const frame = h.frame();
    assert.ok(!frame.includes('\x1b[31m'), 'no colour change from a message');
    assert.ok(!h.text().split('\n').some((l) => l.trim().startsWith('Split-Brain detected')), 'no forged line');
  });

  test('no view renders text with ink’s Text directly: every one goes through src/ui/Text.tsx', () => {
    const dir = 'src/ui';
    const direct = readdirSync(dir)
      .filter((f) => f.endsWith('.tsx') && f !== 'Text.tsx')
      .filter((f) => /import \{[^}]*\bText\b[^}]*\} from 'ink'/.test(readFileSync(join(dir, f), 'utf8')));
    assert.deepEqual(direct, []);
  });
});
