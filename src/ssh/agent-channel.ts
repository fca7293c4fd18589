// The control channel to a host's agent over an SSH connection: a forwarded stream to the
// agent's unix socket (direct-streamlocal, which OpenSSH allows by default), or, where the
// server refuses forwarding or the admin socket needs sudo, an exec bridge — a one-line
// node program that pipes the session to the socket. Then the versioned handshake.
// Read-only uses the monitor socket, on which the daemon itself refuses every change.
import type { Duplex } from 'node:stream';
import type { Client } from 'ssh2';
import { ControlClient } from '../../agent/protocol/client.js';
import { ADMIN_SOCKET, monitorSocketPath } from '../../agent/protocol/socket-paths.js';
import { PROTOCOL_VERSION, type AgentSnapshot, type HelloResult } from '../../agent/protocol/messages.js';
import { AGENT_VERSION } from '../../agent/protocol/version.js';
import { shq, sshExec } from './exec.js';


/** No daemon listens on the socket: shown as "agent not running". */
export class AgentNotRunning extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'AgentNotRunning';
  }
}

export class ChannelError extends Error {
  constructor(
    readonly kind: 'forwarding-refused' | 'permission' | 'protocol' | 'timeout' | 'bridge',
    message: string,
  ) {
    super(message);
    this.name = 'ChannelError';
  }
}

export interface ChannelOptions {
  readOnly: boolean;
  /** Admin socket path on the host (the monitor socket is derived from it). */
  socket?: string;
  /** 'auto': forward, falling back to the bridge when the server refuses forwarding. */
  transport?: 'auto' | 'forward' | 'bridge';
  /** Prefix the bridge with `sudo -n` (a non-root login reaching the root-only admin socket). */
  sudo?: boolean;
  /** Node on the host, for the bridge; `node` from PATH by default. */
  nodePath?: string;
  timeoutMs?: number;
}

export interface AgentChannel {
  client: ControlClient;
  hello: HelloResult;
  transport: 'forward' | 'bridge';
  socket: string;
  /** Resolves when the channel closes. */
  closed: Promise<void>;
  close(): void;
}

// SSH_OPEN_ADMINISTRATIVELY_PROHIBITED (RFC 4254): the server does not allow forwarding.
const ADMINISTRATIVELY_PROHIBITED = 1;

function forward(client: Client, path: string): Promise<Duplex> {
  return new Promise((resolve, reject) => {
    client.openssh_forwardOutStreamLocal(path, (err, stream) => {
      if (!err) return resolve(stream);
      const reason = (err as Error & { reason?: number }).reason;
      if (reason === ADMINISTRATIVELY_PROHIBITED) reject(new ChannelError('forwarding-refused', `the SSH server refuses unix-socket forwarding (${err.message})`));
      // OpenSSH answers "open failed" both when nothing listens and when the login may not
      // open the socket; callers only forward where permission is not in question.
      else reject(new AgentNotRunning(`no agent listening on ${path}`));
    });
  });
}

// Exit codes of the bridge: 4 nothing listens, 5 permission, 6 other.
const BRIDGE_JS =
  "const s=require('net').connect(process.argv[1]);" +
  "s.on('connect',()=>{process.stdin.pipe(s);s.pipe(process.stdout)});" +
  "s.on('error',e=>{process.stderr.write('bridge: '+e.code+'\\n');process.exit(e.code==='ENOENT'||e.code==='ECONNREFUSED'?4:e.code==='EACCES'?5:6)});" +
  "s.on('close',()=>process.exit(0));process.stdin.on('end',()=>s.end())";

/** The shell command of the exec bridge. Pure. */
export function bridgeCommand(socket: string, opts: { sudo?: boolean; nodePath?: string } = {}): string {
  return `${opts.sudo ? 'sudo -n ' : ''}${shq(opts.nodePath ?? 'node')} -e ${shq(BRIDGE_JS)} ${shq(socket)}`;
}

interface Bridge {
  stream: Duplex;
  /** The bridge's exit, with what it said on stderr. */
  exited: Promise<{ code: number | null; stderr: string }>;
}

function bridge(client: Client, socket: string, opts: ChannelOptions): Promise<Bridge> {
  return new Promise((resolve, reject) => {
    client.exec(bridgeCommand(socket, opts), (err, stream) => {
      if (err) return reject(new ChannelError('bridge', `cannot start the exec bridge: ${err.message}`));
      let stderr = '';
      stream.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
      const exited = new Promise<{ code: number | null; stderr: string }>((r) => stream.once('exit', (code: number | null) => r({ code, stderr })));
      resolve({ stream, exited });
    });
  });
}

function bridgeFailure(socket: string, r: { code: number | null; stderr: string }, sudo: boolean): Error {
  if (r.code === 4) return new AgentNotRunning(`no agent listening on ${socket}`);
  if (r.code === 5) return new ChannelError('permission', `permission denied on ${socket}: log in as root or as a user with sudo`);
  if (r.code === 127 || /not found/.test(r.stderr)) return new ChannelError('bridge', `the exec bridge needs node on the host: ${r.stderr.trim()}`);
  if (sudo && /password is required|a terminal is required/.test(r.stderr)) return new ChannelError('permission', `sudo needs a password on this host: allow passwordless sudo (NOPASSWD) for the login user, or log in as root`);
  return new ChannelError('bridge', `the exec bridge to ${socket} ended (exit ${r.code}): ${r.stderr.trim()}`);
}

/**
 * OpenSSH's "open failed" for the monitor socket, told apart: nothing listens (`e`), or the
 * login may not open it (the socket is root's and the drbd-tui group's unless the operator
 * chose otherwise: --monitor-access).
 */
async function monitorRefusal(ssh: Client, socket: string, e: AgentNotRunning): Promise<Error> {
  const probe = await sshExec(ssh, `if [ -S ${shq(socket)} ]; then if [ -w ${shq(socket)} ]; then echo open; else echo denied; fi; else echo absent; fi; id -un`, { timeoutMs: 5000 }).catch(() => undefined);
  const [verdict, user = 'USER'] = probe?.stdout.trim().split('\n') ?? [];
  if (verdict !== 'denied') return e;
  return new ChannelError(
    'permission',
    `${user} may not open the monitor socket ${socket}: add it to the drbd-tui group on the host (usermod -aG drbd-tui ${user}), or start the agent with --monitor-access world`,
  );
}

function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    p,
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new ChannelError('timeout', `${what}: no answer within ${ms} ms`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

/** Opens the channel and completes the handshake; rejects with AgentNotRunning when no daemon listens. */
export async function openAgentChannel(ssh: Client, opts: ChannelOptions): Promise<AgentChannel> {
  const admin = opts.socket ?? ADMIN_SOCKET;
  const socket = opts.readOnly ? monitorSocketPath(admin) : admin;
  const timeoutMs = opts.timeoutMs ?? 10_000;
  let stream: Duplex;
  let transport: AgentChannel['transport'] = 'forward';
  let bridgeExit: Bridge['exited'] | undefined;
  let bridgeSudo = false;
  const wantBridge = opts.transport === 'bridge' || (!opts.readOnly && opts.sudo === true);
  if (!wantBridge) {
    try {
      stream = await withTimeout(forward(ssh, socket), timeoutMs, 'opening the control channel');
    } catch (e) {
      const refused = e instanceof AgentNotRunning && opts.readOnly ? await monitorRefusal(ssh, socket, e) : e;
      // A login with sudo may take the monitor socket through sudo where the socket's group
      // leaves it out; the socket still refuses every method that changes state.
      const viaSudo = refused instanceof ChannelError && refused.kind === 'permission' && opts.sudo === true && opts.transport !== 'forward';
      if (!viaSudo && (!(refused instanceof ChannelError && refused.kind === 'forwarding-refused') || opts.transport === 'forward')) throw refused;
      bridgeSudo = viaSudo;
      transport = 'bridge';
    }
  } else transport = 'bridge';
  if (transport === 'bridge') {
    const b = await bridge(ssh, socket, { ...opts, sudo: opts.readOnly ? bridgeSudo : opts.sudo });
    stream = b.stream;
    bridgeExit = b.exited;
  }
  const client = new ControlClient(stream!);
  const closed = new Promise<void>((r) => stream.once('close', () => r()));
  try {
    const hello = await withTimeout(
      (async () => {
        const helloP = client.request<HelloResult>('hello', { client: `drbd-tui ${AGENT_VERSION}`, protocol: PROTOCOL_VERSION });
        if (!bridgeExit) return helloP;
        // A bridge that could not reach the socket exits; say why rather than "channel closed".
        return Promise.race([helloP, bridgeExit.then((r) => Promise.reject(bridgeFailure(socket, r, opts.sudo === true)))]);
      })(),
      timeoutMs,
      'agent handshake',
    );
    if (hello.protocol !== PROTOCOL_VERSION) {
      throw new ChannelError('protocol', `agent ${hello.agentVersion} speaks control protocol ${hello.protocol}, this console speaks ${PROTOCOL_VERSION}: update one of them`);
    }
    return { client, hello, transport, socket, closed, close: () => client.close() };
  } catch (e) {
    client.close();
    if (bridgeExit && !(e instanceof AgentNotRunning || e instanceof ChannelError)) {
      const r = await Promise.race([bridgeExit, new Promise<undefined>((res) => setTimeout(() => res(undefined), 500).unref())]);
      if (r) throw bridgeFailure(socket, r, opts.sudo === true);
    }
    throw e;
  }
}

/** Whether a host is busy serving: Primary with initiators logged in (never restart it silently). */
export function busyResources(s: AgentSnapshot): string[] {
  return s.resources.filter((r) => r.role === 'Primary' && (r.target?.sessions.length ?? 0) > 0).map((r) => `${r.name} (Primary, ${r.target!.sessions.length} iSCSI session(s))`);
}
