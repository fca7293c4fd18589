import { Box } from 'ink';
import { Text } from './Text.js';
import type { RunbookLogEntry } from '../../agent/protocol/messages.js';
import { runbookLogLine } from '../../agent/protocol/runbook-log-line.js';
import type { ClusterModel, RecentEvent } from '../cluster/model.js';
import { buildRunbook, runbookProgress, RUNBOOK_TITLES } from '../runbooks/runbooks.js';
import { activeRunLine, activeRuns } from '../runbooks/journal.js';
import { EntryPrompt } from './EntryPrompt.js';
import { EventLog } from './EventLog.js';
import { clockOf, truncate } from './format.js';
import { ABANDON_WORD } from './keys.js';
import { overlayRun, type Overlay } from './state.js';

/** While no runbook view is open: the runs in progress, so that nobody forgets one (r resumes it). */
export function activeRunText(model: ClusterModel, overlay: Overlay): string | undefined {
  if (overlay.kind === 'runbook' || overlay.kind === 'runbook-log') return undefined;
  const runs = activeRuns(model);
  if (runs.length === 0) return undefined;
  return activeRunLine(model, runs[0]!) + (runs.length > 1 ? ` (+${runs.length - 1} more)` : '');
}

export function ActiveRunLine({ text, width }: { text: string; width: number }) {
  return (
    <Text bold color="yellow" wrap="truncate">
      {truncate(text, width)}
    </Text>
  );
}

/** The line under an open runbook, when there is news about its stored run: who abandoned it, or where it was resumed. */
function runbookNote(o: Extract<Overlay, { kind: 'runbook' }>, model: ClusterModel): string | undefined {
  const stored = o.started === undefined ? undefined : overlayRun(o, model);
  if (stored?.state === 'abandoned') return `abandoned by ${stored.by} at ${clockOf(stored.updated).slice(0, 5)}: Esc, then r starts a new one`;
  if (o.resumed) return `resumed at step ${o.resumed.step}, started ${clockOf(o.resumed.started).slice(0, 5)} by ${o.resumed.by} · X abandon · L log`;
  return undefined;
}

/** Lines under an open runbook: the abandon question (2), a note about its stored run (1), or none (the footer has X and L). */
export function runbookFootLines(o: Extract<Overlay, { kind: 'runbook' }>, model: ClusterModel): number {
  return o.abandoning ? 2 : runbookNote(o, model) ? 1 : 0;
}

export function RunbookFoot({ overlay: o, model, width }: { overlay: Extract<Overlay, { kind: 'runbook' }>; model: ClusterModel; width: number }) {
  const w = Math.min(width, 80);
  if (o.abandoning) {
    const rb = buildRunbook(model, o.choice.id, o.resource, o.choice.host);
    const p = runbookProgress(rb, model, o.completed);
    const at = (p.next ?? rb.steps.length - 1) + 1;
    return (
      <Box flexDirection="column" width={w}>
        <EntryPrompt label={`abandon ${RUNBOOK_TITLES[o.choice.id]} ${o.resource} at step ${at}? type ${ABANDON_WORD}`} expected={ABANDON_WORD} typed={o.typed} rejected={o.rejected} keys="Esc keep it" width={w} color="red" />
      </Box>
    );
  }
  const note = runbookNote(o, model);
  return note ? (
    <Text dimColor wrap="truncate">
      {truncate(note, width)}
    </Text>
  ) : null;
}

const asEvent = (e: RunbookLogEntry): RecentEvent => ({ time: e.time, host: '', resource: e.resource, text: runbookLogLine(e, { brief: true }) });

/** L: what ran in the runbooks of a resource, as both agents logged it, newest at the bottom. */
export function RunbookLogView({ overlay: o, width, height, scroll }: { overlay: Extract<Overlay, { kind: 'runbook-log' }>; width: number; height: number; scroll: number }) {
  const title = `runbook audit log of ${o.resource}`;
  if (o.error !== undefined || o.entries === undefined || o.entries.length === 0) {
    const why = o.error !== undefined ? `cannot read it: ${o.error}` : o.entries === undefined ? 'reading it from the agents…' : 'no runbook step has run on this resource yet';
    return (
      <Box flexDirection="column" width={width}>
        <Text bold wrap="truncate">
          {title}
        </Text>
        <Text dimColor wrap="truncate">
          {truncate(why, width)}
        </Text>
      </Box>
    );
  }
  return <EventLog events={o.entries.map(asEvent)} width={width} maxLines={height - 1} scroll={scroll} title={title} />;
}
