// Peer link authentication: an HMAC-SHA256 challenge-response over the resource's shared
// secret, and the per-connection handshake as a pure state machine (message in → new state
// and actions out). The link (peer-link.ts) feeds it decoded messages and carries out the
// actions; nonces come in from outside so that everything here is deterministic.
//
// Each side sends Hello and a random 32-byte nonce, then answers the peer's nonce with
//   HMAC(secret, label(own side) ‖ peer nonce ‖ own nonce ‖ resource ‖ own node-id ‖ peer node-id)
// The label depends on who dialed, so a response computed by one side can never be what the
// other side expects (no reflection: an attacker cannot have us answer our own challenge on
// a second connection), and both nonces are fresh per connection (no replay).

import { createHmac, timingSafeEqual } from 'node:crypto';
import { AUTH_NONCE_BYTES, PEER_PROTOCOL_VERSION, type Hello, type PeerMessage } from './peer-wire.js';

export type LinkSide = 'dialer' | 'acceptor';

const LABELS: Record<LinkSide, string> = {
  dialer: 'drbd-tui peer-link v1 dialer',
  acceptor: 'drbd-tui peer-link v1 acceptor',
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
}

export interface HandshakeState {
  cfg: HandshakeConfig;
  peerHello: Hello | null;
  peerNonce: Buffer | null;
  /** We checked the peer's response. */
  peerVerified: boolean;
  /** The peer accepted ours (AuthResult ok). */
  acceptedByPeer: boolean;
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
  const state: HandshakeState = { cfg, peerHello: null, peerNonce: null, peerVerified: false, acceptedByPeer: false, done: false };
  const hello: Hello = {
    type: 'Hello',
    protocolVersion: PEER_PROTOCOL_VERSION,
    nodeId: cfg.localNodeId,
    resource: cfg.resource,
    configHash: cfg.configHash,
    session: cfg.session,
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

/** Feeds one message received on the connection before authentication completed. */
export function handshakeReceive(state: HandshakeState, msg: PeerMessage): HandshakeStep {
  const { cfg } = state;
  if (state.done) return fail(state, 'protocol-error', `unexpected ${msg.type} after the handshake ended`);
  // Order is fixed: Hello, then AuthChallenge, then AuthResponse / AuthResult in either order.
  if (state.peerHello === null) {
    if (msg.type !== 'Hello') return fail(state, 'protocol-error', `expected Hello, got ${msg.type}`);
    if (msg.protocolVersion !== PEER_PROTOCOL_VERSION)
      return fail(state, 'protocol-error', `peer speaks protocol version ${msg.protocolVersion}, we speak ${PEER_PROTOCOL_VERSION}`);
    if (msg.resource !== cfg.resource) return fail(state, 'protocol-error', `peer is for resource "${msg.resource}", not "${cfg.resource}"`);
    if (msg.nodeId !== cfg.peerNodeId) return fail(state, 'protocol-error', `peer has node-id ${msg.nodeId}, expected ${cfg.peerNodeId}`);
    return { state: { ...state, peerHello: msg }, actions: [] };
  }
  if (state.peerNonce === null) {
    if (msg.type !== 'AuthChallenge') return fail(state, 'protocol-error', `expected AuthChallenge, got ${msg.type}`);
    if (msg.nonce.equals(cfg.nonce)) return fail(state, 'protocol-error', 'peer echoed our own challenge');
    const mac = authMac({
      secret: cfg.secret,
      side: cfg.side,
      ownNonce: cfg.nonce,
      peerNonce: msg.nonce,
      resource: cfg.resource,
      ownNodeId: cfg.localNodeId,
      peerNodeId: cfg.peerNodeId,
    });
    return { state: { ...state, peerNonce: msg.nonce }, actions: [send({ type: 'AuthResponse', mac })] };
  }
  if (msg.type === 'AuthResponse' && !state.peerVerified) {
    const ok = verifyAuthMac(
      {
        secret: cfg.secret,
        side: other(cfg.side),
        ownNonce: state.peerNonce,
        peerNonce: cfg.nonce,
        resource: cfg.resource,
        ownNodeId: cfg.peerNodeId,
        peerNodeId: cfg.localNodeId,
      },
      msg.mac,
    );
    if (!ok) return fail(state, 'auth-failed', AUTH_FAILED, { type: 'AuthResult', ok: false, reason: AUTH_FAILED });
    return finishIfDone({ ...state, peerVerified: true }, [send({ type: 'AuthResult', ok: true })]);
  }
  if (msg.type === 'AuthResult' && !state.acceptedByPeer) {
    if (!msg.ok) return fail(state, 'auth-failed', AUTH_FAILED);
    return finishIfDone({ ...state, acceptedByPeer: true }, []);
  }
  return fail(state, 'protocol-error', `unexpected ${msg.type} during the handshake`);
}

function finishIfDone(state: HandshakeState, actions: HandshakeAction[]): HandshakeStep {
  if (state.peerVerified && state.acceptedByPeer && state.peerHello) {
    return { state: { ...state, done: true }, actions: [...actions, { kind: 'authenticated', peer: state.peerHello }] };
  }
  return { state, actions };
}
