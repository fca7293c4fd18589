// A resource whose file sets no shared secret and options drbd-tui does not honour, on screen:
// the warning with what C does, C on that host starting the copy that generates a secret
// (src/ssh/config-push.ts: offer, diff, confirm, write on both, adjust), and the ignored
// options in the detail view, escaped.
import './setup.js';
import { test, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { formatEvent, parseEventLine } from '../../../src/cluster/events2.js';
import { applyHostEvent } from '../../../src/cluster/model.js';
import type { HostIndex } from '../../../src/cluster/model.js';
import { loadScenario } from '../cluster/fixtures.js';
import { KEY, renderApp, type Harness } from './harness.js';

let h: Harness | undefined;
afterEach(async () => {
  await h?.unmount();
  h = undefined;
});

const IGNORED = [
  { option: 'fencing', section: 'net', why: 'no fencing handlers run yet', file: '/etc/drbd.d/r0.res', line: 4, col: 5 },
  { option: 'al-extents', section: 'disk', why: 'x\x1b[2J', file: '/etc/drbd.d/r0.res', line: 7, col: 3 },
];

function bareModel() {
  const line = formatEvent({
    time: '',
    verb: 'change',
    object: 'resource',
    props: [['name', 'r0'], ['config-file', '/etc/drbd.d/r0.res'], ['peer-authenticated', 'no'], ['ignored', JSON.stringify(IGNORED)]],
  });
  return applyHostEvent(loadScenario('primary-iscsi'), 1, parseEventLine(line)!);
}

test('the warning names the fix in the file’s syntax and what C does; C on that host starts the copy', async () => {
  const copies: Array<[string, HostIndex]> = [];
  h = await renderApp(bareModel(), {
    width: 160,
    height: 40,
    actions: {
      copyConfig: async (resource, host) => {
        copies.push([resource, host]);
        return { ok: true, message: 'done' };
      },
    },
  });
  const text = h.text();
  assert.match(text, /r0: peer link not authenticated: add net \{ shared-secret "…"; \} to \/etc\/drbd\.d\/r0\.res/);
  assert.match(text, /→ select r0 on ha-b \(Tab\) and press C: it generates a secret, shows the change and puts the file on both hosts/);
  await h.press(KEY.tab, 'C');
  assert.deepEqual(copies, [['r0', 1]]);
});

test('the detail view lists the ignored options of each host, escaped', async () => {
  h = await renderApp(bareModel(), { width: 160, height: 40 });
  await h.press(KEY.enter);
  const frame = h.frame();
  assert.match(h.text(), /ignored: fencing \(no fencing handlers run yet\) at \/etc\/drbd\.d\/r0\.res:4:5/);
  assert.ok(h.text().includes('ignored: al-extents (x\\x1b[2J) at /etc/drbd.d/r0.res:7:3'), h.text());
  assert.ok(!frame.includes('\x1b[2J'), 'no screen clear reaches the terminal');
});
