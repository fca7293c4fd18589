// Gathers one snapshot from each host for `drbd-tui status`: both hosts in parallel, each
// connect → agent (deployed unless read-only) → snapshot → close, folded into the model.
// Non-interactive: an unknown host key fails with its fingerprint, nothing is prompted.
import type { AgentSnapshot } from '../../agent/protocol/messages.js';
import { applyHostSnapshot, createModel, setReachability, type ClusterModel, type HostIndex } from '../cluster/model.js';
import { connectSsh, type ConnectOptions, type SshSession } from '../ssh/connect.js';
import { ensureAgent, type DeployOptions } from '../ssh/deploy.js';
import { decideFailure } from '../ssh/host-link.js';

export interface CollectOptions extends Pick<ConnectOptions, 'configFile' | 'identityFile' | 'agentSocket'> {
  readOnly?: boolean;
  /** Per host, for everything (connect, deploy, snapshot); default 30 s. */
  timeoutMs?: number;
  deploy?: Pick<DeployOptions, 'confirmReplace' | 'log' | 'local' | 'socket'>;
}

async function one(alias: string, opts: CollectOptions): Promise<{ snap: AgentSnapshot; latencyMs: number; agentVersion: string }> {
  let session: SshSession | undefined;
  let timer: NodeJS.Timeout | undefined;
  const work = (async () => {
    session = await connectSsh(alias, { configFile: opts.configFile, identityFile: opts.identityFile, agentSocket: opts.agentSocket });
    const dep = await ensureAgent(session.client, { host: alias, user: session.config.user, readOnly: opts.readOnly, ...opts.deploy });
    try {
      const t0 = performance.now();
      const snap = await dep.channel.client.request<AgentSnapshot>('snapshot');
      return { snap, latencyMs: Math.round((performance.now() - t0) * 10) / 10, agentVersion: dep.channel.hello.agentVersion };
    } finally {
      dep.channel.close();
    }
  })();
  try {
    return await Promise.race([
      work,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no answer within ${(opts.timeoutMs ?? 30_000) / 1000} s`)), opts.timeoutMs ?? 30_000);
      }),
    ]);
  } finally {
    clearTimeout(timer);
    // session is assigned inside the async block; TypeScript cannot see that.
    (session as SshSession | undefined)?.close();
  }
}

export async function collectStatus(hosts: [string, string], opts: CollectOptions = {}): Promise<ClusterModel> {
  let m = createModel(hosts[0], hosts[1], { readOnly: opts.readOnly });
  const results = await Promise.allSettled(hosts.map((h) => one(h, opts)));
  results.forEach((r, idx) => {
    const i = idx as HostIndex;
    if (r.status === 'fulfilled') {
      m = applyHostSnapshot(m, i, r.value.snap);
      m = setReachability(m, i, { state: 'up' }, { latencyMs: r.value.latencyMs, agentVersion: r.value.agentVersion });
    } else {
      m = setReachability(m, i, decideFailure(r.reason).reach);
    }
  });
  return m;
}
