// Engine part 2 end to end with two real runtimes (real files, loopback TCP): online verify
// (case 15, the backing file changed behind the engine's back), invalidate, and an automatic
// split-brain policy carried over the real wire.
import { defaultUndoMax } from '../../../agent/engine/undo-decision.js';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { open } from 'node:fs/promises';
import { sbPolicies } from '../../../agent/engine/resource-runtime.js';
import { createPair, loadConfig, resourceYaml, upToDatePair, type Pair } from '../../support/two-runtimes.js';
import { waitFor } from '../../support/wait.js';
import { readRange } from '../../support/files.js';

const BLOCK = 4096;


async function writeFileRange(path: string, offset: number, data: Buffer): Promise<void> {
  const fh = await open(path, 'r+');
  try {
    await fh.write(data, 0, data.length, offset);
    await fh.sync();
  } finally {
    await fh.close();
  }
}

const connected = (p: Pair) => p.a.state.conn === 'Connected' && p.b.state.conn === 'Connected';
const established = (p: Pair) => p.a.state.volumes[0]!.repl === 'Established' && p.b.state.volumes[0]!.repl === 'Established';

test('case 15: verify finds blocks changed behind the engine\'s back; nothing moves until disconnect + connect', async () => {
  const p = await upToDatePair();
  try {
    const dev = p.a.blockDevice(0);
    for (const b of [0, 10, 1000]) await dev.write(b * BLOCK, Buffer.alloc(BLOCK, 0x11));
    const bad = [10, 255, 256, 3000];
    for (const b of bad) await writeFileRange(p.diskB, b * BLOCK + 17, Buffer.from('behind your back'));
    const logs: string[] = [];
    p.a.on('log', (l) => logs.push(l.text));
    await p.a.admin({ cmd: 'verify' });
    await waitFor(() => established(p) && p.a.state.volumes[0]!.verify === undefined && p.b.state.volumes[0]!.verifyMismatch === bad.length, 'verify to finish');
    for (const rt of [p.a, p.b]) {
      const pd = rt.snapshot().connections[0]!.peerDevices[0]!;
      assert.equal(pd.outOfSync, bad.length * 4, 'out-of-sync KiB');
      assert.equal(pd.verifyMismatch, bad.length * 4);
    }
    assert.ok(logs.some((t) => t.includes(`${bad.length * 4} KiB out of sync`)), logs.join('\n'));
    for (const b of bad) assert.deepEqual((await readRange(p.diskB, b * BLOCK + 17, 16)).toString(), 'behind your back', 'nothing resynced');

    await p.a.admin({ cmd: 'disconnect' });
    await p.a.admin({ cmd: 'connect', discardMyData: false });
    const rx = p.b.state.volumes[0]!.stats.received;
    await waitFor(() => connected(p) && established(p) && p.b.state.volumes[0]!.disk === 'UpToDate' && p.a.state.volumes[0]!.bitmap.weight === 0, 'resync after reconnect');
    assert.equal(p.b.state.volumes[0]!.stats.received - rx, bad.length * BLOCK, 'exactly the mismatching blocks moved');
    for (const b of bad) assert.deepEqual(await readRange(p.diskB, b * BLOCK, BLOCK), await readRange(p.diskA, b * BLOCK, BLOCK));
  } finally {
    await p.close();
  }
});

test('invalidate: a Secondary gets a full sync from its UpToDate peer; refused on the Primary', async () => {
  const p = await upToDatePair();
  try {
    await assert.rejects(p.a.admin({ cmd: 'invalidate' }), /Refusing to invalidate a Primary/);
    const dev = p.a.blockDevice(0);
    await dev.write(5 * BLOCK, Buffer.alloc(BLOCK, 0x77));
    await writeFileRange(p.diskB, 5 * BLOCK, Buffer.alloc(BLOCK, 0x00));
    const rx = p.b.state.volumes[0]!.stats.received;
    await p.b.admin({ cmd: 'invalidate' });
    assert.equal(p.b.state.volumes[0]!.disk, 'Inconsistent');
    await waitFor(() => established(p) && p.b.state.volumes[0]!.disk === 'UpToDate', 'full sync to finish');
    assert.equal(p.b.state.volumes[0]!.stats.received - rx, p.b.state.volumes[0]!.dataBytes, 'full sync');
    assert.deepEqual(await readRange(p.diskB, 5 * BLOCK, BLOCK), Buffer.alloc(BLOCK, 0x77));
  } finally {
    await p.close();
  }
});

test('sbPolicies: the resource file\'s after-sb values reach the engine, discard-node-NAME as a node-id', () => {
  const text = resourceYaml({ dir: '/tmp/x', portA: 7001, portB: 7002, size: '16MiB' }).replace(
    '  ping-timeout: 2\n',
    '  ping-timeout: 2\n  after-sb-0pri: discard-node-ha-b\n  after-sb-1pri: discard-secondary\n',
  );
  const cfg = loadConfig(text, 'ha-a');
  assert.deepEqual(sbPolicies(cfg), { pri0: 'discard-node-ha-b', pri1: 'discard-secondary', pri2: 'disconnect', discardNodeId: 1 });
});

test('split brain resolved by discard-least-changes over the real wire', async () => {
  const p = await upToDatePair();
  try {
    for (const rt of [p.a, p.b]) rt.state.afterSb = { pri0: 'discard-least-changes', pri1: 'disconnect', pri2: 'disconnect' };
    await p.b.admin({ cmd: 'disconnect' });
    await waitFor(() => p.a.state.conn === 'Connecting', 'A notices');
    await p.b.admin({ cmd: 'primary', force: true }); // B was Outdated by the graceful disconnect
    for (const b of [1, 2, 3]) await p.a.blockDevice(0).write(b * BLOCK, Buffer.alloc(BLOCK, 0xaa));
    await p.b.blockDevice(0).write(9 * BLOCK, Buffer.alloc(BLOCK, 0xbb));
    await p.a.admin({ cmd: 'secondary' });
    await p.b.admin({ cmd: 'secondary' });
    await p.b.admin({ cmd: 'connect', discardMyData: false });
    await waitFor(() => connected(p) && established(p) && p.b.state.volumes[0]!.disk === 'UpToDate', 'B resynced as the victim');
    assert.equal(p.a.state.splitBrain, false);
    for (const b of [1, 2, 3, 9]) assert.deepEqual(await readRange(p.diskB, b * BLOCK, BLOCK), await readRange(p.diskA, b * BLOCK, BLOCK));
    assert.deepEqual(await readRange(p.diskB, 9 * BLOCK, BLOCK), Buffer.alloc(BLOCK), 'B\'s own write was discarded');
  } finally {
    await p.close();
  }
});

test('net.undo-journal-max reaches the config (default: absent, the runtime allows a journal of the whole volume)', async () => {
  const base = resourceYaml({ dir: '/tmp/x', portA: 7001, portB: 7002, size: '16MiB' });
  assert.equal(loadConfig(base, 'ha-a').net.undoJournalMax, undefined);
  const cfg = loadConfig(base.replace('  ping-timeout: 2\n', '  ping-timeout: 2\n  undo-journal-max: 8MiB\n'), 'ha-a');
  assert.equal(cfg.net.undoJournalMax, 8 << 20);
  const p = await createPair();
  try {
    assert.deepEqual(p.a.state.undoJournalMax, [defaultUndoMax(p.a.stores[0]!.dataBytes)]);
  } finally {
    await p.close();
  }
});
