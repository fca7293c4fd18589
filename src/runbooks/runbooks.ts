// Runbooks as data: each step names its host, the agent action it runs (the same ActionKind
// the console's keys use, so guards.ts stays the one place that maps actions to agent
// requests and checks them), extra preconditions, and when it counts as done. Everything
// here is a pure function of the ClusterModel; the UI's runner only sends what it is told.
import { checkAction, type ActionKind, type Check, type GuardResult } from '../cluster/guards.js';
import { knownGi } from '../cluster/predict.js';
import { fmtKiB } from '../ui/format.js';
import { UUID_JUST_CREATED, uuidEq } from '../../agent/engine/uuid.js';
import type { DiskState, NotUpCause } from '../../agent/protocol.js';
import { resourceRows, type ClusterModel, type HostIndex, type HostSide } from '../cluster/model.js';

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
  /** The exact text the operator types to confirm this step (as GuardResult.typeToConfirm); else Enter confirms. */
  typeToConfirm?: string;
  /** What confirming does if the operator is wrong, shown with the step. */
  consequence?: string;
  /** Checks beyond the action's own guard, against live state. */
  preconditions(m: ClusterModel): Check[];
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

const other = (h: HostIndex): HostIndex => (h === 0 ? 1 : 0);
const ok = (text: string): Check => ({ ok: true, text });
const bad = (text: string, reason: string): Check => ({ ok: false, text, reason });

/** Disk states of a node the disk-replacement runbook may rebuild: nothing on it is worth keeping. */
const REPLACEABLE: ReadonlySet<DiskState> = new Set<DiskState>(['Failed', 'Diskless', 'Inconsistent', 'DUnknown']);

/** Every volume's side of `resource` on host `h`. */
export function sidesOf(m: ClusterModel, resource: string, h: HostIndex): HostSide[] {
  return resourceRows(m)
    .filter((r) => r.resource === resource)
    .map((r) => r.sides[h]);
}

const first = (m: ClusterModel, resource: string, h: HostIndex): HostSide | undefined => sidesOf(m, resource, h)[0];
const reachable = (m: ClusterModel, h: HostIndex): boolean => m.hosts[h].reach.state === 'up';
const targetRunning = (m: ClusterModel, resource: string, h: HostIndex): boolean => first(m, resource, h)?.target?.state === 'running';
const hasTarget = (m: ClusterModel, resource: string, h: HostIndex): boolean => first(m, resource, h)?.target !== undefined;
const isPrimary = (m: ClusterModel, resource: string, h: HostIndex): boolean => {
  const s = first(m, resource, h);
  return s?.present === true && s.role === 'Primary';
};
const allUpToDate = (m: ClusterModel, resource: string, h: HostIndex): boolean => {
  const s = sidesOf(m, resource, h);
  return s.length > 0 && s.every((x) => x.present && x.disk === 'UpToDate');
};
const connected = (m: ClusterModel, resource: string, h: HostIndex): boolean => {
  const s = sidesOf(m, resource, h);
  return s.length > 0 && s.every((x) => x.present && x.connection === 'Connected');
};

/** The host whose last known role of `resource` is Primary (reachable or not). */
export function primaryHost(m: ClusterModel, resource: string): HostIndex | undefined {
  return ([0, 1] as const).find((h) => isPrimary(m, resource, h));
}

/** Out-of-sync KiB each side recorded since the split: how much that side would lose as the victim. */
export function splitBrainChanges(m: ClusterModel, resource: string): [number, number] {
  const sum = (h: HostIndex) => sidesOf(m, resource, h).reduce((n, s) => n + (s.peerDevice?.outOfSync ?? 0), 0);
  return [sum(0), sum(1)];
}

export function hasSplitBrain(m: ClusterModel, resource: string): boolean {
  return ([0, 1] as const).some((h) => sidesOf(m, resource, h).some((s) => s.present && s.splitBrain));
}

function peerUpToDateCheck(m: ClusterModel, resource: string, h: HostIndex): Check {
  const name = m.hosts[h].name;
  return allUpToDate(m, resource, h) && connected(m, resource, h)
    ? ok(`${name} Connected and UpToDate`)
    : bad(`${name} Connected and UpToDate`, `${name} must hold UpToDate data before the switch`);
}

/** Why a resource is down where no disk or metadata of it exists yet: nothing on that host to keep. */
const NOTHING_YET: ReadonlySet<NotUpCause> = new Set<NotUpCause>(['backing-disk-missing', 'metadata-missing']);

/** The last step of every runbook that ends with a Primary: its target serving (done where none is configured). */
function startTargetStep(m: ClusterModel, resource: string, h: HostIndex, note = ''): RunbookStep {
  const name = m.hosts[h].name;
  return {
    id: 'start-target',
    title: `start the iSCSI target on ${name}${note}`,
    host: h,
    action: 'target-start',
    kind: 'action',
    preconditions: () => [],
    doneWhen: (x) => isPrimary(x, resource, h) && (targetRunning(x, resource, h) || !hasTarget(x, resource, h)),
    doneText: `target running on ${name}`,
  };
}

/** Promote `h`; `title` and the step's own checks where the runbook has more to say. */
function promoteStep(m: ClusterModel, resource: string, h: HostIndex, title = `promote ${m.hosts[h].name} to Primary`, preconditions: RunbookStep['preconditions'] = () => []): RunbookStep {
  return { id: 'promote', title, host: h, action: 'promote', kind: 'action', preconditions, doneWhen: (x) => isPrimary(x, resource, h), doneText: `${m.hosts[h].name} Primary` };
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
  const up = (x: ClusterModel, h: HostIndex) => sidesOf(x, resource, h).some((s) => s.present);
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
          // Not `fresh`: the metadata this runbook wrote on the first host is valid metadata of
          // unknown content to the other look; the guard and the agent refuse any that holds data.
          preconditions: () => [],
          // Up means its metadata exists; a down resource's metadata only the agent's answer shows.
          doneWhen: (x) => up(x, h),
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
          preconditions: () => [],
          doneWhen: (x) => up(x, h),
          doneText: `${resource} up on ${m.hosts[h].name}`,
        }),
      ),
      {
        id: 'connected',
        title: `wait until ${srcName} and ${dstName} are Connected`,
        host: source,
        kind: 'wait',
        preconditions: (x) => both.map((h) => (connected(x, resource, h) ? ok(`${x.hosts[h].name} Connected`) : bad(`${x.hosts[h].name} Connected`, `${x.hosts[h].name} is ${first(x, resource, h)?.connection ?? 'down'}`))),
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
        consequence: `${dstName}'s content (${size}) is overwritten by ${srcName}'s`,
        forceConsequence: `both declared UpToDate unread: ${size} of each disk taken as equal`,
        preconditions: (x) => [fresh(x)],
        doneWhen: (x) => allUpToDate(x, resource, source),
        doneText: `${srcName} UpToDate`,
      },
      {
        id: 'sync',
        title: `wait for the initial sync ${srcName} → ${dstName}`,
        host: target,
        kind: 'wait',
        preconditions: () => [],
        doneWhen: (x) => allUpToDate(x, resource, target) && connected(x, resource, target),
        doneText: `${dstName} UpToDate`,
      },
      promoteStep(m, resource, source),
      startTargetStep(m, resource, source, ' (optional: Esc ends here)'),
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
      {
        id: 'stop-target',
        title: `stop the iSCSI target on ${fromName}`,
        host: from,
        action: 'target-stop',
        kind: 'action',
        // Stopping the target first is what frees the device; check the destination before cutting clients off.
        preconditions: (x) => [peerUpToDateCheck(x, resource, to)],
        doneWhen: (x) => !targetRunning(x, resource, from),
        doneText: `target stopped on ${fromName}`,
      },
      {
        id: 'demote',
        title: `demote ${fromName} to Secondary`,
        host: from,
        action: 'demote',
        kind: 'action',
        preconditions: (x) => [peerUpToDateCheck(x, resource, to)],
        doneWhen: (x) => first(x, resource, from)?.present === true && !isPrimary(x, resource, from),
        doneText: `${fromName} Secondary`,
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
        // Unreachable is not down: a cut link looks the same from here, so the operator says which host he checked.
        typeToConfirm: deadName,
        consequence: `if ${deadName} is alive and its clients write, promoting ${survName} makes a split brain`,
        preconditions: (x) => {
          const s = first(x, resource, survivor);
          return [
            reachable(x, dead) ? bad(`${deadName} unreachable`, `${deadName} answers: use the switchover runbook`) : ok(`${deadName} unreachable (${x.hosts[dead].reach.state})`),
            s?.present && s.connection !== 'Connected'
              ? ok(`${survName} has lost its peer (${s.connection})`)
              : bad(`${survName} has lost its peer`, `${survName} is still ${s?.present ? s.connection : 'down'}: ${deadName} may still be alive`),
          ];
        },
        doneText: `the operator types ${deadName}`,
      },
      promoteStep(m, resource, survivor, `promote ${survName} (only if UpToDate)`, (x) => [
        reachable(x, dead) ? bad(`${deadName} still down`, `${deadName} came back: stop and reassess`) : ok(`${deadName} still down`),
      ]),
      startTargetStep(m, resource, survivor),
    ],
  };
}

function diskReplacement(m: ClusterModel, resource: string, node: HostIndex): Runbook {
  const peer = other(node);
  const [name, peerName] = [m.hosts[node].name, m.hosts[peer].name];
  const peerGood = (x: ClusterModel): Check =>
    reachable(x, peer) && allUpToDate(x, resource, peer) ? ok(`${peerName} holds UpToDate data`) : bad(`${peerName} holds UpToDate data`, `${peerName} is not UpToDate: rebuilding ${name} now could lose the last good copy`);
  const switchFirst = bad(`${name} is not Primary`, `switch ${resource} over to ${peerName} first`);
  return {
    id: 'disk-replacement',
    title: `${RUNBOOK_TITLES['disk-replacement']} ${resource} on ${name}`,
    resource,
    steps: [
      {
        id: 'down',
        title: `take ${resource} down on ${name}`,
        host: node,
        action: 'down',
        kind: 'action',
        // The action's own guard already refuses a Primary; say what to do about it instead.
        preconditions: (x) => [peerGood(x), ...(isPrimary(x, resource, node) ? [switchFirst] : [])],
        doneWhen: (x) => reachable(x, node) && first(x, resource, node)?.present !== true,
        doneText: `${resource} down on ${name}`,
      },
      {
        id: 'create-md',
        title: `create metadata on ${name}'s new disk (Tab: --force)`,
        host: node,
        action: 'create-md',
        forceAction: 'create-md-force',
        kind: 'action',
        preconditions: (x) => [peerGood(x)],
        // The model cannot see metadata while the resource is down: only the agent's answer says it is done.
        doneText: 'metadata created',
      },
      {
        id: 'up',
        title: `bring ${resource} up on ${name}`,
        host: node,
        action: 'up',
        kind: 'action',
        preconditions: (x) => [peerGood(x)],
        doneWhen: (x) => first(x, resource, node)?.present === true,
        doneText: `${resource} up on ${name}`,
      },
      {
        id: 'sync',
        title: `wait for ${name}: SyncTarget → UpToDate (never promote it before)`,
        host: node,
        kind: 'wait',
        preconditions: (x) => {
          const s = sidesOf(x, resource, node);
          return s.map((v, i) =>
            v.disk === 'UpToDate' ? ok(`volume ${i} UpToDate on ${name}`) : bad(`volume ${i} UpToDate on ${name}`, `${v.disk}${v.replication !== 'Off' ? ` (${v.replication})` : ''}: do not promote ${name}`),
          );
        },
        doneWhen: (x) => allUpToDate(x, resource, node) && connected(x, resource, node),
        doneText: `${name} UpToDate and Connected`,
      },
    ],
  };
}

function splitBrain(m: ClusterModel, resource: string, victim: HostIndex): Runbook {
  const survivor = other(victim);
  const [vName, sName] = [m.hosts[victim].name, m.hosts[survivor].name];
  const [kib] = [splitBrainChanges(m, resource)[victim]];
  const bothReachable = (x: ClusterModel): Check =>
    reachable(x, victim) && reachable(x, survivor) ? ok('both hosts reachable') : bad('both hosts reachable', 'split-brain recovery needs both hosts');
  const standalone = (x: ClusterModel, h: HostIndex): boolean => sidesOf(x, resource, h).some((s) => s.present && s.connection === 'StandAlone');
  return {
    id: 'split-brain',
    title: `${RUNBOOK_TITLES['split-brain']} ${resource}: discard ${vName}'s changes (${kib} KiB), keep ${sName}'s`,
    resource,
    steps: [
      {
        id: 'victim-stop-target',
        title: `stop the iSCSI target on ${vName} (the victim)`,
        host: victim,
        action: 'target-stop',
        kind: 'action',
        preconditions: (x) => [bothReachable(x)],
        doneWhen: (x) => !targetRunning(x, resource, victim),
        doneText: `target stopped on ${vName}`,
      },
      {
        id: 'victim-secondary',
        title: `demote ${vName} (the victim) to Secondary`,
        host: victim,
        action: 'demote',
        kind: 'action',
        preconditions: (x) => [bothReachable(x)],
        doneWhen: (x) => first(x, resource, victim)?.present === true && !isPrimary(x, resource, victim),
        doneText: `${vName} Secondary`,
      },
      {
        id: 'victim-discard',
        title: `connect ${vName} discarding its ${kib} KiB of changes`,
        host: victim,
        action: 'discard-my-data',
        kind: 'action',
        preconditions: (x) => [bothReachable(x)],
        doneWhen: (x) => first(x, resource, victim)?.present === true && !standalone(x, victim),
        doneText: `${vName} connecting`,
      },
      {
        id: 'survivor-connect',
        title: `connect ${sName} (the survivor)`,
        host: survivor,
        action: 'connect',
        kind: 'action',
        preconditions: (x) => [bothReachable(x)],
        doneWhen: (x) => first(x, resource, survivor)?.present === true && !standalone(x, survivor),
        doneText: `${sName} connecting`,
      },
      {
        id: 'resync',
        title: `wait for ${vName} to resync from ${sName}`,
        host: victim,
        kind: 'wait',
        preconditions: () => [],
        doneWhen: (x) => connected(x, resource, victim) && allUpToDate(x, resource, victim),
        doneText: `${vName} Connected and UpToDate`,
      },
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
    for (const v of [0, 1] as const) {
      out.push({ id: 'split-brain', host: v, label: `${RUNBOOK_TITLES['split-brain']}: victim ${name(v)} (${kib[v]} KiB changed there), keep ${name(other(v))}` });
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
    if (broken && !onlyCopy && reachable(m, h) && reachable(m, other(h)) && !isPrimary(m, resource, h) && allUpToDate(m, resource, other(h))) {
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

/** The guard for running `step` (optionally its forceful variant), with the step's own preconditions folded in. */
export function stepGuard(m: ClusterModel, runbook: Runbook, step: RunbookStep, force = false): GuardResult | undefined {
  const action = force && step.forceAction ? step.forceAction : step.action;
  if (!action) return undefined;
  const { typeToConfirm: asked, ...g } = checkAction(m, action, runbook.resource, step.host);
  const checks = [...g.checks, ...step.preconditions(m)];
  // A name the runbook's own confirm step already had typed (the dead host's) is not asked twice.
  const vouched = runbook.steps.some((s) => s !== step && s.kind === 'confirm' && s.typeToConfirm === asked);
  const typeToConfirm = step.typeToConfirm ?? (vouched ? undefined : asked);
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
  if (next === undefined) return { status, finished: true, checks: [], ready: false };
  const step = steps[next]!;
  const guard = stepGuard(m, runbook, step, force);
  const checks = guard ? guard.checks : step.preconditions(m);
  const ready = step.kind !== 'wait' && checks.every((c) => c.ok) && (guard ? guard.allowed : !m.readOnly);
  return { status, next, finished: false, guard, checks, ready };
}
