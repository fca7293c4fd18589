// What net.tls psk costs: the same replicated write stream (protocol C, the peer a separate
// agent daemon behind real TCP on loopback) with a plain peer link and with TLS, in one run.
// Loopback has no wire limit, so the ratio is the encryption's CPU cost at its most visible;
// on a storage network slower than the cipher it shrinks towards 1.
// Run: npm run build && node --import tsx bench/peer-tls.bench.ts [MiB] [chunk KiB] [in flight] [rounds]
import { startReplicatedPrimary } from '../test/support/replicated-primary.js';
import { writeStream } from '../test/support/write-stream.js';

const totalMiB = Number(process.argv[2] ?? 256);
const chunk = Number(process.argv[3] ?? 1024) * 1024;
const depth = Number(process.argv[4] ?? 4);
const rounds = Number(process.argv[5] ?? 3);
const total = totalMiB << 20;

/** Seconds of the best of `rounds` streams over one connected pair. */
async function best(tls: boolean): Promise<number> {
  const primary = await startReplicatedPrimary(totalMiB + 64, tls ? { tls: 'psk' } : {});
  try {
    const dev = primary.device;
    let s = Infinity;
    for (let i = 0; i < rounds; i++) s = Math.min(s, await writeStream(total, chunk, depth, (off, d) => dev.write(off, d)));
    return s;
  } finally {
    await primary.stop();
  }
}

// Alternating, so that a machine that gets busier during the run does not favour one side.
const plain = await best(false);
const tls = await best(true);
const plain2 = await best(false);
const plainBest = Math.min(plain, plain2);
const mbps = (s: number) => (total / s / 1e6).toFixed(0);
console.log(`peer link TLS cost: ${totalMiB} MiB write stream, ${chunk / 1024} KiB writes, ${depth} in flight, best of ${rounds}`);
console.log(`  replicated, plain TCP:     ${mbps(plainBest)} MB/s`);
console.log(`  replicated, net.tls psk:   ${mbps(tls)} MB/s`);
console.log(`  ratio tls/plain:           ${(plainBest / tls).toFixed(2)}`);
