// The daemon's control sockets. Two unix sockets, never a network port: the admin socket
// (mode 0600, root) accepts every method; the monitor socket (who may open it is the
// operator's choice, monitor-access.ts) accepts only READ_ONLY_METHODS, whatever a client
// sends — read-only is enforced here, not by clients. Whoever may connect to the monitor
// socket must not be able to slow the write path or grow the daemon's memory: lines, queued
// events and connections (in total and per uid, monitor-gate.ts) are bounded (CONTROL_LIMITS),
// and event fan-out never waits on a client.
import { createServer, type Server, type Socket } from 'node:net';
import { chmod, chown, mkdir, readFile, rm } from 'node:fs/promises';
import { dirname } from 'node:path';
import {
  AgentError,
  encodeMessage,
  PROTOCOL_VERSION,
  READ_ONLY_METHODS,
  type AgentSnapshot,
  type HelloResult,
  type Method,
  type Request,
  type ServerMessage,
  type StateEvent,
} from '../protocol/messages.js';
import { readLines } from './line-channel.js';
import { gidInGroupFile, monitorSocketAccess, type MonitorAccess } from './monitor-access.js';
import type { MonitorUidLimits } from './monitor-admission.js';
import { MonitorGate } from './monitor-gate.js';
import { monitorSocketPath } from '../protocol/socket-paths.js';

export interface ControlLimits extends MonitorUidLimits {
  /** Characters of one request line: a longer one is answered with an error and the connection closed. */
  maxLineBytes: number;
  /** Event bytes queued to one subscriber that does not read: beyond, it is dropped (and told so in the daemon log). */
  subscriberQueueBytes: number;
  /** Monitor socket connections at once, from all users; more are closed at accept. */
  maxMonitorConnections: number;
}

export const CONTROL_LIMITS: ControlLimits = {
  maxLineBytes: 1 << 20,
  subscriberQueueBytes: 1 << 20,
  maxMonitorConnections: 64,
  maxMonitorConnectionsPerUid: 16,
  monitorUidLookupAbove: 8,
};

export interface ControlOptions {
  monitorAccess: MonitorAccess;
  limits?: Partial<ControlLimits>;
  log(line: string): void;
  /** The ss binary that tells monitor clients' uids; default: found on PATH. */
  ss?: string;
}

export interface ControlHandler {
  hello(readOnly: boolean): HelloResult;
  snapshot(): AgentSnapshot;
  /** Admin methods; rejects with AgentError carrying DRBD's wording when refused. */
  call(method: Method, params: Record<string, unknown>): Promise<unknown>;
  /** Initial `exists` events (ending with `exists -`), then every change; returns unsubscribe. */
  subscribe(send: (events: StateEvent[]) => void, opts: { statistics: boolean }): () => void;
}

export interface ControlServer {
  close(): Promise<void>;
}

function isRequest(m: unknown): m is Request {
  return typeof m === 'object' && m !== null && typeof (m as Request).id === 'number' && typeof (m as Request).method === 'string';
}

/**
 * A batch of events, encoded once for every subscriber it goes to: the daemon hands the same
 * array to each subscriber that last heard the same state (daemon.ts publish).
 */
const encodedBatches = new WeakMap<StateEvent[], string>();

function encodeEvents(events: StateEvent[]): string {
  let text = encodedBatches.get(events);
  if (text === undefined) {
    text = events.map((event) => encodeMessage({ event })).join('');
    encodedBatches.set(events, text);
  }
  return text;
}

let nextClient = 1;

function serveConnection(sock: Socket, handler: ControlHandler, readOnly: boolean, limits: ControlLimits, log: (line: string) => void): void {
  const unsubscribers: Array<() => void> = [];
  const client = `${readOnly ? 'monitor' : 'admin'} client #${nextClient++}`;
  const send = (m: ServerMessage) => {
    if (!sock.destroyed) sock.write(encodeMessage(m));
  };
  // Never waits: what the client has not read stays queued on its socket, up to the bound.
  const sendEvents = (events: StateEvent[]) => {
    if (sock.destroyed) return;
    sock.write(encodeEvents(events));
    if (sock.writableLength > limits.subscriberQueueBytes) {
      log(`${client}: dropped, ${sock.writableLength} bytes of events unread (at most ${limits.subscriberQueueBytes}); it may reconnect and subscribe again`);
      sock.destroy();
    }
  };
  sock.on('error', () => undefined);
  sock.on('close', () => unsubscribers.forEach((u) => u()));
  readLines(
    sock,
    (msg) => {
      if (!isRequest(msg)) {
        send({ id: -1, error: { code: 'bad-request', message: 'expected {"id": number, "method": string, "params"?: object}' } });
        return;
      }
      void dispatch(msg);
    },
    (line) => send({ id: -1, error: { code: 'bad-request', message: `not JSON: ${line}` } }),
    {
      maxLine: limits.maxLineBytes,
      onTooLong: (length) => {
        send({ id: -1, error: { code: 'bad-request', message: `request line of ${length}+ characters without a newline; at most ${limits.maxLineBytes}: send one JSON request per line; closing` } });
        sock.end();
        sock.destroySoon();
      },
    },
  );

  async function dispatch(req: Request): Promise<void> {
    const params = (req.params ?? {}) as Record<string, unknown>;
    try {
      if (readOnly && !READ_ONLY_METHODS.has(req.method)) {
        throw new AgentError('read-only', `refused: '${req.method}' changes state and this is a read-only (monitor) channel`);
      }
      switch (req.method) {
        case 'hello':
          send({ id: req.id, result: handler.hello(readOnly) });
          return;
        case 'snapshot':
          send({ id: req.id, result: handler.snapshot() });
          return;
        case 'subscribe':
          send({ id: req.id, result: { ok: true } });
          unsubscribers.push(handler.subscribe(sendEvents, { statistics: params.statistics === true }));
          return;
        default:
          send({ id: req.id, result: (await handler.call(req.method, params)) ?? { ok: true } });
      }
    } catch (e) {
      const err = e instanceof AgentError ? e : new AgentError('internal', e instanceof Error ? e.message : String(e));
      send({ id: req.id, error: { code: err.code, message: err.message } });
    }
  }
}

async function listen(path: string, access: { mode: number; gid?: number }, onConnection: (sock: Socket) => void): Promise<Server> {
  await mkdir(dirname(path), { recursive: true, mode: 0o755 });
  await rm(path, { force: true });
  const server = createServer(onConnection);
  // Bind under a strict umask so the socket never exists with looser permissions.
  const old = process.umask(0o077);
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(path, () => resolve());
    });
  } finally {
    process.umask(old);
  }
  if (access.gid !== undefined) await chown(path, process.getuid?.() ?? 0, access.gid);
  await chmod(path, access.mode);
  return server;
}

/** Closes connections past the cap at accept (net.Server does it); one log line per episode, not per connection. */
function capConnections(server: Server, max: number, log: (line: string) => void): void {
  server.maxConnections = max;
  let dropped = 0;
  server.on('drop', () => {
    if (dropped++ === 0) log(`monitor socket: ${max} connections open (at most ${max}); closing new ones until some close`);
  });
  server.on('connection', () => {
    if (dropped > 0) log(`monitor socket: accepting again after closing ${dropped} connection(s)`);
    dropped = 0;
  });
}

export async function serveControl(adminSocket: string, handler: ControlHandler, opts: ControlOptions): Promise<ControlServer> {
  const limits = { ...CONTROL_LIMITS, ...opts.limits };
  const groupFile = await readFile('/etc/group', 'utf8').catch(() => '');
  const access = monitorSocketAccess(opts.monitorAccess, (group) => gidInGroupFile(groupFile, group));
  if (access.note) opts.log(access.note);
  const admin = await listen(adminSocket, { mode: 0o600 }, (sock) => serveConnection(sock, handler, false, limits, opts.log));
  const monitorPath = monitorSocketPath(adminSocket);
  const gate = new MonitorGate({ limits, log: opts.log, serve: (sock) => serveConnection(sock, handler, true, limits, opts.log), ss: opts.ss });
  const monitor = await listen(monitorPath, access, (sock) => gate.accept(sock));
  capConnections(monitor, limits.maxMonitorConnections, opts.log);
  return {
    async close() {
      await Promise.all([admin, monitor].map((s) => new Promise<void>((r) => s.close(() => r()))));
      await rm(adminSocket, { force: true });
      await rm(monitorPath, { force: true });
    },
  };
}

export { PROTOCOL_VERSION };
