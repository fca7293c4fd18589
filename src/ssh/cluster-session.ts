// Both hosts' links folded into one ClusterModel: what the console renders and what its
// actions go through. Every link event becomes one pure model update and one 'change'.
import { EventEmitter } from 'node:events';
import { READ_ONLY_METHODS, type Method } from '../../agent/protocol/messages.js';
import { applyHostEvent, applyHostSnapshot, createModel, setDrift, setHeard, setLatency, setReachability, type ClusterModel, type DriftInfo, type HostIndex } from '../cluster/model.js';
import { HostLink, type HostLinkOptions } from './host-link.js';

function serialize(): <T>(f: () => Promise<T>) => Promise<T> {
  let tail: Promise<unknown> = Promise.resolve();
  return <T>(f: () => Promise<T>): Promise<T> => {
    const run = tail.then(f, f);
    tail = run.catch(() => undefined);
    return run;
  };
}

export interface ClusterSessionOptions extends Omit<HostLinkOptions, 'alias'> {
  hosts: [string, string];
}

export class ClusterSession extends EventEmitter<{ change: [ClusterModel]; log: [string] }> {
  model: ClusterModel;
  readonly links: [HostLink, HostLink];

  constructor(opts: ClusterSessionOptions) {
    super();
    this.model = createModel(opts.hosts[0], opts.hosts[1], { readOnly: opts.readOnly });
    // Both links may need the operator at once (two unknown host keys at start): one
    // question at a time, in arrival order.
    const ask = serialize();
    const shared: Omit<HostLinkOptions, 'alias'> = {
      ...opts,
      onUnknownHost: opts.onUnknownHost && ((h) => ask(() => opts.onUnknownHost!(h))),
      onPassphrase: opts.onPassphrase && ((p, n) => ask(() => opts.onPassphrase!(p, n))),
      deploy: opts.deploy && {
        ...opts.deploy,
        confirmReplace: opts.deploy.confirmReplace && ((r) => ask(() => opts.deploy!.confirmReplace!(r))),
      },
    };
    this.links = [new HostLink({ ...shared, alias: opts.hosts[0] }), new HostLink({ ...shared, alias: opts.hosts[1] })];
    ([0, 1] as const).forEach((i) => this.#wire(i));
  }

  #update(m: ClusterModel): void {
    if (m === this.model) return;
    this.model = m;
    this.emit('change', m);
  }

  #wire(i: HostIndex): void {
    const link = this.links[i];
    // Whatever the host sends is a sign of life: the header tells a quiet host from a live one by it.
    const heard = (m: ClusterModel) => setHeard(m, i, Date.now());
    link.on('state', (reach, info) => {
      const m = setReachability(this.model, i, reach, { time: new Date().toISOString(), latencyMs: info.latencyMs, agentVersion: info.agentVersion });
      this.#update(reach.state === 'up' ? heard(m) : m);
    });
    link.on('snapshot', (s) => this.#update(heard(applyHostSnapshot(this.model, i, s))));
    link.on('event', (e) => this.#update(heard(applyHostEvent(this.model, i, e))));
    link.on('latency', (ms) => this.#update(heard(setLatency(this.model, i, ms))));
    link.on('log', (l) => this.emit('log', l));
  }

  start(): void {
    for (const l of this.links) l.start();
  }

  /** An admin verb on one host's agent; rejects with AgentError (DRBD's wording) when refused. */
  request<T = unknown>(i: HostIndex, method: Method, params?: object): Promise<T> {
    if (this.model.readOnly && !READ_ONLY_METHODS.has(method)) return Promise.reject(new Error('read-only console: no state changes'));
    return this.links[i].request<T>(method, params);
  }

  /** What comparing both hosts' files found (src/ssh/config-push.ts reads them). */
  setDrift(resource: string, info: DriftInfo | undefined): void {
    this.#update(setDrift(this.model, resource, info));
  }

  async close(): Promise<void> {
    await Promise.all(this.links.map((l) => l.close()));
  }
}
