// The console in a real terminal: tmux runs it in a detached pane of a fixed size, tests send
// keys and read the screen back. Each terminal has its own tmux server (-L), so a test never
// sees or kills another's sessions, and kill() takes the whole server down.
import { execFile } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { requireTools, type NeededTool } from './lab-packages.js';
import { setTimeout as sleep } from 'node:timers/promises';

export const TMUX_TOOLS: NeededTool[] = [{ path: '/usr/bin/tmux', pkg: 'tmux' }];

/** Skip reason outside CI, throws under CI=true (house rule); undefined when tmux is there. */
export function requireTmux(): Promise<string | undefined> {
  return requireTools(TMUX_TOOLS);
}

/**
 * requireTmux, and the built console at `cli` (dist/cli.js): a skip reason outside CI, thrown
 * under CI=true; undefined when both are there.
 */
export async function requireConsoleTerminal(cli: string): Promise<string | undefined> {
  const skip = await requireTmux();
  if (existsSync(cli)) return skip;
  const msg = `${cli} is missing: run npm run build first`;
  if (process.env.CI === 'true') throw new Error(msg);
  return skip ?? msg;
}

/** The screen with wrapped lines joined and box drawing gone, for matching texts longer than a line. */
export function flatScreen(screen: string): string {
  return screen
    .replace(/[║╔╗╚╝═│┌┐└┘─╭╮╰╯]/g, ' ')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '')
    .join(' ');
}

export const shq = (s: string): string => `'${s.replaceAll("'", `'\\''`)}'`;

function tmux(args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile('tmux', args, { timeout: 10_000 }, (err, stdout, stderr) => (err ? reject(new Error(`tmux ${args.join(' ')}: ${stderr || err.message}`)) : resolve(stdout)));
  });
}

let serial = 0;

export interface Terminal {
  readonly server: string;
  /** Sends tmux key names (`Tab`, `Escape`, `Enter`) or, with literal, text as typed. */
  keys(keys: string[] | string, opts?: { literal?: boolean }): Promise<void>;
  screen(): Promise<string>;
  /** The terminal at a new size, as a window resized by the operator (the program gets SIGWINCH). */
  resize(width: number, height: number): Promise<void>;
  /** Polls the screen until pred holds; the error carries the last screen. */
  waitFor(what: string, pred: (screen: string) => boolean, timeoutMs?: number): Promise<string>;
  /** The command's exit code once it has exited (the pane's shell writes it to a file). */
  exitCode(): number | undefined;
  waitExit(timeoutMs?: number): Promise<number>;
  kill(): Promise<void>;
}

/**
 * Runs `argv` in a new width×height terminal. CI is unset for the child: Ink under CI=true
 * writes only the final frame. `exitFile` receives the exit code when the command ends.
 */
export async function openTerminal(opts: { argv: string[]; cwd: string; exitFile: string; width?: number; height?: number }): Promise<Terminal> {
  const server = `drbd-tui-test-${process.pid}-${++serial}`;
  const cmd = `env -u CI -u NODE_TEST_CONTEXT -u SSH_AUTH_SOCK ${opts.argv.map(shq).join(' ')}; echo $? > ${shq(opts.exitFile)}`;
  await tmux(['-L', server, '-f', '/dev/null', 'new-session', '-d', '-s', 'console', '-x', String(opts.width ?? 100), '-y', String(opts.height ?? 30), '-c', opts.cwd, cmd]);
  const target = ['-t', 'console'];
  // kill-server leaves the socket file behind: remember it to remove it.
  const socketPath = (await tmux(['-L', server, 'display-message', '-p', '#{socket_path}']).catch(() => '')).trim();
  const term: Terminal = {
    server,
    async keys(keys, o = {}) {
      for (const k of Array.isArray(keys) ? keys : [keys]) {
        await tmux(['-L', server, 'send-keys', ...target, ...(o.literal ? ['-l'] : []), k]);
        // Ink reads stdin in chunks: one key per read keeps intents apart.
        await sleep(150);
      }
    },
    screen: () => tmux(['-L', server, 'capture-pane', '-p', ...target]),
    async resize(width, height) {
      await tmux(['-L', server, 'resize-window', ...target, '-x', String(width), '-y', String(height)]);
    },
    async waitFor(what, pred, timeoutMs = 15_000) {
      const deadline = Date.now() + timeoutMs;
      let last: string;
      for (;;) {
        last = await term.screen().catch((e: Error) => `(no screen: ${e.message})`);
        if (pred(last)) return last;
        if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}; screen:\n${last}`);
        await sleep(100);
      }
    },
    exitCode() {
      if (!existsSync(opts.exitFile)) return undefined;
      const t = readFileSync(opts.exitFile, 'utf8').trim();
      return t === '' ? undefined : Number(t);
    },
    async waitExit(timeoutMs = 15_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const c = term.exitCode();
        if (c !== undefined) return c;
        if (Date.now() > deadline) throw new Error(`the console did not exit within ${timeoutMs} ms; screen:\n${await term.screen().catch(() => '(gone)')}`);
        await sleep(100);
      }
    },
    async kill() {
      await tmux(['-L', server, 'kill-server']).catch(() => undefined);
      if (socketPath) rmSync(socketPath, { force: true });
    },
  };
  return term;
}
