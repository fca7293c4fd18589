// `drbd-tui check`: the Nagios/Icinga plugin verdict over the status report. Pure: the
// report's problems are judged by kind (the id's prefix), never re-derived; the output is
// one line as the plugin guidelines want (https://nagios-plugins.org/doc/guidelines.html).
import type { StatusJson, StatusProblemJson, StatusResourceJson } from './report.js';

export type CheckCode = 0 | 1 | 2 | 3;
export type CheckState = 'critical' | 'warning' | 'ok';
/** by-role: critical when the host the problem concerns is the resource's Primary, else warning. */
export type KindVerdict = CheckState | 'by-role';

/**
 * Every problem kind of src/cluster/problems.ts (its id up to the first ':'), judged for a
 * pager. The console's severities rank what to look at first; here the question is whether
 * initiators are served and the data has a second copy.
 */
export const PROBLEM_KINDS = {
  // A host out of sight may be Primary or have lost its disk: the pair has no known redundancy.
  host: 'critical',
  'split-brain': 'critical',
  'two-primaries': 'critical',
  unrelated: 'critical',
  'not-served': 'critical',
  'service-address': 'critical',
  'no-uptodate': 'critical',
  'uptodate-out-of-sight': 'critical',
  // A link refused by configuration never heals by itself: no replication until someone acts.
  'auth-failed': 'critical',
  'tls-mismatch': 'critical',
  'secret-mismatch': 'critical',
  // The disk, the link or the resource itself is missing on one host: the Primary's is what initiators use.
  disk: 'by-role',
  standalone: 'by-role',
  missing: 'by-role',
  // Both hosts are seen and the link retries by itself; each copy's state is judged as `disk`.
  disconnected: 'warning',
  // One copy is not complete until it ends.
  sync: 'warning',
  'config-drift': 'warning',
  'config-error': 'warning',
  exposed: 'warning',
  'secrets-readable': 'warning',
  unauthenticated: 'warning',
} as const satisfies Record<string, KindVerdict>;

export type ProblemKind = keyof typeof PROBLEM_KINDS;
export const KIND_NAMES = Object.keys(PROBLEM_KINDS) as ProblemKind[];

function isProblemKind(k: string): k is ProblemKind {
  return Object.hasOwn(PROBLEM_KINDS, k);
}

export interface CheckOptions {
  /** --crit-on / --warn-on / --ok-on: the state a kind gets instead of the table's. */
  overrides?: Partial<Record<ProblemKind, CheckState>>;
}

export interface CheckVerdict {
  code: CheckCode;
  line: string;
}

const CODE: Record<CheckState, 0 | 1 | 2> = { ok: 0, warning: 1, critical: 2 };
const LABEL: Record<CheckCode, string> = { 0: 'OK', 1: 'WARNING', 2: 'CRITICAL', 3: 'UNKNOWN' };
/** The summary stays one readable line: the worst few, then how many more. */
const SHOWN = 5;

function kindOf(id: string): ProblemKind | undefined {
  const k = id.split(':', 1)[0]!;
  return isProblemKind(k) ? k : undefined;
}

function isPrimary(r: StatusJson, p: StatusProblemJson): boolean {
  return r.resources.some((res) => res.name === p.resource && res.hosts.some((s) => s.host === p.host && s.role === 'Primary'));
}

function problemState(r: StatusJson, p: StatusProblemJson, opts: CheckOptions = {}): CheckState {
  const kind = kindOf(p.id);
  // A kind missing from the table (the coverage test forbids it) is judged by its severity, never silently OK.
  if (kind === undefined) return p.severity === 'alert' ? 'critical' : 'warning';
  const v = opts.overrides?.[kind] ?? PROBLEM_KINDS[kind];
  if (v !== 'by-role') return v;
  return isPrimary(r, p) ? 'critical' : 'warning';
}

/** '|' starts the perfdata and a newline ends the line: neither may appear in the summary. */
function oneLine(s: string): string {
  return s.replace(/[|\r\n]+/g, ' ');
}

function perfdata(res: StatusResourceJson): string {
  const label = `${res.name}/${res.volume}`;
  const inSync = res.hosts.every((s) => s.present && s.disk === 'UpToDate' && s.connection === 'Connected');
  // Without a resync, out-of-sync is known only while both copies are UpToDate and connected;
  // anything else is the guidelines' U (undeterminable), not a made-up 0.
  const bytes = res.sync ? String(res.sync.outOfSyncKiB * 1024) : inSync ? '0' : undefined;
  const done = res.sync ? res.sync.done?.toFixed(2) : inSync ? '100' : undefined;
  return `'${label}_out_of_sync'=${bytes === undefined ? 'U' : `${bytes}B`};;;0 '${label}_sync_done'=${done === undefined ? 'U' : `${done}%`};;;0;100`;
}

export function checkVerdict(r: StatusJson, opts: CheckOptions = {}): CheckVerdict {
  const judged = r.problems.map((p, i) => ({ p, i, state: problemState(r, p, opts) }));
  const counted = judged.filter((j) => j.state !== 'ok').sort((a, b) => CODE[b.state] - CODE[a.state] || a.i - b.i);
  const code = counted.reduce<0 | 1 | 2>((c, j) => Math.max(c, CODE[j.state]) as 0 | 1 | 2, 0);
  const ignored = judged.length - counted.length;
  let summary: string;
  if (counted.length === 0) {
    const vols = r.resources.length;
    const names = new Set(r.resources.map((x) => x.name)).size;
    summary = `${r.hosts[0].name}, ${r.hosts[1].name}: ${vols === 0 ? 'no resources' : `${names} resource${names === 1 ? '' : 's'}, ${vols} volume${vols === 1 ? '' : 's'}`}, no problems`;
  } else {
    const more = counted.length > SHOWN ? `; +${counted.length - SHOWN} more` : '';
    summary = counted.slice(0, SHOWN).map((j) => j.p.text).join('; ') + more;
  }
  if (ignored > 0) summary += ` (${ignored} ignored by --ok-on)`;
  const perf = r.resources.map(perfdata).join(' ');
  return { code, line: `DRBD-TUI ${LABEL[code]} - ${oneLine(summary)}${perf ? ` | ${perf}` : ''}` };
}

/** The plugin could not check at all (bad arguments, an internal failure): UNKNOWN. */
export function unknownVerdict(why: string): CheckVerdict {
  return { code: 3, line: `DRBD-TUI UNKNOWN - ${oneLine(why)}` };
}

/**
 * `--warn-on`, `--crit-on`, `--ok-on` (comma-separated kinds) as overrides; an unknown kind
 * or one kind given two states is an error naming the kinds.
 */
export function parseOverrides(flags: Partial<Record<CheckState, string>>): { overrides: Partial<Record<ProblemKind, CheckState>> } | { error: string } {
  const overrides: Partial<Record<ProblemKind, CheckState>> = {};
  const flagOf: Record<CheckState, string> = { critical: '--crit-on', warning: '--warn-on', ok: '--ok-on' };
  for (const state of ['critical', 'warning', 'ok'] as const) {
    const v = flags[state];
    if (v === undefined) continue;
    for (const k of v.split(',').map((x) => x.trim())) {
      if (!isProblemKind(k)) return { error: `${flagOf[state]} ${v}: ${k === '' ? 'an empty kind' : `unknown kind '${k}'`}; kinds: ${KIND_NAMES.join(', ')}` };
      const before = overrides[k];
      if (before !== undefined && before !== state) return { error: `${k} is given to both ${flagOf[before]} and ${flagOf[state]}: choose one` };
      overrides[k] = state;
    }
  }
  return { overrides };
}
