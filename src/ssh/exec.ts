// Running commands over an established SSH connection. Both output streams are drained,
// or ssh2 never emits 'close' for the channel.
import type { Client } from 'ssh2';

export interface SshExecResult {
  code: number | null;
  signal: string | null;
  stdout: string;
  stderr: string;
}

/** Runs one command (a shell command line, as `ssh host CMD` does); never rejects on a non-zero exit. */
export function sshExec(client: Client, command: string, opts: { input?: string | Buffer; timeoutMs?: number } = {}): Promise<SshExecResult> {
  return new Promise((resolve, reject) => {
    client.exec(command, (err, stream) => {
      if (err) return reject(err);
      const out: Buffer[] = [];
      const errOut: Buffer[] = [];
      let code: number | null = null;
      let signal: string | null = null;
      const timer =
        opts.timeoutMs === undefined
          ? undefined
          : setTimeout(() => {
              stream.close();
              reject(new Error(`remote command timed out after ${opts.timeoutMs} ms: ${command.slice(0, 80)}`));
            }, opts.timeoutMs);
      stream.on('data', (b: Buffer) => out.push(b));
      stream.stderr.on('data', (b: Buffer) => errOut.push(b));
      stream.on('exit', (c: number | null, s?: string) => {
        code = c;
        signal = s ?? null;
      });
      stream.on('close', () => {
        clearTimeout(timer);
        resolve({ code, signal, stdout: Buffer.concat(out).toString(), stderr: Buffer.concat(errOut).toString() });
      });
      stream.end(opts.input);
    });
  });
}

/** Quotes one word for a POSIX shell. */
export function shq(s: string): string {
  return /^[A-Za-z0-9_./:=@%+-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}
