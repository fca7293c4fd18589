// Preconditions of every console action, as pure functions of the model. The agent checks
// again (its word is final); these exist so that the confirmation shows, before anything is
// sent, exactly what will run where and why it is or is not safe, in DRBD's own words.
import type { DiskState } from '../../agent/protocol/messages.js';
import { notUpPhrase } from '../../agent/protocol/not-up.js';
import { knownDisk, resourceRows, sessionInitiators, type ClusterModel, type HostIndex, type HostSide, type ResourceRow } from './model.js';
import { forecast, knownGi, knownPeer, outcomeText, shortGeneration } from './predict.js';
import { DATA_RANK } from './problems.js';
import { fmtKiB } from '../ui/format.js';
import { actionSpec, agentCommand, type ActionKind } from './actions.js';
import { UUID_JUST_CREATED, createMdRefusal, forcePrimaryRefusal, holdsData, type LocalVolume, uuidEq } from '../../agent/protocol/decisions.js';

export interface Check {
  ok: boolean;
  text: string;
  /** Why it fails, in DRBD's wording where DRBD has one. */
  reason?: string;
}

export interface GuardResult {
  action: ActionKind;
  resource: string;
  host: HostIndex;
  hostName: string;
  allowed: boolean;
  /** The exact agent command line run on `hostName`. */
  command: string;
  checks: Check[];
  destructive: boolean;
  /** The exact text the operator must type to confirm; when absent, a destructive action takes the resource name. */
  typeToConfirm?: string;
  /** What connecting will do to each volume afterwards (predict.ts): who syncs from whom, or that the pair refuses. */
  forecast?: string[];
  /** What is lost, one line per volume that loses data no other copy holds; any makes the action destructive. */
  loss?: string[];
  /** What the action takes away that is not data (initiator sessions dropped): shown as a warning, never as a passed check. */
  warnings?: string[];
  /**
   * A safer or the only remaining way forward, when this one is refused: `action` on `host` (default: this
   * guard's host), only where it applies there; without an action, what the operator must do first.
   */
  suggestion?: { action?: ActionKind; text: string; host?: HostIndex };
}

export const READ_ONLY_REASON = 'read-only: started with --read-only';

export const MSG = {
  needUpToDate: 'Need access to UpToDate data',
  peerNotOutdated: 'Refusing to be Primary while peer is not outdated',
  multiplePrimaries: 'Multiple primaries not allowed by config',
  heldOpen: 'Device is held open by someone',
} as const;

const rank = (d: DiskState | undefined): number => (d === undefined ? 0 : (DATA_RANK[d] ?? 0));

interface Ctx {
  m: ClusterModel;
  vols: ResourceRow[];
  host: HostIndex;
  other: HostIndex;
  me: HostSide[];
  them: HostSide[];
  name: string;
  otherName: string;
}

/** What one action's checks found; `destructive` when this case of it is (beyond its row in ACTIONS). */
interface Verdict {
  checks: Check[];
  suggestion?: GuardResult['suggestion'];
  destructive?: boolean;
  /** The text to type where it is not the resource name (a host's, for a step that concerns it). */
  typeToConfirm?: string;
  warnings?: string[];
}

/** A check that holds, and one that does not and why: the two ways guards and runbooks write one. */
export const ok = (text: string): Check => ({ ok: true, text });
export const bad = (text: string, reason: string): Check => ({ ok: false, text, reason });

/** What the other host's data is, as best known: its own word, else our peer-disk view while connected. */
function otherDisk(c: Ctx, v: number): DiskState | undefined {
  return knownDisk(c.vols[v]!, c.other)?.disk;
}

/** " (last known, seen …)" when the other host's state is memory, not its word now. */
function staleNote(c: Ctx, v: number): string {
  const k = knownDisk(c.vols[v]!, c.other);
  return k?.stale ? ` (last known${k.seen ? `, seen ${k.seen}` : ''}; ${c.otherName} is out of sight, not without data)` : '';
}

function otherIsPrimary(c: Ctx): boolean {
  const t = c.them[0]!;
  const me = c.me[0]!;
  return (t.reachable && t.present && t.role === 'Primary') || (me.connection === 'Connected' && me.peerRole === 'Primary');
}

function baseChecks(c: Ctx): Check[] {
  const out: Check[] = [];
  const h = c.m.hosts[c.host];
  out.push(h.reach.state === 'up' ? ok(`${c.name} reachable`) : bad(`${c.name} reachable`, `${c.name} is ${h.reach.state}`));
  const present = c.me.length > 0 && c.me[0]!.present;
  const notUp = c.me[0]?.notUp;
  const why = notUp ? `${notUpPhrase(notUp)} (next: ${notUp.next})` : 'not configured or not up on this host';
  out.push(present ? ok(`${c.vols[0]?.resource ?? 'resource'} is up on ${c.name}`) : bad(`resource up on ${c.name}`, why));
  return out;
}

function checkPromote(c: Ctx, mode: 'plain' | 'force' | 'forget-peer'): { checks: Check[]; suggestion?: GuardResult['suggestion']; typeToConfirm?: string } {
  const checks = baseChecks(c);
  let suggestion: GuardResult['suggestion'];
  const force = mode !== 'plain';
  const me = c.me[0]!;
  checks.push(me.role !== 'Primary' ? ok(`${c.name} is not Primary yet`) : bad(`${c.name} is not Primary yet`, 'already Primary'));
  checks.push(
    otherIsPrimary(c)
      ? bad(`${c.otherName} is not Primary`, MSG.multiplePrimaries)
      : c.them[0]!.reachable
        ? ok(`${c.otherName} is not Primary`)
        : // One dialog line: the consequence the operator vouches against by typing the name.
          ok(`if ${c.otherName} is alive and its clients write, this makes a split brain`),
  );
  // Unreachable is not down: only the operator can vouch for that, by typing the host's name.
  const vouch = !c.them[0]!.reachable && me.connection !== 'Connected' ? { typeToConfirm: c.otherName } : {};
  const split = c.me.some((s) => s.splitBrain) || c.them.some((s) => s.reachable && s.splitBrain);
  if (split) checks.push(bad('no split brain pending', 'split brain: resolve it with the runbook first'));

  for (const [v, s] of c.me.entries()) {
    const vol = c.vols[v]!;
    const od = otherDisk(c, v);
    if (!force) {
      if (s.disk === 'UpToDate') checks.push(ok(`${vol.key} UpToDate on ${c.name}`));
      else {
        checks.push(bad(`${vol.key} UpToDate on ${c.name}`, `${MSG.needUpToDate} (disk is ${s.disk})`));
        // Force is only a way forward when nothing better exists anywhere.
        if (rank(s.disk) > 0 && rank(s.disk) >= rank(od) && od !== 'UpToDate' && !otherIsPrimary(c)) {
          suggestion = {
            action: 'force-primary',
            text: `${c.name} holds the best remaining data of ${c.vols[0]!.resource} (${s.disk}; ${c.otherName}: ${od ?? 'unknown'}): promote with --force, a destructive action`,
          };
        } else if (od === 'UpToDate' && !otherIsPrimary(c)) {
          // The console can promote the other host only while it answers.
          suggestion = c.them[0]!.reachable
            ? { action: 'promote', host: c.other, text: `${c.otherName} has UpToDate data: promote ${c.otherName} instead` }
            : { text: `${c.otherName} has UpToDate data${staleNote(c, v)}: bring ${c.otherName} back first, then promote it` };
        }
      }
      // Promoting while cut off from a peer that may still serve would fork the data.
      if (s.disk === 'UpToDate' && s.connection !== 'Connected' && c.them[v]!.reachable && c.them[v]!.present && c.them[v]!.role === 'Primary') {
        checks.push(bad(`${c.otherName} outdated or down`, MSG.peerNotOutdated));
      }
    } else {
      const usable = rank(s.disk) > 0;
      const gi = knownGi(vol, c.host);
      const blank = gi !== undefined && uuidEq(gi.side.current, UUID_JUST_CREATED);
      checks.push(
        !usable
          ? bad(`${vol.key} has data on ${c.name}`, `${MSG.needUpToDate} (disk is ${s.disk})`)
          : blank
            ? ok(`${vol.key} on ${c.name} is blank (${s.disk}, no generation yet): it will serve an empty volume`)
            : ok(`${vol.key} has data on ${c.name} (${s.disk})`),
      );
      if (mode === 'forget-peer') continue;
      if (od === 'UpToDate') checks.push(bad(`${c.otherName} has no UpToDate data`, `${c.otherName} has UpToDate data of ${vol.key}${staleNote(c, v)}: promote it instead`));
      else if (rank(od) > rank(s.disk)) checks.push(bad(`${c.name} holds the best remaining data`, `${c.otherName} is ${od}${staleNote(c, v)}, better than ${s.disk}`));
      else checks.push(ok(`${c.name} holds the best remaining data of ${vol.key} (${c.otherName}: ${od ?? 'unknown'})`));
    }
  }
  if (!force) return { checks, suggestion, ...vouch };
  if (mode === 'forget-peer') {
    checks.push(
      c.them[0]!.reachable
        ? bad(`${c.otherName} is gone for good`, `${c.otherName} answers: promote it, or take it down, instead of forgetting it`)
        : ok(`${c.otherName} is gone for good: what ${c.name}'s agent knows of its data is forgotten`),
    );
    return { checks };
  }
  // The agent's own refusal, on what is known of the other host: the console says it first.
  const why = forcePrimaryRefusal(c.vols[0]!.resource, localVolumes(c), c.me[0]!.resource?.nodeId ?? c.host, knownPeer(c.m, c.vols, c.other));
  if (why && checks.every((x) => x.ok)) checks.push(bad(`${c.otherName}'s last known data is not newer`, why));
  if (checks.some((x) => !x.ok) && !c.them[0]!.reachable && rank(me.disk) > 0 && !otherIsPrimary(c)) {
    suggestion = { action: 'force-primary-forget-peer', text: `only if ${c.otherName} is gone for good: force anyway, forgetting it (you type ${c.otherName}; its data is lost)` };
  }
  return { checks, suggestion };
}

/** This host's identifiers per volume, as its agent reads them (its own word, else the best known). */
function localVolumes(c: Ctx): LocalVolume[] {
  return c.vols.flatMap((row) => {
    const k = knownGi(row, c.host);
    return k ? [k.wire] : [];
  });
}

/** Initiators logged in hold the device open: demote and down are refused (DRBD's wording). */
function heldBySessions(me: HostSide): Check | undefined {
  const who = sessionInitiators(me);
  const n = who.length;
  if (n === 0) return undefined;
  return bad('no initiator logged in', `${MSG.heldOpen}: ${n} iSCSI session${n === 1 ? '' : 's'} (${who.join(', ')})`);
}

const STOP_TARGET_FIRST: GuardResult['suggestion'] = { action: 'target-stop', text: 'log the initiators out (or stop the target with t, dropping them) first' };

function checkDemote(c: Ctx): { checks: Check[]; suggestion?: GuardResult['suggestion'] } {
  const checks = baseChecks(c);
  const me = c.me[0]!;
  checks.push(me.role === 'Primary' ? ok(`${c.name} is Primary`) : bad(`${c.name} is Primary`, `already ${me.role}`));
  const open = c.me.some((s) => s.open);
  const held = heldBySessions(me);
  if (held) return { checks: [...checks, held], suggestion: STOP_TARGET_FIRST };
  checks.push(open ? bad('device not in use', MSG.heldOpen) : ok('no initiator logged in, device not in use'));
  return { checks };
}

function checkConnect(c: Ctx, discard: boolean): { checks: Check[]; suggestion?: GuardResult['suggestion'] } {
  const checks = baseChecks(c);
  const me = c.me[0]!;
  const conn = me.connection;
  const idle = conn === 'StandAlone' || conn === 'Unconnected' || conn === 'Disconnecting';
  checks.push(idle ? ok(`${c.name} is ${conn}`) : bad(`${c.name} is StandAlone`, conn === 'Connected' ? 'already connected' : `already ${conn}`));
  let suggestion: GuardResult['suggestion'];
  if (!discard) {
    if (me.splitBrain) {
      checks.push(ok(`split brain pending: this connect alone will not resolve it`));
      suggestion =
        me.role === 'Primary'
          ? { text: `choose the victim (its changes since the split are discarded) with the split-brain runbook (r)` }
          : { action: 'discard-my-data', text: `if ${c.name} is the victim: connect --discard-my-data (its changes since the split are discarded); or use the split-brain runbook` };
    }
    return { checks, suggestion };
  }
  checks.push(me.role !== 'Primary' ? ok(`${c.name} is Secondary (the victim must be)`) : bad(`${c.name} is Secondary`, 'the victim must be Secondary: demote it first'));
  if (c.me.some((s) => s.disk === 'UpToDate') && !me.splitBrain && c.them.every((t) => !(t.reachable && t.present && t.disk === 'UpToDate'))) {
    checks.push(bad(`${c.otherName} has UpToDate data to sync from`, `${c.name} holds the only known UpToDate copy`));
  } else {
    checks.push(ok(`${c.name}'s changes since the split will be discarded and resynced from ${c.otherName}`));
  }
  return { checks };
}

function checkDisconnect(c: Ctx): { checks: Check[] } {
  const checks = baseChecks(c);
  const me = c.me[0]!;
  checks.push(me.connection !== 'StandAlone' ? ok(`${c.name} is ${me.connection}`) : bad(`${c.name} is connected or connecting`, 'already StandAlone'));
  if (me.role === 'Primary' && me.connection === 'Connected') checks.push(ok(`${c.otherName} will be marked Outdated; writes continue on ${c.name} only`));
  return { checks };
}

function checkTarget(c: Ctx, start: boolean): Verdict {
  const checks = baseChecks(c);
  const me = c.me[0]!;
  if (!me.target) {
    checks.push(bad('iSCSI target configured', 'no iscsi section in the resource file'));
    return { checks };
  }
  if (start) {
    checks.push(me.role === 'Primary' ? ok(`${c.name} is Primary`) : bad(`${c.name} is Primary`, 'the target runs on the Primary only'));
    checks.push(me.target.state !== 'running' ? ok('target stopped') : bad('target stopped', 'already running'));
    // The agent's duplicate address detection refuses too; this says so before the command runs.
    const sa = me.target.serviceAddress;
    const theirs = c.them[0]?.reachable ? c.them[0].target?.serviceAddress : undefined;
    if (sa) checks.push(theirs?.held ? bad(`${c.otherName} does not hold service address ${sa.address}`, `${c.otherName} holds ${sa.address}: stop its target first`) : ok(`service address ${sa.address} comes to ${c.name}`));
  } else {
    checks.push(me.target.state === 'running' ? ok('target running') : bad('target running', 'already stopped'));
    const who = sessionInitiators(me);
    if (who.length > 0) return { checks, warnings: [`${who.length} initiator session${who.length === 1 ? '' : 's'} will be dropped: ${who.join(', ')}`] };
  }
  return { checks };
}

function checkCreateMd(c: Ctx, action: ActionKind): { checks: Check[]; suggestion?: GuardResult['suggestion'] } {
  const checks: Check[] = [];
  const h = c.m.hosts[c.host];
  checks.push(h.reach.state === 'up' ? ok(`${c.name} reachable`) : bad(`${c.name} reachable`, `${c.name} is ${h.reach.state}`));
  const me = c.me[0];
  if (me?.present) {
    checks.push(me.role !== 'Primary' ? ok(`${c.name} is not Primary`) : bad(`${c.name} is not Primary`, MSG.heldOpen));
    const attached = c.me.some((s) => s.disk !== 'Diskless' && s.disk !== 'Failed' && s.disk !== 'DUnknown');
    checks.push(!attached ? ok('no disk attached') : bad('no disk attached', 'detach the disk (or take the resource down) first'));
  } else checks.push(ok(`${c.vols[0]?.resource ?? 'resource'} is down on ${c.name}`));
  if (action === 'create-md-force-forget-peer') {
    checks.push(ok(`${c.name}'s data of ${c.vols[0]?.resource ?? 'resource'} is not wanted: it is wiped, whatever ${c.otherName} holds`));
    return { checks };
  }
  const survivor = c.vols.every((_, v) => otherDisk(c, v) === 'UpToDate');
  // Plain create-md writes only where no valid metadata is (the agent refuses valid metadata):
  // on a disk known to hold nothing, nothing can be lost, as on a new pair.
  const nothingHere = action === 'create-md' && c.vols.every((v) => {
    const gi = knownGi(v, c.host);
    return gi ? !holdsData(gi.side) : !v.sides[c.host].present;
  });
  checks.push(
    survivor
      ? ok(`${c.otherName} holds UpToDate data to resync from`)
      : nothingHere
        ? ok(`no data of ${c.vols[0]?.resource ?? 'resource'} known on ${c.name}: nothing to overwrite (valid metadata the agent refuses)`)
        : bad(`${c.otherName} holds UpToDate data to resync from`, `wiping ${c.name} could destroy the last good copy`),
  );
  // UpToDate is not enough: the other host's data must contain this host's (the agent's refusal).
  const why = createMdRefusal(c.vols[0]!.resource, localVolumes(c), c.me[0]?.resource?.nodeId ?? c.host, knownPeer(c.m, c.vols, c.other));
  if (why && survivor) checks.push(bad(`${c.otherName}'s data contains ${c.name}'s`, why));
  const suggestion: GuardResult['suggestion'] =
    action === 'create-md-force' && checks.some((x) => !x.ok)
      ? { action: 'create-md-force-forget-peer', text: `only if ${c.name}'s data is truly not wanted: wipe it anyway (you type ${c.name})` }
      : undefined;
  return { checks, ...(suggestion ? { suggestion } : {}) };
}

/**
 * `down`, and `detach` (the builtin engine has no diskless mode: detach takes the resource down
 * too). A Primary goes down demoted; the agent refuses while initiators hold it open. Taking
 * down a Primary that serves (target running) or has no UpToDate peer leaves the volume served
 * by nobody: that one is confirmed by typing the name.
 */
function checkTakeDown(c: Ctx, action: 'down' | 'detach'): Verdict {
  const checks = baseChecks(c);
  const me = c.me[0]!;
  if (action === 'detach') checks.push(ok(`the builtin engine has no diskless mode: detach takes ${c.vols[0]!.resource} down on ${c.name}`));
  const held = heldBySessions(me);
  if (held) return { checks: [...checks, held], suggestion: STOP_TARGET_FIRST };
  if (c.me.some((s) => s.open)) return { checks: [...checks, bad('device not in use', MSG.heldOpen)] };
  if (me.role !== 'Primary') return { checks: [...checks, ok(`${c.name} is ${me.role}`)] };
  const serving = me.target?.state === 'running';
  const peerHolds = c.me.every((s) => s.connection === 'Connected' && s.peerDisk === 'UpToDate');
  checks.push(ok(`${c.name} is Primary: it is demoted first${serving ? '; its iSCSI target stops' : ''}`));
  checks.push(
    peerHolds
      ? ok(`${c.otherName} holds UpToDate data: promote it to serve ${c.vols[0]!.resource} again`)
      : ok(`${c.otherName} has no connected UpToDate copy: ${c.vols[0]!.resource} is served by no node until ${c.name} is back`),
  );
  return { checks, destructive: serving || !peerHolds };
}

function checkUp(c: Ctx): { checks: Check[] } {
  const h = c.m.hosts[c.host];
  const me = c.me[0];
  return {
    checks: [
      h.reach.state === 'up' ? ok(`${c.name} reachable`) : bad(`${c.name} reachable`, `${c.name} is ${h.reach.state}`),
      !me?.present ? ok(`${c.vols[0]?.resource ?? 'resource'} is down on ${c.name}`) : bad(`resource down on ${c.name}`, 'already up'),
    ],
  };
}

/**
 * Skipping the initial sync declares two disks equal without reading them: only for a pair
 * that has never held data (both generations just created), connected so both sides take it.
 */
function checkSkipInitialSync(c: Ctx): { checks: Check[] } {
  const checks = baseChecks(c);
  for (const [i, h] of [c.host, c.other].entries()) {
    const name = i === 0 ? c.name : c.otherName;
    const sides = c.vols.map((v) => v.sides[h]);
    checks.push(
      sides.every((s) => s.present && s.connection === 'Connected') ? ok(`${name} Connected`) : bad(`${name} Connected`, `${name} is not Connected: both must take the new generation together`),
    );
    for (const vol of c.vols) {
      const gi = knownGi(vol, h);
      const blank = gi !== undefined && uuidEq(gi.side.current, UUID_JUST_CREATED) && vol.sides[h].disk === 'Inconsistent';
      checks.push(
        blank
          ? ok(`${vol.key} on ${name} never held data (Inconsistent, just created)`)
          : bad(`${vol.key} on ${name} never held data`, `${name}'s ${vol.key} is ${vol.sides[h].disk}${gi ? `, generation ${shortGeneration(gi.side.current)}` : ''}: choose an initial sync source instead`),
      );
    }
  }
  checks.push(ok('correct only if both disks are blank or identical; differences stay unseen'));
  return { checks };
}

/** Both sides Connected, no resync or verify running: what verify, invalidate and resize need. */
function idlePairChecks(c: Ctx): Check[] {
  const me = c.me[0]!;
  const out = [me.connection === 'Connected' ? ok(`${c.name} is Connected to ${c.otherName}`) : bad(`${c.name} is Connected`, `Need a connection to start verify or resync (${me.connection})`)];
  for (const [v, s] of c.me.entries()) {
    if (s.connection === 'Connected' && s.replication !== 'Established') out.push(bad(`${c.vols[v]!.key} idle (Established)`, `volume ${c.vols[v]!.volume} is ${s.replication}`));
  }
  return out;
}

function checkVerify(c: Ctx): Verdict {
  const checks = [...baseChecks(c), ...idlePairChecks(c)];
  for (const [v, s] of c.me.entries()) {
    const both = s.disk === 'UpToDate' && s.peerDisk === 'UpToDate';
    checks.push(both ? ok(`${c.vols[v]!.key} UpToDate on both hosts`) : bad(`${c.vols[v]!.key} UpToDate on both hosts`, `verify compares two UpToDate copies (${s.disk}/${s.peerDisk})`));
  }
  checks.push(ok('nothing is resynced: the result is the KiB found out of sync, shown when the run ends'));
  return { checks };
}

/** `drbdadm invalidate`: this node's data is thrown away and fully resynced from the peer. */
function checkInvalidate(c: Ctx): Verdict {
  const checks = [...baseChecks(c), ...idlePairChecks(c)];
  const me = c.me[0]!;
  checks.push(me.role !== 'Primary' ? ok(`${c.name} is ${me.role}`) : bad(`${c.name} is Secondary`, 'Refusing to invalidate a Primary: demote it first (secondary)'));
  for (const [v, s] of c.me.entries()) {
    checks.push(s.peerDisk === 'UpToDate' ? ok(`${c.otherName} has UpToDate data of ${c.vols[v]!.key}`) : bad(`${c.otherName} has UpToDate data of ${c.vols[v]!.key}`, `${MSG.needUpToDate}: ${c.otherName}'s is ${s.peerDisk}`));
  }
  checks.push(ok(`every block of ${c.name}'s copy is overwritten by a full resync from ${c.otherName}`));
  return { checks };
}

const PAUSED: ReadonlySet<string> = new Set(['PausedSyncS', 'PausedSyncT']);
const RESYNCING: ReadonlySet<string> = new Set(['SyncSource', 'SyncTarget', 'PausedSyncS', 'PausedSyncT']);

function checkSyncPause(c: Ctx, pause: boolean): Verdict {
  const checks = baseChecks(c);
  const syncing = c.me.filter((s) => RESYNCING.has(s.replication));
  if (syncing.length === 0) return { checks: [...checks, bad('a resync in progress', 'No resync in progress')] };
  const paused = syncing.every((s) => PAUSED.has(s.replication));
  if (pause) checks.push(!paused ? ok(`resync running (${syncing[0]!.replication})`) : bad('resync running', 'already paused'));
  else checks.push(paused ? ok(`resync paused (${syncing[0]!.replication})`) : bad('resync paused', 'not paused'));
  return { checks };
}

/** `adjust` re-reads the resource file; a configured resource that is down comes up when its metadata is there. */
function checkAdjust(c: Ctx): Verdict {
  const h = c.m.hosts[c.host];
  const me = c.me[0];
  return {
    checks: [
      h.reach.state === 'up' ? ok(`${c.name} reachable`) : bad(`${c.name} reachable`, `${c.name} is ${h.reach.state}`),
      ok(me?.present ? `${c.vols[0]!.resource} is up: changed settings take effect at its next down/up` : `${c.vols[0]!.resource} is down on ${c.name}: brought up when its metadata is there`),
    ],
  };
}

/**
 * `drbdadm resize`: grow only, to what both backing disks leave. The console does not see the
 * backing disks: the agents compare them and refuse with the reason; the checks here are the
 * state resize needs (connected, idle, both UpToDate), and the sizes now.
 */
function checkResize(c: Ctx): Verdict {
  const checks = [...baseChecks(c), ...idlePairChecks(c)];
  for (const [v, s] of c.me.entries()) {
    const size = s.device ? ` (${fmtKiB(s.device.size)} now)` : '';
    checks.push(s.disk === 'UpToDate' && s.peerDisk === 'UpToDate' ? ok(`${c.vols[v]!.key} UpToDate on both hosts${size}`) : bad(`${c.vols[v]!.key} UpToDate on both hosts`, `resize needs two UpToDate copies (${s.disk}/${s.peerDisk})`));
  }
  checks.push(ok(`grow both backing disks first: the new size is what both leave (refused when ${c.otherName}'s is smaller, or it would shrink)`));
  return { checks };
}

/** Each action's checks; the rest of what the console knows of an action is its row in ACTIONS. */
const CHECKS: Record<ActionKind, (c: Ctx, action: ActionKind) => Verdict> = {
  promote: (c) => checkPromote(c, 'plain'),
  demote: checkDemote,
  connect: (c) => checkConnect(c, false),
  disconnect: checkDisconnect,
  'target-start': (c) => checkTarget(c, true),
  'target-stop': (c) => checkTarget(c, false),
  'force-primary': (c) => checkPromote(c, 'force'),
  'force-primary-forget-peer': (c) => checkPromote(c, 'forget-peer'),
  'discard-my-data': (c) => checkConnect(c, true),
  'create-md-force': checkCreateMd,
  'create-md-force-forget-peer': checkCreateMd,
  'create-md': checkCreateMd,
  down: (c) => checkTakeDown(c, 'down'),
  up: checkUp,
  'skip-initial-sync': checkSkipInitialSync,
  attach: checkUp,
  detach: (c) => checkTakeDown(c, 'detach'),
  verify: checkVerify,
  invalidate: checkInvalidate,
  'pause-sync': (c) => checkSyncPause(c, true),
  'resume-sync': (c) => checkSyncPause(c, false),
  adjust: checkAdjust,
  resize: checkResize,
};

/** `z` toggles: resume a paused resync, pause a running one. */
export function syncToggle(m: ClusterModel, resource: string, host: HostIndex): ActionKind {
  const row = resourceRows(m).find((r) => r.resource === resource);
  return row && PAUSED.has(row.sides[host].replication) ? 'resume-sync' : 'pause-sync';
}

/** Checks one console action on one resource and host against the model. */
export function checkAction(m: ClusterModel, action: ActionKind, resource: string, host: HostIndex): GuardResult {
  const g = check(m, action, resource, host);
  // f opens the suggested dialog: an action refused there would only lead to another refusal.
  const s = g.suggestion;
  if (s?.action && !check(m, s.action, resource, s.host ?? host).allowed) {
    const { suggestion: _dropped, ...rest } = g;
    return rest;
  }
  return g;
}

function check(m: ClusterModel, action: ActionKind, resource: string, host: HostIndex): GuardResult {
  const other = (host === 0 ? 1 : 0) as HostIndex;
  const vols = resourceRows(m).filter((r) => r.resource === resource);
  const c: Ctx = {
    m,
    vols,
    host,
    other,
    me: vols.map((v) => v.sides[host]),
    them: vols.map((v) => v.sides[other]),
    name: m.hosts[host].name,
    otherName: m.hosts[other].name,
  };
  const base = {
    action,
    resource,
    host,
    hostName: c.name,
    command: agentCommand(action, resource),
    destructive: actionSpec(action).destructive === true,
  };
  if (m.readOnly) {
    return { ...base, allowed: false, checks: [bad('console has admin rights', READ_ONLY_REASON)] };
  }
  if (vols.length === 0) {
    return { ...base, allowed: false, checks: [bad(`${resource} known`, `no resource ${resource} on either host`)] };
  }
  const r = CHECKS[action](c, action);
  const allowed = r.checks.every((x) => x.ok);
  const f = forecastOf(c, action);
  const loss = f.flatMap((x) => (x.loss ? [x.loss] : []));
  return {
    ...base,
    allowed,
    checks: r.checks,
    destructive: base.destructive || r.destructive === true || loss.length > 0,
    ...(actionSpec(action).forgetsPeer ? { typeToConfirm: action === 'force-primary-forget-peer' ? c.otherName : c.name } : r.typeToConfirm ? { typeToConfirm: r.typeToConfirm } : {}),
    ...(f.length > 0 ? { forecast: f.map((x) => outcomeText(m, x)) } : {}),
    ...(loss.length > 0 ? { loss } : {}),
    ...(r.warnings ? { warnings: r.warnings } : {}),
    ...(r.suggestion ? { suggestion: r.suggestion } : {}),
  };
}

/** The forecast behind an action that can start a resync; a promote in contact with the peer starts none. */
function forecastOf(c: Ctx, action: ActionKind) {
  const { hypothesis: h, forecast: asTheyStand } = actionSpec(action);
  if (!h && !asTheyStand) return [];
  if (action === 'promote' && c.me[0]!.connection === 'Connected') return [];
  return forecast(c.m, c.vols, h ? { host: c.host, action: h } : undefined);
}

/** `t` toggles: stop a running target, start a stopped one. */
export function targetToggle(m: ClusterModel, resource: string, host: HostIndex): ActionKind {
  const row = resourceRows(m).find((r) => r.resource === resource);
  return row?.sides[host].target?.state === 'running' ? 'target-stop' : 'target-start';
}

/** The first refusal, for one-line summaries (toasts, CLI). */
export function refusal(g: GuardResult): string | undefined {
  return g.checks.find((c) => !c.ok)?.reason;
}
