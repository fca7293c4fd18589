// The control sockets' bounds over real unix sockets: request line length, events queued to a
// client that does not read, monitor connections at once, and the monitor socket's mode.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { connect, type Socket } from 'node:net';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { serveControl, type ControlHandler } from '../../../agent/control/server.js';
import type { AgentSnapshot, StateEvent } from '../../../agent/protocol/messages.js';
import { waitFor } from '../../support/wait.js';
import { setTimeout as sleep } from 'node:timers/promises';
import { monitorSocketPath } from '../../../agent/protocol/socket-paths.js';

const dir = await mkdtemp(join(tmpdir(), 'drbd-tui-control-'));
after(() => rm(dir, { recursive: true, force: true }));

const senders = new Set<(e: StateEvent[]) => void>();
const handler: ControlHandler = {
  hello: (readOnly) => ({ agentVersion: 't', protocol: 1, node: 'n', readOnly, capabilities: [] }) as never,
  snapshot: () => ({ node: 'n', agentVersion: 't', resources: [], configErrors: [] }) as unknown as AgentSnapshot,
  call: () => Promise.resolve({ ok: true }),
  subscribe(send) {
    senders.add(send);
    return () => senders.delete(send);
  },
};
const event = (n: number): StateEvent => ({ time: 't', verb: 'change', object: 'resource', props: [['name', 'r0'], ['pad', 'x'.repeat(1000)], ['n', String(n)]] });

async function serve(name: string, limits = {}) {
  const log: string[] = [];
  const socket = join(dir, name, 'agent.sock');
  const server = await serveControl(socket, handler, { monitorAccess: 'world', limits, log: (l) => log.push(l) });
  after(() => server.close());
  return { socket, monitor: monitorSocketPath(socket), log };
}

function open(path: string): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = connect(path, () => resolve(s));
    s.once('error', reject);
  });
}

const readAll = (s: Socket) =>
  new Promise<string>((resolve) => {
    let text = '';
    s.setEncoding('utf8').on('data', (d: string) => (text += d));
    s.on('close', () => resolve(text));
  });

test('a request line past the cap is answered with an error naming the cap, and the connection closes', async () => {
  const { monitor } = await serve('line', { maxLineBytes: 1000 });
  const s = await open(monitor);
  const answer = readAll(s);
  s.write('{"id":1,"method":"hello","params":{"x":"' + 'y'.repeat(5000));
  const text = await answer;
  assert.match(text, /request line of \d+\+ characters without a newline; at most 1000: send one JSON request per line; closing/);
});

test('a subscriber that does not read is dropped past its queue bound, with one log line; one that reads keeps up; the fan-out never waits', async () => {
  const { monitor, log } = await serve('queue', { subscriberQueueBytes: 64 << 10 });
  const stuck = await open(monitor);
  stuck.pause();
  const reader = await open(monitor);
  let got = 0;
  reader.setEncoding('utf8').on('data', (d: string) => (got += d.split('\n').length - 1));
  for (const s of [stuck, reader]) s.write('{"id":1,"method":"subscribe"}\n');
  await waitFor(() => senders.size === 2, 'both subscribed');
  let sent = 0;
  for (let batch = 0; batch < 200 && senders.size > 1; batch++) {
    const events = [event(batch)];
    for (const send of senders) send(events);
    sent++;
    await new Promise((r) => setImmediate(r));
  }
  await waitFor(() => senders.size === 1, 'the stuck subscriber dropped');
  assert.equal(log.filter((l) => /monitor client #\d+: dropped, \d+ bytes of events unread \(at most 65536\)/.test(l)).length, 1, log.join(' | '));
  await waitFor(() => got >= sent, 'the reader got every batch');
  assert.ok(!reader.destroyed);
  reader.destroy();
  await waitFor(() => senders.size === 0, 'reader unsubscribed');
});

test('monitor connections past the total cap are closed at accept, one log line for the episode; the admin socket is not capped', async () => {
  const { monitor, socket, log } = await serve('conns', { maxMonitorConnections: 5 });
  const held: Socket[] = [];
  for (let k = 0; k < 5; k++) held.push(await open(monitor));
  const closed: Array<Promise<string>> = [];
  for (let k = 0; k < 3; k++) closed.push(readAll(await open(monitor)));
  await Promise.all(closed);
  assert.equal(log.filter((l) => /monitor socket: 5 connections open \(at most 5\)/.test(l)).length, 1, log.join(' | '));
  const admin = await open(socket);
  const hello = new Promise<string>((r) => admin.setEncoding('utf8').once('data', r));
  admin.write('{"id":1,"method":"hello"}\n');
  assert.match(await hello, /"readOnly":false/);
  held.pop()!.destroy();
  await sleep(50);
  held.push(await open(monitor));
  const answer = new Promise<string>((r) => held.at(-1)!.setEncoding('utf8').once('data', r));
  held.at(-1)!.write('{"id":1,"method":"hello"}\n');
  assert.match(await answer, /"readOnly":true/);
  assert.ok(log.some((l) => /accepting again after closing 3/.test(l)), log.join(' | '));
  for (const s of [...held, admin]) s.destroy();
});

test('socket modes: admin 0600; monitor as chosen (root: 0600, world: 0666, a group: 0660 in it)', async () => {
  const { socket, monitor } = await serve('modes');
  assert.equal((await stat(socket)).mode & 0o777, 0o600);
  assert.equal((await stat(monitor)).mode & 0o777, 0o666);
  const rootOnly = join(dir, 'root-only', 'agent.sock');
  const server = await serveControl(rootOnly, handler, { monitorAccess: 'root', log: () => undefined });
  after(() => server.close());
  assert.equal((await stat(monitorSocketPath(rootOnly))).mode & 0o777, 0o600);
  // A group that exists on every host: the socket becomes 0660 in it.
  const grouped = join(dir, 'grouped', 'agent.sock');
  const g = await serveControl(grouped, handler, { monitorAccess: { group: 'root' }, log: () => undefined });
  after(() => g.close());
  const st = await stat(monitorSocketPath(grouped));
  assert.equal(st.mode & 0o777, 0o660);
  assert.equal(st.gid, 0);
});

test('without ss, client uids cannot be learned: one log line, and the total cap alone applies', async () => {
  const log: string[] = [];
  const socket = join(dir, 'no-ss', 'agent.sock');
  const limits = { maxMonitorConnections: 8, maxMonitorConnectionsPerUid: 3, monitorUidLookupAbove: 1 };
  const server = await serveControl(socket, handler, { monitorAccess: 'world', limits, log: (l) => log.push(l), ss: join(dir, 'no-such-ss') });
  after(() => server.close());
  const held: Socket[] = [];
  for (let k = 0; k < 6; k++) {
    const s = await open(monitorSocketPath(socket));
    const answer = new Promise<string>((r) => s.setEncoding('utf8').once('data', r));
    s.write('{"id":1,"method":"hello"}\n');
    assert.match(await answer, /"readOnly":true/);
    held.push(s);
  }
  assert.equal(log.filter((l) => /monitor socket: cannot learn client uids \(.*no-such-ss.*\): the per-uid cap \(3\) is not applied, only the total cap until it works again/.test(l)).length, 1, log.join(' | '));
  for (const s of held) s.destroy();
});
