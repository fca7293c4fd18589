// `drbd-tui demo`, the host side: two agent daemons as local processes (loopback peer
// addresses 127.0.0.1 / 127.0.0.2, file disks in a temp dir, --node ha-a / ha-b), each
// behind a loopback SSH endpoint with a generated host key, plus an ssh_config, known_hosts
// and identity for them — so the console reaches the demo exactly as real hosts: ssh config
// resolution, host-key check, auth, deployment check and the control channel. The resource
// comes up syncing (rate-limited so there is something to watch). Nothing goes to stdout.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, openSync, closeSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connectUnix } from '../../agent/protocol/client.js';
import type { AgentSnapshot } from '../../agent/protocol/messages.js';
import { findAgentBundle } from '../ssh/deploy.js';
import { generateEd25519 } from './keys.js';
import { startSshEndpoint, type SshEndpoint } from './ssh-endpoint.js';
import { ADMIN_SOCKET, MONITOR_SOCKET, monitorSocketPath } from '../../agent/protocol/socket-paths.js';

export const DEMO_HOSTS = ['ha-a', 'ha-b'] as const;

// Runs the agent as its child and stops it when our pipe closes (the demo's process is gone)
// or on SIGTERM/SIGINT, then exits with it.
const WATCHDOG =
  "const c=require('child_process').spawn(process.execPath,process.argv.slice(1),{stdio:['ignore','inherit','inherit']});" +
  "const stop=(s)=>{if(c.exitCode===null&&c.signalCode===null)c.kill(s)};" +
  "process.stdin.on('end',()=>stop('SIGTERM'));process.stdin.on('error',()=>stop('SIGTERM'));process.stdin.resume();" +
  "process.on('SIGTERM',()=>stop('SIGTERM'));process.on('SIGINT',()=>stop('SIGINT'));" +
  "c.on('exit',(code,sig)=>process.exit(code===null?1:code))";

export interface Demo {
  dir: string;
  sshConfigPath: string;
  knownHostsPath: string;
  identityPath: string;
  hosts: ['ha-a', 'ha-b'];
  stop(): Promise<void>;
}

export interface DemoOptions {
  /** Size of each file disk; default 256MiB (sparse). */
  diskSize?: string;
  /** Resync rate ceiling; default 4MiB (per second), so the initial sync takes about a minute. */
  syncRate?: string;
  /** dist/agent.mjs by default. */
  agentPath?: string;
}

function freePort(host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, host, () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

/** The demo's resource file (both hosts read the same text). Pure. */
export function demoResourceYaml(o: { dir: string; portA: number; portB: number; size: string; rate: string }): string {
  return `# drbd-tui demo: two hosts on loopback
resource: r0
protocol: C
net:
  shared-secret: "demo-secret-not-for-production"
  c-max-rate: ${o.rate}
  ping-timeout: 2
volumes:
  - volume: 0
    device: /dev/drbd1
    disk:
      ha-a: ${join(o.dir, 'ha-a', 'disk.img')}
      ha-b: ${join(o.dir, 'ha-b', 'disk.img')}
    size: ${o.size}
hosts:
  ha-a: { node-id: 0, address: "127.0.0.1:${o.portA}" }
  ha-b: { node-id: 1, address: "127.0.0.2:${o.portB}" }
`;
}

/** ssh_config for the demo aliases. Pure. */
export function demoSshConfig(o: { ports: [number, number]; identity: string; knownHosts: string; user: string }): string {
  return DEMO_HOSTS.map(
    (h, i) =>
      `Host ${h}\n  HostName 127.0.0.1\n  Port ${o.ports[i]}\n  User ${o.user}\n  IdentityFile ${o.identity}\n  IdentitiesOnly yes\n` +
      `  UserKnownHostsFile ${o.knownHosts}\n  GlobalKnownHostsFile /dev/null\n  StrictHostKeyChecking yes\n  ControlMaster no\n  ControlPath none\n`,
  ).join('');
}

async function waitFor(what: string, fn: () => boolean, ms = 15_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!fn()) {
    if (Date.now() > deadline) throw new Error(`demo: ${what} not within ${ms / 1000} s`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

export async function startDemo(opts: DemoOptions = {}): Promise<Demo> {
  const agent = opts.agentPath ?? findAgentBundle();
  const dir = await mkdtemp(join(tmpdir(), 'drbd-tui-demo-'));
  const procs: ChildProcess[] = [];
  const endpoints: SshEndpoint[] = [];
  // Children must not outlive us: on exit the watchdogs get SIGTERM (and pass it on); if we
  // die without running exit handlers, their stdin pipe closes and they stop the agents.
  const killAll = (): void => {
    for (const p of procs) if (p.exitCode === null && p.signalCode === null) p.kill('SIGTERM');
  };
  process.once('exit', killAll);
  let stopped = false;
  const stop = async (): Promise<void> => {
    if (stopped) return;
    stopped = true;
    await Promise.all(endpoints.map((e) => e.close().catch(() => undefined)));
    await Promise.all(
      procs.map(
        (p) =>
          new Promise<void>((resolve) => {
            if (p.exitCode !== null || p.signalCode !== null) return resolve();
            const t = setTimeout(() => p.kill('SIGKILL'), 5000);
            p.once('exit', () => {
              clearTimeout(t);
              resolve();
            });
            p.kill('SIGTERM');
          }),
      ),
    );
    process.removeListener('exit', killAll);
    await rm(dir, { recursive: true, force: true });
  };
  try {
    const [portA, portB] = [await freePort('127.0.0.1'), await freePort('127.0.0.2')];
    const yaml = demoResourceYaml({ dir, portA, portB, size: opts.diskSize ?? '256MiB', rate: opts.syncRate ?? '4MiB' });
    const sockets: string[] = [];
    for (const h of DEMO_HOSTS) {
      const root = join(dir, h);
      await mkdir(join(root, 'etc'), { recursive: true });
      await writeFile(join(root, 'etc', 'r0.yaml'), yaml);
      const socket = join(root, 'run', 'agent.sock');
      sockets.push(socket);
      const log = openSync(join(root, 'agent.log'), 'a');
      try {
        const env = { ...process.env };
        delete env.NODE_TEST_CONTEXT; // a node child would otherwise talk TAP to a test runner
        const child = spawn(process.execPath, ['-e', WATCHDOG, agent, 'daemon', '--config-dir', join(root, 'etc'), '--state-dir', join(root, 'var'), '--socket', socket, '--node', h], {
          stdio: ['pipe', log, log],
          env,
        });
        child.stdin?.on('error', () => undefined);
        procs.push(child);
      } finally {
        closeSync(log);
      }
    }
    await waitFor('agents listening', () => sockets.every((s) => existsSync(monitorSocketPath(s))) || procs.some((p) => p.exitCode !== null));
    if (procs.some((p) => p.exitCode !== null)) throw new Error(`demo: an agent exited at start; see ${dir}/ha-*/agent.log`);

    // The resource: metadata, up on both, ha-a forced Primary → the initial full sync starts.
    const clients = await Promise.all(sockets.map((s) => connectUnix(s)));
    try {
      for (const c of clients) await c.request('create-md', { resource: 'r0' });
      for (const c of clients) await c.request('up', { resource: 'r0' });
      // Promote once connected, as an operator would: forcing during the handshake can leave
      // the engine with a SyncSource whose peer never starts as SyncTarget.
      const deadline = Date.now() + 15_000;
      for (;;) {
        const snaps = await Promise.all(clients.map((c) => c.request<AgentSnapshot>('snapshot')));
        if (snaps.every((sn) => sn.resources[0]?.connections[0]?.peerDevices[0]?.replication === 'Established')) break;
        if (Date.now() > deadline) throw new Error(`demo: the two agents did not connect; see ${dir}/ha-*/agent.log`);
        await new Promise((r) => setTimeout(r, 25));
      }
      await clients[0]!.request('primary', { resource: 'r0', force: true });
    } finally {
      for (const c of clients) c.close();
    }

    const client = generateEd25519({ comment: 'drbd-tui-demo-client' });
    const identityPath = join(dir, 'id_ed25519');
    await writeFile(identityPath, client.private, { mode: 0o600 });
    const knownLines: string[] = [];
    for (const [i, h] of DEMO_HOSTS.entries()) {
      const hostKey = generateEd25519({ comment: `${h}-demo-hostkey` });
      const socket = sockets[i]!;
      const ep = await startSshEndpoint({
        hostKeyPrivate: hostKey.private,
        hostKeyPublic: hostKey.public,
        authorizedKey: client.public,
        sockets: new Map([
          [ADMIN_SOCKET, socket],
          [MONITOR_SOCKET, monitorSocketPath(socket)],
        ]),
      });
      endpoints.push(ep);
      knownLines.push(`[127.0.0.1]:${ep.port} ${hostKey.public.split(' ').slice(0, 2).join(' ')}`);
    }
    const knownHostsPath = join(dir, 'known_hosts');
    await writeFile(knownHostsPath, knownLines.join('\n') + '\n');
    const sshConfigPath = join(dir, 'ssh_config');
    // `root`: the endpoints accept any login name; root means the console uses the admin socket directly.
    await writeFile(sshConfigPath, demoSshConfig({ ports: [endpoints[0]!.port, endpoints[1]!.port], identity: identityPath, knownHosts: knownHostsPath, user: 'root' }));
    return { dir, sshConfigPath, knownHostsPath, identityPath, hosts: ['ha-a', 'ha-b'], stop };
  } catch (e) {
    await stop();
    throw e;
  }
}
