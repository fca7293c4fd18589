// Resource files from the console, end to end: two lab hosts with no resource, the built
// `drbd-tui --config r0.yaml -F <lab ssh_config> ha-a ha-b` in tmux (the console deploys the
// agents), a file without a shared secret → one is generated → the diff → y → both hosts have
// the same file, mode 0600. Then drift: ha-b runs another protocol, the problem names it, and
// C on ha-a copies ha-a's file over after the resource name is typed. Every claim is checked
// on the hosts (files, the agent CLI), not on what the screen says.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { LOG_FILE } from '../../src/ssh/deploy.js';
import { createLab, describeLab, type Lab } from '../lab/lab.js';
import { assertReadsBack, consoleLabHooks, holdsPattern, r0Url, SEED_PATTERN, servingPair, type ConsoleLab } from '../support/console-lab.js';
import { inSync, jsonWhen, labAgent, labResourceYaml, type LabAgent } from '../support/lab-agents.js';
import { flatScreen, openTerminal, requireConsoleTerminal, type Terminal } from '../support/tmux.js';

const ROOT = resolve(import.meta.dirname, '../..');
const CLI = join(ROOT, 'dist/cli.js');

describeLab('resource files from the console', () => {
  let lab: Lab;
  let work: string;
  let skip: string | undefined;
  let agents: [LabAgent, LabAgent];
  let term: Terminal | undefined;
  let dialog = '';
  const file = (a: LabAgent) => a.path('/etc/drbd-tui/r0.yaml');

  before(async () => {
    skip = await requireConsoleTerminal(CLI);
    if (skip) return;
    work = mkdtempSync(join(tmpdir(), 'drbd-tui-config-lab-'));
    lab = await createLab();
    agents = [labAgent(lab.a), labAgent(lab.b)];
  });
  after(async () => {
    await term?.kill();
    await lab?.destroy();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  test('--config: no shared secret → one generated; the new file shown, confirmed, written 0600 on both; adjust says what is missing', async (t) => {
    if (skip) return t.skip(skip);
    const local = join(work, 'r0.yaml');
    writeFileSync(local, labResourceYaml(lab, { name: 'r0', port: 7789, size: '8MiB' }).a.replace(/ {2}shared-secret: .*\n/, ''));
    for (const a of agents) assert.ok(!existsSync(file(a)), `no resource file on ${a.host.name} yet`);
    term = await openTerminal({ argv: [process.execPath, CLI, '--config', local, '-F', lab.sshConfig, 'ha-a', 'ha-b'], cwd: ROOT, exitFile: join(work, 'console.exit'), width: 100, height: 50 });
    await term.waitFor('the shared-secret offer', (s) => /r0\.yaml has no shared-secret/.test(s), 60_000);
    await term.keys('y', { literal: true });
    dialog = await term.waitFor('the dialog', (s) => /Put the resource file of r0 on ha-a and ha-b\?/.test(s), 20_000);
    assert.match(dialog, /ha-a \/etc\/drbd-tui\/r0\.yaml: new file/);
    assert.match(dialog, /ha-b \/etc\/drbd-tui\/r0\.yaml: new file/);
    assert.match(dialog, /\+ {2}shared-secret: <hidden>/);
    assert.match(dialog, /drbd-agent adjust r0 {3}# on ha-b/);
    assert.match(dialog, /y write it · n cancel/);
    await term.keys('y', { literal: true });
    const done = await term.waitFor('the outcome', (s) => /--config .*r0\.yaml: done/.test(s), 20_000);
    const flat = flatScreen(done);
    assert.match(flat, /r0: \/etc\/drbd-tui\/r0\.yaml on ha-a and ha-b written \(mode 0600\) with a generated shared secret/);
    // No metadata yet: adjust leaves r0 configured and down, and says so (create-md is the next step).
    assert.match(flat, /ha-a configured, not up: no backing disk \/var\/lib\/drbd-tui\/disks\/r0-0\.img yet: create-md r0 first \(on each host\)/);

    const texts = agents.map((a) => readFileSync(file(a), 'utf8'));
    assert.equal(texts[0], texts[1], 'the same file on both hosts');
    const secret = /shared-secret: "([A-Za-z0-9_-]{32})"/.exec(texts[0]!)?.[1];
    assert.ok(secret, texts[0]);
    assert.ok(!dialog.includes(secret) && !done.includes(secret), 'the secret was never on screen');
    for (const a of agents) {
      assert.equal(statSync(file(a)).mode & 0o777, 0o600, `mode 0600 on ${a.host.name}`);
      // The console deployed this agent: its log is the deployed daemon's file, not labAgent's capture.
      assert.ok(!readFileSync(a.path(LOG_FILE), 'utf8').includes(secret), `the secret is not in ${a.host.name}'s agent log`);
    }
    await term.keys('Enter');
  });

  test('configured on both: create-md, then adjust RES brings it up where the metadata is valid', async (t) => {
    if (skip) return t.skip(skip);
    for (const a of agents) {
      const md = await a.cli('create-md', 'r0');
      assert.equal(md.code, 0, `${a.host.name}: ${md.stdout}${md.stderr}`);
      const adj = await a.cli('adjust', 'r0');
      assert.equal(adj.code, 0, adj.stderr);
      assert.equal(adj.stdout, '');
    }
    await jsonWhen(agents[0], 'r0', (s) => s.connections[0]?.['connection-state'] === 'Connected', 'connected');
  });

  test('drift: ha-b runs protocol A; the problem names the field and both files; C on ha-a, r0 typed, puts ha-a\'s file on ha-b', async (t) => {
    if (skip || !term) return t.skip(skip ?? 'no console');
    const b = agents[1];
    writeFileSync(file(b), readFileSync(file(b), 'utf8').replace('protocol: C', 'protocol: A'));
    for (const verb of ['down', 'up']) assert.equal((await b.cli(verb, 'r0')).code, 0);
    const s = await term.waitFor('the drift problem with its field', (x) => /config drift: r0: ha-a and ha-b differ in protocol \(ha-a \/etc\/drbd-tui\/r0\.yaml,/.test(x), 30_000);
    assert.doesNotMatch(s, /differ in [^(]*shared-secret/);
    await term.keys('C', { literal: true });
    const d = await term.waitFor('the copy dialog', (x) => /Put the resource file of r0 on ha-a and ha-b\?/.test(x) && /type r0 to write it/.test(x), 20_000);
    assert.match(d, /ha-a \/etc\/drbd-tui\/r0\.yaml: already has this file: unchanged/);
    assert.match(d, /-protocol: A/);
    assert.match(d, /\+protocol: C/);
    await term.keys('y', { literal: true });
    await term.keys('Enter');
    await term.waitFor('the typed confirmation refused', (x) => /"y" does not match r0/.test(x));
    assert.match(readFileSync(file(b), 'utf8'), /protocol: A/, 'nothing written yet');
    await term.keys('BSpace');
    await term.keys('r0', { literal: true });
    await term.keys('Enter');
    await term.waitFor('the outcome', (x) => /r0: resource file done/.test(x), 20_000);
    assert.match(flatScreen(await term.screen()), /r0: \/etc\/drbd-tui\/r0\.yaml on ha-b written \(mode 0600\); ha-b up with its old settings until its next down\/up/);
    await term.keys('Enter');
    assert.equal(readFileSync(file(b), 'utf8'), readFileSync(file(agents[0]), 'utf8'));
    assert.equal(statSync(file(b)).mode & 0o777, 0o600);
    for (const verb of ['down', 'up']) assert.equal((await b.cli(verb, 'r0')).code, 0);
    await term.waitFor('the drift gone', (x) => !/config drift/.test(x), 30_000);
  });
});

// The other way a file lacks a secret: a pair already serving without one (an operator's
// file, as DRBD allows). The console warns; C on the resource generates a secret and puts it
// on both hosts; each host's down/up (the Secondary first) takes it up; the link is
// authenticated again and the data written before reads back.
describeLab('a serving pair without a shared secret: the warning, C, the secret on both, authenticated again', () => {
  let c: ConsoleLab;
  const state = consoleLabHooks('secret-c', (x) => (c = x));
  const file = (a: LabAgent) => a.path('/etc/drbd-tui/r0.yaml');

  test('unauthenticated → C, y, r0 typed → one secret on both (0600) → down/up each → peer-authenticated, warning gone, data reads back', async (t) => {
    if (state.skip) return t.skip(state.skip);
    const agents = [c.a, c.b] as const;
    for (const a of agents) writeFileSync(file(a), readFileSync(file(a), 'utf8').replace(/ {2}shared-secret: .*\n/, ''), { mode: 0o600 });
    await servingPair(c);
    for (const a of agents) assert.equal((await a.json('r0'))['peer-authenticated'], false, `${a.host.name} runs unauthenticated`);
    const warned = flatScreen(await c.term.waitFor('the unauthenticated warning', (x) => /peer link not authenticated/.test(x), 20_000));
    assert.match(warned, /press C/);

    await c.term.keys('C', { literal: true });
    await c.term.waitFor('the shared-secret offer', (x) => /ha-a:\/etc\/drbd-tui\/r0\.yaml has no shared-secret/.test(x), 20_000);
    await c.term.keys('y', { literal: true });
    const dialog = await c.term.waitFor('the put dialog', (x) => /Put the resource file of r0 on ha-a and ha-b\?/.test(x), 20_000);
    assert.match(dialog, /\+ {2}shared-secret: <hidden, changed>/);
    // r0 is running: the put asks for its name typed, not a y.
    assert.match(dialog, /type r0 to write it/);
    await c.term.keys('r0', { literal: true });
    await c.term.keys('Enter');
    const done = await c.term.waitFor('the outcome', (x) => /r0: resource file done/.test(x), 20_000);
    const flat = flatScreen(done);
    assert.match(flat, /r0: \/etc\/drbd-tui\/r0\.yaml on ha-a and ha-b written \(mode 0600\) with a generated shared secret/);
    assert.match(flat, /The link stays unauthenticated until each host takes the resource down and up/);
    await c.term.keys('Enter');

    const texts = agents.map((a) => readFileSync(file(a), 'utf8'));
    assert.equal(texts[0], texts[1], 'the same file on both hosts');
    const secret = /shared-secret: "([A-Za-z0-9_-]{32})"/.exec(texts[0]!)?.[1];
    assert.ok(secret, texts[0]);
    assert.ok(!dialog.includes(secret) && !done.includes(secret), 'the secret was never on screen');
    for (const a of agents) assert.equal(statSync(file(a)).mode & 0o777, 0o600, `mode 0600 on ${a.host.name}`);

    // The pickup SECRET_PICKUP describes: the Secondary first, then the Primary (its target stopped and started again).
    for (const verb of ['down', 'up']) assert.equal((await c.b.cli(verb, 'r0')).code, 0, `${verb} on ha-b`);
    for (const args of [['target', 'stop', 'r0'], ['secondary', 'r0'], ['down', 'r0'], ['up', 'r0']]) {
      const r = await c.a.cli(...args);
      assert.equal(r.code, 0, `${args.join(' ')} on ha-a: ${r.stdout}${r.stderr}`);
    }
    await inSync(c.a, 'r0', 'connected again with the secret');
    for (const a of agents) assert.equal((await a.json('r0'))['peer-authenticated'], true, `${a.host.name} authenticated`);
    await c.term.waitFor('the warning gone', (x) => /ha-a up/.test(x) && !/peer link not authenticated/.test(x), 30_000);
    assert.equal((await c.a.cli('primary', 'r0')).code, 0);
    assert.equal((await c.a.cli('target', 'start', 'r0')).code, 0);
    assertReadsBack(r0Url(c.a), SEED_PATTERN);
    assert.ok(await holdsPattern(c.b, SEED_PATTERN), 'the pattern is on ha-b');
  });
});
