// The console's actions, one row each: the title a confirmation shows, the control-channel
// request it sends (which is also the drbd-agent command line the confirmation prints), what the
// guards must know about it beyond its checks, and the key that starts it. The checks themselves
// are in guards.ts; everything else about an action is read from here.
import type { Method } from '../../agent/protocol/messages.js';
import type { Hypothesis } from './predict.js';

/** The flags of a request, each the drbd-agent option of the same name. */
export interface RequestFlags {
  force?: boolean;
  forgetPeer?: boolean;
  discardMyData?: boolean;
  clearBitmap?: boolean;
}

interface ActionSpec {
  title: string;
  method: Method;
  flags?: RequestFlags;
  /** Always destructive, whatever the forecast says. */
  destructive?: true;
  /** Overrides the agent's memory of its peer (a peer gone for good): confirmed by typing a host's name. */
  forgetsPeer?: true;
  /** What it does to the generation identifiers, for the forecast of the resync it may start. */
  hypothesis?: Hypothesis;
  /** May start a resync without changing the identifiers: forecast as they stand. */
  forecast?: true;
  /**
   * The console key and, for the notice when there is nothing selected, what it does. Two
   * actions may share a key: it toggles between them (keys.ts says how), and the first says what it does.
   */
  key?: string;
  does?: string;
}

/** Every action, in the order the help and the tests list them. Capital keys take data or service away. */
export const ACTIONS = {
  promote: { title: 'Promote', method: 'primary', hypothesis: 'promote', key: 'p', does: 'promotes' },
  demote: { title: 'Demote', method: 'secondary', key: 's', does: 'demotes' },
  connect: { title: 'Connect', method: 'connect', forecast: true, key: 'c', does: 'connects' },
  disconnect: { title: 'Disconnect', method: 'disconnect', key: 'd', does: 'disconnects' },
  'target-start': { title: 'Start iSCSI target', method: 'target-start', key: 't', does: 'starts or stops the iSCSI target of' },
  'target-stop': { title: 'Stop iSCSI target', method: 'target-stop', key: 't' },
  'force-primary': { title: 'FORCE promote', method: 'primary', flags: { force: true }, destructive: true, hypothesis: 'force-primary', key: 'F', does: 'force-promotes' },
  'force-primary-forget-peer': { title: 'FORCE promote, FORGETTING the peer', method: 'primary', flags: { force: true, forgetPeer: true }, destructive: true, forgetsPeer: true, hypothesis: 'force-primary' },
  'discard-my-data': { title: "Connect, DISCARDING this node's data", method: 'connect', flags: { discardMyData: true }, destructive: true, hypothesis: 'discard-my-data', key: 'X', does: "connects, discarding this node's data of," },
  'create-md-force': { title: 'Re-create metadata (WIPES the replication state)', method: 'create-md', flags: { force: true }, destructive: true, hypothesis: 'create-md', key: 'W', does: 're-creates the metadata of' },
  'create-md-force-forget-peer': { title: "Re-create metadata, FORGETTING the peer (WIPES this node's data)", method: 'create-md', flags: { force: true, forgetPeer: true }, destructive: true, forgetsPeer: true, hypothesis: 'create-md' },
  'create-md': { title: 'Create metadata', method: 'create-md', hypothesis: 'create-md', key: 'm', does: 'creates the metadata of' },
  down: { title: 'Take down', method: 'down', key: 'D', does: 'takes down' },
  up: { title: 'Bring up', method: 'up', forecast: true, key: 'u', does: 'brings up' },
  'skip-initial-sync': { title: 'Skip the initial sync (declares both disks UpToDate unread)', method: 'new-current-uuid', flags: { clearBitmap: true }, destructive: true },
  attach: { title: 'Attach the disk (up, not connecting)', method: 'attach', key: 'a', does: 'attaches the disk of' },
  detach: { title: 'Detach the disk', method: 'detach', key: 'x', does: 'detaches the disk of' },
  verify: { title: 'Online verify', method: 'verify', key: 'v', does: 'verifies' },
  invalidate: { title: "Invalidate this node's data (full resync from the peer)", method: 'invalidate', destructive: true, hypothesis: 'invalidate', key: 'I', does: 'invalidates' },
  'pause-sync': { title: 'Pause the resync', method: 'pause-sync', key: 'z', does: 'pauses or resumes the resync of' },
  'resume-sync': { title: 'Resume the resync', method: 'resume-sync', key: 'z' },
  adjust: { title: 'Adjust (re-read the resource file)', method: 'adjust', key: 'A', does: 'adjusts' },
  resize: { title: "Grow to the backing disks' size", method: 'resize', key: 'g', does: 'grows' },
} as const satisfies Record<string, ActionSpec>;

export type ActionKind = keyof typeof ACTIONS;

export const ACTION_KINDS = Object.keys(ACTIONS) as ActionKind[];

/** One action's row, widened to the spec (the literal types of ACTIONS are for ActionKind only). */
export function actionSpec(action: ActionKind): ActionSpec {
  return ACTIONS[action];
}

/** The drbd-agent option of each flag, in the order drbd-agent's usage writes them. */
const FLAG_OPTIONS: Record<keyof RequestFlags, string> = {
  force: '--force',
  forgetPeer: '--forget-peer',
  discardMyData: '--discard-my-data',
  clearBitmap: '--clear-bitmap',
};

/** The control-channel request behind an action. */
export function agentRequest(action: ActionKind, resource: string): { method: Method; params: { resource: string } & RequestFlags } {
  const { method, flags } = actionSpec(action);
  return { method, params: { resource, ...flags } };
}

/** The same request as the drbd-agent command line an operator would type (`target-start` is `target start`). */
export function agentCommand(action: ActionKind, resource: string): string {
  const { method, flags = {} } = actionSpec(action);
  const verb = method.startsWith('target-') ? method.replace('-', ' ') : method;
  const options = (Object.keys(FLAG_OPTIONS) as Array<keyof RequestFlags>).filter((f) => flags[f]).map((f) => FLAG_OPTIONS[f]);
  return ['drbd-agent', verb, ...options, resource].join(' ');
}
