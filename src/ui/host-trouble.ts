// Host trouble as the operator reads it: one line with the error that matters (SSH errors
// come with OpenSSH's multi-line banners) and what to do about it. Pure.
import type { Problem } from '../cluster/problems.js';
import type { ClusterModel, HostState } from '../cluster/model.js';

/** A problem as the views show it: `advice` is one more line saying what the operator can do. */
export type ShownProblem = Problem & { advice?: string };

/** The informative line of a possibly multi-line error (banners of `@` and blanks dropped). */
export function errorGist(error: string): string {
  const lines = error
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !/^[@#*=-]+$/.test(l));
  if (lines.length <= 1) return lines[0] ?? '';
  // OpenSSH puts the verdict last ("Host key for … has changed …", "Host key verification failed").
  const verdict = [...lines].reverse().find((l) => /host key|refuses|failed|denied|refused|timed out|not /i.test(l));
  return verdict ?? lines.join(' ');
}

/** What the operator can do about a host that is not up; undefined while it is up or connecting. */
export function hostAdvice(h: HostState, readOnly: boolean): string | undefined {
  const r = h.reach;
  if (r.state === 'agent-not-running') {
    return readOnly
      ? `start it on ${h.name} (drbd-agent daemon), or run the console once without --read-only to install it; retrying`
      : `the console starts it when it reconnects; if it keeps failing see /var/lib/drbd-tui/agent.log on ${h.name}`;
  }
  if (r.state !== 'unreachable') return undefined;
  const e = r.error;
  // The console retries network trouble by itself; the rest needs the operator, then a restart.
  if (/host key|known_hosts|IDENTIFICATION HAS CHANGED/i.test(e)) {
    return `verify ${h.name}'s key out of band; if it really changed, ssh-keygen -R ${h.name}, then restart drbd-tui`;
  }
  if (/permission denied \(publickey|authentication/i.test(e)) return `check the identity (-i) and the login's authorized_keys on ${h.name}, then restart drbd-tui`;
  if (/sudo/i.test(e)) return `log in as root or allow sudo without a password on ${h.name}, then restart drbd-tui`;
  if (/Node\.js|needs node/i.test(e)) return `install Node.js 20 or newer on ${h.name}, then restart drbd-tui`;
  if (/not replaced without your consent/i.test(e)) return 'restart drbd-tui and answer the question to replace the running agent';
  if (/resolve hostname/i.test(e)) return `check the name ${h.name} in ssh_config (-F) or DNS`;
  if (/host's facts|installing the agent|starting the agent|started agent|SFTP|upload|bundle|control protocol|forwarding|not started by drbd-tui/i.test(e)) {
    return `fix what the message says on ${h.name} (its agent log: /var/lib/drbd-tui/agent.log), then restart drbd-tui`;
  }
  if (/refused/i.test(e) && !/lost/i.test(e)) return `sshd is not running on ${h.name} (or not on that port): start it; retrying by itself`;
  return `check that ${h.name} is powered on and reachable (ssh ${h.name}); retrying by itself`;
}

/** What the console does about a peer link without a shared secret: C on that host puts a generated one on both. */
function secretAdvice(p: Problem, model: ClusterModel): string {
  const name = model.hosts[p.host ?? 0].name;
  if (model.readOnly) return `a read-only console writes no files: add the secret on both hosts, or run drbd-tui without --read-only and press C on ${p.resource ?? 'the resource'}`;
  return `select ${p.resource ?? 'the resource'} on ${name} (Tab) and press C: it generates a secret, shows the change and puts the file on both hosts`;
}

/** Host problems with their error in one line and the advice attached, a link without a secret with what C does; others unchanged. */
export function withHostAdvice(problems: Problem[], model: ClusterModel): ShownProblem[] {
  return problems.map((p) => {
    if (p.id.startsWith('unauthenticated:')) return { ...p, advice: secretAdvice(p, model) };
    if (p.host === undefined || p.id !== `host:${p.host}`) return p;
    const h = model.hosts[p.host];
    const what = h.reach.state === 'unreachable' ? `unreachable: ${errorGist(h.reach.error)}` : h.reach.state === 'agent-not-running' ? `agent not running${h.reach.error ? `: ${errorGist(h.reach.error)}` : ''}` : h.reach.state;
    return { ...p, text: `${h.name} ${what}`, advice: hostAdvice(h, model.readOnly) };
  });
}

/** Lines a list of shown problems takes (advice lines included). */
export function problemLines(ps: ShownProblem[]): number {
  return ps.reduce((n, p) => n + (p.advice ? 2 : 1), 0);
}
