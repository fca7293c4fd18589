// A real peer process dies (kill -9) or freezes (SIGSTOP): the survivor notices within the
// ping timeout and reconnects when the peer comes back. A lab suite (run alone, not beside
// the unit suites): a reader descheduled for 0.6 s on a loaded machine is, rightly, dead.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { EventEmitter } from 'node:events';
import { fileURLToPath } from 'node:url';
import { PeerLink, type DisconnectedInfo, type PeerLinkOptions } from '../../../agent/engine/peer-link.js';
import type { PeerMessage } from '../../../agent/engine/peer-wire.js';
import { once, pairOptions } from './fixtures/peer-link-support.js';
import { setTimeout as sleep } from 'node:timers/promises';

const fixture = fileURLToPath(new URL('./fixtures/peer-link-child.ts', import.meta.url));
const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));
const children = new Set<ChildProcess>();

after(() => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
});

/** Starts the peer process; its stdout JSON lines are re-emitted as events on the returned emitter. */
async function startPeer(opts: PeerLinkOptions, mode = ''): Promise<{ child: ChildProcess; events: EventEmitter; exited: Promise<void> }> {
  const child = spawn(process.execPath, ['--import', 'tsx', fixture, JSON.stringify(opts), mode], { cwd: repoRoot, stdio: ['ignore', 'pipe', 'inherit'] });
  children.add(child);
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  void exited.then(() => children.delete(child));
  const events = new EventEmitter();
  createInterface({ input: child.stdout! }).on('line', (line) => {
    try {
      const o = JSON.parse(line) as { event: string };
      events.emit(o.event, o);
    } catch {
      // not ours
    }
  });
  await once(events, 'listening', 15000);
  return { child, events, exited };
}

async function roundTrip(a: PeerLink, seq: number): Promise<void> {
  const ack = once<PeerMessage>(a, 'message', 3000, (m) => m.type === 'BarrierAck');
  assert.equal(a.send({ type: 'Barrier', seq }), true);
  assert.deepEqual(await ack, { type: 'BarrierAck', seq });
}

test('peer killed with -9, restarted, then frozen: disconnect noticed in time, reconnect works', { timeout: 60000 }, async () => {
  const pingInterval = 0.5;
  const pingTimeout = 1;
  const [oa, ob] = await pairOptions({ pingInterval, pingTimeout, backoff: { initialMs: 50, maxMs: 400 } });
  const a = new PeerLink(oa);
  try {
    await a.start();
    let peer = await startPeer(ob);
    await once(a, 'connected', 10000);
    await roundTrip(a, 1);

    // kill -9: the kernel closes the peer's socket; we must notice well within the ping timeout.
    let lost = once<DisconnectedInfo>(a, 'disconnected', 10000);
    let t0 = performance.now();
    peer.child.kill('SIGKILL');
    let d = await lost;
    let s = (performance.now() - t0) / 1000;
    console.log(`kill -9: disconnected (${d.reason}) after ${s.toFixed(3)} s`);
    assert.ok(['closed-by-peer', 'broken-pipe', 'network-failure', 'timeout'].includes(d.reason), d.reason);
    assert.ok(s <= pingTimeout + 0.5, `noticed after ${s} s`);
    await peer.exited;

    // The peer comes back: the survivor reconnects by itself.
    const back = once(a, 'connected', 15000);
    peer = await startPeer(ob);
    await back;
    await roundTrip(a, 2);

    // A frozen peer keeps its socket open (the kernel still ACKs): only the ping timeout can tell.
    lost = once<DisconnectedInfo>(a, 'disconnected', 10000);
    t0 = performance.now();
    peer.child.kill('SIGSTOP');
    d = await lost;
    s = (performance.now() - t0) / 1000;
    console.log(`SIGSTOP: disconnected (${d.reason}, ${d.connState}) after ${s.toFixed(3)} s`);
    assert.equal(d.reason, 'timeout');
    assert.equal(d.connState, 'Timeout');
    assert.ok(s >= pingTimeout * 0.9 && s <= pingInterval + pingTimeout + 0.5, `noticed after ${s} s`);
    assert.equal(a.state, 'Connecting');
    peer.child.kill('SIGKILL');
    await peer.exited;
  } finally {
    await a.stop();
  }
});

test('a slow but alive reader is not declared dead; frozen while streaming, it is', { timeout: 60000 }, async () => {
  // A timeout wide enough that a loaded machine (suites in parallel) descheduling the reader
  // for a moment is not death; the reader slow enough that a Ping still waits longer than it.
  const pingInterval = 0.3;
  const pingTimeout = 0.6;
  const [oa, ob] = await pairOptions({ pingInterval, pingTimeout });
  const a = new PeerLink(oa);
  let streaming = true;
  try {
    await a.start();
    const peer = await startPeer(ob, 'slow-reader:80');
    await once(a, 'connected', 10000);
    const disconnects: DisconnectedInfo[] = [];
    a.on('disconnected', (d) => disconnects.push(d));
    // Protocol-A-like stream: the peer sends nothing back, so we ping; each Ping waits behind
    // megabytes of queued data (8 MiB and the socket's) that the peer drains at ~12 MB/s, longer than pingTimeout.
    const payload = Buffer.alloc(1 << 20, 9);
    let seq = 0;
    const pump = (): void => {
      while (streaming && a.connected) {
        if (!a.send({ type: 'Data', volume: 0, seq: ++seq, offset: 0, flags: 0, payload })) return void a.once('drain', pump);
      }
    };
    pump();
    await sleep(4000);
    assert.deepEqual(disconnects, [], 'a busy peer was declared dead');
    assert.ok(a.stats.pingsSent >= 2, `pings sent: ${a.stats.pingsSent}`);
    // The reader is slow indeed (80 ms a MiB: some 12 MB/s, plus the queue filled at the start).
    assert.ok(seq < 4 * 20, `${seq} MiB in 4 s: the reader is not slow`);
    console.log(`slow reader: ${seq} MiB queued in 4 s, ${a.stats.pingsSent} pings, still connected`);

    const lost = once<DisconnectedInfo>(a, 'disconnected', 10000);
    const t0 = performance.now();
    peer.child.kill('SIGSTOP');
    const d = await lost;
    const s = (performance.now() - t0) / 1000;
    console.log(`SIGSTOP while streaming: disconnected (${d.reason}) after ${s.toFixed(3)} s`);
    assert.equal(d.reason, 'timeout');
    assert.ok(s <= pingInterval + pingTimeout + 0.5, `noticed after ${s} s`);
    peer.child.kill('SIGKILL');
    await peer.exited;
  } finally {
    streaming = false;
    await a.stop();
  }
});
