// The seed's disaster replayed in the lab, through the console in tmux and the agent CLI:
// a pair in sync with data written through iSCSI, both hosts lose power, the Primary's disk
// is dead and only it comes back. No path of problems, suggestions, runbooks or plain
// confirmations may lose the data of the host out of sight (ha-b); the override that does
// says so first and takes ha-b's name typed. Data is written and read back with qemu-io.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { describeLab, type Lab } from '../lab/lab.js';
import { disk, inSync, jsonWhen, qemuIo, type LabAgent } from '../support/lab-agents.js';
import { consoleLabHooks, DISK, serveR0FromA, holdsPattern as holds, r0Url as url, readsOf, SEED_PATTERN, writesOf } from '../support/console-lab.js';
import { flatScreen, type Terminal } from '../support/tmux.js';

const writes = writesOf(SEED_PATTERN);
const reads = readsOf(SEED_PATTERN);
const holdsPattern = (a: LabAgent) => holds(a, SEED_PATTERN);

describeLab('the seed disaster through the console and the agent CLI', () => {
  let lab: Lab;
  let a: LabAgent;
  let b: LabAgent;
  let term: Terminal;
  const suite = consoleLabHooks('safety-lab', (c) => ({ lab, a, b, term } = c));

  /** Both hosts lose power; ha-a's backing disk is gone; only ha-a comes back, r0 made anew there by the operator. */
  const disaster = async () => {
    await Promise.all([lab.a.powerOff(), lab.b.powerOff()]);
    rmSync(a.path(DISK));
    await term.waitFor('both hosts seen down', (x) => !/ha-a up/.test(x) && !/ha-b up/.test(x), 20_000);
    await lab.a.powerOn();
    // The console restarts the agent it deployed before it shows the host up.
    await term.waitFor('ha-a up again, ha-b not', (x) => /ha-a up/.test(x) && !/ha-b up/.test(x), 60_000);
    for (const verb of ['create-md', 'up']) {
      const r = await a.cli(verb, 'r0');
      assert.equal(r.code, 0, `${verb} on ha-a: ${r.stdout}${r.stderr}`);
    }
    assert.equal(disk(await a.json('r0')), 'Inconsistent');
  };


  test('r0 in sync, ha-a Primary, a pattern written through its target', async (t) => {
    if (suite.skip) return t.skip(suite.skip);
    await serveR0FromA({ a, b, term });
    const w = qemuIo(url(a), writes);
    assert.equal(w.code, 0, w.out);
    await inSync(a, 'r0', 'in sync after the writes');
    assert.ok(await holdsPattern(b), 'protocol C: the pattern is on ha-b');
    await term.waitFor('ha-a Primary, ha-b Secondary, both UpToDate', (x) => /r0\/0\s+Primary\s+UpToDate\s+Connected\s+.*Secondary\s+UpToDate\s+Connected/.test(x), 20_000);
  });

  test('both lose power, ha-a comes back with a new blank disk: the problems name ha-b as the only good copy; p, F and the CLI refuse', async (t) => {
    if (suite.skip) return t.skip(suite.skip);
    await disaster();
    // The console offers no create-md or up of its own outside the disk-replacement runbook, which needs the peer: the operator used the agent CLI.
    // Once ha-a's agent reports what it remembers of ha-b (peer-last-*), the problem dates it.
    const s = flatScreen(await term.waitFor('r0 up on ha-a, its memory of ha-b shown', (x) => /r0\/0\s+Secondary\s+Inconsistent\s+Connecting/.test(x) && /out of sight/.test(x) && /last known, seen/.test(flatScreen(x)), 20_000));
    assert.doesNotMatch(s, /no UpToDate copy/);
    assert.match(s, /✖ the only UpToDate copy of r0\/0 is on ha-b \(last known, seen [^)]+\), out of sight: bring ha-b back; do not force-promote or wipe/);

    await term.keys('p', { literal: true });
    const p = flatScreen(await term.waitFor('the promote dialog', (x) => /Promote r0 on ha-a/.test(x) && /refused:/.test(x)));
    assert.match(p, /refused: Need access to UpToDate data \(disk is Inconsistent\)/);
    assert.doesNotMatch(p, /--force|force-promote|FORCE/);
    await term.keys('Escape');

    await term.keys('F', { literal: true });
    const f = flatScreen(await term.waitFor('the force dialog', (x) => /FORCE promote r0 on ha-a/.test(x) && /refused:/.test(x)));
    assert.match(f, /refused: ha-b has UpToDate data of r0\/0 \(last known, seen [^;]+; ha-b is out of sight, not without data\)/);
    assert.match(f, /LOST: ha-b's 7\.7 MiB, generation [0-9A-F]{8}…, last seen \S+ is left behind: ha-a serves its blank disk instead/);
    assert.match(f, /→ only if ha-b is gone for good: force anyway, forgetting it \(you type ha-b; its data is lost\) \(f\)/);
    await term.keys('y', { literal: true }); // no way round the refusal
    await term.keys('Escape');

    const cli = await a.cli('primary', '--force', 'r0');
    assert.equal(cli.code, 1, cli.stdout);
    assert.match(cli.stderr, /Refusing to force Primary: ha-b last had UpToDate data \(generation [0-9A-F]{8}…, last seen [^)]+\) of r0 volume 0; this node's disk holds no data \(Inconsistent\)\. Promote ha-b instead/);

    await term.keys('r', { literal: true });
    const r = flatScreen(await term.waitFor('the runbook menu', (x) => /Runbooks for r0/.test(x)));
    assert.doesNotMatch(r, /Disk replacement|Split-brain|promote ha-a/);
    assert.match(r, /no runbook applies to r0 in its current state/);
    await term.keys('Escape');
    await term.waitFor('the menu closed', (x) => !/Runbooks for r0/.test(x));
    assert.equal((await a.json('r0')).role, 'Secondary');
  });

  test('ha-b returns: it is the sync source, promoted through the suggestion on ha-a; the pattern reads back through its target', async (t) => {
    if (suite.skip) return t.skip(suite.skip);
    await lab.b.powerOn();
    await term.waitFor('ha-b up again', (x) => /ha-b up/.test(x), 60_000);
    // The agent brings r0 back up by itself: it was up when the power went.
    await jsonWhen(b, 'r0', () => true, 'r0 back up on ha-b', 30_000);
    const syncing = flatScreen(await term.waitFor('the resync ha-b → ha-a', (x) => /sync ha-b → ha-a/.test(x), 20_000));
    assert.doesNotMatch(syncing, /sync ha-a → ha-b/);
    await term.keys('p', { literal: true });
    const p = flatScreen(await term.waitFor('the promote refusal on ha-a', (x) => /Promote r0 on ha-a/.test(x) && /refused:/.test(x)));
    assert.match(p, /→ ha-b has UpToDate data: promote ha-b instead \(f\)/);
    await term.keys('f', { literal: true });
    await term.waitFor("ha-b's promote dialog", (x) => /Promote r0 on ha-b/.test(x) && !/refused:/.test(x));
    await term.keys('y', { literal: true });
    await term.waitFor('the outcome', (x) => /✔ ha-b: drbd-agent primary r0: done/.test(x));
    assert.equal((await b.json('r0')).role, 'Primary');
    const target = await b.cli('target', 'start', 'r0');
    assert.equal(target.code, 0, target.stderr);
    const rd = qemuIo(url(b), reads);
    assert.equal(rd.code, 0, rd.out);
    assert.doesNotMatch(rd.out, /Pattern verification failed/);
    await inSync(a, 'r0', 'ha-a resynced', 60_000);
    assert.ok(await holdsPattern(a), "ha-a's new disk holds ha-b's data");
    assert.ok(await holdsPattern(b), 'ha-b kept its data');
  });

  test('keys in one burst (F f r0⏎ as one read) act one by one: the override opens, and no text but ha-b confirms it', async (t) => {
    if (suite.skip) return t.skip(suite.skip);
    await disaster();
    await term.waitFor('r0 up on ha-a, its memory of ha-b shown', (x) => /r0\/0\s+Secondary\s+Inconsistent\s+Connecting/.test(x) && /last known, seen/.test(flatScreen(x)), 20_000);
    await term.keys('Ffr0\r', { literal: true });
    const o = flatScreen(await term.waitFor('the override refusing r0', (x) => /"r0" does not match ha-b/.test(x)));
    assert.match(o, /FORCE promote, FORGETTING the peer r0 on ha-a/);
    assert.match(o, /runs on ha-a: drbd-agent primary --force --forget-peer r0/);
    assert.match(o, /LOST: ha-b's 7\.7 MiB, generation [0-9A-F]{8}…, last seen \S+ is left behind/);
    for (const wrong of ['yes', 'ha-', 'ha-bb', 'HA-B']) {
      await term.keys(`\x15${wrong}\r`, { literal: true });
      await term.waitFor(`the override refusing ${wrong}`, (x) => x.includes(`"${wrong}" does not match ha-b`));
    }
    await term.keys('Escape');
    await term.waitFor('the dialog closed', (x) => !/FORGETTING/.test(x));
    assert.equal((await a.json('r0')).role, 'Secondary', 'nothing ran');
  });

  test('the override used anyway (F, f, ha-b typed) states the loss first; ha-b back: W and create-md --force on ha-b are refused, its data intact', async (t) => {
    if (suite.skip) return t.skip(suite.skip);
    await term.keys('F', { literal: true });
    await term.waitFor('the force dialog', (x) => /FORCE promote r0 on ha-a/.test(x) && /refused:/.test(x));
    await term.keys('f', { literal: true });
    const o = flatScreen(await term.waitFor('the override dialog', (x) => /FORGETTING the peer/.test(x) && /Type ha-b/.test(x)));
    assert.match(o, /LOST: ha-b's 7\.7 MiB, generation [0-9A-F]{8}…, last seen \S+ is left behind/);
    await term.keys('ha-b', { literal: true });
    await term.waitFor('the name matches', (x) => /✓ ha-b: Enter to confirm/.test(x));
    await term.keys('Enter');
    await term.waitFor('the outcome', (x) => /✔ ha-a: drbd-agent primary --force --forget-peer r0: done/.test(x));
    assert.equal((await a.json('r0')).role, 'Primary');

    await lab.b.powerOn();
    await term.waitFor('ha-b up again', (x) => /ha-b up/.test(x), 60_000);
    // The agent brings r0 back up by itself (it was up when the power went): the handshake refuses.
    await jsonWhen(b, 'r0', (x) => x.connections[0]?.['connection-state'] === 'StandAlone', 'ha-b refuses the unrelated data', 30_000);
    const sa = flatScreen(await term.waitFor('both StandAlone on screen', (x) => /r0\/0\s+Primary\s+UpToDate\s+StandAlone\s+.*Secondary\s+UpToDate\s+StandAlone/.test(x), 20_000));
    // Not a plain StandAlone warning: an alert that names the copy to serve.
    assert.match(sa, /✖ a blank disk was promoted on ha-a while ha-b held the data of r0 \(generation [0-9A-F]{8}…\): serve ha-b's copy/);

    // A plain connect on ha-b only meets the same refusal: the forecast says so.
    await term.keys('Tab');
    await term.keys('c', { literal: true });
    const c = flatScreen(await term.waitFor('the connect dialog on ha-b', (x) => /Connect r0 on ha-b|connect r0/.test(x) && /⇄/.test(x)));
    assert.match(c, /⇄ r0\/0: on connect the pair refuses: unrelated data/);
    assert.doesNotMatch(c, /ha-a → ha-b/);
    await term.keys('Escape');

    const lostLine = /LOST: ha-b's 7\.7 MiB, generation [0-9A-F]{8}…(, last seen \S+)? will be wiped: ha-a holds no copy of it/;
    await term.keys('W', { literal: true });
    let w = flatScreen(await term.waitFor('the create-md --force dialog on ha-b', (x) => /Re-create metadata/.test(x) && /refused:/.test(x)));
    assert.match(w, /runs on ha-b: drbd-agent create-md --force r0/);
    assert.match(w, lostLine);
    await term.keys('Escape');
    let r = await b.cli('create-md', '--force', 'r0');
    assert.equal(r.code, 1);
    assert.match(r.stderr, /resource is up; run drbd-agent down r0 before create-md/);

    // Taken down, as the disk-replacement runbook would: the refusal is about the data now, on both sides.
    r = await b.cli('down', 'r0');
    assert.equal(r.code, 0, r.stderr);
    await term.waitFor('r0 down on ha-b', (x) => /^r0\/0 .* down\s*$/m.test(x));
    const refusal = /Refusing to wipe the metadata of r0 volume 0: this node holds UpToDate data \(generation [0-9A-F]{8}…\) and ha-a's data is unrelated to it \(ha-a's generation [0-9A-F]{8}… does not descend from this node's; a blank disk was made the source there\); this would destroy the only copy/;
    await term.keys('W', { literal: true });
    w = flatScreen(await term.waitFor('the create-md --force dialog on ha-b', (x) => /Re-create metadata/.test(x) && /refused:/.test(x)));
    assert.match(w, new RegExp(`refused: ${refusal.source}`));
    assert.match(w, lostLine);
    await term.keys('y', { literal: true });
    await term.keys('Escape');
    r = await b.cli('create-md', '--force', 'r0');
    assert.equal(r.code, 1);
    assert.match(r.stderr, refusal);

    await term.keys('r', { literal: true });
    const menu = flatScreen(await term.waitFor('the runbook menu', (x) => /Runbooks for r0/.test(x)));
    assert.doesNotMatch(menu, /Disk replacement/);
    await term.keys('Escape');
    assert.ok(await holdsPattern(b), "ha-b's data is intact");
  });
});
