// One long-lived `drbdsetup events2 --full --statistics --timestamps` (issue 23: a stream, not
// polling), folded into the AgentSnapshot as it speaks. When drbdsetup ends it is started again
// after a backoff (agent/lib/backoff.ts: doubling from 100 ms to 5 s while runs end before their
// dump, reset by a run that completed it), and the model is rebuilt from the new run's `exists` dump:
// nothing of the old model survives a restart, so an object destroyed meanwhile cannot linger.
//
// Events: 'snapshot' (AgentSnapshot) once a dump is complete and after every later chunk of
// lines that changed it; 'exit' (StreamExit) when a run ends and the next is scheduled. Until the
// next dump completes the last snapshot emitted stays the truth as far as consumers know.
import { spawn, type ChildProcess } from 'node:child_process';
import { EventEmitter } from 'node:events';
import type { AgentSnapshot } from '../protocol/messages.js';
import { backoffStep, checkBounds, DEFAULT_BACKOFF, type BackoffBounds } from '../lib/backoff.js';
import { emptyKernelState, foldKernelLine, restarted, type KernelFoldState } from './events2-fold.js';

export const EVENTS2_COMMAND: readonly string[] = ['drbdsetup', 'events2', '--full', '--statistics', '--timestamps'];

/** A line longer than this is not events2 (the longest real ones are a few hundred bytes): it is dropped, not buffered. */
const MAX_LINE = 1 << 20;
/** How much of drbdsetup's stderr an exit reports. */
const STDERR_KEPT = 4096;

export interface Events2StreamOptions {
  node: string;
  agentVersion: string;
  /** The program and its arguments; EVENTS2_COMMAND unless a test or a site says otherwise. */
  command?: readonly string[];
  env?: NodeJS.ProcessEnv;
  backoff?: BackoffBounds;
  /** Jitter source in [0, 1). */
  random?: () => number;
}

export interface StreamExit {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** Why it could not start (ENOENT: drbd-utils not installed), if it did not. */
  error?: string;
  /** The end of what it wrote to stderr. */
  stderr: string;
  /** It had completed its dump. */
  dumped: boolean;
  /** When the next run starts. */
  restartInMs: number;
}

export interface Events2StreamEvents {
  snapshot: [AgentSnapshot];
  exit: [StreamExit];
}

export class KernelEvents2Stream extends EventEmitter<Events2StreamEvents> {
  private fold: KernelFoldState;
  /** The base of the next restart's delay. */
  private backoffMs: number;
  private child: ChildProcess | undefined;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private stopped = true;
  private readonly command: readonly string[];
  private readonly bounds: BackoffBounds;

  constructor(private readonly opts: Events2StreamOptions) {
    super();
    this.command = opts.command ?? EVENTS2_COMMAND;
    if (this.command.length === 0) throw new RangeError('the events2 command is empty: give the drbdsetup program and its arguments');
    this.bounds = opts.backoff ?? DEFAULT_BACKOFF;
    checkBounds(this.bounds);
    this.backoffMs = this.bounds.initialMs;
    this.fold = emptyKernelState(opts.node, opts.agentVersion);
  }

  /** The model as folded so far (not ready while a dump is under way). */
  get state(): KernelFoldState {
    return this.fold;
  }

  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    this.run();
  }

  /** Ends the current run and schedules no other; resolves when drbdsetup has exited. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const closed = new Promise<void>((resolve) => child.once('close', () => resolve()));
    child.kill('SIGTERM');
    await closed;
  }

  private run(): void {
    this.fold = restarted(this.fold);
    const [program, ...args] = this.command;
    const child = spawn(program!, args, { env: this.opts.env, stdio: ['ignore', 'pipe', 'pipe'] });
    this.child = child;
    let buffered = '';
    let stderr = '';
    let startError: string | undefined;
    let ended = false;
    child.stdout!.setEncoding('utf8');
    child.stderr!.setEncoding('utf8');
    child.stdout!.on('data', (chunk: string) => {
      buffered += chunk;
      const parts = buffered.split('\n');
      buffered = parts.pop()!;
      if (buffered.length > MAX_LINE) buffered = '';
      this.feed(parts);
    });
    child.stderr!.on('data', (chunk: string) => {
      stderr = (stderr + chunk).slice(-STDERR_KEPT);
    });
    const end = (code: number | null, signal: NodeJS.Signals | null) => {
      if (ended) return;
      ended = true;
      if (this.child === child) this.child = undefined;
      if (this.stopped) return;
      const dumped = this.fold.ready;
      // A run that completed its dump worked: the next starts from the first delay again.
      const { delayMs: restartInMs, nextMs } = backoffStep(dumped ? this.bounds.initialMs : this.backoffMs, this.bounds, (this.opts.random ?? Math.random)());
      this.backoffMs = nextMs;
      this.emit('exit', { code, signal, ...(startError ? { error: startError } : {}), stderr: stderr.trim(), dumped, restartInMs });
      this.timer = setTimeout(() => {
        this.timer = undefined;
        if (!this.stopped) this.run();
      }, restartInMs);
    };
    child.on('error', (err) => {
      startError = err.message;
      // A process that never started emits no 'close' of its own on every Node version.
      if (child.pid === undefined) end(null, null);
    });
    child.on('close', end);
  }

  private feed(lines: string[]): void {
    const before = this.fold;
    const wasReady = before.ready;
    for (const line of lines) this.fold = foldKernelLine(this.fold, line);
    if (!this.fold.ready) return;
    // The first complete dump of a run proves drbdsetup works: the backoff starts over.
    if (!wasReady) this.backoffMs = this.bounds.initialMs;
    if (!wasReady || this.fold.snapshot !== before.snapshot) this.emit('snapshot', this.fold.snapshot);
  }
}
