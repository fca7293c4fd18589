// Connecting against in-process ssh2 servers on loopback: passphrase-protected identities,
// auth failures that must not be retried, accept-new recording, network failures that are.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateEd25519 } from '../../../src/demo/keys.js';
import { startSshEndpoint, type SshEndpoint } from '../../../src/demo/ssh-endpoint.js';
import { AgentNotRunning, ChannelError } from '../../../src/ssh/agent-channel.js';
import { connectSsh, isRetryable, SshConnectError, type ConnectOptions, type SshSession } from '../../../src/ssh/connect.js';
import { DeployError } from '../../../src/ssh/deploy.js';
import { backoffDelay, decideFailure, HostLink } from '../../../src/ssh/host-link.js';
import { setTimeout as sleep } from 'node:timers/promises';

describe('backoff and failure decisions', () => {
  test('exponential, capped', () => {
    assert.deepEqual([0, 1, 2, 3, 4, 5, 6].map((a) => backoffDelay(a)), [500, 1000, 2000, 4000, 8000, 15000, 15000]);
    assert.equal(backoffDelay(2, { initialMs: 100, maxMs: 300, factor: 3 }), 300);
  });
  test('never retry auth, host-key or deployment refusals; retry network trouble and a missing agent', () => {
    assert.deepEqual(decideFailure(new SshConnectError('auth', 'Permission denied', 'ha-a')), { reach: { state: 'unreachable', error: 'Permission denied' }, retry: false });
    assert.equal(decideFailure(new SshConnectError('host-key', 'CHANGED', 'ha-a')).retry, false);
    assert.equal(decideFailure(new DeployError('node', 'no node')).retry, false);
    assert.equal(decideFailure(new ChannelError('protocol', 'v2')).retry, false);
    assert.equal(decideFailure(new SshConnectError('network', 'refused', 'ha-a')).retry, true);
    assert.deepEqual(decideFailure(new AgentNotRunning('x')), { reach: { state: 'agent-not-running' }, retry: true });
    assert.equal(isRetryable(new SshConnectError('network', 'x', 'h')), true);
    assert.equal(isRetryable(new SshConnectError('auth', 'x', 'h')), false);
  });
});

describe('connecting to an ssh2 server on loopback', () => {
  let dir: string;
  let ep: SshEndpoint;
  let deadPort: number;
  let dropper: Server | undefined;
  const hostKey = generateEd25519();
  const clientKey = generateEd25519({ passphrase: 'sesame' });
  const otherKey = generateEd25519();
  const sessions: SshSession[] = [];

  const config = (name: string, o: { identity: string; knownHosts: string; strict?: string; port?: number }): string => {
    const path = join(dir, `${name}.config`);
    writeFileSync(
      path,
      `Host demo\n  HostName 127.0.0.1\n  Port ${o.port ?? ep.port}\n  User root\n  IdentityFile ${o.identity}\n  IdentitiesOnly yes\n  UserKnownHostsFile ${o.knownHosts}\n  GlobalKnownHostsFile /dev/null\n  StrictHostKeyChecking ${o.strict ?? 'yes'}\n`,
    );
    return path;
  };

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'connect-test-'));
    writeFileSync(join(dir, 'id_enc'), clientKey.private, { mode: 0o600 });
    writeFileSync(join(dir, 'id_other'), otherKey.private, { mode: 0o600 });
    ep = await startSshEndpoint({ hostKeyPrivate: hostKey.private, hostKeyPublic: hostKey.public, authorizedKey: clientKey.public, sockets: new Map() });
    writeFileSync(join(dir, 'known_hosts'), `[127.0.0.1]:${ep.port} ${hostKey.public}\n`);
    // A port that stays ours and drops every connection at once: a network failure that
    // nobody else can turn into a working server mid-test (a closed port could be reused).
    dropper = createServer((sock) => sock.destroy());
    deadPort = await new Promise<number>((resolve) => {
      dropper!.listen(0, '127.0.0.1', () => resolve((dropper!.address() as { port: number }).port));
    });
  });
  after(async () => {
    for (const s of sessions) s.close();
    await ep?.close();
    await new Promise<void>((r) => (dropper ? dropper.close(() => r()) : r()));
    rmSync(dir, { recursive: true, force: true });
  });

  test('an encrypted identity is unlocked through the passphrase hook', async () => {
    const cfg = config('enc', { identity: join(dir, 'id_enc'), knownHosts: join(dir, 'known_hosts') });
    const asked: string[] = [];
    const opts: ConnectOptions = { configFile: cfg, agentSocket: false, onPassphrase: async (p, n) => (asked.push(`${p}#${n}`), n === 1 ? 'wrong' : 'sesame') };
    const s = await connectSsh('demo', opts);
    sessions.push(s);
    assert.deepEqual(asked, [`${join(dir, 'id_enc')}#1`, `${join(dir, 'id_enc')}#2`]);
    s.close();
    await assert.rejects(connectSsh('demo', { configFile: cfg, agentSocket: false }), (e: unknown) => e instanceof SshConnectError && e.kind === 'auth');
  });

  test('an authentication failure is reported once and never retried', async () => {
    const cfg = config('other', { identity: join(dir, 'id_other'), knownHosts: join(dir, 'known_hosts') });
    let attempts = 0;
    const link = new HostLink({
      alias: 'demo',
      configFile: cfg,
      agentSocket: false,
      readOnly: true,
      backoff: { initialMs: 20, maxMs: 20, factor: 1 },
      connect: (a, o) => {
        attempts++;
        return connectSsh(a, o);
      },
    });
    const final = new Promise<void>((resolve) => link.on('state', (r) => r.state === 'unreachable' && resolve()));
    link.start();
    await final;
    await sleep(200);
    assert.equal(attempts, 1);
    assert.equal(link.reach.state, 'unreachable');
    assert.match((link.reach as { error: string }).error, /Permission denied \(publickey\): tried .*id_other/);
    await link.close();
  });

  test('a dropped TCP connection is retried with backoff', async () => {
    const cfg = config('dead', { identity: join(dir, 'id_other'), knownHosts: join(dir, 'known_hosts'), port: deadPort });
    let attempts = 0;
    const delays: number[] = [];
    const link = new HostLink({
      alias: 'demo',
      configFile: cfg,
      agentSocket: false,
      readOnly: true,
      backoff: { initialMs: 20, maxMs: 80, factor: 2 },
      connect: (a, o) => {
        attempts++;
        return connectSsh(a, o);
      },
    });
    const errors: string[] = [];
    link.on('state', (r, info) => {
      if (r.state === 'unreachable' && info.willRetryInMs !== undefined) delays.push(info.willRetryInMs);
      if (r.state === 'unreachable') errors.push(r.error);
    });
    link.start();
    await sleep(1200);
    await link.close();
    assert.ok(attempts >= 4, `attempts ${attempts}`);
    assert.deepEqual(delays.slice(0, 4), [20, 40, 80, 80]);
    assert.ok(errors.length >= 4 && errors.every((e) => e.startsWith('root@127.0.0.1:')), errors.join('\n'));
  });

  test('StrictHostKeyChecking accept-new records the key as [host]:port; a changed key is then refused', async () => {
    const kh = join(dir, 'kh_new');
    writeFileSync(kh, '');
    const cfg = config('new', { identity: join(dir, 'id_enc'), knownHosts: kh, strict: 'accept-new' });
    const s = await connectSsh('demo', { configFile: cfg, agentSocket: false, onPassphrase: async () => 'sesame' });
    sessions.push(s);
    s.close();
    assert.match(readFileSync(kh, 'utf8'), new RegExp(`^\\[127\\.0\\.0\\.1\\]:${ep.port} ssh-ed25519 `));
    const fake = generateEd25519();
    writeFileSync(kh, `[127.0.0.1]:${ep.port} ${fake.public}\n`);
    await assert.rejects(connectSsh('demo', { configFile: cfg, agentSocket: false, onPassphrase: async () => 'sesame' }), /REMOTE HOST IDENTIFICATION HAS CHANGED/);
  });
});
