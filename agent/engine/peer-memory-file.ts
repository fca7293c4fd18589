// The peer memory on disk: one JSON file per resource in the agent's state dir (not on the
// backing disk: it must outlive a disk replacement), replaced atomically and durably.
import { readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileAtomic } from '../atomic-file.js';
import type { PeerMemory } from './peer-memory.js';

function peerMemoryPath(stateDir: string, resource: string): string {
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
  // Durable: after the power cut this memory exists for, an empty file would be no evidence.
  const write = (): Promise<void> => writeFileAtomic(path, JSON.stringify(m) + '\n', 0o600, 0o700);
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
