// What an action will do to the data, predicted with the engine's own sync decision on both
// hosts' identifiers as best known, and the mistake catalogue of issue 14 as guard tests: each
// mistake is refused, or needs a typed confirmation whose dialog names what is lost.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { parseEventLine } from '../../../src/cluster/events2.js';
import { checkAction, type GuardResult } from '../../../src/cluster/guards.js';
import { applyHostEvent, createModel, setReachability, type ClusterModel, type HostIndex } from '../../../src/cluster/model.js';
import { forecast, outcomeText } from '../../../src/cluster/predict.js';

const X = '0537EC2900000000';
const Y = '7A1B2C3D00000000';
const G = '5E5E5E5E00000000';
const ZERO = '0000000000000000';
const SEEN = '2026-12-07T01:02:00.000Z';
const NAMES = ['ha-a', 'ha-b'] as const;

interface Spec {
  /** Unreachable hosts keep nothing in the console's view: only the other host's memory tells. */
  up: boolean;
  /** Absent: r0 is down on this host. */
  r?: {
    role?: string;
    disk: string;
    current: string;
    bitmap?: string;
    history?: string[];
    conn?: string;
    peerRole?: string;
    peerDisk?: string;
    repl?: string;
    lastError?: string;
    splitBrain?: boolean;
    /** What this host's agent remembers of the other. */
    last?: { disk: string; uuid: string; bitmap?: string; history?: string[]; role?: string };
  };
}

function pair(a: Spec, b: Spec): ClusterModel {
  let m = createModel('ha-a', 'ha-b');
  for (const [i, s] of [a, b].entries()) {
    const h = i as HostIndex;
    const peer = 1 - i;
    m = setReachability(m, h, s.up ? { state: 'up' } : { state: 'unreachable', error: 'connect ETIMEDOUT' });
    if (!s.up || !s.r) continue;
    const r = s.r;
    const last = r.last
      ? [` peer-last-disk:${r.last.disk} peer-last-uuid:${r.last.uuid} peer-last-bitmap:${r.last.bitmap ?? ZERO} peer-last-history:${(r.last.history ?? []).join(',')}`, ` peer-last-seen:${SEEN} peer-last-role:${r.last.role ?? 'Secondary'}`]
      : ['', ''];
    for (const l of [
      `exists resource name:r0 role:${r.role ?? 'Secondary'} node:${NAMES[i]} node-id:${i}`,
      `exists device name:r0 volume:0 minor:1 disk:${r.disk} size:131072 current-uuid:${r.current} bitmap-uuids:${peer}=${r.bitmap ?? ZERO} history-uuids:${(r.history ?? []).join(',')}`,
      `exists connection name:r0 peer-node-id:${peer} conn-name:${NAMES[peer]} connection:${r.conn ?? 'Connecting'} role:${r.peerRole ?? 'Unknown'}${r.splitBrain ? ' split-brain:yes' : ''}${last[1]}`,
      `exists peer-device name:r0 peer-node-id:${peer} conn-name:${NAMES[peer]} volume:0 replication:${r.repl ?? 'Off'} peer-disk:${r.peerDisk ?? 'DUnknown'}${last[0]}`,
      'exists -',
    ]) m = applyHostEvent(m, h, parseEventLine(l)!);
  }
  return m;
}

// The seed's disaster, step by step (issue 14, "What happened").
/** 1–2: ha-a back with a blank disk (create-md, up); ha-b, the only copy, still down. */
const blankSurvivor = () => pair({ up: true, r: { disk: 'Inconsistent', current: '0000000000000004', last: { disk: 'UpToDate', uuid: X, role: 'Primary' } } }, { up: false });
/** 3–4: the blank disk was forced Primary (a fresh generation); ha-b is back and refused it as unrelated, then taken down for the runbook. */
const blankPromoted = (bUp: boolean) =>
  pair(
    { up: true, r: { role: 'Primary', disk: 'UpToDate', current: G, conn: 'StandAlone', lastError: 'unrelated data', last: { disk: 'UpToDate', uuid: X } } },
    bUp ? { up: true, r: { disk: 'UpToDate', current: X, conn: 'StandAlone', last: { disk: 'UpToDate', uuid: G, role: 'Primary' } } } : { up: true },
  );
/** A healthy disk replacement: ha-a's disk failed and it is down; ha-b Primary, last in sync with it. */
const replaceA = () => pair({ up: true }, { up: true, r: { role: 'Primary', disk: 'UpToDate', current: X, bitmap: X, conn: 'Connecting', last: { disk: 'UpToDate', uuid: X } } });
/** ha-b Outdated at X, long ago; ha-a moved on past it (X in its history, its bitmap lost): a full sync onto ha-b. */
const staleB = () =>
  pair(
    { up: true, r: { role: 'Primary', disk: 'UpToDate', current: Y, history: [X], conn: 'StandAlone', last: { disk: 'Outdated', uuid: X } } },
    { up: true, r: { disk: 'Outdated', current: X, conn: 'StandAlone', last: { disk: 'UpToDate', uuid: Y, history: [X] } } },
  );
/** Both wrote apart from X: split brain, both StandAlone. */
const split = () =>
  pair(
    { up: true, r: { disk: 'UpToDate', current: Y, bitmap: X, conn: 'StandAlone', splitBrain: true, last: { disk: 'UpToDate', uuid: G, bitmap: X } } },
    { up: true, r: { role: 'Primary', disk: 'UpToDate', current: G, bitmap: X, conn: 'StandAlone', splitBrain: true, last: { disk: 'UpToDate', uuid: Y, bitmap: X } } },
  );

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
      const [f] = forecast(m, 'r0', change);
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
