// The split-brain victim's kept blocks, end to end with two real runtimes (real files, loopback
// TCP): connect --discard-my-data keeps exactly the victim's writes with their offsets before
// the resync, a copy that cannot be written (a real file-system error) refuses the discard, the
// size cap refuses it too, and split-brain-restore writes a copy back through the Primary.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFile, rm, writeFile, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { listSplitBrainCopies } from '../../../agent/engine/split-brain-copy.js';
import { restoreSplitBrainCopy } from '../../../agent/split-brain-restore.js';
import { AgentError } from '../../../agent/protocol/messages.js';
import { readRange } from '../../support/files.js';
import { upToDatePair, type Pair } from '../../support/two-runtimes.js';
import { waitFor } from '../../support/wait.js';
import { formatUuid } from '../../../agent/engine/uuid.js';

const BLOCK = 4096;
const WAIT = { peerMs: 1500, maxMs: 10_000 };
const VICTIM_BLOCKS: Array<[number, number]> = [
  [9, 0xb9],
  [10, 0xba],
  [40, 0xc0],
];

/**
 * A split brain: B leaves (Outdated), is forced Primary and writes VICTIM_BLOCKS; A writes
 * blocks 1-3 and 10. B is demoted and will be the victim; A stays Primary, Connecting.
 */
async function splitBrain(opts: { copyCapBytes?: number } = {}): Promise<Pair> {
  const p = await upToDatePair(opts);
  try {
    await p.b.admin({ cmd: 'disconnect' });
    await waitFor(() => p.a.state.conn === 'Connecting', 'A notices');
    await p.b.admin({ cmd: 'primary', force: true });
    for (const b of [1, 2, 3, 10]) await p.a.blockDevice(0).write(b * BLOCK, Buffer.alloc(BLOCK, 0xaa));
    for (const [b, fill] of VICTIM_BLOCKS) await p.b.blockDevice(0).write(b * BLOCK, Buffer.alloc(BLOCK, fill));
    await p.b.admin({ cmd: 'secondary' });
    return p;
  } catch (e) {
    await p.close();
    throw e;
  }
}

const inSync = (p: Pair) => [p.a, p.b].every((rt) => rt.state.conn === 'Connected' && rt.state.volumes[0]!.repl === 'Established' && rt.state.volumes[0]!.disk === 'UpToDate');

async function dataArea(p: Pair, which: 'a' | 'b'): Promise<Buffer> {
  return readRange(which === 'a' ? p.diskA : p.diskB, 0, p[which].stores[0]!.dataBytes);
}

test('connect --discard-my-data keeps exactly the victim\'s written blocks with their offsets, then the victim equals the survivor', async () => {
  const p = await splitBrain();
  try {
    const generation = formatUuid(p.b.state.volumes[0]!.meta.gi.current);
    const message = await p.b.connectDiscarding(false, WAIT);
    assert.match(message, /^kept a copy of ha-b's 12 KiB of diverging blocks \(2 ranges\) in .*split-brain\/r0\/\d{8}T\d{6}\.\d{3}Z-vol0\.blocks$/);
    await waitFor(() => inSync(p), 'the victim resynced');
    assert.ok((await dataArea(p, 'b')).equals(await dataArea(p, 'a')), 'the victim holds the survivor\'s data');

    const copies = await listSplitBrainCopies(p.stateB, 'r0');
    assert.equal(copies.length, 1);
    const m = copies[0]!.manifest;
    assert.deepEqual(
      { resource: m.resource, volume: m.volume, node: m.node, peer: m.peer, generation: m.generation, bytes: m.bytes, resync: m.resync, peerChangedBlocks: m.peerChangedBlocks },
      { resource: 'r0', volume: 0, node: 'ha-b', peer: 'ha-a', generation, bytes: 3 * BLOCK, resync: 'bitmap', peerChangedBlocks: 4 },
    );
    assert.deepEqual(m.ranges, [
      { offset: 9 * BLOCK, length: 2 * BLOCK, fileOffset: 0, changedBy: 'here' },
      { offset: 40 * BLOCK, length: BLOCK, fileOffset: 2 * BLOCK, changedBy: 'here' },
    ]);
    const blocks = await readFile(copies[0]!.path);
    assert.ok(blocks.equals(Buffer.concat(VICTIM_BLOCKS.map(([, fill]) => Buffer.alloc(BLOCK, fill)))), 'the blocks as the victim wrote them');
    assert.equal(m.sha256, createHash('sha256').update(blocks).digest('hex'));
    assert.deepEqual(await listSplitBrainCopies(p.stateA, 'r0'), [], 'the survivor keeps nothing');
  } finally {
    await p.close();
  }
});

test('the victim first, the survivor later (the runbook\'s order): the answer says the copy comes first, and it does', async () => {
  const p = await splitBrain();
  try {
    await p.a.admin({ cmd: 'disconnect' });
    assert.equal(await p.b.connectDiscarding(false, WAIT), "waiting for the peer: ha-b's diverging blocks will be kept first (split-brain-copies r0)");
    const kept = new Promise<{ message?: string }>((resolve) => p.b.once('split-brain-copy', resolve));
    await p.a.admin({ cmd: 'connect', discardMyData: false });
    assert.match((await kept).message ?? '', /^kept a copy of ha-b's 12 KiB of diverging blocks \(2 ranges\)/);
    await waitFor(() => inSync(p), 'the victim resynced');
    assert.equal((await listSplitBrainCopies(p.stateB, 'r0')).length, 1);
  } finally {
    await p.close();
  }
});

test('a copy that cannot be written refuses the discard (real ENOTDIR), names the path and --no-backup; nothing is overwritten', async () => {
  const p = await splitBrain();
  try {
    // Where the copies' directory should be there is a file: mkdir fails for real.
    await mkdir(p.stateB, { recursive: true });
    await writeFile(join(p.stateB, 'split-brain'), 'in the way\n');
    const before = await dataArea(p, 'b');
    const err = await p.b.connectDiscarding(false, WAIT).then(() => undefined, (e: unknown) => e);
    assert.ok(err instanceof AgentError && err.code === 'refused', `refused, got ${String(err)}`);
    assert.match(err.message, /^Refusing to discard my data: cannot keep a copy of ha-b's 12 KiB of diverging blocks in .*state-b\/split-brain\/r0 \(ENOTDIR.*12 KiB needed there; connect --discard-my-data --no-backup discards them without a copy$/);
    assert.equal(p.b.state.conn, 'StandAlone');
    assert.equal(p.b.state.splitBrain, true);
    assert.ok((await dataArea(p, 'b')).equals(before), 'the victim\'s data is untouched');

    // The operator clears the way and asks again: now the copy is kept and the resync runs.
    await rm(join(p.stateB, 'split-brain'));
    assert.match(await p.b.connectDiscarding(false, WAIT), /^kept a copy of ha-b's 12 KiB/);
    await waitFor(() => inSync(p), 'the victim resynced');
  } finally {
    await p.close();
  }
});

test('diverging data over the copy limit refuses the discard with its size; --no-backup overrides', async () => {
  const p = await splitBrain({ copyCapBytes: 2 * BLOCK });
  try {
    const err = await p.b.connectDiscarding(false, WAIT).then(() => undefined, (e: unknown) => e);
    assert.ok(err instanceof AgentError);
    assert.match(err.message, /ha-b's 12 KiB of diverging blocks \(2 ranges\) exceed the split-brain copy limit of 8 KiB; connect --discard-my-data --no-backup/);
    assert.equal(p.b.state.conn, 'StandAlone');
    assert.equal(await p.b.connectDiscarding(true, WAIT), "ha-b's diverging blocks discarded without a copy (--no-backup)");
    await waitFor(() => inSync(p), 'the victim resynced');
    assert.deepEqual(await listSplitBrainCopies(p.stateB), []);
  } finally {
    await p.close();
  }
});

test('split-brain-restore: refused on a Secondary; on the Primary it shows the plan, then with yes writes both disks', async () => {
  const p = await splitBrain();
  try {
    await p.b.connectDiscarding(false, WAIT);
    await waitFor(() => inSync(p), 'the victim resynced');
    const [copy] = await listSplitBrainCopies(p.stateB, 'r0');
    const id = copy!.id;
    const secondary = await restoreSplitBrainCopy(p.b, p.stateB, { copy: id, yes: true }).then(() => undefined, (e: unknown) => e);
    assert.ok(secondary instanceof AgentError && secondary.code === 'refused');
    assert.match(secondary.message, /this node is Secondary; promote it first/);

    // Switch over: the node holding the copy becomes Primary.
    await p.a.admin({ cmd: 'secondary' });
    await waitFor(() => p.b.state.peerRole === 'Secondary', 'B sees A demoted');
    await p.b.admin({ cmd: 'primary', force: false });
    const before = await dataArea(p, 'b');
    const timestamp = id.replace(/-vol0$/, '');
    const plan = await restoreSplitBrainCopy(p.b, p.stateB, { copy: timestamp, yes: false });
    assert.equal(plan.restored, false);
    assert.deepEqual(plan.lines.slice(0, 3), ['r0/0: would overwrite 12 KiB in 2 ranges:', `  offset ${9 * BLOCK} length ${2 * BLOCK} (8 KiB)`, `  offset ${40 * BLOCK} length ${BLOCK} (4 KiB)`]);
    assert.ok((await dataArea(p, 'b')).equals(before), 'nothing written without yes');

    // A damaged copy is never written: its sha256 no longer matches the manifest.
    const good = await readFile(copy!.path);
    await writeFile(copy!.path, Buffer.concat([good.subarray(0, BLOCK), Buffer.alloc(BLOCK, 0x66), good.subarray(2 * BLOCK)]));
    const damaged = await restoreSplitBrainCopy(p.b, p.stateB, { copy: id, yes: true }).then(() => undefined, (e: unknown) => e);
    assert.ok(damaged instanceof AgentError && damaged.code === 'io');
    assert.match(damaged.message, /does not match its manifest.*; nothing written$/);
    assert.ok((await dataArea(p, 'b')).equals(before), 'nothing written from a damaged copy');
    await writeFile(copy!.path, good);

    const done = await restoreSplitBrainCopy(p.b, p.stateB, { copy: id, volume: 0, yes: true });
    assert.equal(done.restored, true);
    for (const disk of [p.diskA, p.diskB]) {
      for (const [b, fill] of VICTIM_BLOCKS) assert.deepEqual(await readRange(disk, b * BLOCK, BLOCK), Buffer.alloc(BLOCK, fill), `${disk} block ${b}`);
      assert.deepEqual(await readRange(disk, 1 * BLOCK, BLOCK), Buffer.alloc(BLOCK, 0xaa), 'other blocks stay');
    }
  } finally {
    await p.close();
  }
});
