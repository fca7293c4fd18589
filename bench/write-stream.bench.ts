// Replication of a sequential write stream through the block API (protocol C; the peer is
// a separate agent daemon behind a real TCP connection) against writing the same stream to
// a local file alone. Goal: ratio ≥ 0.7.
// Run: npm run build && node --import tsx bench/write-stream.bench.ts [MiB] [chunk KiB] [in flight]
import { open, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { startReplicatedPrimary } from '../test/support/replicated-primary.js';
import { writeStream } from '../test/support/write-stream.js';

const totalMiB = Number(process.argv[2] ?? 512);
const chunk = Number(process.argv[3] ?? 1024) * 1024;
const depth = Number(process.argv[4] ?? 4);
const total = totalMiB << 20;

const stream = (write: (offset: number, data: Buffer) => Promise<void>) => writeStream(total, chunk, depth, write);

const primary = await startReplicatedPrimary(totalMiB + 64);
try {
  const dev = primary.device;
  const localPath = join(primary.dir, 'local.img');
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
  await primary.stop();
}
