// Resumable, audited runbooks through the console in tmux (issue 17): a switchover started in
// one console, two steps run, the console killed mid-procedure; a new console (the operator on
// another machine) shows the run active, r resumes it at the same step; taken up again while
// ha-b is powered off, ha-b's agent gets the newer record once it is back; the rest runs; each
// host's `drbd-agent runbook-log r0` lists every step that ran with the SSH user.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { describeLab, type Lab } from '../lab/lab.js';
import type { LabAgent } from '../support/lab-agents.js';
import { CLI, consoleLabHooks, ROOT, serveR0FromA, type ConsoleLab } from '../support/console-lab.js';
import { flatScreen, openTerminal, type Terminal } from '../support/tmux.js';
import { setTimeout as sleep } from 'node:timers/promises';

describeLab('runbooks survive the console: resume from a new console, the audit log on both hosts', () => {
  let lab: Lab;
  let work: string;
  let a: LabAgent;
  let b: LabAgent;
  let term: Terminal;
  // The hooks close the lab's terminal when the suite ends: each console opened here replaces it there.
  let opened: ConsoleLab;
  const suite = consoleLabHooks('runbook-resume', (c) => ({ lab, work, a, b, term } = opened = c));
  const who = `root@${hostname()}`;

  /** Waits until step `n` of the open runbook is next, then runs it with Enter. */
  async function runStep(n: number, title: RegExp): Promise<void> {
    await term.waitFor(`step ${n} next`, (x) => new RegExp(`▶ ${n}\\. ${title.source}`).test(x) && /⏎ run this step/.test(x), 30_000);
    await term.keys('Enter');
  }

  test('r0 in sync, ha-a Primary serving', async (t) => {
    if (suite.skip) return t.skip(suite.skip);
    await serveR0FromA({ a, b, term });
    await term.waitFor('ha-a Primary, ha-b Secondary, both UpToDate', (x) => /r0\/0\s+Primary\s+UpToDate\s+Connected\s+.*Secondary\s+UpToDate\s+Connected/.test(x), 20_000);
  });

  test('two steps of the switchover run, then the console dies: a new console resumes it at step 4 (the wait before it is over)', async (t) => {
    if (suite.skip) return t.skip(suite.skip);
    await term.keys('r', { literal: true });
    await term.waitFor('the runbook menu', (x) => /Planned switchover: ha-a → ha-b/.test(x));
    await term.keys('Enter');
    await runStep(1, /stop the iSCSI target on ha-a/);
    await runStep(2, /demote ha-a to Secondary/);
    await term.waitFor('step 4 next (the wait for ha-b is over at once)', (x) => /▶ 4\. promote ha-b to Primary/.test(x), 20_000);
    assert.equal((await a.json('r0')).role, 'Secondary');
    await term.kill();

    // The operator's laptop died; from another terminal the procedure is where it stopped.
    term = await openTerminal({ argv: [process.execPath, CLI, '-F', join(work, 'ssh_config'), 'ha-a', 'ha-b'], cwd: ROOT, exitFile: join(work, 'console2.exit'), width: 160, height: 45 });
    opened.term = term;
    await term.waitFor('both hosts up, ha-a Secondary now', (x) => /ha-a up/.test(x) && /ha-b up/.test(x) && /r0\/0\s+Secondary\s+UpToDate\s+Connected/.test(x), 60_000);
    await term.waitFor('the run in sight', (x) => /runbook active: Planned switchover r0 on ha-a \(step 4\/5\) — r to resume/.test(x));
    await term.keys('r', { literal: true });
    const menu = flatScreen(await term.waitFor('the resume entry', (x) => /Resume: Planned switchover on ha-a — at step 4 of 5/.test(x)));
    // The menu is 80 columns wide: who started it may be cut.
    assert.match(menu, /▶ Resume: Planned switchover on ha-a — at step 4 of 5 \(started \d\d:\d\d by roo/);
    await term.keys('Enter');
    const view = flatScreen(await term.waitFor('the resumed runbook', (x) => /▶ 4\. promote ha-b to Primary/.test(x) && /resumed at step 4/.test(x)));
    assert.match(view, /✓ 1\. stop the iSCSI target on ha-a/);
    assert.match(view, /✓ 2\. demote ha-a to Secondary/);
    assert.match(view, /✓ 3\. wait until ha-b is UpToDate and Established/);
    assert.doesNotMatch(view, /▶ [123]\./);
  });

  /** The seq of r0's runbook record as `host`'s agent keeps it (its events dump). */
  async function storedSeq(host: LabAgent): Promise<number | undefined> {
    const m = /^exists runbook name:r0 .* seq:(\d+)/m.exec((await host.cli('events', '--now')).stdout);
    return m ? Number(m[1]) : undefined;
  }

  test('ha-b out of sight while the run is taken up again: back, its agent gets the newer record', async (t) => {
    if (suite.skip) return t.skip(suite.skip);
    await term.keys('Escape');
    await lab.b.powerOff();
    await term.waitFor('ha-b down', (x) => !/ha-b up/.test(x), 30_000);
    await term.keys('r', { literal: true });
    await term.waitFor('the resume entry', (x) => /Resume: Planned switchover on ha-a — at step 4 of 5/.test(x));
    await term.keys('Enter');
    await term.waitFor('the resumed runbook', (x) => /▶ 4\. promote ha-b to Primary/.test(x));
    let seqA: number | undefined;
    for (let i = 0; i < 50 && seqA === undefined; i++) seqA = await storedSeq(a);
    await lab.b.powerOn();
    await term.waitFor('ha-b up again', (x) => /ha-b up/.test(x), 60_000);
    let seqB: number | undefined;
    for (let i = 0; i < 100 && seqB !== seqA; i++) {
      seqB = await storedSeq(b).catch(() => undefined);
      if (seqB !== seqA) await sleep(100);
    }
    assert.equal(seqB, seqA, "ha-b's agent holds the record ha-a got while ha-b was down");
  });

  test('the rest runs and the run ends finished; runbook-log on each host lists every step with the SSH user', async (t) => {
    if (suite.skip) return t.skip(suite.skip);
    await runStep(4, /promote ha-b to Primary/);
    await runStep(5, /start the iSCSI target on ha-b/);
    await term.waitFor('the runbook complete', (x) => /✓ runbook complete/.test(x), 30_000);
    assert.equal((await b.json('r0')).role, 'Primary');
    for (const h of [a, b]) {
      let log = '';
      for (let i = 0; i < 50 && !/→ finished/.test(log); i++) {
        log = (await h.cli('runbook-log', 'r0')).stdout;
        if (!/→ finished/.test(log)) await sleep(100);
      }
      const lines = log.trim().split('\n');
      const results = lines.map((l) => /.* → (\w+)/.exec(l)?.[1]);
      // ha-b was down when the run was taken up the second time: the record caught up, its log has what it saw.
      const resumed = h === a ? ['resumed', 'resumed'] : ['resumed'];
      assert.deepEqual(results, ['started', 'ran', 'ran', ...resumed, 'ran', 'ran', 'finished'], `${h.host.name}:\n${log}`);
      const ran = lines.filter((l) => /→ ran/.test(l));
      assert.match(ran[0]!, /^\S+ r0 switchover\(ha-a\) step stop-target "stop the iSCSI target on ha-a" on ha-a: drbd-agent target stop r0 → ran \(/);
      assert.match(ran[1]!, /step demote "demote ha-a to Secondary" on ha-a: drbd-agent secondary r0 → ran/);
      assert.match(ran[2]!, /step promote "promote ha-b to Primary" on ha-b: drbd-agent primary r0 → ran/);
      assert.match(ran[3]!, /step start-target "start the iSCSI target on ha-b" on ha-b: drbd-agent target start r0 → ran/);
      for (const l of lines) assert.ok(l.endsWith(`(${who})`), `${h.host.name}: ${l}`);
    }
    // The view closed, nothing is active any more.
    await term.keys('Escape');
    await term.waitFor('no run in sight', (x) => !/runbook active/.test(x) && !/Planned switchover r0:/.test(x));
  });

  test('a read-only console reads the audit log (L) through the monitor sockets', async (t) => {
    if (suite.skip) return t.skip(suite.skip);
    await term.kill();
    term = await openTerminal({ argv: [process.execPath, CLI, '--read-only', '-F', join(work, 'ssh_config'), 'ha-a', 'ha-b'], cwd: ROOT, exitFile: join(work, 'console3.exit'), width: 160, height: 45 });
    opened.term = term;
    await term.waitFor('both hosts up', (x) => /ha-a up/.test(x) && /ha-b up/.test(x), 60_000);
    await term.keys('L', { literal: true });
    const log = flatScreen(await term.waitFor('the audit log', (x) => /runbook audit log of r0/.test(x) && /→ finished/.test(x), 20_000));
    assert.match(log, /switchover\(ha-a\) step promote on ha-b: drbd-agent primary r0 → ran/);
    await term.keys('Escape');
    await term.waitFor('the overview again', (x) => !/runbook audit log/.test(x));
  });
});
