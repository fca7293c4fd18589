// The monitor socket's per-uid cap against a real daemon (dist/agent.mjs, --monitor-access
// world) and clients that really are other users: node processes under setpriv as uid 65534
// and 65533, which the daemon tells apart through ss and /proc as it would any local user, and
// two in network namespaces of their own, which it cannot see and counts as one "unknown" uid.
// Needs root (setpriv), so it is a lab suite.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { connect, type Socket } from 'node:net';
import { CONTROL_LIMITS } from '../../agent/control/server.js';
import { agentHost, type AgentHost } from '../support/agent-daemons.js';
import { requireTools } from '../support/lab-packages.js';
import { resourceYaml } from '../support/two-runtimes.js';
import { freePort, waitFor } from '../support/wait.js';
import { monitorSocketPath } from '../../agent/protocol/socket-paths.js';

const PER_UID = CONTROL_LIMITS.maxMonitorConnectionsPerUid;

// Reads commands on stdin: `open N` opens N monitor connections and sends hello on each, then
// prints {"answered":A,"closed":C}; `close N` closes N answered ones and prints {"closed":N}.
const CLIENT = `
const net = require('node:net');
const path = process.argv[1];
const live = [];
const open = (n) => Promise.all(Array.from({ length: n }, () => new Promise((done) => {
  const s = net.connect(path);
  s.on('error', () => undefined);
  s.once('data', () => { live.push(s); done('answered'); });
  s.once('close', () => done('closed'));
  s.write('{"id":1,"method":"hello"}\\n');
})));
require('node:readline').createInterface({ input: process.stdin }).on('line', async (line) => {
  const [cmd, n] = line.split(' ');
  if (cmd === 'open') {
    const r = await open(Number(n));
    console.log(JSON.stringify({ answered: r.filter((x) => x === 'answered').length, closed: r.filter((x) => x === 'closed').length }));
  } else {
    const gone = live.splice(0, Number(n));
    await Promise.all(gone.map((s) => new Promise((done) => { s.once('close', done); s.destroy(); })));
    console.log(JSON.stringify({ closed: gone.length }));
  }
});
`;

/** A node process as `uid`, holding monitor connections on command. */
class UidClient {
  private readonly proc: ChildProcessWithoutNullStreams;
  private readonly answers: Array<(line: string) => void> = [];

  /** wrap: a command that runs the client, e.g. in a network namespace of its own. */
  constructor(uid: number, monitor: string, wrap: string[] = []) {
    const [cmd = 'setpriv', ...args] = [...wrap, 'setpriv', `--reuid=${uid}`, `--regid=${uid}`, '--clear-groups', process.execPath, '-e', CLIENT, monitor];
    this.proc = spawn(cmd, args);
    this.proc.stderr.setEncoding('utf8').on('data', (d: string) => process.stderr.write(`# client ${uid}: ${d}`));
    createInterface({ input: this.proc.stdout }).on('line', (line) => this.answers.shift()?.(line));
  }

  private ask(cmd: string): Promise<Record<string, number>> {
    return new Promise((resolve) => {
      this.answers.push((line) => resolve(JSON.parse(line) as Record<string, number>));
      this.proc.stdin.write(`${cmd}\n`);
    });
  }

  open(n: number) {
    return this.ask(`open ${n}`);
  }

  close(n: number) {
    return this.ask(`close ${n}`);
  }

  async stop(): Promise<void> {
    if (this.proc.exitCode !== null || this.proc.signalCode !== null) return;
    const exited = new Promise((r) => this.proc.once('exit', r));
    this.proc.kill('SIGKILL');
    await exited;
  }
}

/** Root's own connection (this process), answered (hello) or closed; an answered one stays open. */
function rootHello(monitor: string, held: Socket[]): Promise<'answered' | 'closed'> {
  return new Promise((resolve) => {
    const s = connect(monitor);
    s.on('error', () => undefined);
    s.once('data', () => {
      held.push(s);
      resolve('answered');
    });
    s.once('close', () => resolve('closed'));
    s.write('{"id":1,"method":"hello"}\n');
  });
}

describe('monitor socket: connections per uid', async () => {
  const skip = (await requireTools([{ path: '/usr/bin/setpriv', pkg: 'util-linux' }, { path: '/usr/bin/ss', pkg: 'iproute2' }])) ?? (process.getuid?.() !== 0 ? 'needs root (setpriv)' : undefined);
  let dir = '';
  let host: AgentHost | undefined;
  const clients: UidClient[] = [];

  before(async () => {
    if (skip) return;
    dir = await mkdtemp(join(tmpdir(), 'drbd-tui-monitor-uid-'));
    const text = resourceYaml({ dir, portA: await freePort('127.0.0.1'), portB: await freePort('127.0.0.2'), size: '16MiB' });
    host = await agentHost(dir, 'ha-a', text, ['--monitor-access', 'world']);
    // Other users must reach the socket through the test's directories.
    await chmod(dir, 0o755);
    await host.start();
    await chmod(host.root, 0o755);
  });

  after(async () => {
    await Promise.all(clients.map((c) => c.stop()));
    await host?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  test(`uid 65534 gets at most ${PER_UID} connections while root (exempt) and another uid are still admitted; closing some admits it again; logged once each way`, { skip }, async () => {
    const monitor = monitorSocketPath(host!.socket);
    const nobody = new UidClient(65534, monitor);
    const other = new UidClient(65533, monitor);
    clients.push(nobody, other);

    assert.deepEqual(await nobody.open(PER_UID + 4), { answered: PER_UID, closed: 4 });
    assert.deepEqual(await nobody.open(3), { answered: 0, closed: 3 });
    // Root is exempt from the per-uid cap (it counts against the total only).
    const rootHeld: Socket[] = [];
    const root = await Promise.all(Array.from({ length: PER_UID + 2 }, () => rootHello(monitor, rootHeld)));
    assert.deepEqual(root.filter((r) => r === 'closed'), []);
    assert.deepEqual(await other.open(3), { answered: 3, closed: 0 });

    const log = () => host!.log.join('');
    const refusing = new RegExp(`monitor socket: uid 65534: ${PER_UID} monitor connections open \\(at most ${PER_UID} per uid\\); closing new ones at accept until one of them closes`, 'g');
    assert.equal(log().match(refusing)?.length, 1, log());
    assert.doesNotMatch(log(), /uid 65533:|uid 0:/);

    assert.deepEqual(await nobody.close(2), { closed: 2 });
    await waitFor(() => /uid 65534 below the per-uid cap again, after closing 7 connection\(s\) at accept/.test(log()), 'the cap lifted in the log', 5000);
    assert.deepEqual(await nobody.open(3), { answered: 2, closed: 1 });
    assert.equal(log().match(refusing)?.length, 2, log());
    for (const s of rootHeld) s.destroy();
    await Promise.all([nobody.stop(), other.stop()]);
  });

  test(`clients in another network namespace (which ss cannot see) share one budget of ${PER_UID} as "unknown"`, { skip }, async () => {
    const monitor = monitorSocketPath(host!.socket);
    // Held connections open the way to lookups: without them, the first 8 would not be looked up.
    const nobody = new UidClient(65534, monitor);
    clients.push(nobody);
    assert.deepEqual(await nobody.open(8), { answered: 8, closed: 0 });
    const elsewhere = [new UidClient(65532, monitor, ['unshare', '--net']), new UidClient(65531, monitor, ['unshare', '--net'])];
    clients.push(...elsewhere);
    assert.deepEqual(await elsewhere[0]!.open(10), { answered: 10, closed: 0 });
    assert.deepEqual(await elsewhere[1]!.open(10), { answered: PER_UID - 10, closed: 10 - (PER_UID - 10) });
    assert.match(host!.log.join(''), new RegExp(`monitor socket: clients whose uid could not be learned: ${PER_UID} monitor connections open`));
    await Promise.all([nobody, ...elsewhere].map((c) => c.stop()));
  });
});
