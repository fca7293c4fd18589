// The lifecycle keys at the keyboard: each opens its confirmation with the exact command and
// its checks; invalidate takes the name typed; a key with nothing to act on says why.
import './setup.js';
import { afterEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { parseEventLine } from '../../../src/cluster/events2.js';
import { applyHostEvent } from '../../../src/cluster/model.js';
import { inSync, pair } from '../cluster/pair-fixtures.js';
import { KEY, renderApp, type Harness } from './harness.js';

let h: Harness | undefined;
const flat = () => h!.text().replace(/[║╔╗╚╝═│╭╮╰╯─]/g, '').split('\n').map((l) => l.trim()).join(' ');
afterEach(async () => {
  await h?.unmount();
  h = undefined;
});

describe('lifecycle keys', () => {
  test('on an empty screen r, p and W say why they do nothing', async () => {
    h = await renderApp(pair({ up: true }, { up: true }), { width: 120, height: 30 });
    for (const [key, what] of [
      ['r', 'opens the runbooks of'],
      ['p', 'promotes'],
      ['W', 're-creates the metadata of'],
      ['g', 'grows'],
    ] as const) {
      await h.press(key);
      assert.match(flat(), new RegExp(`${key} ${what} the selected resource: there is none \\(no resources yet`), key);
    }
    assert.equal(h.runs.length, 0);
  });

  test('I on the Secondary: invalidate dialog with the full-resync forecast, confirmed only by the name typed', async () => {
    h = await renderApp(inSync('Primary'), { width: 110, height: 34 });
    await h.press(KEY.tab, 'I');
    const d = flat();
    assert.match(d, /Invalidate this node's data \(full resync from the peer\) r0 on ha-b/);
    assert.match(d, /drbd-agent invalidate r0/);
    assert.match(d, /every block of ha-b's copy is overwritten by a full resync from ha-a/);
    assert.match(d, /ha-a → ha-b, full resync of the whole volume/);
    assert.match(d, /Type the resource name \(r0\) and press Enter/);
    await h.press('y');
    assert.equal(h.runs.length, 0, 'y does not confirm a destructive action');
    await h.press(KEY.backspace, 'r0\r');
    assert.equal(h.runs.length, 1);
    assert.equal(h.runs[0]!.command, 'drbd-agent invalidate r0');
    assert.equal(h.runs[0]!.hostName, 'ha-b');
  });

  test('v, g, A, z: their commands, y runs the allowed ones; z refused with the reason when nothing syncs', async () => {
    h = await renderApp(inSync('Primary'), { width: 110, height: 34 });
    for (const [key, command] of [
      ['v', 'drbd-agent verify r0'],
      ['g', 'drbd-agent resize r0'],
      ['A', 'drbd-agent adjust r0'],
    ] as const) {
      await h.press(key);
      assert.match(flat(), new RegExp(command), key);
      await h.press('y');
      assert.equal(h.runs.at(-1)?.command, command, key);
    }
    await h.press('z');
    assert.match(flat(), /drbd-agent pause-sync r0/);
    assert.match(flat(), /refused: No resync in progress/);
    await h.press('y');
    assert.equal(h.runs.length, 3);
  });

  test('D on a Primary that serves: typed confirmation; u where it is up: refused, already up', async () => {
    const m = applyHostEvent(inSync('Primary'), 0, parseEventLine('create target name:r0 state:running iqn:iqn.2026-11.com.example:r0 portal:0.0.0.0:3260')!);
    h = await renderApp(m, { width: 110, height: 34 });
    await h.press('D');
    assert.match(flat(), /Take down r0 on ha-a/);
    assert.match(flat(), /its iSCSI target stops/);
    assert.match(flat(), /Type the resource name \(r0\) and press Enter/);
    await h.press(KEY.esc, 'u');
    assert.match(flat(), /already up/);
  });

  test('the verify result shows under the resource once the run ended', async () => {
    const m = applyHostEvent(inSync('Primary'), 0, parseEventLine('change peer-device name:r0 peer-node-id:1 conn-name:ha-b volume:0 verify-mismatch:12')!);
    h = await renderApp(m, { width: 110, height: 30 });
    assert.match(h.text(), /↳ verified ha-a↔ha-b: 12 KiB out of sync \(marked; disconnect \+ connect resyncs them\)/);
  });

  test('the help overlay lists the lifecycle keys', async () => {
    h = await renderApp(inSync(), { width: 110, height: 40 });
    await h.press('?');
    for (const line of [/u {2}D +up/, /a {2}x +attach/, /m +create-md/, /v {2}z +online verify .* pause, resume resync/, /A +adjust/, /g +resize/, /I +invalidate/]) assert.match(h.text(), line);
  });
});
