// The control channel between the console (or the agent CLI) and the agent daemon: the one
// module both sides import. Newline-delimited JSON over a unix socket (forwarded over SSH
// by the console): requests with ids, responses with typed errors, and a stream of state
// events shaped like `drbdsetup events2` so that the console folds the same model whether
// the engine is ours or the kernel's.

export const PROTOCOL_VERSION = 1;

// ---- DRBD state vocabulary (agent/drbd-states.ts; here for the console) ----
import type { ConnState, DiskState, ReplState, Role } from '../drbd-states.js';
export type { ConnState, DiskState, ReplState, Role };

// ---- Snapshots: the agent's structured view of one resource ----
// `status`, `status --json` and `events` are all derived from these.

export interface GenerationIds {
  /** 16 hex digits, upper case, as drbdsetup show-gi prints them. */
  current: string;
  /** Bitmap UUID per peer node-id ("0000000000000000" while in sync). */
  bitmap: Record<string, string>;
  history: string[];
}

export interface DeviceSnapshot {
  volume: number;
  minor: number;
  device: string;
  backingDev: string;
  disk: DiskState;
  open: boolean;
  /** KiB */
  size: number;
  read: number;
  written: number;
  alWrites: number;
  bmWrites: number;
  upperPending: number;
  lowerPending: number;
  alSuspended: boolean;
  blocked: boolean;
  uuids: GenerationIds;
  /** Bytes held by the resync undo journal (consistent resync target), when one is in use. */
  undoJournal?: { used: number; capacity: number };
  /** Kernel engine: DRBD's `quorum` and `client` (a diskless client by intention); absent from the builtin engine. */
  quorum?: boolean;
  client?: boolean;
  /** Kernel engine: events2 keys this agent does not map, as DRBD sent them (shown, never dropped). */
  kernelExtra?: Array<[string, string]>;
}

export interface PeerDeviceSnapshot {
  volume: number;
  replication: ReplState;
  peerDisk: DiskState;
  resyncSuspended: 'no' | 'user' | 'peer' | 'dependency';
  /** KiB */
  received: number;
  sent: number;
  outOfSync: number;
  pending: number;
  unacked: number;
  /** While syncing or verifying: percent done (engine's own figure), MiB/s over the last interval, seconds left. */
  done?: number;
  dbdt1?: number;
  eta?: number;
  /** Online verify: KiB found differing in the last or current run. */
  verifyMismatch?: number;
  /**
   * The peer's data as this node last knew it (kept in the agent's state dir, so it survives
   * restarts and a replaced disk): what a guard must assume of a peer it cannot see.
   */
  peerLastDisk?: DiskState;
  peerLastUuid?: string;
  /** The bitmap UUID the peer held for this node. */
  peerLastBitmap?: string;
  peerLastHistory?: string[];
  /** Kernel engine: DRBD's `peer-client` (the peer is a diskless client by intention). */
  peerClient?: boolean;
  kernelExtra?: Array<[string, string]>;
}

export interface ConnectionSnapshot {
  peerNodeId: number;
  connName: string;
  connection: ConnState;
  /** The peer's role as last seen (Unknown when not connected). */
  role: Role;
  congested: boolean;
  apInFlight: number;
  rsInFlight: number;
  localAddress: string;
  peerAddress: string;
  established: boolean;
  /** Split brain detected at the last handshake and not yet resolved. Beyond DRBD: it is state, not a log line. */
  splitBrain: boolean;
  /** Why the connection is StandAlone or failing, in words ("authentication failed", "unrelated data"). */
  lastError?: string;
  /** When this node last heard the peer's state (ISO time), and its role then; see PeerDeviceSnapshot.peerLastDisk. */
  peerLastSeen?: string;
  peerLastRole?: Role;
  peerDevices: PeerDeviceSnapshot[];
  kernelExtra?: Array<[string, string]>;
}

export interface TargetSession {
  id: string;
  initiator: string;
  address: string;
  /** ISO time of login. */
  since: string;
}

export interface TargetSnapshot {
  state: 'running' | 'stopped';
  iqn: string;
  portal: string;
  sessions: TargetSession[];
  /** Whether logins need CHAP (iscsi.chap); absent from agents before it was reported. */
  chap?: boolean;
  /** iscsi.allowed-initiators when configured. */
  allowedInitiators?: string[];
  /** iscsi.service-address when configured: ADDR/PREFIX, the interface it goes on (empty until known), whether this host holds it. */
  serviceAddress?: ServiceAddressState;
}

export interface ServiceAddressState {
  address: string;
  interface: string;
  held: boolean;
}

export interface ResourceSnapshot {
  name: string;
  nodeId: number;
  /** Local host name as the resource file names it. */
  node: string;
  role: Role;
  suspended: boolean;
  writeOrdering: 'flush' | 'none';
  mayPromote: boolean;
  promotionScore: number;
  protocol: 'A' | 'B' | 'C';
  configHash: string;
  /** The resource file (capability `config-mode`). */
  configFile?: string;
  /** Its mode (0644) when the group or others may read the secrets it holds; absent when they may not (agent/config/file-mode.ts). */
  configExposed?: string;
  /** The file whose mode configExposed is, when it is not configFile: common's global_common.conf for a secret set in common { }. */
  configExposedFile?: string;
  /** false: the file sets no shared-secret and the peer link runs unauthenticated (capability `peer-auth`; absent from agents before it). */
  peerAuthenticated?: boolean;
  /** DRBD options the file sets that are accepted but not honoured, in file order (capability `ignored-options`). */
  ignored?: IgnoredOptionSnapshot[];
  devices: DeviceSnapshot[];
  connections: ConnectionSnapshot[];
  target?: TargetSnapshot;
  /** Which engine serves it; absent means builtin (agents before the kernel engine). */
  engine?: 'builtin' | 'kernel';
  /** Kernel engine: why I/O is suspended, as DRBD says it (`suspended:user`, `no-data`, `fencing`, `quorum`, or several joined by commas). */
  suspendedReason?: string;
  /** Kernel engine: the last run of each handler DRBD called (events2 `call`/`response helper`). */
  helpers?: KernelHelperRun[];
  kernelExtra?: Array<[string, string]>;
}

/** One run of a DRBD handler (split-brain, local-io-error, before-resync-target, fence-peer, …) as events2 reported it. */
export interface KernelHelperRun {
  helper: string;
  /** The object it ran for: the resource, a connection (peerNodeId, connName) and/or a volume. */
  peerNodeId?: number;
  connName?: string;
  volume?: number;
  /** ISO time of the `call` line ('' without --timestamps). */
  called: string;
  /** The helper's exit status; absent while it runs. */
  status?: number;
}

/** A line of the kernel's events2 stream that the agent could not map: kept and shown, never a crash. */
export interface KernelUnknownLine {
  line: string;
  problem: string;
}

/** A DRBD option accepted but not honoured: its keyword, the section it was written in, why, where. */
export interface IgnoredOptionSnapshot {
  option: string;
  section: string;
  why: string;
  file: string;
  line: number;
  col: number;
}

/** A resource file that failed to load: reported in status and events, others keep working. */
export interface ConfigProblem {
  file: string;
  line: number;
  col: number;
  message: string;
}

/**
 * Why a resource this host knows is not up, as the agent found it (agent/protocol/not-up.ts judges):
 * `down` — its file is valid and nothing stands in the way; the others are broken.
 */
export type NotUpCause =
  | 'down'
  | 'config-error'
  | 'not-a-host'
  | 'backing-disk-missing'
  | 'backing-disk-failed'
  | 'metadata-missing'
  | 'metadata-invalid';

/** A resource that has a file in the config dir but is not up: configured-but-down, or broken. */
export interface NotUpResource {
  name: string;
  /** Its resource file. */
  file: string;
  cause: NotUpCause;
  /** The cause in words, naming the file (file:line:col) or disk ("backing disk /x does not exist"); empty for `down`. */
  reason: string;
  /** The next step, as the operator would type or do it ("drbd-agent create-md r0"). */
  next: string;
  /** Its volume numbers, when the file loads. */
  volumes: number[];
  /** The agent tried to bring it up (an `up`, or a restart with it marked up) and could not: the error then. */
  upError?: string;
}

export interface AgentSnapshot {
  node: string;
  agentVersion: string;
  resources: ResourceSnapshot[];
  configErrors: ConfigProblem[];
  /** Resources known here but not up (capability `not-up`; absent from agents before it). */
  notUp?: NotUpResource[];
  /** Each resource's runbook run as last put: active, or the last finished/abandoned one (capability `runbooks`). */
  runbooks?: RunbookRecord[];
  /** Kernel engine: the latest events2 lines it could not map (bounded). */
  kernelUnknown?: KernelUnknownLine[];
}

/**
 * A runbook's progress as the consoles put it (`runbook-put`), kept in the agent's state dir so
 * that an operator who lost his console resumes where it stopped, from any machine. One run per
 * resource at a time; a run is identified by resource, runbook, subject and started.
 */
export interface RunbookRecord {
  resource: string;
  /** A RunbookId (src/runbooks/runbooks.ts). */
  runbook: string;
  /** Node name of the host the runbook is about (the old Primary, the dead host, the new disk's, the victim). */
  subject: string;
  state: 'active' | 'finished' | 'abandoned';
  /** Step ids done so far, in runbook order. */
  completed: string[];
  /** How many steps the runbook has, as the console that put it counted (for `step:N/M`). */
  steps?: number;
  /** ISO times. */
  started: string;
  updated: string;
  /** Increases with every update of this run: an older put never overwrites a newer one. */
  seq: number;
  /** user@console-host that last updated it (the SSH login user). */
  by: string;
}

/** Two records of one run: the resource, the runbook, its subject and when it started identify it. */
export function sameRunbookRun(a: RunbookRecord, b: RunbookRecord): boolean {
  return a.resource === b.resource && a.runbook === b.runbook && a.subject === b.subject && a.started === b.started;
}

export type RunbookResult = 'started' | 'ran' | 'refused' | 'failed' | 'confirmed' | 'waited' | 'finished' | 'abandoned' | 'resumed';

/** One line of a host's runbook audit log (`runbook-log`, `drbd-agent runbook-log`). */
export interface RunbookLogEntry {
  time: string;
  resource: string;
  runbook: string;
  subject: string;
  step?: string;
  title?: string;
  /** Node name where the step ran. */
  host?: string;
  command?: string;
  result: RunbookResult;
  /** DRBD's message of a refusal or failure, or a note. */
  detail?: string;
  user: string;
}

/**
 * `runbook-put` (admin only): stores the record and appends the entry to the audit log.
 * `converge`: the console copies a newer record from the other host; it may replace a
 * different active run that is older (one that host missed the end of).
 */
export interface RunbookPutParams {
  record: RunbookRecord;
  entry?: RunbookLogEntry;
  converge?: boolean;
}

/** `runbook-put`'s answer: the record now stored (the stored one when the put was older). */
export interface RunbookPutResult {
  record: RunbookRecord;
  stored: boolean;
}

/** `runbook-log` (read-only): the newest `limit` entries, oldest first, of one resource or all. */
export interface RunbookLogParams {
  resource?: string;
  limit?: number;
}
export interface RunbookLogResult {
  entries: RunbookLogEntry[];
}

// ---- Events (events2 model) ----
export type EventVerb = 'exists' | 'create' | 'change' | 'destroy' | 'call' | 'response';
/** DRBD's objects plus ours: `target`, `session`, `config-error`, `not-up` and `runbook` are documented extensions (agent/protocol/events2.ts). */
export type EventObject =
  | 'resource'
  | 'device'
  | 'connection'
  | 'peer-device'
  | 'path'
  | 'helper'
  | 'target'
  | 'session'
  | 'config-error'
  | 'not-up'
  | 'runbook'
  | '-';

export interface StateEvent {
  /** ISO 8601 with microseconds and offset, as `drbdsetup events2 --timestamps` prints. */
  time: string;
  verb: EventVerb;
  object: EventObject;
  /** Identifying keys first, then the fields, in events2 order; values already in events2 spelling. */
  props: Array<[string, string]>;
}

// ---- Requests ----
export type Method =
  | 'hello'
  | 'snapshot'
  | 'subscribe'
  | 'create-md'
  | 'up'
  | 'down'
  | 'attach'
  | 'detach'
  | 'primary'
  | 'secondary'
  | 'connect'
  | 'disconnect'
  | 'invalidate'
  | 'verify'
  | 'new-current-uuid'
  | 'pause-sync'
  | 'resume-sync'
  | 'target-start'
  | 'target-stop'
  | 'adjust'
  | 'resize'
  | 'config-get'
  | 'config-put'
  | 'split-brain-copies'
  | 'split-brain-restore'
  | 'runbook-put'
  | 'runbook-log';

/** Methods allowed on a read-only channel; the agent refuses every other one there. */
export const READ_ONLY_METHODS: ReadonlySet<Method> = new Set(['hello', 'snapshot', 'subscribe', 'split-brain-copies', 'runbook-log']);

export interface HelloParams {
  client: string;
  protocol: number;
}
export interface HelloResult {
  agentVersion: string;
  protocol: number;
  node: string;
  readOnly: boolean;
  capabilities: string[];
}

export interface ResourceParams {
  resource: string;
  force?: boolean;
  /**
   * With primary --force or create-md --force: go ahead although the peer's last known data
   * would be lost, and forget it (the operator says the peer is gone for good).
   */
  forgetPeer?: boolean;
  discardMyData?: boolean;
  /** With discardMyData: discard this node's diverging blocks without keeping a copy (--no-backup). */
  skipBackup?: boolean;
  clearBitmap?: boolean;
  statistics?: boolean;
}

/**
 * `config-get` / `config-put`: a resource file as text. Admin only (never on the monitor
 * socket): the text holds the shared secret.
 */
export interface ConfigGetResult {
  /** The file that defines the resource here, or where config-put would create it (NAME.yaml). */
  file: string;
  /** Its text; absent when there is no file for the resource yet. */
  text?: string;
  /** sha256 (hex) of `text`, '' when absent: what config-put's `expect` compares with. */
  sha256: string;
}

export interface ConfigPutParams {
  resource: string;
  text: string;
  format: 'yaml' | 'res';
  /** The sha256 config-get returned: refused when the file changed since ('' = there was none). */
  expect: string;
  /** Validate only (this node's loader, its node name): nothing is written. */
  check?: boolean;
}

export interface ConfigPutResult {
  file: string;
  written: boolean;
  /** A file of the other format that defined the resource, moved aside to this name. */
  replaced?: { file: string; keptAs: string };
}

/** `adjust` of one resource: what it did beyond re-reading the resource files. */
export interface AdjustResult {
  ok: true;
  /** up: running (was, or brought up now); down: configured, not up (`reason` says why). */
  state?: 'up' | 'down';
  broughtUp?: boolean;
  reason?: string;
  /** Up with settings older than the file: the builtin engine applies them at the next down/up. */
  pending?: boolean;
}

/** `resize`: each volume's size before and after, KiB. */
export interface ResizeResult {
  ok: true;
  volumes: Array<{ volume: number; fromKiB: number; toKiB: number }>;
}

// ---- split-brain copies: a victim's diverging blocks, kept before the discard ----

/** `connect`: with discardMyData, what became of the victim's diverging blocks (kept where, or still to be kept). */
export interface ConnectResult {
  ok: true;
  message?: string;
}

/** One kept copy (one volume): `<state-dir>/split-brain/<resource>/<id>.blocks` and `.json`. */
export interface SplitBrainCopyInfo {
  /** `<UTC timestamp>-vol<N>`, what split-brain-restore takes (or its timestamp part). */
  id: string;
  resource: string;
  volume: number;
  node: string;
  peer: string;
  /** ISO 8601 UTC. */
  created: string;
  /** This node's current UUID before the discard. */
  generation: string;
  bytes: number;
  ranges: number;
  path: string;
  manifest: string;
}

/** `split-brain-copies` (read-only; resource optional): oldest first. */
export interface SplitBrainCopiesResult {
  copies: SplitBrainCopyInfo[];
}

export interface SplitBrainRestoreParams {
  resource: string;
  copy: string;
  volume?: number;
  /** Without it nothing is written: the answer says what would be overwritten. */
  yes?: boolean;
}

/** `split-brain-restore`: `restored` false without `yes`; `lines` say what was (or would be) overwritten. */
export interface SplitBrainRestoreResult {
  ok: true;
  restored: boolean;
  lines: string[];
}

export interface Request {
  id: number;
  method: Method;
  params?: ResourceParams | HelloParams | ConfigPutParams | SplitBrainRestoreParams | RunbookPutParams | RunbookLogParams | { statistics?: boolean };
}

export type ErrorCode =
  | 'refused' // a state change DRBD would refuse; message carries DRBD's wording
  | 'read-only' // the channel has monitoring rights only
  | 'not-found' // no such resource
  | 'bad-request' // malformed request
  | 'config' // the resource file does not load
  | 'io' // a disk or metadata operation failed
  | 'internal';

export interface ErrorBody {
  code: ErrorCode;
  message: string;
}

export type Response = { id: number; result: unknown } | { id: number; error: ErrorBody };
export interface EventNotification {
  event: StateEvent;
}
export type ServerMessage = Response | EventNotification;

export class AgentError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'AgentError';
  }
}

export function encodeMessage(msg: Request | ServerMessage): string {
  return JSON.stringify(msg) + '\n';
}
