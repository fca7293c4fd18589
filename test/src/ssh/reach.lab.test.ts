// Reaching real hosts: the lab's two network-namespace hosts with real OpenSSH. Connect
// like ssh (host keys, ProxyJump, consent for unknown hosts), deploy the agent from nothing,
// idempotent redeploy, reconnect after sshd goes away, read-only enforcement, and the exit
// codes of `drbd-tui status --json`.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, statSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateEd25519 } from '../../../src/demo/keys.js';
import { AgentError, type AgentSnapshot } from '../../../agent/protocol/messages.js';
import { AGENT_VERSION } from '../../../agent/protocol/version.js';
import { fingerprintSha256, parseKnownHosts } from '../../../src/ssh/known-hosts.js';
import { AgentNotRunning, openAgentChannel } from '../../../src/ssh/agent-channel.js';
import { connectSsh, SshConnectError, type SshSession } from '../../../src/ssh/connect.js';
import { DeployError, ensureAgent, loadLocalAgent, PID_FILE, remoteAgentPath, type LocalAgent } from '../../../src/ssh/deploy.js';
import { sshExec } from '../../../src/ssh/exec.js';
import { HostLink } from '../../../src/ssh/host-link.js';
import type { Reachability } from '../../../src/cluster/model.js';
import { createLab, describeLab, type Lab } from '../../lab/lab.js';
import { runConsole } from '../../support/console-cli.js';
import { labResourceYaml } from '../../support/lab-agents.js';
import { waitFor } from '../../support/wait.js';
import { setTimeout as sleep } from 'node:timers/promises';
import { MONITOR_SOCKET } from '../../../agent/protocol/socket-paths.js';

const CLI = join(import.meta.dirname, '../../../src/cli.ts');


const cli = (args: string[]) => runConsole(CLI, args);


describeLab('reaching the hosts over SSH', () => {
  let lab: Lab;
  let work: string;
  let local: LocalAgent;
  const sessions: SshSession[] = [];
  const links: HostLink[] = [];
  const testUser = `drbdtui${process.pid % 100000}`;
  let userCreated = false;

  const connect = async (alias: string, extra: Parameters<typeof connectSsh>[1] = {}): Promise<SshSession> => {
    const s = await connectSsh(alias, { configFile: lab.sshConfig, agentSocket: false, ...extra });
    sessions.push(s);
    return s;
  };

  before(async () => {
    work = mkdtempSync(join(tmpdir(), 'drbd-tui-reach-'));
    local = await loadLocalAgent();
    lab = await createLab();
  });
  after(async () => {
    for (const l of links) await l.close();
    for (const s of sessions) s.close();
    await lab?.destroy();
    if (userCreated) execFileSync('userdel', ['-f', testUser], { stdio: 'ignore' });
    rmSync(work, { recursive: true, force: true });
  });

  test('connects to both aliases like ssh: ssh -G, identity file, known_hosts', async () => {
    for (const h of lab.hosts) {
      const s = await connect(h.name);
      assert.equal((await sshExec(s.client, 'uname -n')).stdout, `${h.name}\n`);
      s.close();
    }
  });

  test('ProxyJump: ha-b reached through ha-a', async () => {
    const cfg = join(work, 'jump_config');
    writeFileSync(cfg, readFileSync(lab.sshConfig, 'utf8') + `\nHost b-via-a\n  HostName ${lab.b.address}\n  HostKeyAlias ha-b\n  ProxyJump ha-a\n  User root\n  IdentityFile ${lab.identity}\n  UserKnownHostsFile ${lab.knownHosts}\n  StrictHostKeyChecking yes\n`);
    const s = await connectSsh('b-via-a', { configFile: cfg, agentSocket: false });
    sessions.push(s);
    assert.equal((await sshExec(s.client, 'uname -n')).stdout, 'ha-b\n');
    s.close();
  });

  test('a changed host key is refused with OpenSSH\'s warning, consent hook or not', async () => {
    const wrong = generateEd25519();
    const kh = join(work, 'wrong_known_hosts');
    writeFileSync(kh, `ha-a,${lab.a.address} ${wrong.public}\n`);
    const cfg = join(work, 'wrong_config');
    writeFileSync(cfg, readFileSync(lab.sshConfig, 'utf8').replaceAll(lab.knownHosts, kh).replace('StrictHostKeyChecking yes', 'StrictHostKeyChecking no'));
    let asked = false;
    await assert.rejects(
      connectSsh('ha-a', { configFile: cfg, agentSocket: false, onUnknownHost: async () => (asked = true) }),
      (e: unknown) => {
        assert.ok(e instanceof SshConnectError);
        assert.equal(e.kind, 'host-key');
        assert.match(e.message, /REMOTE HOST IDENTIFICATION HAS CHANGED/);
        assert.match(e.message, new RegExp(`Offending ED25519 key in ${kh}:1`));
        return true;
      },
    );
    assert.equal(asked, false);
    assert.equal(readFileSync(kh, 'utf8').split('\n').filter(Boolean).length, 1, 'known_hosts untouched');
  });

  test('an unknown host: fingerprint and how to add it; accepted only with consent, then recorded', async () => {
    const kh = join(work, 'empty_known_hosts');
    writeFileSync(kh, '');
    const cfg = join(work, 'ask_config');
    writeFileSync(cfg, readFileSync(lab.sshConfig, 'utf8').replaceAll(lab.knownHosts, kh).replace('StrictHostKeyChecking yes', 'StrictHostKeyChecking ask').replace('BatchMode yes', 'BatchMode no'));
    const real = parseKnownHosts(readFileSync(lab.knownHosts, 'utf8'))[0]!;
    const fp = fingerprintSha256(real.keyBlob);
    await assert.rejects(connectSsh('ha-a', { configFile: cfg, agentSocket: false }), (e: unknown) => {
      assert.ok(e instanceof SshConnectError && e.kind === 'host-key');
      assert.ok(e.message.includes(fp), e.message);
      assert.match(e.message, /ssh-keyscan/);
      return true;
    });
    // BatchMode yes: never asked, as with ssh.
    const batch = join(work, 'batch_config');
    writeFileSync(batch, readFileSync(cfg, 'utf8').replace('BatchMode no', 'BatchMode yes'));
    let askedInBatch = false;
    await assert.rejects(connectSsh('ha-a', { configFile: batch, agentSocket: false, onUnknownHost: async () => (askedInBatch = true) }), /ssh-keyscan/);
    assert.equal(askedInBatch, false);
    let seen: string | undefined;
    await assert.rejects(connectSsh('ha-a', { configFile: cfg, agentSocket: false, onUnknownHost: async (h) => ((seen = h.fingerprint), false) }), /did not accept/);
    assert.equal(seen, fp);
    assert.equal(readFileSync(kh, 'utf8'), '', 'nothing recorded without consent');
    const s = await connectSsh('ha-a', { configFile: cfg, agentSocket: false, onUnknownHost: async () => true });
    sessions.push(s);
    s.close();
    assert.match(readFileSync(kh, 'utf8'), new RegExp(`^${lab.a.address.replaceAll('.', '\\.')} ssh-ed25519 `));
    const again = await connectSsh('ha-a', { configFile: cfg, agentSocket: false });
    sessions.push(again);
    again.close();
  });

  test('--read-only on a host without an agent: "agent not running", nothing uploaded or started', async () => {
    const s = await connect('ha-a');
    await assert.rejects(ensureAgent(s.client, { host: 'ha-a', user: 'root', readOnly: true, local }), AgentNotRunning);
    assert.equal(existsSync(join(lab.a.dirs.state, 'agent')), false);
    assert.equal((await sshExec(s.client, `test -e ${PID_FILE}`)).code, 1);
    s.close();
    const link = new HostLink({ alias: 'ha-a', configFile: lab.sshConfig, agentSocket: false, readOnly: true });
    links.push(link);
    link.start();
    await waitFor(() => link.reach.state === 'agent-not-running', 'agent-not-running', 20_000);
    await link.close();
    const ro = await cli(['status', '--json', '--read-only', '-F', lab.sshConfig, 'ha-a', 'ha-b']);
    assert.equal(ro.code, 2);
    assert.deepEqual(JSON.parse(ro.stdout).hosts.map((h: { reach: string }) => h.reach), ['agent-not-running', 'agent-not-running']);
    // The Nagios check is read-only whatever it is given: it reports and deploys nothing.
    const check = await cli(['check', '-F', lab.sshConfig, 'ha-a', 'ha-b']);
    assert.equal(check.code, 2, check.stdout + check.stderr);
    assert.equal(check.stdout, 'DRBD-TUI CRITICAL - ha-a agent not running; ha-b agent not running\n');
    assert.equal(existsSync(join(lab.a.dirs.state, 'agent')), false);
  });

  test('deploys to both hosts from nothing; the daemons outlive the session', async () => {
    const results = await Promise.all(
      lab.hosts.map(async (h) => {
        const s = await connect(h.name);
        const r = await ensureAgent(s.client, { host: h.name, user: 'root', local });
        r.channel.close();
        s.close();
        return r;
      }),
    );
    for (const [i, r] of results.entries()) {
      assert.equal(r.uploaded, true);
      assert.equal(r.started, true);
      assert.equal(r.channel.hello.agentVersion, AGENT_VERSION);
      assert.equal(r.channel.hello.node, lab.hosts[i]!.name);
      const onHost = lab.hosts[i]!.realPath(remoteAgentPath(local));
      assert.deepEqual(readFileSync(onHost), local.data);
    }
    // New sessions find the same daemons.
    for (const h of lab.hosts) {
      const s = await connect(h.name);
      const ch = await openAgentChannel(s.client, { readOnly: true });
      assert.equal(ch.hello.node, h.name);
      assert.equal(ch.hello.readOnly, true);
      ch.close();
      s.close();
    }
  });

  test('deploying again uploads and starts nothing; a stopped daemon is started without an upload', async () => {
    const s = await connect('ha-a');
    const r = await ensureAgent(s.client, { host: 'ha-a', user: 'root', local });
    assert.equal(r.uploaded, false);
    assert.equal(r.started, false);
    r.channel.close();
    const pid = (await sshExec(s.client, `cat ${PID_FILE}`)).stdout.trim();
    await sshExec(s.client, `kill ${pid}; while kill -0 ${pid} 2>/dev/null; do sleep 0.05; done`);
    const r2 = await ensureAgent(s.client, { host: 'ha-a', user: 'root', local });
    assert.equal(r2.uploaded, false);
    assert.equal(r2.started, true);
    r2.channel.close();
    s.close();
  });

  test('a daemon of another version is reported and replaced only with consent', async () => {
    const other: LocalAgent = { ...local, version: '0.0.9-test', sha256: 'f'.repeat(64) };
    // Pretend this console is another version: the running daemon (ours) is then "foreign".
    const s = await connect('ha-b');
    await assert.rejects(ensureAgent(s.client, { host: 'ha-b', user: 'root', local: other }), (e: unknown) => {
      assert.ok(e instanceof DeployError && e.kind === 'version-mismatch');
      assert.match(e.message, new RegExp(`agent ${AGENT_VERSION.replaceAll('.', '\\.')} is running, this console needs 0\\.0\\.9-test; not replaced without your consent`));
      return true;
    });
    let asked: unknown;
    await assert.rejects(ensureAgent(s.client, { host: 'ha-b', user: 'root', local: other, confirmReplace: async (q) => ((asked = q), false) }), DeployError);
    assert.deepEqual(asked, { host: 'ha-b', running: AGENT_VERSION, wanted: '0.0.9-test', busy: [] });
    s.close();
  });

  test('with consent, a daemon of another version is replaced (and replaced back without a new upload)', async () => {
    // A genuinely different agent: our bundle with another version string.
    const text = local.data.toString('utf8');
    assert.ok(text.includes(`var AGENT_VERSION = "${AGENT_VERSION}";`), 'bundle layout changed: update this test');
    const data = Buffer.from(text.replace(`var AGENT_VERSION = "${AGENT_VERSION}";`, 'var AGENT_VERSION = "0.1.99-test";'));
    const variant: LocalAgent = { path: 'variant', data, sha256: createHash('sha256').update(data).digest('hex'), version: '0.1.99-test' };
    const s = await connect('ha-b');
    const asked: unknown[] = [];
    const r1 = await ensureAgent(s.client, { host: 'ha-b', user: 'root', local: variant, confirmReplace: async (q) => (asked.push(q), true) });
    assert.equal(r1.channel.hello.agentVersion, '0.1.99-test');
    assert.deepEqual(r1.replaced, { from: AGENT_VERSION, to: '0.1.99-test' });
    assert.equal(r1.uploaded, true);
    r1.channel.close();
    const r2 = await ensureAgent(s.client, { host: 'ha-b', user: 'root', local, confirmReplace: async (q) => (asked.push(q), true) });
    assert.equal(r2.channel.hello.agentVersion, AGENT_VERSION);
    assert.deepEqual(r2.replaced, { from: '0.1.99-test', to: AGENT_VERSION });
    assert.equal(r2.uploaded, false, 'the versioned file was still there');
    r2.channel.close();
    assert.equal(asked.length, 2);
    const daemons = lab.b.pids().filter((pid) => {
      try {
        return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').includes('daemon');
      } catch {
        return false;
      }
    });
    assert.equal(daemons.length, 1, 'exactly one daemon runs on ha-b');
    s.close();
  });

  test('read-only cannot change anything, even with a crafted request on the channel', async () => {
    const s = await connect('ha-a');
    const ch = await openAgentChannel(s.client, { readOnly: true });
    assert.equal(ch.socket, MONITOR_SOCKET);
    for (const method of ['primary', 'create-md', 'down', 'adjust', 'target-start'] as const) {
      await assert.rejects(ch.client.request(method, { resource: 'r0', force: true }), (e: unknown) => e instanceof AgentError && e.code === 'read-only');
    }
    ch.close();
    // Raw bytes, not our client: the agent itself refuses.
    const raw = await new Promise<string>((resolve, reject) => {
      s.client.openssh_forwardOutStreamLocal(MONITOR_SOCKET, (err, stream) => {
        if (err) return reject(err);
        let buf = '';
        stream.on('data', (b: Buffer) => {
          buf += b.toString();
          if (buf.includes('\n')) {
            stream.end();
            resolve(buf);
          }
        });
        stream.write('{"id":7,"method":"primary","params":{"resource":"r0","force":true}}\n');
      });
    });
    assert.match(raw, /"id":7,"error":\{"code":"read-only"/);
    // The exec bridge (used where the server refuses forwarding) lands on the same socket.
    const viaBridge = await openAgentChannel(s.client, { readOnly: true, transport: 'bridge' });
    assert.equal(viaBridge.transport, 'bridge');
    assert.equal(viaBridge.hello.readOnly, true);
    await assert.rejects(viaBridge.client.request('secondary', { resource: 'r0' }), (e: unknown) => e instanceof AgentError && e.code === 'read-only');
    viaBridge.close();
    s.close();
  });

  test('a non-root login without sudo gets a clear message; it may monitor once the operator adds it to the drbd-tui group', async (t) => {
    try {
      execFileSync('useradd', ['-M', '-p', '*', '-d', join(work, 'home'), '-s', '/bin/sh', testUser], { stdio: 'pipe' });
      userCreated = true;
    } catch (e) {
      t.skip(`cannot create a test user: ${(e as Error).message}`);
      return;
    }
    // sshd reads authorized_keys as the user: let it traverse to the lab's file (keys stay 0600).
    const keysDir = join(lab.dataRoot, 'hosts', 'ha-a', 'sshd');
    for (const d of [lab.dataRoot, join(lab.dataRoot, 'hosts'), join(lab.dataRoot, 'hosts', 'ha-a'), keysDir]) chmodSync(d, statSync(d).mode | 0o001);
    chmodSync(join(keysDir, 'authorized_keys'), 0o644);
    const cfg = join(work, 'user_config');
    writeFileSync(cfg, readFileSync(lab.sshConfig, 'utf8').replace('User root', `User ${testUser}`));
    const s = await connectSsh('ha-a', { configFile: cfg, agentSocket: false }).catch((e: Error) => Promise.reject(new Error(`${e.message}\nsshd: ${lab.a.sshdLog().slice(-600)}`)));
    sessions.push(s);
    assert.equal((await sshExec(s.client, 'id -un')).stdout.trim(), testUser);
    const hasSudo = (await sshExec(s.client, 'command -v sudo')).code === 0;
    if (!hasSudo) {
      await assert.rejects(ensureAgent(s.client, { host: 'ha-a', user: testUser, local }), (e: unknown) => {
        assert.ok(e instanceof DeployError && e.kind === 'sudo');
        assert.match(e.message, /not root and sudo is not installed/);
        return true;
      });
    } else {
      await assert.rejects(ensureAgent(s.client, { host: 'ha-a', user: testUser, local }), /sudo/);
    }
    // The monitor socket is root's and the drbd-tui group's (made by the deploy): a user outside
    // it is told how to be let in; added to it, the user monitors.
    await assert.rejects(ensureAgent(s.client, { host: 'ha-a', user: testUser, readOnly: true, local }), (e: unknown) => {
      assert.match((e as Error).message, new RegExp(`${testUser} may not open the monitor socket \\S+: add it to the drbd-tui group on the host \\(usermod -aG drbd-tui ${testUser}\\), or start the agent with --monitor-access world`));
      return true;
    });
    s.close();
    execFileSync('usermod', ['-aG', 'drbd-tui', testUser], { stdio: 'pipe' });
    const member = await connectSsh('ha-a', { configFile: cfg, agentSocket: false });
    sessions.push(member);
    const ro = await ensureAgent(member.client, { host: 'ha-a', user: testUser, readOnly: true, local });
    assert.equal(ro.channel.hello.readOnly, true);
    ro.channel.close();
    member.close();
    t.diagnostic(hasSudo ? 'sudo present: password case checked' : 'sudo is not installed on this machine: the sudo -n path is covered by unit tests only');
  });

  test('sshd going away shows the host unreachable; it comes back with sshd', async () => {
    const states: Reachability[] = [];
    const link = new HostLink({ alias: 'ha-b', configFile: lab.sshConfig, agentSocket: false, readOnly: false, deploy: { local }, backoff: { initialMs: 200, maxMs: 1000, factor: 2 }, keepaliveIntervalMs: 500, keepaliveCountMax: 2 });
    links.push(link);
    link.on('state', (r) => states.push(r));
    link.start();
    await waitFor(() => link.reach.state === 'up', 'up', 20_000);
    assert.ok((link.latencyMs ?? -1) >= 0);
    await lab.b.stopSshd();
    await waitFor(() => link.reach.state === 'unreachable', 'unreachable', 20_000);
    await sleep(1500); // a few refused retries
    assert.equal(link.reach.state === 'up', false);
    await lab.b.startSshd();
    await waitFor(() => link.reach.state === 'up', 'up again', 20_000);
    const snap = await link.request<AgentSnapshot>('snapshot');
    assert.equal(snap.node, 'ha-b');
    await link.close();
    const seq = states.map((s) => s.state).filter((s, i, a) => s !== a[i - 1]);
    const firstUp = seq.indexOf('up');
    const down = seq.indexOf('unreachable', firstUp);
    assert.ok(firstUp >= 0 && down > firstUp && seq.indexOf('up', down) > down, seq.join(' → '));
    assert.ok(states.some((s) => s.state === 'unreachable' && /connection (lost|refused)|Connection refused/i.test(s.error)), JSON.stringify(states));
  });

  test('status --json: 0 healthy, 1 degraded, 2 a host unreachable; check: OK, WARNING, CRITICAL and UNKNOWN', async () => {
    for (const h of lab.hosts) {
      writeFileSync(join(h.dirs.etc, 'r0.yaml'), labResourceYaml(lab, { name: 'r0', port: 7789, size: '8MiB', iscsi: false }).a, { mode: 0o600 });
      chmodSync(join(h.dirs.etc, 'r0.yaml'), 0o600);
      mkdirSync(join(h.dirs.state, 'disks'), { recursive: true });
    }
    const chans = await Promise.all(
      lab.hosts.map(async (h) => {
        const s = await connect(h.name);
        const r = await ensureAgent(s.client, { host: h.name, user: 'root', local });
        await r.channel.client.request('adjust');
        await r.channel.client.request('create-md', { resource: 'r0' });
        await r.channel.client.request('up', { resource: 'r0' });
        return r.channel;
      }),
    );
    // Promote once the pair is connected: a `primary --force` racing the handshake leaves
    // the engine with a SyncSource whose peer never becomes SyncTarget (reported to the lead).
    await waitFor(async () => {
      const snaps = await Promise.all(chans.map((c) => c.client.request<AgentSnapshot>('snapshot')));
      return snaps.every((sn) => sn.resources[0]?.connections[0]?.peerDevices[0]?.replication === 'Established');
    }, 'connected', 20_000);
    await chans[0]!.client.request('primary', { resource: 'r0', force: true });
    const describeState = async (): Promise<string> => {
      const snaps = await Promise.all(chans.map((c) => c.client.request<AgentSnapshot>('snapshot')));
      const logs = await Promise.all(lab.hosts.map((h) => h.exec(['tail', '-n', '15', '/var/lib/drbd-tui/agent.log']).then((r) => r.stdout)));
      return snaps.map((sn, i) => `${sn.node}: ${JSON.stringify(sn.resources[0]?.connections[0] ?? null)} disk ${sn.resources[0]?.devices[0]?.disk}\nlog:\n${logs[i]}`).join('\n');
    };
    await waitFor(async () => {
      const snaps = await Promise.all(chans.map((c) => c.client.request<AgentSnapshot>('snapshot')));
      return (
        snaps.every((s) => {
          const c = s.resources[0]?.connections[0];
          const pd = c?.peerDevices[0];
          return s.resources[0]?.devices[0]?.disk === 'UpToDate' && c?.connection === 'Connected' && pd?.replication === 'Established' && pd.peerDisk === 'UpToDate';
        })
      );
    }, 'sync done', 60_000).catch(async (e: Error) => Promise.reject(new Error(`${e.message}\n${await describeState()}`)));
    const healthy = await cli(['status', '--json', '-F', lab.sshConfig, 'ha-a', 'ha-b']);
    assert.equal(healthy.code, 0, healthy.stdout + healthy.stderr);
    const hj = JSON.parse(healthy.stdout);
    assert.equal(hj.status, 'healthy');
    assert.equal(hj.resources[0].hosts[0].role, 'Primary');
    assert.equal(hj.resources[0].hosts[1].disk, 'UpToDate');
    const ok = await cli(['check', '-F', lab.sshConfig, 'ha-a', 'ha-b']);
    assert.equal(ok.code, 0, ok.stdout + ok.stderr);
    assert.equal(ok.stdout, "DRBD-TUI OK - ha-a, ha-b: 1 resource, 1 volume, no problems | 'r0/0_out_of_sync'=0B;;;0 'r0/0_sync_done'=100%;;;0;100\n");
    const usage = await cli(['check', '--warn-on', 'nope', '-F', lab.sshConfig, 'ha-a', 'ha-b']);
    assert.equal(usage.code, 3, usage.stdout + usage.stderr);
    assert.match(usage.stdout, /^DRBD-TUI UNKNOWN - usage: --warn-on nope: unknown kind 'nope'; kinds: host, /);

    await chans[1]!.client.request('disconnect', { resource: 'r0' });
    const degraded = await cli(['status', '--json', '--read-only', '-F', lab.sshConfig, 'ha-a', 'ha-b']);
    assert.equal(degraded.code, 1, degraded.stdout + degraded.stderr);
    assert.equal(JSON.parse(degraded.stdout).status, 'degraded');
    const warning = await cli(['check', '-F', lab.sshConfig, 'ha-a', 'ha-b']);
    assert.equal(warning.code, 1, warning.stdout + warning.stderr);
    assert.match(warning.stdout, /^DRBD-TUI WARNING - \S.* \| 'r0\/0_out_of_sync'=\S+ 'r0\/0_sync_done'=\S+\n$/);
    await chans[1]!.client.request('connect', { resource: 'r0' });
    for (const c of chans) c.close();

    await lab.b.stopSshd();
    try {
      const down = await cli(['status', '--json', '-F', lab.sshConfig, 'ha-a', 'ha-b']);
      assert.equal(down.code, 2, down.stdout + down.stderr);
      const dj = JSON.parse(down.stdout);
      assert.equal(dj.status, 'unreachable');
      assert.equal(dj.hosts[1].reach, 'unreachable');
      assert.match(dj.hosts[1].error, /refused/i);
      assert.ok(dj.problems.some((p: { severity: string; host?: string }) => p.severity === 'alert' && p.host === 'ha-b'));
      const critical = await cli(['check', '--timeout', '5', '-F', lab.sshConfig, 'ha-a', 'ha-b']);
      assert.equal(critical.code, 2, critical.stdout + critical.stderr);
      assert.match(critical.stdout, /^DRBD-TUI CRITICAL - ha-b unreachable: .*refused.* \| 'r0\/0_out_of_sync'=U;;;0 'r0\/0_sync_done'=U;;;0;100\n$/i);
    } finally {
      await lab.b.startSshd();
    }
  });
});

