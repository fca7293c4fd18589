// The client half of the control channel, over any duplex stream: the agent CLI uses a unix
// socket; the console uses a stream forwarded over SSH.
import { connect } from 'node:net';
import type { Duplex } from 'node:stream';
import { AgentError, encodeMessage, type ErrorBody, type Method, type ServerMessage, type StateEvent } from './messages.js';
import { readLines } from '../control/line-channel.js';

export class ControlClient {
  private nextId = 1;
  private pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  private listeners = new Set<(e: StateEvent) => void>();
  private closedError: Error | undefined;

  constructor(private readonly stream: Duplex) {
    readLines(
      stream,
      (m) => this.onMessage(m as ServerMessage),
      (line) => this.failAll(new AgentError('internal', `agent sent a line that is not JSON: ${line}`)),
    );
    stream.on('error', (e) => this.failAll(e));
    stream.on('close', () => this.failAll(new Error('control channel closed')));
  }

  private onMessage(m: ServerMessage): void {
    if ('event' in m) {
      for (const l of this.listeners) l(m.event);
      return;
    }
    const p = this.pending.get(m.id);
    if (!p) return;
    this.pending.delete(m.id);
    if ('error' in m) {
      const e: ErrorBody = m.error;
      p.reject(new AgentError(e.code, e.message));
    } else p.resolve(m.result);
  }

  private failAll(e: Error): void {
    this.closedError ??= e;
    for (const p of this.pending.values()) p.reject(e);
    this.pending.clear();
  }

  request<T = unknown>(method: Method, params?: object): Promise<T> {
    if (this.closedError) return Promise.reject(this.closedError);
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
      this.stream.write(encodeMessage({ id, method, params: params as never }));
    });
  }

  onEvent(listener: (e: StateEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  close(): void {
    this.stream.end();
    this.stream.destroy();
  }
}

export function connectUnix(path: string): Promise<ControlClient> {
  return new Promise((resolve, reject) => {
    const sock = connect(path);
    sock.once('connect', () => resolve(new ControlClient(sock)));
    sock.once('error', (e: NodeJS.ErrnoException) => {
      if (e.code === 'ENOENT' || e.code === 'ECONNREFUSED') reject(new AgentError('internal', `no agent daemon at ${path} (${e.code}); start it with: drbd-agent daemon`));
      else if (e.code === 'EACCES') reject(new AgentError('internal', `permission denied on ${path}: run as root, or use the read-only socket for monitoring`));
      else reject(e);
    });
  });
}
