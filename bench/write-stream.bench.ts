// Replication of a sequential write stream through the block API (protocol C; the peer is
// a separate agent daemon behind a real TCP connection) against writing the same stream to
// a local file alone. Goal: ratio ≥ 0.7.
// Run: npm run build && node --import tsx bench/write-stream.bench.ts [MiB] [chunk KiB] [in flight]
import { mkdtemp, open, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ResourceRuntime } from '../agent/engine/resource-runtime.js';
import { agentHost } from '../test/support/agent-daemons.js';
import { createMd, freePort, loadConfig, resourceYaml, waitFor } from '../test/support/two-runtimes.js';

const totalMiB = Number(process.argv[2] ?? 512);
const chunk = Number(process.argv[3] ?? 1024) * 1024;
const depth = Number(process.argv[4] ?? 4);
const total = totalMiB << 20;

async function stream(write: (offset: number, data: Buffer) => Promise<void>): Promise<number> {
  const data = Buffer.alloc(chunk, 0x5a);
  let next = 0;
  const start = process.hrtime.bigint();
  const worker = async () => {
    while (next < total) {
      const off = next;
      next += chunk;
      await write(off, data);
    }
  };
  await Promise.all(Array.from({ length: depth }, worker));
  return Number(process.hrtime.bigint() - start) / 1e9;
}

const dir = await mkdtemp(join(tmpdir(), 'drbd-tui-bench-'));
const text = resourceYaml({ dir, portA: await freePort('127.0.0.1'), portB: await freePort('127.0.0.2'), size: `${totalMiB + 64}MiB` });
const peer = await agentHost(dir, 'ha-b', text);
let rt: ResourceRuntime | undefined;
try {
  await peer.start();
  await peer.cli('create-md', 'r0');
  await peer.cli('up', 'r0');
  const cfg = loadConfig(text, 'ha-a');
  await createMd(cfg, 0);
  rt = await ResourceRuntime.attach(cfg, cfg.hosts[0]!, 'ha-a');
  await rt.admin({ cmd: 'connect', discardMyData: false });
  const r = rt;
  await waitFor(() => r.state.conn === 'Connected', 'connection');
  await rt.admin({ cmd: 'new-current-uuid', clearBitmap: true });
  await rt.admin({ cmd: 'primary', force: false });
  const dev = rt.blockDevice(0);

  const localPath = join(dir, 'local.img');
  const fh = await open(localPath, 'w+');
  const local = await stream(async (off, d) => {
    await fh.write(d, 0, d.length, off);
  });
  await fh.close();
  await rm(localPath);

  const replicated = await stream((off, d) => dev.write(off, d));
  const mbps = (s: number) => (total / s / 1e6).toFixed(0);
  console.log(`write stream ${totalMiB} MiB, ${chunk / 1024} KiB writes, ${depth} in flight`);
  console.log(`  local file alone:          ${mbps(local)} MB/s`);
  console.log(`  replicated (protocol C):   ${mbps(replicated)} MB/s`);
  console.log(`  ratio replicated/local:    ${(local / replicated).toFixed(2)}  (goal >= 0.70)`);
} finally {
  await rt?.down().catch(() => undefined);
  await peer.stop();
  await rm(dir, { recursive: true, force: true });
}
