// A resync interrupted at its very end, between two agent daemons in the lab: the source has
// every block confirmed and ends its side, and the link breaks just before sync-finished would
// cross it, so the target never learns that the resync finished and rolls back to its pre-sync
// image. The break is the daemon's test hook (agent/engine/link-faults.ts), set in the source's
// environment: deterministic, once. The next handshake must find a bitmap resync of what is
// really out of sync (the rolled-back blocks), not a full one. Data goes in through the
// Primary's iSCSI target (qemu-io) and is read back through the other host after a switchover.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createLab, describeLab, type Lab, type LabHost } from '../lab/lab.js';
import { LINK_FAULTS_ENV } from '../../agent/engine/link-faults.js';
import { AGENT } from '../support/agent-daemons.js';
import { disconnected, disk, freshPair, inSync, installResource, labAgent, labResourceYaml, peerDevice, qemuIo, readRange, sizeBytes, type LabAgent } from '../support/lab-agents.js';
import { setTimeout as sleep } from 'node:timers/promises';

const MiB = 1024 * 1024;
const count = (agent: LabAgent, re: RegExp) => (agent.log.join('').match(new RegExp(re, 'g')) ?? []).length;

async function logged(agent: LabAgent, re: RegExp, what: string, timeoutMs = 30000): Promise<void> {
  const t0 = Date.now();
  while (count(agent, re) === 0) {
    if (Date.now() - t0 > timeoutMs) throw new Error(`${agent.host.name}: timed out waiting for ${what}; log: ${agent.log.join('').slice(-2000)}`);
    await sleep(50);
  }
}

/**
 * The SyncTarget episodes in a host's events2 stream (events --statistics), each with the largest
 * out-of-sync (KiB) it showed: the fields of volume 0's peer device folded as they change.
 */
function syncTargetEpisodes(host: LabHost) {
  const child = host.spawn(['node', AGENT, 'events', '--statistics'], { stdio: ['ignore', 'pipe', 'ignore'] });
  const episodes: number[] = [];
  let replication = '';
  let outOfSync = 0;
  let rest = '';
  child.stdout!.setEncoding('utf8').on('data', (text: string) => {
    const lines = (rest + text).split('\n');
    rest = lines.pop()!;
    for (const line of lines) {
      if (!/ peer-device name:re .*volume:0/.test(line)) continue;
      replication = / replication:(\S+)/.exec(line)?.[1] ?? replication;
      outOfSync = Number(/ out-of-sync:(\d+)/.exec(line)?.[1] ?? outOfSync);
      if (replication !== 'SyncTarget') continue;
      if (/ replication:SyncTarget/.test(line)) episodes.push(outOfSync);
      else episodes[episodes.length - 1] = Math.max(episodes.at(-1)!, outOfSync);
    }
  });
  return { episodes, stop: () => child.kill() };
}

describeLab('a resync whose end is lost (the target never gets sync-finished)', () => {
  let lab: Lab;
  let a: LabAgent;
  let b: LabAgent;
  const name = 're';
  const url = (host: LabHost) => `iscsi://${host.address}:3270/iqn.2026-11.com.example:${name}/0`;
  const img = (agent: LabAgent) => agent.path(`/var/lib/drbd-tui/disks/${name}-0.img`);
  const hookFired = /test hook: the peer link breaks before sync-finished/;

  before(async () => {
    lab = await createLab({ sshd: false });
    a = labAgent(lab.a, { env: { [LINK_FAULTS_ENV]: `${name}:sync-finished` } });
    b = labAgent(lab.b);
    const yaml = labResourceYaml(lab, { name, port: 7795, iscsiPort: 3270, size: '40MiB' });
    await installResource(a, name, yaml.a);
    await installResource(b, name, yaml.b);
    await a.start();
    await b.start();
  });
  after(async () => {
    await lab?.destroy();
  });

  test('the next resync is a bitmap resync of the rolled-back blocks; both hosts then hold the same data', async () => {
    await logged(a, /test hook DRBD_TUI_TEST_BREAK_LINK_BEFORE is set/, 'the daemon saying its test hook is set');
    await freshPair(a, b, name);
    const size = sizeBytes(await a.json(name));
    assert.ok(size >= 32 * MiB, `${size} bytes of data area`);

    const w = qemuIo(url(lab.a), ['write -P 0x21 0 16M', 'write -P 0x22 16M 16M']);
    assert.equal(w.code, 0, w.out);
    const received0 = peerDevice(await b.json(name)).received;
    const events = syncTargetEpisodes(lab.b);

    // A small part out of sync: 4 MiB written while B is cut off.
    await lab.b.cutLink();
    try {
      await disconnected(a, name);
      const w2 = qemuIo(url(lab.a), ['write -P 0x5c 8M 4M']);
      assert.equal(w2.code, 0, w2.out);
      assert.equal(peerDevice(await a.json(name))['out-of-sync'], 4096, 'exactly the 4 MiB written apart');
      assert.equal(count(a, hookFired), 0, 'no resync ended before this one');
    } finally {
      await lab.b.restoreLink();
    }

    // The first resync moves the 4 MiB, and its end is lost with the link.
    await logged(a, hookFired, 'the link breaking before sync-finished');
    await inSync(a, name, 'A in sync again', 60000);
    const sb = await inSync(b, name, 'B in sync again', 60000);

    assert.equal(count(a, hookFired), 1, 'the link broke once');
    assert.equal(count(b, /resync source of volume 0 lost: rolling back/), 1, 'B rolled back the resync whose end it never saw');
    assert.equal(count(a, /resync of volume 0 finished \(SyncSource\)/), 2, 'A finished its side twice');
    assert.equal(count(b, /resync of volume 0 finished \(SyncTarget\)/), 1, 'B saw one end: the second resync');
    events.stop();
    // The second one over the rolled-back blocks; a full resync would show the whole volume.
    // Events coalesce (at most one publish per PUBLISH_MS), so an episode's first line may already
    // show some blocks moved: at most the 4 MiB each, never the volume.
    assert.equal(events.episodes.length, 2, `two SyncTarget episodes as B saw them (events2 out-of-sync, KiB): ${events.episodes.join(' ')}`);
    for (const e of events.episodes) assert.ok(e > 0 && e <= 4096, `a bitmap resync of at most the 4 MiB, not the volume: ${events.episodes.join(' ')} KiB`);
    // A full resync would move the whole volume (some 40000 KiB) after the first 4 MiB.
    assert.equal(peerDevice(sb).received - received0, 2 * 4096, 'B received the 4 MiB twice: once before the lost end, once after its rollback');
    assert.equal(disk(sb), 'UpToDate');

    const [da, db] = await Promise.all([readRange(img(a), 0, size), readRange(img(b), 0, size)]);
    assert.ok(da.equals(db), 'both data areas identical');

    // Switchover: the data read through B's own target.
    assert.equal((await a.cli('target', 'stop', name)).code, 0);
    assert.equal((await a.cli('secondary', name)).code, 0);
    assert.equal((await b.cli('primary', name)).code, 0);
    assert.equal((await b.cli('target', 'start', name)).code, 0);
    const r = qemuIo(url(lab.b), ['read -P 0x21 0 8M', 'read -P 0x5c 8M 4M', 'read -P 0x21 12M 4M', 'read -P 0x22 16M 16M']);
    assert.equal(r.code, 0, r.out);
    assert.doesNotMatch(r.out, /verification failed/i, r.out);
  });
});
