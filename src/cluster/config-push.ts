// Putting one resource file on both hosts: what each host has now, what the write changes
// there (a diff, secrets masked), what the operator must confirm and which commands follow.
// Pure: the requests that gather the inputs and carry out the plan are in src/ssh/config-push.ts.
import type { ConfigGetResult } from '../../agent/protocol/messages.js';
import type { HostIndex } from './model.js';
import { splitLines, unifiedDiff, type DiffLine } from './text-diff.js';
import { maskSecrets, type ResourceFormat } from '../../agent/protocol/config.js';

export interface PushTarget {
  host: HostIndex;
  name: string;
  /** Where the file goes (the agent's answer to a checking config-put). */
  file: string;
  /** new: no file for the resource there yet; same: it has this very text; changed: it has another. */
  change: 'new' | 'same' | 'changed';
  /** Against what the host has, secrets masked. */
  diff: DiffLine[];
  /** A file of the other format that defines the resource now, moved aside by the write. */
  replaces?: string;
}

export interface PushPlan {
  resource: string;
  format: ResourceFormat;
  text: string;
  targets: [PushTarget, PushTarget];
  /** Replacing a host's existing configuration is confirmed by typing the resource name; creating files with `y`. */
  typeToConfirm?: string;
  /** What will run, in order, as the operator could type it. */
  commands: string[];
}

export interface PushInput {
  resource: string;
  format: ResourceFormat;
  text: string;
  names: readonly [string, string];
  /** What config-get said on each host. */
  now: readonly [ConfigGetResult, ConfigGetResult];
  /** Where a checking config-put said each host would write. */
  files: readonly [string, string];
  /** Every secret in play (new text and old ones), masked wherever they appear. */
  secrets: readonly string[];
}

export function pushPlan(p: PushInput): PushPlan {
  const targets = ([0, 1] as const).map((i): PushTarget => {
    const old = p.now[i].text;
    const change = old === undefined ? 'new' : old === p.text ? 'same' : 'changed';
    const masked = maskSecrets(p.text, { before: old, known: p.secrets });
    const diff = change === 'same' ? [] : unifiedDiff(old === undefined ? undefined : maskSecrets(old, { known: p.secrets }), masked);
    const replaces = old !== undefined && p.now[i].file !== p.files[i] ? p.now[i].file : undefined;
    return { host: i, name: p.names[i], file: p.files[i], change, diff, ...(replaces ? { replaces } : {}) };
  }) as [PushTarget, PushTarget];
  const writes = targets.filter((t) => t.change !== 'same');
  const commands = [
    ...writes.map((t) => `write ${t.file} on ${t.name} (mode 0600: temp file, fsync, rename)`),
    ...writes.map((t) => `drbd-agent adjust ${p.resource}   # on ${t.name}: re-read; up where its metadata is valid`),
  ];
  return { resource: p.resource, format: p.format, text: p.text, targets, commands, ...(targets.some((t) => t.change === 'changed') ? { typeToConfirm: p.resource } : {}) };
}

export type LineTone = 'add' | 'del' | 'hunk' | 'head' | 'plain' | 'dim';
export interface ToneLine {
  text: string;
  tone: LineTone;
}

const TONE: Record<DiffLine['kind'], LineTone> = { '+': 'add', '-': 'del', '@': 'hunk', ' ': 'plain' };

/** The dialog's lines: per host what happens to its file, then the commands. */
export function planLines(plan: PushPlan): ToneLine[] {
  const out: ToneLine[] = [];
  let shownWhole = false;
  for (const t of plan.targets) {
    const what =
      t.change === 'same'
        ? 'already has this file: unchanged'
        : t.change === 'new'
          ? `new file (${splitLines(plan.text).length} lines)`
          : `changes (${t.diff.filter((l) => l.kind === '-').length} lines removed, ${t.diff.filter((l) => l.kind === '+').length} added)`;
    out.push({ text: `${t.name} ${t.file}: ${what}`, tone: 'head' });
    if (t.replaces) out.push({ text: `  replaces ${t.replaces} (kept beside it as a dotfile)`, tone: 'plain' });
    // Two new files are the same text: shown once.
    if (t.change === 'new' && shownWhole) {
      out.push({ text: '  the same text as above', tone: 'plain' });
      continue;
    }
    shownWhole ||= t.change === 'new';
    for (const l of t.diff) out.push({ text: `${l.kind === '@' ? '' : l.kind}${l.text}`, tone: TONE[l.kind] });
  }
  out.push({ text: 'then:', tone: 'head' });
  for (const c of plan.commands) out.push({ text: `  ${c}`, tone: 'dim' });
  return out;
}

/** Nothing to write: both hosts have this very file. */
export function nothingToWrite(plan: PushPlan): boolean {
  return plan.targets.every((t) => t.change === 'same');
}
