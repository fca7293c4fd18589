// A sequential write stream for benchmarks: `total` bytes in `chunk`-sized writes, `depth` in
// flight. Returns the seconds it took.
export async function writeStream(total: number, chunk: number, depth: number, write: (offset: number, data: Buffer) => Promise<void>): Promise<number> {
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
