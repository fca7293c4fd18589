// One lab host: a network namespace plus a long-lived "init" process that owns the host's
// UTS namespace (its `uname -n`) and private mount namespace (its own /etc/drbd-tui, ...).
// Every process of the host, sshd included, is started inside those namespaces with
// `nsenter -t INIT`, so sessions and the daemons they start all see the same host.
import { spawn, type ChildProcess, type StdioOptions } from 'node:child_process';
import { closeSync, mkdirSync, openSync, readFileSync } from 'node:fs';
import { join, posix } from 'node:path';
import type { HostNames } from './names.js';
import { killNetnsProcesses, netnsInode, pidsInNetns, processExe, setLink } from './netns.js';
import { SSHD, type SshdFiles } from './ssh-files.js';
import { setTimeout as sleep } from 'node:timers/promises';

export interface HostDirs {
  /** Real path backing the host's /etc/drbd-tui. */
  etc: string;
  /** Real path backing the host's /var/lib/drbd-tui. */
  state: string;
  /** Real path backing the host's /run/drbd-tui. */
  run: string;
  /** Directory under which every private dir lives at its in-host path (root + '/etc/drbd-tui'). */
  root: string;
}

export interface HostSpawnOptions {
  env?: NodeJS.ProcessEnv;
  /** Working directory inside the host (default `/`). */
  cwd?: string;
  stdio?: StdioOptions;
  detached?: boolean;
}

export interface HostExecOptions {
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  input?: string | Buffer;
  /** Kill the command and reject after this long (default 30 s). */
  timeoutMs?: number;
}

export interface HostExecResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

// /usr/local/sbin: a deploy links drbd-agent there (src/ssh/deploy.ts); shared, two hosts and
// parallel labs would swap each other's link, and the machine would keep one.
export const DEFAULT_PRIVATE_DIRS = ['/etc/drbd-tui', '/var/lib/drbd-tui', '/run/drbd-tui', '/usr/local/sbin'] as const;

const SSHD_EXES = new Set(['sshd', 'sshd-session', 'sshd-auth']);

// $1 = host name, then pairs of (real dir, in-host dir). Unmounting /run/netns drops this
// namespace's copies of every named netns, which would otherwise pin other labs' namespaces
// (and this lab's peer) alive after `ip netns del`. `$$` is the pid that `exec sleep`
// keeps: the nsenter target.
const INIT_SCRIPT = `set -e
printf %s "$1" > /proc/sys/kernel/hostname; shift
for m in $(awk '$5 ~ "^/run/netns" { print $5 }' /proc/self/mountinfo | sort -r); do umount -l "$m" 2>/dev/null || true; done
mkdir -p /run/sshd
while [ $# -gt 0 ]; do mount --bind "$1" "$2"; shift 2; done
echo "ready $$"
exec sleep infinity
`;

/** The test's environment minus node:test's own marker, which would make a node child talk TAP-over-IPC. */
function hostEnv(): NodeJS.ProcessEnv {
  const env = { ...process.env };
  delete env.NODE_TEST_CONTEXT;
  return env;
}

export class LabHost {
  readonly name: string;
  readonly address: string;
  readonly netns: string;
  /** Root-namespace end of the host's link (what cutLink toggles). */
  readonly veth: string;
  readonly dirs: HostDirs;
  readonly privateDirs: readonly string[];

  readonly #logDir: string;
  readonly #sshdFiles: SshdFiles | undefined;
  readonly #etcHosts: string;
  readonly #tracked = new Set<ChildProcess>();
  #initPid: number | undefined;
  #sshd: ChildProcess | undefined;
  #linkCut = false;
  #darkWhileOff = false;

  /** `etcHosts`: a file bind-mounted over the host's /etc/hosts (names of both lab hosts). */
  constructor(names: HostNames, dataDir: string, privateDirs: readonly string[], sshdFiles: SshdFiles | undefined, etcHosts: string) {
    this.name = names.name;
    this.address = names.address;
    this.netns = names.netns;
    this.veth = names.veth;
    this.privateDirs = privateDirs;
    const root = join(dataDir, 'fs');
    this.dirs = {
      root,
      etc: join(root, '/etc/drbd-tui'),
      state: join(root, '/var/lib/drbd-tui'),
      run: join(root, '/run/drbd-tui'),
    };
    this.#logDir = join(dataDir, 'log');
    this.#sshdFiles = sshdFiles;
    this.#etcHosts = etcHosts;
    mkdirSync(this.#logDir, { recursive: true });
    for (const d of privateDirs) mkdirSync(join(root, d), { recursive: true });
  }

  get poweredOn(): boolean {
    return this.#initPid !== undefined;
  }
  get linkCut(): boolean {
    return this.#linkCut;
  }
  /** The pid of the host's init (the nsenter target), undefined while powered off. */
  get initPid(): number | undefined {
    return this.#initPid;
  }
  get sshdPid(): number | undefined {
    return this.#sshd?.pid;
  }

  /** The real path of an in-host path under one of the private dirs; other paths are shared and returned as is. */
  realPath(inHost: string): string {
    const p = posix.normalize(inHost);
    const owner = this.privateDirs.find((d) => p === d || p.startsWith(d + '/'));
    return owner ? join(this.dirs.root, p) : p;
  }

  /** Starts a process inside the host (its network, hostname and mounts). */
  spawn(argv: readonly string[], opts: HostSpawnOptions = {}): ChildProcess {
    const pid = this.#initPid;
    if (pid === undefined) throw new Error(`${this.name} is powered off`);
    if (argv.length === 0) throw new Error('spawn: empty argv');
    const args = ['-t', String(pid), '--net', '--uts', '--mount', `--wd=${opts.cwd ?? '/'}`, '--', ...argv];
    const child = spawn('nsenter', args, {
      env: opts.env ?? hostEnv(),
      stdio: opts.stdio ?? 'pipe',
      detached: opts.detached ?? false,
    });
    this.#tracked.add(child);
    child.once('exit', () => this.#tracked.delete(child));
    child.once('error', () => this.#tracked.delete(child));
    return child;
  }

  /** Runs a command inside the host to completion. Rejects on timeout (after killing it). */
  exec(argv: readonly string[], opts: HostExecOptions = {}): Promise<HostExecResult> {
    const timeoutMs = opts.timeoutMs ?? 30_000;
    return new Promise((resolve, reject) => {
      let child: ChildProcess;
      try {
        child = this.spawn(argv, { env: opts.env, cwd: opts.cwd, stdio: ['pipe', 'pipe', 'pipe'] });
      } catch (err) {
        return reject(err);
      }
      const out: Buffer[] = [];
      const err: Buffer[] = [];
      child.stdout?.on('data', (b: Buffer) => out.push(b));
      child.stderr?.on('data', (b: Buffer) => err.push(b));
      child.stdin?.on('error', () => {}); // the command may not read its input
      child.stdin?.end(opts.input);
      const timer = setTimeout(() => {
        child.kill('SIGKILL');
        const so = Buffer.concat(out).toString().slice(-2000);
        const se = Buffer.concat(err).toString().slice(-2000);
        reject(new Error(`${this.name}: '${argv.join(' ')}' timed out after ${timeoutMs} ms\nstdout: ${so}\nstderr: ${se}`));
      }, timeoutMs);
      child.once('error', (e) => {
        clearTimeout(timer);
        reject(e);
      });
      child.once('close', (code, signal) => {
        clearTimeout(timer);
        resolve({ code, signal, stdout: Buffer.concat(out).toString(), stderr: Buffer.concat(err).toString() });
      });
    });
  }

  /** Live pids of the host (every process in its network namespace). */
  pids(): number[] {
    const inode = netnsInode(this.netns);
    return inode === undefined ? [] : pidsInNetns(inode);
  }

  /** What sshd logged (it runs with -e) across all its starts. */
  sshdLog(): string {
    try {
      return readFileSync(join(this.#logDir, 'sshd.log'), 'utf8');
    } catch {
      return '';
    }
  }

  async startSshd(): Promise<void> {
    if (!this.#sshdFiles) throw new Error(`${this.name}: lab created without sshd`);
    if (this.#sshd && this.#sshd.exitCode === null && this.#sshd.signalCode === null) {
      throw new Error(`${this.name}: sshd already running (pid ${this.#sshd.pid})`);
    }
    const logPath = join(this.#logDir, 'sshd.log');
    const from = this.sshdLog().length;
    const fd = openSync(logPath, 'a');
    let child: ChildProcess;
    try {
      child = this.spawn([SSHD, '-D', '-e', '-f', this.#sshdFiles.config], { stdio: ['ignore', fd, fd], detached: true });
    } finally {
      closeSync(fd);
    }
    child.unref();
    this.#sshd = child;
    let exited = false;
    child.once('exit', () => {
      exited = true;
    });
    const deadline = Date.now() + 10_000;
    while (Date.now() < deadline) {
      const log = this.sshdLog().slice(from);
      if (log.includes('Server listening on')) return;
      if (exited) throw new Error(`${this.name}: sshd exited at start:\n${log}`);
      await sleep(5);
    }
    throw new Error(`${this.name}: sshd not listening after 10 s:\n${this.sshdLog().slice(from)}`);
  }

  /**
   * Takes sshd away. By default its sessions die with it, as when sshd crashes or the
   * whole service is killed; `keepSessions` stops only the listener (like `systemctl stop
   * ssh` on Debian). Processes started from sessions (daemons) keep running either way.
   */
  async stopSshd(opts: { keepSessions?: boolean } = {}): Promise<void> {
    const child = this.#sshd;
    this.#sshd = undefined;
    if (opts.keepSessions) {
      if (child && child.exitCode === null && child.signalCode === null) {
        const gone = new Promise<void>((r) => child.once('exit', () => r()));
        child.kill('SIGTERM');
        await gone;
      }
      return;
    }
    killNetnsProcesses(this.netns, (pid) => SSHD_EXES.has(processExe(pid) ?? ''));
  }

  /**
   * Pulls the plug: every process of the host is SIGKILLed (the private dirs persist, as
   * disks do). By default the host's link goes dark first, so peers see silence and
   * time out rather than receiving resets, exactly as with a real power loss; with
   * `silent: false` the kernel closes the dead processes' sockets and peers see FIN/RST at
   * once (a crash of every process rather than of the machine).
   */
  async powerOff(opts: { silent?: boolean } = {}): Promise<void> {
    if (!this.poweredOn) throw new Error(`${this.name} is already powered off`);
    this.#darkWhileOff = opts.silent ?? true;
    this.#initPid = undefined;
    this.#sshd = undefined;
    this.#applyLink();
    killNetnsProcesses(this.netns);
    await sleep(0); // let child 'exit' events of the killed processes run
  }

  /** Boots the host again: init (hostname, private mounts), sshd, then the link. */
  async powerOn(): Promise<void> {
    if (this.poweredOn) throw new Error(`${this.name} is already powered on`);
    try {
      await this.#startInit();
      if (this.#sshdFiles) await this.startSshd();
    } catch (err) {
      // A half-booted host would confuse the next test step more than a dead one.
      this.#initPid = undefined;
      this.#sshd = undefined;
      killNetnsProcesses(this.netns);
      throw err;
    }
    this.#darkWhileOff = false;
    this.#applyLink();
  }

  /** Link down: nothing gets in or out (host to test process and host to host). */
  cutLink(): void {
    this.#linkCut = true;
    this.#applyLink();
  }

  restoreLink(): void {
    this.#linkCut = false;
    this.#applyLink();
  }

  /** Kills everything of this host at once (teardown; synchronous for exit handlers). */
  killAllSync(): void {
    this.#initPid = undefined;
    this.#sshd = undefined;
    killNetnsProcesses(this.netns);
  }

  #applyLink(): void {
    const dark = this.#linkCut || (!this.poweredOn && this.#darkWhileOff);
    setLink(this.veth, !dark);
  }

  async #startInit(): Promise<void> {
    for (const d of this.privateDirs) mkdirSync(d, { recursive: true }); // mount points
    const pairs = [...this.privateDirs.flatMap((d) => [join(this.dirs.root, d), d]), this.#etcHosts, '/etc/hosts'];
    const fd = openSync(join(this.#logDir, 'init.log'), 'a');
    let child: ChildProcess;
    try {
      child = spawn(
        'ip',
        ['netns', 'exec', this.netns, 'unshare', '--uts', '--mount', '--propagation', 'private', '--',
          'sh', '-c', INIT_SCRIPT, 'lab-init', this.name, ...pairs],
        { stdio: ['ignore', 'pipe', fd], detached: true },
      );
    } finally {
      closeSync(fd);
    }
    this.#initPid = await new Promise<number>((resolve, reject) => {
      let buf = '';
      const fail = (why: string): void => {
        clearTimeout(timer);
        let log = '';
        try {
          log = readFileSync(join(this.#logDir, 'init.log'), 'utf8').slice(-2000);
        } catch {
          // no log yet
        }
        reject(new Error(`${this.name}: host init ${why}\n${log}`));
      };
      const timer = setTimeout(() => {
        child.kill('SIGKILL');
        fail('not ready after 10 s');
      }, 10_000);
      child.once('error', (e) => fail(`could not start: ${e.message}`));
      child.once('exit', (code, signal) => fail(`exited (${signal ?? code})`));
      child.stdout?.on('data', (b: Buffer) => {
        buf += b.toString();
        const m = /^ready (\d+)$/m.exec(buf);
        if (!m) return;
        clearTimeout(timer);
        child.removeAllListeners('exit');
        child.stdout?.destroy();
        child.unref();
        const pid = Number(m[1]);
        // Normally the spawned pid is the init itself (everything execs); if it dies, the host is off.
        if (child.pid === pid) {
          child.once('exit', () => {
            if (this.#initPid === pid) this.#initPid = undefined;
          });
        }
        resolve(pid);
      });
    });
  }
}
