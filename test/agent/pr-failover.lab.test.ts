// Persistent reservations survive a failover (what Windows failover clustering needs): an
// initiator registers and reserves through the Primary ha-a's target, ha-a loses power, ha-b
// is promoted and starts its target, and the same initiator (name + ISID: the I_T nexus
// carries no target address) finds its key and reservation there, while another initiator's
// write is refused. Real daemons in the lab hosts, the project's own test initiator.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createLab, describeLab, type Lab, type LabHost } from '../lab/lab.js';
import { TestInitiator, type CommandResult } from '../support/iscsi-initiator.js';
import { conn, disconnected, disk, inSync, installResource, jsonWhen, labAgent, labResourceYaml, type LabAgent } from '../support/lab-agents.js';

const IQN = 'iqn.2026-11.com.example:pr0';
const NODE1 = { initiatorName: 'iqn.1991-05.com.microsoft:cluster-node1', isid: Buffer.from('400001370000', 'hex') };
const NODE2 = { initiatorName: 'iqn.1991-05.com.microsoft:cluster-node2', isid: Buffer.from('400001370000', 'hex') };
const KEY = 0x0123_4567_89ab_cdefn;
const WRITE_EXCLUSIVE_REGISTRANTS_ONLY = 5;
const GOOD = 0;
const RESERVATION_CONFLICT = 0x18;

async function login(host: LabHost, who: typeof NODE1): Promise<TestInitiator> {
  const i = await TestInitiator.login({ host: host.address, port: 3260, target: IQN, ...who });
  // A new nexus first sees the reset unit attention (29/00).
  for (let n = 0; n < 3; n++) if ((await i.command(0, Buffer.alloc(6))).status === GOOD) return i;
  throw new Error('TEST UNIT READY never succeeded');
}

function prOut(i: TestInitiator, sa: number, type: number, key: bigint, saKey: bigint): Promise<CommandResult> {
  const p = Buffer.alloc(24);
  p.writeBigUInt64BE(key, 0);
  p.writeBigUInt64BE(saKey, 8);
  return i.command(0, Buffer.from([0x5f, sa, type, 0, 0, 0, 0, 0, 24, 0]), { dataOut: p });
}

const prIn = (i: TestInitiator, sa: number) => i.command(0, Buffer.from([0x5e, sa, 0, 0, 0, 0, 0, 0x01, 0x00, 0]), { readLength: 256 });
const write10 = (i: TestInitiator, lba: number) => i.command(0, Buffer.from([0x2a, 0, 0, 0, 0, lba, 0, 0, 1, 0]), { dataOut: Buffer.alloc(512, 0xa5) });
const read10 = (i: TestInitiator, lba: number) => i.command(0, Buffer.from([0x28, 0, 0, 0, 0, lba, 0, 0, 1, 0]), { readLength: 512 });

describeLab('persistent reservations survive a failover between two daemons in the lab', () => {
  let lab: Lab;
  let a: LabAgent;
  let b: LabAgent;
  const initiators: TestInitiator[] = [];

  before(async () => {
    lab = await createLab({ sshd: false });
    a = labAgent(lab.a);
    b = labAgent(lab.b);
    const yaml = labResourceYaml(lab, { name: 'pr0', port: 7795 });
    for (const [agent, side] of [[a, 'a'], [b, 'b']] as const) {
      await installResource(agent, 'pr0', yaml[side]);
      await agent.start();
      assert.equal((await agent.cli('create-md', 'pr0')).code, 0);
      assert.equal((await agent.cli('up', 'pr0')).code, 0);
    }
    await jsonWhen(a, 'pr0', (s) => conn(s)['connection-state'] === 'Connected', 'Connected');
    assert.equal((await a.cli('new-current-uuid', '--clear-bitmap', 'pr0')).code, 0);
    assert.equal((await a.cli('primary', 'pr0')).code, 0);
    await inSync(a, 'pr0');
    assert.equal((await a.cli('target', 'start', 'pr0')).code, 0);
  });
  after(async () => {
    for (const i of initiators) i.close();
    await lab?.destroy();
  });

  test('REGISTER + RESERVE on ha-a; after ha-a loses power, ha-b serves the key and the reservation', async () => {
    const onA = await login(lab.a, NODE1);
    initiators.push(onA);
    assert.equal((await prOut(onA, 0, 0, 0n, KEY)).status, GOOD, 'REGISTER');
    assert.equal((await prOut(onA, 1, WRITE_EXCLUSIVE_REGISTRANTS_ONLY, KEY, 0n)).status, GOOD, 'RESERVE');
    assert.equal((await write10(onA, 8)).status, GOOD, 'the holder writes');

    await lab.a.powerOff();
    await disconnected(b, 'pr0');
    assert.equal(disk(await b.json('pr0')), 'UpToDate', 'the survivor had every acknowledged change');
    const promoted = await b.cli('primary', 'pr0');
    assert.equal(promoted.code, 0, promoted.stderr);
    assert.equal((await b.cli('target', 'start', 'pr0')).code, 0);

    const onB = await login(lab.b, NODE1);
    initiators.push(onB);
    const keys = await prIn(onB, 0);
    assert.equal(keys.status, GOOD);
    assert.equal(keys.data.readUInt32BE(4), 8, 'READ KEYS: one registered key');
    assert.equal(keys.data.readBigUInt64BE(8), KEY);
    const res = await prIn(onB, 1);
    assert.equal(res.status, GOOD);
    assert.equal(res.data.readUInt32BE(4), 16, 'READ RESERVATION: one reservation');
    assert.equal(res.data.readBigUInt64BE(8), KEY, 'held by our key');
    assert.equal((res.data[21] as number) & 0x0f, WRITE_EXCLUSIVE_REGISTRANTS_ONLY);
    assert.equal((await write10(onB, 9)).status, GOOD, 'the holder writes on the new Primary');

    const other = await login(lab.b, NODE2);
    initiators.push(other);
    assert.equal((await write10(other, 10)).status, RESERVATION_CONFLICT, 'a non-registrant may not write');
    assert.equal((await read10(other, 8)).status, GOOD, 'but may read (WRITE EXCLUSIVE)');
    assert.ok((await read10(other, 8)).data.every((x) => x === 0xa5), 'the holder\'s write from before the failover');
  });
});
