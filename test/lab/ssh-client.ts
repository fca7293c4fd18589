// An ssh2 client for lab suites, connected the way the console connects: the alias resolved
// by `ssh -G`, the identity file from it, and the host key checked against known_hosts.
import { readFileSync } from 'node:fs';
import { Client, type ConnectConfig } from 'ssh2';
import { readKnownHostsFiles } from '../../src/ssh/known-hosts-files.js';
import { checkHostKey, type HostKeyVerdict } from '../../src/ssh/known-hosts.js';
import { resolveSshConfig } from '../../src/ssh/ssh-config.js';

export interface LabSshOptions {
  /** known_hosts files to check against instead of those the config names. */
  knownHostsFiles?: readonly string[];
  readyTimeout?: number;
  keepaliveInterval?: number;
  keepaliveCountMax?: number;
}

export class HostKeyRejected extends Error {
  constructor(readonly verdict: HostKeyVerdict) {
    super(
      verdict.status === 'changed' || verdict.status === 'revoked' ? verdict.warning
      : verdict.status === 'unknown' ? verdict.message
      : 'host key rejected',
    );
    this.name = 'HostKeyRejected';
  }
}

/** Connects and resolves once authenticated; rejects with HostKeyRejected when the key does not match. */
export async function connectLabSsh(sshConfig: string, alias: string, opts: LabSshOptions = {}): Promise<Client> {
  const cfg = await resolveSshConfig(alias, { configFile: sshConfig });
  const entries = await readKnownHostsFiles(opts.knownHostsFiles ?? cfg.userKnownHostsFiles);
  const identity = cfg.identityFiles[0];
  if (!identity) throw new Error(`no IdentityFile for ${alias} in ${sshConfig}`);
  let verdict: HostKeyVerdict | undefined;
  const client = new Client();
  const connect: ConnectConfig = {
    host: cfg.hostname,
    port: cfg.port,
    username: cfg.user,
    privateKey: readFileSync(identity),
    readyTimeout: opts.readyTimeout ?? 5000,
    keepaliveInterval: opts.keepaliveInterval ?? 0,
    keepaliveCountMax: opts.keepaliveCountMax ?? 3,
    hostVerifier: (key: Buffer): boolean => {
      verdict = checkHostKey(entries, cfg.hostKeyAlias ?? cfg.hostname, cfg.port, key);
      return verdict.status === 'match';
    },
  };
  return new Promise((resolve, reject) => {
    const onError = (err: Error): void => {
      client.end();
      reject(verdict && verdict.status !== 'match' ? new HostKeyRejected(verdict) : err);
    };
    client.once('error', onError);
    client.once('ready', () => {
      client.removeListener('error', onError);
      client.on('error', () => {}); // later errors surface as 'close'; callers watch that
      resolve(client);
    });
    client.connect(connect);
  });
}

export { sshExec, type SshExecResult } from '../../src/ssh/exec.js';
