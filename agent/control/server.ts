// The daemon's control sockets. Two unix sockets, never a network port: the admin socket
// (mode 0600, root) accepts every method; the monitor socket (mode 0666) accepts only
// READ_ONLY_METHODS, whatever a client sends — read-only is enforced here, not by clients.
import { createServer, type Server, type Socket } from 'node:net';
import { chmod, mkdir, rm } from 'node:fs/promises';
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
} from '../protocol.js';
import { readLines } from './line-channel.js';

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

/** The monitor socket's path beside the admin socket: agent.sock → agent.ro.sock. */
export function monitorSocketPath(adminSocket: string): string {
  return adminSocket.replace(/(\.sock)?$/, '.ro.sock');
}

function isRequest(m: unknown): m is Request {
  return typeof m === 'object' && m !== null && typeof (m as Request).id === 'number' && typeof (m as Request).method === 'string';
}

function serveConnection(sock: Socket, handler: ControlHandler, readOnly: boolean): void {
  const unsubscribers: Array<() => void> = [];
  const send = (m: ServerMessage) => {
    if (!sock.destroyed) sock.write(encodeMessage(m));
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
          unsubscribers.push(handler.subscribe((events) => events.forEach((event) => send({ event })), { statistics: params.statistics === true }));
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

async function listen(path: string, mode: number, handler: ControlHandler, readOnly: boolean): Promise<Server> {
  await mkdir(dirname(path), { recursive: true, mode: 0o755 });
  await rm(path, { force: true });
  const server = createServer((sock) => serveConnection(sock, handler, readOnly));
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
  await chmod(path, mode);
  return server;
}

export async function serveControl(adminSocket: string, handler: ControlHandler): Promise<ControlServer> {
  const admin = await listen(adminSocket, 0o600, handler, false);
  const monitorPath = monitorSocketPath(adminSocket);
  const monitor = await listen(monitorPath, 0o666, handler, true);
  return {
    async close() {
      await Promise.all([admin, monitor].map((s) => new Promise<void>((r) => s.close(() => r()))));
      await rm(adminSocket, { force: true });
      await rm(monitorPath, { force: true });
    },
  };
}

export { PROTOCOL_VERSION };
