// Peer link authentication: an HMAC-SHA256 challenge-response over the resource's shared
// secret, and the per-connection handshake as a pure state machine (message in → new state
// and actions out). The link (peer-link.ts) feeds it decoded messages and carries out the
// actions; nonces come in from outside so that everything here is deterministic.
//
// Each side sends Hello and a random 32-byte nonce. A response is
//   HMAC(secret, label(own side) ‖ peer nonce ‖ own nonce ‖ resource ‖ own node-id ‖ peer node-id)
// The dialer proves first; the acceptor checks that proof before it sends its own. So whoever
// dials us learns nothing computed from the secret until it has shown it knows the secret (no
// guessing oracle on our listening port); only a party that answers our dial on the peer's
// address sees our response, and that is the peer, or someone who took its address or the
// path to it — which is why the console generates a 192-bit secret (README, Security).
// The label depends on who dialed, so a response computed by one side can never be what the
// other side expects (no reflection: an attacker cannot have us answer our own challenge on
// a second connection), and both nonces are fresh per connection (a replayed transcript
// answers a nonce nobody asks any more and fails).
//
// Without a shared secret (the file sets none, as DRBD allows) the same exchange runs with an
// empty key: it then proves nothing but checks resource, node-ids and session as before. Such a
// side says so in its Hello, and each side compares the peer's word with its own file before
// anything else: one side with a secret and one without is a named mismatch (retried like a
// failed authentication, peer-retry.ts), never a link, and never "authentication failed" that
// sends the operator looking for two different secrets.

import { createHmac, timingSafeEqual } from 'node:crypto';
import { AUTH_NONCE_BYTES, PEER_PROTOCOL_VERSION, type Hello, type PeerMessage } from './peer-wire.js';

export type LinkSide = 'dialer' | 'acceptor';

const LABELS: Record<LinkSide, string> = {
  dialer: 'drbd-tui peer-link v3 dialer',
  acceptor: 'drbd-tui peer-link v3 acceptor',
};

export const AUTH_FAILED = 'authentication failed';

export interface MacInput {
  secret: string | Buffer;
  /** The side whose response this is. */
  side: LinkSide;
  /** Nonce sent by the side computing the response. */
  ownNonce: Buffer;
  /** Nonce it received and answers. */
  peerNonce: Buffer;
  resource: string;
  ownNodeId: number;
  peerNodeId: number;
}

function lengthPrefixed(s: string | Buffer): Buffer {
  const b = typeof s === 'string' ? Buffer.from(s, 'utf8') : s;
  const len = Buffer.alloc(4);
  len.writeUInt32BE(b.length, 0);
  return Buffer.concat([len, b]);
}

/** The response `side` sends to prove it knows the secret. */
export function authMac(m: MacInput): Buffer {
  const ids = Buffer.alloc(8);
  ids.writeUInt32BE(m.ownNodeId, 0);
  ids.writeUInt32BE(m.peerNodeId, 4);
  // Every variable-length field is length-prefixed so no two inputs share an encoding.
  return createHmac('sha256', m.secret)
    .update(lengthPrefixed(LABELS[m.side]))
    .update(lengthPrefixed(m.peerNonce))
    .update(lengthPrefixed(m.ownNonce))
    .update(lengthPrefixed(m.resource))
    .update(ids)
    .digest();
}

/** Whether `mac` is the response `m.side` should have sent; constant-time comparison. */
export function verifyAuthMac(m: MacInput, mac: Buffer): boolean {
  const expected = authMac(m);
  return mac.length === expected.length && timingSafeEqual(mac, expected);
}

/**
 * Which side decides, when both nodes dial each other at once, which authenticated connection
 * is kept: the lower node-id. It announces its choice with KeepConnection; the other side
 * only ever adopts the connection it is told to keep, so both agree whatever the timing.
 */
export function isConnectionKeeper(localNodeId: number, peerNodeId: number): boolean {
  return localNodeId < peerNodeId;
}

// ---- Handshake state machine (one per TCP connection) ----

export interface HandshakeConfig {
  resource: string;
  localNodeId: number;
  peerNodeId: number;
  secret: string | Buffer;
  configHash: string;
  session: string;
  side: LinkSide;
  /** AUTH_NONCE_BYTES fresh random bytes. */
  nonce: Buffer;
  /** The peer's host name, for the secret-mismatch problem; default "the peer". */
  peerName?: string;
}

/** No shared secret: the link is not authenticated (an empty HMAC key proves nothing). */
export function isUnauthenticated(secret: string | Buffer): boolean {
  return secret.length === 0;
}

/** The problem while Connecting when one side has a shared secret and the other none: who lacks it, and the fix. */
export function secretMismatchProblem(peer: string, weHaveSecret: boolean): string {
  return weHaveSecret
    ? `${peer} has no shared-secret (its peer link is not authenticated) and this host has one: set the same net shared-secret on both hosts`
    : `${peer} authenticates the peer link with a shared-secret and this host has none: set the same net shared-secret on both hosts`;
}

export interface HandshakeState {
  cfg: HandshakeConfig;
  peerHello: Hello | null;
  peerNonce: Buffer | null;
  /** We sent our AuthResponse. */
  provedOwn: boolean;
  /** We checked the peer's response. */
  peerVerified: boolean;
  done: boolean;
}

export type HandshakeFailure = 'auth-failed' | 'protocol-error';

export type HandshakeAction =
  | { kind: 'send'; msg: PeerMessage }
  | { kind: 'fail'; reason: HandshakeFailure; error: string }
  | { kind: 'authenticated'; peer: Hello };

export interface HandshakeStep {
  state: HandshakeState;
  actions: HandshakeAction[];
}

export function startHandshake(cfg: HandshakeConfig): HandshakeStep {
  if (cfg.nonce.length !== AUTH_NONCE_BYTES) throw new RangeError(`nonce must be ${AUTH_NONCE_BYTES} bytes`);
  const state: HandshakeState = { cfg, peerHello: null, peerNonce: null, provedOwn: false, peerVerified: false, done: false };
  const hello: Hello = {
    type: 'Hello',
    protocolVersion: PEER_PROTOCOL_VERSION,
    nodeId: cfg.localNodeId,
    resource: cfg.resource,
    configHash: cfg.configHash,
    session: cfg.session,
    ...(isUnauthenticated(cfg.secret) ? { unauthenticated: true as const } : {}),
  };
  return { state, actions: [send(hello), send({ type: 'AuthChallenge', nonce: cfg.nonce })] };
}

function send(msg: PeerMessage): HandshakeAction {
  return { kind: 'send', msg };
}

function fail(state: HandshakeState, reason: HandshakeFailure, error: string, notify?: PeerMessage): HandshakeStep {
  const actions: HandshakeAction[] = notify ? [send(notify)] : [];
  actions.push({ kind: 'fail', reason, error });
  return { state: { ...state, done: true }, actions };
}

function other(side: LinkSide): LinkSide {
  return side === 'dialer' ? 'acceptor' : 'dialer';
}

function ownResponse(state: HandshakeState, peerNonce: Buffer): PeerMessage {
  const { cfg } = state;
  const mac = authMac({
    secret: cfg.secret,
    side: cfg.side,
    ownNonce: cfg.nonce,
    peerNonce,
    resource: cfg.resource,
    ownNodeId: cfg.localNodeId,
    peerNodeId: cfg.peerNodeId,
  });
  return { type: 'AuthResponse', mac };
}

function peerResponseValid(state: HandshakeState, peerNonce: Buffer, mac: Buffer): boolean {
  const { cfg } = state;
  return verifyAuthMac(
    {
      secret: cfg.secret,
      side: other(cfg.side),
      ownNonce: peerNonce,
      peerNonce: cfg.nonce,
      resource: cfg.resource,
      ownNodeId: cfg.peerNodeId,
      peerNodeId: cfg.localNodeId,
    },
    mac,
  );
}

const REFUSED: PeerMessage = { type: 'AuthResult', ok: false, reason: AUTH_FAILED };

/**
 * Feeds one message received on the connection before authentication completed. The order is
 * fixed: Hello, AuthChallenge; then the dialer sends its AuthResponse, the acceptor verifies
 * it and sends its own, the dialer verifies that and confirms with AuthResult ok. An
 * AuthResult ok:false is believed for this connection only (it ends it): it proves nothing
 * about who sent it, so the link above treats it as one more failed attempt.
 */
export function handshakeReceive(state: HandshakeState, msg: PeerMessage): HandshakeStep {
  const { cfg } = state;
  if (state.done) return fail(state, 'protocol-error', `unexpected ${msg.type} after the handshake ended`);
  if (state.peerHello === null) {
    if (msg.type !== 'Hello') return fail(state, 'protocol-error', `expected Hello, got ${msg.type}`);
    if (msg.protocolVersion !== PEER_PROTOCOL_VERSION)
      return fail(state, 'protocol-error', `peer speaks protocol version ${msg.protocolVersion}, we speak ${PEER_PROTOCOL_VERSION}: run the same drbd-tui version on both hosts`);
    if (msg.resource !== cfg.resource) return fail(state, 'protocol-error', `peer is for resource "${msg.resource}", not "${cfg.resource}"`);
    if (msg.nodeId !== cfg.peerNodeId) return fail(state, 'protocol-error', `peer has node-id ${msg.nodeId}, expected ${cfg.peerNodeId}: the two hosts number the pair differently; write node-id in each host's section of the file, the same file on both (each agent's log says which numbering its metadata holds)`);
    const weHaveSecret = !isUnauthenticated(cfg.secret);
    if ((msg.unauthenticated === true) === weHaveSecret) return fail(state, 'protocol-error', secretMismatchProblem(cfg.peerName ?? 'the peer', weHaveSecret));
    return { state: { ...state, peerHello: msg }, actions: [] };
  }
  if (state.peerNonce === null) {
    if (msg.type !== 'AuthChallenge') return fail(state, 'protocol-error', `expected AuthChallenge, got ${msg.type}`);
    if (msg.nonce.equals(cfg.nonce)) return fail(state, 'protocol-error', 'peer echoed our own challenge');
    const next = { ...state, peerNonce: msg.nonce };
    if (cfg.side === 'acceptor') return { state: next, actions: [] }; // the dialer proves first
    return { state: { ...next, provedOwn: true }, actions: [send(ownResponse(next, msg.nonce))] };
  }
  const peerNonce = state.peerNonce;
  if (msg.type === 'AuthResult' && !msg.ok) return fail(state, 'auth-failed', AUTH_FAILED);
  if (cfg.side === 'acceptor') {
    if (!state.peerVerified) {
      if (msg.type !== 'AuthResponse') return fail(state, 'protocol-error', `expected AuthResponse, got ${msg.type}`);
      if (!peerResponseValid(state, peerNonce, msg.mac)) return fail(state, 'auth-failed', AUTH_FAILED, REFUSED);
      return { state: { ...state, peerVerified: true, provedOwn: true }, actions: [send(ownResponse(state, peerNonce))] };
    }
    if (msg.type !== 'AuthResult') return fail(state, 'protocol-error', `expected AuthResult, got ${msg.type}`);
    return authenticated(state, []);
  }
  if (msg.type !== 'AuthResponse') return fail(state, 'protocol-error', `expected AuthResponse, got ${msg.type}`);
  if (!peerResponseValid(state, peerNonce, msg.mac)) return fail(state, 'auth-failed', AUTH_FAILED, REFUSED);
  return authenticated({ ...state, peerVerified: true }, [send({ type: 'AuthResult', ok: true })]);
}

function authenticated(state: HandshakeState, actions: HandshakeAction[]): HandshakeStep {
  if (!state.peerVerified || !state.provedOwn || !state.peerHello) throw new Error('handshake: authenticated before both sides proved the secret');
  return { state: { ...state, done: true }, actions: [...actions, { kind: 'authenticated', peer: state.peerHello }] };
}
