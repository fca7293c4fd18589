// Newline-delimited JSON over a stream: the framing of the control channel on both sides
// (the agent's unix socket, and the console's SSH-forwarded stream to it).
import type { Duplex } from 'node:stream';

/** Calls onMessage for each complete JSON line; a line that is not JSON is reported, not thrown. */
export function readLines(stream: Duplex, onMessage: (msg: unknown) => void, onBadLine: (line: string) => void, maxLine = 16 << 20): void {
  let buf = '';
  stream.setEncoding('utf8');
  stream.on('data', (chunk: string) => {
    buf += chunk;
    if (buf.length > maxLine && !buf.includes('\n')) {
      onBadLine(buf.slice(0, 80));
      stream.destroy();
      return;
    }
    let nl: number;
    while ((nl = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, nl);
      buf = buf.slice(nl + 1);
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
  });
}
