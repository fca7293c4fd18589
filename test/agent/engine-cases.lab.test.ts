// engine-semantics.md acceptance cases 3, 4, 5, 6, 8, 9, 10, 11 and 13, and the seed article's
// trap (a blank replacement disk on the former Primary), between two agent daemons in the lab
// hosts, with real link cuts (cutLink) and real power loss (powerOff: kill -9 of every process
// of a host). Data goes in through the Primary's iSCSI target (qemu-io) and is checked by
// reading the backing files of both hosts. Each case has its own resource (ports 78xx/33xx);
// the crash cases run last because a power cycle restarts every resource of the host.
// Counters (`received`, `sent`, `out-of-sync`) are KiB, as drbdsetup prints them.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { createLab, describeLab, type Lab, type LabHost } from '../lab/lab.js';
import { conn, disconnected, disk, freshPair, inSync, installResource, jsonWhen, labAgent, labResourceYaml, peerDevice, qemuIo, readRange, sizeBytes, type LabAgent, type StatusJson } from '../support/lab-agents.js';
import { setTimeout as sleep } from 'node:timers/promises';

const KiB = 1024;
const MiB = 1024 * 1024;
const uuids = (s: StatusJson) => s.devices[0]!.uuids;
const uuidBase = (hex: string) => BigInt('0x' + hex) >> 1n;

/**
 * A stream of distinct 4 KiB writes (block i gets byte (i % 250) + 1); qemu-io prints each one
 * after it completed, so `completed()` lists the writes acknowledged to the initiator.
 */
function writeLoad(url: string, base: number, count: number) {
  const cmds = Array.from({ length: count }, (_, i) => `write -P 0x${((i % 250) + 1).toString(16)} ${base + i * 4096} 4k`);
  const child = spawn('stdbuf', ['-oL', 'qemu-io', '-f', 'raw', ...cmds.flatMap((c) => ['-c', c]), url], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
  const exited = new Promise((r) => child.once('exit', r));
  return {
    async waitFor(n: number) {
      const t0 = Date.now();
      while ((out.match(/^wrote /gm) ?? []).length < n) {
        if (Date.now() - t0 > 30000) throw new Error(`write load: fewer than ${n} writes in 30 s: ${out.slice(-500)}`);
        await sleep(5);
      }
    },
    completed: () => (out.match(/^wrote 4096\/4096 bytes at offset (\d+)/gm) ?? []).map((l) => Number(/offset (\d+)/.exec(l)![1])),
    async stop() {
      child.kill('SIGKILL');
      await exited;
    },
  };
}

function checkAcknowledged(data: Buffer, base: number, completed: number[], skip: (offset: number) => boolean, where: string): void {
  for (const off of completed) {
    if (skip(off)) continue;
    const i = (off - base) / 4096;
    const block = data.subarray(off - base, off - base + 4096);
    assert.ok(block.every((x) => x === (i % 250) + 1), `acknowledged write ${i} at offset ${off} is on ${where}`);
  }
}

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

describeLab('engine acceptance cases between two daemons in the lab', () => {
  let lab: Lab;
  let a: LabAgent;
  let b: LabAgent;
  const names = ['c3', 'c5', 'c8', 'c9', 'c10', 'c11', 'c13', 'trap'] as const;
  type Name = (typeof names)[number];
  const index = (n: Name) => names.indexOf(n);
  const iscsiPort = (n: Name) => 3301 + index(n);
  const url = (host: LabHost, n: Name) => `iscsi://${host.address}:${iscsiPort(n)}/iqn.2026-11.com.example:${n}/0`;
  const img = (agent: LabAgent, n: Name) => agent.path(`/var/lib/drbd-tui/disks/${n}-0.img`);
  const data = async (agent: LabAgent, n: Name) => readRange(img(agent, n), 0, sizeBytes(await agent.json(n)));


  /** A daemon again after powerOn; the sockets of the killed one are still on "disk". */
  async function restart(agent: LabAgent): Promise<void> {
    await rm(agent.path('/run/drbd-tui/agent.sock'), { force: true });
    await rm(agent.path('/run/drbd-tui/agent.ro.sock'), { force: true });
    await agent.start();
  }

  // Slow syncs where a test acts while one runs.
  const rates: Partial<Record<Name, string>> = { c13: '4MiB/s', trap: '8MiB/s' };

  before(async () => {
    lab = await createLab({ sshd: false });
    a = labAgent(lab.a);
    b = labAgent(lab.b);
    for (const n of names) {
      const yaml = labResourceYaml(lab, { name: n, port: 7801 + index(n), iscsiPort: iscsiPort(n), size: '32MiB', maxRate: rates[n] ?? '1GiB/s' });
      // The undo journal's default maximum (a quarter of the volume, 8 MiB here) is smaller than
      // the two hot extents a crash can leave: the resync would wait for the operator.
      const journal = (text: string) => text.replace('  ping-timeout: 2\n', '  ping-timeout: 2\n  undo-journal-max: 16MiB\n');
      await installResource(a, n, journal(yaml.a));
      await installResource(b, n, journal(yaml.b));
    }
    await a.start();
    await b.start();
  });
  after(async () => {
    await lab?.destroy();
  });

  // 37 scattered blocks, none adjacent: each one is exactly one bit of the bitmap.
  const scattered = Array.from({ length: 37 }, (_, i) => (i * 53 + 1) * 4096);

  test('case 3: secondary outage: bitmap sync of exactly the blocks written while apart', async () => {
    await freshPair(a, b, 'c3');
    const s0 = await a.json('c3');
    const received0 = peerDevice(await b.json('c3')).received;
    await lab.b.cutLink();
    try {
      await disconnected(a, 'c3');
      const w = qemuIo(url(lab.a, 'c3'), scattered.map((o, i) => `write -P 0x${(0x10 + i).toString(16)} ${o} 4k`));
      assert.equal(w.code, 0, w.out);
      const apart = await a.json('c3');
      assert.equal(peerDevice(apart)['out-of-sync'], scattered.length * 4, 'one bit per written block');
      assert.notEqual(uuidBase(uuids(apart).current), uuidBase(uuids(s0).current), 'the first write while apart started a new generation');
      assert.equal(uuidBase(uuids(apart).bitmap['1']!), uuidBase(uuids(s0).current), "A's bitmap UUID for B is the old current UUID");
    } finally {
      await lab.b.restoreLink();
    }
    const sa = await inSync(a, 'c3', 'A back in sync');
    const sb = await inSync(b, 'c3', 'B back in sync');
    assert.equal(peerDevice(sb).received - received0, scattered.length * 4, 'B received exactly the k written blocks');
    assert.equal(uuids(sa).bitmap['1'], '0000000000000000', "A's bitmap UUID back to 0");
    assert.ok(uuids(sa).history.some((h) => uuidBase(h) === uuidBase(uuids(s0).current)), 'the old bitmap UUID is in the history');
    assert.equal(uuidBase(uuids(sa).current), uuidBase(uuids(sb).current));
    const da = await data(a, 'c3');
    const db = await data(b, 'c3');
    assert.ok(da.equals(db), 'both data areas identical');
    scattered.forEach((o, i) => assert.ok(db.subarray(o, o + 4096).every((x) => x === 0x10 + i), `block ${i} on B`));
  });

  test('case 4: no writes, no new UUID: reconnect and promotion while alone cause no sync and no split brain', async () => {
    const before = [await a.json('c3'), await b.json('c3')];
    const received0 = peerDevice(before[1]!).received;
    // Disconnect and reconnect without writes.
    await lab.b.cutLink();
    try {
      await disconnected(a, 'c3');
      await disconnected(b, 'c3');
    } finally {
      await lab.b.restoreLink();
    }
    await inSync(a, 'c3', 'A reconnected');
    // B promoted while alone (A stays Primary), no writes, demoted again before the link returns.
    await lab.b.cutLink();
    try {
      await disconnected(b, 'c3');
      assert.equal((await b.cli('primary', 'c3')).code, 0, 'B is UpToDate and alone: promotion allowed');
      assert.equal((await b.json('c3')).role, 'Primary');
      assert.equal((await b.cli('secondary', 'c3')).code, 0);
    } finally {
      await lab.b.restoreLink();
    }
    const sa = await inSync(a, 'c3', 'A reconnected after the promotion of B');
    const sb = await inSync(b, 'c3', 'B reconnected');
    for (const [i, s] of [sa, sb].entries()) {
      assert.equal(conn(s)['split-brain'], false);
      assert.equal(uuidBase(uuids(s).current), uuidBase(uuids(before[i]!).current), 'no new current UUID');
    }
    assert.equal(peerDevice(sb).received, received0, 'no data moved');

    // Again, but A writes while B is Primary without writes: a plain bitmap sync A→B, because
    // B's promotion alone started no generation.
    await lab.b.cutLink();
    try {
      await disconnected(a, 'c3');
      await disconnected(b, 'c3');
      assert.equal((await b.cli('primary', 'c3')).code, 0);
      assert.equal((await b.cli('secondary', 'c3')).code, 0);
      const w = qemuIo(url(lab.a, 'c3'), ['write -P 0x44 12M 4k']);
      assert.equal(w.code, 0, w.out);
    } finally {
      await lab.b.restoreLink();
    }
    await inSync(a, 'c3', 'A in sync after writing alone');
    const sb2 = await inSync(b, 'c3', 'B in sync');
    assert.equal(conn(sb2)['split-brain'], false);
    assert.equal(uuidBase(uuids(sb2).current), uuidBase(uuids(await a.json('c3')).current));
    assert.equal(peerDevice(sb2).received - received0, 4, 'exactly the one block A wrote');
    assert.ok((await readRange(img(b, 'c3'), 12 * MiB, 4096)).every((x) => x === 0x44));
  });

  test('case 5: split brain: both StandAlone, reported loudly, no data changed', async () => {
    await freshPair(a, b, 'c5');
    // The peer link and the test's route to a host are one link: write on A while B's link is
    // cut, then cut A's and restore B's to write on B, so the nodes never meet in between.
    let hashes: string[];
    await lab.b.cutLink();
    try {
      await disconnected(a, 'c5');
      await disconnected(b, 'c5');
      assert.equal(disk(await b.json('c5')), 'UpToDate');
      assert.equal((await b.cli('primary', 'c5')).code, 0);
      const w = qemuIo(url(lab.a, 'c5'), ['write -P 0xa1 0 64k', 'write -P 0xa2 4M 4k']);
      assert.equal(w.code, 0, w.out);
      await lab.a.cutLink();
    } finally {
      await lab.b.restoreLink();
    }
    try {
      assert.equal((await b.cli('target', 'start', 'c5')).code, 0);
      const w = qemuIo(url(lab.b, 'c5'), ['write -P 0xb1 0 4k', 'write -P 0xb2 8M 4k']);
      assert.equal(w.code, 0, w.out);
      hashes = [sha(await data(a, 'c5')), sha(await data(b, 'c5'))];
    } finally {
      if (lab.a.linkCut) await lab.a.restoreLink();
    }
    for (const agent of [a, b]) {
      const s = await jsonWhen(agent, 'c5', (x) => conn(x)['connection-state'] === 'StandAlone' && conn(x)['split-brain'], 'StandAlone with split brain', 20000);
      assert.match(conn(s)['last-error'] ?? '', /split brain/);
      assert.match((await agent.cli('status', 'c5')).stdout, /split-brain:yes/);
    }
    await sleep(1000);
    assert.equal(sha(await data(a, 'c5')), hashes[0], 'no data changed on A');
    assert.equal(sha(await data(b, 'c5')), hashes[1], 'no data changed on B');
  });

  test('case 6: manual recovery with --discard-my-data: union bitmap sync, the victim gets the survivor data', async () => {
    const received0 = peerDevice(await b.json('c5')).received;
    assert.equal((await b.cli('target', 'stop', 'c5')).code, 0);
    assert.equal((await b.cli('secondary', 'c5')).code, 0);
    assert.equal((await b.cli('connect', '--discard-my-data', 'c5')).code, 0);
    assert.equal((await a.cli('connect', 'c5')).code, 0);
    const sa = await inSync(a, 'c5', 'A in sync with the victim');
    const sb = await inSync(b, 'c5', 'B in sync');
    assert.equal(conn(sa)['split-brain'], false);
    assert.equal(conn(sb)['split-brain'], false);
    const moved = (peerDevice(sb).received - received0) * KiB;
    // The union of both bitmaps: A's 64k (covering B's block at 0), A's block at 4M, B's at 8M.
    assert.ok(moved >= 64 * KiB + 2 * 4096 && moved <= 1 * MiB, `a bitmap sync, not a full one: ${moved} bytes moved`);
    const da = await data(a, 'c5');
    const db = await data(b, 'c5');
    assert.ok(da.equals(db), 'the victim has the survivor data');
    assert.ok(db.subarray(0, 65536).every((x) => x === 0xa1));
    assert.ok(db.subarray(8 * MiB, 8 * MiB + 4096).every((x) => x === 0), "B's own write is gone");
  });

  test('case 8: unrelated data: both StandAlone, no sync', async () => {
    for (const agent of [a, b]) {
      assert.equal((await agent.cli('create-md', 'c8')).code, 0);
      assert.equal((await agent.cli('attach', 'c8')).code, 0);
      assert.equal((await agent.cli('primary', '--force', 'c8')).code, 0, 'forced alone');
      assert.equal((await agent.cli('secondary', 'c8')).code, 0);
    }
    for (const agent of [a, b]) assert.equal((await agent.cli('connect', 'c8')).code, 0);
    for (const agent of [a, b]) {
      const s = await jsonWhen(agent, 'c8', (x) => conn(x)['connection-state'] === 'StandAlone' && /unrelated data/.test(conn(x)['last-error'] ?? ''), 'StandAlone, unrelated data', 15000);
      assert.equal(peerDevice(s).received, 0);
      assert.equal(peerDevice(s).sent, 0);
      assert.equal(disk(s), 'UpToDate');
    }
  });

  test('case 13: disk replacement: full sync to the new disk, no promotion before UpToDate, an interrupted sync resumes', async () => {
    await freshPair(a, b, 'c13');
    const size = sizeBytes(await a.json('c13'));
    const offsets = [0, 5 * MiB, size / 2, size - MiB];
    const w = qemuIo(url(lab.a, 'c13'), offsets.map((o, i) => `write -P 0x${(0x31 + i).toString(16)} ${o} 1M`));
    assert.equal(w.code, 0, w.out);
    assert.equal((await b.cli('down', 'c13')).code, 0);
    await rm(img(b, 'c13'));
    assert.equal((await b.cli('create-md', 'c13')).code, 0);
    assert.equal((await b.cli('up', 'c13')).code, 0);
    const syncing = await jsonWhen(b, 'c13', (s) => peerDevice(s)['replication-state'] === 'SyncTarget', 'B SyncTarget');
    assert.equal(disk(syncing), 'Inconsistent');
    // The sync started with A Primary; with A Secondary, B's own disk is what refuses it.
    assert.equal((await a.cli('target', 'stop', 'c13')).code, 0);
    assert.equal((await a.cli('secondary', 'c13')).code, 0);
    const refused = await b.cli('primary', 'c13');
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /Need access to UpToDate data/);
    assert.equal((await b.cli('primary', '--force', 'c13')).code, 1, 'not even forced over a peer with data');

    // At 4 MiB/s the 32 MiB sync takes ~8 s: interrupt it after a quarter.
    const cut = await jsonWhen(b, 'c13', (s) => peerDevice(s).received * KiB >= size / 4, 'a quarter synced', 30000);
    await lab.b.cutLink();
    let atCut: StatusJson;
    try {
      atCut = await disconnected(b, 'c13');
      assert.equal(disk(atCut), 'Inconsistent');
    } finally {
      await lab.b.restoreLink();
    }
    const left = peerDevice(atCut)['out-of-sync'] * KiB;
    assert.ok(left > 0 && left < size, `${left} bytes left at the cut`);
    const done = await jsonWhen(b, 'c13', (s) => disk(s) === 'UpToDate' && peerDevice(s)['replication-state'] === 'Established', 'B UpToDate', 60000);
    const total = peerDevice(done).received * KiB;
    const afterCut = total - peerDevice(atCut).received * KiB;
    // Resumed from the bitmap: what was left, plus what was in flight when the link dropped.
    assert.ok(afterCut <= left + 4 * MiB, `after the cut ${afterCut} bytes moved for ${left} left`);
    assert.ok(total < size + 4 * MiB, `not restarted: ${total} bytes in all for ${size} (cut at ${peerDevice(cut).received} KiB)`);
    const da = await data(a, 'c13');
    const db = await data(b, 'c13');
    assert.ok(da.equals(db), 'the new disk has the data');
    offsets.forEach((o, i) => assert.ok(db.subarray(o, o + MiB).every((x) => x === 0x31 + i), `pattern ${i} on the new disk`));
  });

  test('case 13: a SyncTarget that loses power mid-sync resumes from its bitmap', async () => {
    const size = sizeBytes(await a.json('c13'));
    assert.equal((await b.cli('down', 'c13')).code, 0);
    await rm(img(b, 'c13'));
    assert.equal((await b.cli('create-md', 'c13')).code, 0);
    assert.equal((await b.cli('up', 'c13')).code, 0);
    await jsonWhen(b, 'c13', (s) => peerDevice(s)['replication-state'] === 'SyncTarget', 'B SyncTarget');
    await jsonWhen(b, 'c13', (s) => peerDevice(s).received * KiB >= size / 2, 'half synced', 30000);
    await sleep(1500);
    const before = await b.json('c13');
    await lab.b.powerOff();
    await lab.b.powerOn();
    await restart(b);
    const restarted = await jsonWhen(b, 'c13', (s) => peerDevice(s)['replication-state'] === 'SyncTarget', 'B SyncTarget again');
    const left = peerDevice(restarted)['out-of-sync'] * KiB;
    const done = await jsonWhen(b, 'c13', (s) => disk(s) === 'UpToDate' && peerDevice(s)['replication-state'] === 'Established', 'B UpToDate', 60000);
    const moved = peerDevice(done).received * KiB;
    console.log(`case 13: ${peerDevice(before).received} KiB synced before the power loss, ${left / KiB} KiB out of sync after it, ${moved / KiB} KiB moved after it`);
    assert.ok(moved < (size * 3) / 4, `resumed, not restarted: ${moved} bytes after the power loss of ${size}`);
    assert.ok((await data(b, 'c13')).equals(await data(a, 'c13')), 'the new disk has the data');
  });

  test('the seed trap: a blank replacement disk on the former Primary becomes SyncTarget; the data survives', async () => {
    await freshPair(a, b, 'trap');
    const size = sizeBytes(await a.json('trap'));
    const offsets = [MiB, size / 2, size - MiB];
    const w = qemuIo(url(lab.a, 'trap'), offsets.map((o, i) => `write -P 0x${(0x51 + i).toString(16)} ${o} 1M`));
    assert.equal(w.code, 0, w.out);
    // B's counter holds the writes A replicated to it.
    const received0 = peerDevice(await inSync(b, 'trap', 'B has the writes')).received;
    // A's disk is replaced: it goes down (B stays Secondary), gets a blank disk and comes back.
    assert.equal((await a.cli('target', 'stop', 'trap')).code, 0);
    assert.equal((await a.cli('secondary', 'trap')).code, 0);
    assert.equal((await a.cli('down', 'trap')).code, 0);
    await rm(img(a, 'trap'));
    assert.equal((await a.cli('create-md', 'trap')).code, 0);
    assert.equal((await a.cli('up', 'trap')).code, 0);
    const first = await jsonWhen(a, 'trap', (s) => conn(s)['connection-state'] === 'Connected', 'A connected');
    assert.notEqual(peerDevice(first)['replication-state'], 'SyncSource', 'the blank disk is never the source');
    await jsonWhen(a, 'trap', (s) => peerDevice(s)['replication-state'] === 'SyncTarget', 'A SyncTarget');
    assert.equal((await a.cli('primary', '--force', 'trap')).code, 1, 'the blank disk cannot be forced over the data');
    const sa = await inSync(a, 'trap', 'A synced from B');
    const sb = await inSync(b, 'trap', 'B in sync');
    assert.ok(peerDevice(sa).received * KiB >= size - MiB, 'A received a full sync');
    assert.equal(peerDevice(sb).received, received0, 'B received nothing');
    const da = await data(a, 'trap');
    const db = await data(b, 'trap');
    assert.ok(da.equals(db));
    offsets.forEach((o, i) => assert.ok(db.subarray(o, o + MiB).every((x) => x === 0x51 + i), `pattern ${i} survived`));
  });

  const LOAD_BASE = 16 * MiB;

  test('case 9: Primary crash under write load, failover to B, A returns: B is source, bounded resync, B data, no acknowledged write lost', async () => {
    await freshPair(a, b, 'c9');
    const size = sizeBytes(await a.json('c9'));
    const load = writeLoad(url(lab.a, 'c9'), LOAD_BASE, 400);
    await load.waitFor(50);
    await lab.a.powerOff();
    const completed = load.completed();
    await load.stop();
    // B's counter already holds the load A replicated to it.
    const received0 = await disconnected(b, 'c9').then((s) => peerDevice(s).received, async (e: unknown) => {
      await lab.a.powerOn();
      throw e;
    });
    try {
      assert.equal((await b.cli('primary', 'c9')).code, 0);
      assert.equal((await b.cli('target', 'start', 'c9')).code, 0);
      // B overwrites the first 8 blocks of the load and writes elsewhere.
      const w = qemuIo(url(lab.b, 'c9'), [`write -P 0xb9 ${LOAD_BASE} 32k`, 'write -P 0xba 2M 64k']);
      assert.equal(w.code, 0, w.out);
    } finally {
      await lab.a.powerOn();
    }
    const sent0 = peerDevice(await b.json('c9')).sent;
    await restart(a);
    const sa = await jsonWhen(a, 'c9', (s) => disk(s) === 'UpToDate' && conn(s)['connection-state'] === 'Connected' && peerDevice(s)['replication-state'] === 'Established', 'A resynced', 30000);
    const sb = await inSync(b, 'c9', 'B in sync');
    assert.equal(sb.role, 'Primary');
    assert.equal(sa.role, 'Secondary');
    const moved = peerDevice(sa).received * KiB;
    console.log(`case 9: resync after failover moved ${moved / KiB} KiB of ${size / KiB} KiB`);
    assert.equal(peerDevice(sb).received, received0, 'B is the source: it received nothing');
    assert.ok((peerDevice(sb).sent - sent0) * KiB >= 96 * KiB, 'B sent its writes');
    assert.ok(moved <= 8 * MiB + 96 * KiB, `bounded by B's writes plus A's hot extents: ${moved} bytes`);
    const da = await data(a, 'c9');
    const db = await data(b, 'c9');
    assert.ok(da.equals(db), "A has B's data");
    assert.ok(db.subarray(LOAD_BASE, LOAD_BASE + 32 * KiB).every((x) => x === 0xb9));
    assert.ok(db.subarray(2 * MiB, 2 * MiB + 64 * KiB).every((x) => x === 0xba));
    const load2 = db.subarray(LOAD_BASE, LOAD_BASE + 400 * 4096);
    checkAcknowledged(load2, LOAD_BASE, completed, (o) => o < LOAD_BASE + 32 * KiB, 'both nodes');
  });

  test('case 10: Primary crash without failover, A restarts: equal data, no full sync', async () => {
    await freshPair(a, b, 'c10');
    const size = sizeBytes(await a.json('c10'));
    const load = writeLoad(url(lab.a, 'c10'), LOAD_BASE, 400);
    await load.waitFor(50);
    await lab.a.powerOff();
    const completed = load.completed();
    await load.stop();
    const received0 = peerDevice(await disconnected(b, 'c10')).received;
    await lab.a.powerOn();
    await restart(a);
    await inSync(a, 'c10', 'A in sync');
    const sb = await inSync(b, 'c10', 'B in sync');
    const moved = (peerDevice(sb).received - received0) * KiB;
    console.log(`case 10: resync after the crash moved ${moved / KiB} KiB of ${size / KiB} KiB`);
    assert.ok(moved <= 8 * MiB, `bounded by A's hot extents: ${moved} bytes`);
    const da = await data(a, 'c10');
    const db = await data(b, 'c10');
    assert.ok(da.equals(db), 'equal data');
    checkAcknowledged(db.subarray(LOAD_BASE, LOAD_BASE + 400 * 4096), LOAD_BASE, completed, () => false, 'both nodes');

    // Again while B is away: the bits of A's writes were in memory only when it lost power;
    // its hot extents cover them, and A (a new generation, rule 6) is the source.
    assert.equal((await a.cli('primary', 'c10')).code, 0);
    assert.equal((await a.cli('target', 'start', 'c10')).code, 0);
    await lab.b.cutLink();
    try {
      await disconnected(a, 'c10');
      const w = qemuIo(url(lab.a, 'c10'), scattered.map((o, i) => `write -P 0x${(0x60 + i).toString(16)} ${o} 4k`));
      assert.equal(w.code, 0, w.out);
      await lab.a.powerOff();
    } finally {
      await lab.b.restoreLink();
      if (!lab.a.poweredOn) await lab.a.powerOn();
    }
    const received1 = peerDevice(await b.json('c10')).received;
    await restart(a);
    await inSync(a, 'c10', 'A in sync after the second crash');
    const sb2 = await inSync(b, 'c10', 'B has the writes made while it was away');
    const moved2 = (peerDevice(sb2).received - received1) * KiB;
    console.log(`case 10: resync after a crash while the peer was away moved ${moved2 / KiB} KiB`);
    assert.ok(moved2 >= scattered.length * 4096 && moved2 <= 12 * MiB, `the written blocks plus hot extents: ${moved2} bytes`);
    const db2 = await data(b, 'c10');
    assert.ok(db2.equals(await data(a, 'c10')), 'equal data');
    scattered.forEach((o, i) => assert.ok(db2.subarray(o, o + 4096).every((x) => x === 0x60 + i), `block ${i} on B`));
  });

  test('case 11: both nodes lose power under write load: no split brain, resync bounded by hot extents', async () => {
    await freshPair(a, b, 'c11');
    const size = sizeBytes(await a.json('c11'));
    const load = writeLoad(url(lab.a, 'c11'), LOAD_BASE, 400);
    await load.waitFor(50);
    await Promise.all([lab.a.powerOff(), lab.b.powerOff()]);
    const completed = load.completed();
    await load.stop();
    await Promise.all([lab.a.powerOn(), lab.b.powerOn()]);
    await restart(a);
    await restart(b);
    const sa = await jsonWhen(a, 'c11', (s) => conn(s)['connection-state'] === 'Connected' && peerDevice(s)['replication-state'] === 'Established' && peerDevice(s)['out-of-sync'] === 0, 'A in sync', 30000);
    const sb = await jsonWhen(b, 'c11', (s) => conn(s)['connection-state'] === 'Connected' && peerDevice(s)['replication-state'] === 'Established' && peerDevice(s)['out-of-sync'] === 0, 'B in sync', 30000);
    for (const s of [sa, sb]) {
      assert.equal(conn(s)['split-brain'], false);
      assert.equal(disk(s), 'UpToDate');
    }
    const moved = (peerDevice(sa).received + peerDevice(sb).received) * KiB;
    console.log(`case 11: resync after both crashed moved ${moved / KiB} KiB of ${size / KiB} KiB`);
    assert.ok(moved <= 8 * MiB, `bounded by the hot extents: ${moved} bytes`);
    const da = await data(a, 'c11');
    const db = await data(b, 'c11');
    assert.ok(da.equals(db), 'equal data');
    // A was Primary: with protocol C every acknowledged write is on both disks.
    checkAcknowledged(db.subarray(LOAD_BASE, LOAD_BASE + 400 * 4096), LOAD_BASE, completed, () => false, 'both nodes');
  });
});
