// Replication between two agent daemons in the two lab hosts (network namespaces, real TCP
// between 10.77.N.11 and .12), written to through the Primary's iSCSI target by qemu-io.
// engine-semantics.md acceptance cases 1, 2, 12 and 14; a write stream during the initial
// sync; a wrong shared secret (Connecting, then connected once fixed); the Primary killed mid-write under protocol C.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createLab, describeLab, type Lab } from '../lab/lab.js';
import { allocatedBytes } from '../support/files.js';
import { disk, installResource, jsonWhen, labAgent, labResourceYaml, peerDevice, qemuIo, readRange, sizeBytes, type LabAgent } from '../support/lab-agents.js';
import { setTimeout as sleep } from 'node:timers/promises';

const uuidBase = (hex: string) => BigInt('0x' + hex) >> 1n;

describeLab('replication between two daemons in the lab', () => {
  let lab: Lab;
  let a: LabAgent;
  let b: LabAgent;
  const url = (name: string, port = 3260) => `iscsi://${lab.a.address}:${port}/iqn.2026-11.com.example:${name}/0`;
  const dataBytes = async (name: string) => sizeBytes(await a.json(name));

  before(async () => {
    lab = await createLab({ sshd: false });
    a = labAgent(lab.a);
    b = labAgent(lab.b);
    const r0 = labResourceYaml(lab, { name: 'r0', port: 7790, size: '64MiB', maxRate: '8MiB/s' });
    const r1 = labResourceYaml(lab, { name: 'r1', port: 7791, iscsiPort: 3261 });
    const r2 = labResourceYaml(lab, { name: 'r2', port: 7792, secretA: 'one-secret-value', secretB: 'another-secret-value', iscsiPort: 3262 });
    for (const [agent, side] of [[a, 'a'], [b, 'b']] as const) {
      await installResource(agent, 'r0', r0[side]);
      await installResource(agent, 'r1', r1[side]);
      await installResource(agent, 'r2', r2[side]);
      await agent.start();
    }
  });
  after(async () => {
    await lab?.destroy();
  });

  test('case 1: initial sync after primary --force, with writes during the sync', async () => {
    for (const agent of [a, b]) {
      assert.equal((await agent.cli('create-md', 'r0')).code, 0);
      assert.equal((await agent.cli('up', 'r0')).code, 0);
    }
    const before = await jsonWhen(a, 'r0', (s) => s.connections[0]!['connection-state'] === 'Connected', 'Connected');
    assert.equal(disk(before), 'Inconsistent');
    assert.equal(peerDevice(before)['peer-disk-state'], 'Inconsistent');
    assert.equal(peerDevice(before)['replication-state'], 'Established', 'both Inconsistent: no sync');
    const text = (await a.cli('status', 'r0')).stdout;
    assert.equal(text, 'r0 role:Secondary\n  disk:Inconsistent\n  ha-b role:Secondary\n    peer-disk:Inconsistent\n');

    assert.equal((await a.cli('primary', '--force', 'r0')).code, 0);
    const syncing = await jsonWhen(a, 'r0', (s) => peerDevice(s)['replication-state'] === 'SyncSource', 'SyncSource');
    assert.equal(disk(syncing), 'UpToDate');
    assert.match((await a.cli('status', 'r0')).stdout, /replication:SyncSource peer-disk:Inconsistent done:\d+\.\d\d/);
    assert.match((await b.cli('status', 'r0')).stdout, /disk:Inconsistent\n {2}ha-a role:Primary\n {4}replication:SyncTarget peer-disk:UpToDate done:/);

    // Application writes during the sync: never overwritten by older resync data.
    assert.equal((await a.cli('target', 'start', 'r0')).code, 0);
    const size = await dataBytes('r0');
    const offsets = [0, 1 << 20, size / 2, size - (1 << 20)];
    const w = qemuIo(url('r0'), offsets.map((o, i) => `write -P 0x${(0x41 + i).toString(16)} ${o} 1M`));
    assert.equal(w.code, 0, w.out);

    const done = await jsonWhen(b, 'r0', (s) => disk(s) === 'UpToDate', 'B UpToDate', 30000);
    // The bitmap UUID goes once B has confirmed the end of the resync (a moment after A sees it UpToDate).
    const fa = await jsonWhen(a, 'r0', (s) => peerDevice(s)['peer-disk-state'] === 'UpToDate' && /^0+$/.test(s.devices[0]!.uuids.bitmap['1'] ?? ''), 'A sees peer UpToDate');
    assert.equal(uuidBase(fa.devices[0]!.uuids.current), uuidBase(done.devices[0]!.uuids.current), 'equal current UUIDs');
    assert.equal(fa.devices[0]!.uuids.bitmap['1'], '0000000000000000', "A's bitmap UUID for B is 0");
    const da = await readRange(a.path('/var/lib/drbd-tui/disks/r0-0.img'), 0, size);
    const db = await readRange(b.path('/var/lib/drbd-tui/disks/r0-0.img'), 0, size);
    assert.ok(da.equals(db), 'both data areas identical');
    offsets.forEach((o, i) => assert.ok(db.subarray(o, o + (1 << 20)).every((x) => x === 0x41 + i), `pattern ${i} on B`));
  });

  test('case 12: protocol C: with the peer stalled a write waits until the peer is declared dead', async () => {
    // Stall the peer: every process of host B but its init stops (SIGSTOP), sockets stay open.
    const stopped = (await lab.b.pids()).filter((p) => p !== lab.b.initPid);
    for (const p of stopped) process.kill(p, 'SIGSTOP');
    try {
      const t0 = Date.now();
      const w = qemuIo(url('r0'), ['write -P 0x77 8M 64k']);
      const elapsed = Date.now() - t0;
      assert.equal(w.code, 0, w.out);
      assert.ok(elapsed >= 1500, `the write completed after ${elapsed} ms, before the stalled peer could have acknowledged it`);
      const s = await jsonWhen(a, 'r0', (x) => peerDevice(x)['out-of-sync'] >= 64, 'the unacknowledged write marked out of sync');
      assert.notEqual(s.connections[0]!['connection-state'], 'Connected');
    } finally {
      for (const p of stopped) process.kill(p, 'SIGCONT');
    }
    const back = await jsonWhen(a, 'r0', (x) => x.connections[0]!['connection-state'] === 'Connected' && peerDevice(x)['out-of-sync'] === 0 && peerDevice(x)['replication-state'] === 'Established', 'reconnect and resync', 30000);
    assert.equal(peerDevice(back)['peer-disk-state'], 'UpToDate');
    const got = await readRange(b.path('/var/lib/drbd-tui/disks/r0-0.img'), 8 << 20, 65536);
    assert.ok(got.every((x) => x === 0x77), 'the write reached B by resync');
  });

  test('a discard through the Primary\'s target (UNMAP) gives the blocks back on both hosts', async () => {
    const files = [a, b].map((agent) => agent.path('/var/lib/drbd-tui/disks/r0-0.img'));
    const allocated = () => Promise.all(files.map(allocatedBytes));
    const w = qemuIo(url('r0'), ['write -P 0x5a 16M 16M']);
    assert.equal(w.code, 0, w.out);
    const before = await allocated();
    const d = qemuIo(url('r0'), ['discard 16M 16M']);
    assert.equal(d.code, 0, d.out);
    // Protocol C: when the UNMAP completes, both disks have done it.
    const after = await allocated();
    after.forEach((n, i) => assert.ok(n <= before[i]! - (15 << 20), `${files[i]}: ${before[i]} -> ${n} bytes allocated`));
    for (const f of files) assert.ok((await readRange(f, 16 << 20, 16 << 20)).every((x) => x === 0), `${f} reads zeros`);
    const r = qemuIo(url('r0'), ['read -P 0 16M 16M']);
    assert.equal(r.code, 0, r.out);
    assert.doesNotMatch(r.out, /Pattern verification failed/);
    assert.equal(peerDevice(await a.json('r0'))['out-of-sync'], 0, 'replicated, nothing to resync');
  });

  test('case 2: new-current-uuid --clear-bitmap skips the initial sync', async () => {
    for (const agent of [a, b]) {
      assert.equal((await agent.cli('create-md', 'r1')).code, 0);
      assert.equal((await agent.cli('up', 'r1')).code, 0);
    }
    await jsonWhen(a, 'r1', (s) => s.connections[0]!['connection-state'] === 'Connected', 'Connected');
    assert.equal((await a.cli('new-current-uuid', '--clear-bitmap', 'r1')).code, 0);
    const sb = await jsonWhen(b, 'r1', (s) => disk(s) === 'UpToDate', 'B UpToDate');
    const sa = await a.json('r1');
    assert.equal(disk(sa), 'UpToDate');
    assert.equal(peerDevice(sa)['replication-state'], 'Established');
    assert.equal(peerDevice(sb).received, 0, 'no data moved');
    assert.equal(peerDevice(sa).sent, 0, 'no data moved');
    assert.equal(uuidBase(sa.devices[0]!.uuids.current), uuidBase(sb.devices[0]!.uuids.current));
  });

  test('case 14: graceful Secondary shutdown outdates it; promoting it then needs --force', async () => {
    assert.equal((await a.cli('primary', 'r1')).code, 0);
    assert.equal((await b.cli('down', 'r1')).code, 0);
    await jsonWhen(a, 'r1', (s) => peerDevice(s)['peer-disk-state'] === 'Outdated', 'A shows peer Outdated');
    assert.equal((await a.cli('status', 'r1')).stdout, 'r1 role:Primary\n  disk:UpToDate\n  ha-b connection:Connecting\n    peer-disk:Outdated\n');
    assert.equal((await b.cli('attach', 'r1')).code, 0);
    assert.equal(disk(await b.json('r1')), 'Outdated');
    const refused = await b.cli('primary', 'r1');
    assert.equal(refused.code, 1);
    assert.equal(refused.stderr, 'r1: State change failed: Need access to UpToDate data\n');
    assert.equal((await b.cli('connect', 'r1')).code, 0);
    await jsonWhen(b, 'r1', (s) => disk(s) === 'UpToDate' && s.connections[0]!['connection-state'] === 'Connected', 'B back UpToDate');
  });

  test('a wrong shared secret: Connecting with "authentication failed from ADDR", never StandAlone; connects once the secret is fixed', async () => {
    for (const agent of [a, b]) {
      assert.equal((await agent.cli('create-md', 'r2')).code, 0);
      assert.equal((await agent.cli('up', 'r2')).code, 0);
    }
    const states = new Map<LabAgent, Set<string>>([[a, new Set()], [b, new Set()]]);
    for (const [agent, peer] of [[a, lab.b], [b, lab.a]] as const) {
      const s = await jsonWhen(agent, 'r2', (x) => x.connections[0]!['last-error'] !== undefined, 'an authentication problem', 15000);
      assert.equal(s.connections[0]!['connection-state'], 'Connecting');
      assert.equal(s.connections[0]!['last-error'], `authentication failed from ${peer.address}`);
      assert.equal(peerDevice(s).received, 0);
      assert.match((await agent.cli('status', 'r2')).stdout, /connection:Connecting/);
      assert.doesNotMatch(agent.log.join(''), /one-secret-value|another-secret-value/, 'secrets never logged');
    }
    // Several more attempts go by (backoff tops out at 5 s): still Connecting, never StandAlone.
    const until = Date.now() + 6000;
    while (Date.now() < until) {
      for (const agent of [a, b]) states.get(agent)!.add((await agent.json('r2')).connections[0]!['connection-state'] as string);
      await sleep(250);
    }
    for (const seen of states.values()) assert.deepEqual([...seen], ['Connecting']);
    // The secret fixed on B (its resource re-read by down/up); A, left alone, connects by itself.
    const fixed = labResourceYaml(lab, { name: 'r2', port: 7792, secretA: 'one-secret-value', iscsiPort: 3262 });
    await installResource(b, 'r2', fixed.b);
    assert.equal((await b.cli('down', 'r2')).code, 0);
    assert.equal((await b.cli('up', 'r2')).code, 0);
    const s = await jsonWhen(a, 'r2', (x) => x.connections[0]!['connection-state'] === 'Connected', 'Connected', 15000);
    assert.equal(s.connections[0]!['last-error'], undefined);
  });

  test('protocol C: the Primary killed mid-write loses no acknowledged write on the survivor', async () => {
    // A stream of distinct 4 KiB writes; qemu-io prints each one after it completed.
    const cmds = Array.from({ length: 400 }, (_, i) => `write -P 0x${((i % 250) + 1).toString(16)} ${(16 << 20) + i * 4096} 4k`);
    const child = spawn('stdbuf', ['-oL', 'qemu-io', '-f', 'raw', ...cmds.flatMap((c) => ['-c', c]), url('r0')], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
    const exited = new Promise((r) => child.once('exit', r));
    while ((out.match(/^wrote /gm) ?? []).length < 50) await sleep(5);
    await lab.a.powerOff();
    const completed = (out.match(/^wrote 4096\/4096 bytes at offset (\d+)/gm) ?? []).map((l) => Number(/offset (\d+)/.exec(l)![1]));
    child.kill('SIGKILL');
    await exited;
    assert.ok(completed.length >= 50);

    // Failover: the survivor is UpToDate and may be promoted without --force.
    await jsonWhen(b, 'r0', (s) => s.connections[0]!['connection-state'] !== 'Connected', 'B notices the loss', 15000);
    assert.equal((await b.cli('primary', 'r0')).code, 0);
    const data = await readRange(b.path('/var/lib/drbd-tui/disks/r0-0.img'), 16 << 20, 400 * 4096);
    for (const off of completed) {
      const i = (off - (16 << 20)) / 4096;
      const block = data.subarray(i * 4096, (i + 1) * 4096);
      assert.ok(block.every((x) => x === (i % 250) + 1), `acknowledged write ${i} at offset ${off} is on the survivor`);
    }
    // And the initiator reads the same patterns from the survivor's own target.
    assert.equal((await b.cli('target', 'start', 'r0')).code, 0);
    const survivor = `iscsi://${lab.b.address}:3260/iqn.2026-11.com.example:r0/0`;
    const reads = completed.slice(0, 40).map((off) => `read -P 0x${((((off - (16 << 20)) / 4096) % 250) + 1).toString(16)} ${off} 4k`);
    const r = qemuIo(survivor, [...reads, 'read -P 0x41 0 1M']);
    assert.equal(r.code, 0, r.out);
    assert.doesNotMatch(r.out, /verification failed/i, r.out);
  });
});
