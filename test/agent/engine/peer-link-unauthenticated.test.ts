// A resource file without a shared secret (DRBD allows it): the peer link runs unauthenticated,
// over real TCP on loopback. Two such nodes connect and replicate; a node with a secret and
// one without never connect, both say which side lacks it, and go on trying until it is fixed.
import { test, describe, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { PeerLink, type ConnectedInfo } from '../../../agent/engine/peer-link.js';
import { once, pairOptions } from './fixtures/peer-link-support.js';
import { upToDatePair, createPair } from '../../support/two-runtimes.js';
import { waitFor } from '../../support/wait.js';
import { readRange } from '../../support/files.js';
import { setTimeout as sleep } from 'node:timers/promises';

const links: PeerLink[] = [];
const track = (l: PeerLink): PeerLink => (links.push(l), l);

afterEach(async () => {
  await Promise.all(links.splice(0).map((l) => l.stop()));
});

const LACKS_HERE = 'ha-a authenticates the peer link with a shared-secret and this host has none: set the same net shared-secret on both hosts';
const LACKS_THERE = 'ha-b has no shared-secret (its peer link is not authenticated) and this host has one: set the same net shared-secret on both hosts';

describe('PeerLink without a shared secret', () => {
  test('a node with a secret and one without: both stay Connecting naming the side without, keep dialing, connect once it has the secret', async () => {
    const [oa, ob] = await pairOptions();
    const a = track(new PeerLink({ ...oa, peerName: 'ha-b' }));
    const bare = track(new PeerLink({ ...ob, secret: '', peerName: 'ha-a' }));
    const pa = once<string | undefined>(a, 'problem', 5000, (p) => p !== undefined);
    const pb = once<string | undefined>(bare, 'problem', 5000, (p) => p !== undefined);
    await Promise.all([a.start(), bare.start()]);
    assert.equal(await pa, LACKS_THERE);
    assert.equal(await pb, LACKS_HERE);
    const dials = [a.stats.dials, bare.stats.dials];
    await sleep(400);
    for (const l of [a, bare]) {
      assert.equal(l.state, 'Connecting');
      assert.equal(l.stats.authenticated, 0);
    }
    assert.ok(a.stats.dials > dials[0]! && bare.stats.dials > dials[1]!, 'both keep dialing');
    assert.equal(a.lastError, LACKS_THERE);
    assert.equal(bare.lastError, LACKS_HERE);
    // The secret put on B (the config re-read restarts its link): A connects by itself.
    await bare.stop();
    const b = track(new PeerLink({ ...ob, peerName: 'ha-a' }));
    const connected = once<ConnectedInfo>(a, 'connected', 5000);
    const cleared = once<string | undefined>(a, 'problem', 5000, (p) => p === undefined);
    await b.start();
    await connected;
    await cleared;
  });

  test('net.tls psk without a secret is refused with the fix (the TLS key comes from the secret)', async () => {
    const [oa] = await pairOptions();
    assert.throws(() => new PeerLink({ ...oa, secret: '', tls: 'psk' }), /net\.tls psk needs a shared-secret .*set net shared-secret on both hosts/);
  });
});

describe('two runtimes without a shared secret', () => {
  test('connect and replicate: a write on the Primary is on the peer’s disk', async () => {
    const p = await upToDatePair({ secrets: ['', ''] });
    try {
      // Restarted, B logs what its file leaves open.
      await p.b.down();
      const logs: string[] = [];
      (await p.reattach('b')).on('log', (l) => logs.push(`${l.level}: ${l.text}`));
      await waitFor(() => logs.length > 0, 'the attach note');
      assert.match(logs[0]!, /^warn: peer link not authenticated: add net: \{ shared-secret: "…" \} to r0\.yaml, the same on both hosts/);
      await p.b.admin({ cmd: 'connect', discardMyData: false });
      await waitFor(() => p.a.state.conn === 'Connected' && p.b.state.volumes[0]!.disk === 'UpToDate', 'B back, UpToDate');
      const data = Buffer.alloc(4096, 0x5a);
      await p.a.blockDevice(0).write(8 * 4096, data);
      await waitFor(() => p.b.state.volumes[0]!.stats.received >= 4096, 'B received the write');
      assert.deepEqual(await readRange(p.diskB, 8 * 4096, 4096), data);
    } finally {
      await p.close();
    }
  });

  test('one with a secret, one without: neither connects, each says why', async () => {
    const p = await createPair({ secrets: ['test-secret-123', ''] });
    try {
      await p.a.admin({ cmd: 'connect', discardMyData: false });
      await p.b.admin({ cmd: 'connect', discardMyData: false });
      const err = (rt: typeof p.a) => rt.snapshot().connections[0]!.lastError;
      await waitFor(() => err(p.a) !== undefined && err(p.b) !== undefined, 'both name the mismatch');
      assert.equal(err(p.a), LACKS_THERE);
      assert.equal(err(p.b), LACKS_HERE);
      await sleep(300);
      for (const rt of [p.a, p.b]) assert.equal(rt.state.conn, 'Connecting');
    } finally {
      await p.close();
    }
  });
});
