// The peer memory on disk: one JSON file per resource in the agent's state dir (not on the
// backing disk: it must outlive a disk replacement). Written whole to a temp file and renamed.
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { PeerMemory } from './peer-memory.js';

export function peerMemoryPath(stateDir: string, resource: string): string {
  return join(stateDir, 'peers', `${resource}.json`);
}

/** The stored memory, or undefined when there is none (or it does not parse: then it is no evidence). */
export async function readPeerMemory(stateDir: string, resource: string): Promise<PeerMemory | undefined> {
  const text = await readFile(peerMemoryPath(stateDir, resource), 'utf8').catch(() => undefined);
  if (text === undefined) return undefined;
  try {
    const m = JSON.parse(text) as PeerMemory;
    return typeof m.peer === 'string' && Array.isArray(m.volumes) ? m : undefined;
  } catch {
    return undefined;
  }
}

/** Writes to one file go in order, so an older memory never lands over a newer one. */
const chains = new Map<string, Promise<void>>();

export function writePeerMemory(stateDir: string, resource: string, m: PeerMemory): Promise<void> {
  const path = peerMemoryPath(stateDir, resource);
  const write = async (): Promise<void> => {
    await mkdir(join(stateDir, 'peers'), { recursive: true, mode: 0o700 });
    const tmp = `${path}.${process.pid}.tmp`;
    await writeFile(tmp, JSON.stringify(m) + '\n', { mode: 0o600 });
    await rename(tmp, path);
  };
  const run = (chains.get(path) ?? Promise.resolve()).then(write, write);
  const tail = run.catch(() => undefined);
  chains.set(path, tail);
  void tail.then(() => chains.get(path) === tail && chains.delete(path));
  return run;
}

export async function forgetPeerMemory(stateDir: string, resource: string): Promise<void> {
  const path = peerMemoryPath(stateDir, resource);
  await chains.get(path);
  await rm(path, { force: true });
}
