// Two agent daemons as real processes (the built dist/agent.mjs) on loopback, each with its
// own config, state dir and socket, as `--node ha-a` / `--node ha-b`. No root needed.
import { spawn, type ChildProcess } from 'node:child_process';
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { resourceYaml } from './two-runtimes.js';
import { freePort, waitFor } from './wait.js';
import { existsSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';

const execFileP = promisify(execFile);
export const AGENT = resolve('dist/agent.mjs');

export interface AgentHost {
  name: 'ha-a' | 'ha-b';
  root: string;
  socket: string;
  proc?: ChildProcess;
  log: string[];
  /** Runs `drbd-agent --socket S ...args`; never throws on a non-zero exit. */
  cli(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }>;
  start(): Promise<void>;
  kill9(): void;
  stop(): Promise<void>;
}

export interface AgentPair {
  dir: string;
  a: AgentHost;
  b: AgentHost;
  close(): Promise<void>;
}

/** One daemon under dir/NAME with `yaml` as its only resource file (not started yet); daemonArgs: more `daemon` options. */
export async function agentHost(dir: string, name: 'ha-a' | 'ha-b', text: string, daemonArgs: string[] = []): Promise<AgentHost> {
  if (!existsSync(AGENT)) throw new Error(`${AGENT} is missing: run npm run build first`);
  {
    const root = join(dir, name);
    await mkdir(join(root, 'etc'), { recursive: true });
    await writeFile(join(root, 'etc', 'r0.yaml'), text, { mode: 0o600 });
    const socket = join(root, 'run', 'agent.sock');
    const h: AgentHost = {
      name,
      root,
      socket,
      log: [],
      async cli(...args) {
        try {
          const r = await execFileP(process.execPath, [AGENT, '--socket', socket, ...args], { timeout: 30000 });
          return { code: 0, stdout: r.stdout, stderr: r.stderr };
        } catch (e) {
          const err = e as { code?: number; stdout?: string; stderr?: string };
          return { code: typeof err.code === 'number' ? err.code : -1, stdout: err.stdout ?? '', stderr: err.stderr ?? '' };
        }
      },
      async start() {
        const proc = spawn(process.execPath, [...(process.env.AGENT_NODE_ARGS ? process.env.AGENT_NODE_ARGS.split(' ') : []), AGENT, 'daemon', '--config-dir', join(root, 'etc'), '--state-dir', join(root, 'var'), '--socket', socket, '--node', name, ...daemonArgs], { stdio: ['ignore', 'ignore', 'pipe'] });
        proc.stderr!.setEncoding('utf8').on('data', (d: string) => h.log.push(d));
        h.proc = proc;
        await waitFor(() => existsSync(socket) || proc.exitCode !== null, `${name} daemon socket`);
        if (proc.exitCode !== null) throw new Error(`${name} daemon exited: ${h.log.join('')}`);
      },
      kill9() {
        h.proc?.kill('SIGKILL');
      },
      async stop() {
        const p = h.proc;
        if (!p || p.exitCode !== null || p.signalCode !== null) return;
        const exited = new Promise((r) => p.once('exit', r));
        p.kill('SIGTERM');
        await Promise.race([exited, sleep(5000)]);
        if (p.exitCode === null && p.signalCode === null) p.kill('SIGKILL');
      },
    };
    return h;
  }
}

/** yamlFor: the resource file from the pair's dir and peer ports, when the default needs more (an iscsi section). */
export async function createAgentPair(opts: { size?: string; protocol?: string; yaml?: string; yamlFor?: (dir: string, portA: number, portB: number) => string } = {}): Promise<AgentPair> {
  const dir = await mkdtemp(join(tmpdir(), 'drbd-tui-agents-'));
  const text = opts.yamlFor ? opts.yamlFor(dir, await freePort('127.0.0.1'), await freePort('127.0.0.2')) : opts.yaml ?? resourceYaml({ dir, portA: await freePort('127.0.0.1'), portB: await freePort('127.0.0.2'), size: opts.size ?? '16MiB', protocol: opts.protocol });
  const pair: AgentPair = {
    dir,
    a: await agentHost(dir, 'ha-a', text),
    b: await agentHost(dir, 'ha-b', text),
    async close() {
      for (const h of [pair.a, pair.b]) {
        h.kill9();
      }
      await rm(dir, { recursive: true, force: true });
    },
  };
  await pair.a.start();
  await pair.b.start();
  return pair;
}
