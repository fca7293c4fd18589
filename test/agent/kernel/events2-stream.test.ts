import { test, describe, after } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { AgentSnapshot } from '../../../agent/protocol/messages.js';
import { KernelEvents2Stream, type StreamExit } from '../../../agent/kernel/events2-stream.js';
import { applyHostSnapshot, createModel, setReachability } from '../../../src/cluster/model.js';
import { deriveProblems } from '../../../src/cluster/problems.js';

// drbdsetup is the stand-in in test/support/drbdsetup-standin, first on PATH: it replays
// runN.events2 on its N-th run and records its arguments.
const STANDIN = resolve('test/support/drbdsetup-standin');
const dirs: string[] = [];
// A failed test must not leave a stand-in running (the runner would wait for it).
const streams: KernelEvents2Stream[] = [];
after(async () => {
  for (const s of streams) await s.stop();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function transcripts(runs: Record<string, string[]>): string {
  const dir = mkdtempSync(join(tmpdir(), 'drbdsetup-standin-'));
  dirs.push(dir);
  for (const [name, lines] of Object.entries(runs)) writeFileSync(join(dir, `${name}.events2`), lines.join('\n') + '\n');
  return dir;
}

const BOUNDS = { initialMs: 50, maxMs: 400 };

function stream(dir: string) {
  const s = new KernelEvents2Stream({
    node: 'ha-a',
    agentVersion: 'test',
    env: { ...process.env, PATH: `${STANDIN}:${process.env.PATH ?? ''}`, DRBDSETUP_STANDIN: dir },
    backoff: BOUNDS,
    // The middle of the jitter range: each delay is the backoff itself.
    random: () => 0.5,
  });
  streams.push(s);
  const snapshots: AgentSnapshot[] = [];
  const exits: StreamExit[] = [];
  s.on('snapshot', (snap) => snapshots.push(snap));
  s.on('exit', (e) => exits.push(e));
  return { s, snapshots, exits };
}

async function until(what: string, pred: () => boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!pred()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

const names = (s: AgentSnapshot | undefined) => s?.resources.map((r) => r.name);
const argv = (dir: string) => readFileSync(join(dir, 'argv'), 'utf8').trim().split('\n');

const DUMP = [
  '2026-12-08T04:00:00.000000+00:00 exists resource name:r0 role:Secondary suspended:no may_promote:yes promotion_score:10101',
  '2026-12-08T04:00:00.000000+00:00 exists device name:r0 volume:0 minor:1 backing_dev:/dev/vdb disk:UpToDate client:no open:no quorum:yes',
  '2026-12-08T04:00:00.000000+00:00 exists connection name:r0 peer-node-id:1 conn-name:ha-b connection:Connected role:Secondary',
  '2026-12-08T04:00:00.000000+00:00 exists -',
];

describe('kernel events2 stream against a drbdsetup stand-in', () => {
  test('one long-lived run: a snapshot when the dump is complete, then one per change; the arguments are events2 --full --statistics --timestamps', async () => {
    const dir = transcripts({ run1: [...DUMP, '@sleep 0.2', '2026-12-08T04:00:01.000000+00:00 change resource name:r0 role:Primary'] });
    const { s, snapshots, exits } = stream(dir);
    s.start();
    await until('the change', () => snapshots.length === 2);
    assert.deepEqual(snapshots.map((x) => x.resources[0]!.role), ['Secondary', 'Primary']);
    assert.equal(s.state.ready, true);
    await s.stop();
    assert.deepEqual(argv(dir), ['events2 --full --statistics --timestamps']);
    assert.deepEqual(exits, [], 'a stop is no exit to report');
  });

  test('drbdsetup dies: the exit is reported with its stderr, it runs again and the model is rebuilt from the new dump', async () => {
    const dir = transcripts({
      run1: [...DUMP, 'create resource name:r9 role:Secondary', '@sleep 0.1', '@stderr drbdsetup: netlink: connection reset', '@exit 1'],
      run2: DUMP,
    });
    const { s, snapshots, exits } = stream(dir);
    s.start();
    await until('the second dump', () => exits.length === 1 && names(snapshots.at(-1))?.join() === 'r0');
    await s.stop();
    assert.deepEqual(exits, [{ code: 1, signal: null, stderr: 'drbdsetup: netlink: connection reset', dumped: true, restartInMs: 50 }]);
    assert.deepEqual(names(snapshots.at(-2)), ['r0', 'r9']);
    assert.deepEqual(names(snapshots.at(-1)), ['r0'], 'r9 went away while drbdsetup was down: the new dump has no trace of it');
    assert.equal(argv(dir).length, 2);
  });

  test('runs that die before their dump back off, doubling up to the bound; a completed dump starts the backoff over', async () => {
    const dir = transcripts({ run1: ['@exit 3'], run2: ['@exit 3'], run3: ['@exit 3'], run4: ['@exit 3'], run5: ['@exit 3'], run6: [...DUMP, '@exit 0'], last: ['@exit 3'] });
    const { s, exits } = stream(dir);
    s.start();
    await until('seven exits', () => exits.length >= 7, 10_000);
    await s.stop();
    assert.deepEqual(
      exits.slice(0, 7).map((e) => [e.dumped, e.restartInMs]),
      [[false, 50], [false, 100], [false, 200], [false, 400], [false, 400], [true, 50], [false, 100]],
    );
  });

  test('stop ends the running drbdsetup and starts no other', async () => {
    const dir = transcripts({ last: DUMP });
    const { s, snapshots } = stream(dir);
    s.start();
    await until('the dump', () => snapshots.length === 1);
    await s.stop();
    await new Promise((r) => setTimeout(r, 3 * BOUNDS.initialMs));
    assert.equal(argv(dir).length, 1);
  });

  test('no drbdsetup at all: each attempt is an exit that says why, retried with backoff', async () => {
    const s = new KernelEvents2Stream({ node: 'ha-a', agentVersion: 'test', command: ['/nonexistent/drbdsetup', 'events2'], backoff: BOUNDS, random: () => 0.5 });
    streams.push(s);
    const exits: StreamExit[] = [];
    s.on('exit', (e) => exits.push(e));
    s.start();
    await until('two attempts', () => exits.length >= 2);
    await s.stop();
    assert.match(exits[0]!.error ?? '', /ENOENT/);
    assert.deepEqual(exits.slice(0, 2).map((e) => e.restartInMs), [50, 100]);
  });
});

describe('kernel scenarios replayed by the stand-in, through the stream into the console', () => {
  const r0 = (s: AgentSnapshot | undefined) => s?.resources.find((r) => r.name === 'r0');
  // What the console says of ha-a alone (ha-b not heard yet): the one problem each scenario means.
  const cases: Array<{ scenario: string; done: (s: AgentSnapshot | undefined) => boolean; problems: string[] }> = [
    { scenario: 'initial-sync', done: (s) => r0(s)?.connections[0]?.peerDevices[0]?.replication === 'SyncSource', problems: ['info sync:r0/0: r0/0 sync ha-a → ha-b 25.00%, ETA 7s'] },
    { scenario: 'link-loss', done: (s) => r0(s)?.connections[0]?.connection === 'Connecting', problems: ['warn disconnected:r0: r0 degraded: ha-a not connected to its peer (Connecting)'] },
    { scenario: 'split-brain', done: (s) => r0(s)?.helpers?.[0]?.status === 0, problems: ['alert split-brain:r0: SPLIT BRAIN on r0: both nodes wrote while apart; choose the victim and run the split-brain recovery runbook (r)'] },
    { scenario: 'disk-failure', done: (s) => r0(s)?.helpers?.[0]?.status === 0, problems: ['warn disk:r0/0:0: r0/0 Diskless on ha-a (degraded: only ha-b has UpToDate data)'] },
  ];
  for (const c of cases) {
    test(c.scenario, async () => {
      const dir = transcripts({});
      copyFileSync(join('fixtures/kernel-events2/standin', `${c.scenario}.events2`), join(dir, 'run1.events2'));
      const { s, snapshots } = stream(dir);
      s.start();
      await until(`the end of ${c.scenario}`, () => c.done(snapshots.at(-1)));
      await s.stop();
      assert.ok(snapshots.length >= 2, 'the dump, then the changes');
      const m = applyHostSnapshot(setReachability(createModel('ha-a', 'ha-b'), 0, { state: 'up' }), 0, snapshots.at(-1)!);
      assert.deepEqual(deriveProblems(m).map((p) => `${p.severity} ${p.id}: ${p.text}`), c.problems);
    });
  }
});
