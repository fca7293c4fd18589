// A file replaced whole or not at all, and durably: what survives a power cut is the old text
// or the new one, never an empty or half-written file (the agent's config and peer memory).
import { randomBytes } from 'node:crypto';
import { mkdir, open, rename, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

/**
 * Writes `text` to `path` through a temp file in the same directory (created 0600 before any
 * byte is in it), fsync, rename, fsync of the directory: readers see the old file or the new one.
 */
export async function writeFileAtomic(path: string, text: string, mode = 0o600, dirMode = 0o755): Promise<void> {
  const dir = dirname(path);
  await mkdir(dir, { recursive: true, mode: dirMode });
  const tmp = join(dir, `.${basename(path)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  const fh = await open(tmp, 'wx', mode);
  try {
    // The umask may have taken bits away; it never adds any, but say exactly what we mean.
    await fh.chmod(mode);
    await fh.writeFile(text);
    await fh.sync();
  } catch (e) {
    await fh.close();
    await rm(tmp, { force: true });
    throw e;
  }
  await fh.close();
  try {
    await rename(tmp, path);
  } catch (e) {
    await rm(tmp, { force: true });
    throw e;
  }
  const d = await open(dir, 'r');
  await d.sync().catch(() => undefined);
  await d.close();
}
