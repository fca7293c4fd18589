// Agent daemons inside the lab hosts (test/lab): each host runs `node dist/agent.mjs daemon`
// with its private /etc/drbd-tui, /var/lib/drbd-tui and /run/drbd-tui, exactly as deployed.
import assert from 'node:assert/strict';
import { spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Lab, LabHost } from '../lab/lab.js';
import { AGENT } from './agent-daemons.js';
import { setTimeout as sleep } from 'node:timers/promises';

export interface LabAgent {
  host: LabHost;
  daemon?: ChildProcess;
  log: string[];
  start(): Promise<void>;
  cli(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }>;
  /** status --json of one resource (drbdsetup's schema). */
  json(resource: string): Promise<StatusJson>;
  /** Real path (on the machine) of an in-host path. */
  path(inHost: string): string;
}

export interface StatusJson {
  name: string;
  role: string;
  'peer-authenticated'?: boolean;
  devices: Array<{ 'disk-state': string; size: number; uuids: { current: string; bitmap: Record<string, string>; history: string[] } }>;
  connections: Array<{
    'connection-state': string;
    'peer-role': string;
    'split-brain': boolean;
    'last-error'?: string;
    peer_devices: Array<{ 'replication-state': string; 'peer-disk-state': string; received: number; sent: number; 'out-of-sync': number; 'sync-done'?: number; 'verify-mismatch'?: number }>;
  }>;
}

export function labResourceYaml(lab: Lab, opts: { name: string; port: number; size?: string; secretA?: string; secretB?: string; maxRate?: string; iscsiPort?: number; protocol?: string; serviceAddress?: string; serviceInterface?: string; iscsi?: false }): { a: string; b: string } {
  const text = (secret: string) => `resource: ${opts.name}
protocol: ${opts.protocol ?? 'C'}
net:
  shared-secret: "${secret}"
  ping-timeout: 2
  c-max-rate: ${opts.maxRate ?? '1GiB/s'}
volumes:
  - volume: 0
    device: /dev/drbd${opts.port - 7780}
    disk: /var/lib/drbd-tui/disks/${opts.name}-0.img
    size: ${opts.size ?? '32MiB'}
hosts:
  ha-a: { node-id: 0, address: "${lab.a.address}:${opts.port}" }
  ha-b: { node-id: 1, address: "${lab.b.address}:${opts.port}" }
${opts.iscsi === false ? '' : iscsiYaml(opts.name, opts)}`;
  return { a: text(opts.secretA ?? 'lab-shared-secret'), b: text(opts.secretB ?? opts.secretA ?? 'lab-shared-secret') };
}

function iscsiYaml(name: string, opts: { iscsiPort?: number; serviceAddress?: string; serviceInterface?: string }): string {
  return `iscsi:
  iqn: iqn.2026-11.com.example:${name}
  portal: 0.0.0.0:${opts.iscsiPort ?? 3260}
${opts.serviceAddress ? `  service-address: ${opts.serviceAddress}\n` : ''}${opts.serviceInterface ? `  service-interface: ${opts.serviceInterface}\n` : ''}`;
}

/** An address of the lab's subnet that no lab host has: for a service address (ADDR, without the prefix). */
export function labServiceAddress(lab: Lab): string {
  return lab.gateway.replace(/\.1$/, '.100');
}

export async function installResource(agent: LabAgent, name: string, yaml: string): Promise<void> {
  await mkdir(agent.host.dirs.etc, { recursive: true });
  await mkdir(agent.path('/var/lib/drbd-tui/disks'), { recursive: true });
  // 0600, as config-put writes it: a file whose secrets others may read is a warning of its own.
  await writeFile(join(agent.host.dirs.etc, `${name}.yaml`), yaml, { mode: 0o600 });
}

/** env: more variables for the daemon (its test hooks, e.g. link-faults.ts's). */
export function labAgent(host: LabHost, opts: { env?: Record<string, string> } = {}): LabAgent {
  if (!existsSync(AGENT)) throw new Error(`${AGENT} is missing: run npm run build first`);
  const agent: LabAgent = {
    host,
    log: [],
    async start() {
      const d = host.spawn(['node', ...(process.env.AGENT_NODE_ARGS ? process.env.AGENT_NODE_ARGS.split(' ') : []), AGENT, 'daemon'], { env: { ...process.env, ...opts.env }, stdio: ['ignore', 'ignore', 'pipe'] });
      d.stderr!.setEncoding('utf8').on('data', (s: string) => agent.log.push(s));
      agent.daemon = d;
      const sock = agent.path('/run/drbd-tui/agent.sock');
      for (let i = 0; i < 200 && !existsSync(sock); i++) await sleep(25);
      if (!existsSync(sock)) throw new Error(`daemon on ${host.name} did not start: ${agent.log.join('')}`);
    },
    async cli(...args) {
      const r = await host.exec(['node', AGENT, ...args], { timeoutMs: 30000 });
      return { code: r.code ?? -1, stdout: r.stdout, stderr: r.stderr };
    },
    async json(resource) {
      const r = await agent.cli('status', '--json', resource);
      if (r.code !== 0) throw new Error(`status --json on ${host.name}: ${r.stderr}`);
      return (JSON.parse(r.stdout) as StatusJson[])[0]!;
    },
    path: (p) => host.realPath(p),
  };
  return agent;
}

/** Polls `status --json` until pred holds; state changes take a few round trips. */
export async function jsonWhen(agent: LabAgent, resource: string, pred: (s: StatusJson) => boolean, what: string, timeoutMs = 20000): Promise<StatusJson> {
  const start = Date.now();
  let last: StatusJson | undefined;
  while (Date.now() - start < timeoutMs) {
    last = await agent.json(resource).catch(() => undefined);
    if (last && pred(last)) return last;
    await sleep(100);
  }
  throw new Error(`${agent.host.name}: timed out waiting for ${what}; last status: ${JSON.stringify(last)}`);
}

export { readRange } from './files.js';

// ---- reading status --json of a one-volume resource ----
export const conn = (s: StatusJson) => s.connections[0]!;
export const peerDevice = (s: StatusJson) => s.connections[0]!.peer_devices[0]!;
export const disk = (s: StatusJson) => s.devices[0]!['disk-state'];
/** Usable bytes of volume 0 (status reports KiB). */
export const sizeBytes = (s: StatusJson) => s.devices[0]!.size * 1024;

/** Connected, both UpToDate, nothing out of sync, as seen from `agent`. */
export function inSync(agent: LabAgent, resource: string, what = 'in sync', timeoutMs = 30000): Promise<StatusJson> {
  return jsonWhen(
    agent,
    resource,
    (s) =>
      conn(s)['connection-state'] === 'Connected' &&
      disk(s) === 'UpToDate' &&
      peerDevice(s)['peer-disk-state'] === 'UpToDate' &&
      peerDevice(s)['replication-state'] === 'Established' &&
      peerDevice(s)['out-of-sync'] === 0 &&
      // A source keeps its bitmap UUID until the target has confirmed the end of the resync.
      s.devices.every((d) => Object.values(d.uuids.bitmap).every((b) => /^0+$/.test(b))),
    what,
    timeoutMs,
  );
}

/**
 * Fresh metadata on both, connected, the initial sync skipped (new-current-uuid --clear-bitmap):
 * both UpToDate with equal generations; then `a` Primary with its target.
 */
export async function freshPair(a: LabAgent, b: LabAgent, resource: string): Promise<void> {
  for (const agent of [a, b]) {
    for (const verb of ['create-md', 'up']) {
      const r = await agent.cli(verb, resource);
      assert.equal(r.code, 0, `${verb} ${resource} on ${agent.host.name}: ${r.stdout}${r.stderr}`);
    }
  }
  await jsonWhen(a, resource, (s) => conn(s)['connection-state'] === 'Connected', 'Connected');
  assert.equal((await a.cli('new-current-uuid', '--clear-bitmap', resource)).code, 0);
  await inSync(b, resource, 'B UpToDate');
  await inSync(a, resource, 'A UpToDate');
  assert.equal((await a.cli('primary', resource)).code, 0);
  assert.equal((await a.cli('target', 'start', resource)).code, 0);
}

export function disconnected(agent: LabAgent, resource: string): Promise<StatusJson> {
  return jsonWhen(agent, resource, (s) => conn(s)['connection-state'] !== 'Connected', 'the peer is lost', 15000);
}

/**
 * A rule-8 split brain between `a` (Primary, target running: freshPair) and `b`: the peer link
 * and the test's route to a host are one link, so A writes `onA` through its target while B's
 * link is cut, then B is promoted and writes `onB` through its own target while A's link is
 * cut. B ends Secondary; `keepAPrimary` false demotes A too. `url` is a host's iSCSI URL;
 * `beforeReconnect` runs while A's link is still cut (the data as it was at the split).
 */
export async function makeSplitBrain(
  lab: Lab,
  a: LabAgent,
  b: LabAgent,
  resource: string,
  opts: { url: (h: LabHost) => string; onA: string[]; onB: string[]; keepAPrimary: boolean; beforeReconnect?: () => Promise<void> },
): Promise<void> {
  const { url, onA, onB, keepAPrimary } = opts;
  await lab.b.cutLink();
  try {
    await disconnected(a, resource);
    await disconnected(b, resource);
    assert.equal((await b.cli('primary', resource)).code, 0);
    const w = qemuIo(url(lab.a), onA);
    assert.equal(w.code, 0, w.out);
    await lab.a.cutLink();
  } finally {
    await lab.b.restoreLink();
  }
  try {
    assert.equal((await b.cli('target', 'start', resource)).code, 0);
    const w = qemuIo(url(lab.b), onB);
    assert.equal(w.code, 0, w.out);
    assert.equal((await b.cli('target', 'stop', resource)).code, 0);
    assert.equal((await b.cli('secondary', resource)).code, 0);
    if (!keepAPrimary) {
      assert.equal((await a.cli('target', 'stop', resource)).code, 0);
      assert.equal((await a.cli('secondary', resource)).code, 0);
    }
    await opts.beforeReconnect?.();
  } finally {
    if (lab.a.linkCut) await lab.a.restoreLink();
  }
}

/** qemu-io commands against an iSCSI URL; never throws, returns the exit code and output. */
export function qemuIo(url: string, cmds: string[], timeoutMs = 60000): { code: number; out: string } {
  const r = spawnSync('qemu-io', ['-f', 'raw', ...cmds.flatMap((c) => ['-c', c]), url], { encoding: 'utf8', timeout: timeoutMs });
  // Not a failed I/O but a missing tool: say which package, so a suite without it fails loudly.
  if ((r.error as NodeJS.ErrnoException | undefined)?.code === 'ENOENT') throw new Error('qemu-io not found: apt-get install qemu-utils qemu-block-extra');
  return { code: r.status ?? -1, out: (r.stdout ?? '') + (r.stderr ?? '') };
}
