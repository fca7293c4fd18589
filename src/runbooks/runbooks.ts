// Runbooks as data: each step names its host, the agent action it runs (the same ActionKind
// the console's keys use, so guards.ts stays the one place that maps actions to agent
// requests and checks them), extra preconditions, and when it counts as done. Everything
// here is a pure function of the ClusterModel; the UI's runner only sends what it is told.
import { bad, checkAction, ok, type Check, type GuardResult } from '../cluster/guards.js';
import type { ActionKind } from '../cluster/actions.js';
import { forecast, knownGi, outcomeText } from '../cluster/predict.js';
import { fmtKiB } from '../ui/format.js';
import type { DiskState, NotUpCause } from '../../agent/protocol/messages.js';
import { resourceRows, type ClusterModel, type HostIndex } from '../cluster/model.js';
import { allUpToDate, connected, established, firstSide, hasSplitBrain, hasTarget, isPrimary, isUp, other, primaryHost, reachable, sessionsOn, sidesOf, splitBrainChanges, standalone, targetRunning } from './pair-state.js';
import { connectionBlocker, type WaitBlocker } from './wait-blocker.js';
import { splitBrainDefaultVictim } from '../cluster/split-brain.js';
import { UUID_JUST_CREATED, uuidEq } from '../../agent/protocol/decisions.js';

export { hasSplitBrain, primaryHost, sidesOf, splitBrainChanges } from './pair-state.js';
export type { WaitBlocker } from './wait-blocker.js';

export type RunbookId = 'new-resource' | 'switchover' | 'failover' | 'disk-replacement' | 'split-brain';

export interface RunbookStep {
  /** Stable within its runbook: completed steps are remembered by id. */
  id: string;
  title: string;
  host: HostIndex;
  /**
   * The agent action this step runs; absent for steps the operator only confirms (`confirm`)
   * or that only wait for the model to reach a state (`wait`).
   */
  action?: ActionKind;
  /** A destructive variant the operator may choose instead with Tab (it requires typing the resource name). */
  forceAction?: ActionKind;
  /** What Tab offers, in the step's hint (default: the --force variant). */
  forceLabel?: string;
  /** The variant's own consequence, where it differs from the step's. */
  forceConsequence?: string;
  kind: 'action' | 'confirm' | 'wait';
  /** Why the step exists, one line: what goes wrong without it. */
  why: string;
  /** The procedure is complete without this step and those after it: the operator may finish before it. */
  optional?: boolean;
  /** A wait that is over within this long when nothing is wrong; past it the runner stops waiting and says why. */
  timeoutMs?: number;
  /** Why a wait cannot finish in the current state, and the step that unblocks it, if any. */
  blockedBy?(m: ClusterModel): WaitBlocker | undefined;
  /** The exact text the operator types to confirm this step (as GuardResult.typeToConfirm); else Enter confirms. */
  typeToConfirm?: string;
  /** What confirming does if the operator is wrong, shown with the step. */
  consequence?: string;
  /**
   * Checks beyond the action's own guard, against live state. `variant`: the operator chose the
   * step's variant (Tab), which may accept what the plain step refuses (sessions dropped).
   */
  preconditions(m: ClusterModel, variant?: boolean): Check[];
  /** The state that shows the step has taken effect (or was never needed). */
  doneWhen?(m: ClusterModel): boolean;
  /** What the step is waiting for, shown while it is next. */
  doneText: string;
}

export interface Runbook {
  id: RunbookId;
  title: string;
  resource: string;
  steps: RunbookStep[];
}

export const RUNBOOK_TITLES: Record<RunbookId, string> = {
  'new-resource': 'New resource',
  switchover: 'Planned switchover',
  failover: 'Failover after a power loss',
  'disk-replacement': 'Disk replacement',
  'split-brain': 'Split-brain recovery',
};

/** Disk states of a node the disk-replacement runbook may rebuild: nothing on it is worth keeping. */
const REPLACEABLE: ReadonlySet<DiskState> = new Set<DiskState>(['Failed', 'Diskless', 'Inconsistent', 'DUnknown']);

/** How long a wait for a state the agents reach by themselves (a connection, a role) may take before the runner says why not. */
export const SHORT_WAIT_MS = 60_000;

function peerUpToDateCheck(m: ClusterModel, resource: string, h: HostIndex): Check {
  const name = m.hosts[h].name;
  return allUpToDate(m, resource, h) && connected(m, resource, h)
    ? ok(`${name} Connected and UpToDate`)
    : bad(`${name} Connected and UpToDate`, `${name} must hold UpToDate data before the switch`);
}

/**
 * Connecting the pair now syncs `source` → `target` and nothing else (the engine's own decision on
 * both hosts' identifiers, predict.ts): the check that stops a rebuild before a sync the wrong way.
 */
function syncDirectionCheck(m: ClusterModel, resource: string, source: HostIndex, target: HostIndex): Check {
  const [s, t] = [m.hosts[source].name, m.hosts[target].name];
  const text = `the sync will run ${s} → ${t}`;
  const rows = resourceRows(m).filter((r) => r.resource === resource);
  const out = forecast(m, rows);
  const wrong = out.find((f) => !(f.outcome.kind === 'sync' && f.outcome.source === source) && f.outcome.kind !== 'none');
  if (wrong) return bad(text, `${outcomeText(m, wrong)}: stop here`);
  const kib = sidesOf(m, resource, source).reduce((n, x) => n + (x.peerDevice?.outOfSync ?? 0), 0);
  // How much first, the direction not repeated: the line is cut at the dialog's width (the forecast line below says how, in full).
  const how = out.every((f) => f.outcome.kind === 'none') ? 'nothing to resync' : out.map((f) => outcomeText(m, f).replace(/^\S+: on connect \S+ → \S+, /, '')).join('; ');
  return ok(`${text}: ${kib > 0 ? `${fmtKiB(kib)} that ${t} missed (out of sync on ${s}), ` : ''}${how}`);
}

/** While a sync runs: it runs from `source`; a target on the wrong side stops the runbook. */
function syncingRightWay(m: ClusterModel, resource: string, source: HostIndex, target: HostIndex): Check {
  const [s, t] = [m.hosts[source].name, m.hosts[target].name];
  const wrong = sidesOf(m, resource, source).some((x) => x.present && (x.replication === 'SyncTarget' || x.replication === 'PausedSyncT'));
  return wrong ? bad(`syncing ${s} → ${t}`, `${s} is SyncTarget: the sync runs the wrong way; disconnect ${t} now`) : ok(`syncing ${s} → ${t} (or not yet started)`);
}

/** Why a resource is down where no disk or metadata of it exists yet: nothing on that host to keep. */
const NOTHING_YET: ReadonlySet<NotUpCause> = new Set<NotUpCause>(['backing-disk-missing', 'metadata-missing']);

/** Start `h`'s target: the last step of every runbook that ends with a Primary (done where none is configured). */
function startTargetStep(m: ClusterModel, resource: string, h: HostIndex, id = 'start-target', note = ''): RunbookStep {
  const name = m.hosts[h].name;
  return {
    id,
    title: `start the iSCSI target on ${name}${note}`,
    host: h,
    action: 'target-start',
    kind: 'action',
    why: `the initiators reach ${resource} only through ${name}'s target (and its service address, where one is set)`,
    preconditions: () => [],
    doneWhen: (x) => isPrimary(x, resource, h) && (targetRunning(x, resource, h) || !hasTarget(x, resource, h)),
    doneText: `target running on ${name}`,
  };
}

/** Stop `h`'s target; the sessions it drops are a failed check the operator accepts explicitly (Tab). */
function stopTargetStep(m: ClusterModel, resource: string, h: HostIndex, id: string, why: string, checks: (x: ClusterModel) => Check[] = () => []): RunbookStep {
  const name = m.hosts[h].name;
  const n = sessionsOn(m, resource, h).length;
  return {
    id,
    title: `stop the iSCSI target on ${name}`,
    host: h,
    action: 'target-stop',
    ...(n > 0 ? { forceAction: 'target-stop' as const, forceLabel: `drop the ${n} session${n === 1 ? '' : 's'}`, forceConsequence: `the initiators lose ${resource} until a target serves it again` } : {}),
    kind: 'action',
    why,
    preconditions: (x, variant) => {
      const who = sessionsOn(x, resource, h);
      const sessions =
        who.length === 0
          ? ok(`no initiator logged in on ${name}`)
          : variant
            ? ok(`${who.length} session${who.length === 1 ? '' : 's'} will be dropped (accepted): ${who.join(', ')}`)
            : bad(`no initiator logged in on ${name}`, `${who.length} session${who.length === 1 ? '' : 's'}: ${who.join(', ')} will be dropped; log them out, or Tab to accept`);
      return [...checks(x), sessions];
    },
    doneWhen: (x) => !targetRunning(x, resource, h),
    doneText: `target stopped on ${name}`,
  };
}

/** Demote `h`. */
function demoteStep(m: ClusterModel, resource: string, h: HostIndex, id: string, why: string, preconditions: RunbookStep['preconditions'] = () => []): RunbookStep {
  const name = m.hosts[h].name;
  return { id, title: `demote ${name} to Secondary`, host: h, action: 'demote', kind: 'action', why, preconditions, doneWhen: (x) => reachable(x, h) && !isPrimary(x, resource, h), doneText: `${name} Secondary` };
}

/** Promote `h`; `title` and the step's own checks where the runbook has more to say. */
function promoteStep(m: ClusterModel, resource: string, h: HostIndex, opts: { id?: string; title?: string; why?: string; preconditions?: RunbookStep['preconditions'] } = {}): RunbookStep {
  const name = m.hosts[h].name;
  return {
    id: opts.id ?? 'promote',
    title: opts.title ?? `promote ${name} to Primary`,
    host: h,
    action: 'promote',
    kind: 'action',
    why: opts.why ?? `only a Primary can serve ${resource}`,
    preconditions: opts.preconditions ?? (() => []),
    doneWhen: (x) => isPrimary(x, resource, h),
    doneText: `${name} Primary`,
  };
}

/** Wait until `h` is Connected and UpToDate (a resync from its peer, if any, finished). */
function syncedWait(m: ClusterModel, resource: string, h: HostIndex, id: string, title: string, why: string, checks: (x: ClusterModel) => Check[] = () => []): RunbookStep {
  const name = m.hosts[h].name;
  return {
    id,
    title,
    host: h,
    kind: 'wait',
    why,
    preconditions: checks,
    blockedBy: (x) => connectionBlocker(x, resource),
    doneWhen: (x) => allUpToDate(x, resource, h) && connected(x, resource, h),
    doneText: `${name} Connected and UpToDate`,
  };
}

/**
 * Nothing of `resource` has ever been written on either host: every volume is down with no
 * disk or metadata yet (as its agent looked), or up with a just-created generation. The only
 * pair the set-up runbook may touch; valid metadata on a down resource may hold data.
 */
export function neverHeldData(m: ClusterModel, resource: string): boolean {
  const rows = resourceRows(m).filter((r) => r.resource === resource);
  return rows.length > 0 && rows.every((r) => ([0, 1] as const).every((h) => {
    const s = r.sides[h];
    if (!s.present) return knownGi(r, h) === undefined && s.notUp !== undefined && NOTHING_YET.has(s.notUp.cause);
    const gi = knownGi(r, h);
    return gi !== undefined && uuidEq(gi.side.current, UUID_JUST_CREATED);
  }));
}

/** The seed's set-up: metadata and up on both, then one initial sync source (or none, for two blank disks), then serve. */
function newResource(m: ClusterModel, resource: string, source: HostIndex): Runbook {
  const target = other(source);
  const [srcName, dstName] = [m.hosts[source].name, m.hosts[target].name];
  const sizeKiB = sidesOf(m, resource, target).reduce((n, s) => n + (s.device?.size ?? 0), 0);
  const size = sizeKiB > 0 ? fmtKiB(sizeKiB) : 'all';
  const both = [source, target] as const;
  const fresh = (x: ClusterModel): Check => (neverHeldData(x, resource) ? ok(`no data of ${resource} on either host yet`) : bad(`no data of ${resource} on either host yet`, `${resource} holds data now: use the other runbooks`));
  return {
    id: 'new-resource',
    title: `${RUNBOOK_TITLES['new-resource']} ${resource}: ${srcName} the initial sync source`,
    resource,
    steps: [
      ...both.map(
        (h): RunbookStep => ({
          id: `create-md-${h}`,
          title: `create metadata on ${m.hosts[h].name}`,
          host: h,
          action: 'create-md',
          kind: 'action',
          why: 'the metadata holds the generation identifiers and the bitmap that decide every later sync',
          // Not `fresh`: the metadata this runbook wrote on the first host is valid metadata of
          // unknown content to the other look; the guard and the agent refuse any that holds data.
          preconditions: () => [],
          // Up means its metadata exists; a down resource's metadata only the agent's answer shows.
          doneWhen: (x) => isUp(x, resource, h),
          doneText: 'metadata created',
        }),
      ),
      ...both.map(
        (h): RunbookStep => ({
          id: `up-${h}`,
          title: `bring ${resource} up on ${m.hosts[h].name}`,
          host: h,
          action: 'up',
          kind: 'action',
          why: 'up attaches the disk and starts connecting to the peer',
          preconditions: () => [],
          doneWhen: (x) => isUp(x, resource, h),
          doneText: `${resource} up on ${m.hosts[h].name}`,
        }),
      ),
      {
        id: 'connected',
        title: `wait until ${srcName} and ${dstName} are Connected`,
        host: source,
        kind: 'wait',
        why: 'the initial sync source can only be chosen while both sides see each other',
        timeoutMs: SHORT_WAIT_MS,
        preconditions: (x) => both.map((h) => (connected(x, resource, h) ? ok(`${x.hosts[h].name} Connected`) : bad(`${x.hosts[h].name} Connected`, `${x.hosts[h].name} is ${firstSide(x, resource, h)?.connection ?? 'down'}`))),
        blockedBy: (x) => connectionBlocker(x, resource),
        doneWhen: (x) => connected(x, resource, source) && connected(x, resource, target),
        doneText: 'both Connected',
      },
      {
        id: 'initial-sync',
        title: `make ${srcName} the initial sync source (or skip the sync: two blank disks)`,
        host: source,
        action: 'force-primary',
        forceAction: 'skip-initial-sync',
        forceLabel: 'skip the initial sync',
        kind: 'action',
        why: 'two new disks are both Inconsistent: one must be declared the source, or both equal',
        consequence: `${dstName}'s content (${size}) is overwritten by ${srcName}'s`,
        forceConsequence: `both declared UpToDate unread: ${size} of each disk taken as equal`,
        preconditions: (x) => [fresh(x)],
        doneWhen: (x) => allUpToDate(x, resource, source),
        doneText: `${srcName} UpToDate`,
      },
      syncedWait(m, resource, target, 'sync', `wait for the initial sync ${srcName} → ${dstName}`, `${dstName} is no copy until the sync is over: a failover before it has nothing to fail over to`),
      promoteStep(m, resource, source),
      { ...startTargetStep(m, resource, source, 'start-target', ' (optional)'), optional: true },
    ],
  };
}

function switchover(m: ClusterModel, resource: string, from: HostIndex): Runbook {
  const to = other(from);
  const [fromName, toName] = [m.hosts[from].name, m.hosts[to].name];
  return {
    id: 'switchover',
    title: `${RUNBOOK_TITLES.switchover} ${resource}: ${fromName} → ${toName}`,
    resource,
    steps: [
      // Stopping the target first is what frees the device; check the destination before cutting clients off.
      stopTargetStep(m, resource, from, 'stop-target', `the device is free to demote only when no initiator writes through ${fromName}`, (x) => [peerUpToDateCheck(x, resource, to)]),
      demoteStep(m, resource, from, 'demote', `two Primaries would be a split brain: ${fromName} steps down first`, (x) => [peerUpToDateCheck(x, resource, to)]),
      {
        id: 'peer-ready',
        title: `wait until ${toName} is UpToDate and Established`,
        host: to,
        kind: 'wait',
        why: `promoting ${toName} in the middle of a resync would serve a copy that is not whole yet`,
        timeoutMs: SHORT_WAIT_MS,
        preconditions: (x) => [peerUpToDateCheck(x, resource, to)],
        blockedBy: (x) => connectionBlocker(x, resource),
        doneWhen: (x) => allUpToDate(x, resource, to) && established(x, resource, to),
        doneText: `${toName} UpToDate and Established`,
      },
      promoteStep(m, resource, to),
      startTargetStep(m, resource, to),
    ],
  };
}

function failover(m: ClusterModel, resource: string, dead: HostIndex): Runbook {
  const survivor = other(dead);
  const [deadName, survName] = [m.hosts[dead].name, m.hosts[survivor].name];
  return {
    id: 'failover',
    title: `${RUNBOOK_TITLES.failover} ${resource}: ${deadName} down, ${survName} takes over`,
    resource,
    steps: [
      {
        id: 'confirm-down',
        title: `confirm ${deadName} is really down (powered off or fenced)`,
        host: dead,
        kind: 'confirm',
        why: 'unreachable is not down: a cut link looks the same from here',
        // The operator names the host he checked, so that a slip of the finger cannot promote.
        typeToConfirm: deadName,
        consequence: `if ${deadName} is alive and its clients write, promoting ${survName} makes a split brain`,
        preconditions: (x) => {
          const s = firstSide(x, resource, survivor);
          return [
            reachable(x, dead) ? bad(`${deadName} unreachable`, `${deadName} answers: use the switchover runbook`) : ok(`${deadName} unreachable (${x.hosts[dead].reach.state})`),
            s?.present && s.connection !== 'Connected'
              ? ok(`${survName} has lost its peer (${s.connection})`)
              : bad(`${survName} has lost its peer`, `${survName} is still ${s?.present ? s.connection : 'down'}: ${deadName} may still be alive`),
          ];
        },
        doneText: `the operator types ${deadName}`,
      },
      promoteStep(m, resource, survivor, {
        title: `promote ${survName} (only if UpToDate)`,
        why: `${survName} holds the last good copy; nothing serves ${resource} until it is Primary`,
        preconditions: (x) => [reachable(x, dead) ? bad(`${deadName} still down`, `${deadName} came back: stop and reassess`) : ok(`${deadName} still down`)],
      }),
      startTargetStep(m, resource, survivor),
      {
        id: 'rejoin-wait',
        title: `when ${deadName} is back: wait for its agent (optional: finish here while it is away)`,
        host: dead,
        kind: 'wait',
        optional: true,
        why: `${deadName} missed every write since the failover: it must rejoin as Secondary and resync before it is a copy again`,
        preconditions: (x) => [reachable(x, dead) ? ok(`${deadName} answers`) : bad(`${deadName} answers`, `${deadName} is ${x.hosts[dead].reach.state}: power it on`)],
        // Back with the resource down (not started at its boot): nothing else brings it up. Attached, not connected, so that the connect below checks which way it syncs first.
        blockedBy: (x) => (reachable(x, dead) && !isUp(x, resource, dead) ? { reason: `${resource} is down on ${deadName}: attach it (up, not connecting yet)`, unblock: { action: 'attach', host: dead } } : undefined),
        doneWhen: (x) => reachable(x, dead) && isUp(x, resource, dead),
        doneText: `${deadName} reachable with ${resource} up`,
      },
      demoteStep(m, resource, dead, 'rejoin-secondary', `${deadName} must not serve what ${survName} has moved past: it rejoins as Secondary`),
      {
        id: 'rejoin-connect',
        title: `connect ${deadName}: it resyncs from ${survName}`,
        host: dead,
        action: 'connect',
        kind: 'action',
        why: `the resync brings ${deadName} the writes it missed; the check names how much and which way`,
        preconditions: (x) => [syncDirectionCheck(x, resource, survivor, dead)],
        doneWhen: (x) => isUp(x, resource, dead) && !standalone(x, resource, dead),
        doneText: `${deadName} connecting`,
      },
      syncedWait(m, resource, dead, 'rejoin-sync', `wait for ${deadName}: SyncTarget → UpToDate`, `${deadName} is a copy again only when the resync is over`, (x) => [syncingRightWay(x, resource, survivor, dead)]),
    ],
  };
}

function diskReplacement(m: ClusterModel, resource: string, node: HostIndex): Runbook {
  const peer = other(node);
  const [name, peerName] = [m.hosts[node].name, m.hosts[peer].name];
  const peerGood = (x: ClusterModel): Check =>
    reachable(x, peer) && allUpToDate(x, resource, peer) ? ok(`${peerName} holds UpToDate data`) : bad(`${peerName} holds UpToDate data`, `${peerName} is not UpToDate: rebuilding ${name} now could lose the last good copy`);
  const nodeSecondary = (x: ClusterModel): Check => (isPrimary(x, resource, node) ? bad(`${name} is not Primary`, `${name} still serves: its steps above move service to ${peerName} first`) : ok(`${name} is not Primary`));
  return {
    id: 'disk-replacement',
    title: `${RUNBOOK_TITLES['disk-replacement']} ${resource} on ${name}`,
    resource,
    steps: [
      // The seed's step 4: service first, from the copy that is whole, before anything touches the broken side.
      stopTargetStep(m, resource, node, 'node-stop-target', `${name}'s disk is broken: service moves to ${peerName}, whose copy is whole`, (x) => [peerGood(x)]),
      demoteStep(m, resource, node, 'node-demote', `${peerName} can serve only once ${name} is Secondary`, (x) => [peerGood(x)]),
      promoteStep(m, resource, peer, { id: 'survivor-promote', title: `restore service: promote ${peerName}`, why: `nothing serves ${resource}: ${peerName}'s copy is the good one`, preconditions: (x) => [peerGood(x)] }),
      startTargetStep(m, resource, peer, 'survivor-target', ' (service restored)'),
      {
        id: 'down',
        title: `take ${resource} down on ${name}`,
        host: node,
        action: 'down',
        kind: 'action',
        why: 'the new disk can only get metadata while the resource is down',
        preconditions: (x) => [peerGood(x), nodeSecondary(x)],
        doneWhen: (x) => reachable(x, node) && !isUp(x, resource, node),
        doneText: `${resource} down on ${name}`,
      },
      {
        id: 'create-md',
        title: `create metadata on ${name}'s new disk (Tab: --force)`,
        host: node,
        action: 'create-md',
        forceAction: 'create-md-force',
        kind: 'action',
        why: 'fresh metadata marks the new disk as holding nothing, so it can only ever be a sync target',
        preconditions: (x) => [peerGood(x)],
        // The model cannot see metadata while the resource is down: only the agent's answer says it is done.
        doneText: 'metadata created',
      },
      {
        id: 'attach',
        title: `attach ${name}'s new disk (up, not connecting yet)`,
        host: node,
        action: 'attach',
        kind: 'action',
        why: `attached but not connected, the sync direction can be checked before any block moves`,
        preconditions: (x) => [peerGood(x)],
        doneWhen: (x) => isUp(x, resource, node),
        doneText: `${resource} attached on ${name}`,
      },
      {
        id: 'connect',
        title: `connect ${name}: full sync ${peerName} → ${name}`,
        host: node,
        action: 'connect',
        kind: 'action',
        why: `the one direction that keeps the data: from ${peerName}'s good copy onto the new disk`,
        preconditions: (x) => [peerGood(x), syncDirectionCheck(x, resource, peer, node)],
        doneWhen: (x) => isUp(x, resource, node) && !standalone(x, resource, node),
        doneText: `${name} connecting`,
      },
      syncedWait(m, resource, node, 'sync', `wait for ${name}: SyncTarget → UpToDate (never promote it before)`, `${name} holds a partial copy until the sync is over: promoting it serves holes`, (x) => [
        syncingRightWay(x, resource, peer, node),
        ...sidesOf(x, resource, node).map((v, i) =>
          v.disk === 'UpToDate' ? ok(`volume ${i} UpToDate on ${name}`) : bad(`volume ${i} UpToDate on ${name}`, `${v.disk}${v.replication !== 'Off' ? ` (${v.replication})` : ''}: do not promote ${name}`),
        ),
      ]),
      { ...stopTargetStep(m, resource, peer, 'failback-stop-target', `failback (optional): ${name} serves again, as before the disk broke`), optional: true, title: `failback (optional): stop the iSCSI target on ${peerName}` },
      demoteStep(m, resource, peer, 'failback-demote', `${name} can serve only once ${peerName} is Secondary`, (x) => [peerUpToDateCheck(x, resource, node)]),
      promoteStep(m, resource, node, { id: 'failback-promote', why: `${name} serves again`, preconditions: (x) => [peerUpToDateCheck(x, resource, node)] }),
      startTargetStep(m, resource, node, 'failback-target'),
    ],
  };
}

function splitBrain(m: ClusterModel, resource: string, victim: HostIndex): Runbook {
  const survivor = other(victim);
  const [vName, sName] = [m.hosts[victim].name, m.hosts[survivor].name];
  const [kib] = [splitBrainChanges(m, resource)[victim]];
  const bothReachable = (x: ClusterModel): Check =>
    reachable(x, victim) && reachable(x, survivor) ? ok('both hosts reachable') : bad('both hosts reachable', 'split-brain recovery needs both hosts');
  // Informative, never a refusal: the operator may know that the side with more changes is the one to drop.
  const victimChoice = (x: ClusterModel): Check => {
    const d = splitBrainDefaultVictim(x, resource);
    return ok(d === undefined ? `victim ${vName}: the operator's choice` : d.victim === victim ? `victim ${vName}, the default: ${d.reason}` : `victim ${vName}, not the default (${d.reason})`);
  };
  return {
    id: 'split-brain',
    title: `${RUNBOOK_TITLES['split-brain']} ${resource}: discard ${vName}'s changes (${kib} KiB), keep ${sName}'s`,
    resource,
    steps: [
      stopTargetStep(m, resource, victim, 'victim-stop-target', `${vName}'s initiators would keep writing data that is about to be discarded`, (x) => [bothReachable(x)]),
      demoteStep(m, resource, victim, 'victim-secondary', 'only a Secondary can be resynced from its peer', (x) => [bothReachable(x)]),
      {
        id: 'victim-discard',
        title: `connect ${vName} discarding its ${kib} KiB of changes`,
        host: victim,
        action: 'discard-my-data',
        kind: 'action',
        why: `one side's changes since the split must go; ${vName}'s agent keeps a copy of its diverging blocks first`,
        consequence: `${vName}'s ${kib} KiB written since the split are overwritten by ${sName}'s (a copy is kept in ${vName}'s state dir)`,
        preconditions: (x) => [bothReachable(x), victimChoice(x)],
        doneWhen: (x) => isUp(x, resource, victim) && !standalone(x, resource, victim),
        doneText: `${vName} connecting`,
      },
      {
        id: 'survivor-connect',
        title: `connect ${sName} (the survivor)`,
        host: survivor,
        action: 'connect',
        kind: 'action',
        why: `${sName} went StandAlone at the split: it must connect for the resync to start`,
        preconditions: (x) => [bothReachable(x)],
        doneWhen: (x) => isUp(x, resource, survivor) && !standalone(x, resource, survivor),
        doneText: `${sName} connecting`,
      },
      syncedWait(m, resource, victim, 'resync', `wait for ${vName} to resync from ${sName}`, `${vName} is a copy again only when the resync is over`, (x) => [syncingRightWay(x, resource, survivor, victim)]),
    ],
  };
}

/** Builds a runbook; `host` is the old Primary (switchover), the dead host (failover), the node with the new disk, or the split-brain victim. */
export function buildRunbook(m: ClusterModel, id: RunbookId, resource: string, host: HostIndex): Runbook {
  switch (id) {
    case 'new-resource':
      return newResource(m, resource, host);
    case 'switchover':
      return switchover(m, resource, host);
    case 'failover':
      return failover(m, resource, host);
    case 'disk-replacement':
      return diskReplacement(m, resource, host);
    case 'split-brain':
      return splitBrain(m, resource, host);
  }
}

export interface RunbookChoice {
  id: RunbookId;
  host: HostIndex;
  label: string;
}

/** The runbooks that apply to `resource` in the current state, for the `r` menu. */
export function applicableRunbooks(m: ClusterModel, resource: string): RunbookChoice[] {
  const out: RunbookChoice[] = [];
  const name = (h: HostIndex) => m.hosts[h].name;
  if (hasSplitBrain(m, resource)) {
    const kib = splitBrainChanges(m, resource);
    // The side with fewer changes first: the default, and the reason is shown with the discard step.
    const first = splitBrainDefaultVictim(m, resource)?.victim ?? 0;
    for (const v of [first, other(first)]) {
      out.push({ id: 'split-brain', host: v, label: `${RUNBOOK_TITLES['split-brain']}: victim ${name(v)} (${kib[v]} KiB changed there), keep ${name(other(v))}${v === first ? ' (default)' : ''}` });
    }
    return out;
  }
  if (neverHeldData(m, resource) && reachable(m, 0) && reachable(m, 1)) {
    for (const h of [0, 1] as const) out.push({ id: 'new-resource', host: h, label: `${RUNBOOK_TITLES['new-resource']}: metadata, up, initial sync from ${name(h)}` });
    return out;
  }
  const p = primaryHost(m, resource);
  for (const h of [0, 1] as const) {
    const o = other(h);
    // A survivor without UpToDate data cannot be promoted: offering it would point at the blank disk of the seed's trap.
    if (!reachable(m, h) && reachable(m, o) && allUpToDate(m, resource, o) && !isPrimary(m, resource, o) && (p === h || p === undefined)) {
      out.push({ id: 'failover', host: h, label: `${RUNBOOK_TITLES.failover}: ${name(h)} unreachable, promote ${name(o)}` });
    }
  }
  if (p !== undefined && reachable(m, 0) && reachable(m, 1)) {
    out.push({ id: 'switchover', host: p, label: `${RUNBOOK_TITLES.switchover}: ${name(p)} → ${name(other(p))}` });
  }
  for (const h of [0, 1] as const) {
    // Only a node whose disk holds nothing worth keeping: never the one with the only good copy.
    const broken = sidesOf(m, resource, h).some((s) => !s.present || REPLACEABLE.has(s.disk));
    // A node whose resource is down shows no disk state: what is known of its data decides (the guard's forecast of the wipe).
    const onlyCopy = (checkAction(m, 'create-md', resource, h).loss?.length ?? 0) > 0;
    // A broken Primary is offered too: the runbook's first steps move service to the peer.
    if (broken && !onlyCopy && reachable(m, h) && reachable(m, other(h)) && allUpToDate(m, resource, other(h))) {
      out.push({ id: 'disk-replacement', host: h, label: `${RUNBOOK_TITLES['disk-replacement']} on ${name(h)}` });
    }
  }
  return out;
}

export type StepStatus = 'done' | 'next' | 'pending';

export interface RunbookProgress {
  status: StepStatus[];
  /** Index of the next step; undefined when the runbook is finished. */
  next?: number;
  finished: boolean;
  /** The next step's guard (action steps): command, host, the action's checks plus the step's own. */
  guard?: GuardResult;
  /** Every check of the next step (for confirm and wait steps, the step's own). */
  checks: Check[];
  /** The next step may run (action, confirm); a wait step is never "ready": the model finishes it. */
  ready: boolean;
  /** What remains is optional: the operator may finish the runbook here. */
  finishable: boolean;
  /** A wait step that cannot finish as things stand: why, and what unblocks it. */
  blocker?: WaitBlocker;
  /** The guard of the action that unblocks the wait, where there is one (it may itself be refused). */
  unblock?: GuardResult;
}

/** What running `step` (or its variant) risks, shown with it. */
export function stepConsequence(step: RunbookStep, force: boolean): string | undefined {
  return force && step.forceAction ? (step.forceConsequence ?? step.consequence) : step.consequence;
}

/** The Tab hint of a step with a variant: what Tab switches to. */
export function variantHint(step: RunbookStep, force: boolean): string {
  if (!step.forceAction) return '';
  return force ? 'Tab back to the plain step · ' : `Tab ${step.forceLabel ?? '--force variant'} · `;
}

/** The guard for running `step` (optionally its variant), with the step's own preconditions folded in. */
export function stepGuard(m: ClusterModel, runbook: Runbook, step: RunbookStep, force = false): GuardResult | undefined {
  const variant = force && step.forceAction !== undefined;
  const action = variant ? step.forceAction : step.action;
  if (!action) return undefined;
  const { typeToConfirm: asked, ...g } = checkAction(m, action, runbook.resource, step.host);
  const checks = [...g.checks, ...step.preconditions(m, variant)];
  // A name the runbook's own confirm step already had typed (the dead host's) is not asked twice.
  const vouched = runbook.steps.some((s) => s !== step && s.kind === 'confirm' && s.typeToConfirm === asked);
  // A variant accepts what the plain step refuses: never on a single key.
  const typeToConfirm = step.typeToConfirm ?? (vouched ? undefined : asked) ?? (variant && !g.destructive ? runbook.resource : undefined);
  return { ...g, checks, allowed: checks.every((c) => c.ok), ...(typeToConfirm !== undefined ? { typeToConfirm } : {}) };
}

/**
 * Where a runbook stands. Steps up to the last one the operator completed count as done (a
 * later step may legitimately undo an earlier one's visible state, as `up` undoes `down`);
 * after that a step is done when its `doneWhen` holds, so steps already in effect are skipped.
 */
export function runbookProgress(runbook: Runbook, m: ClusterModel, completedSteps: readonly string[], force = false): RunbookProgress {
  const steps = runbook.steps;
  let last = -1;
  steps.forEach((s, i) => {
    if (completedSteps.includes(s.id)) last = i;
  });
  let next: number | undefined;
  for (let i = last + 1; i < steps.length; i++) {
    if (!steps[i]!.doneWhen?.(m)) {
      next = i;
      break;
    }
  }
  const status = steps.map((_, i): StepStatus => (next === undefined || i < next ? 'done' : i === next ? 'next' : 'pending'));
  if (next === undefined) return { status, finished: true, checks: [], ready: false, finishable: false };
  const step = steps[next]!;
  const guard = stepGuard(m, runbook, step, force);
  const checks = guard ? guard.checks : step.preconditions(m, force && step.forceAction !== undefined);
  const ready = step.kind !== 'wait' && checks.every((c) => c.ok) && (guard ? guard.allowed : !m.readOnly);
  const finishable = steps.slice(0, next + 1).some((s) => s.optional);
  const blocker = step.kind === 'wait' ? step.blockedBy?.(m) : undefined;
  const unblock = blocker?.unblock ? checkAction(m, blocker.unblock.action, runbook.resource, blocker.unblock.host) : undefined;
  return { status, next, finished: false, guard, checks, ready, finishable, ...(blocker ? { blocker } : {}), ...(unblock ? { unblock } : {}) };
}

export interface WaitClock {
  /** Seconds the step has been waiting. */
  elapsedS: number;
  /** Past the step's timeout: the runner stops waiting and says why. */
  timedOut: boolean;
}

/** How long `step` has waited, counted from `sinceMs` (when it became the next step). */
export function waitClock(step: RunbookStep, sinceMs: number | undefined, nowMs: number): WaitClock {
  const elapsed = sinceMs === undefined ? 0 : Math.max(0, nowMs - sinceMs);
  return { elapsedS: Math.floor(elapsed / 1000), timedOut: step.kind === 'wait' && step.timeoutMs !== undefined && elapsed >= step.timeoutMs };
}
