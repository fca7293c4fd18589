// The console end to end in a real terminal against the two-host lab: tmux runs the built
// `drbd-tui -F <lab ssh_config> ha-a ha-b` (CI unset for the child), keys go in, the screen
// comes back. The console deploys the agent itself on first connect; the resource is made
// with the agent CLI inside the hosts, and every action is checked with the agent's own
// `status --json` there, not with what the screen claims.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fingerprintSha256, parseKnownHosts } from '../../src/ssh/known-hosts.js';
import { createLab, describeLab, type Lab } from '../lab/lab.js';
import { inSync, installResource, jsonWhen, labAgent, labResourceYaml, type LabAgent } from '../support/lab-agents.js';
import { openTerminal, requireConsoleTerminal, type Terminal } from '../support/tmux.js';
import { setTimeout as sleep } from 'node:timers/promises';

const ROOT = resolve(import.meta.dirname, '../..');
const CLI = join(ROOT, 'dist/cli.js');

/** The resource row of the overview: `r0/0 ROLE DISK LINK … ROLE DISK LINK`. */
function row(screen: string): string {
  return screen.split('\n').find((l) => l.startsWith('r0/0')) ?? '';
}

describeLab('the console in a terminal against the lab', () => {
  let lab: Lab;
  let work: string;
  let skip: string | undefined;
  let sshConfig: string;
  let agents: [LabAgent, LabAgent];
  const terms: Terminal[] = [];
  let console_: Terminal;

  const open = async (name: string, args: string[], size = { width: 100, height: 30 }): Promise<Terminal> => {
    const t = await openTerminal({ argv: [process.execPath, CLI, ...args], cwd: ROOT, exitFile: join(work, `${name}.exit`), ...size });
    terms.push(t);
    return t;
  };
  const role = async (a: LabAgent) => (await a.json('r0')).role;

  before(async () => {
    skip = await requireConsoleTerminal(CLI);
    if (skip) return;
    work = mkdtempSync(join(tmpdir(), 'drbd-tui-console-lab-'));
    lab = await createLab();
    // An operator who wants a dead host noticed fast says so in ssh_config, as for ssh.
    sshConfig = join(work, 'ssh_config');
    writeFileSync(sshConfig, readFileSync(lab.sshConfig, 'utf8') + '  ServerAliveInterval 1\n  ServerAliveCountMax 2\n');
    agents = [labAgent(lab.a), labAgent(lab.b)];
    const yaml = labResourceYaml(lab, { name: 'r0', port: 7789, size: '8MiB' });
    await installResource(agents[0], 'r0', yaml.a);
    await installResource(agents[1], 'r0', yaml.b);
  });
  after(async () => {
    for (const t of terms) await t.kill();
    await lab?.destroy();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  test('deploys the agents, then shows both hosts with roles and disk states as the resource comes up', async (t) => {
    if (skip) return t.skip(skip);
    console_ = await open('main', ['-F', sshConfig, 'ha-a', 'ha-b']);
    // No agent runs yet: the console installs and starts one on each host over SSH.
    await console_.waitFor('both hosts up', (s) => /ha-a up/.test(s) && /ha-b up/.test(s), 60_000);
    for (const h of lab.hosts) assert.ok(existsSync(h.realPath('/run/drbd-tui/agent.pid')), `agent started on ${h.name}`);
    for (const a of agents) {
      for (const verb of ['create-md', 'up']) {
        const r = await a.cli(verb, 'r0');
        assert.equal(r.code, 0, `${verb} on ${a.host.name}: ${r.stdout}${r.stderr}`);
      }
    }
    await jsonWhen(agents[0], 'r0', (s) => s.connections[0]?.peer_devices[0]?.['replication-state'] === 'Established', 'connected');
    const p = await agents[0].cli('primary', '--force', 'r0');
    assert.equal(p.code, 0, p.stderr);
    for (const a of agents) await jsonWhen(a, 'r0', (s) => s.devices[0]?.['disk-state'] === 'UpToDate' && s.connections[0]?.peer_devices[0]?.['peer-disk-state'] === 'UpToDate', 'sync done', 60_000);
    const screen = await console_.waitFor('r0 Primary/Secondary, both UpToDate', (s) => /r0\/0\s+Primary\s+UpToDate\s+Connected\s+.*Secondary\s+UpToDate\s+Connected/.test(row(s)), 20_000);
    assert.match(screen, /drbd-tui ● ha-a up \d+(\.\d+)?ms v\d/);
    assert.doesNotMatch(screen, /READ-ONLY/);
  });

  test('s then y demotes ha-a; Tab, p then y promotes ha-b; s then y demotes it again', async (t) => {
    if (skip) return t.skip(skip);
    await console_.keys('s', { literal: true });
    let s = await console_.waitFor('the demote confirmation', (x) => /Demote r0 on ha-a/.test(x));
    assert.match(s, /runs on ha-a: drbd-agent secondary r0/);
    await console_.keys('y', { literal: true });
    await console_.waitFor('the outcome', (x) => /✔ ha-a: drbd-agent secondary r0: done/.test(x));
    await jsonWhen(agents[0], 'r0', (j) => j.role === 'Secondary', 'ha-a Secondary');
    await console_.waitFor('both Secondary', (x) => /r0\/0\s+Secondary\s+UpToDate\s+\S+\s+.*Secondary\s+UpToDate/.test(row(x)));

    await console_.keys('Tab');
    await console_.keys('p', { literal: true });
    s = await console_.waitFor('the promote confirmation', (x) => /Promote r0 on ha-b/.test(x));
    assert.match(s, /runs on ha-b: drbd-agent primary r0/);
    assert.match(s, /✓ .*UpToDate/, 'the checked preconditions are shown');
    assert.doesNotMatch(s, /✗/);
    await console_.keys('y', { literal: true });
    await console_.waitFor('the outcome', (x) => /✔ ha-b: drbd-agent primary r0: done/.test(x));
    await jsonWhen(agents[1], 'r0', (j) => j.role === 'Primary', 'ha-b Primary');
    assert.equal(await role(agents[0]), 'Secondary');
    await console_.waitFor('ha-b Primary on screen', (x) => /r0\/0\s+Secondary\s+UpToDate\s+\S+\s+.*Primary\s+UpToDate/.test(row(x)));

    await console_.keys('s', { literal: true });
    await console_.waitFor('the demote confirmation', (x) => /Demote r0 on ha-b/.test(x));
    await console_.keys('y', { literal: true });
    await console_.waitFor('the outcome', (x) => /✔ ha-b: drbd-agent secondary r0: done/.test(x));
    await jsonWhen(agents[1], 'r0', (j) => j.role === 'Secondary', 'ha-b Secondary');
    await console_.keys('Tab');
  });

  test('a refused action shows the reason and runs nothing: p on ha-a while ha-b is Primary', async (t) => {
    if (skip) return t.skip(skip);
    const p = await agents[1].cli('primary', 'r0');
    assert.equal(p.code, 0, p.stderr);
    await console_.waitFor('ha-b Primary on screen', (x) => /Primary/.test(row(x).split(/\s+/).slice(4).join(' ')));
    await console_.keys('p', { literal: true });
    const s = await console_.waitFor('the refusal', (x) => /refused:/.test(x));
    assert.match(s, /Promote r0 on ha-a/);
    assert.match(s, /✗ .*Primary/);
    await console_.keys('y', { literal: true }); // not a way round the refusal
    await console_.keys('Escape');
    await console_.waitFor('the dialog closed', (x) => !/refused:/.test(x));
    assert.equal(await role(agents[0]), 'Secondary');
    const d = await agents[1].cli('secondary', 'r0');
    assert.equal(d.code, 0, d.stderr);
  });

  test('? opens the help and Esc closes it', async (t) => {
    if (skip) return t.skip(skip);
    await console_.keys('?', { literal: true });
    const s = await console_.waitFor('the help', (x) => /keys/.test(x) && /promote \(drbd-agent primary\)/.test(x));
    assert.match(s, /quit \(the agents and replication keep running\)/);
    await console_.keys('Escape');
    await console_.waitFor('the overview again', (x) => row(x) !== '' && !/promote \(drbd-agent primary\)/.test(x));
  });

  test('/ filters the table (Esc clears it); a resize redraws at the new size with no line left over', async (t) => {
    if (skip) return t.skip(skip);
    await console_.keys('/', { literal: true });
    await console_.keys('zz', { literal: true });
    let s = await console_.waitFor('the filter hides r0', (x) => /no resource matches the filter/.test(x) && /1 hidden by filter/.test(x));
    assert.equal(row(s), '');
    await console_.keys('Escape');
    await console_.waitFor('r0 back', (x) => row(x) !== '' && !/hidden by filter/.test(x));
    // Narrower and shorter: the frame is redrawn for 80×24, footer on the last line, nothing of the 100×30 one left.
    await console_.resize(80, 24);
    s = await console_.waitFor('the 80×24 frame', (x) => {
      const lines = x.replace(/\n$/, '').split('\n');
      return lines.length === 24 && /\? help q quit/.test(lines[23]!) && row(x) !== '';
    });
    for (const l of s.split('\n')) assert.ok(l.length <= 80, `wider than 80: ${l}`);
    assert.equal(s.split('\n').filter((l) => /^drbd-tui /.test(l)).length, 1, 'one header: no stale frame above');
    await console_.resize(100, 30);
    s = await console_.waitFor('the 100×30 frame', (x) => {
      const lines = x.replace(/\n$/, '').split('\n');
      return lines.length === 30 && /\? help q quit/.test(lines[29]!) && row(x) !== '';
    });
    assert.equal(s.split('\n').filter((l) => /\? help q quit/.test(l)).length, 1, 'one footer: no stale one mid-screen');
  });

  test('a host whose processes are killed shows as unreachable within seconds, and comes back', async (t) => {
    if (skip) return t.skip(skip);
    const t0 = Date.now();
    await lab.b.powerOff();
    const s = await console_.waitFor('ha-b unreachable', (x) => /✖ ha-b unreachable/.test(x), 10_000);
    const took = Date.now() - t0;
    t.diagnostic(`ha-b shown unreachable after ${took} ms`);
    assert.ok(took < 10_000);
    assert.match(s, /ha-a up/);
    // The error text is on screen, in the problems panel, with what the operator can do.
    assert.match(s, /✖ ha-b unreachable: \S+/);
    assert.match(s, /→ check that ha-b is powered on and reachable \(ssh ha-b\); retrying by itself/);
    await lab.b.powerOn();
    // The console restarts the agent it deployed (the daemon died with the host).
    await console_.waitFor('ha-b up again', (x) => /ha-b up/.test(x), 60_000);
    const up = await agents[1].cli('up', 'r0');
    assert.equal(up.code, 0, up.stderr);
    await console_.waitFor('r0 back on ha-b', (x) => /Secondary\s+UpToDate\s+\S+\s+.*Secondary\s+UpToDate/.test(row(x)), 30_000);
  });

  test('q quits with exit code 0; the agents keep running', async (t) => {
    if (skip) return t.skip(skip);
    await console_.keys('q', { literal: true });
    assert.equal(await console_.waitExit(15_000), 0);
    for (const a of agents) assert.equal((await a.json('r0')).role, 'Secondary');
  });

  test('a cut link: the host shows "not heard for N s" well before SSH gives up on it, and up again once the link is back', async (t) => {
    if (skip) return t.skip(skip);
    // OpenSSH's default keepalive (none; the console's own 5 s, 3 missed): the link says "up" for ~20 s after the cut.
    const quiet = await open('quiet', ['--read-only', '-F', lab.sshConfig, 'ha-a', 'ha-b']);
    await quiet.waitFor('both hosts up', (x) => /ha-a up/.test(x) && /ha-b up/.test(x), 30_000);
    const t0 = Date.now();
    lab.b.cutLink();
    try {
      const s = await quiet.waitFor('ha-b not heard from', (x) => /◌ ha-b not heard for \d+ s/.test(x), 15_000);
      t.diagnostic(`ha-b shown quiet after ${Date.now() - t0} ms`);
      assert.match(s, /ha-a up/);
      assert.doesNotMatch(s, /ha-b up/);
    } finally {
      lab.b.restoreLink();
    }
    await quiet.waitFor('ha-b up again', (x) => /ha-b up/.test(x), 60_000);
    await quiet.keys('q', { literal: true });
    assert.equal(await quiet.waitExit(15_000), 0);
  });

  test('--read-only refuses p with the read-only reason and changes nothing on the hosts', async (t) => {
    if (skip) return t.skip(skip);
    // The previous test cut a link: wait for the pair to settle, or the reconnect would pass for a change.
    const before = await Promise.all(agents.map((a) => inSync(a, 'r0', 'in sync before the read-only console')));
    const ro = await open('ro', ['--read-only', '-F', sshConfig, 'ha-a', 'ha-b'], { width: 80, height: 24 });
    const first = await ro.waitFor('both hosts up, READ-ONLY', (x) => /ha-a up/.test(x) && /ha-b up/.test(x) && /READ-ONLY/.test(x) && row(x) !== '', 30_000);
    // 80×24: everything on screen, the footer on the last line with the way to help.
    const lines = first.replace(/\n$/, '').split('\n');
    assert.equal(lines.length, 24);
    assert.match(lines[23]!, /p promote .*Tab host.*\? help q quit/);
    await ro.keys('p', { literal: true });
    const s = await ro.waitFor('the refusal', (x) => /refused:/.test(x));
    assert.match(s, /read-only: started with --read-only/);
    await ro.keys('y', { literal: true });
    await ro.keys('Escape');
    await ro.keys('s', { literal: true });
    await ro.waitFor('the refusal of s', (x) => /Demote r0 on ha-a/.test(x) && /refused: read-only/.test(x));
    await ro.keys('Escape');
    await ro.keys('q', { literal: true });
    assert.equal(await ro.waitExit(15_000), 0);
    const after_ = await Promise.all(agents.map((a) => a.json('r0')));
    assert.deepEqual(after_.map((j) => [j.role, j.devices[0]?.['disk-state'], j.connections[0]?.['connection-state']]), before.map((j) => [j.role, j.devices[0]?.['disk-state'], j.connections[0]?.['connection-state']]));
  });

  test('--read-only: a host whose agent is not running says so and how to start it; nothing is started', async (t) => {
    if (skip) return t.skip(skip);
    await lab.b.powerOff();
    await lab.b.powerOn();
    const ro = await open('ro-agent', ['--read-only', '-F', sshConfig, 'ha-a', 'ha-b']);
    const s = await ro.waitFor('ha-b agent not running', (x) => /ha-a up/.test(x) && /✖ ha-b agent not running/.test(x), 30_000);
    assert.match(s, /→ start it on ha-b \(drbd-agent daemon\), or run the console once without --read-only/);
    await sleep(3000); // a retry or two: still nothing started
    const daemons = lab.b.pids().filter((pid) => {
      try {
        return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').includes('daemon');
      } catch {
        return false;
      }
    });
    assert.deepEqual(daemons, [], 'read-only started no agent on ha-b');
    await agents[1].start();
    await ro.waitFor('ha-b up once its agent runs', (x) => /ha-b up/.test(x), 30_000);
    await ro.keys('q', { literal: true });
    assert.equal(await ro.waitExit(15_000), 0);
  });

  test('unknown host keys are asked in a dialog with the fingerprint; y accepts and records them', async (t) => {
    if (skip) return t.skip(skip);
    const kh = join(work, 'ask_known_hosts');
    writeFileSync(kh, '');
    const cfg = join(work, 'ask_config');
    writeFileSync(cfg, readFileSync(sshConfig, 'utf8').replaceAll(lab.knownHosts, kh).replace('StrictHostKeyChecking yes', 'StrictHostKeyChecking ask').replace('BatchMode yes', 'BatchMode no'));
    // The lab's known_hosts lists ha-a then ha-b.
    const known = parseKnownHosts(readFileSync(lab.knownHosts, 'utf8'));
    const fp = (alias: string) => fingerprintSha256(known[alias === 'ha-a' ? 0 : 1]!.keyBlob);
    const term = await open('ask', ['--read-only', '-F', cfg, 'ha-a', 'ha-b']);
    const asked: string[] = [];
    for (let i = 0; i < 2; i++) {
      // One question at a time, in the order the hosts answered.
      const s = await term.waitFor('a host key question', (x) => ['ha-a', 'ha-b'].some((h) => !asked.includes(h) && x.includes(`${h}: unknown host key`)), 20_000);
      const h = ['ha-a', 'ha-b'].find((x) => !asked.includes(x) && s.includes(`${x}: unknown host key`))!;
      asked.push(h);
      assert.ok(s.replace(/[│║\s]+/g, '').includes(fp(h)), `fingerprint ${fp(h)} shown:\n${s}`);
      assert.match(s, /y accept · n refuse/);
      await term.keys('y', { literal: true });
    }
    await term.waitFor('both hosts up', (x) => /ha-a up/.test(x) && /ha-b up/.test(x), 30_000);
    assert.equal(readFileSync(kh, 'utf8').trim().split('\n').length, 2, 'both keys recorded');
    await term.keys('q', { literal: true });
    assert.equal(await term.waitExit(15_000), 0);
  });
});
