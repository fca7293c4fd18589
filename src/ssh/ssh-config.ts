// Resolves a host alias the way the operator's own `ssh` would, by asking OpenSSH itself
// (`ssh -G`): Include, Match, Host patterns and defaults are then exactly OpenSSH's, which
// no hand-written parser gets fully right.
import { execFile } from 'node:child_process';
import { homedir, userInfo } from 'node:os';

export interface ResolvedSshConfig {
  /** The alias as given on the command line. */
  alias: string;
  hostname: string;
  port: number;
  user: string;
  /** Absolute paths (`~` and %d/%u/%h/%r/%% expanded); may not exist (OpenSSH skips those). */
  identityFiles: string[];
  identitiesOnly: boolean;
  userKnownHostsFiles: string[];
  globalKnownHostsFiles: string[];
  /** `yes` | `no` | `ask` | `accept-new` (ssh -G's `true`/`false` normalised to yes/no). */
  strictHostKeyChecking: string;
  hostKeyAlias: string | undefined;
  /** Raw ProxyJump value (`user@host:port,...`), undefined when none. */
  proxyJump: string | undefined;
  /** Seconds; undefined when OpenSSH has none. */
  connectTimeout: number | undefined;
  serverAliveInterval: number;
  serverAliveCountMax: number;
  /** Every key ssh -G printed (lower-case), all values, for anything not modelled above. */
  raw: Map<string, string[]>;
}

export interface ResolveOptions {
  /** `-F file`; OpenSSH's default (~/.ssh/config, /etc/ssh/ssh_config) when omitted. */
  configFile?: string;
  /** The ssh binary; `ssh` from PATH by default. */
  sshBinary?: string;
  timeoutMs?: number;
}

/** Runs `ssh -G [-F file] alias` and parses its output. */
export async function resolveSshConfig(alias: string, opts: ResolveOptions = {}): Promise<ResolvedSshConfig> {
  if (alias.startsWith('-')) throw new Error(`invalid host name: ${alias}`);
  const args = [...(opts.configFile ? ['-F', opts.configFile] : []), '-G', '--', alias];
  const text = await new Promise<string>((resolve, reject) => {
    execFile(
      opts.sshBinary ?? 'ssh',
      args,
      { timeout: opts.timeoutMs ?? 10_000, maxBuffer: 4 * 1024 * 1024 },
      (err, stdout, stderr) => {
        if (err) {
          const detail = String(stderr).trim() || err.message;
          reject(new Error(`cannot resolve ssh host '${alias}': ${detail}`));
        } else resolve(String(stdout));
      },
    );
  });
  return parseSshG(text, alias);
}

/** Parses `ssh -G` output (one `key value...` per line). Pure, for tests and callers with their own runner. */
export function parseSshG(text: string, alias: string, env: TokenEnv = defaultTokenEnv()): ResolvedSshConfig {
  const raw = new Map<string, string[]>();
  for (const line of text.split('\n')) {
    const trimmed = line.trim();
    if (trimmed === '') continue;
    const sp = trimmed.indexOf(' ');
    const key = (sp < 0 ? trimmed : trimmed.slice(0, sp)).toLowerCase();
    const value = sp < 0 ? '' : trimmed.slice(sp + 1);
    const list = raw.get(key) ?? [];
    list.push(value);
    raw.set(key, list);
  }
  const one = (k: string): string | undefined => raw.get(k)?.[0];
  const hostname = one('hostname') ?? alias;
  const user = one('user') ?? env.localUser;
  const port = Number(one('port') ?? '22');
  const tokens: TokenEnv = { ...env, hostname, remoteUser: user };
  // OpenSSH prints list-valued options space-separated on one line (paths with spaces are ambiguous there).
  const files = (k: string): string[] => (raw.get(k) ?? []).flatMap((v) => v.split(' ')).filter((v) => v !== '' && v !== 'none').map((v) => expandPath(v, tokens));
  const num = (k: string): number | undefined => {
    const v = one(k);
    return v === undefined || v === 'none' || !/^\d+$/.test(v) ? undefined : Number(v);
  };
  const proxyJump = one('proxyjump');
  const hostKeyAlias = one('hostkeyalias');
  return {
    alias,
    hostname,
    port: Number.isInteger(port) && port > 0 ? port : 22,
    user,
    identityFiles: (raw.get('identityfile') ?? []).map((v) => expandPath(v, tokens)),
    identitiesOnly: one('identitiesonly') === 'yes' || one('identitiesonly') === 'true',
    userKnownHostsFiles: files('userknownhostsfile'),
    globalKnownHostsFiles: files('globalknownhostsfile'),
    strictHostKeyChecking: yesNo(one('stricthostkeychecking') ?? 'ask'),
    hostKeyAlias: hostKeyAlias && hostKeyAlias !== 'none' ? hostKeyAlias : undefined,
    proxyJump: proxyJump && proxyJump !== 'none' ? proxyJump : undefined,
    connectTimeout: num('connecttimeout'),
    serverAliveInterval: num('serveraliveinterval') ?? 0,
    serverAliveCountMax: num('serveralivecountmax') ?? 3,
    raw,
  };
}

function yesNo(v: string): string {
  return v === 'true' ? 'yes' : v === 'false' ? 'no' : v;
}

export interface TokenEnv {
  home: string;
  localUser: string;
  hostname?: string;
  remoteUser?: string;
}

function defaultTokenEnv(): TokenEnv {
  return { home: homedir(), localUser: userInfo().username };
}

/** Expands `~` and the percent tokens OpenSSH allows in IdentityFile/UserKnownHostsFile. */
export function expandPath(path: string, env: TokenEnv): string {
  const tilde = path === '~' ? env.home : path.startsWith('~/') ? env.home + path.slice(1) : path;
  return tilde.replace(/%([%dhru])/g, (_m, t: string) => {
    switch (t) {
      case '%': return '%';
      case 'd': return env.home;
      case 'h': return env.hostname ?? '%h';
      case 'r': return env.remoteUser ?? '%r';
      case 'u': return env.localUser;
      default: return `%${t}`;
    }
  });
}
