// Issue 14's mistake catalogue, end to end: "promote while the peer is unreachable but maybe
// alive". ha-a is Primary with data on it when its link is cut: the console and ha-b both lose
// it, and ha-a's own clients keep writing. Promoting ha-b takes ha-a's name typed and says what
// it makes; once the link is back the console shows the split brain and nothing moves over
// either side's data. Data is written and read back with qemu-io, the disks read directly.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { describeLab, type Lab } from '../lab/lab.js';
import { conn, disconnected, freshPair, inSync, jsonWhen, qemuIo, type LabAgent } from '../support/lab-agents.js';
import { consoleLabHooks, holdsPattern, MiB, r0Url, readsOf, SEED_PATTERN, writeInside, writesOf } from '../support/console-lab.js';
import { flatScreen, type Terminal } from '../support/tmux.js';
import { setTimeout as sleep } from 'node:timers/promises';

/** Written by ha-a's clients after the cut, and by ha-b's after its promotion: each only on its own side. */
const ON_A = [{ offset: 2 * MiB, byte: 0x77 }] as const;
const ON_B = [{ offset: 5 * MiB, byte: 0x99 }] as const;
const row = (screen: string) => screen.split('\n').find((l) => l.startsWith('r0/0')) ?? '';

describeLab('promote while the peer is unreachable but maybe alive', () => {
  let lab: Lab;
  let a: LabAgent;
  let b: LabAgent;
  let term: Terminal;
  const suite = consoleLabHooks('safety-split-lab', (c) => ({ lab, a, b, term } = c));


  test('ha-a Primary with the pattern written through its target, in sync with ha-b', async (t) => {
    if (suite.skip) return t.skip(suite.skip);
    await term.waitFor('both hosts up', (x) => /ha-a up/.test(x) && /ha-b up/.test(x), 60_000);
    await freshPair(a, b, 'r0');
    const w = qemuIo(r0Url(a), writesOf(SEED_PATTERN));
    assert.equal(w.code, 0, w.out);
    await inSync(a, 'r0', 'in sync after the writes');
    await term.waitFor('ha-a Primary, ha-b Secondary, both UpToDate', (x) => /r0\/0\s+Primary\s+UpToDate\s+Connected\s+.*Secondary\s+UpToDate\s+Connected/.test(x), 20_000);
  });

  test("ha-a's link cut, its clients still writing: its row shows what it last was and how long ago, not Connected", async (t) => {
    if (suite.skip) return t.skip(suite.skip);
    lab.a.cutLink();
    await disconnected(b, 'r0');
    // ha-a's clients reach its target from inside ha-a: the cut link does not stop them.
    await writeInside(a, ON_A);
    const s = await term.waitFor('ha-a out of sight', (x) => /ha-a unreachable/.test(x) && /✖ \d+ (s|min) ago/.test(row(x)), 30_000);
    assert.match(row(s), /^r0\/0\s+Primary\s+UpToDate\s+✖ \d+ (s|min) ago\s+Secondary\s+UpToDate\s+(Connecting|StandAlone|Unconnected)/, row(s));
  });

  test('p on ha-b: ha-a typed, the split brain named; a wrong name runs nothing; ha-a promotes; the pattern reads back through ha-b', async (t) => {
    if (suite.skip) return t.skip(suite.skip);
    await term.keys('Tab');
    await term.keys('p', { literal: true });
    const d = flatScreen(await term.waitFor('the promote dialog on ha-b', (x) => /Promote r0 on ha-b/.test(x) && /Type ha-a/.test(x)));
    assert.match(d, /runs on ha-b: drbd-agent primary r0/);
    assert.match(d, /✓ if ha-a is alive and its clients write, this makes a split brain/);
    assert.doesNotMatch(d, /refused:/);
    await term.keys('y', { literal: true });
    await term.keys('ha-b\r', { literal: true });
    await term.waitFor('the wrong name refused', (x) => /"yha-b" does not match ha-a/.test(x));
    assert.equal((await b.json('r0')).role, 'Secondary', 'nothing ran');
    await term.keys('\x15ha-a', { literal: true });
    await term.waitFor('the name matches', (x) => /✓ ha-a: Enter to confirm/.test(x));
    await term.keys('Enter');
    await term.waitFor('the outcome', (x) => /✔ ha-b: drbd-agent primary r0: done/.test(x));
    assert.equal((await b.json('r0')).role, 'Primary');
    assert.equal((await b.cli('target', 'start', 'r0')).code, 0);
    const rd = qemuIo(r0Url(b), readsOf(SEED_PATTERN));
    assert.equal(rd.code, 0, rd.out);
    assert.doesNotMatch(rd.out, /Pattern verification failed/);
    const w = qemuIo(r0Url(b), writesOf(ON_B));
    assert.equal(w.code, 0, w.out);
  });

  test('the link back: the console shows the split brain and the next safe step; nothing resynced over either side', async (t) => {
    if (suite.skip) return t.skip(suite.skip);
    lab.a.restoreLink();
    for (const h of [a, b]) await jsonWhen(h, 'r0', (s) => conn(s)['split-brain'] && conn(s)['connection-state'] === 'StandAlone', `split brain seen on ${h.host.name}`, 30_000);
    const s = flatScreen(await term.waitFor('the split brain on screen', (x) => /ha-a up/.test(x) && /SPLIT BRAIN on r0/.test(x), 60_000));
    assert.match(s, /SPLIT BRAIN on r0: both nodes wrote while apart; choose the victim and run the split-brain recovery runbook \(r\)/);
    // A while for anything that would move, then both sides as each wrote them.
    await sleep(3000);
    assert.ok(await holdsPattern(a, [...SEED_PATTERN, ...ON_A]), "ha-a's data, with its clients' writes, intact");
    assert.ok(!(await holdsPattern(a, ON_B)), "nothing of ha-b's reached ha-a");
    assert.ok(await holdsPattern(b, [...SEED_PATTERN, ...ON_B]), "ha-b's data intact");
    assert.ok(!(await holdsPattern(b, ON_A)), "nothing of ha-a's reached ha-b");
    for (const h of [a, b]) assert.equal(conn(await h.json('r0'))['connection-state'], 'StandAlone');
  });
});
