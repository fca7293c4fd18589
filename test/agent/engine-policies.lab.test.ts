// engine-semantics.md acceptance cases 7 (automatic split-brain policies: discard-least-changes,
// discard-secondary, discard-younger-primary, and discard-zero-changes' fallback) and 15 (online
// verify), between two agent daemons in the lab hosts. A split brain is produced as in
// engine-cases.lab.test.ts case 5: the peer link and the test's route to a host are one link,
// so each node is written through its own iSCSI target (qemu-io) while the other's link is cut.
// Data is checked by reading the backing files of both hosts. Counters are KiB.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { open } from 'node:fs/promises';
import { createLab, describeLab, type Lab, type LabHost } from '../lab/lab.js';
import { conn, freshPair, inSync, installResource, jsonWhen, labAgent, labResourceYaml, makeSplitBrain, peerDevice, qemuIo, readRange, sizeBytes, type LabAgent, type StatusJson } from '../support/lab-agents.js';
import { setTimeout as sleep } from 'node:timers/promises';

const verifyMismatch = (s: StatusJson) => (peerDevice(s) as { 'verify-mismatch'?: number })['verify-mismatch'];
const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

/** `count` scattered, non-adjacent 4 KiB writes of `pattern` from `base`: one bitmap bit each. */
const blocks = (base: number, count: number, pattern: number) => Array.from({ length: count }, (_, i) => `write -P 0x${pattern.toString(16)} ${base + i * 8 * 4096} 4k`);

describeLab('engine split-brain policies and online verify between two daemons in the lab', () => {
  let lab: Lab;
  let a: LabAgent;
  let b: LabAgent;
  const policies = {
    zero: '  after-sb-0pri: discard-zero-changes\n',
    least: '  after-sb-0pri: discard-least-changes\n',
    sec: '  after-sb-1pri: discard-secondary\n',
    young: '  after-sb-0pri: discard-younger-primary\n',
    v15: '',
  } as const;
  type Name = keyof typeof policies;
  const names = Object.keys(policies) as Name[];
  const index = (n: Name) => names.indexOf(n);
  const iscsiPort = (n: Name) => 3321 + index(n);
  const url = (host: LabHost, n: Name) => `iscsi://${host.address}:${iscsiPort(n)}/iqn.2026-11.com.example:${n}/0`;
  const img = (agent: LabAgent, n: Name) => agent.path(`/var/lib/drbd-tui/disks/${n}-0.img`);
  const data = async (agent: LabAgent, n: Name) => readRange(img(agent, n), 0, sizeBytes(await agent.json(n)));


  /**
   * A rule-8 split brain: A (Primary) writes `onA` while B's link is cut, B is promoted and
   * writes `onB` through its own target while A's link is cut. `keepAPrimary` false demotes both
   * before the link returns (the 0pri policies). Returns both data hashes at the reconnect.
   */
  async function splitBrain(n: Name, onA: string[], onB: string[], keepAPrimary: boolean): Promise<{ a: string; b: string }> {
    const hashes = { a: '', b: '' };
    const beforeReconnect = async () => {
      hashes.a = sha(await data(a, n));
      hashes.b = sha(await data(b, n));
    };
    await makeSplitBrain(lab, a, b, n, { url: (h) => url(h, n), onA, onB, keepAPrimary, beforeReconnect });
    return hashes;
  }

  /** The victim resynced from the survivor: no split brain left, survivor's data on both. */
  async function survivorWon(n: Name, survivor: LabAgent, victim: LabAgent, why: { victim: string; survivor: string }, hashes: { a: string; b: string }, received0: { survivor: number; victim: number }): Promise<void> {
    const sv = await inSync(survivor, n, 'survivor in sync');
    const vs = await inSync(victim, n, 'victim in sync');
    // Both nodes name the same victim, each from its own side, for the documented reason.
    assert.ok(logged(victim, n, `discarding the data of this node (${why.victim})`), `victim log: ${victim.log.join('')}`);
    assert.ok(logged(survivor, n, `discarding the data of the peer (${why.survivor})`), `survivor log: ${survivor.log.join('')}`);
    for (const s of [sv, vs]) assert.equal(conn(s)['split-brain'], false);
    // The automatic discard kept the victim's diverging blocks first, as a manual one does.
    assert.match((await victim.cli('split-brain-copies', n)).stdout, new RegExp(`^\\S+Z  ${n}/0  \\S+-vol0  .* ranges  /var/lib/drbd-tui/split-brain/${n}/\\S+\\.blocks\n$`));
    assert.equal((await survivor.cli('split-brain-copies', n)).stdout, `no split-brain copies kept of ${n}\n`);
    assert.equal(peerDevice(sv).received, received0.survivor, 'the survivor received nothing');
    assert.ok(peerDevice(vs).received > received0.victim, 'the victim was SyncTarget');
    const want = survivor === a ? hashes.a : hashes.b;
    assert.equal(sha(await data(survivor, n)), want, "the survivor's data did not change");
    assert.equal(sha(await data(victim, n)), want, "the victim has the survivor's data");
  }

  /** A daemon log line about resource n containing text (each resource logs with its name). */
  const logged = (agent: LabAgent, n: Name, text: string) =>
    agent.log
      .join('')
      .split('\n')
      .some((l) => l.includes(n) && l.includes(text));

  const received = async (n: Name) => ({ a: peerDevice(await a.json(n)).received, b: peerDevice(await b.json(n)).received });

  before(async () => {
    lab = await createLab({ sshd: false });
    a = labAgent(lab.a);
    b = labAgent(lab.b);
    for (const n of names) {
      const yaml = labResourceYaml(lab, { name: n, port: 7821 + index(n), iscsiPort: iscsiPort(n), size: '16MiB' });
      const withPolicy = (text: string) => text.replace('  ping-timeout: 2\n', `  ping-timeout: 2\n${policies[n]}`);
      await installResource(a, n, withPolicy(yaml.a));
      await installResource(b, n, withPolicy(yaml.b));
    }
    await a.start();
    await b.start();
  });
  after(async () => {
    await lab?.destroy();
  });

  test('case 7: after-sb-0pri discard-least-changes: the node with fewer changes (A) becomes SyncTarget and gets B data', async () => {
    await freshPair(a, b, 'least');
    const r0 = await received('least');
    const hashes = await splitBrain('least', blocks(0, 2, 0xa1), blocks(1024 * 1024, 6, 0xb1), false);
    await survivorWon('least', b, a, { victim: 'discard-least-changes: 2 blocks changed here, 6 on the peer', survivor: 'discard-least-changes: 6 blocks changed here, 2 on the peer' }, hashes, { survivor: r0.b, victim: r0.a });
    const da = await data(a, 'least');
    assert.ok(da.subarray(0, 4096).every((x) => x === 0), "A's own writes are gone");
    assert.ok(da.subarray(1024 * 1024, 1024 * 1024 + 4096).every((x) => x === 0xb1), "B's writes are on A");
  });

  test('case 7: after-sb-1pri discard-secondary: the Secondary (B) becomes SyncTarget, A stays Primary with its data', async () => {
    await freshPair(a, b, 'sec');
    const r0 = await received('sec');
    const hashes = await splitBrain('sec', blocks(0, 3, 0xa2), blocks(2 * 1024 * 1024, 5, 0xb2), true);
    await survivorWon('sec', a, b, { victim: 'after-sb-1pri discard-secondary', survivor: 'after-sb-1pri discard-secondary' }, hashes, { survivor: r0.a, victim: r0.b });
    assert.equal((await a.json('sec')).role, 'Primary');
    assert.equal((await b.json('sec')).role, 'Secondary');
    const db = await data(b, 'sec');
    assert.ok(db.subarray(0, 4096).every((x) => x === 0xa2), "A's writes are on B");
    assert.ok(db.subarray(2 * 1024 * 1024, 2 * 1024 * 1024 + 4096).every((x) => x === 0), "B's own writes are gone");
  });

  test('case 7: after-sb-0pri discard-younger-primary: B, promoted during the split, becomes SyncTarget and gets A data', async () => {
    await freshPair(a, b, 'young');
    const r0 = await received('young');
    // More changes on the victim: the promotion times decide, not the amounts.
    const hashes = await splitBrain('young', blocks(0, 2, 0xa4), blocks(4 * 1024 * 1024, 7, 0xb4), false);
    await survivorWon(
      'young',
      a,
      b,
      { victim: 'discard-younger-primary: this node became Primary after the peer', survivor: 'discard-younger-primary: this node became Primary before the peer' },
      hashes,
      { survivor: r0.a, victim: r0.b },
    );
    const db = await data(b, 'young');
    assert.ok(db.subarray(0, 4096).every((x) => x === 0xa4), "A's writes are on B");
    assert.ok(db.subarray(4 * 1024 * 1024, 4 * 1024 * 1024 + 4096).every((x) => x === 0), "B's own writes are gone");
  });

  // In this engine a generation starts at the first write while apart (case 4: a promotion
  // alone starts none), so in a rule-8 split brain both nodes have changes: discard-zero-changes
  // has no victim and must fall back to disconnect.
  test('case 7: after-sb-0pri discard-zero-changes with changes on both: no victim, both StandAlone, no data moved', async () => {
    await freshPair(a, b, 'zero');
    const hashes = await splitBrain('zero', blocks(0, 2, 0xa3), blocks(3 * 1024 * 1024, 2, 0xb3), false);
    for (const agent of [a, b]) {
      const s = await jsonWhen(agent, 'zero', (x) => conn(x)['connection-state'] === 'StandAlone' && conn(x)['split-brain'], 'StandAlone with split brain', 20000);
      assert.match(conn(s)['last-error'] ?? '', /split brain/);
      assert.ok(logged(agent, 'zero', 'no automatic recovery (discard-zero-changes: both nodes changed data (2 and 2 blocks)'), `log: ${agent.log.join('')}`);
    }
    await sleep(1000);
    assert.equal(sha(await data(a, 'zero')), hashes.a, 'no data changed on A');
    assert.equal(sha(await data(b, 'zero')), hashes.b, 'no data changed on B');
  });

  test('case 15: verify reports blocks changed behind the engine, resyncs them only on disconnect + connect', async () => {
    await freshPair(a, b, 'v15');
    const offsets = [4096, 1024 * 1024, 5 * 1024 * 1024 + 8192, 9 * 1024 * 1024, 12 * 1024 * 1024 - 4096];
    const w = qemuIo(url(lab.a, 'v15'), offsets.map((o, i) => `write -P 0x${(0x70 + i).toString(16)} ${o} 4k`));
    assert.equal(w.code, 0, w.out);
    await inSync(b, 'v15', 'B has the writes');
    // Behind the engine's back: B's backing file, not its device.
    const fh = await open(img(b, 'v15'), 'r+');
    try {
      for (const o of offsets) await fh.write(Buffer.alloc(4096, 0xee), 0, 4096, o);
      await fh.sync();
    } finally {
      await fh.close();
    }
    const received0 = peerDevice(await b.json('v15')).received;
    const v = await a.cli('verify', 'v15');
    assert.equal(v.code, 0, v.stderr);
    const done = await jsonWhen(a, 'v15', (s) => peerDevice(s)['replication-state'] === 'Established' && verifyMismatch(s) !== undefined, 'verify finished', 30000);
    assert.equal(verifyMismatch(done), offsets.length * 4, 'verify-mismatch: n × 4 KiB');
    assert.equal(peerDevice(done)['out-of-sync'], offsets.length * 4, 'out-of-sync: n × 4 KiB');
    await sleep(1000);
    const sb = await b.json('v15');
    assert.equal(peerDevice(sb).received, received0, 'nothing resynced until asked');
    for (const o of offsets) assert.ok((await readRange(img(b, 'v15'), o, 4096)).every((x) => x === 0xee), `B still has the changed block at ${o}`);

    assert.equal((await a.cli('disconnect', 'v15')).code, 0);
    await jsonWhen(a, 'v15', (s) => conn(s)['connection-state'] === 'StandAlone', 'A StandAlone');
    assert.equal((await a.cli('connect', 'v15')).code, 0);
    await inSync(a, 'v15', 'A in sync after reconnect');
    const sb2 = await inSync(b, 'v15', 'B in sync after reconnect');
    assert.equal(peerDevice(sb2).received - received0, offsets.length * 4, 'exactly the n blocks resynced to B');
    for (const [i, o] of offsets.entries()) assert.ok((await readRange(img(b, 'v15'), o, 4096)).every((x) => x === 0x70 + i), `B's block at ${o} equals A's`);
    assert.ok((await data(a, 'v15')).equals(await data(b, 'v15')), 'equal data');
  });
});
