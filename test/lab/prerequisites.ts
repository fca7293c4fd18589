// What a lab needs from the machine, said plainly: in CI a missing piece is an error (the
// suite must not pass by not running); on a workstation the suite is skipped with the reason.
import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';
import { describe, test, type TestContext } from 'node:test';

const TOOLS: readonly { bin: string; pkg: string }[] = [
  { bin: 'sshd', pkg: 'openssh-server' },
  { bin: 'ssh', pkg: 'openssh-client' },
  { bin: 'ssh-keygen', pkg: 'openssh-client' },
  { bin: 'ip', pkg: 'iproute2' },
  { bin: 'unshare', pkg: 'util-linux' },
  { bin: 'nsenter', pkg: 'util-linux' },
  { bin: 'mount', pkg: 'mount' },
];

function onPath(bin: string): boolean {
  const dirs = [...(process.env.PATH ?? '').split(delimiter), '/usr/sbin', '/sbin', '/usr/bin', '/bin'];
  return dirs.some((d) => {
    try {
      accessSync(join(d, bin), constants.X_OK);
      return true;
    } catch {
      return false;
    }
  });
}

export interface LabEnvironment {
  platform: string;
  uid: number | undefined;
  has: (bin: string) => boolean;
}

/** Why the lab cannot run in `env`, or undefined when it can. Pure. */
export function labProblems(env: LabEnvironment): string | undefined {
  const problems: string[] = [];
  if (env.platform !== 'linux') problems.push('needs Linux (network namespaces)');
  if (env.uid !== 0) problems.push('run as root (network namespaces, mounts, sshd)');
  const missing = TOOLS.filter((t) => !env.has(t.bin));
  if (missing.length > 0) {
    const pkgs = [...new Set(missing.map((t) => t.pkg))];
    problems.push(`missing ${missing.map((t) => t.bin).join(', ')}: apt-get install ${pkgs.join(' ')}`);
  }
  return problems.length > 0 ? `two-host lab unavailable: ${problems.join('; ')}` : undefined;
}

/** Why the lab cannot run on this machine, or undefined when it can. */
export function labUnavailableReason(): string | undefined {
  return labProblems({ platform: process.platform, uid: process.getuid?.(), has: onPath });
}

/**
 * For `describe(name, { skip: labSkipReason() }, ...)`: false when the lab can run, else the
 * reason to show. Throws instead under CI=true.
 */
export function labSkipReason(): string | false {
  const reason = labUnavailableReason();
  if (!reason) return false;
  if (process.env.CI === 'true') throw new Error(`${reason} (CI=true: lab suites must run)`);
  return reason;
}

/** Inside a test: returns true if the lab can run; otherwise skips the test visibly (throws under CI). */
export function requireLab(t: TestContext): boolean {
  const reason = labSkipReason();
  if (reason === false) return true;
  t.skip(reason);
  return false;
}

/**
 * `describe` for lab suites: when the lab cannot run, registers one skipped test carrying
 * the reason instead, so the skip shows in the counts as well as in the output.
 */
export function describeLab(name: string, fn: () => void): void {
  const reason = labSkipReason();
  if (reason === false) describe(name, fn);
  else test(name, { skip: reason }, () => {});
}
