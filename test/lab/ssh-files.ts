// Keys and configuration files for the lab's real OpenSSH: one sshd per host (key auth
// only, root by key), one client identity, and an ssh_config/known_hosts pair that makes
// `ssh -F <file> ha-a` work with strict host key checking.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { run, runSync } from './run.js';

export const SSHD = '/usr/sbin/sshd';

export interface KeyPair {
  privatePath: string;
  publicLine: string;
}

export async function generateKey(path: string, comment: string): Promise<KeyPair> {
  await run('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', comment, '-f', path]);
  return { privatePath: path, publicLine: readFileSync(`${path}.pub`, 'utf8').trim() };
}

export interface SshdFiles {
  dir: string;
  config: string;
  hostKey: KeyPair;
}

export async function writeSshdFiles(dir: string, hostName: string, authorizedKeys: string): Promise<SshdFiles> {
  const hostKey = await generateKey(join(dir, 'hostkey'), `${hostName}-hostkey`);
  writeFileSync(join(dir, 'authorized_keys'), authorizedKeys + '\n', { mode: 0o600 });
  const lines = [
    'Port 22',
    `HostKey ${hostKey.privatePath}`,
    `PidFile ${join(dir, 'sshd.pid')}`,
    `AuthorizedKeysFile ${join(dir, 'authorized_keys')}`,
    'UsePAM no',
    'PermitRootLogin prohibit-password',
    'PasswordAuthentication no',
    'KbdInteractiveAuthentication no',
    'StrictModes no',
    'AllowStreamLocalForwarding yes',
    'AllowTcpForwarding yes',
    'Subsystem sftp internal-sftp',
    'PrintMotd no',
    'PrintLastLog no',
    'UseDNS no',
    // Tests connect, fail on purpose and reconnect quickly; newer sshd would penalise that.
    ...(sshdVersion() >= 9.8 ? ['PerSourcePenalties no'] : []),
  ];
  const config = join(dir, 'sshd_config');
  writeFileSync(config, lines.join('\n') + '\n');
  return { dir, config, hostKey };
}

let cachedVersion: number | undefined;
function sshdVersion(): number {
  if (cachedVersion === undefined) {
    const r = runSync(SSHD, ['-V'], { allowFail: true });
    const m = /OpenSSH_(\d+)\.(\d+)/.exec(r.stderr + r.stdout);
    cachedVersion = m ? Number(m[1]) + Number(m[2]) / 10 : 0;
  }
  return cachedVersion;
}

export interface ClientHostEntry {
  alias: string;
  address: string;
  hostKeyLine: string;
}

/** known_hosts with both the alias and the address, as `ssh` would have recorded them. */
export function knownHostsText(hosts: readonly ClientHostEntry[]): string {
  return hosts.map((h) => `${h.alias},${h.address} ${h.hostKeyLine.split(' ').slice(0, 2).join(' ')}`).join('\n') + '\n';
}

export function sshConfigText(hosts: readonly { alias: string; address: string }[], identity: string, knownHosts: string): string {
  const blocks = hosts.map((h) => `Host ${h.alias}\n  HostName ${h.address}\n`);
  const common = [
    `Host ${hosts.map((h) => h.alias).join(' ')}`,
    '  User root',
    '  Port 22',
    `  IdentityFile ${identity}`,
    '  IdentitiesOnly yes',
    `  UserKnownHostsFile ${knownHosts}`,
    '  GlobalKnownHostsFile /dev/null',
    '  StrictHostKeyChecking yes',
    '  CheckHostIP no',
    '  BatchMode yes',
    '  ConnectTimeout 5',
    '  ControlMaster no',
    '  ControlPath none',
    '  LogLevel ERROR',
  ];
  return `# drbd-tui test lab: the two lab hosts, strict host key checking\n${blocks.join('')}${common.join('\n')}\n`;
}
