// The Prometheus text of snapshots folded from the event transcripts in fixtures/events/,
// against golden files in fixtures/metrics/ (written by hand-checking, then kept; set
// DRBD_TUI_WRITE_GOLDEN=1 to rewrite them after a deliberate change), and value by value.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { parseEvents } from '../../../agent/protocol/events2.js';
import { agentDownText, labelValue, MAX_INITIATOR_SERIES, METRIC_NAMES, OTHER_INITIATORS, prometheusText, sessionsByInitiator } from '../../../agent/metrics/prometheus.js';
import type { AgentSnapshot, ResourceSnapshot } from '../../../agent/protocol/messages.js';
import { foldEvents } from '../../../src/cluster/host-view.js';

/** A host's snapshot after the first `events` lines of a transcript (all by default). */
function snapshotOf(scenario: string, host: 'ha-a' | 'ha-b', events?: number): AgentSnapshot {
  const all = parseEvents(readFileSync(`fixtures/events/${scenario}.${host}.events2`, 'utf8')).events;
  const view = foldEvents(events === undefined ? all : all.slice(0, events));
  return { node: host, agentVersion: '0.1.0', resources: view.resources, configErrors: view.configErrors, notUp: view.notUp };
}

/** The value of the one sample whose name and labels are `series` exactly as printed. */
function value(text: string, series: string): number {
  const lines = text.split('\n').filter((l) => l.startsWith(`${series} `));
  assert.equal(lines.length, 1, `one sample ${series} in:\n${text}`);
  return Number(lines[0]!.slice(series.length + 1));
}

const GOLDEN: Array<{ file: string; snap: () => AgentSnapshot }> = [
  { file: 'primary-iscsi.ha-a.prom', snap: () => snapshotOf('primary-iscsi', 'ha-a') },
  { file: 'initial-sync.ha-a.prom', snap: () => snapshotOf('initial-sync', 'ha-a', 10) },
  { file: 'split-brain.ha-b.prom', snap: () => snapshotOf('split-brain', 'ha-b') },
];

for (const g of GOLDEN) {
  test(`golden: ${g.file}`, () => {
    const path = `fixtures/metrics/${g.file}`;
    const text = prometheusText(g.snap());
    if (process.env.DRBD_TUI_WRITE_GOLDEN === '1') writeFileSync(path, text);
    assert.equal(text, readFileSync(path, 'utf8'));
  });
}

const R0 = 'name="r0"';
const CONN = `${R0},conn_name="ha-b",peer_node_id="1"`;
const PD = `${CONN},volume="0"`;
const DEV = `${R0},volume="0",minor="1"`;

test('values as drbd-reactor encodes them: enums one series per state named after the metric, booleans 0/1, KiB as bytes', () => {
  const mid = prometheusText(snapshotOf('initial-sync', 'ha-a', 10));
  const cases: Array<[string, number]> = [
    [`drbd_resource_role{${R0},drbd_resource_role="Primary"}`, 1],
    [`drbd_resource_role{${R0},drbd_resource_role="Secondary"}`, 0],
    [`drbd_resource_role{${R0},drbd_resource_role="Unknown"}`, 0],
    [`drbd_resource_suspended{${R0}}`, 0],
    [`drbd_connection_state{${CONN},drbd_connection_state="Connected"}`, 1],
    [`drbd_connection_state{${CONN},drbd_connection_state="StandAlone"}`, 0],
    [`drbd_device_state{${DEV},drbd_device_state="UpToDate"}`, 1],
    [`drbd_device_size_bytes{${DEV}}`, 1048576 * 1024],
    [`drbd_device_read_bytes_total{${DEV}}`, 2104 * 1024],
    [`drbd_device_alwrites_total{${DEV}}`, 3],
    [`drbd_device_quorum{${DEV}}`, 1],
    [`drbd_peerdevice_outofsync_bytes{${PD}}`, 917504 * 1024],
    [`drbd_peerdevice_sent_bytes{${PD}}`, 131072 * 1024],
    [`drbdtui_peerdevice_replication_state{${PD},drbdtui_peerdevice_replication_state="SyncSource"}`, 1],
    [`drbdtui_peerdevice_peer_disk_state{${PD},drbdtui_peerdevice_peer_disk_state="Inconsistent"}`, 1],
    [`drbdtui_peerdevice_resync_bytes_per_second{${PD}}`, Math.round(38.2 * 1024 * 1024)],
    [`drbdtui_peerdevice_resync_eta_seconds{${PD}}`, 24],
    [`drbdtui_peerdevice_resync_done_ratio{${PD}}`, 0.125],
    [`drbdtui_resource_split_brain{${R0}}`, 0],
    ['drbdtui_agent_up', 1],
    ['drbd_resource_resources', 1],
  ];
  for (const [series, want] of cases) assert.equal(value(mid, series), want, series);
  // Each enum has exactly one state set.
  for (const family of ['drbd_resource_role', 'drbd_connection_state', 'drbd_device_state', 'drbdtui_peerdevice_replication_state']) {
    assert.equal(mid.split('\n').filter((l) => l.startsWith(`${family}{`) && l.endsWith(' 1')).length, 1, family);
  }

  const sb = prometheusText(snapshotOf('split-brain', 'ha-b'));
  assert.equal(value(sb, `drbdtui_resource_split_brain{${R0}}`), 1);
  assert.equal(value(sb, `drbd_connection_state{name="r0",conn_name="ha-a",peer_node_id="0",drbd_connection_state="StandAlone"}`), 1);

  const idle = prometheusText(snapshotOf('primary-iscsi', 'ha-a'));
  assert.equal(value(idle, `drbdtui_peerdevice_resync_bytes_per_second{${PD}}`), 0, 'no resync: rate 0');
  assert.ok(!idle.includes('drbdtui_peerdevice_resync_eta_seconds'), 'no resync: no ETA, rather than a false 0');

  const served = prometheusText(snapshotOf('primary-iscsi', 'ha-a'));
  assert.equal(value(served, `drbdtui_iscsi_target_running{${R0},iqn="iqn.2026-11.com.example:r0"}`), 1);
  assert.equal(value(served, `drbdtui_iscsi_sessions{${R0},initiator="iqn.1991-05.com.microsoft:win-fs01"}`), 1);
  assert.equal(value(served, `drbd_device_open{${DEV}}`), 1);
});

test('every family has HELP and TYPE once, before its samples, and only families of the table appear', () => {
  const text = prometheusText(snapshotOf('primary-iscsi', 'ha-a'));
  const seen: string[] = [];
  let current = '';
  for (const line of text.trimEnd().split('\n')) {
    const help = /^# HELP (\S+) \S/.exec(line);
    if (help) {
      assert.ok(!seen.includes(help[1]!), `HELP ${help[1]} twice`);
      seen.push(help[1]!);
      current = help[1]!;
      continue;
    }
    if (line.startsWith('# TYPE ')) {
      assert.match(line, new RegExp(`^# TYPE ${current} (gauge|counter)$`));
      continue;
    }
    assert.ok(line.startsWith(current + '{') || line.startsWith(current + ' '), `sample ${line} under ${current}`);
  }
  for (const name of seen) assert.ok((METRIC_NAMES as string[]).includes(name));
});

test('hostile names: quotes, backslashes, newlines, escape sequences and floods stay inside one capped label value', () => {
  const table: Array<[string, string]> = [
    ['iqn.2026-11.example:plain', 'iqn.2026-11.example:plain'],
    ['a"b', 'a\\"b'],
    ['a\\b', 'a\\\\b'],
    ['x"} 1\ndrbd_resource_role{name="r0",drbd_resource_role="Primary"} 1', 'x\\"} 1\\\\ndrbd_resource_role{name=\\"r0\\",drbd_resource_role=\\"Primary\\"} 1'],
    ['\x1b[2Jevil\u202e', '\\\\x1b[2Jevil\\\\u202e'],
    ['\ud800lone', '\\\\ud800lone'],
  ];
  for (const [raw, want] of table) assert.equal(labelValue(raw), want, JSON.stringify(raw));
  const flood = labelValue('i'.repeat(100_000));
  assert.ok(flood.length < 300, `capped: ${flood.length}`);
  assert.match(flood, /…\(100000 chars\)$/);

  const base = snapshotOf('primary-iscsi', 'ha-a');
  const r = base.resources[0]!;
  const hostile: ResourceSnapshot = {
    ...r,
    target: { ...r.target!, sessions: [{ id: '9', initiator: 'x"} 1\ndrbdtui_agent_up 0\n#', address: '10.77.0.66:1', since: '2026-11-22T03:58:01.000Z' }] },
  };
  const text = prometheusText({ ...base, resources: [hostile] });
  const lines = text.split('\n');
  assert.equal(lines.filter((l) => l.startsWith('drbdtui_agent_up')).length, 1, 'no forged sample');
  assert.ok(lines.includes('drbdtui_iscsi_sessions{name="r0",initiator="x\\"} 1\\\\ndrbdtui_agent_up 0\\\\n#"} 1'), text);
});

test('sessions per initiator: counted, the most frequent first, the rest past the cap under one series', () => {
  assert.deepEqual(sessionsByInitiator(['b', 'a', 'b']), [['b', 2], ['a', 1]]);
  const many = Array.from({ length: 1000 }, (_, i) => `iqn.flood:${i}`);
  const rows = sessionsByInitiator([...many, 'iqn.real', 'iqn.real']);
  assert.equal(rows.length, MAX_INITIATOR_SERIES);
  assert.deepEqual(rows[0], ['iqn.real', 2]);
  assert.deepEqual(rows.at(-1), [OTHER_INITIATORS, 1000 - (MAX_INITIATOR_SERIES - 2)]);
  assert.equal(rows.reduce((n, [, c]) => n + c, 0), 1002);
});

test('the daemon not answering: agent_up 0, so a textfile written from it does not keep the last good state', () => {
  assert.equal(agentDownText('0.1.0'), '# HELP drbdtui_agent_up Whether the drbd-tui agent daemon answered (1) or not (0)\n# TYPE drbdtui_agent_up gauge\ndrbdtui_agent_up 0\n# HELP drbdtui_agent_info The drbd-tui agent version and node name; always 1\n# TYPE drbdtui_agent_info gauge\ndrbdtui_agent_info{version="0.1.0"} 1\n');
});

test('resources not up and config errors are counted; the undo journal and service address appear when there are any', () => {
  const base = snapshotOf('primary-iscsi', 'ha-a');
  const r = base.resources[0]!;
  const text = prometheusText({
    ...base,
    configErrors: [{ file: '/etc/drbd-tui/r9.yaml', line: 1, col: 1, message: 'bad' }],
    notUp: [{ name: 'r3', file: '/etc/drbd-tui/r3.yaml', cause: 'metadata-missing', reason: 'no metadata', next: 'drbd-agent create-md r3', volumes: [0] }],
    resources: [{ ...r, devices: r.devices.map((d) => ({ ...d, undoJournal: { used: 4096, capacity: 1 << 20 } })), target: { ...r.target!, serviceAddress: { address: '10.77.0.100/24', interface: 'eth0', held: true } } }],
  });
  assert.equal(value(text, 'drbdtui_agent_config_errors'), 1);
  assert.equal(value(text, 'drbdtui_resource_not_up{name="r3",cause="metadata-missing"}'), 1);
  assert.equal(value(text, `drbdtui_device_undo_journal_used_bytes{${DEV}}`), 4096);
  assert.equal(value(text, `drbdtui_device_undo_journal_capacity_bytes{${DEV}}`), 1 << 20);
  assert.equal(value(text, 'drbdtui_service_address_held{name="r0",address="10.77.0.100/24"}'), 1);
  assert.ok(!prometheusText(base).includes('undo_journal'));
});

test("the README's metric list names every family", () => {
  const readme = readFileSync('README.md', 'utf8');
  const section = readme.slice(readme.indexOf('### Prometheus'), readme.indexOf('### Alert rules'));
  for (const name of METRIC_NAMES) assert.ok(section.includes(`\`${name}\``), `${name} is not in README's Prometheus section`);
});
