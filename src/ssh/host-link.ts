// One host, kept reachable: SSH connection, agent (deployed unless read-only), control
// channel, snapshot and event stream, and latency — reconnecting with backoff after network
// trouble, never after an authentication, host-key or deployment refusal (retrying those
// would only hammer the host or hide the problem). The decisions are pure functions below;
// the class is the loop with sockets and timers.
import { EventEmitter } from 'node:events';
import type { AgentSnapshot, Method, StateEvent } from '../../agent/protocol/messages.js';
import { AGENT_VERSION } from '../../agent/protocol/version.js';
import { PROTOCOL_VERSION } from '../../agent/protocol/messages.js';
import { KEEPALIVE_MS, type Reachability } from '../cluster/model.js';
import { AgentNotRunning, ChannelError, type AgentChannel } from './agent-channel.js';
import { connectSsh, SshConnectError, type ConnectOptions, type SshSession } from './connect.js';
import { DeployError, ensureAgent, type DeployOptions } from './deploy.js';

export interface BackoffPolicy {
  initialMs: number;
  maxMs: number;
  factor: number;
}

export const DEFAULT_BACKOFF: BackoffPolicy = { initialMs: 500, maxMs: 15_000, factor: 2 };

/** Delay before retry number `attempt` (0-based). Pure. */
export function backoffDelay(attempt: number, p: BackoffPolicy = DEFAULT_BACKOFF): number {
  return Math.min(p.maxMs, Math.round(p.initialMs * p.factor ** Math.max(0, attempt)));
}

export interface FailureDecision {
  reach: Reachability;
  retry: boolean;
}

/** What a failed attempt means for the operator and whether to try again. Pure. */
export function decideFailure(e: unknown): FailureDecision {
  const msg = e instanceof Error ? e.message : String(e);
  if (e instanceof AgentNotRunning) return { reach: { state: 'agent-not-running' }, retry: true };
  if (e instanceof SshConnectError) return { reach: { state: 'unreachable', error: msg }, retry: e.kind === 'network' };
  if (e instanceof DeployError) return { reach: { state: 'unreachable', error: msg }, retry: false };
  if (e instanceof ChannelError) return { reach: { state: 'unreachable', error: msg }, retry: e.kind === 'timeout' || e.kind === 'bridge' };
  return { reach: { state: 'unreachable', error: msg }, retry: true };
}

export interface HostLinkOptions extends ConnectOptions {
  alias: string;
  readOnly: boolean;
  deploy?: Pick<DeployOptions, 'confirmReplace' | 'log' | 'local' | 'socket'>;
  backoff?: BackoffPolicy;
  /** How often the control channel's round trip is measured while up; default KEEPALIVE_MS, which the header's silence judgement assumes. */
  latencyIntervalMs?: number;
  connect?: (alias: string, opts: ConnectOptions) => Promise<SshSession>;
}

export interface HostLinkEvents {
  state: [Reachability, { latencyMs?: number; agentVersion?: string; willRetryInMs?: number }];
  snapshot: [AgentSnapshot];
  event: [StateEvent];
  latency: [number];
  log: [string];
}

export class HostLink extends EventEmitter<HostLinkEvents> {
  reach: Reachability = { state: 'connecting' };
  latencyMs?: number;
  agentVersion?: string;
  #closed = false;
  #running = false;
  #session?: SshSession;
  #channel?: AgentChannel;
  #wake?: () => void;
  #latencyTimer?: NodeJS.Timeout;
  #user?: string;

  constructor(readonly opts: HostLinkOptions) {
    super();
  }

  /** Starts (or, after a refusal, restarts) the connect loop. */
  start(): void {
    if (this.#running || this.#closed) return;
    this.#running = true;
    void this.#loop().finally(() => {
      this.#running = false;
    });
  }

  /** Skips the current backoff wait. */
  retryNow(): void {
    this.#wake?.();
    this.start();
  }

  /** The login user of the last SSH session (ssh_config's User, or the local user). */
  get user(): string | undefined {
    return this.#user;
  }

  async request<T = unknown>(method: Method, params?: object): Promise<T> {
    const ch = this.#channel;
    if (!ch || this.reach.state !== 'up') throw new Error(`${this.opts.alias} is ${this.reach.state}`);
    return ch.client.request<T>(method, params);
  }

  async close(): Promise<void> {
    this.#closed = true;
    this.#wake?.();
    clearInterval(this.#latencyTimer);
    this.#channel?.close();
    this.#session?.close();
  }

  #setState(reach: Reachability, extra: { willRetryInMs?: number } = {}): void {
    this.reach = reach;
    if (reach.state !== 'up') this.latencyMs = undefined;
    this.emit('state', reach, { latencyMs: this.latencyMs, agentVersion: this.agentVersion, ...extra });
  }

  async #sleep(ms: number): Promise<void> {
    await new Promise<void>((resolve) => {
      const t = setTimeout(resolve, ms);
      this.#wake = () => {
        clearTimeout(t);
        resolve();
      };
    });
    this.#wake = undefined;
  }

  async #measure(ch: AgentChannel): Promise<number> {
    const t0 = performance.now();
    await ch.client.request('hello', { client: `drbd-tui ${AGENT_VERSION}`, protocol: PROTOCOL_VERSION });
    return Math.round((performance.now() - t0) * 10) / 10;
  }

  async #loop(): Promise<void> {
    const connect = this.opts.connect ?? connectSsh;
    let attempt = 0;
    while (!this.#closed) {
      if (this.reach.state !== 'connecting') this.#setState({ state: 'connecting' });
      let lost: string | undefined;
      try {
        const session = await connect(this.opts.alias, this.opts);
        this.#session = session;
        this.#user = session.config.user;
        if (this.#closed) break;
        const dep = await ensureAgent(session.client, {
          host: this.opts.alias,
          user: session.config.user,
          readOnly: this.opts.readOnly,
          ...this.opts.deploy,
          log: (l) => {
            this.emit('log', l);
            this.opts.deploy?.log?.(l);
          },
        });
        const ch = dep.channel;
        this.#channel = ch;
        this.agentVersion = ch.hello.agentVersion;
        const snap = await ch.client.request<AgentSnapshot>('snapshot');
        this.emit('snapshot', snap);
        ch.client.onEvent((e) => this.emit('event', e));
        await ch.client.request('subscribe', { statistics: true });
        this.latencyMs = await this.#measure(ch);
        attempt = 0;
        this.#setState({ state: 'up' });
        this.#latencyTimer = setInterval(() => {
          this.#measure(ch).then(
            (ms) => {
              this.latencyMs = ms;
              this.emit('latency', ms);
            },
            () => undefined, // a dead channel shows up as 'closed' below
          );
        }, this.opts.latencyIntervalMs ?? KEEPALIVE_MS);
        this.#latencyTimer.unref();
        const why = await Promise.race([session.closed, ch.closed.then(() => new Error('the agent closed the control channel'))]);
        lost = why?.message ?? 'connection closed';
      } catch (e) {
        if (this.#closed) break;
        const d = decideFailure(e);
        this.#cleanup();
        if (!d.retry) {
          this.#setState(d.reach);
          return;
        }
        const delay = d.reach.state === 'agent-not-running' ? Math.max(backoffDelay(attempt, this.opts.backoff), 2000) : backoffDelay(attempt, this.opts.backoff);
        attempt++;
        this.#setState(d.reach, { willRetryInMs: delay });
        await this.#sleep(delay);
        continue;
      }
      this.#cleanup();
      if (this.#closed) break;
      const delay = backoffDelay(attempt++, this.opts.backoff);
      this.#setState({ state: 'unreachable', error: `connection lost: ${lost}` }, { willRetryInMs: delay });
      await this.#sleep(delay);
    }
  }

  #cleanup(): void {
    clearInterval(this.#latencyTimer);
    this.#channel?.close();
    this.#channel = undefined;
    this.#session?.close();
    this.#session = undefined;
  }
}
