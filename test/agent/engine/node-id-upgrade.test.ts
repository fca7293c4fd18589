// The upgrade: metadata created by this code under a file's file-order node-ids (ha-a 0,
// ha-b 1), then the same pair loaded from a file without node-ids whose derived ids are the
// other way round (drbdadm's numbering; nodeIdImplicit). Both runtimes keep the metadata's
// numbering and say so: the data reads back, the node with the data is still the one that
// may be promoted, and what changed while apart resyncs alone — no full resync, no swap.
// Real files and loopback TCP (two-runtimes.ts), as the other restart tests.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ResourceConfig } from '../../../agent/config/types.js';
import { parseResourceRes } from '../../../agent/config/load.js';
import { ResourceRuntime } from '../../../agent/engine/resource-runtime.js';
import { readRange } from '../../support/files.js';
import { upToDatePair, type Pair } from '../../support/two-runtimes.js';
import { waitFor } from '../../support/wait.js';

const BLOCK = 4096;

/** The config as the loader gives it for a file without node-ids whose derived ids swap the file order. */
function derivedSwapped(cfg: ResourceConfig): ResourceConfig {
  return { ...cfg, hosts: cfg.hosts.map((h, i) => ({ ...h, nodeId: 1 - i, nodeIdImplicit: true })) };
}

test("the upgrade's premise: a file without node-ids gets ids the other way round from file order", () => {
  const r = parseResourceRes('r0.res', 'resource r0 { device minor 1; disk /dev/sdb; on ha-a { address 10.77.0.11:7789; } on ha-b { address 10.77.0.12:7789; } }\n');
  assert.ok('config' in r, JSON.stringify(r));
  assert.deepEqual(r.config.hosts.map((h) => [h.name, h.nodeId, h.nodeIdImplicit]), [['ha-a', 1, true], ['ha-b', 0, true]]);
});

async function downBoth(p: Pair): Promise<void> {
  await p.a.admin({ cmd: 'secondary' });
  for (const rt of [p.a, p.b]) await rt.down();
}

test('file-order metadata under swapped derived ids: kept with a message; data, the Primary’s standing and the resync bitmap survive', async () => {
  const p = await upToDatePair();
  try {
    const dev = p.a.blockDevice(0);
    const before = Buffer.alloc(BLOCK, 0x41);
    await dev.write(3 * BLOCK, before);
    await waitFor(() => p.b.state.volumes[0]!.stats.received >= BLOCK, 'B received the first write');
    // Apart, A writes two more blocks: its bitmap for B (slot 1) has them, and only them.
    await p.a.admin({ cmd: 'disconnect' });
    await p.b.admin({ cmd: 'disconnect' });
    const apart = [Buffer.alloc(BLOCK, 0x42), Buffer.alloc(BLOCK, 0x43)];
    await dev.write(10 * BLOCK, apart[0]!);
    await dev.write(2000 * BLOCK, apart[1]!);
    await waitFor(() => p.a.state.volumes[0]!.bitmap.weight === 2, 'two blocks out of sync on A');
    await downBoth(p);

    // The upgrade: the same disks, a file without node-ids that drbdadm numbers ha-a 1, ha-b 0.
    const logs: string[] = [];
    const cfgA = derivedSwapped(p.configA);
    const cfgB = derivedSwapped(p.configB);
    p.a = await ResourceRuntime.attach(cfgA, cfgA.hosts[0]!, 'ha-a');
    p.a.on('log', (l) => logs.push(l.text));
    p.b = await ResourceRuntime.attach(cfgB, cfgB.hosts[1]!, 'ha-b');
    assert.deepEqual([p.a.state.nodeId, p.a.state.peerNodeId, p.b.state.nodeId, p.b.state.peerNodeId], [0, 1, 1, 0], 'the metadata numbering is kept on both');
    assert.equal(p.a.snapshot().nodeId, 0);
    await waitFor(() => logs.some((l) => l.includes('keeping that numbering')), 'the message');
    assert.match(logs.find((l) => l.includes('keeping that numbering'))!, /drbdadm derives ha-a 1 and ha-b 0, but the metadata on .* was written as node-id 0 .*write node-id 0 in on ha-a and node-id 1 in on ha-b/);
    assert.equal(p.a.state.volumes[0]!.disk, 'UpToDate');
    assert.equal(p.a.state.volumes[0]!.bitmap.weight, 2, 'the bitmap for the peer is the one written before');

    const received = p.b.state.volumes[0]!.stats.received;
    await p.a.admin({ cmd: 'connect', discardMyData: false });
    await p.b.admin({ cmd: 'connect', discardMyData: false });
    await waitFor(
      () => p.a.state.conn === 'Connected' && p.b.state.volumes[0]!.disk === 'UpToDate' && p.a.state.volumes[0]!.bitmap.weight === 0 && p.b.state.volumes[0]!.repl === 'Established',
      'connected, resynced',
    );
    assert.equal(p.b.state.volumes[0]!.stats.received - received, 2 * BLOCK, 'only the two blocks written apart moved: no full resync');
    assert.deepEqual(await readRange(p.diskB, 3 * BLOCK, BLOCK), before);
    assert.deepEqual(await readRange(p.diskB, 10 * BLOCK, BLOCK), apart[0]);
    assert.deepEqual(await readRange(p.diskB, 2000 * BLOCK, BLOCK), apart[1]);
    // A is still the node with the newest data: promoted without force, and it replicates.
    await p.a.admin({ cmd: 'primary', force: false });
    const after = Buffer.alloc(BLOCK, 0x44);
    await p.a.blockDevice(0).write(5 * BLOCK, after);
    await waitFor(() => p.b.state.volumes[0]!.stats.received - received >= 3 * BLOCK, 'B received the write after the upgrade');
    assert.deepEqual(await readRange(p.diskB, 5 * BLOCK, BLOCK), after);
  } finally {
    await p.close();
  }
});

test('explicit node-ids that contradict the metadata: attach refused naming both and the fix; the disk is untouched', async () => {
  const p = await upToDatePair();
  try {
    await downBoth(p);
    const swapped: ResourceConfig = { ...p.configA, hosts: p.configA.hosts.map((h, i) => ({ ...h, nodeId: 1 - i })) };
    const image = await readRange(p.diskA, 0, 64 * 1024);
    await assert.rejects(ResourceRuntime.attach(swapped, swapped.hosts[0]!, 'ha-a'), /ambiguous node id: meta-data: 0, config: 1 — .*give ha-a node-id 0 in the file on both hosts.*else run create-md r0/);
    assert.deepEqual(await readRange(p.diskA, 0, 64 * 1024), image);
    p.a = await ResourceRuntime.attach(p.configA, p.configA.hosts[0]!, 'ha-a');
    p.b = await ResourceRuntime.attach(p.configB, p.configB.hosts[1]!, 'ha-b');
  } finally {
    await p.close();
  }
});
