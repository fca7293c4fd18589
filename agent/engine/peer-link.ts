// The peer link: the TCP edge between the two nodes' replication engines. It listens on the
// local address and dials the peer (DRBD style: both sides do both), authenticates every
// connection (peer-auth.ts), keeps exactly one, and then turns bytes into typed messages
// (peer-wire.ts) and back. It knows nothing about replication: the state machine above it
// sends and receives messages and reacts to `connected` / `disconnected`.
//
// Connection choice when both sides dial at once: the lower node-id (the keeper) activates
// the first connection that authenticates and says so with KeepConnection; the other side
// adopts only the connection it is told to keep. Hello carries a session id that changes
// each time a side loses its connection, so a new connection from a peer that gave up on the
// old one (it restarted, or noticed a failure first) replaces the old one instead of being
// refused as a duplicate until our own ping timeout fires.

import { EventEmitter } from 'node:events';
import { randomBytes } from 'node:crypto';
import { isIP, createServer, connect, type Server, type Socket } from 'node:net';
import { TLSSocket, connect as tlsConnect } from 'node:tls';
import { corkForTurn } from '../net/cork-turn.js';
import { adoptAccepted, onreadInto, readByEvents, type ReadSink } from '../net/reused-reads.js';
import { looksLikeTls, peerTlsKey, tlsAcceptOptions, tlsDialOptions, tlsFailure, tlsMismatchProblem } from './peer-tls.js';
import { payloadPool } from '../lib/buffer-pool.js';
import type { ConnState } from '../drbd-states.js';
import {
  AUTH_NONCE_BYTES,
  FrameDecoder,
  HANDSHAKE_TYPES,
  MAX_FRAME_PAYLOAD,
  MAX_HANDSHAKE_PAYLOAD,
  MESSAGE_TYPE_NUMBERS,
  ProtocolError,
  decodeMessage,
  encodeMessage,
  type Hello,
  type PeerMessage,
} from './peer-wire.js';
import { initialLiveness, livenessCheck, pingWritten, type LivenessState } from './peer-liveness.js';
import { admitConnection } from './peer-admission.js';
import { afterOutcome, initialRetry, type LinkOutcome, type RetryState } from './peer-retry.js';
import { DEFAULT_BACKOFF } from '../lib/backoff.js';
import {
  isConnectionKeeper,
  isUnauthenticated,
  handshakeReceive,
  startHandshake,
  type HandshakeAction,
  type HandshakeState,
  type LinkSide,
} from './peer-auth.js';

export interface PeerLinkOptions {
  resource: string;
  localNodeId: number;
  peerNodeId: number;
  /** Where we listen; a specific IP is also the source address of our dials (the peer checks it). */
  listen: { host: string; port: number };
  /** The peer's listening address, an IP literal: inbound connections from any other IP are refused. */
  peer: { host: string; port: number };
  /** Empty: the file sets no shared-secret and the link runs unauthenticated (peer-auth.ts), refused by a peer that has one. */
  secret: string | Buffer;
  configHash: string;
  /** Seconds of receive silence before we send a Ping (DRBD ping-int). */
  pingInterval: number;
  /** Seconds to wait for any frame after a Ping before declaring the peer dead (DRBD ping-timeout). */
  pingTimeout: number;
  /** Seconds an unauthenticated connection may take to finish the handshake (default 5). */
  handshakeTimeout?: number;
  /** Redial backoff in ms: first delay, doubling up to max, ±20% jitter (peer-retry.ts; default 100 → 5000). */
  backoff?: { initialMs: number; maxMs: number };
  /** Checksum bulk data too (net.data-integrity-alg crc32c); default true here, the resource file's default is DRBD's none. */
  dataIntegrity?: boolean;
  /** Bytes queued on the socket above which the link reports itself congested (default 8 MiB). */
  congestionThreshold?: number;
  /** net.tls psk: every connection runs inside TLS keyed from the secret (peer-tls.ts); the handshake still runs inside it. */
  tls?: 'psk';
  /** The peer's host name, for problems that name it ("ha-b does not speak TLS …"); default its address. */
  peerName?: string;
}

export type DisconnectReason = 'timeout' | 'broken-pipe' | 'network-failure' | 'protocol-error' | 'auth-failed' | 'closed-by-peer' | 'local';

/** The DRBD connection state a disconnect passes through (the link then goes Connecting, or stays StandAlone when stopped). */
export function connStateFor(reason: DisconnectReason): ConnState {
  switch (reason) {
    case 'timeout':
      return 'Timeout';
    case 'broken-pipe':
      return 'BrokenPipe';
    case 'network-failure':
      return 'NetworkFailure';
    case 'protocol-error':
      return 'ProtocolError';
    case 'closed-by-peer':
    case 'auth-failed':
      return 'Unconnected';
    case 'local':
      return 'StandAlone';
  }
}

export interface ConnectedInfo {
  peerNodeId: number;
  /** "ip:port" of each end of the TCP connection. */
  localAddress: string;
  peerAddress: string;
  /** We dialed this connection (else we accepted it). */
  dialed: boolean;
  peerConfigHash: string;
  /** The two resource files differ in meaning: worth a warning, not fatal. */
  configHashMatches: boolean;
}

export interface DisconnectedInfo {
  reason: DisconnectReason;
  /** The state this disconnect maps to (Timeout, BrokenPipe, …, StandAlone). */
  connState: ConnState;
  error?: string;
}

/** A connection that never became the link: refused address, failed handshake, timeout. */
export interface AttemptFailedInfo {
  remoteAddress: string;
  reason: DisconnectReason | 'refused';
  error: string;
}

export interface PeerLinkEvents {
  connected: [ConnectedInfo];
  disconnected: [DisconnectedInfo];
  message: [PeerMessage];
  /** The socket queue fell back below the congestion threshold: send more. */
  drain: [];
  state: [ConnState];
  'attempt-failed': [AttemptFailedInfo];
  /** What keeps the link from connecting changed ("authentication failed from ADDR"), or cleared (undefined). */
  problem: [string | undefined];
}

export interface PeerLinkStats {
  dials: number;
  accepts: number;
  authenticated: number;
  /** Authenticated connections closed because another one was kept (the simultaneous-dial race). */
  duplicatesClosed: number;
  pingsSent: number;
}

const LINGER_MS = 1000;

function isWildcard(host: string): boolean {
  return host === '' || host === '0.0.0.0' || host === '::';
}

function normalizeIp(address: string | undefined): string {
  if (!address) return '';
  return address.startsWith('::ffff:') && isIP(address.slice(7)) === 4 ? address.slice(7) : address;
}

function endpoint(address: string | undefined, port: number | undefined): string {
  const a = normalizeIp(address);
  return isIP(a) === 6 ? `[${a}]:${port ?? 0}` : `${a}:${port ?? 0}`;
}

function reasonForSocketError(err: NodeJS.ErrnoException): DisconnectReason {
  return err.code === 'EPIPE' || err.code === 'ECONNRESET' ? 'broken-pipe' : 'network-failure';
}

/** Bytes handed to the kernel so far (bytesWritten also counts what is still queued in Node). */
function deliveredBytes(socket: Socket): number {
  return socket.bytesWritten - socket.writableLength;
}

const EMPTY_CHUNK = Buffer.alloc(0);
const POOLED_TYPES = new Set<number>([MESSAGE_TYPE_NUMBERS.Data, MESSAGE_TYPE_NUMBERS.RsDataReply]);

/** Bulk payloads come from the pool; the runtime gives them back when their disk write settles. */
function pooledPayload(type: number, length: number): Buffer {
  return POOLED_TYPES.has(type) ? payloadPool.take(length) : Buffer.allocUnsafe(length);
}

class Conn {
  readonly decoder = new FrameDecoder(MAX_HANDSHAKE_PAYLOAD, pooledPayload);
  hs: HandshakeState | null = null;
  peerHello: Hello | null = null;
  authenticated = false;
  closed = false;
  handshakeTimer: NodeJS.Timeout | null = null;
  /** performance.now() of the last byte received. */
  lastRx = 0;
  live: LivenessState = initialLiveness(0);
  livenessTimer: NodeJS.Timeout | null = null;
  congested = false;
  /** Some bytes arrived already: only the first ones can tell a TLS peer from a plain one. */
  heard = false;

  constructor(
    readonly socket: Socket,
    readonly side: LinkSide,
  ) {}

  /** The far end, kept once connected: a TLS socket forgets it before it reports its error. */
  private far: { address?: string | undefined; port?: number | undefined } = {};

  noteRemote(): void {
    this.far = { address: this.socket.remoteAddress, port: this.socket.remotePort };
  }

  get remote(): string {
    return endpoint(this.socket.remoteAddress ?? this.far.address, this.socket.remotePort ?? this.far.port);
  }

  get remoteIp(): string {
    return normalizeIp(this.socket.remoteAddress ?? this.far.address);
  }
}

/**
 * The peer link of one resource to one peer. Call start(); wait for `connected`; send() and
 * listen to `message`; on `disconnected` the link redials by itself, and a connection that
 * fails to authenticate is one more attempt (peer-retry.ts): only stop() ends the trying.
 * `problem` reports what the last failed attempt says is wrong, and its clearing.
 *
 * `message` is emitted synchronously, in wire order, only for an authenticated and kept
 * connection; Ping/PingAck and handshake messages never reach it. A Data / RsDataReply /
 * BitmapChunk buffer may be a view of a received chunk: it is the listener's to keep, and
 * nothing reuses it. A listener that throws a ProtocolError drops the connection as a
 * protocol error (DRBD: ProtocolError) — the way for the state machine to refuse a message.
 */
export class PeerLink extends EventEmitter<PeerLinkEvents> {
  readonly stats: PeerLinkStats = { dials: 0, accepts: 0, authenticated: 0, duplicatesClosed: 0, pingsSent: 0 };
  private readonly opts: Required<Omit<PeerLinkOptions, 'tls' | 'peerName'>> & Pick<PeerLinkOptions, 'tls' | 'peerName'>;
  /** The TLS pre-shared key; null: plain TCP, read without copies (reused-reads.ts). */
  private readonly tlsKey: Buffer | null;
  private running = false;
  private server: Server | null = null;
  private listening: Promise<void> | null = null;
  private active: Conn | null = null;
  private readonly conns = new Set<Conn>();
  private dialing: Conn | null = null;
  private dialTimer: NodeJS.Timeout | null = null;
  private retry: RetryState;
  private connState: ConnState = 'StandAlone';
  private error: string | undefined;
  private readonly instance = randomBytes(8).toString('hex');
  private epoch = 0;
  private connectedInfo: ConnectedInfo | null = null;

  constructor(options: PeerLinkOptions) {
    super();
    if (isIP(normalizeIp(options.peer.host)) === 0) throw new Error(`peer address must be an IP address, got "${options.peer.host}"`);
    if (options.localNodeId === options.peerNodeId) throw new Error('local and peer node-id must differ');
    if (options.tls === 'psk' && isUnauthenticated(options.secret)) throw new Error('net.tls psk needs a shared-secret (the TLS key is derived from it): set net shared-secret on both hosts');
    if (!(options.pingInterval > 0) || !(options.pingTimeout > 0)) throw new Error('pingInterval and pingTimeout must be positive');
    this.opts = {
      handshakeTimeout: 5,
      backoff: DEFAULT_BACKOFF,
      congestionThreshold: 8 << 20,
      dataIntegrity: true,
      ...options,
    };
    this.tlsKey = options.tls === 'psk' ? peerTlsKey(options.secret, options.resource) : null;
    this.retry = initialRetry(this.opts.backoff);
  }

  /** DRBD connection state: StandAlone, Connecting, Connected (and the failure states in passing). */
  get state(): ConnState {
    return this.connState;
  }

  /** Why the link is StandAlone or failing ("authentication failed from ADDR", "peer is for resource …"). */
  get lastError(): string | undefined {
    return this.error;
  }

  /** What the last failed attempt says keeps the link from connecting (cleared once a connection is kept). */
  get problem(): string | undefined {
    return this.retry.problem;
  }

  get connected(): boolean {
    return this.active !== null;
  }

  get connection(): ConnectedInfo | null {
    return this.connectedInfo;
  }

  /** Bytes queued on the socket, not yet handed to the kernel. */
  get bufferedBytes(): number {
    return this.active?.socket.writableLength ?? 0;
  }

  get congested(): boolean {
    return this.bufferedBytes >= this.opts.congestionThreshold;
  }

  /** The bound listening address (useful with port 0). */
  get listenAddress(): { host: string; port: number } | null {
    const a = this.server?.address();
    return a && typeof a === 'object' ? { host: a.address, port: a.port } : null;
  }

  /** Starts listening and dialing. Resolves once listening; rejects if the address cannot be bound. */
  async start(): Promise<void> {
    if (this.running) return;
    this.running = true;
    this.error = undefined;
    this.apply({ kind: 'operator-stop' }); // a fresh start: first backoff, no problem yet
    this.setState('Connecting');
    const server = createServer({ pauseOnConnect: true }, (socket) => this.onAccept(socket));
    this.server = server;
    const listening = new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen({ host: this.opts.listen.host, port: this.opts.listen.port }, () => {
        server.off('error', reject);
        resolve();
      });
    });
    this.listening = listening;
    try {
      await listening;
    } catch (e) {
      if (this.server !== server) return; // stopped meanwhile: stop() reports nothing more
      this.server = null;
      this.running = false;
      this.error = `cannot listen on ${this.opts.listen.host}:${this.opts.listen.port}: ${(e as Error).message}`;
      this.setState('StandAlone');
      throw e;
    }
    if (this.server !== server) return; // stop() ran while we were binding; it closes this server
    // A listener error after binding (rare) must not crash the agent.
    server.on('error', (e) => {
      this.error = `listener: ${e.message}`;
    });
    this.dial();
  }

  /** Closes everything and stops reconnecting; resolves when every socket is closed. */
  async stop(): Promise<void> {
    // Everything that changes state happens now, synchronously; only the waiting is async.
    this.running = false;
    this.apply({ kind: 'operator-stop' });
    const closing: Array<Promise<void>> = [];
    for (const c of [...this.conns]) {
      closing.push(new Promise((resolve) => (c.socket.destroyed ? resolve() : c.socket.once('close', () => resolve()))));
      this.closeConn(c, 'local', 'stopped', true);
    }
    this.setState('StandAlone');
    const server = this.server;
    const listening = this.listening;
    this.server = null;
    this.listening = null;
    if (server) {
      // Closing a server that is still binding would leave the bind to complete unowned.
      await listening?.catch(() => undefined);
      closing.push(new Promise((resolve) => server.close(() => resolve())));
    }
    await Promise.all(closing);
  }

  /**
   * Queues a message on the connection. Returns true if the caller may keep sending; false if
   * the socket is congested (the message is queued: wait for `drain`) or there is no
   * connection (the message is dropped: wait for `connected`).
   */
  send(msg: PeerMessage): boolean {
    if (HANDSHAKE_TYPES.has(msg.type)) throw new Error(`${msg.type} is sent by the link itself`);
    const c = this.active;
    if (!c) return false;
    this.write(c, msg);
    if (this.congested) {
      c.congested = true;
      return false;
    }
    return true;
  }

  /** Calls done once everything queued so far has been handed to the kernel, or the connection is gone. */
  afterQueued(done: () => void): void {
    const s = this.active?.socket;
    if (!s || s.destroyed || s.writableLength === 0) return done();
    s.write(EMPTY_CHUNK, () => done());
  }

  /** Stops reading from the peer (receive-side flow control); liveness checks keep their deadlines. */
  pauseReceive(): void {
    this.active?.socket.pause();
  }

  resumeReceive(): void {
    this.active?.socket.resume();
  }

  // ---- connection management ----

  private setState(s: ConnState): void {
    if (s === this.connState) return;
    this.connState = s;
    this.emit('state', s);
  }

  private get session(): string {
    return `${this.instance}:${this.epoch}`;
  }

  private onAccept(socket: Socket): void {
    let unauthenticated = 0;
    for (const c of this.conns) if (c.side === 'acceptor' && !c.authenticated) unauthenticated++;
    const admission = admitConnection({ remoteIp: normalizeIp(socket.remoteAddress), peerIp: normalizeIp(this.opts.peer.host), unauthenticated, running: this.running });
    if (!admission.ok) {
      socket.destroy();
      this.emit('attempt-failed', { remoteAddress: endpoint(socket.remoteAddress, socket.remotePort), reason: 'refused', error: admission.error });
      return;
    }
    this.stats.accepts++;
    // The read callback exists before its connection does; it first runs from the event loop, after.
    const ref: { conn?: Conn } = {};
    const sink = this.readSink(ref);
    if (this.tlsKey) {
      const secure = new TLSSocket(socket, { isServer: true, ...tlsAcceptOptions(this.tlsKey, this.opts.resource) });
      readByEvents(secure, sink);
      ref.conn = this.adoptSocket(secure, 'acceptor');
    } else ref.conn = this.adoptSocket(adoptAccepted(socket, sink), 'acceptor');
  }

  private dial(): void {
    if (!this.running || this.active || this.dialing || this.dialTimer) return;
    this.stats.dials++;
    const { listen, peer } = this.opts;
    const bind = !isWildcard(listen.host) && isIP(normalizeIp(listen.host)) === isIP(normalizeIp(peer.host));
    const ref: { conn?: Conn } = {};
    const sink = this.readSink(ref);
    const target = { host: peer.host, port: peer.port, ...(bind ? { localAddress: listen.host } : {}) };
    let socket: Socket;
    if (this.tlsKey) {
      socket = tlsConnect({ ...target, ...tlsDialOptions(this.tlsKey, this.opts.resource) });
      readByEvents(socket, sink);
    } else socket = connect({ ...target, onread: onreadInto(sink) });
    const conn = this.adoptSocket(socket, 'dialer');
    ref.conn = conn;
    this.dialing = conn;
    // On TLS too the handshake starts at TCP connect: the socket holds its writes until TLS is up.
    socket.once('connect', () => {
      conn.noteRemote();
      if (!conn.closed) this.beginHandshake(conn);
    });
  }

  /** Carries out the retry decision for an outcome; the problem is reported when it changes. */
  private apply(o: LinkOutcome): void {
    const before = this.retry.problem;
    const step = afterOutcome(this.retry, o, this.opts.backoff, Math.random());
    this.retry = step.state;
    if (step.action.kind === 'stop') this.clearDialTimer();
    else if (step.action.kind === 'redial') this.scheduleDial(step.action.delayMs);
    if (step.state.problem !== before) this.emit('problem', step.state.problem);
  }

  private scheduleDial(delayMs: number): void {
    if (!this.running || this.active || this.dialing || this.dialTimer) return;
    this.dialTimer = setTimeout(() => {
      this.dialTimer = null;
      this.dial();
    }, delayMs);
  }

  private clearDialTimer(): void {
    if (this.dialTimer) clearTimeout(this.dialTimer);
    this.dialTimer = null;
  }

  private adoptSocket(socket: Socket, side: LinkSide): Conn {
    const conn = new Conn(socket, side);
    this.conns.add(conn);
    socket.setNoDelay(true);
    conn.handshakeTimer = setTimeout(() => this.closeConn(conn, 'timeout', 'handshake timed out'), this.opts.handshakeTimeout * 1000);
    socket.on('error', (err: NodeJS.ErrnoException) => this.onSocketError(conn, err));
    socket.on('end', () => this.closeConn(conn, 'closed-by-peer', 'connection closed by peer'));
    socket.on('close', () => this.closeConn(conn, 'network-failure', 'connection closed'));
    if (side === 'acceptor') {
      conn.noteRemote();
      this.beginHandshake(conn);
    }
    return conn;
  }

  /** A TLS handshake that fails is a failed attempt with a named problem, like a failed authentication. */
  private onSocketError(conn: Conn, err: NodeJS.ErrnoException): void {
    const failure = this.tlsKey && !conn.authenticated ? tlsFailure(err) : undefined;
    if (!failure) return this.closeConn(conn, reasonForSocketError(err), err.message);
    switch (failure.kind) {
      case 'peer-plain':
        return this.closeConn(conn, 'protocol-error', tlsMismatchProblem(this.peerName(conn), true));
      case 'key-mismatch':
        return this.closeConn(conn, 'auth-failed', `TLS handshake with ${this.peerName(conn)} failed: the shared secrets differ`);
      case 'other':
        return this.closeConn(conn, 'protocol-error', `TLS handshake with ${this.peerName(conn)} failed (${failure.code})`);
    }
  }

  private peerName(conn: Conn): string {
    return this.opts.peerName ?? (conn.remoteIp || this.opts.peer.host);
  }

  private beginHandshake(conn: Conn): void {
    const step = startHandshake({
      resource: this.opts.resource,
      localNodeId: this.opts.localNodeId,
      peerNodeId: this.opts.peerNodeId,
      secret: this.opts.secret,
      configHash: this.opts.configHash,
      session: this.session,
      side: conn.side,
      nonce: randomBytes(AUTH_NONCE_BYTES),
      peerName: this.peerName(conn),
    });
    conn.hs = step.state;
    this.runHandshakeActions(conn, step.actions);
  }

  private runHandshakeActions(conn: Conn, actions: HandshakeAction[]): void {
    for (const a of actions) {
      if (conn.closed) return;
      if (a.kind === 'send') this.write(conn, a.msg);
      else if (a.kind === 'fail') this.handshakeFailed(conn, a.reason, a.error);
      else this.onAuthenticated(conn, a.peer);
    }
  }

  private handshakeFailed(conn: Conn, reason: 'auth-failed' | 'protocol-error', error: string): void {
    // Let a queued AuthResult reach the peer, so that both sides report the same failure.
    this.closeConn(conn, reason, error, true);
  }

  private onAuthenticated(conn: Conn, peer: Hello): void {
    conn.authenticated = true;
    conn.peerHello = peer;
    conn.decoder.maxPayload = MAX_FRAME_PAYLOAD;
    this.stats.authenticated++;
    if (!isConnectionKeeper(this.opts.localNodeId, this.opts.peerNodeId)) return; // wait for KeepConnection
    const current = this.active;
    if (current) {
      if (current.peerHello?.session === peer.session) {
        this.stats.duplicatesClosed++;
        this.closeConn(conn, 'local', 'duplicate connection', true);
        return;
      }
      this.closeConn(current, 'closed-by-peer', 'peer opened a new connection');
    }
    this.write(conn, { type: 'KeepConnection' });
    this.activate(conn);
  }

  private activate(conn: Conn): void {
    if (conn.handshakeTimer) clearTimeout(conn.handshakeTimer);
    conn.handshakeTimer = null;
    this.active = conn;
    if (this.dialing === conn) this.dialing = null;
    this.clearDialTimer();
    this.apply({ kind: 'kept' });
    for (const other of [...this.conns]) {
      if (other === conn) continue;
      if (other.authenticated) this.stats.duplicatesClosed++;
      this.closeConn(other, 'local', 'another connection was kept', true);
    }
    this.error = undefined;
    const peer = conn.peerHello as Hello;
    const s = conn.socket;
    this.connectedInfo = {
      peerNodeId: peer.nodeId,
      localAddress: endpoint(s.localAddress, s.localPort),
      peerAddress: endpoint(s.remoteAddress, s.remotePort),
      dialed: conn.side === 'dialer',
      peerConfigHash: peer.configHash,
      configHashMatches: peer.configHash === this.opts.configHash,
    };
    conn.lastRx = performance.now();
    conn.live = initialLiveness(deliveredBytes(s));
    this.armLiveness(conn);
    this.setState('Connected');
    this.emit('connected', this.connectedInfo);
  }

  /** Closes a connection once; if it was the link, reports the disconnect and redials. */
  private closeConn(conn: Conn, reason: DisconnectReason, error: string, graceful = false): void {
    if (conn.closed) return;
    conn.closed = true;
    const remote = conn.remote; // before destroy() forgets it
    const remoteIp = conn.remoteIp;
    if (conn.handshakeTimer) clearTimeout(conn.handshakeTimer);
    if (conn.livenessTimer) clearTimeout(conn.livenessTimer);
    this.conns.delete(conn);
    // Graceful: flush what we queued (an AuthResult telling the peer why) before closing.
    if (graceful && conn.hs !== null && !conn.socket.destroyed) {
      conn.socket.end();
      setTimeout(() => conn.socket.destroy(), LINGER_MS).unref();
    } else {
      conn.socket.destroy();
    }
    if (this.dialing === conn) this.dialing = null;
    const wasActive = this.active === conn;
    if (wasActive) {
      this.active = null;
      this.connectedInfo = null;
      this.epoch++;
      this.error = error;
      const connState = this.running ? connStateFor(reason) : 'StandAlone';
      this.setState(connState);
      this.emit('disconnected', { reason, connState, error });
      if (this.running) {
        this.setState('Connecting');
        this.apply({ kind: 'lost' });
      }
      return;
    }
    if (reason === 'local' || !this.running) return;
    const dialed = conn.side === 'dialer';
    if (conn.hs !== null && (!this.active || reason === 'auth-failed' || reason === 'protocol-error')) {
      this.emit('attempt-failed', { remoteAddress: remote, reason, error });
    }
    const connected = this.active !== null;
    this.apply({ kind: 'attempt-failed', reason, dialed, remote: remoteIp || remote, error, connected });
    if (!connected && this.retry.problem !== undefined) this.error = this.retry.problem;
  }

  // ---- I/O ----

  private write(conn: Conn, msg: PeerMessage): void {
    const bufs = encodeMessage(msg, { dataIntegrity: this.opts.dataIntegrity });
    const s = conn.socket;
    // Header and the caller's data go out without a copy, in one writev with the turn's others.
    corkForTurn(s, bufs.reduce((n, b) => n + (b as Buffer).length, 0));
    for (let i = 0; i < bufs.length - 1; i++) s.write(bufs[i] as Buffer);
    s.write(bufs[bufs.length - 1] as Buffer, () => this.afterWrite(conn));
  }

  /** Signals `drain` at half the threshold, so the sender refills before the socket runs dry. */
  private afterWrite(conn: Conn): void {
    if (conn === this.active && conn.congested && conn.socket.writableLength < this.opts.congestionThreshold / 2) {
      conn.congested = false;
      this.emit('drain');
    }
  }

  /** The socket's reads, for a connection that exists only once the socket does. */
  private readSink(ref: { conn?: Conn }): ReadSink {
    return {
      onChunk: (chunk) => this.onData(ref.conn as Conn, chunk),
      directTarget: () => (ref.conn && !ref.conn.closed ? ref.conn.decoder.directTarget() : undefined),
      onPlaced: (n) => this.onData(ref.conn as Conn, n),
    };
  }

  /** Bytes arrived, as a chunk or as a count placed where the decoder asked: every frame they complete is handled. */
  private onData(conn: Conn, arrived: Buffer | number): void {
    if (conn.closed) return;
    conn.lastRx = performance.now();
    if (!conn.heard) {
      conn.heard = true;
      // A plain link reads a ClientHello as a bad frame; say what it is instead.
      if (!this.tlsKey && typeof arrived !== 'number' && looksLikeTls(arrived)) {
        this.closeConn(conn, 'protocol-error', tlsMismatchProblem(this.peerName(conn), false));
        return;
      }
    }
    try {
      if (typeof arrived === 'number') conn.decoder.placed(arrived);
      else conn.decoder.append(arrived);
      // One frame at a time: authentication raises the frame limit for the frames after it.
      for (let f = conn.decoder.next(); f !== null && !conn.closed; f = conn.decoder.next()) this.onMessage(conn, decodeMessage(f));
      if (!conn.closed && !conn.authenticated && conn.decoder.buffered > MAX_HANDSHAKE_PAYLOAD * 4) {
        throw new ProtocolError('too-large', 'too much data during the handshake');
      }
    } catch (e) {
      if (!(e instanceof ProtocolError)) throw e;
      this.closeConn(conn, 'protocol-error', e.message);
    }
  }

  private onMessage(conn: Conn, msg: PeerMessage): void {
    if (!conn.authenticated) {
      const step = handshakeReceive(conn.hs as HandshakeState, msg);
      conn.hs = step.state;
      this.runHandshakeActions(conn, step.actions);
      return;
    }
    if (conn !== this.active) {
      if (msg.type === 'KeepConnection' && !isConnectionKeeper(this.opts.localNodeId, this.opts.peerNodeId)) {
        if (this.active) this.closeConn(this.active, 'closed-by-peer', 'peer replaced the connection');
        this.activate(conn);
        return;
      }
      throw new ProtocolError('malformed', `unexpected ${msg.type} on a connection that is not kept`);
    }
    switch (msg.type) {
      case 'Ping':
        this.write(conn, { type: 'PingAck' });
        return;
      case 'PingAck':
        // lastRx is already fresh; re-arm so the next ping is an interval from now.
        if (conn.livenessTimer) clearTimeout(conn.livenessTimer);
        this.armLiveness(conn);
        return;
      default:
        if (HANDSHAKE_TYPES.has(msg.type)) throw new ProtocolError('malformed', `unexpected ${msg.type} after the handshake`);
        this.emit('message', msg);
    }
  }

  // ---- liveness ----

  private armLiveness(conn: Conn): void {
    const cfg = { intervalMs: this.opts.pingInterval * 1000, timeoutMs: this.opts.pingTimeout * 1000 };
    const now = performance.now();
    const step = livenessCheck(conn.live, { now, lastRx: conn.lastRx, delivered: deliveredBytes(conn.socket) }, cfg);
    conn.live = step.state;
    if (step.action === 'dead') {
      this.closeConn(conn, 'timeout', `no answer from the peer within ${this.opts.pingTimeout}s`);
      return;
    }
    if (step.action === 'ping') {
      this.stats.pingsSent++;
      this.write(conn, { type: 'Ping' });
      conn.live = pingWritten(conn.live, deliveredBytes(conn.socket));
    }
    conn.livenessTimer = setTimeout(() => this.armLiveness(conn), Math.max(5, step.nextCheckAt - now));
  }
}
