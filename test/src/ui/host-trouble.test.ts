import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { createModel, setReachability, type Reachability } from '../../../src/cluster/model.js';
import { deriveProblems } from '../../../src/cluster/problems.js';
import { errorGist, hostAdvice, problemLines, withHostAdvice } from '../../../src/ui/host-trouble.js';

const CHANGED = `@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@
@    WARNING: REMOTE HOST IDENTIFICATION HAS CHANGED!     @
@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@
IT IS POSSIBLE THAT SOMEONE IS DOING SOMETHING NASTY!
Offending ED25519 key in /root/.ssh/known_hosts:1
Host key for ha-a has changed and drbd-tui refuses to connect (as ssh does with StrictHostKeyChecking).`;

function host(reach: Reachability, readOnly = false) {
  const m = setReachability(createModel('ha-a', 'ha-b', { readOnly }), 1, reach, { time: '2026-11-22T00:00:00Z' });
  return { m, h: m.hosts[1] };
}

describe('host trouble', () => {
  test('errorGist: one line, the verdict of an OpenSSH banner, plain errors as they are', () => {
    assert.equal(errorGist('ssh: connect to host 10.77.0.12 port 22: Connection refused'), 'ssh: connect to host 10.77.0.12 port 22: Connection refused');
    assert.equal(errorGist(CHANGED), 'Host key for ha-a has changed and drbd-tui refuses to connect (as ssh does with StrictHostKeyChecking).');
    assert.equal(errorGist('first\n\nsecond'), 'first second');
    assert.equal(errorGist(''), '');
  });

  test('advice says what the operator can do, by kind of trouble', () => {
    const cases: Array<[Reachability, RegExp]> = [
      [{ state: 'unreachable', error: 'ssh: connect to host 10.77.0.12 port 22: Connection refused' }, /sshd is not running on ha-b.*retrying/],
      [{ state: 'unreachable', error: 'connection lost: Keepalive timeout' }, /powered on and reachable \(ssh ha-b\); retrying/],
      [{ state: 'unreachable', error: 'ha-b: connection timed out' }, /powered on/],
      [{ state: 'unreachable', error: CHANGED }, /ssh-keygen -R ha-b/],
      [{ state: 'unreachable', error: 'root@ha-b: Permission denied (publickey): tried /root/.ssh/id_ed25519' }, /identity \(-i\)/],
      [{ state: 'unreachable', error: 'ha-b: not root and sudo is not installed' }, /sudo without a password/],
      [{ state: 'unreachable', error: 'ha-b: agent 0.1.0 is running, this console needs 0.2.0; not replaced without your consent' }, /replace the running agent/],
      [{ state: 'unreachable', error: "ssh: Could not resolve hostname ha-x: getaddrinfo ENOTFOUND" }, /ssh_config/],
      [{ state: 'unreachable', error: 'ha-b: Node.js 18.19.0 at /usr/bin/node is too old; the agent needs 20 or newer.' }, /install Node\.js 20/],
      [{ state: 'unreachable', error: "cannot read the host's facts (is the login shell POSIX sh?):\nfish: Unknown command" }, /agent\.log\), then restart drbd-tui/],
      [{ state: 'unreachable', error: 'connection lost: the agent closed the control channel' }, /retrying by itself/],
    ];
    for (const [reach, want] of cases) assert.match(hostAdvice(host(reach).h, false) ?? '', want, JSON.stringify(reach));
    assert.match(hostAdvice(host({ state: 'agent-not-running' }, true).h, true)!, /without --read-only to install it/);
    assert.match(hostAdvice(host({ state: 'agent-not-running' }).h, false)!, /agent\.log on ha-b/);
    assert.equal(hostAdvice(host({ state: 'up' }).h, false), undefined);
    assert.equal(hostAdvice(host({ state: 'connecting' }).h, false), undefined);
  });

  test('host problems get the gist and the advice; the others stay as they are', () => {
    const { m } = host({ state: 'unreachable', error: CHANGED });
    const shown = withHostAdvice(deriveProblems(m), m);
    const p = shown.find((x) => x.id === 'host:1')!;
    assert.equal(p.text, 'ha-b unreachable: Host key for ha-a has changed and drbd-tui refuses to connect (as ssh does with StrictHostKeyChecking).');
    assert.match(p.advice!, /ssh-keygen/);
    assert.equal(problemLines(shown), shown.length + shown.filter((x) => x.advice).length);
  });
});
