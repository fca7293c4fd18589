import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import {
  AUTH_FAILED,
  authMac,
  handshakeReceive,
  isConnectionKeeper,
  startHandshake,
  verifyAuthMac,
  type HandshakeAction,
  type HandshakeConfig,
  type HandshakeState,
} from '../../../agent/engine/peer-auth.js';
import { PEER_PROTOCOL_VERSION, type PeerMessage } from '../../../agent/engine/peer-wire.js';

const nonceA = Buffer.alloc(32, 0xa1);
const nonceB = Buffer.alloc(32, 0xb2);

function cfg(over: Partial<HandshakeConfig> & Pick<HandshakeConfig, 'side' | 'localNodeId' | 'peerNodeId' | 'nonce'>): HandshakeConfig {
  return { resource: 'r0', secret: 's3cret', configHash: 'h1', session: 'sess', ...over };
}

const sent = (actions: HandshakeAction[]): PeerMessage[] => actions.flatMap((a) => (a.kind === 'send' ? [a.msg] : []));
const outcome = (actions: HandshakeAction[]): HandshakeAction | undefined => actions.find((a) => a.kind !== 'send');

/** Runs two handshakes against each other in memory, delivering messages in order. */
function converse(a: HandshakeConfig, b: HandshakeConfig): { a: HandshakeAction[]; b: HandshakeAction[] } {
  const sa = startHandshake(a);
  const sb = startHandshake(b);
  let stA: HandshakeState = sa.state;
  let stB: HandshakeState = sb.state;
  const log = { a: [...sa.actions], b: [...sb.actions] };
  let toB = sent(sa.actions);
  let toA = sent(sb.actions);
  while (toA.length + toB.length > 0) {
    const nextToA: PeerMessage[] = [];
    const nextToB: PeerMessage[] = [];
    for (const m of toB) {
      if (stB.done) break;
      const s = handshakeReceive(stB, m);
      stB = s.state;
      log.b.push(...s.actions);
      nextToA.push(...sent(s.actions));
    }
    for (const m of toA) {
      if (stA.done) break;
      const s = handshakeReceive(stA, m);
      stA = s.state;
      log.a.push(...s.actions);
      nextToB.push(...sent(s.actions));
    }
    toA = nextToA;
    toB = nextToB;
  }
  return log;
}

describe('peer-auth MAC', () => {
  const base = { secret: 'k', ownNonce: nonceA, peerNonce: nonceB, resource: 'r0', ownNodeId: 0, peerNodeId: 1 } as const;

  test('verifies the response it computes, and nothing else', () => {
    const mac = authMac({ ...base, side: 'dialer' });
    assert.equal(mac.length, 32);
    assert.ok(verifyAuthMac({ ...base, side: 'dialer' }, mac));
    assert.ok(!verifyAuthMac({ ...base, side: 'dialer', secret: 'K' }, mac));
    assert.ok(!verifyAuthMac({ ...base, side: 'dialer', resource: 'r1' }, mac));
    assert.ok(!verifyAuthMac({ ...base, side: 'dialer', ownNodeId: 1, peerNodeId: 0 }, mac));
    assert.ok(!verifyAuthMac({ ...base, side: 'dialer', peerNonce: nonceA }, mac));
    assert.ok(!verifyAuthMac({ ...base, side: 'dialer' }, mac.subarray(0, 31)));
  });

  test('reflection: the acceptor’s answer to a nonce is not what the dialer must send', () => {
    // An attacker relays our challenge back to us on a second connection: our own answer
    // there carries the other label and the node ids swapped, so it does not verify.
    const ours = authMac({ ...base, side: 'acceptor' });
    assert.ok(!verifyAuthMac({ ...base, side: 'dialer' }, ours));
    assert.notDeepEqual(authMac({ ...base, side: 'dialer' }), ours);
  });

  test('the keeper is the lower node-id', () => {
    assert.equal(isConnectionKeeper(0, 1), true);
    assert.equal(isConnectionKeeper(1, 0), false);
  });
});

/** Feeds `msgs` to a fresh handshake; what it sent (start included) and how it ended. */
function feed(c: HandshakeConfig, msgs: PeerMessage[]): { sent: PeerMessage[]; end: HandshakeAction | undefined } {
  const st = startHandshake(c);
  let state = st.state;
  const actions = [...st.actions];
  for (const m of msgs) {
    if (state.done) break;
    const step = handshakeReceive(state, m);
    state = step.state;
    actions.push(...step.actions);
  }
  return { sent: sent(actions), end: outcome(actions) };
}

describe('peer-auth handshake', () => {
  const a = cfg({ side: 'dialer', localNodeId: 0, peerNodeId: 1, nonce: nonceA });
  const b = cfg({ side: 'acceptor', localNodeId: 1, peerNodeId: 0, nonce: nonceB });
  const helloFrom = (nodeId: number): PeerMessage => ({ type: 'Hello', protocolVersion: PEER_PROTOCOL_VERSION, nodeId, resource: 'r0', configHash: 'h1', session: 'sess' });

  test('same secret: both sides authenticate and learn the peer’s Hello', () => {
    const log = converse(a, b);
    const ra = outcome(log.a);
    const rb = outcome(log.b);
    assert.equal(ra?.kind, 'authenticated');
    assert.equal(rb?.kind, 'authenticated');
    if (ra?.kind === 'authenticated') assert.equal(ra.peer.nodeId, 1);
    if (rb?.kind === 'authenticated') assert.deepEqual([rb.peer.nodeId, rb.peer.configHash, rb.peer.session], [0, 'h1', 'sess']);
    // The dialer proves first: its AuthResponse is the first one on the wire.
    assert.deepEqual(sent(log.a).map((m) => m.type), ['Hello', 'AuthChallenge', 'AuthResponse', 'AuthResult']);
    assert.deepEqual(sent(log.b).map((m) => m.type), ['Hello', 'AuthChallenge', 'AuthResponse']);
  });

  test('wrong secret: both sides fail with "authentication failed"; the acceptor never answered', () => {
    const log = converse(a, { ...b, secret: 'other' });
    for (const side of [log.a, log.b]) assert.deepEqual(outcome(side), { kind: 'fail', reason: 'auth-failed', error: AUTH_FAILED });
    assert.ok(sent(log.b).some((m) => m.type === 'AuthResult' && !m.ok));
    assert.ok(!sent(log.b).some((m) => m.type === 'AuthResponse'), 'nothing computed from the secret goes to an unproven dialer');
  });

  // A recorded conversation between the two, with other nonces: what an eavesdropper replays.
  const old = converse({ ...a, nonce: Buffer.alloc(32, 0x0a) }, { ...b, nonce: Buffer.alloc(32, 0x0b) });
  const oldFromDialer = sent(old.a);
  const oldFromAcceptor = sent(old.b);
  const genuineProof = (): PeerMessage => {
    const r = feed(a, [helloFrom(1), { type: 'AuthChallenge', nonce: nonceB }]);
    return r.sent.find((m) => m.type === 'AuthResponse')!;
  };

  const acceptorCases: Array<{ name: string; msgs: () => PeerMessage[]; end: string | undefined; answers: boolean }> = [
    { name: 'Hello and challenge only: waits, answers nothing', msgs: () => [helloFrom(0), { type: 'AuthChallenge', nonce: nonceA }], end: undefined, answers: false },
    { name: 'an AuthResult ok instead of a proof', msgs: () => [helloFrom(0), { type: 'AuthChallenge', nonce: nonceA }, { type: 'AuthResult', ok: true }], end: 'protocol-error', answers: false },
    { name: 'a forged AuthResult ok:false ends this connection only', msgs: () => [helloFrom(0), { type: 'AuthChallenge', nonce: nonceA }, { type: 'AuthResult', ok: false, reason: 'x' }], end: 'auth-failed', answers: false },
    { name: 'a made-up proof', msgs: () => [helloFrom(0), { type: 'AuthChallenge', nonce: nonceA }, { type: 'AuthResponse', mac: Buffer.alloc(32, 7) }], end: 'auth-failed', answers: false },
    { name: 'a replayed dialer transcript (old nonces)', msgs: () => oldFromDialer, end: 'auth-failed', answers: false },
    { name: 'the genuine proof: answers, then waits for AuthResult', msgs: () => [helloFrom(0), { type: 'AuthChallenge', nonce: nonceA }, genuineProof()], end: undefined, answers: true },
    { name: 'the genuine proof and AuthResult ok', msgs: () => [helloFrom(0), { type: 'AuthChallenge', nonce: nonceA }, genuineProof(), { type: 'AuthResult', ok: true }], end: 'authenticated', answers: true },
  ];
  for (const c of acceptorCases) {
    test(`acceptor, ${c.name}`, () => {
      const r = feed(b, c.msgs());
      assert.equal(r.end?.kind === 'fail' ? r.end.reason : r.end?.kind, c.end);
      assert.equal(r.sent.some((m) => m.type === 'AuthResponse'), c.answers);
    });
  }

  const dialerCases: Array<{ name: string; msgs: PeerMessage[]; end: string }> = [
    { name: 'a forged AuthResult ok:false before any answer', msgs: [helloFrom(1), { type: 'AuthChallenge', nonce: nonceB }, { type: 'AuthResult', ok: false, reason: AUTH_FAILED }], end: 'auth-failed' },
    { name: 'an AuthResult ok instead of the acceptor’s proof', msgs: [helloFrom(1), { type: 'AuthChallenge', nonce: nonceB }, { type: 'AuthResult', ok: true }], end: 'protocol-error' },
    { name: 'a replayed acceptor transcript (old nonces)', msgs: oldFromAcceptor, end: 'auth-failed' },
    { name: 'a proof before the challenge', msgs: [helloFrom(1), { type: 'AuthResponse', mac: Buffer.alloc(32) }], end: 'protocol-error' },
  ];
  for (const c of dialerCases) {
    test(`dialer, ${c.name}`, () => {
      const r = feed(a, c.msgs);
      assert.equal(r.end?.kind === 'fail' ? r.end.reason : r.end?.kind, c.end);
    });
  }

  test('same side labels on both ends (a reflected conversation) fail', () => {
    const log = converse(a, { ...b, side: 'dialer' });
    assert.equal(outcome(log.a)?.kind, 'fail');
    assert.equal(outcome(log.b)?.kind, 'fail');
  });

  test('a peer for another resource or node-id is refused before any secret is used', () => {
    for (const bad of [{ resource: 'r1' }, { localNodeId: 5 }]) {
      const log = converse(a, { ...b, ...bad });
      const r = outcome(log.a);
      assert.equal(r?.kind, 'fail');
      if (r?.kind === 'fail') assert.equal(r.reason, 'protocol-error');
      assert.ok(!sent(log.a).some((m) => m.type === 'AuthResponse'));
    }
  });

  test('a peer numbering the pair differently is told how to make both agree', () => {
    const f = outcome(handshakeReceive(startHandshake(a).state, { ...(helloFrom(1) as Extract<PeerMessage, { type: 'Hello' }>), nodeId: 0 }).actions);
    assert.ok(f?.kind === 'fail' && f.error.startsWith('peer has node-id 0, expected 1: the two hosts number the pair differently; write node-id'), JSON.stringify(f));
  });

  test('anything but the handshake sequence is a protocol error', () => {
    const s0 = startHandshake(a).state;
    const data: PeerMessage = { type: 'Data', volume: 0, seq: 1, offset: 0, flags: 0, payload: Buffer.alloc(512) };
    const r1 = handshakeReceive(s0, data);
    assert.equal(outcome(r1.actions)?.kind, 'fail');
    const hello: PeerMessage = { type: 'Hello', protocolVersion: PEER_PROTOCOL_VERSION, nodeId: 1, resource: 'r0', configHash: 'x', session: 's' };
    const s1 = handshakeReceive(s0, hello).state;
    assert.equal(outcome(handshakeReceive(s1, data).actions)?.kind, 'fail');
    assert.equal(outcome(handshakeReceive(s1, { type: 'AuthResult', ok: true }).actions)?.kind, 'fail');
    // Our own nonce echoed back is refused outright.
    assert.equal(outcome(handshakeReceive(s1, { type: 'AuthChallenge', nonce: nonceA }).actions)?.kind, 'fail');
    const s2 = handshakeReceive(s1, { type: 'AuthChallenge', nonce: nonceB }).state;
    assert.equal(outcome(handshakeReceive(s2, data).actions)?.kind, 'fail');
    assert.equal(outcome(handshakeReceive(s2, { type: 'Ping' }).actions)?.kind, 'fail');
    // A second Hello is out of order too.
    assert.equal(outcome(handshakeReceive(s1, hello).actions)?.kind, 'fail');
  });

  test('protocol version mismatch is refused', () => {
    const s0 = startHandshake(a).state;
    const r = handshakeReceive(s0, { type: 'Hello', protocolVersion: PEER_PROTOCOL_VERSION - 1, nodeId: 1, resource: 'r0', configHash: 'x', session: 's' });
    const f = outcome(r.actions);
    assert.ok(f?.kind === 'fail' && /version/.test(f.error));
  });
});

describe('peer-auth without a shared secret', () => {
  const dialer = (secret: string) => cfg({ side: 'dialer', localNodeId: 0, peerNodeId: 1, nonce: nonceA, secret, peerName: 'ha-b' });
  const acceptor = (secret: string) => cfg({ side: 'acceptor', localNodeId: 1, peerNodeId: 0, nonce: nonceB, secret, peerName: 'ha-a' });
  const rows: Array<{ dialer: string; acceptor: string; a: string; b: string }> = [
    { dialer: '', acceptor: '', a: 'authenticated', b: 'authenticated' },
    { dialer: 's3cret', acceptor: 's3cret', a: 'authenticated', b: 'authenticated' },
    {
      dialer: 's3cret',
      acceptor: '',
      a: 'ha-b has no shared-secret (its peer link is not authenticated) and this host has one: set the same net shared-secret on both hosts',
      b: 'ha-a authenticates the peer link with a shared-secret and this host has none: set the same net shared-secret on both hosts',
    },
    {
      dialer: '',
      acceptor: 's3cret',
      a: 'ha-b authenticates the peer link with a shared-secret and this host has none: set the same net shared-secret on both hosts',
      b: 'ha-a has no shared-secret (its peer link is not authenticated) and this host has one: set the same net shared-secret on both hosts',
    },
  ];
  for (const r of rows) {
    test(`dialer ${r.dialer ? 'with' : 'without'} a secret, acceptor ${r.acceptor ? 'with' : 'without'}`, () => {
      const log = converse(dialer(r.dialer), acceptor(r.acceptor));
      const said = (actions: HandshakeAction[]) => {
        const o = outcome(actions);
        if (o?.kind === 'fail') assert.equal(o.reason, 'protocol-error');
        return o?.kind === 'fail' ? o.error : o?.kind;
      };
      assert.equal(said(log.a), r.a);
      assert.equal(said(log.b), r.b);
      // A mismatch is found from the Hellos alone: no side answers a challenge.
      if (r.a !== 'authenticated') assert.ok(![...sent(log.a), ...sent(log.b)].some((m) => m.type === 'AuthResponse'));
    });
  }

  test('only a side without a secret says so in its Hello (with one, Hello is what it always was)', () => {
    const hello = (secret: string) => sent(startHandshake(dialer(secret)).actions)[0];
    assert.deepEqual(hello('s3cret'), { type: 'Hello', protocolVersion: PEER_PROTOCOL_VERSION, nodeId: 0, resource: 'r0', configHash: 'h1', session: 'sess' });
    assert.equal((hello('') as { unauthenticated?: boolean }).unauthenticated, true);
  });
});
