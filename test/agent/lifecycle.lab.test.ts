// verify, invalidate and resize between two agent daemons in the lab, through the agent CLI the
// console's keys run: verify's result in status --json, invalidate's full resync, and a resize
// refused while only one backing disk grew, then done once both did, with the data written
// before it read back through iSCSI after it, on the other host after a switchover.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { open, truncate } from 'node:fs/promises';
import { createLab, describeLab, type Lab, type LabHost } from '../lab/lab.js';
import { computeLayout } from '../../agent/engine/md-layout.js';
import { freshPair, inSync, installResource, jsonWhen, labAgent, labResourceYaml, peerDevice, qemuIo, readRange, sizeBytes, type LabAgent } from '../support/lab-agents.js';

const MiB = 1024 * 1024;

describeLab('lifecycle verbs: verify, invalidate, resize', () => {
  let lab: Lab;
  let a: LabAgent;
  let b: LabAgent;
  const name = 'lc';
  const url = (host: LabHost) => `iscsi://${host.address}:3271/iqn.2026-11.com.example:${name}/0`;
  const img = (agent: LabAgent) => agent.path(`/var/lib/drbd-tui/disks/${name}-0.img`);
  /** Waits for the verify run to end and returns what it found, KiB. */
  const verified = async (agent: LabAgent) =>
    peerDevice(await jsonWhen(agent, name, (s) => peerDevice(s)['replication-state'] === 'Established' && peerDevice(s)['verify-mismatch'] !== undefined, 'verify to end', 30000))['verify-mismatch']!;

  before(async () => {
    lab = await createLab({ sshd: false });
    a = labAgent(lab.a);
    b = labAgent(lab.b);
    const yaml = labResourceYaml(lab, { name, port: 7796, iscsiPort: 3271, size: '24MiB' });
    await installResource(a, name, yaml.a);
    await installResource(b, name, yaml.b);
    await a.start();
    await b.start();
    await freshPair(a, b, name);
  });
  after(async () => {
    await lab?.destroy();
  });

  test('verify reports 0 KiB on equal copies and the KiB changed behind the engine\'s back; invalidate resyncs all of it', async () => {
    const w = qemuIo(url(lab.a), ['write -P 0x31 0 4M']);
    assert.equal(w.code, 0, w.out);
    assert.equal((await a.cli('verify', name)).code, 0);
    assert.equal(await verified(a), 0, 'equal copies');

    // 8 KiB changed on B's disk behind the engine's back.
    const f = await open(img(b), 'r+');
    await f.write(Buffer.alloc(8192, 0xee), 0, 8192, 2 * MiB);
    await f.close();
    assert.equal((await a.cli('verify', name)).code, 0);
    assert.equal(await verified(a), 8, 'the two changed blocks');

    const refused = await a.cli('invalidate', name);
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /Refusing to invalidate a Primary/);
    const size = sizeBytes(await a.json(name));
    const before = peerDevice(await b.json(name)).received;
    assert.equal((await b.cli('invalidate', name)).code, 0);
    const sb = await inSync(b, name, 'B in sync after invalidate', 60000);
    assert.ok(peerDevice(sb).received - before >= size / 1024, `a full resync: ${peerDevice(sb).received - before} KiB of ${size / 1024}`);
    const [da, db] = await Promise.all([readRange(img(a), 0, size), readRange(img(b), 0, size)]);
    assert.ok(da.equals(db), 'both data areas identical');
  });

  test('resize: refused while only this disk grew, then both grow; the new size in status --json, data before and after read back on both', async () => {
    await inSync(a, name, 'A in sync');
    const w = qemuIo(url(lab.a), ['write -P 0x41 1M 2M']);
    assert.equal(w.code, 0, w.out);
    const oldSize = sizeBytes(await a.json(name));
    const none = await a.cli('resize', name);
    assert.equal(none.code, 1);
    assert.match(none.stderr, /no more room: grow both backing disks first/);

    await truncate(img(a), 40 * MiB);
    const smaller = await a.cli('resize', name);
    assert.equal(smaller.code, 1, smaller.stdout);
    assert.match(smaller.stderr, /State change failed: The peer's disk is smaller: ha-b's backing disk of volume 0 leaves \d+ KiB for data, \d+ KiB asked; grow it first/);
    assert.equal(sizeBytes(await a.json(name)), oldSize, 'nothing changed');

    await truncate(img(b), 40 * MiB);
    const ok = await a.cli('resize', name);
    assert.equal(ok.code, 0, ok.stderr);
    const want = computeLayout(40 * MiB).dataBytes;
    assert.equal(ok.stdout, `${name}/0: ${oldSize / 1024} KiB -> ${want / 1024} KiB\n`);
    for (const agent of [a, b]) assert.equal(sizeBytes(await inSync(agent, name, 'in sync after resize')), want, agent.host.name);

    const grown = qemuIo(url(lab.a), ['read -P 0x41 1M 2M', `write -P 0x42 ${want - 4 * MiB} 4M`, 'read -P 0x31 0 1M']);
    assert.equal(grown.code, 0, grown.out);
    assert.doesNotMatch(grown.out, /verification failed/i, grown.out);
    await inSync(b, name, 'B in sync');

    // Switchover: everything read through B's own target.
    assert.equal((await a.cli('target', 'stop', name)).code, 0);
    assert.equal((await a.cli('secondary', name)).code, 0);
    assert.equal((await b.cli('primary', name)).code, 0);
    assert.equal((await b.cli('target', 'start', name)).code, 0);
    const r = qemuIo(url(lab.b), ['read -P 0x31 0 1M', 'read -P 0x41 1M 2M', `read -P 0x42 ${want - 4 * MiB} 4M`]);
    assert.equal(r.code, 0, r.out);
    assert.doesNotMatch(r.out, /verification failed/i, r.out);

    // Down and up again: both find their metadata at the new end.
    assert.equal((await b.cli('target', 'stop', name)).code, 0);
    assert.equal((await b.cli('secondary', name)).code, 0);
    for (const agent of [b, a]) {
      assert.equal((await agent.cli('down', name)).code, 0);
      const up = await agent.cli('up', name);
      assert.equal(up.code, 0, up.stderr);
    }
    for (const agent of [a, b]) assert.equal(sizeBytes(await inSync(agent, name, 'in sync after down/up')), want, agent.host.name);
  });
});
