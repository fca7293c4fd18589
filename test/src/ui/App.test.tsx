import './setup.js';
import { test, describe, afterEach } from 'node:test';
import { act } from 'react';
import assert from 'node:assert/strict';
import { parseEventLine } from '../../../src/cluster/events2.js';
import { applyHostEvent, createModel } from '../../../src/cluster/model.js';
import { READ_ONLY_REASON } from '../../../src/cluster/guards.js';
import { App } from '../../../src/ui/App.js';
import { loadScenario, SCENARIOS, type Scenario } from '../cluster/fixtures.js';
import { KEY, renderApp, styleAt, type Harness } from './harness.js';
import { pair, X } from '../cluster/pair-fixtures.js';
import { setTimeout as sleep } from 'node:timers/promises';

let h: Harness | undefined;
afterEach(async () => {
  await h?.unmount();
  h = undefined;
});

const CYAN = 36;
const GREEN = 32;
const RED = 31;
const RED_BG = 41;

const fgOf = (frame: string, word: string) => styleAt(frame, word)?.fg;

const WORDS: Record<Scenario, string[]> = {
  healthy: ['r0/0', 'r1/0', 'r1/1', 'Primary', 'Secondary', 'UpToDate', 'Connected', 'no problems'],
  'initial-sync': ['SyncSource', 'SyncTarget', 'Inconsistent', '62.50%', '39.8 MiB/s', 'ETA 10s', 'ha-a→ha-b', '▁▇█▇█▇'],
  'split-brain': ['StandAlone', 'SPLIT BRAIN on r0', '1 alert'],
  'peer-down': ['Connecting', 'r0 degraded: ha-a not connected to its peer (Connecting)'],
  'outdated-peer': ['Outdated', 'StandAlone', 'r0 StandAlone on ha-b', 'only ha-a has UpToDate data'],
  'primary-iscsi': ['Primary', 'create session r0 id:2'],
  'config-drift': ['config drift: r0: ha-a and ha-b run different', '/etc/drbd-tui/r2.yaml:4:11'],
  unreachable: ['ha-b unreachable: connect ETIMEDOUT 10.77.0.12:22', '?'],
};

describe('App renders every fixture at 80×24', () => {
  for (const s of SCENARIOS) {
    test(`${s}: the right words, within 80 columns and 24 lines`, async () => {
      h = await renderApp(loadScenario(s), { width: 80, height: 24 });
      const text = h.text();
      for (const w of WORDS[s]) assert.ok(text.includes(w), `missing '${w}' in:\n${text}`);
      const lines = text.split('\n');
      assert.ok(lines.length <= 24, `${lines.length} lines`);
      for (const l of lines) assert.ok([...l].length <= 80, `line wider than 80: '${l}'`);
      assert.match(lines[0]!, /ha-a/);
      assert.match(lines[0]!, /ha-b/);
      assert.match(lines.at(-1)!, /p promote/);
    });
  }

  test('DRBD colours: Primary cyan, UpToDate green, sync and Inconsistent red, split brain on red', async () => {
    h = await renderApp(loadScenario('healthy'));
    assert.equal(fgOf(h.frame(), 'Primary'), CYAN);
    assert.equal(fgOf(h.frame(), 'UpToDate'), GREEN);
    assert.equal(fgOf(h.frame(), 'Connected'), GREEN);
    await h.unmount();
    h = await renderApp(loadScenario('initial-sync'));
    for (const w of ['SyncSource', 'SyncTarget', 'Inconsistent']) assert.equal(fgOf(h.frame(), w), RED, w);
    await h.unmount();
    h = await renderApp(loadScenario('split-brain'));
    assert.equal(fgOf(h.frame(), 'StandAlone'), RED);
    assert.equal(styleAt(h.frame(), 'SPLIT BRAIN')?.bg, RED_BG, 'split brain on a red background');
    await h.unmount();
    h = await renderApp(loadScenario('outdated-peer'));
    assert.equal(fgOf(h.frame(), 'Outdated'), RED);
    assert.equal(fgOf(h.frame(), 'Connecting'), RED);
  });

  test('before any host answers: connecting, no resources yet, keys harmless', async () => {
    h = await renderApp(createModel('ha-a', 'ha-b'));
    assert.match(h.text(), /ha-a connecting/);
    assert.match(h.text(), /no resources yet/);
    await h.press('j', 'p', KEY.enter);
    assert.equal(h.runs.length, 0);
  });

  test('header: latency, agent version, unreachable host, READ-ONLY badge', async () => {
    h = await renderApp(loadScenario('unreachable', { readOnly: true }), { width: 120 });
    const first = h.text().split('\n')[0]!;
    assert.match(first, /ha-a up 2ms v0\.1\.0/);
    assert.match(first, /ha-b unreachable: connect ETIMEDOUT/);
    assert.match(first, /READ-ONLY/);
  });

  test('larger terminals get more: the peer-disk column and more events', async () => {
    h = await renderApp(loadScenario('initial-sync'), { width: 130, height: 40 });
    assert.match(h.text(), /peer-disk/);
    const lines = h.text().split('\n');
    assert.ok(lines.length <= 40);
    assert.ok(lines.every((l) => [...l].length <= 130));
  });

  test('follows a resize (new width) on the next frame', async () => {
    const m = loadScenario('healthy');
    h = await renderApp(m, { width: 80 });
    assert.doesNotMatch(h.text(), /peer-disk/);
    const acts = { run: async () => ({ ok: true, message: '' }), quit: () => {} };
    await h.rerender(<App model={m} actions={acts} width={120} height={24} minFrameMs={0} />);
    assert.match(h.text(), /peer-disk/);
  });
});

describe('every view fits 80×24', () => {
  const views: Array<[Scenario, string[]]> = [
    ['primary-iscsi', [KEY.enter]],
    ['split-brain', [KEY.enter]],
    ['initial-sync', [KEY.enter]],
    ['peer-down', ['e']],
    ['primary-iscsi', ['s']],
    ['split-brain', [KEY.tab, 'X', 'r', '0']],
    ['outdated-peer', [KEY.tab, 'p']],
    ['healthy', ['?']],
  ];
  for (const [s, keys] of views) {
    test(`${s} after ${JSON.stringify(keys)}`, async () => {
      h = await renderApp(loadScenario(s), { width: 80, height: 24 });
      await h.press(...keys);
      const lines = h.text().split('\n');
      assert.ok(lines.length <= 24, `${lines.length} lines:\n${h.text()}`);
      for (const l of lines) assert.ok([...l].length <= 80, `line wider than 80: '${l}'`);
      assert.ok(lines.at(-1)!.trim().length > 0, 'the footer is visible');
    });
  }
});

describe('resources that are not up', () => {
  test('a row with the cause in a word (red when broken), and the detail with the cause and the next step', async () => {
    let m = loadScenario('healthy');
    m = applyHostEvent(m, 0, parseEventLine('create not-up name:r9 file:/etc/drbd-tui/r9.yaml cause:backing-disk-missing reason:"backing disk /d9 does not exist" next:"attach the disk, then: drbd-agent up r9" volumes:0')!);
    m = applyHostEvent(m, 1, parseEventLine('create not-up name:r9 file:/etc/drbd-tui/r9.yaml cause:down reason: next:"drbd-agent up r9" volumes:0')!);
    h = await renderApp(m, { width: 120, height: 30 });
    const row = h.text().split('\n').find((l) => l.startsWith('r9/0')) ?? '';
    assert.match(row, /^r9\/0 +no disk +down/);
    assert.equal(fgOf(h.frame(), 'no disk'), RED);
    assert.match(h.text(), /r9 on ha-a: broken: backing disk \/d9 does not exist; next: attach the disk, then: drbd-agent up r9/);
    await h.press('j', 'j', 'j', KEY.enter);
    const text = h.text();
    assert.match(text, /ha-a broken: backing disk \/d9 does not exist/);
    assert.match(text, /next: attach the disk, then: drbd-agent up r9/);
    assert.match(text, /ha-b configured, down/);
  });
});

describe('keys', () => {
  test('j/k and arrows select in stable order; Enter opens the detail of the selection', async () => {
    h = await renderApp(loadScenario('healthy'));
    await h.press('j', 'j', 'j', KEY.up, KEY.enter);
    const text = h.text();
    assert.match(text, /^r1\/0 /m);
    assert.match(text, /GI C A3F0C2D94E1B7708/);
    assert.match(text, /events of r1/);
    await h.press(KEY.esc, 'k');
    assert.match(h.text(), /no problems/);
  });

  test('p on a Secondary whose peer is Primary: refusal dialog with the command, host, ✓/✗ checks and DRBD wording', async () => {
    h = await renderApp(loadScenario('healthy'));
    await h.press(KEY.tab, 'p');
    const text = h.text();
    assert.match(text, /Promote r0 on ha-b/);
    assert.match(text, /runs on ha-b: drbd-agent primary r0/);
    assert.match(text, /✓ ha-b reachable/);
    assert.match(text, /✗ ha-a is not Primary/);
    assert.match(text, /refused: Multiple primaries not allowed by config/);
    await h.press('y');
    assert.equal(h.runs.length, 0, 'y does nothing on a refused action');
    await h.press(KEY.esc);
    assert.doesNotMatch(h.text(), /refused/);
  });

  test('s confirms with y, runs the exact command, and shows the outcome in a toast that does not block', async () => {
    h = await renderApp(loadScenario('healthy'), { outcome: { ok: true, message: 'r0: Secondary' } });
    await h.press('s');
    assert.match(h.text(), /Demote r0 on ha-a/);
    assert.match(h.text(), /y confirm/);
    await h.press('y');
    assert.equal(h.runs.length, 1);
    assert.equal(h.runs[0]!.command, 'drbd-agent secondary r0');
    assert.equal(h.runs[0]!.hostName, 'ha-a');
    assert.match(h.text(), /✔ ha-a: drbd-agent secondary r0: r0: Secondary/);
    await h.press('j');
    assert.match(h.text(), /✔ ha-a/, 'toast stays while keys work');
    await h.press('?');
    assert.match(h.text(), /keys/);
  });

  test("the agent's refusal text is shown", async () => {
    h = await renderApp(loadScenario('healthy'), { outcome: { ok: false, message: 'Device is held open by someone' } });
    await h.press('s', 'y');
    assert.match(h.text(), /✖ ha-a: drbd-agent secondary r0: Device is held open by someone/);
  });

  test('n and Esc cancel an ordinary confirmation', async () => {
    h = await renderApp(loadScenario('healthy'));
    await h.press('d', 'n', 'd', KEY.esc);
    assert.equal(h.runs.length, 0);
    assert.doesNotMatch(h.text(), /Disconnect r0/);
  });

  test('demote with initiators logged in: held open, the initiators listed', async () => {
    h = await renderApp(loadScenario('primary-iscsi'), { width: 120 });
    await h.press('s');
    assert.match(h.text(), /refused: Device is held open by someone: 2 iSCSI sessions/);
    assert.match(h.text(), /iqn\.1991-05\.com\.microsoft:win-fs01/);
  });

  test('t toggles the target: stop on the Primary', async () => {
    h = await renderApp(loadScenario('primary-iscsi'));
    await h.press('t');
    assert.match(h.text(), /drbd-agent target stop r0/);
    assert.match(h.text(), /2 initiator sessions will be dropped/);
  });

  test('destructive confirm needs the exact resource name', async () => {
    h = await renderApp(loadScenario('split-brain'));
    await h.press(KEY.tab, 'X');
    const text = h.text();
    assert.match(text, /runs on ha-b: drbd-agent connect --discard-my-data r0/);
    assert.match(text, /DESTRUCTIVE\. Type the resource name \(r0\)/);
    await h.press('y', KEY.enter);
    assert.equal(h.runs.length, 0, 'y is not enough');
    await h.press(KEY.backspace, 'r', KEY.enter);
    assert.equal(h.runs.length, 0, 'a prefix is not enough');
    await h.press('1', KEY.enter);
    assert.equal(h.runs.length, 0, 'another name is not enough');
    await h.press(KEY.backspace, '0', KEY.enter);
    assert.equal(h.runs.length, 1);
    assert.equal(h.runs[0]!.command, 'drbd-agent connect --discard-my-data r0');
    assert.equal(h.runs[0]!.destructive, true);
  });

  test('typed confirmation under a real terminal\'s reads: name and Enter in one read, Backspace bursts, a mismatch shown', async () => {
    h = await renderApp(loadScenario('split-brain'));
    await h.press(KEY.tab, 'X');
    assert.match(h.text(), /type r0, then Enter/);
    await h.press('r1');
    assert.match(h.text(), /> r1/);
    assert.match(h.text(), /✗ does not match r0/);
    await h.press(KEY.enter);
    assert.match(h.text(), /✗ "r1" does not match r0: type r0 exactly/, 'Enter on a mismatch says so');
    assert.equal(h.runs.length, 0);
    await h.press('xy\x7f\x7f\x7f', '\x07\x00');
    assert.match(h.text(), /> r /, 'three Backspaces in one read erase three characters; controls add nothing');
    await h.press('\x1b[3~');
    assert.match(h.text(), /> {2}/, 'Delete erases too');
    assert.match(h.text(), /type r0, then Enter/, 'the mismatch goes once the text could still become r0');
    await h.press('r0\r');
    assert.equal(h.runs.length, 1, 'r0 and Enter in one read run it');
    assert.equal(h.runs[0]!.command, 'drbd-agent connect --discard-my-data r0');
  });

  test('a suggestion acts on the host it names: "promote ha-a instead" (f) opens ha-a\'s dialog', async () => {
    let m = loadScenario('outdated-peer');
    m = applyHostEvent(m, 0, parseEventLine('2026-11-22T04:00:00.000000+00:00 change resource name:r0 role:Secondary')!);
    h = await renderApp(m);
    await h.press(KEY.tab, 'p');
    assert.match(h.text(), /Promote r0 on ha-b/);
    assert.match(h.text(), /promote ha-a instead \(f\)/);
    await h.press('f');
    assert.match(h.text(), /Promote r0 on ha-a/);
    assert.match(h.text(), /runs on ha-a: drbd-agent primary r0/);
    await h.press('y');
    assert.deepEqual(h.runs.map((g) => [g.hostName, g.command]), [['ha-a', 'drbd-agent primary r0']]);
  });

  test('a refused promote of an Outdated survivor says to bring the UpToDate Primary out of sight back first, never force', async () => {
    let m = loadScenario('outdated-peer');
    m = { ...m, hosts: [{ ...m.hosts[0], reach: { state: 'unreachable', error: 'no route to host' } }, m.hosts[1]] };
    h = await renderApp(m);
    await h.press(KEY.tab, 'p');
    assert.match(h.text(), /refused: Need access to UpToDate data \(disk is Outdated\)/);
    assert.doesNotMatch(h.text(), /best remaining data/);
    assert.match(h.text(), /bring ha-a back first, then promote it/);
    assert.doesNotMatch(h.text(), /\(f\)/, 'ha-a cannot be promoted from here: nothing for f to open');
    await h.press('f');
    assert.match(h.text(), /Promote r0 on ha-b/, 'f opens nothing');
    assert.equal(h.runs.length, 0);
  });

  test('read-only refuses every action with the reason', async () => {
    h = await renderApp(loadScenario('healthy', { readOnly: true }));
    for (const k of ['p', 's', 'c', 'd', 't', 'F', 'X', 'W']) {
      await h.press(k);
      assert.ok(h.text().includes(`refused: ${READ_ONLY_REASON}`), `${k}:\n${h.text()}`);
      await h.press('y', KEY.esc);
    }
    assert.equal(h.runs.length, 0);
  });

  test('? opens and closes help; e opens the event log; r opens the runbook menu; q quits', async () => {
    h = await renderApp(loadScenario('initial-sync'));
    await h.press('?');
    assert.match(h.text(), /force promote \(primary --force\)/);
    await h.press('?');
    assert.doesNotMatch(h.text(), /force promote/);
    await h.press('e');
    assert.match(h.text(), /event log/);
    assert.match(h.text(), /03:58:12 ha-b change peer-device r0\/0 replication:SyncTarget/);
    await h.press(KEY.esc, 'r');
    assert.match(h.text(), /Runbooks for r0/);
    await h.press(KEY.esc, 'q');
    assert.equal(h.quits, 1);
  });

  test('model updates re-render; frames are capped when updates come fast', async () => {
    const m0 = loadScenario('initial-sync');
    h = await renderApp(m0, { minFrameMs: 400 });
    const m1 = applyHostEvent(m0, 0, parseEventLine('2026-11-22T03:58:11.000000+00:00 change peer-device name:r0 peer-node-id:1 conn-name:ha-b volume:0 done:75.00 dbdt1:41.00 eta:7')!);
    const acts = { run: async () => ({ ok: true, message: '' }), quit: () => {} };
    await h.rerender(<App model={m1} actions={acts} width={80} height={24} minFrameMs={400} />);
    assert.match(h.text(), /62\.50%/, 'not yet: within the frame cap');
    await act(async () => {
      await sleep(500);
    });
    assert.match(h.text(), /75\.00%/, 'shown once the cap has passed, without another update');
  });

});

describe('an open confirmation follows the live state', () => {
  const side = (role: string, peerRole: string, conn: string) => ({ up: true, r: { role, disk: 'UpToDate', current: X, conn, peerRole, peerDisk: 'UpToDate', repl: conn === 'Connected' ? 'Established' : 'Off' } });
  const connected = () => pair(side('Primary', 'Secondary', 'Connected'), side('Secondary', 'Primary', 'Connected'));
  const apart = () => pair(side('Primary', 'Unknown', 'Connecting'), side('Secondary', 'Unknown', 'StandAlone'));
  const acts = { run: async () => ({ ok: true, message: '' }), quit: () => {} };

  test('X opened one update early (still Connected) turns allowed when StandAlone arrives, and refused again when the link is back', async () => {
    h = await renderApp(connected(), { width: 100, height: 30 });
    await h.press(KEY.tab, 'X');
    assert.match(h.text(), /refused: already connected/);
    await h.rerender(<App model={apart()} actions={acts} width={100} height={30} minFrameMs={0} />);
    assert.doesNotMatch(h.text(), /refused/);
    assert.match(h.text(), /Type the resource name \(r0\)/);
    await h.press('r0');
    await h.rerender(<App model={connected()} actions={acts} width={100} height={30} minFrameMs={0} />);
    assert.match(h.text(), /refused: already connected/);
    await h.press(KEY.enter);
    assert.equal(h.runs.length, 0, 'Enter on a guard refused meanwhile runs nothing');
  });
});
