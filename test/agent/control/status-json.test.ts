// The extensions `status --json` and events2 carry per resource for a file that asks for what
// the agent does not do: peer-authenticated (no shared secret) and ignored (DRBD options
// accepted but not honoured). Both travel from the snapshot to the console unchanged.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { statusJson } from '../../../agent/control/status-json.js';
import { formatEvent, parseEvents, snapshotToEvents } from '../../../agent/protocol/events2.js';
import type { AgentSnapshot } from '../../../agent/protocol/messages.js';
import { foldEvents, ignoredOptions } from '../../../src/cluster/host-view.js';

const view = foldEvents(parseEvents(readFileSync('fixtures/events/primary-iscsi.ha-a.events2', 'utf8')).events);
const ignored = [
  { option: 'fencing', section: 'net', why: 'no fencing handlers run yet, "quoted", a, b', file: '/etc/drbd.d/r0.res', line: 4, col: 5 },
  { option: 'al-extents', section: 'disk', why: 'the activity log has its own size', file: '/etc/drbd.d/global_common.conf', line: 12, col: 9 },
];
const snap: AgentSnapshot = { node: 'ha-a', agentVersion: '0.1.0', configErrors: [], resources: view.resources.map((r) => ({ ...r, peerAuthenticated: false, ignored })) };

test('status --json: peer-authenticated and ignored per resource; absent from an agent that does not say', () => {
  const [r] = statusJson(snap) as Array<Record<string, unknown>>;
  assert.equal(r!['peer-authenticated'], false);
  assert.deepEqual(r!['ignored'], ignored);
  const [old] = statusJson({ ...snap, resources: view.resources }) as Array<Record<string, unknown>>;
  assert.ok(!('peer-authenticated' in old!) && !('ignored' in old!));
});

test('events2: both fields survive the line format (quotes, commas, blanks) and the console’s fold', () => {
  const lines = snapshotToEvents(snap).map(formatEvent).join('\n');
  const resourceLine = lines.split('\n').find((l) => l.startsWith('exists resource '))!;
  assert.match(resourceLine, / peer-authenticated:no ignored:"\[/);
  const back = foldEvents(parseEvents(lines).events).resources[0]!;
  assert.equal(back.peerAuthenticated, false);
  assert.deepEqual(back.ignored, ignored);
});

test('the console keeps only ignored entries of the documented shape', () => {
  assert.deepEqual(ignoredOptions('nope'), []);
  assert.deepEqual(ignoredOptions([ignored[0], { option: 'x' }, null, { ...ignored[1], line: '12' }]), [ignored[0]]);
});
