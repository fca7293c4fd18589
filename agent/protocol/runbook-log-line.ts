// One audit-log entry as one line, for `drbd-agent runbook-log` and the console's log view:
// `TIME r0 disk-replacement(ha-b) step up "bring r0 up on ha-b" on ha-b: drbd-agent up r0 → ran (root@laptop)`.
// Dependency-free: the console imports it too.
import type { RunbookLogEntry } from './messages.js';

/** `brief`: for a view that shows the time and the resource already; a step's title only where no command says it. */
export function runbookLogLine(e: RunbookLogEntry, opts: { brief?: boolean } = {}): string {
  const parts = opts.brief ? [`${e.runbook}(${e.subject})`] : [`${e.time} ${e.resource} ${e.runbook}(${e.subject})`];
  if (e.step) parts.push(` step ${e.step}`);
  if (e.title && !(opts.brief && e.command)) parts.push(` "${e.title}"`);
  if (e.host) parts.push(` on ${e.host}`);
  if (e.command) parts.push(`: ${e.command}`);
  parts.push(` → ${e.result}`);
  // A refusal's text may span lines; the log's unit is the line.
  if (e.detail) parts.push(`: ${e.detail.replace(/\s*\n\s*/g, ' ')}`);
  parts.push(` (${e.user})`);
  return parts.join('');
}
