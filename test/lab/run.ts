// Running the system tools the lab is built from (ip, ssh-keygen, ...). Synchronous where the
// caller may be an exit or signal handler, which cannot wait for promises.
import { execFile, spawnSync } from 'node:child_process';

export interface RunResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface RunOptions {
  input?: string;
  /** Do not throw on a non-zero exit; the caller inspects `code`. */
  allowFail?: boolean;
  timeoutMs?: number;
}

export function runSync(cmd: string, args: readonly string[], opts: RunOptions = {}): RunResult {
  const r = spawnSync(cmd, args, {
    input: opts.input,
    encoding: 'utf8',
    timeout: opts.timeoutMs ?? 20_000,
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  const result: RunResult = { code: r.status, signal: r.signal, stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
  if (r.error) throw new Error(`${cmd} ${args.join(' ')}: ${r.error.message}`);
  if (!opts.allowFail && r.status !== 0) throw commandError(cmd, args, result);
  return result;
}

export function run(cmd: string, args: readonly string[], opts: RunOptions = {}): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = execFile(
      cmd,
      args,
      { encoding: 'utf8', timeout: opts.timeoutMs ?? 20_000, maxBuffer: 16 * 1024 * 1024 },
      (err, stdout, stderr) => {
        const e = err as (NodeJS.ErrnoException & { code?: unknown; signal?: NodeJS.Signals | null }) | null;
        if (e && typeof e.code === 'string') return reject(new Error(`${cmd} ${args.join(' ')}: ${e.message}`));
        const result: RunResult = {
          code: e ? (typeof e.code === 'number' ? e.code : null) : 0,
          signal: e?.signal ?? null,
          stdout,
          stderr,
        };
        if (!opts.allowFail && result.code !== 0) return reject(commandError(cmd, args, result));
        resolve(result);
      },
    );
    if (opts.input !== undefined) child.stdin?.end(opts.input);
  });
}

function commandError(cmd: string, args: readonly string[], r: RunResult): Error {
  const how = r.signal ? `killed by ${r.signal}` : `exit ${r.code}`;
  return new Error(`${cmd} ${args.join(' ')} failed (${how}): ${r.stderr.trim() || r.stdout.trim()}`);
}

/** Blocks the thread; only for short waits inside synchronous teardown. */
export function sleepSync(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

