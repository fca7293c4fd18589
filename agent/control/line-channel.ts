// Newline-delimited JSON over a stream: the framing of the control channel on both sides
// (the agent's unix socket, and the console's SSH-forwarded stream to it).
import type { Duplex } from 'node:stream';

export interface LineLimits {
  /** Characters a line may have before its newline; beyond, onTooLong and nothing more is read. */
  maxLine: number;
  /** Called once when a line passes maxLine; the stream is left to it to end (default: destroyed). */
  onTooLong?: (length: number) => void;
}

/** Calls onMessage for each complete JSON line; a line that is not JSON is reported, not thrown. */
export function readLines(stream: Duplex, onMessage: (msg: unknown) => void, onBadLine: (line: string) => void, limits: LineLimits = { maxLine: 16 << 20 }): void {
  let buf = '';
  let done = false;
  stream.setEncoding('utf8');
  stream.on('data', (chunk: string) => {
    if (done) return;
    buf += chunk;
    let nl: number;
    while ((nl = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, nl);
      buf = buf.slice(nl + 1);
      if (line.length > limits.maxLine) return tooLong(line.length);
      if (line.trim() === '') continue;
      let msg: unknown;
      try {
        msg = JSON.parse(line);
      } catch {
        onBadLine(line.slice(0, 80));
        continue;
      }
      onMessage(msg);
    }
    if (buf.length > limits.maxLine) tooLong(buf.length);
  });

  function tooLong(length: number): void {
    done = true;
    buf = '';
    if (limits.onTooLong) limits.onTooLong(length);
    else stream.destroy();
  }
}
