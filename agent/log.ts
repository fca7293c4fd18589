// The daemon's log: one line per call on stderr (systemd's journal or the console's lab log
// keep it). Every line is made safe on its own, whatever its parts came from: a newline or an
// escape sequence inside an InitiatorName or a config value cannot forge a line or reach the
// terminal of whoever reads the log.
import { untrustedText } from './protocol/untrusted-text.js';

/** A line longer than this is cut (with its length): a log line is read by a person. */
export const LOG_LINE_LIMIT = 1024;

export function logLine(text: string): void {
  process.stderr.write(`drbd-agent: ${untrustedText(text, LOG_LINE_LIMIT)}\n`);
}
