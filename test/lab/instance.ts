// Several labs may run at once on one machine (test files, engineers). Each claims an index
// with an atomic mkdir under LOCK_ROOT; the index names everything it creates. Claims whose
// owner died (SIGKILL, power cut of the test VM) are reaped by the next createLab.
import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { instanceNames, MAX_INSTANCE, type InstanceNames } from './names.js';
import { destroyNetwork, subnetInUse } from './netns.js';

export const LOCK_ROOT = '/run/drbd-tui-lab';
const DATA_PREFIX = 'drbd-tui-lab-';

interface Owner {
  pid: number;
  /** /proc/PID/stat start time, so a recycled pid is not mistaken for the owner. */
  startTime: string;
  dataRoot?: string;
}

export interface Claim {
  names: InstanceNames;
  lockDir: string;
}

/** Claims the lowest free index, cleaning leftovers of dead owners on the way. */
export function claimInstance(): Claim {
  mkdirSync(LOCK_ROOT, { recursive: true, mode: 0o755 });
  reapStale();
  for (let index = 0; index <= MAX_INSTANCE; index++) {
    const lockDir = join(LOCK_ROOT, String(index));
    try {
      mkdirSync(lockDir);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EEXIST') continue;
      throw err;
    }
    writeOwner(lockDir, {});
    const names = instanceNames(index);
    // Holding the lock means no live lab uses these names: anything still there is debris.
    destroyNetwork(names);
    if (subnetInUse(names)) {
      rmSync(lockDir, { recursive: true, force: true });
      continue;
    }
    return { names, lockDir };
  }
  throw new Error(`no free lab instance under ${LOCK_ROOT} (all ${MAX_INSTANCE + 1} taken)`);
}

export function writeOwner(lockDir: string, extra: { dataRoot?: string }): void {
  const owner: Owner = { pid: process.pid, startTime: startTimeOf(process.pid) ?? '', ...extra };
  writeFileSync(join(lockDir, 'owner.json.tmp'), JSON.stringify(owner));
  renameSync(join(lockDir, 'owner.json.tmp'), join(lockDir, 'owner.json'));
}

export function releaseInstance(claim: Claim): void {
  rmSync(claim.lockDir, { recursive: true, force: true });
}

/** Data roots live in the temp dir; only ever delete paths that look like ours. */
export function removeDataRoot(path: string | undefined): void {
  if (!path || !path.startsWith(join(tmpdir(), DATA_PREFIX))) return;
  rmSync(path, { recursive: true, force: true });
}

export function dataRootPrefix(index: number): string {
  return join(tmpdir(), `${DATA_PREFIX}${index}-`);
}

function reapStale(): void {
  for (const entry of readdirSync(LOCK_ROOT)) {
    const dir = join(LOCK_ROOT, entry);
    if (/^\d+$/.test(entry)) {
      const owner = readOwner(dir);
      if (owner ? ownerAlive(owner) : !olderThan(dir, 30_000)) continue;
      // Rename is the atomic claim on the reaping: two concurrent reapers cannot both win.
      const grave = join(LOCK_ROOT, `reap-${entry}-${process.pid}-${Date.now()}`);
      try {
        renameSync(dir, grave);
      } catch {
        continue;
      }
      const index = Number(entry);
      if (index <= MAX_INSTANCE) destroyNetwork(instanceNames(index));
      removeDataRoot(owner?.dataRoot);
      rmSync(grave, { recursive: true, force: true });
    } else if (entry.startsWith('reap-')) {
      // A reaper that died midway: its index may be in use again, so only remove files.
      const pid = Number(entry.split('-')[2]);
      if (!Number.isInteger(pid) || startTimeOf(pid) === undefined) {
        removeDataRoot(readOwner(dir)?.dataRoot);
        rmSync(dir, { recursive: true, force: true });
      }
    }
  }
}

function readOwner(dir: string): Owner | undefined {
  try {
    const o = JSON.parse(readFileSync(join(dir, 'owner.json'), 'utf8')) as Owner;
    return typeof o.pid === 'number' ? o : undefined;
  } catch {
    return undefined;
  }
}

function ownerAlive(o: Owner): boolean {
  const st = startTimeOf(o.pid);
  return st !== undefined && (o.startTime === '' || st === o.startTime);
}

function startTimeOf(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Field 22; counted after the command name, which may itself contain spaces and ')'.
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
  } catch {
    return undefined;
  }
}

function olderThan(path: string, ms: number): boolean {
  try {
    return Date.now() - statSync(path).mtimeMs > ms;
  } catch {
    return false;
  }
}
