// The agent's snapshot as Prometheus text (exposition format 0.0.4), for node_exporter's
// textfile collector (`drbd-agent metrics`) and for the daemon's optional HTTP endpoint.
// The `drbd_` families carry drbd-reactor's prometheus plugin's names, types, labels and
// encodings (bytes where DRBD counts KiB, booleans as 0/1, an enum as one series per state
// with the metric's own name as the state's label, as drbd-reactor writes with `enums = true`),
// so dashboards and alert rules written for drbd-reactor work unchanged. What DRBD has no word
// for is ours, under `drbdtui_`. Pure: a snapshot in, text out.
import type { AgentSnapshot, ResourceSnapshot } from '../protocol/messages.js';
import type { ConnState, DiskState, ReplState, Role } from '../drbd-states.js';
import { DISPLAY_LIMIT, untrustedText } from '../protocol/untrusted-text.js';

type MetricType = 'gauge' | 'counter';

/** Every family, in the order they are printed: one table for the whole vocabulary. */
const FAMILIES = {
  drbd_resource_resources: ['gauge', 'Number of resources'],
  drbd_resource_role: ['gauge', 'DRBD role of the resource'],
  drbd_resource_suspended: ['gauge', 'Boolean whether the resource is suspended'],
  drbd_resource_maypromote: ['gauge', 'Boolean whether the resource may be promoted to Primary'],
  drbd_resource_promotionscore: ['gauge', 'The promotion score (higher is better) for the resource'],
  drbd_resource_forceiofailures: ['gauge', 'Boolean whether the resource is configured (could be temporarily) to force IO failures (e.g., during secondary --force)'],
  drbd_connection_state: ['gauge', 'DRBD connection state'],
  drbd_connection_congested: ['gauge', 'Boolean whether the TCP send buffer of the data connection is more than 80% filled'],
  drbd_connection_apinflight_bytes: ['gauge', 'Number of application requests in flight (not completed)'],
  drbd_connection_rsinflight_bytes: ['gauge', 'Number of resync requests in flight'],
  drbd_peerdevice_outofsync_bytes: ['gauge', 'Number of bytes currently out of sync with this peer, according to the bitmap that DRBD has for it'],
  drbd_peerdevice_sent_bytes: ['counter', 'Number of bytes currently sent to this peer'],
  drbd_peerdevice_received_bytes: ['counter', 'Number of bytes currently received from this peer'],
  drbd_device_state: ['gauge', 'DRBD device state'],
  drbd_device_client: ['gauge', 'Boolean whether this device is a client (i.e., intentional diskless)'],
  drbd_device_unintentionaldiskless: ['gauge', 'Boolean whether the devices is unintentional diskless'],
  drbd_device_quorum: ['gauge', 'Boolean if this device has DRBD quorum'],
  drbd_device_open: ['gauge', 'Boolean if this device is opened'],
  drbd_device_size_bytes: ['gauge', 'Device size in bytes'],
  drbd_device_read_bytes_total: ['counter', 'Net data read from local hard disk'],
  drbd_device_written_bytes_total: ['counter', 'Net data written on local disk'],
  drbd_device_alwrites_total: ['counter', 'Number of updates of the activity log area of the meta data'],
  drbd_device_bmwrites_total: ['counter', 'Number of updates of the bitmap area of the meta data'],
  drbd_device_upperpending: ['gauge', 'Number of block I/O requests forwarded to DRBD, but not yet answered by DRBD.'],
  drbd_device_lowerpending: ['gauge', 'Number of open requests to the local I/O sub-system issued by DRBD'],
  drbd_device_alsuspended: ['gauge', 'Boolean whether the Activity-Log is suspended'],
  drbdtui_agent_up: ['gauge', 'Whether the drbd-tui agent daemon answered (1) or not (0)'],
  drbdtui_agent_info: ['gauge', 'The drbd-tui agent version and node name; always 1'],
  drbdtui_agent_config_errors: ['gauge', 'Number of resource files that do not load'],
  drbdtui_resource_not_up: ['gauge', 'A resource with a file on this host that is not up, by cause (down: configured, nothing in the way); always 1'],
  drbdtui_config_info: ['gauge', "The resource file's meaning as a hash, the same on both hosts when they run the same configuration; always 1"],
  drbdtui_resource_split_brain: ['gauge', 'Boolean whether a split brain was detected on a connection of the resource and is not resolved'],
  drbdtui_peerdevice_replication_state: ['gauge', 'DRBD replication state towards this peer'],
  drbdtui_peerdevice_peer_disk_state: ['gauge', "The peer's disk state as this node sees it"],
  drbdtui_peerdevice_resync_bytes_per_second: ['gauge', 'Resync (or online verify) rate over the last interval in bytes per second; 0 when none runs'],
  drbdtui_peerdevice_resync_eta_seconds: ['gauge', 'Estimated seconds until the running resync ends; only while one runs'],
  drbdtui_peerdevice_resync_done_ratio: ['gauge', 'Fraction of the running resync done, 0 to 1; only while one runs'],
  drbdtui_device_undo_journal_used_bytes: ['gauge', "Bytes held by the consistent resync target's undo journal; only while one is in use"],
  drbdtui_device_undo_journal_capacity_bytes: ['gauge', "Bytes the undo journal may hold; only while one is in use"],
  drbdtui_iscsi_target_running: ['gauge', "Boolean whether the resource's iSCSI target runs on this host"],
  drbdtui_iscsi_sessions: ['gauge', 'iSCSI sessions logged in to the target, by initiator name'],
  drbdtui_service_address_held: ['gauge', "Boolean whether this host holds the resource's iSCSI service address"],
} as const satisfies Record<string, readonly [MetricType, string]>;

export type MetricName = keyof typeof FAMILIES;

/** The family names, for documentation and tests. */
export const METRIC_NAMES = Object.keys(FAMILIES) as MetricName[];

// drbd-reactor's enum states, in its order; a Record so a state added to protocol/messages.ts must be added here.
const ROLES: Record<Role, true> = { Unknown: true, Primary: true, Secondary: true };
const DISK_STATES: Record<DiskState, true> = {
  Diskless: true,
  Attaching: true,
  Detaching: true,
  Failed: true,
  Negotiating: true,
  Inconsistent: true,
  Outdated: true,
  DUnknown: true,
  Consistent: true,
  UpToDate: true,
};
const CONN_STATES: Record<ConnState, true> = {
  StandAlone: true,
  Disconnecting: true,
  Unconnected: true,
  Timeout: true,
  BrokenPipe: true,
  NetworkFailure: true,
  ProtocolError: true,
  TearDown: true,
  Connecting: true,
  Connected: true,
};
const REPL_STATES: Record<ReplState, true> = {
  Off: true,
  Established: true,
  StartingSyncS: true,
  StartingSyncT: true,
  WFBitMapS: true,
  WFBitMapT: true,
  WFSyncUUID: true,
  SyncSource: true,
  SyncTarget: true,
  VerifyS: true,
  VerifyT: true,
  PausedSyncS: true,
  PausedSyncT: true,
  Ahead: true,
  Behind: true,
};

/**
 * Initiator names come from the network: each distinct one is a series, so past this many the
 * rest of a resource's sessions are counted under OTHER_INITIATORS, and a flood of names cannot
 * grow the scrape without bound.
 */
export const MAX_INITIATOR_SERIES = 32;
/** Not an iSCSI name (those start with iqn., eui. or naa.), so it names no real initiator. */
export const OTHER_INITIATORS = '(others)';

type Labels = ReadonlyArray<readonly [string, string]>;

/** A label value as the exposition format wants it: made safe to show and capped first, then `\`, `"` and newline escaped. */
export function labelValue(v: string): string {
  return untrustedText(v, DISPLAY_LIMIT).replace(/[\\"\n]/g, (c) => (c === '\n' ? '\\n' : `\\${c}`));
}

function helpText(v: string): string {
  return v.replace(/[\\\n]/g, (c) => (c === '\n' ? '\\n' : '\\\\'));
}

function sampleValue(v: number): string {
  if (Number.isFinite(v)) return String(v);
  return Number.isNaN(v) ? 'NaN' : v > 0 ? '+Inf' : '-Inf';
}

class Exposition {
  private readonly samples = new Map<MetricName, string[]>();

  add(name: MetricName, labels: Labels, value: number | boolean): void {
    const text = labels.length === 0 ? '' : `{${labels.map(([k, v]) => `${k}="${labelValue(v)}"`).join(',')}}`;
    let list = this.samples.get(name);
    if (!list) this.samples.set(name, (list = []));
    list.push(`${name}${text} ${sampleValue(typeof value === 'boolean' ? Number(value) : value)}`);
  }

  /** drbd-reactor's enum: one series per state, labelled with the metric's name, 1 for the current one. */
  addEnum<S extends string>(name: MetricName, labels: Labels, states: Record<S, true>, current: S): void {
    for (const s of Object.keys(states) as S[]) this.add(name, [...labels, [name, s]], s === current);
  }

  text(): string {
    let out = '';
    for (const name of METRIC_NAMES) {
      const list = this.samples.get(name);
      if (!list) continue;
      const [type, help] = FAMILIES[name];
      out += `# HELP ${name} ${helpText(help)}\n# TYPE ${name} ${type}\n${list.join('\n')}\n`;
    }
    return out;
  }
}

const KIB = 1024;
const MIB = 1024 * 1024;

function resourceMetrics(m: Exposition, r: ResourceSnapshot): void {
  const name: Labels = [['name', r.name]];
  m.addEnum('drbd_resource_role', name, ROLES, r.role);
  m.add('drbd_resource_suspended', name, r.suspended);
  m.add('drbd_resource_maypromote', name, r.mayPromote);
  m.add('drbd_resource_promotionscore', name, r.promotionScore);
  // This engine has no `secondary --force`, so it never forces I/O failures.
  m.add('drbd_resource_forceiofailures', name, false);
  m.add('drbdtui_config_info', [...name, ['hash', r.configHash]], 1);
  m.add('drbdtui_resource_split_brain', name, r.connections.some((c) => c.splitBrain));
  for (const c of r.connections) {
    const conn: Labels = [...name, ['conn_name', c.connName], ['peer_node_id', String(c.peerNodeId)]];
    m.addEnum('drbd_connection_state', conn, CONN_STATES, c.connection);
    for (const p of c.peerDevices) {
      const pd: Labels = [...conn, ['volume', String(p.volume)]];
      m.add('drbd_peerdevice_outofsync_bytes', pd, p.outOfSync * KIB);
      m.add('drbd_peerdevice_sent_bytes', pd, p.sent * KIB);
      m.add('drbd_peerdevice_received_bytes', pd, p.received * KIB);
      m.addEnum('drbdtui_peerdevice_replication_state', pd, REPL_STATES, p.replication);
      m.addEnum('drbdtui_peerdevice_peer_disk_state', pd, DISK_STATES, p.peerDisk);
      const syncing = p.done !== undefined;
      m.add('drbdtui_peerdevice_resync_bytes_per_second', pd, syncing ? Math.round((p.dbdt1 ?? 0) * MIB) : 0);
      if (syncing && p.eta !== undefined) m.add('drbdtui_peerdevice_resync_eta_seconds', pd, p.eta);
      if (syncing) m.add('drbdtui_peerdevice_resync_done_ratio', pd, Math.min(1, Math.max(0, p.done! / 100)));
    }
    m.add('drbd_connection_congested', conn, c.congested);
    m.add('drbd_connection_apinflight_bytes', conn, c.apInFlight * KIB);
    m.add('drbd_connection_rsinflight_bytes', conn, c.rsInFlight * KIB);
  }
  for (const d of r.devices) {
    const dev: Labels = [...name, ['volume', String(d.volume)], ['minor', String(d.minor)]];
    m.addEnum('drbd_device_state', dev, DISK_STATES, d.disk);
    // No diskless clients in this engine: a Diskless device is never intentional.
    m.add('drbd_device_client', dev, false);
    m.add('drbd_device_unintentionaldiskless', dev, d.disk === 'Diskless');
    // Without a quorum policy DRBD reports quorum, as `status --json` does here.
    m.add('drbd_device_quorum', dev, true);
    m.add('drbd_device_open', dev, d.open);
    m.add('drbd_device_size_bytes', dev, d.size * KIB);
    m.add('drbd_device_read_bytes_total', dev, d.read * KIB);
    m.add('drbd_device_written_bytes_total', dev, d.written * KIB);
    m.add('drbd_device_alwrites_total', dev, d.alWrites);
    m.add('drbd_device_bmwrites_total', dev, d.bmWrites);
    m.add('drbd_device_upperpending', dev, d.upperPending);
    m.add('drbd_device_lowerpending', dev, d.lowerPending);
    m.add('drbd_device_alsuspended', dev, d.alSuspended);
    if (d.undoJournal) {
      m.add('drbdtui_device_undo_journal_used_bytes', dev, d.undoJournal.used);
      m.add('drbdtui_device_undo_journal_capacity_bytes', dev, d.undoJournal.capacity);
    }
  }
  const t = r.target;
  if (t) {
    m.add('drbdtui_iscsi_target_running', [...name, ['iqn', t.iqn]], t.state === 'running');
    for (const [initiator, count] of sessionsByInitiator(t.sessions.map((s) => s.initiator))) m.add('drbdtui_iscsi_sessions', [...name, ['initiator', initiator]], count);
    if (t.serviceAddress) m.add('drbdtui_service_address_held', [...name, ['address', t.serviceAddress.address]], t.serviceAddress.held);
  }
}

/** Sessions counted per initiator name, the first MAX_INITIATOR_SERIES names by count (then name), the rest as OTHER_INITIATORS. */
export function sessionsByInitiator(initiators: readonly string[]): Array<[string, number]> {
  const counts = new Map<string, number>();
  for (const i of initiators) counts.set(i, (counts.get(i) ?? 0) + 1);
  const sorted = [...counts].sort(([a, x], [b, y]) => y - x || (a < b ? -1 : a > b ? 1 : 0));
  if (sorted.length <= MAX_INITIATOR_SERIES) return sorted;
  const kept = sorted.slice(0, MAX_INITIATOR_SERIES - 1);
  const rest = sorted.slice(MAX_INITIATOR_SERIES - 1).reduce((n, [, c]) => n + c, 0);
  return [...kept, [OTHER_INITIATORS, rest]];
}

export function prometheusText(snap: AgentSnapshot): string {
  const m = new Exposition();
  m.add('drbdtui_agent_up', [], 1);
  m.add('drbdtui_agent_info', [['version', snap.agentVersion], ['node', snap.node]], 1);
  m.add('drbdtui_agent_config_errors', [], snap.configErrors.length);
  m.add('drbd_resource_resources', [], snap.resources.length);
  for (const r of snap.resources) resourceMetrics(m, r);
  for (const n of snap.notUp ?? []) m.add('drbdtui_resource_not_up', [['name', n.name], ['cause', n.cause]], 1);
  return m.text();
}

/** What `drbd-agent metrics` prints when the daemon does not answer: the textfile then says so instead of going stale. */
export function agentDownText(version: string): string {
  const m = new Exposition();
  m.add('drbdtui_agent_up', [], 0);
  m.add('drbdtui_agent_info', [['version', version]], 1);
  return m.text();
}
