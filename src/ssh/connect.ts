// Connecting to a host alias the way the operator's own `ssh ALIAS` would: the alias
// resolved by OpenSSH (`ssh -G`, or our reader of ssh_config where no ssh binary exists),
// ProxyJump through ssh2 forwardOut, the host key checked against known_hosts with
// OpenSSH's rules and wording (ssh2 accepts any key unless told otherwise), then ssh-agent
// and identity files (asking for passphrases through a hook). One attempt, no retries:
// reconnecting is host-connection.ts's job, and it needs errors classified by kind.
import { appendFile, mkdir, readFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import ssh2, { type AnyAuthMethod, type AuthenticationType, type ConnectConfig, type ParsedKey } from 'ssh2';
import type { Duplex } from 'node:stream';
import { readKnownHostsFiles } from './known-hosts-files.js';
import { blobKeyType, checkHostKey, keyTypeLabel, knownHostsLines, type HostKeyVerdict } from './known-hosts.js';
import { parseSshG, resolveSshConfig, type ResolvedSshConfig } from './ssh-config.js';
import { sshGFromConfigFiles } from './ssh-config-file.js';

// ssh2 is CommonJS: in native ESM only the default export carries Client and utils.
const { Client, utils } = ssh2;
type Client = InstanceType<typeof Client>;

/** host-key and auth failures are never retried; network failures are. */
export type SshErrorKind = 'host-key' | 'auth' | 'network' | 'config';

export class SshConnectError extends Error {
  constructor(
    readonly kind: SshErrorKind,
    message: string,
    readonly alias: string,
    /** For host-key errors: what the server presented. */
    readonly hostKey?: { fingerprint: string; keyType: string; verdict: HostKeyVerdict['status'] },
  ) {
    super(message);
    this.name = 'SshConnectError';
  }
}

/** Whether a failed attempt may be retried: only network trouble heals by itself. */
export function isRetryable(e: unknown): boolean {
  return e instanceof SshConnectError ? e.kind === 'network' : !(e instanceof Error && /authentication|host key|verification/i.test(e.message));
}

export interface UnknownHost {
  alias: string;
  /** The name looked up in known_hosts (HostKeyAlias or HostName). */
  host: string;
  port: number;
  keyType: string;
  fingerprint: string;
  /** OpenSSH's "authenticity of host ... can't be established" text. */
  message: string;
}

export interface ConnectOptions {
  /** `-F FILE` */
  configFile?: string;
  /** `-i FILE`: tried before the config's identity files. */
  identityFile?: string;
  /** Asked when the host key is unknown and StrictHostKeyChecking is `ask`; true records the key in known_hosts. Absent: fail with the fingerprint. */
  onUnknownHost?: (h: UnknownHost) => Promise<boolean>;
  /** Asked for an encrypted identity file; undefined skips that key. */
  onPassphrase?: (keyPath: string, attempt: number) => Promise<string | undefined>;
  /** ssh-agent socket; default SSH_AUTH_SOCK; false: no agent. */
  agentSocket?: string | false;
  /** Handshake timeout; default ConnectTimeout from the config, else 15 s. */
  readyTimeoutMs?: number;
  /** Default ServerAliveInterval from the config, else 5 s. */
  keepaliveIntervalMs?: number;
  keepaliveCountMax?: number;
  /** Resolver override (tests); default ssh -G, falling back to reading ssh_config. */
  resolve?: (alias: string, configFile?: string) => Promise<ResolvedSshConfig>;
}

export interface SshSession {
  alias: string;
  config: ResolvedSshConfig;
  client: Client;
  /** Time from TCP connect start to authenticated, ms. */
  connectMs: number;
  /** Resolves when the connection (or a jump host under it) is gone, with the reason if any. */
  closed: Promise<Error | undefined>;
  close(): void;
}

/** `ssh -G` where an ssh binary exists, else our ssh_config reader. */
export async function resolveHost(alias: string, configFile?: string): Promise<ResolvedSshConfig> {
  try {
    return await resolveSshConfig(alias, { configFile });
  } catch (e) {
    if (!/ENOENT/.test((e as Error).message) || /No such file or directory/.test((e as Error).message)) {
      throw new SshConnectError('config', (e as Error).message, alias);
    }
    return parseSshG(await sshGFromConfigFiles(alias, configFile), alias);
  }
}

export interface JumpSpec {
  user?: string;
  host: string;
  port?: number;
}

/** ProxyJump `[user@]host[:port][,...]` (also `ssh://user@host:port`). Pure. */
export function parseProxyJump(value: string): JumpSpec[] {
  return value
    .split(',')
    .map((s) => s.trim().replace(/^ssh:\/\//, ''))
    .filter((s) => s !== '' && s !== 'none')
    .map((s) => {
      const at = s.lastIndexOf('@');
      const user = at >= 0 ? s.slice(0, at) : undefined;
      const rest = at >= 0 ? s.slice(at + 1) : s;
      const m = /^\[([^\]]+)\](?::(\d+))?$/.exec(rest) ?? /^([^:]+)(?::(\d+))?$/.exec(rest);
      if (!m) throw new Error(`bad ProxyJump entry '${s}'`);
      return { user, host: m[1] ?? rest, port: m[2] ? Number(m[2]) : undefined };
    });
}

function unknownHostHelp(cfg: ResolvedSshConfig, host: string, keyType: string): string {
  const file = cfg.userKnownHostsFiles[0] ?? '~/.ssh/known_hosts';
  const portArg = cfg.port === 22 ? '' : `-p ${cfg.port} `;
  return (
    `Host key verification failed: no key for ${host} in ${file} and drbd-tui is not interactive here.\n` +
    `Compare the fingerprint with the host's own (on ${cfg.alias}: ssh-keygen -lf /etc/ssh/ssh_host_${keyTypeLabel(keyType).toLowerCase()}_key.pub), then either\n` +
    `  connect once with: ssh ${cfg.alias}   (and answer yes), or\n` +
    `  add it with:       ssh-keyscan ${portArg}-t ${keyType} ${cfg.hostname} >> ${file}`
  );
}

async function recordHostKey(cfg: ResolvedSshConfig, names: string[], key: Buffer): Promise<void> {
  const file = cfg.userKnownHostsFiles[0];
  if (!file) throw new Error('no UserKnownHostsFile to record the host key in');
  const hash = (cfg.raw.get('hashknownhosts')?.[0] ?? 'no') === 'yes';
  const lines = knownHostsLines(names, cfg.port, key, { hash });
  await mkdir(dirname(file), { recursive: true, mode: 0o700 });
  let prefix = '';
  try {
    const text = await readFile(file, 'utf8');
    if (text.length > 0 && !text.endsWith('\n')) prefix = '\n';
  } catch {
    // a new file
  }
  await appendFile(file, prefix + lines.join('\n') + '\n', { mode: 0o600 });
}

interface AuthPlan {
  next(): Promise<AnyAuthMethod | false>;
  tried: string[];
}

/** BatchMode yes: OpenSSH never prompts (no host-key question, no passphrase). */
function batchMode(cfg: ResolvedSshConfig): boolean {
  const v = cfg.raw.get('batchmode')?.[0];
  return v === 'yes' || v === 'true';
}

function authPlan(cfg: ResolvedSshConfig, opts: ConnectOptions): AuthPlan {
  const onPassphrase = batchMode(cfg) ? undefined : opts.onPassphrase;
  const agent = opts.agentSocket === false ? undefined : (opts.agentSocket ?? process.env.SSH_AUTH_SOCK);
  const files = [...new Set([...(opts.identityFile ? [opts.identityFile] : []), ...cfg.identityFiles])];
  const steps: Array<() => Promise<AnyAuthMethod | undefined>> = [];
  const tried: string[] = [];
  // IdentitiesOnly: OpenSSH still asks the agent, but only for those keys; we keep it simple
  // and skip the agent unless no usable file is configured.
  if (agent && (!cfg.identitiesOnly || files.length === 0)) {
    steps.push(async () => {
      tried.push('ssh-agent');
      return { type: 'agent', username: cfg.user, agent };
    });
  }
  for (const file of files) {
    steps.push(async () => {
      let data: Buffer;
      try {
        data = await readFile(file);
      } catch {
        return undefined; // OpenSSH silently skips identity files that do not exist
      }
      let key = utils.parseKey(data);
      for (let attempt = 1; key instanceof Error && /passphrase|encrypted/i.test(key.message) && onPassphrase && attempt <= 3; attempt++) {
        const pass = await onPassphrase(file, attempt);
        if (pass === undefined) return undefined;
        key = utils.parseKey(data, pass);
      }
      if (key instanceof Error) return undefined;
      tried.push(file);
      const parsed: ParsedKey = Array.isArray(key) ? (key[0] as ParsedKey) : key;
      return { type: 'publickey', username: cfg.user, key: parsed };
    });
  }
  return {
    tried,
    async next() {
      while (steps.length > 0) {
        const m = await steps.shift()!();
        if (m) return m;
      }
      return false;
    },
  };
}

function classify(err: Error & { level?: string }, alias: string, cfg: ResolvedSshConfig, tried: string[]): SshConnectError {
  if (err instanceof SshConnectError) return err;
  const where = `${cfg.user}@${cfg.hostname}${cfg.port === 22 ? '' : `:${cfg.port}`}`;
  if (err.level === 'client-authentication') {
    const what = tried.length > 0 ? `tried ${tried.join(', ')}` : 'no usable identity (no SSH_AUTH_SOCK agent, no readable IdentityFile)';
    return new SshConnectError('auth', `${where}: Permission denied (publickey): ${what}`, alias);
  }
  if (err.level === 'client-timeout') return new SshConnectError('network', `${where}: connection timed out`, alias);
  if (err.level === 'client-dns') return new SshConnectError('network', `ssh: Could not resolve hostname ${cfg.hostname}: ${err.message}`, alias);
  const code = (err as NodeJS.ErrnoException).code;
  if (code === 'ECONNREFUSED') return new SshConnectError('network', `ssh: connect to host ${cfg.hostname} port ${cfg.port}: Connection refused`, alias);
  if (code === 'EHOSTUNREACH' || code === 'ENETUNREACH') return new SshConnectError('network', `ssh: connect to host ${cfg.hostname} port ${cfg.port}: No route to host`, alias);
  return new SshConnectError('network', `${where}: ${err.message}`, alias);
}

interface AttemptResult {
  client: Client;
  unknown?: { key: Buffer; verdict: Extract<HostKeyVerdict, { status: 'unknown' }> };
}

/** One handshake to cfg (directly, or over `sock` from a jump host). */
async function attempt(cfg: ResolvedSshConfig, opts: ConnectOptions, sock: Duplex | undefined): Promise<AttemptResult> {
  const entries = await readKnownHostsFiles([...cfg.userKnownHostsFiles, ...cfg.globalKnownHostsFiles]);
  const keyHost = cfg.hostKeyAlias ?? cfg.hostname;
  const plan = authPlan(cfg, opts);
  const client = new Client();
  let rejected: SshConnectError | undefined;
  let unknown: AttemptResult['unknown'];
  const strict = cfg.strictHostKeyChecking;
  const config: ConnectConfig = {
    host: cfg.hostname,
    port: cfg.port,
    username: cfg.user,
    sock,
    readyTimeout: opts.readyTimeoutMs ?? (cfg.connectTimeout !== undefined ? cfg.connectTimeout * 1000 : 15_000),
    keepaliveInterval: opts.keepaliveIntervalMs ?? (cfg.serverAliveInterval > 0 ? cfg.serverAliveInterval * 1000 : 5000),
    keepaliveCountMax: opts.keepaliveCountMax ?? cfg.serverAliveCountMax,
    hostVerifier: (key: Buffer): boolean => {
      const verdict = checkHostKey(entries, keyHost, cfg.port, key);
      const keyType = blobKeyType(key) ?? 'unknown';
      switch (verdict.status) {
        case 'match':
          return true;
        case 'changed':
        case 'revoked':
          // Never accepted, whatever StrictHostKeyChecking says.
          rejected = new SshConnectError('host-key', `${verdict.warning}\nHost key for ${keyHost} has changed and drbd-tui refuses to connect (as ssh does with StrictHostKeyChecking).`, cfg.alias, {
            fingerprint: verdict.fingerprint,
            keyType,
            verdict: verdict.status,
          });
          return false;
        case 'unknown':
          if (strict === 'no' || strict === 'off' || strict === 'accept-new') {
            unknown = { key, verdict };
            return true;
          }
          unknown = { key, verdict };
          rejected = new SshConnectError(
            'host-key',
            strict === 'yes'
              ? `${verdict.message}\nNo ${keyTypeLabel(keyType)} host key is known for ${keyHost} and you have requested strict checking (StrictHostKeyChecking yes).\nHost key verification failed.`
              : `${verdict.message}\n${unknownHostHelp(cfg, keyHost, keyType)}`,
            cfg.alias,
            { fingerprint: verdict.fingerprint, keyType, verdict: 'unknown' },
          );
          return false;
      }
    },
    authHandler: ((_left: AuthenticationType[], _partial: boolean, next: (m: AnyAuthMethod | false) => void) => {
      plan.next().then(next, () => next(false));
    }) as unknown as ConnectConfig['authHandler'],
  };
  return new Promise((resolve, reject) => {
    const onError = (err: Error): void => {
      client.end();
      reject(rejected ?? classify(err, cfg.alias, cfg, plan.tried));
    };
    client.once('error', onError);
    client.once('ready', () => {
      client.removeListener('error', onError);
      client.on('error', () => undefined); // later errors end in 'close', which callers watch
      resolve({ client, unknown: rejected ? undefined : unknown });
    });
    client.connect(config);
  });
}

function forwardThrough(jump: Client, host: string, port: number, alias: string): Promise<Duplex> {
  return new Promise((resolve, reject) => {
    jump.forwardOut('127.0.0.1', 0, host, port, (err, stream) => {
      if (err) reject(new SshConnectError('network', `ProxyJump: cannot reach ${host}:${port} through the jump host: ${err.message}`, alias));
      else resolve(stream);
    });
  });
}

async function connectResolved(cfg: ResolvedSshConfig, opts: ConnectOptions, sock: Duplex | undefined, openSock?: () => Promise<Duplex>): Promise<Client> {
  try {
    const r = await attempt(cfg, opts, sock);
    if (r.unknown) await recordHostKey(cfg, [cfg.hostKeyAlias ?? cfg.hostname], r.unknown.key); // accept-new / no
    return r.client;
  } catch (e) {
    const err = e as SshConnectError;
    // An unknown key under `ask`: the operator decides with the connection closed (a prompt
    // may outlast any handshake timeout), and on yes we record it and connect again.
    if (err instanceof SshConnectError && err.hostKey?.verdict === 'unknown' && cfg.strictHostKeyChecking === 'ask' && !batchMode(cfg) && opts.onUnknownHost && err.hostKey) {
      const host = cfg.hostKeyAlias ?? cfg.hostname;
      const message = err.message.split('\nHost key verification failed')[0]!.split('\n').slice(0, 2).join('\n');
      const ok = await opts.onUnknownHost({ alias: cfg.alias, host, port: cfg.port, keyType: err.hostKey.keyType, fingerprint: err.hostKey.fingerprint, message });
      if (!ok) throw new SshConnectError('host-key', `Host key verification failed: the operator did not accept ${err.hostKey.fingerprint} for ${host}.`, cfg.alias, err.hostKey);
      // Probe the key again on the new connection: it must be the one the operator saw.
      const again = await attempt({ ...cfg, strictHostKeyChecking: 'accept-new' }, opts, openSock ? await openSock() : undefined);
      if (again.unknown) {
        const seen = again.unknown.verdict.fingerprint;
        if (seen !== err.hostKey.fingerprint) {
          again.client.end();
          throw new SshConnectError('host-key', `Host key verification failed: ${host} presented ${seen}, not the accepted ${err.hostKey.fingerprint}.`, cfg.alias, err.hostKey);
        }
        await recordHostKey(cfg, [host], again.unknown.key);
      }
      return again.client;
    }
    throw err;
  }
}

function closedPromise(client: Client): Promise<Error | undefined> {
  return new Promise((resolve) => {
    let last: Error | undefined;
    client.on('error', (e) => {
      last = e;
    });
    client.once('close', () => resolve(last));
  });
}

/** Connects and authenticates to `alias` (through its ProxyJump hosts), verifying every host key. */
export async function connectSsh(alias: string, opts: ConnectOptions = {}): Promise<SshSession> {
  const resolve = opts.resolve ?? resolveHost;
  const cfg = await resolve(alias, opts.configFile);
  const t0 = Date.now();
  const jumps: Client[] = [];
  try {
    let prev: Client | undefined;
    for (const j of cfg.proxyJump ? parseProxyJump(cfg.proxyJump) : []) {
      const jc = await resolve(j.host, opts.configFile);
      const jcfg: ResolvedSshConfig = { ...jc, user: j.user ?? jc.user, port: j.port ?? jc.port };
      const p = prev;
      const open = p ? () => forwardThrough(p, jcfg.hostname, jcfg.port, alias) : undefined;
      prev = await connectResolved(jcfg, opts, open ? await open() : undefined, open);
      jumps.push(prev);
    }
    const last = prev;
    const open = last ? () => forwardThrough(last, cfg.hostname, cfg.port, alias) : undefined;
    const client = await connectResolved(cfg, opts, open ? await open() : undefined, open);
    const closedAll = Promise.race([client, ...jumps].map(closedPromise));
    void closedAll.then(() => {
      client.end();
      for (const j of jumps) j.end();
    });
    return {
      alias,
      config: cfg,
      client,
      connectMs: Date.now() - t0,
      closed: closedAll,
      close() {
        client.end();
        for (const j of jumps.reverse()) j.end();
      },
    };
  } catch (e) {
    for (const j of jumps) j.end();
    throw e;
  }
}
