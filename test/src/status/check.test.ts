import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { parseEventLine } from '../../../src/cluster/events2.js';
import { applyHostEvent, createModel, setReachability, type HostIndex } from '../../../src/cluster/model.js';
import { checkVerdict, KIND_NAMES, parseOverrides, PROBLEM_KINDS, unknownVerdict } from '../../../src/status/check.js';
import { statusReport } from '../../../src/status/report.js';
import { loadScenario, SCENARIOS, type Scenario } from '../cluster/fixtures.js';

const TIME = '2026-11-22T04:00:00.000Z';
const IN_SYNC = (v: string) => `'${v}_out_of_sync'=0B;;;0 '${v}_sync_done'=100%;;;0;100`;
const UNSEEN = (v: string) => `'${v}_out_of_sync'=U;;;0 '${v}_sync_done'=U;;;0;100`;

const report = (s: Scenario) => statusReport(loadScenario(s), TIME);

describe('drbd-tui check', () => {
  test('every scenario: exit code, one line, perfdata per volume', () => {
    const expected: Record<Scenario, { code: number; line: string }> = {
      healthy: { code: 0, line: `DRBD-TUI OK - ha-a, ha-b: 2 resources, 3 volumes, no problems | ${IN_SYNC('r0/0')} ${IN_SYNC('r1/0')} ${IN_SYNC('r1/1')}` },
      'primary-iscsi': { code: 0, line: `DRBD-TUI OK - ha-a, ha-b: 1 resource, 1 volume, no problems | ${IN_SYNC('r0/0')}` },
      'initial-sync': { code: 1, line: `DRBD-TUI WARNING - r0/0 sync ha-a → ha-b 62.50%, ETA 10s | 'r0/0_out_of_sync'=402653184B;;;0 'r0/0_sync_done'=62.50%;;;0;100` },
      'peer-down': { code: 1, line: `DRBD-TUI WARNING - r0 degraded: ha-a not connected to its peer (Connecting) | ${UNSEEN('r0/0')}` },
      'outdated-peer': { code: 1, line: `DRBD-TUI WARNING - r0 StandAlone on ha-b: it will not reconnect by itself; r0/0 Outdated on ha-b (degraded: only ha-a has UpToDate data) | ${UNSEEN('r0/0')}` },
      'config-drift': {
        code: 1,
        line: `DRBD-TUI WARNING - ha-b: /etc/drbd-tui/r2.yaml:4:11: protocol: expected A, B or C, got "D"; config drift: r0: ha-a and ha-b run different resource files (config hashes differ); C on the host whose file is right copies it to the other | ${IN_SYNC('r0/0')}`,
      },
      'split-brain': { code: 2, line: `DRBD-TUI CRITICAL - SPLIT BRAIN on r0: both nodes wrote while apart; choose the victim and run the split-brain recovery runbook (r) | ${UNSEEN('r0/0')}` },
      unreachable: { code: 2, line: `DRBD-TUI CRITICAL - ha-b unreachable: connect ETIMEDOUT 10.77.0.12:22 | ${UNSEEN('r0/0')}` },
    };
    for (const s of SCENARIOS) assert.deepEqual(checkVerdict(report(s)), expected[s], s);
  });

  test('by role: a failed disk is CRITICAL on the Primary, WARNING on the Secondary', () => {
    const failed = (i: HostIndex) => statusReport(applyHostEvent(loadScenario('primary-iscsi'), i, parseEventLine('change device name:r0 volume:0 minor:1 disk:Failed')!), TIME);
    const onPrimary = checkVerdict(failed(0));
    assert.equal(onPrimary.code, 2);
    assert.match(onPrimary.line, /^DRBD-TUI CRITICAL - r0\/0 Failed on ha-a/);
    const onSecondary = checkVerdict(failed(1));
    assert.equal(onSecondary.code, 1);
    assert.match(onSecondary.line, /^DRBD-TUI WARNING - r0\/0 Failed on ha-b/);
  });

  test('the worst problem leads the summary, by the check states rather than the console severities', () => {
    // ha-a is Primary: its StandAlone (warn to the console) is CRITICAL here; ha-b's Failed disk (an alert) is WARNING.
    const problems = [
      { severity: 'alert' as const, id: 'disk:r0/0:1', resource: 'r0', volume: 0, host: 'ha-b', text: 'r0/0 Failed on ha-b' },
      { severity: 'warn' as const, id: 'standalone:r0:0', resource: 'r0', host: 'ha-a', text: 'r0 StandAlone on ha-a' },
    ];
    assert.match(checkVerdict({ ...report('primary-iscsi'), problems }).line, /^DRBD-TUI CRITICAL - r0 StandAlone on ha-a; r0\/0 Failed on ha-b \| /);
  });

  test('both hosts unreachable is CRITICAL (the check ran; nothing answered), with no perfdata to give', () => {
    let m = createModel('ha-a', 'ha-b', { readOnly: true });
    m = setReachability(m, 0, { state: 'unreachable', error: 'connect ECONNREFUSED' });
    m = setReachability(m, 1, { state: 'agent-not-running' });
    assert.deepEqual(checkVerdict(statusReport(m, TIME)), { code: 2, line: 'DRBD-TUI CRITICAL - ha-a unreachable: connect ECONNREFUSED; ha-b agent not running' });
  });

  test('overrides: --ok-on drops a kind (and says so), --crit-on and --warn-on move it', () => {
    assert.deepEqual(checkVerdict(report('initial-sync'), { overrides: { sync: 'ok' } }).line.split(' | ')[0], 'DRBD-TUI OK - ha-a, ha-b: 1 resource, 1 volume, no problems (1 ignored by --ok-on)');
    assert.equal(checkVerdict(report('initial-sync'), { overrides: { sync: 'ok' } }).code, 0);
    assert.equal(checkVerdict(report('config-drift'), { overrides: { 'config-drift': 'critical' } }).code, 2);
    assert.equal(checkVerdict(report('unreachable'), { overrides: { host: 'warning' } }).code, 1);
    // Only the kind named moves: the config error stays WARNING.
    const drift = checkVerdict(report('config-drift'), { overrides: { 'config-drift': 'ok' } });
    assert.equal(drift.code, 1);
    assert.match(drift.line, /^DRBD-TUI WARNING - ha-b: \/etc\/drbd-tui\/r2\.yaml:4:11: .* \(1 ignored by --ok-on\) \| /);
    // A by-role kind overridden is that state on either role.
    assert.equal(checkVerdict(report('outdated-peer'), { overrides: { disk: 'critical' } }).code, 2);
  });

  test('a summary stays one line: no | or newline from a problem text, at most 5 problems then a count', () => {
    const r = report('healthy');
    const many = Array.from({ length: 7 }, (_, n) => ({ severity: 'warn' as const, id: `config-drift:r${n}`, text: `p${n} a|b\nc` }));
    const { line } = checkVerdict({ ...r, problems: many });
    assert.equal(line.split('|').length, 2);
    assert.doesNotMatch(line, /\n/);
    assert.match(line, /^DRBD-TUI WARNING - p0 a b c; p1 a b c; p2 a b c; p3 a b c; p4 a b c; \+2 more \| 'r0\/0_out_of_sync'/);
  });

  test('UNKNOWN: exit 3 and the reason', () => {
    assert.deepEqual(unknownVerdict('usage: check needs exactly two hosts (got 1)'), { code: 3, line: 'DRBD-TUI UNKNOWN - usage: check needs exactly two hosts (got 1)' });
  });

  test('parseOverrides: comma lists, unknown or empty kinds name every kind, one kind in two flags is refused', () => {
    assert.deepEqual(parseOverrides({ warning: 'host,split-brain', ok: 'config-drift', critical: 'sync' }), { overrides: { host: 'warning', 'split-brain': 'warning', 'config-drift': 'ok', sync: 'critical' } });
    assert.deepEqual(parseOverrides({}), { overrides: {} });
    const table: [Parameters<typeof parseOverrides>[0], string][] = [
      [{ warning: 'host,nope' }, `--warn-on host,nope: unknown kind 'nope'; kinds: ${KIND_NAMES.join(', ')}`],
      [{ critical: 'sync,' }, `--crit-on sync,: an empty kind; kinds: ${KIND_NAMES.join(', ')}`],
      [{ warning: 'sync', ok: 'sync' }, 'sync is given to both --warn-on and --ok-on: choose one'],
    ];
    for (const [flags, error] of table) assert.deepEqual(parseOverrides(flags), { error }, JSON.stringify(flags));
  });

  test('PROBLEM_KINDS covers every problem id that src/cluster/problems.ts makes', () => {
    const src = readFileSync(new URL('../../../src/cluster/problems.ts', import.meta.url), 'utf8');
    const prefixes = new Set([...src.matchAll(/\bid(?::\s*|\s*=\s*)`([a-z-]+):/g)].map((x) => x[1]!));
    assert.ok(prefixes.size >= 20, `found only ${[...prefixes].join(', ')}: has the id syntax changed?`);
    assert.deepEqual([...prefixes].filter((p) => !(p in PROBLEM_KINDS)), []);
    assert.deepEqual(KIND_NAMES.filter((k) => !prefixes.has(k)), [], 'a kind no problem has');
  });
});

test("the README's kind table gives every kind its state (one row each)", () => {
  const readme = readFileSync(new URL('../../../README.md', import.meta.url), 'utf8');
  const section = readme.slice(readme.indexOf('### Nagios/Icinga'), readme.indexOf('## iSCSI target'));
  const rows = section.split('\n').filter((l) => l.startsWith('| `'));
  const shown = { critical: 'CRITICAL', warning: 'WARNING', 'by-role': 'by role: CRITICAL', ok: 'OK' } as const;
  for (const k of KIND_NAMES) {
    const row = rows.filter((r) => [...r.split('|')[1]!.matchAll(/`([a-z-]+)`/g)].some((x) => x[1] === k));
    assert.equal(row.length, 1, `${k}: one row of the README's kind table`);
    assert.ok(row[0]!.split('|')[2]!.trim().startsWith(shown[PROBLEM_KINDS[k]]), `${k} is ${PROBLEM_KINDS[k]}: ${row[0]}`);
  }
});
