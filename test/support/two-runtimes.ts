// Two ResourceRuntimes in this process, on real files and real TCP over loopback
// (127.0.0.1 = ha-a, 127.0.0.2 = ha-b): the engine end to end without root or a lab.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseResourceYaml } from '../../agent/config/index.js';
import type { ResourceConfig } from '../../agent/config/types.js';
import { configHash } from '../../agent/config/hash.js';
import { openBackingDisk } from '../../agent/block/backing-disk.js';
import { createMetadata } from '../../agent/engine/metadata.js';
import { ResourceRuntime } from '../../agent/engine/resource-runtime.js';
import { freePort, waitFor } from './wait.js';
import { setTimeout as sleep } from 'node:timers/promises';

export interface Pair {
  dir: string;
  a: ResourceRuntime;
  b: ResourceRuntime;
  configA: ResourceConfig;
  configB: ResourceConfig;
  diskA: string;
  diskB: string;
  /** Each node's agent state dir (split-brain copies go there). */
  stateA: string;
  stateB: string;
  reattach(which: 'a' | 'b'): Promise<ResourceRuntime>;
  close(): Promise<void>;
}

export function resourceYaml(opts: { dir: string; portA: number; portB: number; size: string; protocol?: string; tls?: 'psk' }): string {
  return `resource: r0
protocol: ${opts.protocol ?? 'C'}
net:
  shared-secret: "test-secret-123"
  ping-timeout: 2
${opts.tls ? `  tls: ${opts.tls}\n` : ''}volumes:
  - volume: 0
    device: /dev/drbd1
    disk:
      ha-a: ${join(opts.dir, 'a.img')}
      ha-b: ${join(opts.dir, 'b.img')}
    size: ${opts.size}
hosts:
  ha-a: { node-id: 0, address: "127.0.0.1:${opts.portA}" }
  ha-b: { node-id: 1, address: "127.0.0.2:${opts.portB}" }
`;
}

export function loadConfig(text: string, node: string): ResourceConfig {
  const r = parseResourceYaml('r0.yaml', text, { node });
  if ('errors' in r) throw new Error(r.errors.map((e) => e.message).join('\n'));
  return r.config;
}

/** What `create-md` does, for a config loaded in this process. */
export async function createMd(cfg: ResourceConfig, nodeId: number): Promise<void> {
  const disk = await openBackingDisk(cfg.volumes[0]!.disk, { create: cfg.volumes[0]!.size });
  await createMetadata(disk, { nodeId });
  await disk.close();
}

export interface PairOptions {
  size?: string;
  protocol?: string;
  copyCapBytes?: number;
  /** Each node's net.shared-secret instead of the file's ('' : none, an unauthenticated link). */
  secrets?: readonly [string, string];
}

/** The config as if its file said `secret` (the hash follows, as the loader computes it). */
export function withSecret(cfg: ResourceConfig, secret: string): ResourceConfig {
  const out: ResourceConfig = { ...cfg, net: { ...cfg.net, sharedSecret: secret }, source: { ...cfg.source } };
  out.source.hash = configHash(out);
  return out;
}

export async function createPair(opts: PairOptions = {}): Promise<Pair> {
  const dir = await mkdtemp(join(tmpdir(), 'drbd-tui-rt-'));
  const text = resourceYaml({ dir, portA: await freePort('127.0.0.1'), portB: await freePort('127.0.0.2'), size: opts.size ?? '16MiB', protocol: opts.protocol });
  const configA = opts.secrets ? withSecret(loadConfig(text, 'ha-a'), opts.secrets[0]) : loadConfig(text, 'ha-a');
  const configB = opts.secrets ? withSecret(loadConfig(text, 'ha-b'), opts.secrets[1]) : loadConfig(text, 'ha-b');
  await createMd(configA, 0);
  await createMd(configB, 1);
  const stateA = join(dir, 'state-a');
  const stateB = join(dir, 'state-b');
  const place = (stateDir: string) => ({ stateDir, ...(opts.copyCapBytes !== undefined ? { capBytes: opts.copyCapBytes } : {}) });
  const pair: Pair = {
    dir,
    configA,
    configB,
    diskA: configA.volumes[0]!.disk,
    diskB: configB.volumes[0]!.disk,
    stateA,
    stateB,
    a: await ResourceRuntime.attach(configA, configA.hosts[0]!, 'ha-a', undefined, place(stateA)),
    b: await ResourceRuntime.attach(configB, configB.hosts[1]!, 'ha-b', undefined, place(stateB)),
    async reattach(which) {
      const cfg = which === 'a' ? configA : configB;
      const rt = await ResourceRuntime.attach(cfg, cfg.hosts[which === 'a' ? 0 : 1]!, which === 'a' ? 'ha-a' : 'ha-b', undefined, place(which === 'a' ? stateA : stateB));
      pair[which] = rt;
      return rt;
    },
    async close() {
      // down is refused while writes are still in flight (say, protocol A's, not yet sent):
      // retry for a while, then drop the runtime, so that no listener outlives the test.
      for (const rt of [pair.a, pair.b]) {
        for (let tries = 0; ; tries++) {
          const err = await rt.down().then(() => undefined, (e: Error) => e);
          if (!err) break;
          if (tries >= 100) {
            await rt.abandon();
            break;
          }
          await sleep(20);
        }
      }
      await rm(dir, { recursive: true, force: true });
    },
  };
  return pair;
}

/** Connected, initial sync skipped, A Primary. */
export async function upToDatePair(opts: PairOptions = {}): Promise<Pair> {
  const p = await createPair(opts);
  try {
    await p.a.admin({ cmd: 'connect', discardMyData: false });
    await p.b.admin({ cmd: 'connect', discardMyData: false });
    await waitFor(() => p.a.state.conn === 'Connected' && p.b.state.conn === 'Connected', 'both Connected');
    await p.a.admin({ cmd: 'new-current-uuid', clearBitmap: true });
    await waitFor(() => p.b.state.volumes[0]!.disk === 'UpToDate', 'B UpToDate without sync');
    await p.a.admin({ cmd: 'primary', force: false });
    return p;
  } catch (e) {
    // Runtimes left running would keep the test file from ever exiting.
    await p.close();
    throw e;
  }
}
