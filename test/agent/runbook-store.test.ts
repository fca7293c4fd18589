// The runbook store on a real temp dir: what a put keeps, what it ignores or refuses, the audit
// log's rotation, and what a restarted daemon (a new store on the same dir) finds.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decidePut, RunbookStore } from '../../agent/runbook-store.js';
import { AgentError, type RunbookLogEntry, type RunbookRecord } from '../../agent/protocol/messages.js';
import { runbookEntry, runbookRecord } from '../support/runbook-records.js';

const run = (over: Partial<RunbookRecord> = {}): RunbookRecord => runbookRecord({ runbook: 'disk-replacement', subject: 'ha-b', steps: 4, ...over });
const entry = (over: Partial<RunbookLogEntry> = {}): RunbookLogEntry =>
  runbookEntry({ time: '2026-12-07T12:40:01.000Z', runbook: 'disk-replacement', subject: 'ha-b', step: 'down', title: 'take r0 down on ha-b', host: 'ha-b', command: 'drbd-agent down r0', ...over });

describe('decidePut', () => {
  const later = '2026-12-07T13:00:00.000Z';
  const cases: Array<[string, RunbookRecord | undefined, RunbookRecord, boolean, string]> = [
    ['nothing stored', undefined, run(), false, 'store'],
    ['the same run, a higher seq', run({ seq: 3 }), run({ seq: 4 }), false, 'store'],
    ['the same run, the same seq (a repeated put)', run({ seq: 3 }), run({ seq: 3 }), false, 'older'],
    ['the same run, a lower seq (a late put)', run({ seq: 3 }), run({ seq: 2, state: 'abandoned' }), false, 'older'],
    ['another run over a finished one', run({ state: 'finished' }), run({ runbook: 'switchover', started: later, updated: later }), false, 'store'],
    ['another run over an abandoned one', run({ state: 'abandoned' }), run({ subject: 'ha-a', started: later, updated: later }), false, 'store'],
    ['another run over an active one', run(), run({ runbook: 'switchover', started: later, updated: later }), false, 'refused'],
    ['converge: a newer other run over an active one', run(), run({ runbook: 'switchover', started: later, updated: later }), true, 'store'],
    ['converge: an older other run over an active one', run({ updated: later }), run({ runbook: 'switchover' }), true, 'older'],
    ['converge: the same run keeps the seq rule', run({ seq: 5 }), run({ seq: 4 }), true, 'older'],
  ];
  for (const [name, stored, put, converge, kind] of cases) {
    test(name, () => assert.equal(decidePut(stored, put, converge).kind, kind));
  }
  test('the refusal names the active run, where it stands and who runs it', () => {
    const d = decidePut(run({ completed: ['down', 'create-md'] }), run({ runbook: 'switchover', started: '2026-12-07T13:00:00.000Z' }));
    assert.deepEqual(d, { kind: 'refused', message: 'finish or abandon the active runbook first: r0 disk-replacement(ha-b) active, step 3/4, started 2026-12-07T12:40:00.000Z by root@laptop' });
  });
});

describe('RunbookStore', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'drbd-runbooks-'));
  });
  after(() => rm(dir, { recursive: true, force: true }));

  test('a put is stored as <resource>.json (0600) and its entry appended; an older put is answered with the stored record', async () => {
    const s = new RunbookStore(join(dir, 'a'));
    await s.load();
    const first = await s.put({ record: run({ seq: 2, completed: ['down'] }), entry: entry() });
    assert.equal(first.stored, true);
    const late = await s.put({ record: run({ seq: 1 }), entry: entry({ step: 'create-md', result: 'refused', detail: 'Device is held open by someone' }) });
    assert.deepEqual(late, { record: run({ seq: 2, completed: ['down'] }), stored: false });
    assert.deepEqual(s.records(), [run({ seq: 2, completed: ['down'] })]);
    const file = join(dir, 'a', 'r0.json');
    assert.deepEqual(JSON.parse(await readFile(file, 'utf8')), run({ seq: 2, completed: ['down'] }));
    assert.equal((await stat(file)).mode & 0o777, 0o600);
    // What happened is logged even when the record was older: both entries are there.
    assert.deepEqual((await s.log()).map((e) => e.result), ['ran', 'refused']);
  });

  test('another run over the active one is refused and leaves the record and the log alone', async () => {
    const s = new RunbookStore(join(dir, 'a'));
    await s.load();
    await assert.rejects(s.put({ record: run({ runbook: 'switchover', started: '2026-12-07T13:00:00.000Z' }), entry: entry({ runbook: 'switchover', result: 'started' }) }), (e: unknown) => e instanceof AgentError && e.code === 'refused' && /^finish or abandon the active runbook first/.test(e.message));
    assert.equal(s.records()[0]!.runbook, 'disk-replacement');
    assert.equal((await s.log()).length, 2);
  });

  test('a restarted store finds the runs and the log; a damaged file is reported, not loaded', async () => {
    await writeFile(join(dir, 'a', 'r9.json'), '{"resource":"r9"');
    await writeFile(join(dir, 'a', 'r8.json'), JSON.stringify(run({ resource: 'r7' })));
    const warnings: string[] = [];
    const s = new RunbookStore(join(dir, 'a'), undefined, (w) => warnings.push(w));
    await s.load();
    assert.deepEqual(s.records(), [run({ seq: 2, completed: ['down'] })]);
    assert.equal(warnings.length, 2);
    assert.match(warnings.join('\n'), /r9\.json: not a runbook record, ignored/);
    assert.match(warnings.join('\n'), /r8\.json: not a runbook record, ignored: it holds the run of r7/);
    assert.deepEqual((await s.log({ resource: 'r0' })).map((e) => e.step), ['down', 'create-md']);
    assert.deepEqual(await s.log({ resource: 'r1' }), []);
  });

  test('the log rotates to audit.log.1 past its size; runbook-log reads both, newest last, limited', async () => {
    const d = join(dir, 'rot');
    const s = new RunbookStore(d, 1000);
    await s.load();
    for (let i = 0; i < 12; i++) await s.put({ record: run({ seq: i + 1 }), entry: entry({ detail: `n${i}` }) });
    const files = (await readdir(d)).sort();
    assert.deepEqual(files, ['audit.log', 'audit.log.1', 'r0.json']);
    for (const f of ['audit.log', 'audit.log.1']) assert.ok((await stat(join(d, f))).size <= 1000, f);
    const all = await s.log({ limit: 5000 });
    assert.ok(all.length < 12, 'the oldest are dropped with the second rotation');
    assert.equal(all.at(-1)!.detail, 'n11');
    assert.deepEqual((await s.log({ limit: 2 })).map((e) => e.detail), ['n10', 'n11']);
    // Oldest first across both files.
    const n = all.map((e) => Number(e.detail!.slice(1)));
    assert.deepEqual(n, [...n].sort((a, b) => a - b));
  });

  test('a line cut by a crash mid-append does not hide the others', async () => {
    const d = join(dir, 'cut');
    const s = new RunbookStore(d);
    await s.load();
    await s.put({ record: run(), entry: entry({ detail: 'before' }) });
    await writeFile(join(d, 'audit.log'), (await readFile(join(d, 'audit.log'), 'utf8')) + '{"time":"2026-12');
    await s.put({ record: run({ seq: 2 }), entry: entry({ detail: 'after' }) });
    assert.deepEqual((await s.log()).map((e) => e.detail), ['before', 'after']);
  });
});
