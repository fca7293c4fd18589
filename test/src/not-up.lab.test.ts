// Every resource a host knows is visible, broken ones with their cause (issue 16 item 1, issue
// 14 item 4): in the lab, ha-a has a resource file that does not load (r1), a resource whose
// backing disk does not exist (r2) and one whose metadata was overwritten (r3), beside a good
// pair (r0). The console (in tmux) deploys the agents itself; each cause is read back from its
// screen and from `drbd-tui status --json`, r0 keeps serving, and `ssh ha-a drbd-agent status`
// works with the drbd-agent the deploy put on the host's PATH.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readlinkSync, rmSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { computeLayout } from '../../agent/engine/md-layout.js';
import { createLab, describeLab, type Lab } from '../lab/lab.js';
import { runConsole } from '../support/console-cli.js';
import { freshPair, inSync, installResource, labAgent, labResourceYaml, type LabAgent } from '../support/lab-agents.js';
import { flatScreen, openTerminal, requireConsoleTerminal, type Terminal } from '../support/tmux.js';

const ROOT = resolve(import.meta.dirname, '../..');
const CLI = join(ROOT, 'dist/cli.js');
const DISK = (name: string) => `/var/lib/drbd-tui/disks/${name}-0.img`;

describeLab('resources that are not up, with their cause, beside one that works', () => {
  let lab: Lab;
  let work: string;
  let skip: string | undefined;
  let agents: [LabAgent, LabAgent];
  let term: Terminal | undefined;

  before(async () => {
    skip = await requireConsoleTerminal(CLI);
    if (skip) return;
    work = mkdtempSync(join(tmpdir(), 'drbd-tui-not-up-lab-'));
    lab = await createLab();
    agents = [labAgent(lab.a), labAgent(lab.b)];
    const yaml = (name: string, port: number) => labResourceYaml(lab, { name, port, size: '8MiB', iscsiPort: 3260 + port - 7789 });
    const r0 = yaml('r0', 7789);
    await installResource(agents[0], 'r0', r0.a);
    await installResource(agents[1], 'r0', r0.b);
    const r1 = yaml('r1', 7790);
    await installResource(agents[0], 'r1', r1.a.replace('protocol: C', 'protocol: D'));
    await installResource(agents[1], 'r1', r1.b);
    // No size: create-md would not make the file; the disk is simply not there.
    const r2 = yaml('r2', 7791);
    await installResource(agents[0], 'r2', r2.a.replace(/\n {4}size: .*/, ''));
    await installResource(agents[1], 'r2', r2.b);
    const r3 = yaml('r3', 7792);
    await installResource(agents[0], 'r3', r3.a);
    await installResource(agents[1], 'r3', r3.b);
    term = await openTerminal({ argv: [process.execPath, CLI, '-F', lab.sshConfig, 'ha-a', 'ha-b'], cwd: ROOT, exitFile: join(work, 'console.exit'), width: 220, height: 50 });
  });
  after(async () => {
    await term?.kill();
    await lab?.destroy();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  test('the console deploys the agents; r0 becomes a serving pair while the others are not up', async (t) => {
    if (skip) return t.skip(skip);
    await term!.waitFor('both hosts up', (s) => /ha-a up/.test(s) && /ha-b up/.test(s), 60_000);
    await freshPair(agents[0], agents[1], 'r0');
    for (const name of ['r2', 'r3']) {
      for (const verb of ['create-md', 'up']) assert.equal((await agents[1].cli(verb, name)).code, 0, `${verb} ${name} on ha-b`);
    }
    assert.equal((await agents[0].cli('create-md', 'r3')).code, 0);
    // Garbage over both superblock slots of ha-a's r3 (the magic stays: a torn write, not a blank disk).
    const fh = await open(agents[0].path(DISK('r3')), 'r+');
    for (const off of computeLayout((await fh.stat()).size).superblockOffsets) await fh.write(Buffer.from('garbage over the metadata'), 0, 25, off + 100);
    await fh.close();
    for (const name of ['r2', 'r3']) assert.notEqual((await agents[0].cli('up', name)).code, 0, `up ${name} on ha-a is refused`);
  });

  test('the console shows each cause with the next step, in the table and the problems', async (t) => {
    if (skip) return t.skip(skip);
    const want = [
      /r1 on ha-a: broken: \/etc\/drbd-tui\/r1\.yaml:2:11: protocol must be A, B or C[^;]*; next: fix \/etc\/drbd-tui\/r1\.yaml:2:11, then: drbd-agent adjust/,
      // A new resource on ha-b: its file disk is made by create-md, which is the next step.
      new RegExp(`r1 on ha-b: broken: backing disk ${DISK('r1')} does not exist; next: drbd-agent create-md r1 \\(creates ${DISK('r1')}\\), then: drbd-agent up r1`),
      new RegExp(`r2 on ha-a: broken: backing disk ${DISK('r2')} does not exist; next: attach the disk or correct disk: in /etc/drbd-tui/r2\\.yaml, then: drbd-agent up r2`),
      new RegExp(`r3 on ha-a: broken: metadata on ${DISK('r3')} is damaged \\(checksum mismatch\\); next: if the peer holds good data: drbd-agent create-md --force r3`),
    ];
    const screen = await term!.waitFor('every cause on screen', (s) => want.every((re) => re.test(flatScreen(s))), 20_000);
    const row = (key: string) => screen.split('\n').find((l) => l.startsWith(key)) ?? `(no row ${key})`;
    assert.match(row('r0/0'), /Primary\s+UpToDate\s+Connected\s+.*Secondary\s+UpToDate\s+Connected/);
    assert.match(row('r1/0'), /bad config\s+no disk/);
    assert.match(row('r2/0'), /no disk\s+.*Secondary/);
    assert.match(row('r3/0'), /bad metadata\s+.*Secondary/);
    assert.doesNotMatch(flatScreen(screen), /not configured or not up/);
  });

  test('drbd-tui status --json names each cause; r0 is Connected and UpToDate on both', async (t) => {
    if (skip) return t.skip(skip);
    const r = await runConsole(CLI, ['status', '--json', '-F', lab.sshConfig, 'ha-a', 'ha-b']);
    const j = JSON.parse(r.stdout) as { resources: Array<{ name: string; hosts: Array<{ present: boolean; disk: string; connection: string; notUp?: { cause: string; reason: string; next: string; state: string } }> }> };
    const res = (name: string) => j.resources.find((x) => x.name === name)!;
    assert.deepEqual(j.resources.map((x) => x.name), ['r0', 'r1', 'r2', 'r3'], r.stdout);
    assert.deepEqual(res('r0').hosts.map((h) => [h.present, h.disk, h.connection]), [[true, 'UpToDate', 'Connected'], [true, 'UpToDate', 'Connected']]);
    assert.deepEqual(res('r1').hosts.map((h) => h.notUp?.cause), ['config-error', 'backing-disk-missing']);
    assert.match(res('r1').hosts[0]!.notUp!.reason, /^\/etc\/drbd-tui\/r1\.yaml:2:11: /);
    assert.equal(res('r2').hosts[0]!.notUp?.cause, 'backing-disk-missing');
    assert.equal(res('r2').hosts[0]!.notUp?.reason, `backing disk ${DISK('r2')} does not exist`);
    assert.equal(res('r3').hosts[0]!.notUp?.cause, 'metadata-invalid');
    assert.match(res('r3').hosts[0]!.notUp!.state, /^broken: metadata on .* is damaged/);
    for (const name of ['r2', 'r3']) assert.equal(res(name).hosts[1]!.present, true, `${name} is up on ha-b`);
    await inSync(agents[0], 'r0', 'r0 still in sync');
  });

  test('ssh ha-a drbd-agent status: drbdadm lines for what is up, a line of its own for each of the others', async (t) => {
    if (skip) return t.skip(skip);
    const out = execFileSync('ssh', ['-F', lab.sshConfig, '-o', 'BatchMode=yes', 'ha-a', 'drbd-agent', 'status'], { encoding: 'utf8', timeout: 20_000 });
    assert.match(out, /^r0 role:Primary\n {2}disk:UpToDate\n/);
    assert.match(out, /^# not up: r1 \(\/etc\/drbd-tui\/r1\.yaml\): broken: \/etc\/drbd-tui\/r1\.yaml:2:11: /m);
    assert.match(out, new RegExp(`^# not up: r2 \\(/etc/drbd-tui/r2\\.yaml\\): broken: backing disk ${DISK('r2')} does not exist; next: `, 'm'));
    assert.match(out, /^# not up: r3 \(\/etc\/drbd-tui\/r3\.yaml\): broken: metadata on .* is damaged/m);
    // The link is an in-host path: read what it names inside ha-a.
    const wrapper = readlinkSync(lab.a.realPath('/usr/local/sbin/drbd-agent'));
    assert.match(wrapper, /^\/var\/lib\/drbd-tui\/agent\/[^/]+\/drbd-agent$/);
    assert.match(readFileSync(lab.a.realPath(wrapper), 'utf8'), /^#!\/bin\/sh\nexec '?\/\S*node'? '?\/var\/lib\/drbd-tui\/agent\/[^/]+\/agent\.mjs'? "\$@"\n$/);
  });

  test('a resource taken down stays on screen, as down', async (t) => {
    if (skip) return t.skip(skip);
    assert.equal((await agents[1].cli('down', 'r2')).code, 0);
    await term!.waitFor('r2 down on ha-b', (s) => /r2 on ha-b: configured, down; next: drbd-agent up r2/.test(flatScreen(s)));
  });
});
