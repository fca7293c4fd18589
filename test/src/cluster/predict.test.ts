// What an action will do to the data, predicted with the engine's own sync decision on both
// hosts' identifiers as best known, and the mistake catalogue of issue 14 as guard tests: each
// mistake is refused, or needs a typed confirmation whose dialog names what is lost.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { checkAction, type GuardResult } from '../../../src/cluster/guards.js';
import { parseEventLine } from '../../../src/cluster/events2.js';
import { applyHostEvent, resourceRows, type ClusterModel } from '../../../src/cluster/model.js';
import { deriveProblems } from '../../../src/cluster/problems.js';
import { forecast, outcomeText } from '../../../src/cluster/predict.js';
import { blankPromoted, blankSurvivor, G, pair, replaceA, split, staleB, X, Y } from './pair-fixtures.js';

const firstRefusal = (g: GuardResult) => g.checks.find((c) => !c.ok)?.reason ?? '';

describe('forecast: the engine decision on the best known identifiers', () => {
  const cases: Array<[string, () => ClusterModel, Parameters<typeof forecast>[2], RegExp, RegExp | undefined]> = [
    ['blank survivor as things stand: ha-b (remembered) fully resyncs ha-a', blankSurvivor, undefined, /r0\/0: on connect ha-b → ha-a, full resync/, undefined],
    ['forcing the blank disk: unrelated, and ha-b left behind', blankSurvivor, { host: 0, action: 'force-primary' }, /refuses: unrelated data/, /ha-b's 128\.0 MiB, generation 0537EC29…, last seen 2026-12-07T01:02:00\.000Z is left behind: ha-a serves its blank disk instead/],
    ['blank promoted, ha-b back: unrelated', () => blankPromoted(true), undefined, /refuses: unrelated data/, undefined],
    ['create-md on ha-b (down) after the blank promote: its data wiped, no copy on ha-a', () => blankPromoted(false), { host: 1, action: 'create-md' }, /ha-a → ha-b, full/, /ha-b's 128\.0 MiB, generation 0537EC29…, last seen 2026-12-07T01:02:00\.000Z will be wiped: ha-a holds no copy of it/],
    ['disk replacement on ha-a: ha-b holds the same generation, nothing lost', replaceA, { host: 0, action: 'create-md' }, /ha-b → ha-a, full/, undefined],
    ['a full sync onto an older real copy', staleB, undefined, /ha-a → ha-b, full/, /ha-b's 128\.0 MiB, generation 0537EC29… \(older than ha-a's\) will be overwritten by a full resync from ha-a/],
    ['split brain as things stand', split, undefined, /refuses: split brain/, undefined],
    ['discard-my-data on ha-a: its changes since the split are lost', split, { host: 0, action: 'discard-my-data' }, /ha-b → ha-a, resync of the changed blocks/, /ha-a's 128\.0 MiB, generation 7A1B2C3D… will be overwritten by ha-b's data \(generation 5E5E5E5E…\)/],
  ];
  for (const [name, model, change, outcome, loss] of cases) {
    test(name, () => {
      const m = model();
      const [f] = forecast(m, resourceRows(m), change);
      assert.match(outcomeText(m, f!), outcome);
      if (loss) assert.match(f!.loss ?? '', loss);
      else assert.equal(f!.loss, undefined);
    });
  }
});

describe('the mistake catalogue: refused, or typed with the loss stated', () => {
  test('force-promote a blank disk while the peer held data: refused in the agent wording; the override types ha-b and states the loss', () => {
    const m = blankSurvivor();
    const f = checkAction(m, 'force-primary', 'r0', 0);
    assert.equal(f.allowed, false);
    assert.equal(f.suggestion?.action, 'force-primary-forget-peer');
    const o = checkAction(m, 'force-primary-forget-peer', 'r0', 0);
    assert.equal(o.allowed, true, JSON.stringify(o.checks));
    assert.equal(o.destructive, true);
    assert.equal(o.typeToConfirm, 'ha-b');
    assert.equal(o.command, 'drbd-agent primary --force --forget-peer r0');
    assert.match(o.loss?.[0] ?? '', /ha-b's .* is left behind/);
  });

  test('the override is refused while the peer answers: it is not gone', () => {
    const m = pair({ up: true, r: { disk: 'Outdated', current: X, conn: 'StandAlone', last: { disk: 'UpToDate', uuid: Y, history: [X] } } }, { up: true, r: { disk: 'UpToDate', current: Y, history: [X], conn: 'StandAlone' } });
    assert.match(firstRefusal(checkAction(m, 'force-primary-forget-peer', 'r0', 0)), /ha-b answers/);
  });

  test('create-md --force on the node holding the only good copy (ha-a promoted blank): refused, naming the unrelated data; the override wipes with ha-b typed', () => {
    const m = blankPromoted(false);
    const g = checkAction(m, 'create-md-force', 'r0', 1);
    assert.equal(g.allowed, false);
    assert.match(firstRefusal(g), /Refusing to wipe the metadata of r0 volume 0: this node holds UpToDate data \(generation 0537EC29…\) and ha-a's data is unrelated to it/);
    assert.equal(g.suggestion?.action, 'create-md-force-forget-peer');
    assert.match(g.loss?.[0] ?? '', /will be wiped: ha-a holds no copy/);
    const o = checkAction(m, 'create-md-force-forget-peer', 'r0', 1);
    assert.equal(o.allowed, true, JSON.stringify(o.checks));
    assert.equal(o.typeToConfirm, 'ha-b');
    assert.match(o.loss?.[0] ?? '', /ha-b's .* will be wiped/);
  });

  test('create-md for a real disk replacement: allowed, nothing lost, the forecast says who resyncs whom', () => {
    const g = checkAction(replaceA(), 'create-md', 'r0', 0);
    assert.equal(g.allowed, true, JSON.stringify(g.checks));
    assert.equal(g.loss, undefined);
    assert.equal(g.destructive, false);
    assert.match(g.forecast?.[0] ?? '', /ha-b → ha-a, full resync/);
  });

  test('connect that starts a full sync over real data: destructive, the loss named', () => {
    const g = checkAction(staleB(), 'connect', 'r0', 1);
    assert.equal(g.allowed, true);
    assert.equal(g.destructive, true);
    assert.match(g.loss?.[0] ?? '', /overwritten by a full resync from ha-a/);
  });

  test('discard-my-data on the node with newer data: destructive with its loss; on the victim Primary refused', () => {
    const g = checkAction(split(), 'discard-my-data', 'r0', 0);
    assert.equal(g.destructive, true);
    assert.match(g.loss?.[0] ?? '', /ha-a's .* overwritten by ha-b's data/);
    assert.match(firstRefusal(checkAction(split(), 'discard-my-data', 'r0', 1)), /the victim must be Secondary/);
  });

  test('promote Inconsistent or Outdated: refused with DRBD wording', () => {
    assert.match(firstRefusal(checkAction(blankSurvivor(), 'promote', 'r0', 0)), /Need access to UpToDate data \(disk is Inconsistent\)/);
    const outdated = checkAction(staleB(), 'promote', 'r0', 1);
    assert.ok(outdated.checks.some((c) => /Need access to UpToDate data \(disk is Outdated\)/.test(c.reason ?? '')), JSON.stringify(outdated.checks));
  });

  test('promote while the peer is Primary: refused', () => {
    const m = pair(
      { up: true, r: { role: 'Primary', disk: 'UpToDate', current: X, conn: 'Connected', peerRole: 'Secondary', peerDisk: 'UpToDate', repl: 'Established' } },
      { up: true, r: { disk: 'UpToDate', current: X, conn: 'Connected', peerRole: 'Primary', peerDisk: 'UpToDate', repl: 'Established' } },
    );
    assert.match(firstRefusal(checkAction(m, 'promote', 'r0', 1)), /Multiple primaries not allowed by config/);
  });

  test('a plain promote in contact with the peer predicts nothing; apart from it, the forecast is shown', () => {
    const connected = pair(
      { up: true, r: { disk: 'UpToDate', current: X, conn: 'Connected', peerRole: 'Secondary', peerDisk: 'UpToDate', repl: 'Established' } },
      { up: true, r: { disk: 'UpToDate', current: X, conn: 'Connected', peerRole: 'Secondary', peerDisk: 'UpToDate', repl: 'Established' } },
    );
    assert.equal(checkAction(connected, 'promote', 'r0', 0).forecast, undefined);
  });
});

describe('problems tell the truth about the service and the data', () => {
  test('unrelated data after a blank disk was promoted: an alert naming the copy to serve, and no plain StandAlone warning', () => {
    const m = blankPromoted(true);
    const ps = deriveProblems(m);
    const p = ps.find((x) => x.id === 'unrelated:r0');
    assert.equal(p?.severity, 'alert');
    assert.match(p!.text, /a blank disk was promoted on ha-a while ha-b held the data of r0 \(generation 0537EC29…\): serve ha-b's copy \(demote ha-a, promote ha-b\).*never wipe ha-b/);
    assert.ok(!ps.some((x) => x.id.startsWith('standalone:')), JSON.stringify(ps));
  });

  test('unrelated data of two real generations: find the copy the initiators wrote to', () => {
    const m = pair(
      { up: true, r: { disk: 'UpToDate', current: X, history: [G], conn: 'StandAlone', lastError: 'unrelated data' } },
      { up: true, r: { disk: 'UpToDate', current: Y, history: [G.replace('5E', '6F')], conn: 'StandAlone', lastError: 'unrelated data' } },
    );
    assert.match(deriveProblems(m).find((x) => x.id === 'unrelated:r0')?.text ?? '', /hold unrelated data .* Find the copy the initiators wrote to before wiping either/);
  });

  test('nobody serves an exported resource: no Primary, or a Primary whose target is stopped', () => {
    const withTarget = (role: string, state: string) => {
      const m = pair({ up: true, r: { role, disk: 'UpToDate', current: X, conn: 'Connected', peerDisk: 'UpToDate', repl: 'Established' } }, { up: false });
      return applyHostEvent(m, 0, parseEventLine(`create target name:r0 state:${state} iqn:iqn.2026-12.test:r0 portal:127.0.0.1:3260`)!);
    };
    assert.match(deriveProblems(withTarget('Secondary', 'stopped')).find((x) => x.id === 'not-served:r0')?.text ?? '', /nobody serves r0 that the console can see \(ha-b out of sight\): no Primary/);
    assert.match(deriveProblems(withTarget('Primary', 'stopped')).find((x) => x.id === 'not-served:r0')?.text ?? '', /ha-a is Primary but its iSCSI target is stopped; start it \(t\)/);
    assert.equal(deriveProblems(withTarget('Primary', 'running')).find((x) => x.id === 'not-served:r0'), undefined);
  });
});
