// PeerLink with net.tls psk over real TCP on loopback: replication through TLS, what an
// eavesdropper records, and the mismatches an operator makes (one side TLS, or other secrets).
import { test, describe, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { PeerLink, type ConnectedInfo, type PeerLinkOptions } from '../../../agent/engine/peer-link.js';
import type { PeerMessage } from '../../../agent/engine/peer-wire.js';
import { HOST_A, HOST_B, once, pairOptions } from './fixtures/peer-link-support.js';
import { freePort } from '../../support/wait.js';
import { setTimeout as sleep } from 'node:timers/promises';

const links: PeerLink[] = [];
const servers: Server[] = [];
const sockets: Socket[] = [];
const track = (l: PeerLink): PeerLink => (links.push(l), l);

afterEach(async () => {
  for (const s of sockets.splice(0)) s.destroy();
  await Promise.all(links.splice(0).map((l) => l.stop()));
  await Promise.all(servers.splice(0).map((s) => new Promise((r) => s.close(r))));
});

/**
 * A TCP relay on HOST_B that forwards to B from HOST_A's address (so B admits it as A) and
 * keeps every byte that passes, both ways.
 */
async function recordingRelay(to: { host: string; port: number }): Promise<{ port: number; recorded: () => Buffer }> {
  const chunks: Buffer[] = [];
  const server = createServer((inbound) => {
    const outbound = connect({ host: to.host, port: to.port, localAddress: HOST_A });
    sockets.push(inbound, outbound);
    for (const [from, into] of [
      [inbound, outbound],
      [outbound, inbound],
    ] as const) {
      from.on('data', (c: Buffer) => {
        chunks.push(Buffer.from(c));
        into.write(c);
      });
      from.on('error', () => into.destroy());
      from.on('close', () => into.destroy());
    }
  });
  servers.push(server);
  const port = await freePort(HOST_B);
  await new Promise<void>((r) => server.listen({ host: HOST_B, port }, () => r()));
  return { port, recorded: () => Buffer.concat(chunks) };
}

const MARKER = Buffer.from('replicated-plaintext-marker:');
const payload = Buffer.alloc(256 << 10);
for (let i = 0; i < payload.length; i += MARKER.length) MARKER.copy(payload, i);

/** A (node 0) reaches B only through the relay; B's own dials go nowhere, so the kept connection is the relayed one. */
async function replicateThroughRelay(common: Partial<PeerLinkOptions>): Promise<Buffer> {
  const [oa, ob] = await pairOptions(common);
  const relay = await recordingRelay(ob.listen);
  const a = track(new PeerLink({ ...oa, peer: { host: HOST_B, port: relay.port } }));
  const b = track(new PeerLink({ ...ob, peer: { host: HOST_A, port: await freePort(HOST_A) } }));
  const ca = once<ConnectedInfo>(a, 'connected');
  const cb = once<ConnectedInfo>(b, 'connected');
  await Promise.all([a.start(), b.start()]);
  await Promise.all([ca, cb]);
  const got: PeerMessage[] = [];
  b.on('message', (m) => got.push(m));
  const acked = once<PeerMessage>(a, 'message', 5000, (m) => m.type === 'WriteAck');
  for (let seq = 1; seq <= 8; seq++) a.send({ type: 'Data', volume: 0, seq, offset: seq * payload.length, flags: 0, payload });
  await once(b, 'message', 5000, (m: PeerMessage) => m.type === 'Data' && m.seq === 8);
  b.send({ type: 'WriteAck', volume: 0, seq: 8, kind: 'written' });
  await acked;
  assert.equal(got.length, 8);
  for (const m of got) assert.ok(m.type === 'Data' && m.payload.equals(payload), 'B receives exactly what A sent');
  return relay.recorded();
}

describe('PeerLink over TLS (net.tls psk)', () => {
  test('replicates through TLS; the wire carries none of the data, and without TLS it does (the probe sees plaintext)', async () => {
    const wire = await replicateThroughRelay({ tls: 'psk' });
    assert.ok(wire.length > 8 * payload.length, `recorded ${wire.length} bytes`);
    assert.equal(wire.indexOf(MARKER), -1, 'the payload pattern is on the wire');
    assert.equal(wire.indexOf(Buffer.from('DRTP')), -1, 'frame headers are on the wire');
    assert.equal(wire[0], 0x16, 'a TLS record opens the connection');
    for (const l of links.splice(0)) await l.stop();

    const plain = await replicateThroughRelay({});
    assert.notEqual(plain.indexOf(MARKER), -1);
  });

  test('one side TLS, the other plain: both stay Connecting naming who does not speak TLS, keep trying, connect once both agree', async () => {
    const [oa, ob] = await pairOptions({ backoff: { initialMs: 50, maxMs: 200 } });
    const a = track(new PeerLink({ ...oa, tls: 'psk', peerName: 'ha-b' }));
    const plain = track(new PeerLink({ ...ob, peerName: 'ha-a' }));
    const states: string[] = [];
    for (const l of [a, plain]) l.on('state', (st) => states.push(st));
    const pa = once<string | undefined>(a, 'problem', 5000, (p) => p !== undefined);
    const pb = once<string | undefined>(plain, 'problem', 5000, (p) => p !== undefined);
    await Promise.all([a.start(), plain.start()]);
    assert.equal(await pa, 'ha-b does not speak TLS on the peer link: set net.tls psk on both hosts, or on neither');
    assert.equal(await pb, 'ha-a speaks TLS on the peer link and this host does not: set net.tls psk on both hosts, or on neither');
    const dials = a.stats.dials;
    await sleep(500);
    for (const l of [a, plain]) assert.equal(l.state, 'Connecting');
    assert.ok(a.stats.dials > dials, 'it keeps dialing');
    assert.equal(a.problem, 'ha-b does not speak TLS on the peer link: set net.tls psk on both hosts, or on neither');
    assert.equal(a.lastError, a.problem);
    assert.ok(!states.includes('StandAlone') && !states.includes('Connected'), states.join(' '));
    // net.tls set on B too (the config re-read restarts its link).
    await plain.stop();
    const b = track(new PeerLink({ ...ob, tls: 'psk', peerName: 'ha-a' }));
    const connected = once<ConnectedInfo>(a, 'connected', 5000);
    const cleared = once<string | undefined>(a, 'problem', 5000, (p) => p === undefined);
    await b.start();
    await connected;
    await cleared;
    assert.equal(a.lastError, undefined);
  });

  test('both TLS with different secrets: "authentication failed from ADDR", as without TLS, and it keeps trying', async () => {
    const [oa, ob] = await pairOptions({ tls: 'psk' });
    const a = track(new PeerLink(oa));
    const wrong = track(new PeerLink({ ...ob, secret: 'wrong' }));
    const pa = once<string | undefined>(a, 'problem', 5000, (p) => p !== undefined);
    const pb = once<string | undefined>(wrong, 'problem', 5000, (p) => p !== undefined);
    await Promise.all([a.start(), wrong.start()]);
    assert.equal(await pa, `authentication failed from ${HOST_B}`);
    assert.equal(await pb, `authentication failed from ${HOST_A}`);
    await sleep(300);
    assert.equal(a.state, 'Connecting');
    assert.equal(wrong.state, 'Connecting');
  });
});
