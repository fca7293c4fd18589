// `drbd-tui runbook` against the two-host lab, run as a script runs it (the built CLI, the
// lab's ssh_config, answers piped on stdin): r0 Primary on ha-a with its target serving. The
// dry run lists the switchover's four steps with their commands (exit 0) and exits 2 naming
// ha-b while its sshd is away; a "n" runs nothing; "y" answers run the switchover: ha-b ends
// Primary with its target running, and what qemu-io wrote through ha-a reads back through ha-b.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createLab, describeLab, type Lab } from '../lab/lab.js';
import { runConsole } from '../support/console-cli.js';
import { CLI, r0Url, readsOf, SEED_PATTERN, writesOf } from '../support/console-lab.js';
import { ISCSI_TOOLS, requireTools } from '../support/lab-packages.js';
import { freshPair, installResource, jsonWhen, labAgent, labResourceYaml, qemuIo, type LabAgent } from '../support/lab-agents.js';
import type { StatusJson } from '../../src/status/report.js';

describeLab('drbd-tui runbook from the command line', () => {
  let lab: Lab;
  let skip: string | undefined;
  let a: LabAgent;
  let b: LabAgent;
  const runbook = (args: string[], input?: string) => runConsole(CLI, ['runbook', ...args, '-F', lab.sshConfig, 'ha-a', 'ha-b'], 180_000, input);

  before(async () => {
    skip = await requireTools(ISCSI_TOOLS);
    if (skip) return;
    lab = await createLab();
    a = labAgent(lab.a);
    b = labAgent(lab.b);
    const yaml = labResourceYaml(lab, { name: 'r0', port: 7789, size: '8MiB' });
    await installResource(a, 'r0', yaml.a);
    await installResource(b, 'r0', yaml.b);
    await a.start();
    await b.start();
    await freshPair(a, b, 'r0');
  });
  after(async () => {
    await lab?.destroy();
  });

  test('--dry-run: the four steps with their commands, step 1 runnable; exit 0', async (t) => {
    if (skip) return t.skip(skip);
    const r = await runbook(['switchover', '--dry-run']);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    const want = [
      /^Planned switchover r0: ha-a → ha-b$/m,
      /^▶ 1\. stop the iSCSI target on ha-a\n {5}runs on ha-a: drbd-agent target stop r0$/m,
      /^ {5}✓ ha-b Connected and UpToDate$/m,
      /^· 2\. demote ha-a to Secondary\n {5}would run on ha-a: drbd-agent secondary r0$/m,
      /^· 3\. promote ha-b to Primary\n {5}would run on ha-b: drbd-agent primary r0$/m,
      /^· 4\. start the iSCSI target on ha-b\n {5}would run on ha-b: drbd-agent target start r0$/m,
      /^→ step 1 can run$/m,
    ];
    for (const re of want) assert.match(r.stdout, re);
    assert.ok(!r.stdout.includes('\x1b['), 'no colours on a pipe');
  });

  test('--dry-run with ha-b unreachable over SSH: exit 2, ha-b and the SSH error named', async (t) => {
    if (skip) return t.skip(skip);
    await lab.b.stopSshd();
    try {
      const r = await runbook(['switchover', '--dry-run']);
      assert.equal(r.code, 2, r.stdout + r.stderr);
      assert.match(r.stdout, /^✖ ha-b unreachable: .+/m);
      assert.match(r.stdout, /Connection refused|ECONNREFUSED/);
    } finally {
      await lab.b.startSshd();
    }
  });

  test('an answer other than y runs nothing: exit 1, ha-a still serving', async (t) => {
    if (skip) return t.skip(skip);
    const r = await runbook(['switchover'], 'n\n');
    assert.equal(r.code, 1, r.stdout + r.stderr);
    assert.match(r.stdout, /Run\? \[y\/N\] not confirmed: step 1 not run, nothing more was run/);
    assert.equal((await a.json('r0')).role, 'Primary');
    const eof = await runbook(['switchover'], '');
    assert.equal(eof.code, 1, eof.stdout + eof.stderr);
    assert.match(eof.stdout, /end of input: step 1 not run/);
  });

  test('the switchover run with y answers: ha-b Primary and serving what was written through ha-a', async (t) => {
    if (skip) return t.skip(skip);
    const w = qemuIo(r0Url(a), writesOf(SEED_PATTERN));
    assert.equal(w.code, 0, w.out);
    const r = await runbook(['switchover'], 'y\ny\ny\ny\n');
    assert.equal(r.code, 0, r.stdout + r.stderr);
    for (const re of [
      /ha-a: drbd-agent target stop r0: done/,
      /ha-a: drbd-agent secondary r0: done/,
      /ha-b: drbd-agent primary r0: done/,
      /ha-b: drbd-agent target start r0: done/,
      /^✓ ha-a Secondary( \(\d+ s\))?$/m,
      /^✓ target running on ha-b( \(\d+ s\))?$/m,
      /✓ runbook complete\n$/,
    ])
      assert.match(r.stdout, re);
    assert.equal((r.stdout.match(/Run\? \[y\/N\] /g) ?? []).length, 4, r.stdout);
    await jsonWhen(b, 'r0', (s) => s.role === 'Primary', 'ha-b Primary');
    assert.equal((await a.json('r0')).role, 'Secondary');
    const st = await runConsole(CLI, ['status', '--json', '-F', lab.sshConfig, 'ha-a', 'ha-b']);
    const j = JSON.parse(st.stdout) as StatusJson;
    assert.equal(j.resources[0]?.hosts[1].target?.state, 'running', st.stdout);
    const back = qemuIo(r0Url(b), readsOf(SEED_PATTERN));
    assert.equal(back.code, 0, back.out);
    assert.doesNotMatch(back.out, /verification failed/i, back.out);
  });
});
