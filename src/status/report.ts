// `drbd-tui status`: the one-shot report, derived from the cluster model and its problems.
// Pure: model in, the documented JSON shape (README "drbd-tui status --json") and the exit
// code out — 0 healthy, 1 degraded, 2 a host cannot be reached — for cron, Zabbix, Nagios.
import { notUpPhrase } from '../../agent/protocol/not-up.js';
import type { NotUpCause, NotUpResource } from '../../agent/protocol/messages.js';
import { deriveProblems, type Problem } from '../cluster/problems.js';
import { reachText, resourceRows, type ClusterModel } from '../cluster/model.js';

export type OverallStatus = 'healthy' | 'degraded' | 'unreachable';

export interface StatusHostJson {
  name: string;
  /** The agent's node name (empty when never reached). */
  node: string;
  reach: 'up' | 'connecting' | 'unreachable' | 'agent-not-running';
  error?: string;
  agentVersion?: string;
  latencyMs?: number;
}

export interface StatusSideJson {
  host: string;
  present: boolean;
  role: string;
  disk: string;
  connection: string;
  replication: string;
  peerDisk: string;
  splitBrain: boolean;
  configHash: string;
  target?: { state: string; iqn: string; sessions: number; serviceAddress?: { address: string; interface: string; held: boolean } };
  /** present false and the host's agent says why: configured-but-down or broken, and the next step. */
  notUp?: { state: string; cause: NotUpCause; reason: string; next: string; file: string; upError?: string };
}

export interface StatusResourceJson {
  name: string;
  volume: number;
  device: string;
  hosts: [StatusSideJson, StatusSideJson];
  sync?: { source?: string; target?: string; replication: string; done?: number; outOfSyncKiB: number; rateMiBs?: number; etaS?: number; paused: boolean; verify: boolean };
}

export interface StatusProblemJson {
  severity: Problem['severity'];
  id: string;
  resource?: string;
  volume?: number;
  host?: string;
  text: string;
}

export interface StatusJson {
  status: OverallStatus;
  exitCode: 0 | 1 | 2;
  time: string;
  hosts: [StatusHostJson, StatusHostJson];
  resources: StatusResourceJson[];
  problems: StatusProblemJson[];
}

export const EXIT_CODES: Record<OverallStatus, 0 | 1 | 2> = { healthy: 0, degraded: 1, unreachable: 2 };

export function overallStatus(m: ClusterModel, problems: readonly Problem[]): OverallStatus {
  if (m.hosts.some((h) => h.reach.state !== 'up')) return 'unreachable';
  // Any problem, a running resync included (one copy is not complete), is degraded.
  return problems.length === 0 ? 'healthy' : 'degraded';
}

export function statusReport(m: ClusterModel, time = new Date().toISOString()): StatusJson {
  const problems = deriveProblems(m);
  const status = overallStatus(m, problems);
  const names = [m.hosts[0].name, m.hosts[1].name] as const;
  const hosts = m.hosts.map((h): StatusHostJson => ({
    name: h.name,
    node: h.view.node,
    reach: h.reach.state,
    ...(h.reach.state === 'unreachable' || (h.reach.state === 'agent-not-running' && h.reach.error) ? { error: (h.reach as { error: string }).error } : {}),
    ...(h.agentVersion ? { agentVersion: h.agentVersion } : {}),
    ...(h.latencyMs !== undefined ? { latencyMs: h.latencyMs } : {}),
  })) as [StatusHostJson, StatusHostJson];
  const resources = resourceRows(m).map((row): StatusResourceJson => {
    const side = (i: 0 | 1): StatusSideJson => {
      const s = row.sides[i];
      return {
        host: names[i],
        present: s.present,
        role: s.role,
        disk: s.disk,
        connection: s.connection,
        replication: s.replication,
        peerDisk: s.peerDisk,
        splitBrain: s.splitBrain,
        configHash: s.configHash,
        ...(s.target ? { target: { state: s.target.state, iqn: s.target.iqn, sessions: s.target.sessions.length, ...(s.target.serviceAddress ? { serviceAddress: { ...s.target.serviceAddress } } : {}) } } : {}),
        ...(s.notUp ? { notUp: notUpJson(s.notUp) } : {}),
      };
    };
    const y = row.sync;
    return {
      name: row.resource,
      volume: row.volume,
      device: row.device,
      hosts: [side(0), side(1)],
      ...(y
        ? {
            sync: {
              source: y.source !== undefined ? names[y.source] : undefined,
              target: y.target !== undefined ? names[y.target] : undefined,
              replication: y.replication,
              done: y.done,
              outOfSyncKiB: y.outOfSyncKiB,
              rateMiBs: y.rateMiBs,
              etaS: y.etaS,
              paused: y.paused,
              verify: y.verify,
            },
          }
        : {}),
    };
  });
  return {
    status,
    exitCode: EXIT_CODES[status],
    time,
    hosts,
    resources,
    problems: problems.map((p) => ({
      severity: p.severity,
      id: p.id,
      ...(p.resource !== undefined ? { resource: p.resource } : {}),
      ...(p.volume !== undefined ? { volume: p.volume } : {}),
      ...(p.host !== undefined ? { host: names[p.host] } : {}),
      text: p.text,
    })),
  };
}

function notUpJson(n: NotUpResource): NonNullable<StatusSideJson['notUp']> {
  return { state: notUpPhrase(n), cause: n.cause, reason: n.reason, next: n.next, file: n.file, ...(n.upError ? { upError: n.upError } : {}) };
}

function pad(s: string, n: number): string {
  return s.length >= n ? s : s + ' '.repeat(n - s.length);
}

/** The human form: hosts, one line per resource and host, then problems. */
export function statusText(r: StatusJson, m: ClusterModel): string {
  const lines: string[] = [`${r.status.toUpperCase()}`];
  for (const [i, h] of r.hosts.entries()) {
    const lat = h.latencyMs !== undefined ? ` ${h.latencyMs} ms` : '';
    const ver = h.agentVersion ? ` agent ${h.agentVersion}` : '';
    lines.push(`  ${pad(h.name, 12)} ${reachText(m.hosts[i as 0 | 1].reach)}${ver}${lat}`);
  }
  for (const res of r.resources) {
    lines.push(`${res.name}/${res.volume}${res.device ? ` ${res.device}` : ''}`);
    for (const s of res.hosts) {
      if (!s.present) {
        lines.push(`  ${pad(s.host, 12)} ${s.notUp ? `${notUpPhrase(s.notUp)}; next: ${s.notUp.next}` : '-'}`);
        continue;
      }
      const svc = s.target?.serviceAddress?.held ? ` svc:${s.target.serviceAddress.address}` : '';
      const sessions = s.target ? ` iscsi:${s.target.state}${s.target.sessions ? `(${s.target.sessions} sessions)` : ''}${svc}` : '';
      lines.push(`  ${pad(s.host, 12)} ${pad(s.role, 9)} disk:${pad(s.disk, 12)} ${pad(s.connection, 12)} ${pad(s.replication, 12)} peer-disk:${s.peerDisk}${sessions}`);
    }
    if (res.sync?.done !== undefined) lines.push(`  sync ${res.sync.source ?? '?'} → ${res.sync.target ?? '?'} ${res.sync.done.toFixed(2)}%`);
  }
  if (r.problems.length > 0) {
    lines.push('problems:');
    for (const p of r.problems) lines.push(`  ${pad(p.severity, 5)} ${p.text}`);
  }
  return lines.join('\n') + '\n';
}
