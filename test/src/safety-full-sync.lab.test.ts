// Issue 14's mistake catalogue, end to end: "connect that starts a full sync over real data".
// The engine refuses `new-current-uuid --clear-bitmap` outside two fresh disks, so the full
// resync comes the way it does on real pairs: ha-b brought back with an older copy of its disk
// (a restored backup, an old disk put back) while ha-a moved on past it (that generation is in
// ha-a's history: sync-decision rule 7). `c` on ha-b forecasts the full resync, names ha-b's
// data as lost and takes the resource name typed; y alone does nothing.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync } from 'node:fs';
import { join } from 'node:path';
import { describeLab } from '../lab/lab.js';
import { conn, freshPair, inSync, jsonWhen, peerDevice, qemuIo, type LabAgent } from '../support/lab-agents.js';
import { consoleLabHooks, DISK, holdsPattern, MiB, r0Url, readsOf, SEED_PATTERN, writesOf } from '../support/console-lab.js';
import { flatScreen, type Terminal } from '../support/tmux.js';

/** Written on ha-a after ha-b's old copy was taken, then after it was put back. */
const LATER = [{ offset: 1 * MiB, byte: 0xc3 }] as const;
const LAST = [{ offset: 2 * MiB, byte: 0x96 }] as const;
const ALL = [...SEED_PATTERN, ...LATER, ...LAST];

describeLab('connect that starts a full sync over real data', () => {
  let a: LabAgent;
  let b: LabAgent;
  let term: Terminal;
  let old: string;
  const suite = consoleLabHooks('safety-full-sync-lab', (c) => {
    ({ a, b, term } = c);
    old = join(c.work, 'ha-b-old.img');
  });
  const ok = async (h: LabAgent, ...args: string[]) => {
    const r = await h.cli(...args);
    assert.equal(r.code, 0, `${args.join(' ')} on ${h.host.name}: ${r.stdout}${r.stderr}`);
  };
  const write = (h: LabAgent, p: readonly { offset: number; byte: number }[]) => {
    const w = qemuIo(r0Url(h), writesOf(p));
    assert.equal(w.code, 0, w.out);
  };

  test('both hold the pattern; ha-b keeps an old copy of its disk while ha-a moves on and resyncs it', async (t) => {
    if (suite.skip) return t.skip(suite.skip);
    await term.waitFor('both hosts up', (x) => /ha-a up/.test(x) && /ha-b up/.test(x), 60_000);
    await freshPair(a, b, 'r0');
    write(a, SEED_PATTERN);
    await inSync(b, 'r0', 'the pattern on ha-b');
    await ok(b, 'down', 'r0');
    copyFileSync(b.path(DISK), old);
    write(a, LATER);
    await ok(b, 'up', 'r0');
    await inSync(b, 'r0', 'ha-b resynced the later writes', 60_000);
    assert.ok(await holdsPattern(b, [...SEED_PATTERN, ...LATER]));
  });

  test("ha-b's old copy put back, ha-a written past it: c on ha-b forecasts a full resync over ha-b's data and takes r0 typed", async (t) => {
    if (suite.skip) return t.skip(suite.skip);
    // ha-a stops listening first, so that ha-b coming up does not connect before the operator says so.
    await ok(a, 'disconnect', 'r0');
    await ok(b, 'down', 'r0');
    copyFileSync(old, b.path(DISK));
    await ok(b, 'up', 'r0');
    await ok(b, 'disconnect', 'r0');
    await ok(a, 'connect', 'r0');
    write(a, LAST);
    await jsonWhen(b, 'r0', (s) => conn(s)['connection-state'] === 'StandAlone', 'ha-b StandAlone');
    assert.ok(await holdsPattern(b, SEED_PATTERN), 'ha-b holds its older real data');
    assert.ok(!(await holdsPattern(b, LATER)), 'and not the later writes');

    // The copy was taken as ha-b left a Primary: Outdated, older, real data.
    await term.waitFor('ha-b StandAlone on screen', (x) => /r0\/0\s+Primary\s+UpToDate\s+Connecting\s+.*Secondary\s+Outdated\s+StandAlone/.test(x), 20_000);
    await term.keys('Tab');
    await term.keys('c', { literal: true });
    const d = flatScreen(await term.waitFor('the connect dialog on ha-b', (x) => /runs on ha-b: drbd-agent connect r0/.test(x) && /Type the resource name/.test(x)));
    assert.match(d, /⇄ r0\/0: on connect ha-a → ha-b, full resync of the whole volume/);
    assert.match(d, /LOST: ha-b's 7\.7 MiB, generation [0-9A-F]{8}… \(older than ha-a's\) will be overwritten by a full resync from ha-a/);
    assert.match(d, /DESTRUCTIVE\. Type the resource name \(r0\)/);
    await term.keys('y', { literal: true });
    await term.keys('Enter');
    await term.waitFor('y refused', (x) => /"y" does not match r0/.test(x));
    assert.equal(conn(await b.json('r0'))['connection-state'], 'StandAlone', 'y alone ran nothing');
  });

  test('r0 typed: the full resync runs; after a switchover every write reads back through ha-b', async (t) => {
    if (suite.skip) return t.skip(suite.skip);
    await term.keys('\x15r0\r', { literal: true });
    await term.waitFor('the outcome', (x) => /✔ ha-b: drbd-agent connect r0: done/.test(x));
    await jsonWhen(b, 'r0', (x) => /SyncTarget/.test(peerDevice(x)['replication-state']), 'the resync started', 20_000);
    const done = await inSync(b, 'r0', 'the full resync done', 90_000);
    // Full: ha-b (up since the copy went back, no writes since) received the whole volume, not the 2 MiB written since the copies parted.
    assert.ok(peerDevice(done).received >= 7 * 1024, `ha-b received ${peerDevice(done).received} KiB: a full resync`);
    await ok(a, 'target', 'stop', 'r0');
    await ok(a, 'secondary', 'r0');
    await ok(b, 'primary', 'r0');
    await ok(b, 'target', 'start', 'r0');
    const rd = qemuIo(r0Url(b), readsOf(ALL));
    assert.equal(rd.code, 0, rd.out);
    assert.doesNotMatch(rd.out, /Pattern verification failed/);
  });
});
