// Reads the known_hosts files an ssh config names; the parsing and checking stay pure in
// known-hosts.ts.
import { readFile } from 'node:fs/promises';
import { parseKnownHosts, type KnownHostEntry } from './known-hosts.js';

/** Entries of all files in order; missing files are skipped, as OpenSSH does. */
export async function readKnownHostsFiles(paths: readonly string[]): Promise<KnownHostEntry[]> {
  const all: KnownHostEntry[] = [];
  for (const path of paths) {
    let text: string;
    try {
      text = await readFile(path, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') continue;
      throw err;
    }
    all.push(...parseKnownHosts(text, path));
  }
  return all;
}
