// Problems, the drbdmon way: each object is normal / info / warn / alert, and a consequence
// is not flagged again when its cause already is (a peer disk DUnknown says nothing new when
// the connection is down; an unreachable host's stale state is not re-judged). Split brain
// is loud: operators of today's tools only see "StandAlone" and a kernel log line.
import type { DiskState } from '../../agent/protocol/messages.js';
import { driftText } from './config-drift.js';
import { notUpPhrase } from '../../agent/protocol/not-up.js';
import { unauthenticatedWarning } from '../../agent/protocol/resource-notes.js';
import { knownDisk, reachText, resourceRows, type ClusterModel, type HostIndex, type ResourceRow } from './model.js';
import { knownGi, shortGeneration } from './predict.js';
import { holdsData } from '../../agent/protocol/decisions.js';
import { exposureWarning, formatConfigError, secretFileWarning } from '../../agent/protocol/config.js';

export type Severity = 'alert' | 'warn' | 'info';

export interface Problem {
  severity: Severity;
  /** Stable identity, e.g. `split-brain:r0`, so views can keep their place. */
  id: string;
  resource?: string;
  volume?: number;
  host?: HostIndex;
  text: string;
  /** The runbook that resolves it, by id. */
  runbook?: string;
}

const RANK: Record<Severity, number> = { alert: 0, warn: 1, info: 2 };

/** Disk states ranked by how good the data is (higher is better). */
export const DATA_RANK: Partial<Record<DiskState, number>> = {
  UpToDate: 4,
  Consistent: 3,
  Outdated: 2,
  Inconsistent: 1,
};

function fmtDone(done: number | undefined): string {
  return done === undefined ? '' : ` ${done.toFixed(2)}%`;
}

export function deriveProblems(m: ClusterModel): Problem[] {
  const out: Problem[] = [];
  const names = m.hosts.map((h) => h.name) as [string, string];

  ([0, 1] as const).forEach((i) => {
    const h = m.hosts[i];
    if (h.reach.state === 'unreachable' || h.reach.state === 'agent-not-running') {
      out.push({ severity: 'alert', id: `host:${i}`, host: i, text: `${h.name} ${reachText(h.reach)}` });
    }
    if (h.reach.state === 'up' || h.view.ready) {
      for (const e of h.view.configErrors) {
        // The resource's own line names this error with its next step (not-up, cause config-error).
        if (h.view.notUp.some((n) => n.cause === 'config-error' && n.reason.startsWith(`${e.file}:${e.line}:${e.col}:`))) continue;
        out.push({ severity: 'warn', id: `config-error:${i}:${e.file}:${e.line}:${e.col}`, host: i, text: `${h.name}: ${formatConfigError(e)}` });
      }
    }
  });

  const rows = resourceRows(m);
  const byResource = new Map<string, ResourceRow[]>();
  for (const r of rows) byResource.set(r.resource, [...(byResource.get(r.resource) ?? []), r]);

  for (const [name, vols] of byResource) {
    const first = vols[0]!;
    const [a, b] = first.sides;
    // Only judge what a reachable host says now; stale state is covered by the host alert.
    const live = ([0, 1] as const).filter((i) => first.sides[i].reachable && first.sides[i].present);

    for (const i of [0, 1] as const) {
      const s = first.sides[i];
      if (s.reachable && !s.present && m.hosts[i].view.ready) {
        const n = s.notUp;
        const text = n ? `${name} on ${names[i]}: ${notUpPhrase(n)}; next: ${n.next}` : `${name} is not configured or not up on ${names[i]}`;
        out.push({ severity: 'warn', id: `missing:${name}:${i}`, resource: name, host: i, text });
      }
    }

    const splitBrain = live.some((i) => first.sides[i].splitBrain);
    if (splitBrain) {
      out.push({
        severity: 'alert',
        id: `split-brain:${name}`,
        resource: name,
        text: `SPLIT BRAIN on ${name}: both nodes wrote while apart; choose the victim and run the split-brain recovery runbook (r)`,
        runbook: 'split-brain',
      });
    }

    const primaries = live.filter((i) => first.sides[i].role === 'Primary');
    const peerSeesPrimary = live.some((i) => first.sides[i].role === 'Primary' && first.sides[i].peerRole === 'Primary');
    if (primaries.length === 2 || peerSeesPrimary) {
      out.push({ severity: 'alert', id: `two-primaries:${name}`, resource: name, text: `${name} is Primary on both hosts` });
    }

    const unrelated = unrelatedProblem(name, vols, live, names);
    if (unrelated) out.push(unrelated);
    const served = servingProblem(name, first, names);
    if (served) out.push(served);
    const svc = serviceAddressProblem(name, first, live, names);
    if (svc) out.push(svc);
    for (const i of live) {
      const exposed = exposureWarning(name, first.sides[i].target);
      if (exposed) out.push({ severity: 'warn', id: `exposed:${name}:${i}`, resource: name, host: i, text: `${exposed} (${names[i]})` });
      const r = first.sides[i].resource;
      const readable = secretFileWarning(name, r?.configFile, r?.configExposed, r?.configExposedFile);
      if (readable) out.push({ severity: 'warn', id: `secrets-readable:${name}:${i}`, resource: name, host: i, text: `${readable} on ${names[i]}` });
      const bare = unauthenticatedWarning(name, r?.configFile, r?.peerAuthenticated);
      if (bare) out.push({ severity: 'warn', id: `unauthenticated:${name}:${i}`, resource: name, host: i, text: `${bare} (${names[i]})` });
    }

    // Connection: one problem per resource, from the side that says most.
    if (!splitBrain && !unrelated) {
      const standAlone = live.find((i) => first.sides[i].connection === 'StandAlone');
      const down = live.find((i) => first.sides[i].connection !== 'Connected');
      const authFailed = live.find((i) => first.sides[i].connection === 'Connecting' && isAuthFailure(first.sides[i].lastError));
      const tlsMismatch = live.find((i) => first.sides[i].connection === 'Connecting' && isTlsMismatch(first.sides[i].lastError));
      const secretMismatch = live.find((i) => first.sides[i].connection === 'Connecting' && isSecretMismatch(first.sides[i].lastError));
      if (standAlone !== undefined) {
        const s = first.sides[standAlone];
        const why = s.lastError ? ` (${s.lastError})` : '';
        out.push({ severity: 'warn', id: `standalone:${name}:${standAlone}`, resource: name, host: standAlone, text: `${name} StandAlone on ${names[standAlone]}${why}: it will not reconnect by itself` });
      } else if (authFailed !== undefined) {
        out.push(authFailedProblem(name, authFailed, first.sides[authFailed].lastError!, names));
      } else if (tlsMismatch !== undefined) {
        // The agent's text names the host that differs and the fix (agent/engine/peer-tls.ts).
        const text = `${name} on ${names[tlsMismatch]}: ${first.sides[tlsMismatch].lastError!}. The link keeps trying`;
        out.push({ severity: 'alert', id: `tls-mismatch:${name}:${tlsMismatch}`, resource: name, host: tlsMismatch, text });
      } else if (secretMismatch !== undefined) {
        // The agent's text names the host without a secret and the fix (agent/engine/peer-auth.ts).
        const text = `${name} on ${names[secretMismatch]}: ${first.sides[secretMismatch].lastError!}. The link keeps trying`;
        out.push({ severity: 'alert', id: `secret-mismatch:${name}:${secretMismatch}`, resource: name, host: secretMismatch, text });
      } else if (down !== undefined) {
        const s = first.sides[down];
        out.push({ severity: 'warn', id: `disconnected:${name}`, resource: name, host: down, text: `${name} degraded: ${names[down]} not connected to its peer (${s.connection})` });
      }
    }

    if (live.length === 2 && a.configHash && b.configHash && a.configHash !== b.configHash) {
      const info = m.drift?.[name];
      const current = info && info.hashes[0] === a.configHash && info.hashes[1] === b.configHash ? info : undefined;
      out.push({ severity: 'warn', id: `config-drift:${name}`, resource: name, text: driftText(name, names, current) });
    }

    for (const row of vols) out.push(...volumeProblems(row, names));
  }

  return out
    .map((p, idx) => ({ p, idx }))
    .sort((x, y) => RANK[x.p.severity] - RANK[y.p.severity] || (x.p.resource ?? '').localeCompare(y.p.resource ?? '') || x.idx - y.idx)
    .map(({ p }) => p);
}

/** The agent's peer link keeps trying after "authentication failed from ADDR" (agent/engine/peer-retry.ts). */
function isAuthFailure(lastError: string | undefined): boolean {
  return lastError?.startsWith('authentication failed') === true;
}

/** One host has net.tls psk and the other not ("ha-b does not speak TLS on the peer link: …"). */
function isTlsMismatch(lastError: string | undefined): boolean {
  return lastError !== undefined && /speaks? TLS on the peer link/.test(lastError);
}

/** One host has a shared-secret and the other none ("ha-b has no shared-secret … and this host has one: …"). */
function isSecretMismatch(lastError: string | undefined): boolean {
  return lastError !== undefined && /shared-secret.* and this host has (one|none): /.test(lastError);
}

/** Most often the two files differ; it may also be someone else on the peer's address: both are named. */
function authFailedProblem(name: string, at: HostIndex, lastError: string, names: [string, string]): Problem {
  const [a, b] = names;
  return {
    severity: 'alert',
    id: `auth-failed:${name}:${at}`,
    resource: name,
    host: at,
    text: `${name} on ${names[at]}: ${lastError}: the shared secret differs between ${a} and ${b}: put the same resource file on both (drbd-tui --config ${name}.yaml ${a} ${b}); if it is the same, something else connects from the peer's address. The link keeps trying`,
  };
}

/**
 * The pair refused to connect because the data is unrelated: the one copy initiators wrote to
 * must be found before anything is wiped. A generation born from nothing (no history, no
 * bitmap base) beside a copy that holds data is a blank disk that was promoted.
 */
function unrelatedProblem(name: string, vols: ResourceRow[], live: readonly HostIndex[], names: [string, string]): Problem | undefined {
  const at = live.find((i) => /unrelated data/.test(vols[0]!.sides[i].lastError ?? ''));
  if (at === undefined) return undefined;
  const gis = [knownGi(vols[0]!, 0), knownGi(vols[0]!, 1)] as const;
  const bornBlank = ([0, 1] as const).find((i) => {
    const g = gis[i];
    const o = gis[i === 0 ? 1 : 0];
    return g !== undefined && o !== undefined && g.side.history.length === 0 && g.side.bitmapForPeer === 0n && holdsData(o.side);
  });
  const base = { severity: 'alert' as const, id: `unrelated:${name}`, resource: name, host: at };
  if (bornBlank !== undefined) {
    const o = (bornBlank === 0 ? 1 : 0) as HostIndex;
    const g = gis[o]!;
    return {
      ...base,
      text: `a blank disk was promoted on ${names[bornBlank]} while ${names[o]} held the data of ${name} (generation ${shortGeneration(g.side.current)}): serve ${names[o]}'s copy (demote ${names[bornBlank]}, promote ${names[o]}), then rebuild ${names[bornBlank]} with the disk-replacement runbook; never wipe ${names[o]}`,
    };
  }
  return { ...base, text: `${name}: ${names[0]} and ${names[1]} hold unrelated data (no shared generation); they will not connect. Find the copy the initiators wrote to before wiping either` };
}

/** Nobody serves the resource: no Primary, or a Primary whose configured target is stopped. */
function servingProblem(name: string, row: ResourceRow, names: [string, string]): Problem | undefined {
  const sides = row.sides;
  const primary = ([0, 1] as const).find((i) => sides[i].present && sides[i].role === 'Primary');
  const unseen = ([0, 1] as const).filter((i) => !sides[i].reachable);
  // Out of sight, a host may be serving: say what the console cannot see.
  const blind = unseen.length > 0 ? ` that the console can see (${unseen.map((i) => names[i]).join(', ')} out of sight)` : '';
  if (primary === undefined) {
    if (!sides.some((s) => s.present)) return undefined;
    // Without a target of ours the consumer may be anything (a cluster manager promotes on
    // demand): both Secondary is then a state, not a fault.
    if (!sides.some((s) => s.target !== undefined)) return undefined;
    return { severity: 'alert', id: `not-served:${name}`, resource: name, text: `nobody serves ${name}${blind}: no Primary; promote the node with UpToDate data (p)` };
  }
  const t = sides[primary].target;
  if (t && t.state !== 'running' && sides[primary].reachable) {
    return { severity: 'alert', id: `not-served:${name}`, resource: name, host: primary, text: `nobody serves ${name}: ${names[primary]} is Primary but its iSCSI target is stopped; start it (t)` };
  }
  return undefined;
}

/**
 * The service address is where initiators go: on two hosts at once they reach either (writes to
 * a Secondary's stale copy, or ARP flapping between two Primaries); missing on the Primary whose
 * target runs, they reach nobody. Judged from what the live hosts report.
 */
function serviceAddressProblem(name: string, row: ResourceRow, live: readonly HostIndex[], names: [string, string]): Problem | undefined {
  const sa = (i: HostIndex) => row.sides[i].target?.serviceAddress;
  const holders = live.filter((i) => sa(i)?.held);
  const address = live.map((i) => sa(i)?.address).find((x) => x);
  if (!address) return undefined;
  const id = `service-address:${name}`;
  if (holders.length === 2) {
    return { severity: 'alert', id, resource: name, text: `service address ${address} of ${name} is held by both ${names[0]} and ${names[1]}: initiators may reach either; stop the target where ${name} must not be served (t), or remove the address there (ip addr del ${address} dev IF)` };
  }
  const serving = live.find((i) => row.sides[i].role === 'Primary' && row.sides[i].target?.state === 'running');
  if (serving !== undefined && sa(serving) && !sa(serving)!.held) {
    return { severity: 'alert', id, resource: name, host: serving, text: `${names[serving]} serves ${name} but does not hold its service address ${address}: initiators using it reach nobody; stop and start the target there (t)` };
  }
  const stray = holders.find((i) => i !== serving);
  if (stray !== undefined) {
    return { severity: 'alert', id, resource: name, host: stray, text: `${names[stray]} holds service address ${address} of ${name} but does not serve it: initiators reach a host without a target; remove it there (ip addr del ${address} dev IF)` };
  }
  return undefined;
}

function volumeProblems(row: ResourceRow, names: [string, string]): Problem[] {
  const out: Problem[] = [];
  const label = row.key;
  // The best knowledge of each host's disk: its own word if we hear it, else its peer's view
  // of it (only while that peer is connected to it — a DUnknown peer disk is no news).
  const known = [knownDisk(row, 0), knownDisk(row, 1)] as const;
  const disks = [known[0]?.disk, known[1]?.disk] as const;
  const upToDate = ([0, 1] as const).filter((i) => disks[i] === 'UpToDate');
  const knownHosts = ([0, 1] as const).filter((i) => disks[i] !== undefined);
  const sync = row.sync;

  if (knownHosts.length > 0 && upToDate.length === 0) {
    const states = knownHosts.map((i) => `${names[i]} ${disks[i]}${known[i]!.stale ? ' (last known)' : ''}`).join(', ');
    out.push({
      severity: 'alert',
      id: `no-uptodate:${label}`,
      resource: row.resource,
      volume: row.volume,
      text: `no UpToDate copy of ${label} anywhere (${states})`,
    });
    return out; // the per-disk states below are the same news
  }

  if (sync) {
    const dir = sync.source !== undefined && sync.target !== undefined ? ` ${names[sync.source]} → ${names[sync.target]}` : '';
    const what = sync.verify ? 'verify' : sync.paused ? 'sync paused' : 'sync';
    const eta = sync.etaS !== undefined ? `, ETA ${sync.etaS}s` : '';
    out.push({ severity: 'info', id: `sync:${label}`, resource: row.resource, volume: row.volume, text: `${label} ${what}${dir}${fmtDone(sync.done)}${eta}` });
  }

  const liveUpToDate = upToDate.filter((i) => !known[i]!.stale);
  if (upToDate.length > 0 && liveUpToDate.length === 0) {
    const i = upToDate[0]!;
    const seen = known[i]!.seen ? `, seen ${known[i]!.seen}` : '';
    out.push({
      severity: 'alert',
      id: `uptodate-out-of-sight:${label}`,
      resource: row.resource,
      volume: row.volume,
      host: i,
      text: `the only UpToDate copy of ${label} is on ${names[i]} (last known${seen}), out of sight: bring ${names[i]} back; do not force-promote or wipe the other node`,
    });
  }

  for (const i of [0, 1] as const) {
    const d = disks[i];
    if (d === undefined || d === 'UpToDate' || d === 'DUnknown' || known[i]!.stale) continue;
    // A SyncTarget is Inconsistent by definition while the sync runs: that is the info line.
    if (sync && sync.target === i && d === 'Inconsistent') continue;
    const o = (i === 0 ? 1 : 0) as HostIndex;
    const degraded = disks[o] === 'UpToDate' ? ` (degraded: only ${names[o]} has UpToDate data)` : '';
    out.push({
      severity: d === 'Failed' ? 'alert' : 'warn',
      id: `disk:${label}:${i}`,
      resource: row.resource,
      volume: row.volume,
      host: i,
      text: `${label} ${d} on ${names[i]}${d === 'Failed' && row.sides[i].lastError ? `: ${row.sides[i].lastError}` : ''}${degraded}`,
    });
  }
  return out;
}

export function worstSeverity(ps: Problem[]): Severity | undefined {
  return ps.reduce<Severity | undefined>((w, p) => (w === undefined || RANK[p.severity] < RANK[w] ? p.severity : w), undefined);
}
