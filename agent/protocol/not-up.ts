// Why a resource this host knows is not up, and what to do next: a pure judgement of what the
// agent found (its file, this host's entry in it, each backing disk and its metadata). Beside
// the control protocol because the console words the same states with the same table.
import type { ConfigProblem, NotUpCause, NotUpResource } from './messages.js';

/** What a look at one backing disk found (agent/engine/disk-probe.ts looks). */
export type DiskProbe =
  | { kind: 'ok' }
  | { kind: 'missing' }
  /** error: a sentence naming the disk. */
  | { kind: 'failed'; error: string }
  | { kind: 'no-metadata' }
  | { kind: 'bad-metadata'; problem: 'damaged' | 'newer-format' | 'size-mismatch' | 'other-node'; message: string };

export interface NotUpFacts {
  name: string;
  file: string;
  /** The file does not load. */
  configError?: ConfigProblem;
  /** The file loads but does not name this host (the loader's message). */
  notAHost?: string;
  volumes: Array<{ volume: number; disk: string; /** size: is set, so create-md creates a missing file */ sizeSet: boolean; probe: DiskProbe }>;
  upError?: string;
}

/** The states in words: `short` fits a table cell, `state` is the sentence's subject. */
export const NOT_UP_WORDS: Record<NotUpCause, { short: string; state: string; broken: boolean }> = {
  down: { short: 'down', state: 'configured, down', broken: false },
  'config-error': { short: 'bad config', state: 'broken: its resource file does not load', broken: true },
  'not-a-host': { short: 'not a host', state: 'broken: this host is not in its resource file', broken: true },
  'backing-disk-missing': { short: 'no disk', state: 'broken: backing disk missing', broken: true },
  'backing-disk-failed': { short: 'disk failing', state: 'broken: backing disk failing', broken: true },
  'metadata-missing': { short: 'no metadata', state: 'broken: no metadata', broken: true },
  'metadata-invalid': { short: 'bad metadata', state: 'broken: metadata invalid', broken: true },
};

const then = (name: string) => `then: drbd-agent up ${name}`;

function volumeVerdict(f: NotUpFacts, v: NotUpFacts['volumes'][number]): Pick<NotUpResource, 'cause' | 'reason' | 'next'> | undefined {
  const { name, file } = f;
  const p = v.probe;
  switch (p.kind) {
    case 'ok':
      return undefined;
    case 'missing':
      return {
        cause: 'backing-disk-missing',
        reason: `backing disk ${v.disk} does not exist`,
        next: v.sizeSet ? `drbd-agent create-md ${name} (creates ${v.disk}), ${then(name)}` : `attach the disk or correct disk: in ${file}, ${then(name)}`,
      };
    case 'failed':
      return { cause: 'backing-disk-failed', reason: p.error, next: `check ${v.disk} (kernel log, SMART), or replace it, ${then(name)}` };
    case 'no-metadata':
      return { cause: 'metadata-missing', reason: `no metadata on ${v.disk}`, next: `drbd-agent create-md ${name}, ${then(name)}` };
    case 'bad-metadata': {
      const next: Record<typeof p.problem, string> = {
        // Only the peer's copy can refill this disk: never the step while this disk may hold the only one.
        damaged: `if the peer holds good data: drbd-agent create-md --force ${name}, ${then(name)} (a full sync from the peer); never when this disk holds the only copy`,
        'newer-format': 'deploy a newer drbd-agent (connect with a newer console)',
        'size-mismatch': `give ${v.disk} back its former size, ${then(name)}`,
        'other-node': `check hosts: in ${file} (node-id) and that disk: names this host's disk`,
      };
      return { cause: 'metadata-invalid', reason: p.message, next: next[p.problem] };
    }
  }
}

/** The first thing in the way wins: the file, then this host's entry, then each volume's disk and metadata. */
export function judgeNotUp(f: NotUpFacts): NotUpResource {
  const base = { name: f.name, file: f.file, volumes: f.volumes.map((v) => v.volume), ...(f.upError ? { upError: f.upError } : {}) };
  if (f.configError) {
    const e = f.configError;
    return { ...base, cause: 'config-error', reason: `${e.file}:${e.line}:${e.col}: ${e.message}`, next: `fix ${e.file}:${e.line}:${e.col}, then: drbd-agent adjust` };
  }
  if (f.notAHost) return { ...base, cause: 'not-a-host', reason: f.notAHost, next: `add this host to hosts: in ${f.file} (or start the daemon with --node NAME), then: drbd-agent adjust` };
  for (const v of f.volumes) {
    const verdict = volumeVerdict(f, v);
    if (verdict) return { ...base, ...verdict };
  }
  return { ...base, cause: 'down', reason: '', next: `drbd-agent up ${f.name}` };
}

/**
 * The state with its cause: "configured, down", "broken: backing disk /x does not exist". A failed
 * up is added only to `down` ("configured, down (up failed: port in use)"): for the others the look
 * at the file and disks says more precisely what the up ran into.
 */
export function notUpPhrase(n: Pick<NotUpResource, 'cause' | 'reason' | 'upError'>): string {
  const w = NOT_UP_WORDS[n.cause];
  if (n.reason) return `${w.broken ? 'broken' : w.state}: ${n.reason}`;
  return n.upError ? `${w.state} (up failed: ${n.upError})` : w.state;
}

/** One line for operators: "r0 (/etc/drbd-tui/r0.yaml): broken: no metadata on /x; next: drbd-agent create-md r0, …". */
export function notUpLine(n: NotUpResource): string {
  return `${n.name} (${n.file}): ${notUpPhrase(n)}; next: ${n.next}`;
}
