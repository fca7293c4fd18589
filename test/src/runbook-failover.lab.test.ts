// The failover runbook end to end (issue 17), driven through the console in tmux: ha-a, the
// Primary serving r0 with data written through its target, loses power (every process of the
// host SIGKILLed, its link dark). `r` offers the failover; ha-a's name typed confirms it is down
// (a wrong name in one burst runs nothing), ha-b is promoted and serves the data through its
// own target. ha-a powered on again rejoins as Secondary through the runbook's last steps and
// resyncs from ha-b: its backing disk then holds everything, also what ha-b took after the
// failover. Data is written and read back with qemu-io, the disks read directly.
import { test } from 'node:test';
import { rmSync } from 'node:fs';
import assert from 'node:assert/strict';
import { describeLab, type Lab } from '../lab/lab.js';
import { disconnected, inSync, jsonWhen, qemuIo, type LabAgent } from '../support/lab-agents.js';
import { assertReadsBack, consoleLabHooks, holdsPattern, MiB, r0Url, runStep, SEED_PATTERN, servingPair, writesOf, type ConsoleLab } from '../support/console-lab.js';
import { flatScreen, type Terminal } from '../support/tmux.js';

/** Written through ha-b's target after the failover: what ha-a missed while it was off. */
const AFTER = [{ offset: 5 * MiB, byte: 0x99 }] as const;

describeLab('the failover runbook: power loss of the Primary, ha-b takes over, ha-a rejoins', () => {
  let c: ConsoleLab;
  let lab: Lab;
  let a: LabAgent;
  let b: LabAgent;
  let term: Terminal;
  const suite = consoleLabHooks('runbook-failover', (x) => ({ lab, a, b, term } = c = x));

  test('r0 in sync, ha-a Primary, the pattern written through its target', async (t) => {
    if (suite.skip) return t.skip(suite.skip);
    await servingPair(c);
  });

  test('ha-a loses power: r offers the failover; only ha-a typed confirms it is down; ha-b is promoted and serves the pattern', async (t) => {
    if (suite.skip) return t.skip(suite.skip);
    await lab.a.powerOff();
    await disconnected(b, 'r0');
    await term.waitFor('ha-a out of sight', (x) => /ha-a unreachable/.test(x), 30_000);

    await term.keys('r', { literal: true });
    const menu = flatScreen(await term.waitFor('the failover in the menu', (x) => /Failover after a power loss: ha-a unreachable, promote ha-b/.test(x), 20_000));
    assert.doesNotMatch(menu, /Planned switchover|Disk replacement/);
    await term.keys('Enter');

    const confirm = flatScreen(await term.waitFor('the confirm-down step', (x) => /▶ 1\. confirm ha-a is really down/.test(x) && /Type ha-a and press Enter/.test(x), 20_000));
    assert.match(confirm, /Failover after a power loss r0: ha-a down, ha-b takes over/);
    assert.match(confirm, /✓ ha-a unreachable/);
    assert.match(confirm, /✓ ha-b has lost its peer/);
    assert.match(confirm, /⚠ if ha-a is alive and its clients write, promoting ha-b makes a split brain/);
    // A wrong name in one burst (one read for the console), Enter included: refused, nothing runs.
    for (const wrong of ['ha-b', 'yes', 'ha-aa']) {
      await term.keys(`\x15${wrong}\r`, { literal: true });
      await term.waitFor(`"${wrong}" refused`, (x) => x.includes(`"${wrong}" does not match ha-a`));
    }
    assert.match(await term.screen(), /▶ 1\. confirm ha-a is really down/);
    assert.equal((await b.json('r0')).role, 'Secondary', 'nothing ran');
    await term.keys('\x15ha-a', { literal: true });
    await term.waitFor('the name matches', (x) => /✓ ha-a: Enter to confirm/.test(x));
    await term.keys('Enter');

    // The name typed above vouches for the promotion: Enter runs it.
    const promote = flatScreen(await runStep(term, 2, /promote ha-b \(only if UpToDate\)/));
    assert.match(promote, /runs on ha-b: drbd-agent primary r0/);
    assert.match(promote, /✓ ha-a still down/);
    await runStep(term, 3, /start the iSCSI target on ha-b/);
    await term.waitFor('the rejoin wait next', (x) => /▶ 4\. when ha-a is back: wait for its agent/.test(x), 30_000);
    await jsonWhen(b, 'r0', (s) => s.role === 'Primary', 'ha-b Primary');
    assertReadsBack(r0Url(b), SEED_PATTERN);
    const w = qemuIo(r0Url(b), writesOf(AFTER));
    assert.equal(w.code, 0, w.out);
    // ha-a is away: only the optional rejoin is left, F would finish here; the view stays open.
    const wait = flatScreen(await term.screen());
    assert.match(wait, /✓ 1\. confirm ha-a is really down/);
    assert.match(wait, /✓ 3\. start the iSCSI target on ha-b/);
    assert.match(wait, /✗ ha-a answers — ha-a is \S+: power it on/);
    assert.match(wait, /F finish here/);
  });

  test("ha-a powered on, r0 not started at its boot: the wait attaches it; the rejoin's connect says the sync runs ha-b → ha-a; its disk then holds all the data", async (t) => {
    if (suite.skip) return t.skip(suite.skip);
    // As where a cluster manager, not the boot, starts r0: its agent does not bring it back up by itself.
    rmSync(a.path('/var/lib/drbd-tui/up/r0'));
    await lab.a.powerOn();
    await term.waitFor('ha-a up again', (x) => /ha-a up/.test(x), 60_000);
    const down = flatScreen(await term.waitFor('the rejoin wait offering to attach r0 on ha-a', (x) => /▶ 4\. when ha-a is back/.test(x) && /⏎ run on ha-a: drbd-agent attach r0/.test(flatScreen(x)), 30_000));
    assert.match(down, /✗ cannot finish: r0 is down on ha-a/);
    assert.match(down, /✓ ha-a answers/);
    await term.keys('Enter');

    // ha-a came back Secondary: step 5 is done by itself.
    const connect = flatScreen(await runStep(term, 6, /connect ha-a: it resyncs from ha-b/));
    assert.match(connect, /✓ 5\. demote ha-a to Secondary/);
    assert.match(connect, /runs on ha-a: drbd-agent connect r0/);
    assert.match(connect, /✓ the sync will run ha-b → ha-a: /);
    await term.waitFor('the runbook complete', (x) => /runbook complete/.test(x), 120_000);
    await inSync(a, 'r0', 'ha-a resynced', 60_000);
    assert.equal((await a.json('r0')).role, 'Secondary');
    assert.equal((await b.json('r0')).role, 'Primary');
    assert.ok(await holdsPattern(a, [...SEED_PATTERN, ...AFTER]), "ha-a's disk holds the pattern and what ha-b took after the failover");
    assert.ok(await holdsPattern(b, [...SEED_PATTERN, ...AFTER]));
    assertReadsBack(r0Url(b), [...SEED_PATTERN, ...AFTER]);
    await term.keys('Enter');
    await term.waitFor('the runbook closed', (x) => !/Failover after a power loss/.test(x));
  });
});
