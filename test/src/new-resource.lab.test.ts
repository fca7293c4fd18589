// From two bare hosts to a serving pair, from the console alone (issue 16): only sshd and Node
// on the lab hosts; `drbd-tui --config r0.yaml ha-a ha-b` in tmux deploys the agents and puts
// the file on both; the new-resource runbook creates the metadata, brings r0 up on both, waits
// for the connection, makes ha-a the initial sync source (r0 typed) and starts its target.
// Data written through ha-a's target with qemu-io reads back through ha-b's after a switchover
// through the switchover runbook. No agent CLI is typed; the hosts are checked with it only.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLab, describeLab, type Lab } from '../lab/lab.js';
import { CLI, ROOT, r0Url, readsOf, runStep as runStepIn, SEED_PATTERN, writesOf } from '../support/console-lab.js';
import { ISCSI_TOOLS, requireTools } from '../support/lab-packages.js';
import { jsonWhen, labAgent, labResourceYaml, qemuIo, type LabAgent } from '../support/lab-agents.js';
import { flatScreen, openTerminal, requireConsoleTerminal, type Terminal } from '../support/tmux.js';

describeLab('a new pair from the console: --config, the new-resource runbook, serving', () => {
  let lab: Lab;
  let work: string;
  let skip: string | undefined;
  let a: LabAgent;
  let b: LabAgent;
  let term: Terminal | undefined;

  before(async () => {
    skip = (await requireConsoleTerminal(CLI)) ?? (await requireTools(ISCSI_TOOLS));
    if (skip) return;
    work = mkdtempSync(join(tmpdir(), 'drbd-tui-new-resource-'));
    lab = await createLab();
    a = labAgent(lab.a);
    b = labAgent(lab.b);
  });
  after(async () => {
    await term?.kill();
    await lab?.destroy();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  const runStep = (n: number, title: RegExp, keys: string[] = []) => runStepIn(term!, n, title, keys);

  test('--config puts r0 on both bare hosts; r0 shows as configured with the next step', async (t) => {
    if (skip) return t.skip(skip);
    const local = join(work, 'r0.yaml');
    writeFileSync(local, labResourceYaml(lab, { name: 'r0', port: 7789, size: '8MiB' }).a);
    term = await openTerminal({ argv: [process.execPath, CLI, '--config', local, '-F', lab.sshConfig, 'ha-a', 'ha-b'], cwd: ROOT, exitFile: join(work, 'console.exit'), width: 120, height: 50 });
    await term.waitFor('the put dialog', (s) => /Put the resource file of r0 on ha-a and ha-b\?/.test(s), 60_000);
    await term.keys('y', { literal: true });
    await term.waitFor('the outcome', (s) => /--config .*r0\.yaml: done/.test(s), 20_000);
    await term.keys('Enter');
    const s = await term.waitFor('r0 in the table, its disk not created yet on both', (x) => /r0\/0\s+no disk\s.*no disk/.test(x), 20_000);
    assert.doesNotMatch(s, /Primary|UpToDate/, s);
    assert.match(flatScreen(s), /backing disk \/var\/lib\/drbd-tui\/disks\/r0-0\.img does not exist/);
  });

  test('r: the new-resource runbook from metadata to a running target, ha-a the initial sync source', async (t) => {
    if (skip) return t.skip(skip);
    assert.ok(term, 'the console was not opened by the first test');
    await term.keys('r', { literal: true });
    await term.waitFor('the runbook menu', (s) => /New resource: metadata, up, initial sync from ha-a/.test(s));
    await term.keys('Enter');
    await runStep(1, /create metadata on ha-a/);
    await runStep(2, /create metadata on ha-b/);
    await runStep(3, /bring r0 up on ha-a/);
    await runStep(4, /bring r0 up on ha-b/);
    const pick = await term.waitFor('the initial sync step', (x) => /▶ 6\. make ha-a the initial sync source/.test(x) && /Type r0 and press Enter/.test(x), 60_000);
    const flat = flatScreen(pick);
    assert.match(flat, /runs on ha-a: drbd-agent primary --force r0/);
    assert.match(flat, /ha-b's content \(7\.7 MiB\) is overwritten by ha-a's/);
    assert.match(flat, /on connect ha-a → ha-b, full resync of the whole volume/);
    // y is no confirmation of a destructive step.
    await term.keys('y', { literal: true });
    await term.keys('Enter');
    await term.waitFor('the mismatch', (x) => /"y" does not match r0/.test(x));
    const stillBlank = await b.json('r0');
    assert.equal(stillBlank.devices[0]?.['disk-state'], 'Inconsistent');
    await term.keys('BSpace');
    await runStep(6, /make ha-a the initial sync source/, ['r0']);
    // The forced source is Primary already: step 8 is done by itself.
    await runStep(9, /start the iSCSI target on ha-a/);
    await term.waitFor('the runbook complete', (x) => /runbook complete/.test(x), 30_000);
    await term.keys('Enter');
    const sa = await jsonWhen(a, 'r0', (s) => s.role === 'Primary' && s.devices[0]?.['disk-state'] === 'UpToDate', 'ha-a Primary UpToDate');
    assert.equal(sa.connections[0]?.peer_devices[0]?.['peer-disk-state'], 'UpToDate');
  });

  test('data written through ha-a reads back through ha-b after the switchover runbook', async (t) => {
    if (skip) return t.skip(skip);
    assert.ok(term, 'the console was not opened by the first test');
    const w = qemuIo(r0Url(a), writesOf(SEED_PATTERN));
    assert.equal(w.code, 0, w.out);
    await term.keys('r', { literal: true });
    await term.waitFor('the switchover in the menu', (s) => /Planned switchover: ha-a → ha-b/.test(s));
    await term.keys('Enter');
    await runStep(1, /stop the iSCSI target on ha-a/);
    await runStep(2, /demote ha-a to Secondary/);
    // Step 3 waits for ha-b UpToDate and Established: in sync already, it is done by itself.
    await runStep(4, /promote ha-b to Primary/);
    await runStep(5, /start the iSCSI target on ha-b/);
    await term.waitFor('the switchover complete', (x) => /runbook complete/.test(x), 30_000);
    await term.keys('Enter');
    const r = qemuIo(r0Url(b), readsOf(SEED_PATTERN));
    assert.equal(r.code, 0, r.out);
    assert.doesNotMatch(r.out, /verification failed/i, r.out);
  });
});
