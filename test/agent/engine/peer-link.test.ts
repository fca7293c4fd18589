// PeerLink over real TCP on loopback: two "hosts" are 127.0.0.2 and 127.0.0.3.
import { test, describe, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { connect, createServer, type Socket } from 'node:net';
import { PeerLink, type AttemptFailedInfo, type ConnectedInfo, type DisconnectedInfo } from '../../../agent/engine/peer-link.js';
import { FrameDecoder, MESSAGE_TYPE_NUMBERS, PEER_PROTOCOL_VERSION, ProtocolError, decodeMessage, encodeFrame, encodeMessage, type PeerMessage } from '../../../agent/engine/peer-wire.js';
import { startHandshake, handshakeReceive, type HandshakeState } from '../../../agent/engine/peer-auth.js';
import { randomBytes } from 'node:crypto';
import { HOST_A, HOST_B, once, pairOptions } from './fixtures/peer-link-support.js';
import { setTimeout as sleep } from 'node:timers/promises';

const links: PeerLink[] = [];
const sockets: Socket[] = [];

function track(l: PeerLink): PeerLink {
  links.push(l);
  return l;
}

afterEach(async () => {
  for (const s of sockets.splice(0)) s.destroy();
  await Promise.all(links.splice(0).map((l) => l.stop()));
});

function collect(l: PeerLink): PeerMessage[] {
  const got: PeerMessage[] = [];
  l.on('message', (m) => got.push(m));
  return got;
}

async function connectedPair(common = {}): Promise<[PeerLink, PeerLink, ConnectedInfo, ConnectedInfo]> {
  const [oa, ob] = await pairOptions(common);
  const a = track(new PeerLink(oa));
  const b = track(new PeerLink(ob));
  const ca = once<ConnectedInfo>(a, 'connected');
  const cb = once<ConnectedInfo>(b, 'connected');
  await Promise.all([a.start(), b.start()]);
  const [ia, ib] = await Promise.all([ca, cb]);
  return [a, b, ia, ib];
}

/** A raw TCP client from `fromHost` to the link's listening port; collects what it receives. */
async function rawClient(l: PeerLink, fromHost: string): Promise<{ socket: Socket; received: PeerMessage[]; closed: Promise<void> }> {
  const addr = l.listenAddress!;
  const socket = connect({ host: addr.host, port: addr.port, localAddress: fromHost });
  sockets.push(socket);
  socket.on('error', () => {});
  const received: PeerMessage[] = [];
  const dec = new FrameDecoder();
  socket.on('data', (c: Buffer) => received.push(...dec.push(c).map(decodeMessage)));
  const closed = new Promise<void>((r) => socket.once('close', () => r()));
  await once(socket, 'connect');
  return { socket, received, closed };
}

interface Scripted {
  socket: Socket;
  /** Messages received after authentication. */
  received: PeerMessage[];
  /** Every byte it wrote, frame by frame: what an eavesdropper on the link records. */
  wrote: Buffer[];
  closed: Promise<void>;
  send(m: PeerMessage): void;
}

/** Plays the peer by hand (pure handshake functions, raw socket) so a test controls every connection. */
async function scriptedPeer(l: PeerLink, me: { nodeId: number; peerNodeId: number; session: string }): Promise<Scripted> {
  const addr = l.listenAddress!;
  const socket = connect({ host: addr.host, port: addr.port, localAddress: me.nodeId === 1 ? HOST_B : HOST_A });
  sockets.push(socket);
  socket.on('error', () => {});
  const closed = new Promise<void>((r) => socket.once('close', () => r()));
  const wrote: Buffer[] = [];
  const send = (m: PeerMessage): void => {
    const bytes = Buffer.concat(encodeMessage(m));
    wrote.push(bytes);
    socket.write(bytes);
  };
  const received: PeerMessage[] = [];
  await once(socket, 'connect');
  const start = startHandshake({
    resource: 'r0',
    localNodeId: me.nodeId,
    peerNodeId: me.peerNodeId,
    secret: 'correct horse battery staple',
    configHash: 'cfg-1',
    session: me.session,
    side: 'dialer',
    nonce: randomBytes(32),
  });
  let hs: HandshakeState = start.state;
  let authenticated = false;
  const dec = new FrameDecoder();
  const done = new Promise<void>((resolve, reject) => {
    socket.on('data', (c: Buffer) => {
      for (const m of dec.push(c).map(decodeMessage)) {
        if (authenticated) {
          received.push(m);
          continue;
        }
        const step = handshakeReceive(hs, m);
        hs = step.state;
        for (const a of step.actions) {
          if (a.kind === 'send') send(a.msg);
          else if (a.kind === 'fail') reject(new Error(a.error));
          else {
            authenticated = true;
            resolve();
          }
        }
      }
    });
    void closed.then(() => reject(new Error('closed during handshake')));
  });
  for (const a of start.actions) if (a.kind === 'send') send(a.msg);
  await done;
  return { socket, received, wrote, closed, send };
}

describe('PeerLink', () => {
  test('two links connect, authenticate and exchange messages both ways', async () => {
    const [a, b, ia, ib] = await connectedPair();
    assert.equal(a.state, 'Connected');
    assert.equal(b.state, 'Connected');
    assert.equal(ia.peerNodeId, 1);
    assert.equal(ib.peerNodeId, 0);
    assert.equal(ia.configHashMatches, true);
    // One TCP connection, seen from both ends.
    assert.equal(ia.localAddress, ib.peerAddress);
    assert.equal(ia.peerAddress, ib.localAddress);
    assert.notEqual(ia.dialed, ib.dialed);
    assert.ok(ia.localAddress.startsWith(`${HOST_A}:`) && ia.peerAddress.startsWith(`${HOST_B}:`));

    const atB = collect(b);
    const atA = collect(a);
    const payload = Buffer.alloc(256 * 1024, 0x5a);
    assert.equal(a.send({ type: 'State', role: 'Primary', disks: [{ volume: 0, disk: 'UpToDate' }] }), true);
    a.send({ type: 'Data', volume: 0, seq: 1, offset: 4096, flags: 0, payload });
    const acked = once<PeerMessage>(a, 'message', 2000, (m) => m.type === 'WriteAck');
    await once(b, 'message', 2000, (m: PeerMessage) => m.type === 'Data');
    b.send({ type: 'WriteAck', volume: 0, seq: 1, kind: 'written' });
    assert.deepEqual(await acked, { type: 'WriteAck', volume: 0, seq: 1, kind: 'written' });
    assert.deepEqual(
      atB.map((m) => m.type),
      ['State', 'Data'],
    );
    const data = atB[1];
    assert.ok(data?.type === 'Data' && data.payload.equals(payload));
    assert.deepEqual(
      atA.map((m) => m.type),
      ['WriteAck'],
    );
    assert.throws(() => a.send({ type: 'Hello', protocolVersion: PEER_PROTOCOL_VERSION, nodeId: 0, resource: 'r0', configHash: '', session: '' }));
  });

  test('idle links ping each other and stay connected', async () => {
    const [a, b] = await connectedPair({ pingInterval: 0.1, pingTimeout: 0.5 });
    let lost = false;
    a.on('disconnected', () => (lost = true));
    b.on('disconnected', () => (lost = true));
    await sleep(700);
    assert.ok(a.stats.pingsSent + b.stats.pingsSent >= 4, `pings: ${a.stats.pingsSent} + ${b.stats.pingsSent}`);
    assert.equal(lost, false);
    assert.equal(a.state, 'Connected');
  });

  test('a config hash mismatch is reported on connect, not fatal', async () => {
    const [oa, ob] = await pairOptions();
    const a = track(new PeerLink(oa));
    const b = track(new PeerLink({ ...ob, configHash: 'cfg-2' }));
    const ca = once<ConnectedInfo>(a, 'connected');
    await Promise.all([a.start(), b.start()]);
    const info = await ca;
    assert.equal(info.configHashMatches, false);
    assert.equal(info.peerConfigHash, 'cfg-2');
  });

  test('wrong secret: both sides stay Connecting with "authentication failed from ADDR", keep trying, connect once it is fixed', async () => {
    const [oa, ob] = await pairOptions();
    const a = track(new PeerLink(oa));
    const wrong = track(new PeerLink({ ...ob, secret: 'wrong' }));
    const gotA = collect(a);
    const states: string[] = [];
    a.on('state', (st) => states.push(st));
    const pa = once<string | undefined>(a, 'problem', 5000, (p) => p !== undefined);
    const pb = once<string | undefined>(wrong, 'problem', 5000, (p) => p !== undefined);
    await Promise.all([a.start(), wrong.start()]);
    assert.equal(await pa, `authentication failed from ${HOST_B}`);
    assert.equal(await pb, `authentication failed from ${HOST_A}`);
    const dials = a.stats.dials;
    await sleep(400);
    for (const l of [a, wrong]) {
      assert.equal(l.state, 'Connecting');
      assert.equal(l.send({ type: 'Ping' }), false);
    }
    assert.equal(a.lastError, `authentication failed from ${HOST_B}`);
    assert.ok(a.stats.dials > dials, 'it keeps dialing');
    assert.ok(!states.includes('StandAlone'), states.join(' '));
    assert.equal(gotA.length, 0);
    // The secret fixed on B (the config re-read restarts its link): A connects by itself.
    await wrong.stop();
    const b = track(new PeerLink(ob));
    const connected = once<ConnectedInfo>(a, 'connected', 5000);
    const cleared = once<string | undefined>(a, 'problem', 5000, (p) => p === undefined);
    await b.start();
    await connected;
    await cleared;
    assert.equal(a.problem, undefined);
    assert.equal(a.lastError, undefined);
  });

  test('probe: forged AuthResult and replayed handshakes from the peer’s address while the peer is away stop nothing', async () => {
    const [oa, ob] = await pairOptions({ backoff: { initialMs: 50, maxMs: 200 } });
    const a = track(new PeerLink(oa));
    const states: string[] = [];
    a.on('state', (st) => states.push(st));
    const failures: AttemptFailedInfo[] = [];
    a.on('attempt-failed', (f) => failures.push(f));
    await a.start();
    // A genuine connection from B, recorded on the wire, then B goes away.
    const genuine = await scriptedPeer(a, { nodeId: 1, peerNodeId: 0, session: 'B:0' });
    await once(a, 'connected');
    const lost = once(a, 'disconnected');
    genuine.socket.destroy();
    await lost;

    // The attacker holds B's address and port: A's own dials reach it, and it answers each one
    // with B's Hello, a challenge and AuthResult{ok:false}.
    let dialsAnswered = 0;
    const impostor = createServer((sock) => {
      dialsAnswered++;
      sockets.push(sock);
      sock.on('error', () => {});
      const hello: PeerMessage = { type: 'Hello', protocolVersion: PEER_PROTOCOL_VERSION, nodeId: 1, resource: 'r0', configHash: 'cfg-1', session: 'B:0' };
      for (const m of [hello, { type: 'AuthChallenge', nonce: randomBytes(32) }, { type: 'AuthResult', ok: false, reason: 'authentication failed' }] as PeerMessage[]) sock.write(Buffer.concat(encodeMessage(m)));
    });
    await new Promise<void>((r) => impostor.listen({ host: ob.listen.host, port: ob.listen.port }, () => r()));
    try {
      // And it dials A from B's address: a forged AuthResult, then the recorded transcript replayed.
      const forged = await rawClient(a, HOST_B);
      forged.socket.write(Buffer.concat(encodeMessage({ type: 'Hello', protocolVersion: PEER_PROTOCOL_VERSION, nodeId: 1, resource: 'r0', configHash: 'cfg-1', session: 'B:0' })));
      forged.socket.write(Buffer.concat(encodeMessage({ type: 'AuthChallenge', nonce: randomBytes(32) })));
      forged.socket.write(Buffer.concat(encodeMessage({ type: 'AuthResult', ok: false, reason: 'authentication failed' })));
      await forged.closed;
      for (let i = 0; i < 3; i++) {
        const replay = await rawClient(a, HOST_B);
        for (const b of genuine.wrote) replay.socket.write(b);
        await replay.closed;
        assert.ok(!replay.received.some((m) => m.type === 'AuthResponse'), 'A answers no replayed challenge');
      }
      while (dialsAnswered < 3) await sleep(20);
    } finally {
      const closed = new Promise<void>((r) => impostor.close(() => r()));
      for (const sock of sockets) if (sock.localPort === ob.listen.port) sock.destroy();
      await closed;
    }
    assert.equal(a.state, 'Connecting');
    assert.equal(a.problem, `authentication failed from ${HOST_B}`);
    assert.ok(failures.filter((f) => f.reason === 'auth-failed').length >= 5, JSON.stringify(failures));
    assert.equal(a.connected, false);

    // B is back: A reconnects by itself and data flows.
    const b = track(new PeerLink(ob));
    const connected = once<ConnectedInfo>(a, 'connected', 5000);
    await b.start();
    await connected;
    const got = once<PeerMessage>(b, 'message', 2000);
    a.send({ type: 'Barrier', seq: 42 });
    assert.deepEqual(await got, { type: 'Barrier', seq: 42 });
    assert.ok(!states.includes('StandAlone'), states.join(' '));
  });

  test('peer port: at most 4 connections in the handshake; more are closed at once; the link still connects by its own dial', async () => {
    const [oa, ob] = await pairOptions({ handshakeTimeout: 1.5 });
    const a = track(new PeerLink(oa));
    const refused: AttemptFailedInfo[] = [];
    a.on('attempt-failed', (f) => f.reason === 'refused' && refused.push(f));
    await a.start();
    const silent = [];
    for (let i = 0; i < 4; i++) silent.push(await rawClient(a, HOST_B));
    await sleep(50);
    const extra = await rawClient(a, HOST_B);
    await extra.closed;
    assert.deepEqual(extra.received, []);
    assert.equal(refused.length, 1);
    assert.match(refused[0]!.error, /4 connections already in the handshake/);
    // The real peer comes while the slots are taken: A's dial to it is not subject to A's cap.
    const b = track(new PeerLink(ob));
    const connected = once<ConnectedInfo>(a, 'connected', 3000);
    await b.start();
    assert.equal((await connected).dialed, true);
    // The silent ones are closed by the handshake timeout.
    await Promise.all(silent.map((c) => c.closed));
  });

  test('no data message is accepted before authentication', async () => {
    const [oa] = await pairOptions();
    const a = track(new PeerLink(oa));
    const got = collect(a);
    const failed: AttemptFailedInfo[] = [];
    a.on('attempt-failed', (f) => failed.push(f));
    await a.start();
    const c = await rawClient(a, HOST_B);
    c.socket.write(Buffer.concat(encodeMessage({ type: 'Hello', protocolVersion: PEER_PROTOCOL_VERSION, nodeId: 1, resource: 'r0', configHash: 'cfg-1', session: 'x' })));
    c.socket.write(Buffer.concat(encodeMessage({ type: 'Data', volume: 0, seq: 1, offset: 0, flags: 0, payload: Buffer.alloc(512) })));
    await c.closed;
    assert.equal(got.length, 0);
    assert.equal(a.connected, false);
    assert.ok(failed.some((f) => f.reason === 'protocol-error' && /expected AuthChallenge, got Data/.test(f.error)), JSON.stringify(failed));
    assert.ok(failed.every((f) => f.remoteAddress.startsWith(`${HOST_B}:`)), JSON.stringify(failed));
    // What the link sent before dropping us: its Hello and challenge, nothing else.
    assert.deepEqual(
      c.received.map((m) => m.type),
      ['Hello', 'AuthChallenge'],
    );
  });

  test('an unauthenticated connection costs little: big frames refused, silence times out', async () => {
    const [oa] = await pairOptions({ handshakeTimeout: 0.3 });
    const a = track(new PeerLink(oa));
    const failed: AttemptFailedInfo[] = [];
    a.on('attempt-failed', (f) => failed.push(f));
    await a.start();
    // A header announcing a 1 MiB frame is refused before any of it is buffered.
    const big = await rawClient(a, HOST_B);
    big.socket.write(encodeFrame(MESSAGE_TYPE_NUMBERS.Hello, Buffer.alloc(1 << 20))[0]!);
    await big.closed;
    assert.ok(failed.some((f) => f.reason === 'protocol-error' && /exceeds the limit/.test(f.error)));
    // A silent client is dropped after the handshake timeout.
    const silent = await rawClient(a, HOST_B);
    const t0 = performance.now();
    await silent.closed;
    const ms = performance.now() - t0;
    assert.ok(ms >= 250 && ms < 1500, `closed after ${ms} ms`);
    assert.ok(failed.some((f) => f.reason === 'timeout'));
  });

  test('only the configured peer address may connect', async () => {
    const [oa] = await pairOptions();
    const a = track(new PeerLink(oa));
    const failed: AttemptFailedInfo[] = [];
    a.on('attempt-failed', (f) => failed.push(f));
    await a.start();
    const c = await rawClient(a, '127.0.0.4');
    await c.closed;
    assert.equal(c.received.length, 0);
    assert.ok(failed.some((f) => f.reason === 'refused' && /127\.0\.0\.4/.test(f.error)));
  });

  test('a peer presenting another resource name is rejected', async () => {
    const [oa, ob] = await pairOptions();
    const a = track(new PeerLink(oa));
    const b = track(new PeerLink({ ...ob, resource: 'r9' }));
    let connects = 0;
    a.on('connected', () => connects++);
    const failed = once<AttemptFailedInfo>(a, 'attempt-failed', 3000, (f) => /resource/.test(f.error));
    await Promise.all([a.start(), b.start()]);
    const f = await failed;
    assert.equal(f.reason, 'protocol-error');
    assert.match(f.error, /"r9"/);
    assert.match(a.lastError ?? '', /resource/);
    await sleep(200);
    assert.equal(connects, 0);
  });

  test('simultaneous dial resolves to exactly one connection', async () => {
    let raced = 0;
    for (let round = 0; round < 6; round++) {
      const [oa, ob] = await pairOptions();
      const a = track(new PeerLink(oa));
      const b = track(new PeerLink(ob));
      const events: string[] = [];
      for (const [n, l] of [['a', a], ['b', b]] as const) {
        l.on('connected', () => events.push(`${n}:connected`));
        l.on('disconnected', () => events.push(`${n}:disconnected`));
      }
      const ca = once<ConnectedInfo>(a, 'connected');
      const cb = once<ConnectedInfo>(b, 'connected');
      await Promise.all([a.start(), b.start()]);
      const [ia, ib] = await Promise.all([ca, cb]);
      assert.equal(ia.localAddress, ib.peerAddress, `round ${round}`);
      assert.equal(ia.peerAddress, ib.localAddress, `round ${round}`);
      // Let any duplicate finish its handshake and be closed; nothing must change.
      await sleep(150);
      assert.deepEqual(events.sort(), ['a:connected', 'b:connected'], `round ${round}`);
      const pong = once<PeerMessage>(b, 'message', 2000);
      a.send({ type: 'Barrier', seq: round });
      assert.deepEqual(await pong, { type: 'Barrier', seq: round });
      // The race happened when each side accepted the other's dial.
      if (a.stats.accepts > 0 && b.stats.accepts > 0) raced++;
      await Promise.all(links.splice(0).map((l) => l.stop()));
    }
    console.log(`simultaneous dial: ${raced} of 6 rounds had both sides dial and accept`);
    assert.ok(raced > 0, 'no round had both sides dial and accept: the race was not exercised');
  });

  test('stop() on one side: the other sees closed-by-peer, then reconnects when it starts again', async () => {
    const [a, b] = await connectedPair();
    const lost = once<DisconnectedInfo>(b, 'disconnected');
    const stoppedA = once<DisconnectedInfo>(a, 'disconnected');
    await a.stop();
    assert.deepEqual(await stoppedA, { reason: 'local', connState: 'StandAlone', error: 'stopped' });
    const d = await lost;
    assert.equal(d.reason, 'closed-by-peer');
    assert.equal(b.state, 'Connecting');
    const back = once(b, 'connected');
    await a.start();
    await back;
    assert.equal(a.state, 'Connected');
  });

  test('congestion: send() reports it, bufferedBytes grows, drain follows', async () => {
    const [a, b] = await connectedPair({ congestionThreshold: 1 << 20, pingInterval: 30, pingTimeout: 30 });
    b.pauseReceive();
    const payload = Buffer.alloc(256 * 1024, 1);
    let sent = 0;
    while (a.send({ type: 'Data', volume: 0, seq: ++sent, offset: 0, flags: 0, payload })) {
      if (sent > 4096) assert.fail('never congested');
    }
    assert.equal(a.congested, true);
    assert.ok(a.bufferedBytes >= 1 << 20);
    let received = 0;
    b.on('message', (m) => {
      if (m.type === 'Data') received++;
    });
    const drained = once(a, 'drain', 5000);
    b.resumeReceive();
    await drained;
    assert.equal(a.congested, false);
    while (received < sent) await sleep(10);
    assert.equal(received, sent);
  });

  test('keeper (lower node-id): a duplicate from the same peer session is closed, a new session replaces the link', async () => {
    const [oa] = await pairOptions();
    const a = track(new PeerLink(oa));
    const events: string[] = [];
    a.on('connected', () => events.push('connected'));
    a.on('disconnected', (d) => events.push(`disconnected:${d.reason}`));
    await a.start();
    const first = await scriptedPeer(a, { nodeId: 1, peerNodeId: 0, session: 'S:0' });
    await once(a, 'connected');
    await sleep(20);
    assert.deepEqual(first.received, [{ type: 'KeepConnection' }]);
    const firstAddr = a.connection?.peerAddress;

    const dup = await scriptedPeer(a, { nodeId: 1, peerNodeId: 0, session: 'S:0' });
    await dup.closed;
    assert.equal(a.stats.duplicatesClosed, 1);
    assert.deepEqual(dup.received, []);
    assert.equal(a.connection?.peerAddress, firstAddr);

    const fresh = await scriptedPeer(a, { nodeId: 1, peerNodeId: 0, session: 'S:1' });
    await first.closed;
    await sleep(20);
    assert.deepEqual(fresh.received, [{ type: 'KeepConnection' }]);
    assert.notEqual(a.connection?.peerAddress, firstAddr);
    assert.deepEqual(events, ['connected', 'disconnected:closed-by-peer', 'connected']);
    const got = once<PeerMessage>(a, 'message');
    fresh.send({ type: 'Flush', volume: 0, id: 9 });
    assert.deepEqual(await got, { type: 'Flush', volume: 0, id: 9 });
  });

  test('non-keeper: adopts only the connection it is told to keep', async () => {
    const [, ob] = await pairOptions();
    const b = track(new PeerLink(ob));
    const got = collect(b);
    await b.start();
    const c1 = await scriptedPeer(b, { nodeId: 0, peerNodeId: 1, session: 'K:0' });
    const c2 = await scriptedPeer(b, { nodeId: 0, peerNodeId: 1, session: 'K:0' });
    await sleep(50);
    assert.equal(b.connected, false, 'authenticated but not kept: not connected yet');
    const connected = once<ConnectedInfo>(b, 'connected');
    c2.send({ type: 'KeepConnection' });
    const info = await connected;
    assert.equal(info.peerAddress, `${HOST_A}:${c2.socket.localPort}`);
    await c1.closed;
    assert.equal(b.stats.duplicatesClosed, 1);
    c2.send({ type: 'Barrier', seq: 3 });
    await once(b, 'message');
    assert.deepEqual(got, [{ type: 'Barrier', seq: 3 }]);
    // Data on an authenticated connection that was not kept is a protocol error.
    const c3 = await scriptedPeer(b, { nodeId: 0, peerNodeId: 1, session: 'K:1' });
    c3.send({ type: 'Barrier', seq: 4 });
    await c3.closed;
    assert.equal(got.length, 1);
    assert.equal(b.connected, true);
  });

  test('stop() during start() leaves nothing bound; a taken port makes start() fail StandAlone', async () => {
    const [oa] = await pairOptions();
    const a = track(new PeerLink(oa));
    const starting = a.start();
    await a.stop();
    await starting;
    assert.equal(a.state, 'StandAlone');
    // The port is free again: a second link can take it, and then a third cannot.
    const b = track(new PeerLink(oa));
    await b.start();
    const c = track(new PeerLink(oa));
    await assert.rejects(c.start(), /EADDRINUSE/);
    assert.equal(c.state, 'StandAlone');
    assert.match(c.lastError ?? '', /cannot listen on 127\.0\.0\.2/);
  });

  test('a message listener throwing ProtocolError drops the connection as a protocol error', async () => {
    const [a, b] = await connectedPair();
    b.on('message', (m) => {
      if (m.type === 'StateChangeRequest') throw new ProtocolError('malformed', `cannot ${m.change}`);
    });
    const db = once<DisconnectedInfo>(b, 'disconnected');
    const da = once<DisconnectedInfo>(a, 'disconnected');
    a.send({ type: 'StateChangeRequest', id: 1, change: 'teleport' });
    assert.deepEqual(await db, { reason: 'protocol-error', connState: 'ProtocolError', error: 'cannot teleport' });
    assert.ok(['closed-by-peer', 'broken-pipe'].includes((await da).reason));
    // Both redial by themselves.
    await Promise.all([once(a, 'connected'), once(b, 'connected')]);
  });
});
