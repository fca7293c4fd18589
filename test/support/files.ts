// Reading back what landed on a disk file, for tests that check data behind the engine.
import { open, stat } from 'node:fs/promises';

/** Bytes the file system has allocated to the file (what a hole punch gives back). */
export async function allocatedBytes(path: string): Promise<number> {
  return (await stat(path)).blocks * 512;
}

export async function readRange(path: string, offset: number, length: number): Promise<Buffer> {
  const fh = await open(path, 'r');
  try {
    const b = Buffer.alloc(length);
    await fh.read(b, 0, length, offset);
    return b;
  } finally {
    await fh.close();
  }
}
