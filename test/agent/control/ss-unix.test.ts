import { test } from 'node:test';
import assert from 'node:assert/strict';
import { holderCandidates, MAX_HOLDER_CANDIDATES, peerInodeIn } from '../../../agent/control/ss-unix.js';

// `ss -xpnH` as iproute2 6.1 prints it; the daemon is pid 700 and holds the accepted socket as fd 20.
const OWN = { pid: 700, fd: 20 };
const GENUINE = [
  'u_str ESTAB 0      0      /run/drbd-tui/agent.ro.sock 4657584            * 4657583 users:(("node",pid=700,fd=20))                      ',
  'u_str ESTAB 0      0                      * 4657583            * 4657584 users:(("drbd-agent",pid=812,fd=18))                      ',
  'u_str ESTAB 0      0      /run/systemd/journal/stdout 21001            * 21000 users:(("systemd-journal",pid=190,fd=40))',
].join('\n');

test('the peer of our socket, from the line that ends with our pid and fd', () => {
  assert.equal(peerInodeIn(GENUINE, OWN), 4657583);
  assert.equal(peerInodeIn(GENUINE, { pid: 700, fd: 21 }), undefined, 'a socket ss does not list (closed meanwhile)');
  assert.deepEqual(holderCandidates(GENUINE, 4657583), [
    { pid: 700, fd: 20 },
    { pid: 812, fd: 18 },
  ]);
});

test('a client that names its socket with a forged line of ours makes the answer unknown, not wrong', () => {
  // The client bound its socket to a name holding a newline and our line's ending with an inode of its choosing.
  const forged = `${GENUINE}\nu_str ESTAB 0 0 /tmp/x 1 * 21000 users:(("node",pid=700,fd=20))\n 4657590 * 4657591 users:(("evil",pid=900,fd=3))`;
  assert.equal(peerInodeIn(forged, OWN), undefined);
  // The same forgery repeating the true peer changes nothing.
  const harmless = `${GENUINE}\nu_str ESTAB 0 0 /tmp/x\n4657583 users:(("node",pid=700,fd=20))`;
  assert.equal(peerInodeIn(harmless, OWN), 4657583);
});

test('forged pid/fd pairs are only candidates (checked against /proc), and bounded', () => {
  // A process named `x",pid=1,fd=1)`: its pair is listed beside the real one; /proc decides which holds the inode.
  const named = 'u_str ESTAB 0 0 * 4657583 * 4657584 users:(("x",pid=1,fd=1)",pid=812,fd=18))';
  assert.deepEqual(holderCandidates(named, 4657583), [
    { pid: 1, fd: 1 },
    { pid: 812, fd: 18 },
  ]);
  const flood = Array.from({ length: 40 }, (_, k) => `u_str ESTAB 0 0 * 4657583 * 1 users:(("f",pid=${k + 2},fd=3))`).join('\n');
  assert.equal(holderCandidates(flood, 4657583).length, MAX_HOLDER_CANDIDATES);
  assert.deepEqual(holderCandidates(GENUINE, 999), []);
});
