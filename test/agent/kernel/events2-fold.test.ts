import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import type { AgentSnapshot, ResourceSnapshot } from '../../../agent/protocol/messages.js';
import { emptyKernelState, etaSeconds, foldKernelLine, foldKernelText, UNKNOWN_KEPT, type KernelFoldState } from '../../../agent/kernel/events2-fold.js';
import { snapshotToEvents } from '../../../agent/protocol/events2.js';
import { applyHostEvents, applyHostSnapshot, createModel, resourceRows } from '../../../src/cluster/model.js';
import { deriveProblems } from '../../../src/cluster/problems.js';
import { foldEvents } from '../../../src/cluster/host-view.js';

const DIR = 'fixtures/kernel-events2';
const REGENERATE = 'UPDATE_KERNEL_GOLDEN=1 node .ci/test.mjs unit kernel/events2-fold';

/** A fixture's events2 text: its first line names the public source it was copied from. */
function fixtureText(file: string): string {
  const text = readFileSync(join(DIR, file), 'utf8');
  const [first, ...rest] = text.split('\n');
  assert.match(first!, /^# SOURCE: https:\/\/\S+$/, `${file}: the first line must be '# SOURCE: <url>'`);
  return rest.join('\n');
}

const fold = (text: string): KernelFoldState => foldKernelText(emptyKernelState('ha-a', 'test'), text);
const lines = (...ls: string[]) => ls.join('\n');

describe('kernel events2 fold: every fixture against its golden snapshot', () => {
  const fixtures = readdirSync(DIR).filter((f) => f.endsWith('.events2')).sort();
  test('there are fixtures, each with a golden snapshot', () => {
    assert.ok(fixtures.length >= 8, `only ${fixtures.length} fixtures in ${DIR}`);
    for (const f of fixtures) assert.ok(existsSync(join(DIR, f.replace(/\.events2$/, '.snapshot.json'))) || process.env.UPDATE_KERNEL_GOLDEN, `${f} has no golden snapshot: run ${REGENERATE}`);
  });
  for (const f of fixtures) {
    test(f, () => {
      const s = fold(fixtureText(f)).snapshot;
      const golden = join(DIR, f.replace(/\.events2$/, '.snapshot.json'));
      const json = JSON.stringify(s, null, 2) + '\n';
      if (process.env.UPDATE_KERNEL_GOLDEN) writeFileSync(golden, json);
      assert.equal(json, readFileSync(golden, 'utf8'), `${golden} drifted from what the fold makes of ${f}: check the difference, then run ${REGENERATE}`);
    });
    test(`${f}: the console builds its model, rows and problems from the snapshot, and from it sent as events2`, () => {
      const s = fold(fixtureText(f)).snapshot;
      const bySnapshot = applyHostSnapshot(createModel('ha-a', 'ha-b'), 0, s);
      const byEvents = applyHostEvents(createModel('ha-a', 'ha-b'), 0, snapshotToEvents(s, { statistics: true }));
      const rows = resourceRows(bySnapshot);
      assert.deepEqual([...new Set(rows.map((r) => r.resource))], s.resources.map((r) => r.name));
      assert.deepEqual(resourceRows(byEvents).map((r) => r.resource), rows.map((r) => r.resource));
      deriveProblems(bySnapshot);
      // DRBD's own keys cross the wire: what the console folds from the events is what the fold made.
      const wire = foldEvents(snapshotToEvents(s, { statistics: true })).resources;
      const drbdKeys = (rs: ResourceSnapshot[]) =>
        rs.map((r) => [r.role, r.mayPromote, r.promotionScore, r.devices.map((d) => [d.disk, d.quorum, d.client, d.open, d.size]), r.connections.map((c) => [c.connection, c.role, c.established, c.peerDevices.map((p) => [p.replication, p.peerDisk, p.peerClient, p.outOfSync, p.done])])]);
      assert.deepEqual(drbdKeys(wire), drbdKeys(s.resources));
    });
  }
});

describe('kernel events2 fold: what each kernel field becomes', () => {
  const dump = lines(
    '2026-12-08T04:00:00.000000+00:00 exists resource name:r0 role:Primary suspended:no force-io-failures:no write-ordering:flush may_promote:no promotion_score:10102',
    '2026-12-08T04:00:00.000000+00:00 exists device name:r0 volume:0 minor:1 backing_dev:/dev/vdb disk:UpToDate client:no open:yes quorum:yes size:1048576 read:10 written:20 al-writes:3 bm-writes:4 upper-pending:0 lower-pending:0 al-suspended:no blocked:no',
    '2026-12-08T04:00:00.000000+00:00 exists connection name:r0 peer-node-id:1 conn-name:ha-b connection:Connected role:Secondary congested:no ap-in-flight:0 rs-in-flight:0',
    '2026-12-08T04:00:00.000000+00:00 exists peer-device name:r0 peer-node-id:1 conn-name:ha-b volume:0 replication:Established peer-disk:UpToDate peer-client:no resync-suspended:no received:0 sent:20 out-of-sync:0 pending:0 unacked:0',
    '2026-12-08T04:00:00.000000+00:00 exists path name:r0 peer-node-id:1 conn-name:ha-b local:ipv4:10.0.0.1:7789 peer:ipv4:10.0.0.2:7789 established:yes',
    '2026-12-08T04:00:00.000000+00:00 exists -',
  );
  const r0 = (s: KernelFoldState) => s.snapshot.resources.find((r) => r.name === 'r0')!;

  test('the initial dump: every field of every object, the engine named, the dump complete', () => {
    const s = fold(dump);
    assert.equal(s.ready, true);
    const r = r0(s);
    assert.equal(r.engine, 'kernel');
    assert.deepEqual([r.role, r.suspended, r.mayPromote, r.promotionScore, r.node], ['Primary', false, false, 10102, 'ha-a']);
    assert.deepEqual(r.kernelExtra, [['force-io-failures', 'no']]);
    const d = r.devices[0]!;
    assert.deepEqual([d.device, d.backingDev, d.disk, d.open, d.quorum, d.client, d.size, d.read, d.written, d.alWrites, d.bmWrites], ['/dev/drbd1', '/dev/vdb', 'UpToDate', true, true, false, 1048576, 10, 20, 3, 4]);
    const c = r.connections[0]!;
    assert.deepEqual([c.peerNodeId, c.connName, c.connection, c.role, c.localAddress, c.peerAddress, c.established], [1, 'ha-b', 'Connected', 'Secondary', '10.0.0.1:7789', '10.0.0.2:7789', true]);
    const p = c.peerDevices[0]!;
    assert.deepEqual([p.replication, p.peerDisk, p.peerClient, p.sent, p.outOfSync], ['Established', 'UpToDate', false, 20, 0]);
  });

  test('suspended:REASON is suspended, with DRBD\'s reason kept; suspended:no withdraws it', () => {
    let s = fold(lines(dump, 'change resource name:r0 suspended:quorum'));
    assert.deepEqual([r0(s).suspended, r0(s).suspendedReason], [true, 'quorum']);
    s = foldKernelLine(s, 'change resource name:r0 suspended:no');
    assert.deepEqual([r0(s).suspended, r0(s).suspendedReason], [false, undefined]);
  });

  test('quorum lost: quorum:no on the device, may_promote withdrawn', () => {
    const s = fold(lines(dump, 'change resource name:r0 may_promote:no promotion_score:0', 'change device name:r0 volume:0 minor:1 quorum:no'));
    assert.deepEqual([r0(s).devices[0]!.quorum, r0(s).mayPromote, r0(s).promotionScore], [false, false, 0]);
  });

  test('resync: done, dbdt1 and eta while SyncTarget; eta computed from dbdt1 when DRBD sends none; all gone when it ends', () => {
    let s = fold(lines(dump, 'change peer-device name:r0 peer-node-id:1 conn-name:ha-b volume:0 replication:SyncTarget peer-disk:UpToDate out-of-sync:102400 done:90.00 dbdt1:10.00 eta:10'));
    let p = r0(s).connections[0]!.peerDevices[0]!;
    assert.deepEqual([p.replication, p.done, p.dbdt1, p.eta, p.outOfSync], ['SyncTarget', 90, 10, 10, 102400]);
    s = foldKernelLine(s, 'change peer-device name:r0 peer-node-id:1 conn-name:ha-b volume:0 replication:SyncTarget out-of-sync:51200 done:95.00 dbdt1:25.00');
    p = r0(s).connections[0]!.peerDevices[0]!;
    assert.equal(p.eta, 2, '51200 KiB at 25 MiB/s');
    s = foldKernelLine(s, 'change peer-device name:r0 peer-node-id:1 conn-name:ha-b volume:0 replication:Established out-of-sync:0');
    p = r0(s).connections[0]!.peerDevices[0]!;
    assert.deepEqual([p.done, p.dbdt1, p.eta], [undefined, undefined, undefined]);
    assert.equal(etaSeconds(1000, 0), undefined, 'no rate, no estimate');
  });

  test('split brain: the split-brain handler call marks the connection until it connects again', () => {
    let s = fold(
      lines(
        dump,
        'change connection name:r0 peer-node-id:1 conn-name:ha-b connection:NetworkFailure role:Unknown',
        'change connection name:r0 peer-node-id:1 conn-name:ha-b connection:Connecting',
        '2026-12-08T04:01:00.000000+00:00 call helper name:r0 peer-node-id:1 conn-name:ha-b volume:0 helper:split-brain',
        'change connection name:r0 peer-node-id:1 conn-name:ha-b connection:StandAlone',
        'response helper name:r0 peer-node-id:1 conn-name:ha-b volume:0 helper:split-brain status:0',
      ),
    );
    const c = r0(s).connections[0]!;
    assert.deepEqual([c.connection, c.splitBrain], ['StandAlone', true]);
    assert.match(c.lastError!, /split brain detected/);
    assert.deepEqual(r0(s).helpers, [{ helper: 'split-brain', peerNodeId: 1, connName: 'ha-b', volume: 0, called: '2026-12-08T04:01:00.000000+00:00', status: 0 }]);
    s = foldKernelLine(s, 'change connection name:r0 peer-node-id:1 conn-name:ha-b connection:Connected role:Secondary');
    assert.deepEqual([r0(s).connections[0]!.splitBrain, r0(s).connections[0]!.lastError], [false, undefined]);
  });

  test('disk failure: Failed then Diskless with backing_dev:none, the local-io-error handler running until it answers', () => {
    let s = fold(lines(dump, 'change device name:r0 volume:0 minor:1 disk:Failed', 'call helper name:r0 volume:0 helper:local-io-error'));
    assert.equal(r0(s).devices[0]!.disk, 'Failed');
    assert.deepEqual(r0(s).helpers, [{ helper: 'local-io-error', volume: 0, called: '' }]);
    s = foldKernelLine(s, 'change device name:r0 volume:0 minor:1 backing_dev:none disk:Diskless client:no');
    assert.deepEqual([r0(s).devices[0]!.disk, r0(s).devices[0]!.backingDev], ['Diskless', '']);
    s = foldKernelLine(s, 'response helper name:r0 volume:0 helper:local-io-error status:1');
    assert.equal(r0(s).helpers![0]!.status, 1);
  });

  test('unknown keys are kept on their object; lines that do not parse, and unknown objects, on the snapshot', () => {
    let s = fold(lines(dump, 'change peer-device name:r0 peer-node-id:1 conn-name:ha-b volume:0 replication:Established rs-dagtag:17 resync-suspended:user,peer'));
    const p = r0(s).connections[0]!.peerDevices[0]!;
    assert.deepEqual(p.kernelExtra, [['rs-dagtag', '17']]);
    assert.equal(p.resyncSuspended, 'user');
    s = foldKernelLine(s, 'rename resource name:r0 new_name:r1');
    s = foldKernelLine(s, 'exists quorum-witness name:r0');
    s = foldKernelLine(s, 'change resource');
    assert.deepEqual(
      s.snapshot.kernelUnknown!.map((u) => u.problem),
      ["unknown verb 'rename'", "unknown object 'quorum-witness'", 'no name: key'],
    );
  });

  test('the unmapped lines kept are the latest, bounded', () => {
    let s = fold(dump);
    for (let i = 0; i < UNKNOWN_KEPT + 10; i++) s = foldKernelLine(s, `bogus ${i}`);
    assert.equal(s.snapshot.kernelUnknown!.length, UNKNOWN_KEPT);
    assert.equal(s.snapshot.kernelUnknown!.at(-1)!.line, `bogus ${UNKNOWN_KEPT + 9}`);
  });

  test('a second dump (drbdsetup restarted) replaces the model: objects destroyed meanwhile are gone', () => {
    let s = fold(lines(dump, 'create resource name:r9 role:Secondary'));
    assert.deepEqual(s.snapshot.resources.map((r) => r.name), ['r0', 'r9']);
    s = foldKernelText(s, dump);
    assert.deepEqual(s.snapshot.resources.map((r) => r.name), ['r0']);
  });

  test('destroy: children first, then the resource; a destroy of what is not there changes nothing', () => {
    const before = fold(dump);
    const s = foldKernelText(
      before,
      lines(
        'destroy path name:r0 peer-node-id:1 conn-name:ha-b local:ipv4:10.0.0.1:7789 peer:ipv4:10.0.0.2:7789',
        'destroy peer-device name:r0 peer-node-id:1 conn-name:ha-b volume:0',
        'destroy connection name:r0 peer-node-id:1 conn-name:ha-b',
        'destroy device name:r0 volume:0',
        'destroy resource name:r0',
        'destroy device name:r5 volume:0',
      ),
    );
    assert.deepEqual(s.snapshot.resources, []);
    assert.equal(before.snapshot.resources.length, 1, 'the fold does not modify its input');
  });

  test('the snapshot type holds (a compile-time check of the shape the builtin engine produces)', () => {
    const s: AgentSnapshot = fold(dump).snapshot;
    assert.deepEqual(s.configErrors, []);
  });
});
