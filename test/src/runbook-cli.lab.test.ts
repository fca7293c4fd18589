// `drbd-tui runbook` against the two-host lab, run as a script runs it (the built CLI, the
// lab's ssh_config, answers piped on stdin): r0 Primary on ha-a with its target serving. The
// dry run lists the switchover's five steps with their commands (exit 0) and exits 2 naming
// ha-b while its sshd is away; "n", the end of input and Ctrl-C run nothing; "y" answers run
// the switchover: stopped after two steps (the end of input), another runbook is refused while
// it is active, and a second run takes it up at step 4; ha-b ends Primary with its target
// running, what qemu-io wrote through ha-a reads back through ha-b, and each host's
// runbook-log lists every step. r1, only its files on both hosts, goes through the
// new-resource runbook: the variant chosen, the resource name typed, both waits. Last, ha-b
// loses its power and the failover runbook makes ha-a serve r0's data.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createLab, describeLab, type Lab } from '../lab/lab.js';
import { runConsole } from '../support/console-cli.js';
import { CLI, r0Url, readsOf, SEED_PATTERN, writesOf } from '../support/console-lab.js';
import { ISCSI_TOOLS, requireTools } from '../support/lab-packages.js';
import { disconnected, freshPair, installResource, jsonWhen, labAgent, labResourceYaml, qemuIo, type LabAgent } from '../support/lab-agents.js';
import type { StatusJson } from '../../src/status/report.js';

describeLab('drbd-tui runbook from the command line', () => {
  let lab: Lab;
  let skip: string | undefined;
  let a: LabAgent;
  let b: LabAgent;
  const runbook = (args: string[], input?: string) => runConsole(CLI, ['runbook', ...args, '-F', lab.sshConfig, 'ha-a', 'ha-b'], 180_000, input);
  const status = async () => JSON.parse((await runConsole(CLI, ['status', '--json', '-F', lab.sshConfig, 'ha-a', 'ha-b'])).stdout) as StatusJson;

  before(async () => {
    skip = await requireTools(ISCSI_TOOLS);
    if (skip) return;
    lab = await createLab();
    a = labAgent(lab.a);
    b = labAgent(lab.b);
    const yaml = labResourceYaml(lab, { name: 'r0', port: 7789, size: '8MiB' });
    await installResource(a, 'r0', yaml.a);
    await installResource(b, 'r0', yaml.b);
    // r1: files only, nothing created yet, for the new-resource runbook.
    const r1 = labResourceYaml(lab, { name: 'r1', port: 7790, size: '8MiB', iscsiPort: 3261 });
    await installResource(a, 'r1', r1.a);
    await installResource(b, 'r1', r1.b);
    await a.start();
    await b.start();
    await freshPair(a, b, 'r0');
  });
  after(async () => {
    await lab?.destroy();
  });

  test('--dry-run: the five steps with their commands, step 1 runnable; exit 0', async (t) => {
    if (skip) return t.skip(skip);
    const r = await runbook(['switchover', '--dry-run', '--resource', 'r0']);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    const want = [
      /^Planned switchover r0: ha-a → ha-b$/m,
      /^▶ 1\. stop the iSCSI target on ha-a\n {5}runs on ha-a: drbd-agent target stop r0$/m,
      /^ {5}✓ ha-b Connected and UpToDate$/m,
      /^· 2\. demote ha-a to Secondary\n {5}would run on ha-a: drbd-agent secondary r0$/m,
      /^· 3\. wait until ha-b is UpToDate and Established\n {5}waits until ha-b UpToDate and Established$/m,
      /^· 4\. promote ha-b to Primary\n {5}would run on ha-b: drbd-agent primary r0$/m,
      /^· 5\. start the iSCSI target on ha-b\n {5}would run on ha-b: drbd-agent target start r0$/m,
      /^→ step 1 can run$/m,
    ];
    for (const re of want) assert.match(r.stdout, re);
    assert.ok(!r.stdout.includes('\x1b['), 'no colours on a pipe');
  });

  test('--dry-run with ha-b unreachable over SSH: exit 2, ha-b and the SSH error named', async (t) => {
    if (skip) return t.skip(skip);
    await lab.b.stopSshd();
    try {
      const r = await runbook(['switchover', '--dry-run', '--resource', 'r0']);
      assert.equal(r.code, 2, r.stdout + r.stderr);
      assert.match(r.stdout, /^✖ ha-b unreachable: .+/m);
      assert.match(r.stdout, /Connection refused|ECONNREFUSED/);
    } finally {
      await lab.b.startSshd();
    }
  });

  test('an answer other than y runs nothing: exit 1, ha-a still serving', async (t) => {
    if (skip) return t.skip(skip);
    const r = await runbook(['switchover', '--resource', 'r0'], 'n\n');
    assert.equal(r.code, 1, r.stdout + r.stderr);
    assert.match(r.stdout, /Run\? \[y\/N\] not confirmed: step 1 not run, nothing more was run/);
    assert.equal((await a.json('r0')).role, 'Primary');
    const eof = await runbook(['switchover', '--resource', 'r0'], '');
    assert.equal(eof.code, 1, eof.stdout + eof.stderr);
    assert.match(eof.stdout, /end of input: step 1 not run/);
  });

  test('Ctrl-C at the question: exit 130, nothing run', async (t) => {
    if (skip) return t.skip(skip);
    const env = { ...process.env };
    delete env.NODE_TEST_CONTEXT;
    delete env.SSH_AUTH_SOCK;
    const child = spawn(process.execPath, [CLI, 'runbook', 'switchover', '--resource', 'r0', '-F', lab.sshConfig, 'ha-a', 'ha-b'], { env, stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    const asked = new Promise<void>((resolve) =>
      child.stdout.setEncoding('utf8').on('data', (d: string) => {
        out += d;
        if (out.includes('Run? [y/N] ')) resolve();
      }),
    );
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    await Promise.race([asked, exited]);
    child.kill('SIGINT');
    assert.equal(await exited, 130, out);
    assert.match(out, /stopped \(Ctrl-C\): nothing more was run/);
    assert.equal((await a.json('r0')).role, 'Primary');
  });

  test('the switchover stopped after two steps and taken up by a second run: ha-b Primary, serving what was written through ha-a; runbook-log lists every step', async (t) => {
    if (skip) return t.skip(skip);
    const w = qemuIo(r0Url(a), writesOf(SEED_PATTERN));
    assert.equal(w.code, 0, w.out);
    // The input ends at step 4's question: the run stays active on the agents.
    const first = await runbook(['switchover', '--resource', 'r0'], 'y\ny\n');
    assert.equal(first.code, 1, first.stdout + first.stderr);
    for (const re of [/ha-a: drbd-agent target stop r0: done/, /ha-a: drbd-agent secondary r0: done/, /end of input: step 4 not run/]) assert.match(first.stdout, re);
    // Another runbook is refused while this one is active.
    const other = await runbook(['failover', '--resource', 'r0', '--dry-run']);
    assert.equal(other.code, 1, other.stdout + other.stderr);
    assert.match(other.stdout, /^r0 has an active runbook: Planned switchover r0 on ha-a \(step 4\/5\)\nfinish it \(drbd-tui runbook switchover\) or abandon it in the console \(r, then X\)$/m);
    const r = await runbook(['switchover', '--resource', 'r0'], 'y\ny\n');
    assert.equal(r.code, 0, r.stdout + r.stderr);
    for (const re of [
      /^resuming Planned switchover r0 on ha-a \(step 4\/5\), started by root@/m,
      /ha-b: drbd-agent primary r0: done/,
      /ha-b: drbd-agent target start r0: done/,
      /^✓ target running on ha-b \(\d+ s\)$/m,
      /✓ runbook complete\n$/,
    ])
      assert.match(r.stdout, re);
    assert.doesNotMatch(r.stdout, /drbd-agent (target stop|secondary) r0/, 'steps 1 and 2 are not run again');
    assert.equal((r.stdout.match(/Run\? \[y\/N\] /g) ?? []).length, 2, r.stdout);
    await jsonWhen(b, 'r0', (s) => s.role === 'Primary', 'ha-b Primary');
    assert.equal((await a.json('r0')).role, 'Secondary');
    const j = await status();
    assert.equal(j.resources.find((x) => x.name === 'r0')?.hosts[1].target?.state, 'running', JSON.stringify(j));
    const back = qemuIo(r0Url(b), readsOf(SEED_PATTERN));
    assert.equal(back.code, 0, back.out);
    assert.doesNotMatch(back.out, /verification failed/i, back.out);
    for (const h of [a, b]) {
      const log = (await h.cli('runbook-log', 'r0')).stdout;
      const want = [
        /switchover\(ha-a\) "Planned switchover r0: ha-a → ha-b" → started \(root@/,
        /step stop-target .*on ha-a: drbd-agent target stop r0 → ran \(root@/,
        /step demote .*on ha-a: drbd-agent secondary r0 → ran \(root@/,
        /→ resumed \(root@/,
        /on ha-b: drbd-agent primary r0 → ran \(root@/,
        /on ha-b: drbd-agent target start r0 → ran \(root@/,
        /→ finished \(root@/,
      ];
      let at = 0;
      for (const re of want) {
        const k = log.slice(at).search(re);
        assert.ok(k >= 0, `${h.host.name}: ${re.source} after position ${at} in\n${log}`);
        at += k;
      }
    }
  });

  test('a subject for which the runbook does not apply: its plan with the note and the failing check, exit 1, nothing asked', async (t) => {
    if (skip) return t.skip(skip);
    const r = await runbook(['failover', '--resource', 'r0', '--host', 'ha-a'], 'ha-a\n');
    assert.equal(r.code, 1, r.stdout + r.stderr);
    assert.match(r.stdout, /^note: Failover after a power loss does not apply to r0 now: both hosts answer/m);
    assert.match(r.stdout, /^ {5}✗ ha-a unreachable — ha-a answers: use the switchover runbook$/m);
    assert.equal((r.stdout.match(/✗ blocked at step 1: ha-a answers: use the switchover runbook/g) ?? []).length, 1, r.stdout);
    assert.doesNotMatch(r.stdout, /to confirm:/);
  });

  test('new-resource on r1 from nothing: metadata, up, the initial sync source chosen (1) and r1 typed, the waits, the target', async (t) => {
    if (skip) return t.skip(skip);
    const dry = await runbook(['new-resource', '--resource', 'r1', '--dry-run']);
    assert.equal(dry.code, 1, dry.stdout + dry.stderr);
    assert.match(dry.stdout, /several choices, pass --host:\n {2}--host ha-a {2}New resource: metadata, up, initial sync from ha-a\n {2}--host ha-b /);
    const r = await runbook(['new-resource', '--resource', 'r1', '--host', 'ha-a'], 'y\ny\ny\ny\n1\nr1\ny\n');
    assert.equal(r.code, 0, r.stdout + r.stderr);
    for (const re of [
      /ha-a: drbd-agent create-md r1: done/,
      /ha-b: drbd-agent create-md r1: done/,
      /ha-b: drbd-agent up r1: done/,
      // A wait the state has already reached when it comes up is passed over, said so.
      /^✓ both Connected \(\d+ s\)$|^✓ 5\. wait until ha-a and ha-b are Connected: in effect already$/m,
      /^ {5}1\) FORCE promote\n {8}runs on ha-a: drbd-agent primary --force r1$/m,
      /^ {5}2\) skip the initial sync\n {8}runs on ha-a: drbd-agent new-current-uuid --clear-bitmap r1$/m,
      /1\) FORCE promote {2}2\) skip the initial sync\nChoose 1 or 2 \(anything else stops\): DESTRUCTIVE\. Type r1 to confirm: running drbd-agent primary --force r1 on ha-a…/,
      /^✓ ha-b Connected and UpToDate \(\d+ s\)$|^✓ 7\. wait for the initial sync ha-a → ha-b: in effect already$/m,
      /^✓ 8\. promote ha-a to Primary: in effect already\n▶ 9\. start the iSCSI target on ha-a \(optional\)/m,
      /Run\? \[y\/N\] \(N finishes here\) running drbd-agent target start r1 on ha-a…/,
      /ha-a: drbd-agent target start r1: done/,
      /✓ runbook complete\n$/,
    ])
      assert.match(r.stdout, re);
    const j = (await status()).resources.find((x) => x.name === 'r1');
    assert.deepEqual(j?.hosts.map((h) => [h.role, h.disk, h.target?.state]), [['Primary', 'UpToDate', 'running'], ['Secondary', 'UpToDate', 'stopped']], JSON.stringify(j));
  });

  test('failover after ha-b (r0 Primary since the switchover) loses its power: ha-b typed, ha-a serves the data', async (t) => {
    if (skip) return t.skip(skip);
    await lab.b.powerOff();
    await disconnected(a, 'r0');
    const dry = await runbook(['failover', '--resource', 'r0', '--dry-run']);
    assert.equal(dry.code, 0, dry.stdout + dry.stderr);
    assert.match(dry.stdout, /^✖ ha-b unreachable: /m);
    // y is no answer to a typed confirmation: nothing runs.
    const wrong = await runbook(['failover', '--resource', 'r0'], 'y\n');
    assert.equal(wrong.code, 1, wrong.stdout + wrong.stderr);
    assert.match(wrong.stdout, /Type ha-b to confirm: not confirmed: step 1 not run/);
    assert.equal((await a.json('r0')).role, 'Secondary');
    const r = await runbook(['failover', '--resource', 'r0'], 'ha-b\ny\ny\n');
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /ha-a: drbd-agent primary r0: done/);
    assert.match(r.stdout, /ha-a: drbd-agent target start r0: done/);
    // The rejoin of ha-b is optional: the end of input leaves it for later.
    assert.match(r.stdout, /Wait until ha-b reachable with r0 up\? \[y\/N\] \(N finishes here\) \n✓ runbook complete: step 4 and the steps after it are optional, not run\n$/);
    const back = qemuIo(r0Url(a), readsOf(SEED_PATTERN));
    assert.equal(back.code, 0, back.out);
    assert.doesNotMatch(back.out, /verification failed/i, back.out);
  });
});
