// A replicated Primary for benchmarks: the resource's runtime in this process on 127.0.0.1,
// its peer a real agent daemon process on 127.0.0.2, connected over TCP, protocol C, in sync
// (new-current-uuid --clear-bitmap) and promoted. Its block device is what the target serves.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BlockDevice } from '../../agent/block/block-device.js';
import { ResourceRuntime } from '../../agent/engine/resource-runtime.js';
import { agentHost } from './agent-daemons.js';
import { createMd, loadConfig, resourceYaml } from './two-runtimes.js';
import { freePort, waitFor } from './wait.js';

export interface ReplicatedPrimary {
  dir: string;
  runtime: ResourceRuntime;
  device: BlockDevice;
  stop(): Promise<void>;
}

/** tls: the resource's net.tls (both ends use the same file). */
export async function startReplicatedPrimary(sizeMiB: number, opts: { tls?: 'psk' } = {}): Promise<ReplicatedPrimary> {
  const dir = await mkdtemp(join(tmpdir(), 'drbd-tui-primary-'));
  const text = resourceYaml({ dir, portA: await freePort('127.0.0.1'), portB: await freePort('127.0.0.2'), size: `${sizeMiB}MiB`, ...opts });
  const peer = await agentHost(dir, 'ha-b', text);
  let runtime: ResourceRuntime | undefined;
  const stop = async () => {
    await runtime?.down().catch(() => undefined);
    await peer.stop();
    await rm(dir, { recursive: true, force: true });
  };
  try {
    await peer.start();
    await peer.cli('create-md', 'r0');
    await peer.cli('up', 'r0');
    const cfg = loadConfig(text, 'ha-a');
    await createMd(cfg, 0);
    runtime = await ResourceRuntime.attach(cfg, cfg.hosts[0]!, 'ha-a');
    const rt = runtime;
    await rt.admin({ cmd: 'connect', discardMyData: false });
    await waitFor(() => rt.state.conn === 'Connected', 'connection to the peer daemon');
    await rt.admin({ cmd: 'new-current-uuid', clearBitmap: true });
    await rt.admin({ cmd: 'primary', force: false });
    return { dir, runtime: rt, device: rt.blockDevice(0), stop };
  } catch (e) {
    await stop();
    throw e;
  }
}
