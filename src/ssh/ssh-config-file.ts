// The fallback for machines without an `ssh` binary (the demo must run with no system
// packages): a reader of the ssh_config subset that matters for reaching a host. It turns
// the file into the same `ssh -G` text that parseSshG reads, so both paths share one
// interpretation. OpenSSH rules kept: first obtained value wins (IdentityFile accumulates),
// Host patterns with `* ? !`, keywords case-insensitive, `key=value` and quoted values.
// Not supported (ssh -G covers them where ssh exists): Match, Include, tokens beyond %d %h %r %u.
import { readFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { wildcardMatch } from './known-hosts.js';

const ACCUMULATING = new Set(['identityfile', 'localforward', 'remoteforward', 'sendenv', 'certificatefile']);

function splitArgs(rest: string): string[] {
  const out: string[] = [];
  const re = /"([^"]*)"|(\S+)/g;
  let m: RegExpExecArray | null;
  while ((m = re.exec(rest)) !== null) out.push(m[1] ?? m[2] ?? '');
  return out;
}

function hostMatches(patterns: readonly string[], host: string): boolean {
  let positive = false;
  for (const p of patterns) {
    const negated = p.startsWith('!');
    if (wildcardMatch((negated ? p.slice(1) : p).toLowerCase(), host.toLowerCase())) {
      if (negated) return false;
      positive = true;
    }
  }
  return positive;
}

/** Effective options for `alias` from ssh_config text, printed as `ssh -G` would print them. Pure. */
export function sshGFromConfigText(text: string, alias: string): string {
  const values = new Map<string, string[]>();
  let active = true;
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const m = /^(\S+?)(?:\s*=\s*|\s+)(.*)$/.exec(line);
    if (!m) continue;
    const key = (m[1] ?? '').toLowerCase();
    const args = splitArgs(m[2] ?? '');
    if (key === 'host') {
      active = hostMatches(args, alias);
      continue;
    }
    if (key === 'match') {
      // Without OpenSSH we cannot evaluate Match criteria faithfully; only `Match all` is safe.
      active = args.length === 1 && args[0]?.toLowerCase() === 'all';
      continue;
    }
    if (!active) continue;
    if (ACCUMULATING.has(key)) values.set(key, [...(values.get(key) ?? []), args.join(' ')]);
    else if (!values.has(key)) values.set(key, [args.join(' ')]);
  }
  const lines: string[] = [`host ${alias}`];
  for (const [k, vs] of values) for (const v of vs) lines.push(`${k} ${v}`);
  if (!values.has('hostname')) lines.push(`hostname ${alias}`);
  if (!values.has('port')) lines.push('port 22');
  if (!values.has('identityfile')) {
    for (const f of ['~/.ssh/id_rsa', '~/.ssh/id_ecdsa', '~/.ssh/id_ed25519']) lines.push(`identityfile ${f}`);
  }
  if (!values.has('userknownhostsfile')) lines.push('userknownhostsfile ~/.ssh/known_hosts ~/.ssh/known_hosts2');
  if (!values.has('globalknownhostsfile')) lines.push('globalknownhostsfile /etc/ssh/ssh_known_hosts /etc/ssh/ssh_known_hosts2');
  return lines.join('\n') + '\n';
}

/** `-F file`, else ~/.ssh/config then /etc/ssh/ssh_config (missing files are empty). */
export async function sshGFromConfigFiles(alias: string, configFile?: string): Promise<string> {
  const files = configFile ? [configFile] : [join(homedir(), '.ssh', 'config'), '/etc/ssh/ssh_config'];
  const texts: string[] = [];
  for (const f of files) {
    try {
      texts.push(await readFile(f, 'utf8'));
    } catch (e) {
      if (configFile || (e as NodeJS.ErrnoException).code !== 'ENOENT') throw new Error(`cannot read ssh config ${f}: ${(e as Error).message}`, { cause: e });
    }
  }
  // A trailing `Host *` block in one file must not swallow the next file's lines: reset per file.
  return sshGFromConfigText(texts.map((t) => `Host *\n${t}`).join('\n'), alias);
}
