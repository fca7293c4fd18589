import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import {
  diffSnapshots,
  Events2SyntaxError,
  formatEvent,
  parseEventLine,
  parseEvents,
  snapshotToEvents,
} from '../../../src/cluster/events2.js';
import { foldEvents, hostViewFromSnapshot } from '../../../src/cluster/host-view.js';
import type { AgentSnapshot } from '../../../agent/protocol/messages.js';
import { FIXTURE_DIR } from './fixtures.js';

// Real output samples from public sources (a copy of the team's reference file, so a bare clone has it).
const REFERENCE = join(FIXTURE_DIR, 'drbd-output-examples.txt');
const EVENT_START = /^(\d{4}-\d\d-\d\dT\S+ )?(exists|create|change|destroy|call|response) /;

/** The events2 lines of the reference file; the User's Guide's wrapped lines joined back. */
function referenceLines(): string[] {
  const out: string[] = [];
  let prevWasEvent = false;
  for (const raw of readFileSync(REFERENCE, 'utf8').split('\n')) {
    if (EVENT_START.test(raw)) {
      out.push(raw.trim());
      prevWasEvent = true;
    } else if (prevWasEvent && /^\s+\S+:\S/.test(raw)) {
      out[out.length - 1] += ' ' + raw.trim().replace(/\s+/g, ' ');
    } else prevWasEvent = false;
  }
  return out;
}

describe('events2 line format', () => {
  test('round-trips every real events2 line in the reference examples', () => {
    const lines = referenceLines();
    assert.ok(lines.length >= 60, `expected the reference's events2 lines, found ${lines.length}`);
    for (const line of lines) {
      const e = parseEventLine(line);
      assert.ok(e, line);
      assert.equal(formatEvent(e), line);
    }
  });

  test('parses timestamps, identity keys and values holding colons', () => {
    const e = parseEventLine(
      '2019-05-07T13:50:23.973595-07:00 exists path name:r0 peer-node-id:1 conn-name:b local:ipv4:1.2.3.4:7789 peer:ipv4:5.6.7.8:7790 established:no',
    )!;
    assert.equal(e.time, '2019-05-07T13:50:23.973595-07:00');
    assert.equal(e.verb, 'exists');
    assert.equal(e.object, 'path');
    assert.deepEqual(e.props[3], ['local', 'ipv4:1.2.3.4:7789']);
  });

  test('`exists -` ends the initial dump', () => {
    assert.deepEqual(parseEventLine('exists -'), { time: '', verb: 'exists', object: '-', props: [] });
    assert.equal(formatEvent({ time: '', verb: 'exists', object: '-', props: [] }), 'exists -');
  });

  test('values with blanks and quotes are quoted and come back unchanged', () => {
    const msg = 'protocol: expected A, B or C, got "D" \\ back';
    const line = formatEvent({ time: '', verb: 'create', object: 'config-error', props: [['file', '/etc/r2.yaml'], ['message', msg]] });
    assert.equal(line, 'create config-error file:/etc/r2.yaml message:"protocol: expected A, B or C, got \\"D\\" \\\\ back"');
    assert.deepEqual(parseEventLine(line)!.props[1], ['message', msg]);
  });

  test('hostile values are written escaped on one line and read back exactly', () => {
    const hostile: Array<[value: string, written: string]> = [
      ['iqn.x\x1b]2;pwned\x07\x1b[2J', '"iqn.x\\x1b]2;pwned\\x07\\x1b[2J"'],
      ['r0\nSplit-Brain detected', '"r0\\nSplit-Brain detected"'],
      ['a\rb\tc\x7f\x9b', '"a\\rb\\tc\\x7f\\x9b"'],
      ['abc\u202edcba', '"abc\\u202edcba"'],
      ['literal \\x1b stays literal', '"literal \\\\x1b stays literal"'],
    ];
    for (const [value, written] of hostile) {
      const line = formatEvent({ time: '', verb: 'create', object: 'session', props: [['name', 'r0'], ['initiator', value]] });
      assert.equal(line, `create session name:r0 initiator:${written}`);
      assert.ok(!/[\x00-\x1f\x7f-\x9f\u202e]/.test(line), line); // eslint-disable-line no-control-regex
      assert.deepEqual(parseEventLine(line)!.props[1], ['initiator', value]);
    }
  });

  test('blank and comment lines are skipped, garbage is reported not fatal', () => {
    assert.equal(parseEventLine(''), undefined);
    assert.equal(parseEventLine('# comment'), undefined);
    assert.throws(() => parseEventLine('0'), Events2SyntaxError);
    assert.throws(() => parseEventLine('change gadget name:x'), /unknown object/);
    assert.throws(() => parseEventLine('change resource name'), /key:value/);
    const { events, errors } = parseEvents('exists resource name:r0 role:Secondary\n$ cat x\nexists -\n');
    assert.equal(events.length, 2);
    assert.equal(errors.length, 1);
  });

  test('every fixture line parses and formats back identically', () => {
    const files = readdirSync(FIXTURE_DIR).filter((f) => f.endsWith('.events2'));
    assert.ok(files.length >= 15);
    for (const f of files) {
      for (const line of readFileSync(FIXTURE_DIR + f, 'utf8').split('\n')) {
        const e = parseEventLine(line);
        if (e) assert.equal(formatEvent(e), line.trim(), `${f}: ${line}`);
      }
    }
  });
});

const SNAP: AgentSnapshot = {
  node: 'ha-a',
  agentVersion: '0.1.0',
  configErrors: [{ file: '/etc/drbd-tui/r9.yaml', line: 3, col: 7, message: 'unknown key "volums"' }],
  resources: [
    {
      name: 'r0',
      nodeId: 0,
      node: 'ha-a',
      role: 'Primary',
      suspended: false,
      writeOrdering: 'flush',
      mayPromote: false,
      promotionScore: 10103,
      protocol: 'C',
      configHash: 'sha256:abc',
      devices: [
        {
          volume: 0,
          minor: 1,
          device: '/dev/drbd1',
          backingDev: '/var/lib/d/r0.img',
          disk: 'UpToDate',
          open: true,
          size: 1048576,
          read: 10,
          written: 20,
          alWrites: 1,
          bmWrites: 2,
          upperPending: 0,
          lowerPending: 0,
          alSuspended: false,
          blocked: false,
          uuids: { current: '7C41E9A0B25D6F13', bitmap: { '1': '0000000000000000' }, history: ['A3F0C2D94E1B7708', '5E21B0A7C4D39F12'] },
          undoJournal: { used: 4096, capacity: 65536 },
        },
      ],
      connections: [
        {
          peerNodeId: 1,
          connName: 'ha-b',
          connection: 'Connected',
          role: 'Secondary',
          congested: false,
          apInFlight: 0,
          rsInFlight: 8,
          localAddress: '10.77.0.11:7789',
          peerAddress: '10.77.0.12:7789',
          established: true,
          splitBrain: false,
          peerDevices: [
            { volume: 0, replication: 'SyncSource', peerDisk: 'Inconsistent', resyncSuspended: 'no', received: 0, sent: 500, outOfSync: 2500, pending: 1, unacked: 2, done: 37.5, dbdt1: 0.24, eta: 10 },
          ],
        },
      ],
      target: {
        state: 'running',
        iqn: 'iqn.2026-11.com.example:r0',
        portal: '0.0.0.0:3260',
        sessions: [{ id: '1', initiator: 'iqn.1991-05.com.microsoft:win', address: '10.77.0.31:49713', since: '2026-11-22T03:58:01.000Z' }],
      },
    },
  ],
};

describe('snapshot <-> events', () => {
  test('the service address travels on the target line: dump, fold, a change of held alone', () => {
    const held = structuredClone(SNAP);
    held.resources[0]!.target!.serviceAddress = { address: '10.77.0.100/24', interface: 'eth0', held: true };
    const lines = snapshotToEvents(held).map(formatEvent);
    assert.ok(lines.includes('exists target name:r0 state:running iqn:iqn.2026-11.com.example:r0 portal:0.0.0.0:3260 service-address:10.77.0.100/24 service-interface:eth0 service-held:yes'), lines.join('\n'));
    const folded = foldEvents(parseEvents(lines.join('\n')).events);
    assert.deepEqual(folded.resources[0]!.target, hostViewFromSnapshot(held).resources[0]!.target);
    const released = structuredClone(held);
    released.resources[0]!.target!.serviceAddress!.held = false;
    released.resources[0]!.target!.state = 'stopped';
    released.resources[0]!.target!.sessions = [];
    const diff = diffSnapshots(held, released, { time: 't' });
    assert.ok(diff.map(formatEvent).includes('t change target name:r0 state:stopped service-held:no'), diff.map(formatEvent).join('\n'));
    assert.deepEqual(foldEvents(diff, folded).resources[0]!.target, released.resources[0]!.target);
  });

  test('folding the dump of a snapshot gives back the snapshot', () => {
    const events = snapshotToEvents(SNAP, { statistics: true, time: '2026-11-22T04:00:00.000000+00:00' });
    assert.deepEqual(events.at(-1), { time: '2026-11-22T04:00:00.000000+00:00', verb: 'exists', object: '-', props: [] });
    const text = events.map(formatEvent).join('\n');
    const folded = foldEvents(parseEvents(text).events);
    const direct = hostViewFromSnapshot(SNAP);
    assert.equal(folded.ready, true);
    assert.deepEqual(folded.resources, direct.resources);
    assert.deepEqual(folded.configErrors, direct.configErrors);
  });

  test('without --statistics the counters are left out, states stay', () => {
    const line = snapshotToEvents(SNAP).map(formatEvent).find((l) => l.includes('peer-device'))!;
    assert.equal(line, 'exists peer-device name:r0 peer-node-id:1 conn-name:ha-b volume:0 replication:SyncSource peer-disk:Inconsistent resync-suspended:no done:37.50');
  });

  test('diffSnapshots withdraws a vanished last-error with an empty value', () => {
    const down = structuredClone(SNAP);
    const c = down.resources[0]!.connections[0]!;
    c.connection = 'StandAlone';
    c.lastError = 'authentication failed';
    const up = structuredClone(down);
    up.resources[0]!.connections[0]!.connection = 'Connecting';
    delete up.resources[0]!.connections[0]!.lastError;
    const diff = diffSnapshots(down, up, { time: 't' });
    assert.deepEqual(diff.map(formatEvent), ['t change connection name:r0 peer-node-id:1 conn-name:ha-b connection:Connecting last-error:']);
    const folded = foldEvents(diff, hostViewFromSnapshot(down));
    assert.equal(folded.resources[0]!.connections[0]!.lastError, undefined);
  });

  test('resources known but not up travel as not-up objects: dump, fold, change with a withdrawn up-error, destroy when up', () => {
    const down = structuredClone(SNAP);
    down.notUp = [
      { name: 'r1', file: '/etc/drbd-tui/r1.yaml', cause: 'backing-disk-missing', reason: 'backing disk /dev/sdz does not exist', next: 'attach the disk or correct disk: in /etc/drbd-tui/r1.yaml, then: drbd-agent up r1', volumes: [0, 1], upError: 'cannot open backing disk: backing disk /dev/sdz does not exist' },
      { name: 'r2', file: '/etc/drbd-tui/r2.yaml', cause: 'down', reason: '', next: 'drbd-agent up r2', volumes: [0] },
    ];
    const lines = snapshotToEvents(down).map(formatEvent);
    assert.ok(lines.includes('exists not-up name:r2 file:/etc/drbd-tui/r2.yaml cause:down reason: next:"drbd-agent up r2" volumes:0'), lines.join('\n'));
    const folded = foldEvents(parseEvents(lines.join('\n')).events);
    assert.deepEqual(folded.notUp, hostViewFromSnapshot(down).notUp);
    assert.deepEqual(folded.notUp, down.notUp);

    const fixed = structuredClone(down);
    fixed.notUp![0] = { name: 'r1', file: '/etc/drbd-tui/r1.yaml', cause: 'down', reason: '', next: 'drbd-agent up r1', volumes: [0, 1] };
    fixed.notUp!.pop();
    const diff = diffSnapshots(down, fixed, { time: 't' });
    assert.deepEqual(diff.map(formatEvent), ['t destroy not-up name:r2', 't change not-up name:r1 cause:down reason: next:"drbd-agent up r1" up-error:']);
    const after = foldEvents(diff, folded);
    assert.deepEqual(after.notUp, fixed.notUp);
  });

  test('runbook runs travel as runbook objects: dump, fold, a put as a change of what moved, another host\'s console sees the record', () => {
    const withRun = structuredClone(SNAP);
    const run = { resource: 'r0', runbook: 'disk-replacement', subject: 'ha-b', state: 'active' as const, completed: ['down', 'create-md'], steps: 4, started: '2026-12-07T12:40:00.000Z', updated: '2026-12-07T12:41:00.000Z', seq: 2, by: 'root@laptop' };
    withRun.runbooks = [run];
    const lines = snapshotToEvents(withRun).map(formatEvent);
    assert.ok(lines.includes('exists runbook name:r0 runbook:disk-replacement subject:ha-b state:active step:3/4 completed:down,create-md steps:4 started:2026-12-07T12:40:00.000Z updated:2026-12-07T12:41:00.000Z seq:2 by:root@laptop'), lines.join('\n'));
    const folded = foldEvents(parseEvents(lines.join('\n')).events);
    assert.deepEqual(folded.runbooks, [run]);
    assert.deepEqual(folded.runbooks, hostViewFromSnapshot(withRun).runbooks);

    const next = structuredClone(withRun);
    next.runbooks![0] = { ...run, completed: [...run.completed, 'up'], updated: '2026-12-07T12:42:00.000Z', seq: 3 };
    const diff = diffSnapshots(withRun, next, { time: 't' });
    assert.deepEqual(diff.map(formatEvent), ['t change runbook name:r0 step:4/4 completed:down,create-md,up updated:2026-12-07T12:42:00.000Z seq:3']);
    assert.deepEqual(foldEvents(diff, folded).runbooks, next.runbooks);

    const fresh = structuredClone(SNAP);
    const created = diffSnapshots(fresh, withRun, { time: 't' });
    assert.deepEqual(created.map((e) => `${e.verb} ${e.object}`), ['create runbook']);
    assert.deepEqual(foldEvents(created, hostViewFromSnapshot(fresh)).runbooks, [run]);
  });

  test('diffSnapshots emits only changed fields, creates and destroys, and folds to the new state', () => {
    const after = structuredClone(SNAP);
    const r = after.resources[0]!;
    r.role = 'Secondary';
    r.connections[0]!.peerDevices[0]!.replication = 'Established';
    r.connections[0]!.peerDevices[0]!.peerDisk = 'UpToDate';
    delete r.connections[0]!.peerDevices[0]!.done;
    delete r.connections[0]!.peerDevices[0]!.dbdt1;
    delete r.connections[0]!.peerDevices[0]!.eta;
    r.target!.sessions = [];
    after.configErrors = [];
    const diff = diffSnapshots(SNAP, after, { time: 't' });
    const lines = diff.map(formatEvent);
    assert.ok(lines.includes('t change resource name:r0 role:Secondary'), lines.join('\n'));
    assert.ok(lines.includes('t destroy session name:r0 id:1'), lines.join('\n'));
    assert.ok(lines.includes('t destroy config-error file:/etc/drbd-tui/r9.yaml line:3 col:7'), lines.join('\n'));
    assert.ok(lines.some((l) => l.startsWith('t change peer-device name:r0 peer-node-id:1 conn-name:ha-b volume:0 replication:Established peer-disk:UpToDate')));
    const folded = foldEvents(diff, hostViewFromSnapshot(SNAP));
    assert.deepEqual(folded.resources, hostViewFromSnapshot(after).resources);
    assert.deepEqual(folded.configErrors, []);
  });
});
