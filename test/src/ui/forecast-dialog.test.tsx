// The seed's disaster at the keyboard: on the blank survivor, p and F never promote; the only
// way through is the named override, whose dialog says what is lost and takes the lost host's
// name typed (in one burst, as a paste delivers it). The same for W on the only good copy.
import './setup.js';
import { afterEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { blankPromoted, blankSurvivor } from '../cluster/pair-fixtures.js';
import { KEY, renderApp, type Harness } from './harness.js';

let h: Harness | undefined;
/** The dialog's text with its wrapped lines joined, box drawing gone. */
const flat = () => h!.text().replace(/[║╔╗╚╝═]/g, '').split('\n').map((l) => l.trim()).join(' ');
afterEach(async () => {
  await h?.unmount();
  h = undefined;
});

describe('dialogs state what the data goes through', () => {
  test('blank survivor: p refused without a force suggestion; F refused in the agent wording; f the override, loss stated, ha-b typed', async () => {
    h = await renderApp(blankSurvivor(), { width: 100, height: 30 });
    await h.press('p');
    assert.match(h.text(), /refused: Need access to UpToDate data/);
    assert.doesNotMatch(h.text(), /--force/);
    await h.press(KEY.esc, 'F');
    const force = flat();
    assert.match(force, /FORCE promote r0 on ha-a/);
    assert.match(force, /refused: ha-b has UpToDate data of r0\/0 \(last known/);
    assert.match(force, /LOST: ha-b's 128\.0 MiB, generation 0537EC29…, last seen 2026-12-07T01:02:00\.000Z is left behind/);
    assert.match(force, /→ only if ha-b is gone for good/);
    await h.press('f');
    const o = flat();
    assert.match(o, /FORCE promote, FORGETTING the peer r0 on ha-a/);
    assert.match(o, /primary --force --forget-peer r0/);
    assert.match(o, /LOST: ha-b's 128\.0 MiB/);
    assert.match(o, /Type ha-b and press Enter/);
    await h.press('r0\r');
    assert.equal(h.runs.length, 0, 'the resource name does not confirm an override that names the host');
    await h.press(KEY.backspace, KEY.backspace, 'ha-b\r');
    assert.equal(h.runs.length, 1);
    assert.equal(h.runs[0]!.command, 'drbd-agent primary --force --forget-peer r0');
  });

  test('keys in one burst from the overview act one by one: F f then a wrong name confirms nothing; F f ha-b⏎ confirms the override', async () => {
    h = await renderApp(blankSurvivor(), { width: 100, height: 30 });
    await h.press('Ffr0\r');
    assert.match(flat(), /FORCE promote, FORGETTING the peer r0 on ha-a .*"r0" does not match ha-b/);
    await h.press('\x15yha-\r');
    assert.equal(h.runs.length, 0);
    await h.press('\x1b');
    await h.press('Ffha-b\r');
    assert.deepEqual(h.runs.map((r) => r.command), ['drbd-agent primary --force --forget-peer r0']);
  });

  test('W on ha-b, the only good copy (ha-a was promoted blank): refused naming the unrelated data, the loss shown; f the override, ha-b typed', async () => {
    h = await renderApp(blankPromoted(false), { width: 120, height: 30 });
    await h.press(KEY.tab, 'W');
    const w = flat();
    assert.match(w, /refused: Refusing to wipe the metadata of r0 volume 0/);
    assert.match(w, /LOST: ha-b's 128\.0 MiB, generation 0537EC29…, last seen 2026-12-07T01:02:00\.000Z will be wiped: ha-a holds no copy of it/);
    await h.press('f');
    assert.match(h.text(), /create-md --force --forget-peer r0/);
    await h.press('ha-b\r');
    assert.equal(h.runs[0]?.command, 'drbd-agent create-md --force --forget-peer r0');
  });
});
