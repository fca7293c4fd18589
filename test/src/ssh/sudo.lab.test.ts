// A non-root login whose sudo needs no password: the console deploys and runs the agent
// through `sudo -n` and reaches the control channel (issue 6). The lab hosts share this
// machine's /etc, so the user and its sudoers drop-in are created here and seen by both.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connectSsh } from '../../../src/ssh/connect.js';
import { ensureAgent, loadLocalAgent, remoteAgentPath, type LocalAgent } from '../../../src/ssh/deploy.js';
import { sshExec } from '../../../src/ssh/exec.js';
import { HostLink } from '../../../src/ssh/host-link.js';
import { createLab, describeLab, type Lab } from '../../lab/lab.js';
import { runConsole } from '../../support/console-cli.js';
import { labResourceYaml } from '../../support/lab-agents.js';
import { waitFor } from '../../support/wait.js';

const CLI = join(import.meta.dirname, '../../../src/cli.ts');
const SUDO = '/usr/bin/sudo';

const cli = (args: string[]) => runConsole(CLI, args);


/** Installs the `sudo` Debian package when missing (as .ci/ does for the lab suites). */
function ensureSudo(): void {
  if (existsSync(SUDO)) return;
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  try {
    execFileSync('apt-get', ['install', '-y', '-qq', '--no-install-recommends', 'sudo'], { env, stdio: 'pipe' });
  } catch {
    execFileSync('apt-get', ['update', '-qq'], { env, stdio: 'pipe' });
    execFileSync('apt-get', ['install', '-y', '-qq', '--no-install-recommends', 'sudo'], { env, stdio: 'pipe' });
  }
  if (!existsSync(SUDO)) throw new Error('the sudo Debian package is needed for this suite and could not be installed');
}

describeLab('a non-root login with passwordless sudo', () => {
  let lab: Lab;
  let work: string;
  let local: LocalAgent;
  let cfg: string;
  const user = `drbdsudo${process.pid % 100000}`;
  const home = `/home/${user}`;
  const dropIn = `/etc/sudoers.d/drbd-tui-test-${user}`;
  let userCreated = false;
  const links: HostLink[] = [];

  before(async () => {
    work = mkdtempSync(join(tmpdir(), 'drbd-tui-sudo-'));
    ensureSudo();
    local = await loadLocalAgent();
    lab = await createLab();
    execFileSync('useradd', ['-m', '-p', '*', '-d', home, '-s', '/bin/sh', user], { stdio: 'pipe' });
    userCreated = true;
    mkdirSync('/etc/sudoers.d', { recursive: true });
    writeFileSync(dropIn, `${user} ALL=(root) NOPASSWD: ALL\n`, { mode: 0o440 });
    chmodSync(dropIn, 0o440);
    execFileSync('visudo', ['-c', '-q', '-f', dropIn], { stdio: 'pipe' });
    // The lab's sshd reads its own authorized_keys as the login user: let it traverse there.
    for (const h of lab.hosts) {
      const keysDir = join(lab.dataRoot, 'hosts', h.name, 'sshd');
      for (const d of [lab.dataRoot, join(lab.dataRoot, 'hosts'), join(lab.dataRoot, 'hosts', h.name), keysDir]) chmodSync(d, statSync(d).mode | 0o001);
      chmodSync(join(keysDir, 'authorized_keys'), 0o644);
      writeFileSync(join(h.dirs.etc, 'r0.yaml'), labResourceYaml(lab, { name: 'r0', port: 7789, size: '8MiB', iscsi: false }).a, { mode: 0o600 });
      chmodSync(join(h.dirs.etc, 'r0.yaml'), 0o600);
    }
    // And the user's own authorized_keys, for an sshd that looks there.
    mkdirSync(join(home, '.ssh'), { recursive: true, mode: 0o700 });
    writeFileSync(join(home, '.ssh', 'authorized_keys'), readFileSync(join(lab.dataRoot, 'hosts', 'ha-a', 'sshd', 'authorized_keys')), { mode: 0o600 });
    execFileSync('chown', ['-R', `${user}:${user}`, home]);
    cfg = join(work, 'sudo_config');
    writeFileSync(cfg, readFileSync(lab.sshConfig, 'utf8').replaceAll('User root', `User ${user}`));
  });
  after(async () => {
    for (const l of links) await l.close();
    await lab?.destroy();
    rmSync(dropIn, { force: true });
    if (userCreated) execFileSync('userdel', ['-f', user], { stdio: 'ignore' });
    rmSync(home, { recursive: true, force: true });
    if (work) rmSync(work, { recursive: true, force: true });
  });

  test('the login is the user, and its sudo -n works without a password', async () => {
    const s = await connectSsh('ha-a', { configFile: cfg, agentSocket: false }).catch((e: Error) => Promise.reject(new Error(`${e.message}\nsshd: ${lab.a.sshdLog().slice(-600)}`)));
    try {
      assert.equal((await sshExec(s.client, 'id -un')).stdout.trim(), user);
      const r = await sshExec(s.client, 'sudo -n id -u');
      assert.equal(r.stdout.trim(), '0', r.stderr);
    } finally {
      s.close();
    }
  });

  test('drbd-tui status deploys and starts the agent via sudo; the hosts are up', async () => {
    assert.equal(existsSync(lab.a.realPath(remoteAgentPath(local))), false, 'nothing deployed yet');
    const r = await cli(['status', '--json', '-F', cfg, 'ha-a', 'ha-b']);
    const j = JSON.parse(r.stdout);
    assert.deepEqual(j.hosts.map((h: { reach: string }) => h.reach), ['up', 'up'], r.stdout + r.stderr);
    for (const h of lab.hosts) {
      const onHost = h.realPath(remoteAgentPath(local));
      assert.deepEqual(readFileSync(onHost), local.data);
      assert.equal(statSync(onHost).uid, 0, 'deployed as root, through sudo');
    }
  });

  test('a second run uploads and starts nothing', async () => {
    const onHost = lab.a.realPath(remoteAgentPath(local));
    const before = statSync(onHost).mtimeMs;
    const r = await cli(['status', '--json', '-F', cfg, 'ha-a', 'ha-b']);
    assert.deepEqual(JSON.parse(r.stdout).hosts.map((h: { reach: string }) => h.reach), ['up', 'up'], r.stdout + r.stderr);
    assert.equal(statSync(onHost).mtimeMs, before);
    const s = await connectSsh('ha-a', { configFile: cfg, agentSocket: false });
    try {
      const d = await ensureAgent(s.client, { host: 'ha-a', user, local });
      assert.equal(d.uploaded, false);
      assert.equal(d.started, false);
      assert.equal(d.channel.hello.node, 'ha-a');
      assert.equal(d.channel.hello.readOnly, false);
      // Changes go through the sudo bridge to the root-only admin socket.
      mkdirSync(join(lab.a.dirs.state, 'disks'), { recursive: true });
      await d.channel.client.request('adjust');
      await d.channel.client.request('create-md', { resource: 'r0' });
      await d.channel.client.request('up', { resource: 'r0' });
      d.channel.close();
    } finally {
      s.close();
    }
  });

  test('a HostLink as the user reaches the control channel read-write', async () => {
    const link = new HostLink({ alias: 'ha-b', configFile: cfg, agentSocket: false, readOnly: false, deploy: { local } });
    links.push(link);
    link.start();
    await waitFor(() => link.reach.state === 'up', 'up', 20_000);
    const snap = await link.request<{ node: string; resources: { name: string }[] }>('snapshot');
    assert.equal(snap.node, 'ha-b');
    assert.deepEqual(snap.resources, []);
    mkdirSync(join(lab.b.dirs.state, 'disks'), { recursive: true });
    await link.request('adjust');
    await link.request('create-md', { resource: 'r0' });
    await link.request('up', { resource: 'r0' });
    assert.deepEqual((await link.request<{ resources: { name: string }[] }>('snapshot')).resources.map((x) => x.name), ['r0']);
    await link.close();
  });

  test('drbd-agent is on the PATH of the sudo login: sudo drbd-agent status answers as on the host', async () => {
    const s = await connectSsh('ha-a', { configFile: cfg, agentSocket: false });
    try {
      const r = await sshExec(s.client, 'sudo -n drbd-agent status');
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /^r0 role:Secondary\n/);
    } finally {
      s.close();
    }
  });

  test('drbd-tui status as the user reports both hosts up with the resource', async () => {
    const r = await cli(['status', '--json', '-F', cfg, 'ha-a', 'ha-b']);
    const j = JSON.parse(r.stdout);
    assert.deepEqual(j.hosts.map((h: { reach: string }) => h.reach), ['up', 'up'], r.stdout + r.stderr);
    assert.deepEqual(j.resources.map((x: { name: string }) => x.name), ['r0'], r.stdout);
    assert.deepEqual(j.resources[0].hosts.map((h: { host: string }) => h.host), ['ha-a', 'ha-b'], r.stdout);
  });
});

