// One-shot runs of the console (`drbd-tui status`, `check`, …) as a script runs them: without
// the test runner's context and without this machine's ssh-agent. `cli` is src/cli.ts (run
// with tsx) or the built dist/cli.js.
import { execFile } from 'node:child_process';

export interface ConsoleRun {
  code: number;
  stdout: string;
  stderr: string;
}

/** input: what the command reads on stdin (answers, a line each), then end of input; without it stdin stays open. */
export function runConsole(cli: string, args: string[], timeoutMs = 60_000, input?: string): Promise<ConsoleRun> {
  return new Promise((resolve) => {
    const env = { ...process.env };
    delete env.NODE_TEST_CONTEXT;
    delete env.SSH_AUTH_SOCK;
    const pre = cli.endsWith('.ts') ? ['--import', 'tsx'] : [];
    const child = execFile(process.execPath, [...pre, cli, ...args], { env, timeout: timeoutMs }, (err, stdout, stderr) => {
      const code = err ? ((err as { code?: number }).code ?? -1) : 0;
      resolve({ code: typeof code === 'number' ? code : -1, stdout, stderr });
    });
    if (input !== undefined) child.stdin?.end(input);
  });
}
