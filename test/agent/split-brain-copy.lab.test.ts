// A split-brain victim keeps its diverging blocks, between two agent daemons in the lab hosts:
// the split brain is made as in engine-policies.lab.test.ts (each node written with qemu-io
// through its own iSCSI target while the other's link is cut). A tiny tmpfs on the victim's
// split-brain directory (in that host's own mount namespace) makes the copy impossible for
// real: the discard is refused. With room again, connect --discard-my-data keeps the copy,
// split-brain-copies lists it, its blocks are what the victim wrote, and split-brain-restore on
// the Primary writes them back onto both disks.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { createLab, describeLab, type Lab, type LabHost } from '../lab/lab.js';
import { conn, freshPair, inSync, installResource, jsonWhen, labAgent, labResourceYaml, makeSplitBrain, readRange, sizeBytes, type LabAgent } from '../support/lab-agents.js';

const R = 'sbc';
const PORT = 7841;
const ISCSI_PORT = 3341;
const MiB = 1024 * 1024;
const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

/** What the victim (B) writes during the split: 3 ranges, 16 KiB. */
const VICTIM_WRITES: Array<{ offset: number; length: number; pattern: number }> = [
  { offset: MiB, length: 8192, pattern: 0xb1 },
  { offset: 2 * MiB, length: 4096, pattern: 0xb2 },
  { offset: 3 * MiB, length: 4096, pattern: 0xb3 },
];
const SURVIVOR_WRITES = [
  { offset: 0, length: 4096, pattern: 0xa1 },
  { offset: 2 * MiB, length: 4096, pattern: 0xa2 },
];
const qemuWrites = (ws: typeof VICTIM_WRITES) => ws.map((w) => `write -P 0x${w.pattern.toString(16)} ${w.offset} ${w.length}`);

describeLab('split-brain victim keeps a copy of its diverging blocks, between two daemons in the lab', () => {
  let lab: Lab;
  let a: LabAgent;
  let b: LabAgent;
  const url = (host: LabHost) => `iscsi://${host.address}:${ISCSI_PORT}/iqn.2026-11.com.example:${R}/0`;
  const img = (agent: LabAgent) => agent.path(`/var/lib/drbd-tui/disks/${R}-0.img`);
  const data = async (agent: LabAgent) => readRange(img(agent), 0, sizeBytes(await agent.json(R)));

  before(async () => {
    lab = await createLab({ sshd: false });
    a = labAgent(lab.a);
    b = labAgent(lab.b);
    const yaml = labResourceYaml(lab, { name: R, port: PORT, iscsiPort: ISCSI_PORT, size: '16MiB' });
    await installResource(a, R, yaml.a);
    await installResource(b, R, yaml.b);
    await a.start();
    await b.start();
  });
  after(async () => {
    await lab?.destroy();
  });

  test('the victim keeps its blocks before the discard (refused while it cannot), lists them, and the Primary writes them back', async () => {
    await freshPair(a, b, R);
    // The split: A (Primary) writes while B's link is cut; B, promoted, writes while A's is cut.
    await makeSplitBrain(lab, a, b, R, { url, onA: qemuWrites(SURVIVOR_WRITES), onB: qemuWrites(VICTIM_WRITES), keepAPrimary: true });
    for (const agent of [a, b]) await jsonWhen(agent, R, (s) => conn(s)['connection-state'] === 'StandAlone' && conn(s)['split-brain'], 'StandAlone with split brain');
    const victimBefore = sha(await data(b));
    const survivorData = await data(a);

    // No room for the copy on the victim: a 1 MiB tmpfs where the copies go.
    assert.equal((await a.cli('connect', R)).code, 0);
    const mnt = await lab.b.exec(['sh', '-c', 'mkdir -p /var/lib/drbd-tui/split-brain && mount -t tmpfs -o size=1m tmpfs /var/lib/drbd-tui/split-brain']);
    assert.equal(mnt.code, 0, mnt.stderr);
    try {
      const refused = await b.cli('connect', '--discard-my-data', R);
      assert.equal(refused.code, 1, refused.stdout + refused.stderr);
      assert.match(refused.stderr, /^sbc: State change failed: Refusing to discard my data: no room in \/var\/lib\/drbd-tui\/split-brain\/sbc for a copy of ha-b's 16 KiB of diverging blocks \(3 ranges\): 64 MiB needed \(with a 64 MiB margin\), 1 MiB free; free space there, or connect --discard-my-data --no-backup discards them without a copy\n$/);
      const s = await jsonWhen(b, R, (x) => conn(x)['connection-state'] === 'StandAlone', 'B StandAlone');
      assert.equal(conn(s)['split-brain'], true, 'the split brain is still shown');
      assert.equal(sha(await data(b)), victimBefore, "the victim's data is untouched");
    } finally {
      await lab.b.exec(['umount', '/var/lib/drbd-tui/split-brain']);
    }

    const kept = await b.cli('connect', '--discard-my-data', R);
    assert.equal(kept.code, 0, kept.stderr);
    assert.match(kept.stdout, /^sbc: kept a copy of ha-b's 16 KiB of diverging blocks \(3 ranges\) in \/var\/lib\/drbd-tui\/split-brain\/sbc\/\d{8}T\d{6}\.\d{3}Z-vol0\.blocks\n$/);
    await inSync(a, R, 'survivor in sync');
    await inSync(b, R, 'victim in sync');
    assert.ok((await data(b)).equals(survivorData), "the victim holds the survivor's data");

    const list = await b.cli('split-brain-copies', R);
    assert.equal(list.code, 0, list.stderr);
    const lines = list.stdout.trim().split('\n');
    assert.equal(lines.length, 1, list.stdout);
    const m = /^(\S+Z) {2}sbc\/0 {2}(\S+-vol0) {2}16 KiB {2}3 ranges {2}(\/var\/lib\/drbd-tui\/split-brain\/sbc\/\S+\.blocks)$/.exec(lines[0]!);
    assert.ok(m, lines[0]);
    const [, , id, path] = m;
    const blocks = await readFile(b.path(path!));
    assert.ok(blocks.equals(Buffer.concat(VICTIM_WRITES.map((w) => Buffer.alloc(w.length, w.pattern)))), 'the copy holds the blocks the victim wrote');
    const manifest = JSON.parse(await readFile(b.path(path!.replace(/\.blocks$/, '.json')), 'utf8')) as { ranges: Array<{ offset: number; length: number; fileOffset: number }>; node: string; peer: string; sha256: string };
    assert.deepEqual(
      manifest.ranges.map((r) => [r.offset, r.length, r.fileOffset]),
      [
        [MiB, 8192, 0],
        [2 * MiB, 4096, 8192],
        [3 * MiB, 4096, 12288],
      ],
    );
    assert.deepEqual([manifest.node, manifest.peer, manifest.sha256], ['ha-b', 'ha-a', sha(blocks)]);
    assert.equal((await a.cli('split-brain-copies', R)).stdout, `no split-brain copies kept of ${R}\n`, 'the survivor kept nothing');

    // Restore: refused on the Secondary; on the Primary, first what would change, then --yes.
    const onSecondary = await b.cli('split-brain-restore', R, id!);
    assert.equal(onSecondary.code, 1);
    assert.match(onSecondary.stderr, /this node is Secondary; promote it first/);
    assert.equal((await a.cli('target', 'stop', R)).code, 0);
    assert.equal((await a.cli('secondary', R)).code, 0);
    await jsonWhen(b, R, (s) => conn(s)['peer-role'] === 'Secondary', 'B sees A Secondary');
    assert.equal((await b.cli('primary', R)).code, 0);
    const plan = await b.cli('split-brain-restore', R, id!);
    assert.equal(plan.code, 1);
    assert.equal(
      plan.stdout,
      `sbc/0: would overwrite 16 KiB in 3 ranges:\n  offset ${MiB} length 8192 (8 KiB)\n  offset ${2 * MiB} length 4096 (4 KiB)\n  offset ${3 * MiB} length 4096 (4 KiB)\nnothing written: add --yes to write these blocks back (both nodes get them)\n`,
    );
    assert.ok((await data(b)).equals(survivorData), 'nothing written without --yes');
    const done = await b.cli('split-brain-restore', R, id!, '--yes');
    assert.equal(done.code, 0, done.stderr);
    assert.match(done.stdout, /^sbc: wrote back 16 KiB from \S+-vol0/);
    await inSync(a, R, 'in sync after the restore');
    for (const agent of [a, b]) {
      for (const w of VICTIM_WRITES) assert.ok((await readRange(img(agent), w.offset, w.length)).every((x) => x === w.pattern), `${agent.host.name}: restored block at ${w.offset}`);
      assert.ok((await readRange(img(agent), 0, 4096)).every((x) => x === 0xa1), `${agent.host.name}: the survivor's other write stays`);
    }
  });
});
