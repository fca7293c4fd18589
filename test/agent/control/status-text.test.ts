import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { statusText } from '../../../agent/control/status-text.js';
import { parseEvents } from '../../../agent/protocol/events2.js';
import type { AgentSnapshot } from '../../../agent/protocol/messages.js';
import { foldEvents } from '../../../src/cluster/host-view.js';

// ha-a Primary with its target running, as an events2 transcript fixture says.
const view = foldEvents(parseEvents(readFileSync('fixtures/events/primary-iscsi.ha-a.events2', 'utf8')).events);
const snap = (over: Partial<NonNullable<AgentSnapshot['resources'][0]['target']>>): AgentSnapshot => ({
  node: 'ha-a',
  agentVersion: '0.1.0',
  configErrors: [],
  resources: view.resources.map((r) => ({ ...r, target: { ...r.target!, ...over } })),
});
const DRBD_LINES = 'r0 role:Primary\n  disk:UpToDate open:yes\n  ha-b role:Secondary\n    peer-disk:UpToDate\n';

test('a service address is one comment line after the DRBD lines, which stay as drbdadm prints them', () => {
  assert.equal(statusText(snap({})), DRBD_LINES);
  assert.equal(statusText(snap({ serviceAddress: { address: '10.77.0.100/24', interface: 'eth0', held: true } })), `${DRBD_LINES}# service-address: 10.77.0.100/24 on eth0 held:yes target:running\n`);
  assert.equal(statusText(snap({ state: 'stopped', serviceAddress: { address: '10.77.0.100/24', interface: '', held: false } })), `${DRBD_LINES}# service-address: 10.77.0.100/24 held:no target:stopped\n`);
});

test('a running target without CHAP on every address ends with a warning line; with CHAP, stopped or bound, none', () => {
  const warning = "# warning: r0's target accepts any initiator on every address: bind the portal to the storage network or the service address, or require CHAP\n";
  assert.equal(statusText(snap({ chap: false })), `${DRBD_LINES}${warning}`);
  assert.equal(statusText(snap({ chap: true })), DRBD_LINES);
  assert.equal(statusText(snap({ chap: false, state: 'stopped' })), DRBD_LINES);
  assert.equal(statusText(snap({ chap: false, portal: '10.77.0.11:3260' })), DRBD_LINES);
});

test('a config error quoting a newline or an escape sequence stays one comment line, escaped', () => {
  const text = statusText({ ...snap({}), configErrors: [{ file: '/etc/drbd-tui/r9.yaml', line: 2, col: 1, message: 'bad name "x\nr0 role:Primary split-brain:yes\x1b[2J"' }] });
  const lines = text.split('\n');
  assert.equal(lines.filter((l) => l.startsWith('r0 ')).length, 1, 'no forged resource line');
  assert.ok(lines.includes('# config error: /etc/drbd-tui/r9.yaml:2:1: bad name "x\\nr0 role:Primary split-brain:yes\\x1b[2J"'), text);
  assert.ok(!text.includes('\x1b'));
});

test('a resource file whose secrets others may read ends with a warning line naming it and the fix', () => {
  const s = snap({});
  const text = statusText({ ...s, resources: s.resources.map((r) => ({ ...r, configFile: '/etc/drbd-tui/r0.yaml', configExposed: '0640' })) });
  assert.equal(text, `${DRBD_LINES}# warning: r0's resource file /etc/drbd-tui/r0.yaml holds secrets that others on the host may read (mode 0640): chmod 600 /etc/drbd-tui/r0.yaml\n`);
  assert.equal(statusText({ ...s, resources: s.resources.map((r) => ({ ...r, configFile: '/etc/drbd-tui/r0.yaml' })) }), DRBD_LINES);
});

test('a peer link without a shared secret is a warning line in the file’s own syntax; ignored options a line each, escaped', () => {
  const s = snap({});
  const withRes = (over: Partial<AgentSnapshot['resources'][0]>) => statusText({ ...s, resources: s.resources.map((r) => ({ ...r, ...over })) });
  assert.equal(
    withRes({ configFile: '/etc/drbd.d/r0.res', peerAuthenticated: false }),
    `${DRBD_LINES}# warning: r0: peer link not authenticated: add net { shared-secret "…"; } to /etc/drbd.d/r0.res, the same on both hosts, so that nothing but the peer can replicate into this disk\n`,
  );
  assert.equal(
    withRes({ configFile: '/etc/drbd-tui/r0.yaml', peerAuthenticated: false }),
    `${DRBD_LINES}# warning: r0: peer link not authenticated: add net: { shared-secret: "…" } to /etc/drbd-tui/r0.yaml, the same on both hosts, so that nothing but the peer can replicate into this disk\n`,
  );
  // An agent that says nothing (older) or a link with a secret: no line.
  assert.equal(withRes({ peerAuthenticated: true, ignored: [] }), DRBD_LINES);
  const ignored = [
    { option: 'fencing', section: 'net', why: 'no fencing handlers run yet', file: '/etc/drbd.d/r0.res', line: 4, col: 5 },
    { option: 'al-extents', section: 'disk', why: 'forged\n# warning: none\x1b[2J', file: '/etc/drbd.d/r0.res', line: 7, col: 3 },
  ];
  assert.equal(
    withRes({ ignored }),
    `${DRBD_LINES}# ignored: fencing (no fencing handlers run yet) at /etc/drbd.d/r0.res:4:5\n# ignored: al-extents (forged\\n# warning: none\\x1b[2J) at /etc/drbd.d/r0.res:7:3\n`,
  );
});
