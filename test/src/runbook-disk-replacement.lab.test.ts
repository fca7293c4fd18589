// The disk-replacement runbook end to end (issue 17), driven through the console in tmux. ha-a
// serves r0 with data written through its target. ha-b's disk is replaced as an operator
// replaces one: the host powered off (every process SIGKILLed), the backing file deleted and a
// new blank one of the same size put in its place, the host powered on. `r` offers the
// replacement for ha-b only; its steps create metadata, attach, connect (the check says the
// sync runs ha-a → ha-b) and wait for the full sync; F finishes before the optional failback.
// Then the Primary's disk is replaced the same way while nothing serves: the runbook for ha-a
// restores service on ha-b first, rebuilds ha-a and fails back. After each, the new disk holds
// the data, and qemu-io reads it back identically through the portal of the host that has it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { describeLab } from '../lab/lab.js';
import { disconnected, inSync, jsonWhen, qemuIo, type LabAgent } from '../support/lab-agents.js';
import { assertReadsBack, consoleLabHooks, DISK, holdsPattern, MiB, openRunbook, r0Url, runStep, SEED_PATTERN, servingPair, writesOf, type ConsoleLab } from '../support/console-lab.js';
import { flatScreen, type Terminal } from '../support/tmux.js';

/** Written through ha-b's target while ha-a's disk was being replaced. */
const WHILE_REPLACED = [{ offset: 4 * MiB, byte: 0x42 }] as const;

describeLab('the disk-replacement runbook: a blank new disk rebuilt from the good copy', () => {
  let c: ConsoleLab;
  let a: LabAgent;
  let b: LabAgent;
  let term: Terminal;
  const suite = consoleLabHooks('runbook-disk-replacement', (x) => ({ a, b, term } = c = x));

  /** Powered off, the backing file deleted and a blank one of the same size in its place, powered on; the console sees r0 down there. */
  async function replaceDisk(h: LabAgent, peer: LabAgent): Promise<void> {
    const size = statSync(h.path(DISK)).size;
    await h.host.powerOff();
    await disconnected(peer, 'r0');
    rmSync(h.path(DISK));
    writeFileSync(h.path(DISK), '');
    truncateSync(h.path(DISK), size);
    await h.host.powerOn();
    await term.waitFor(`${h.host.name} up again, r0 not up there`, (x) => new RegExp(`${h.host.name} up`).test(x) && new RegExp(`r0 on ${h.host.name}: `).test(x), 60_000);
  }

  test('r0 in sync, ha-a Primary, the pattern written through its target', async (t) => {
    if (suite.skip) return t.skip(suite.skip);
    await servingPair(c);
  });

  test("ha-b's disk replaced: offered for ha-b only; metadata, attach, connect ha-a → ha-b, the full sync; F before the failback", async (t) => {
    if (suite.skip) return t.skip(suite.skip);
    await replaceDisk(b, a);
    const menu = flatScreen(await openRunbook(term, /Disk replacement on ha-b/));
    assert.doesNotMatch(menu, /Disk replacement on ha-a/);
    // ha-b was Secondary with no target, its r0 down: the steps that move service away from it are done by themselves.
    const md = flatScreen(await runStep(term, 6, /create metadata on ha-b's new disk/));
    assert.match(md, /✓ 5\. take r0 down on ha-b/);
    assert.match(md, /runs on ha-b: drbd-agent create-md r0/);
    assert.match(md, /⇄ r0\/0: on connect ha-a → ha-b, full resync of the whole volume/);
    await runStep(term, 7, /attach ha-b's new disk/);
    const connect = flatScreen(await runStep(term, 8, /connect ha-b: full sync ha-a → ha-b/));
    assert.match(connect, /runs on ha-b: drbd-agent connect r0/);
    assert.match(connect, /✓ the sync will run ha-a → ha-b: /);
    await term.waitFor('the full sync ha-a → ha-b shown while step 9 waits', (x) => /▶ 9\. wait for ha-b: SyncTarget → UpToDate/.test(x) && /sync ha-a → ha-b/.test(x), 30_000);
    const done = flatScreen(await term.waitFor('the optional failback next', (x) => /▶ 10\. failback \(optional\)/.test(x), 60_000));
    assert.match(done, /F finish here \(the rest is optional\)/);
    await term.keys('F', { literal: true });
    await term.waitFor('the runbook complete', (x) => /runbook complete/.test(x));
    await term.keys('Enter');
    await inSync(b, 'r0', 'ha-b rebuilt');
    assert.equal((await a.json('r0')).role, 'Primary', 'no failback: ha-a still serves');
    assert.ok(await holdsPattern(b, SEED_PATTERN), "ha-b's new disk holds the pattern");
    assertReadsBack(r0Url(a), SEED_PATTERN);
  });

  test("ha-a's disk replaced while it served: nothing serves; the runbook for ha-a promotes ha-b and starts its target first, rebuilds ha-a and fails back", async (t) => {
    if (suite.skip) return t.skip(suite.skip);
    await replaceDisk(a, b);
    const menu = flatScreen(await openRunbook(term, /Disk replacement on ha-a/));
    assert.doesNotMatch(menu, /Disk replacement on ha-b/);
    // ha-a's r0 is down: its target and role steps are done by themselves; service comes first.
    const promote = flatScreen(await runStep(term, 3, /restore service: promote ha-b/));
    assert.match(promote, /✓ 2\. demote ha-a to Secondary/);
    assert.match(promote, /runs on ha-b: drbd-agent primary r0/);
    assert.match(promote, /✓ ha-b holds UpToDate data/);
    await runStep(term, 4, /start the iSCSI target on ha-b \(service restored\)/);
    await term.waitFor('service restored, the rebuild next', (x) => /▶ 6\. create metadata on ha-a's new disk/.test(x), 30_000);
    await jsonWhen(b, 'r0', (s) => s.role === 'Primary', 'ha-b Primary');
    assertReadsBack(r0Url(b), SEED_PATTERN);
    const w = qemuIo(r0Url(b), writesOf(WHILE_REPLACED));
    assert.equal(w.code, 0, w.out);
    await runStep(term, 6, /create metadata on ha-a's new disk/);
    await runStep(term, 7, /attach ha-a's new disk/);
    const connect = flatScreen(await runStep(term, 8, /connect ha-a: full sync ha-b → ha-a/));
    assert.match(connect, /✓ the sync will run ha-b → ha-a: /);
    const fb = flatScreen(await runStep(term, 10, /failback \(optional\): stop the iSCSI target on ha-b/, [], 90_000));
    assert.match(fb, /runs on ha-b: drbd-agent target stop r0/);
    assert.match(fb, /✓ no initiator logged in on ha-b/);
    await runStep(term, 11, /demote ha-b to Secondary/);
    await runStep(term, 12, /promote ha-a to Primary/);
    await runStep(term, 13, /start the iSCSI target on ha-a/);
    await term.waitFor('the runbook complete', (x) => /runbook complete/.test(x), 30_000);
    await term.keys('Enter');
    await inSync(a, 'r0', 'ha-a rebuilt');
    assert.equal((await a.json('r0')).role, 'Primary', 'failed back: ha-a serves again');
    const all = [...SEED_PATTERN, ...WHILE_REPLACED];
    assert.ok(await holdsPattern(a, all), "ha-a's new disk holds the pattern and what ha-b took meanwhile");
    assertReadsBack(r0Url(a), all);
  });
});
