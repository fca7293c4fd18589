// The `drbdsetup events2` line format, both ways: the agent's `events` CLI prints it and the
// console folds it, so the two sides cannot drift apart. Dependency-free on purpose: the
// agent bundle imports it.
//
// Line grammar: `[TIME] VERB OBJECT key:value ...`, one event per line, `exists -` ends the
// initial dump. Keys run up to the first colon (values may contain colons: `local:ipv4:…`).
// Our extension for values DRBD never needs: a value with blanks, quotes or backslashes is
// written `key:"…"` with `\"`, `\\` and `\n` escapes (config-error messages, last-error), and any
// other control, DEL, C1 or bidi character as `\r`, `\t`, `\xHH` or `\uHHHH`: an events line never
// carries anything a terminal acts on.
//
// Snapshot <-> events mapping (the console's fold is the inverse of `snapshotToEvents`):
// DRBD's keys keep DRBD's names and order; ours are documented extensions:
//   resource: node node-id protocol config-hash config-file config-exposed peer-authenticated ignored
//     (peer-authenticated no: the file sets no shared-secret, capability `peer-auth`; ignored: the
//     DRBD options accepted but not honoured as a JSON array of {option,section,why,file,line,col},
//     quoted as any value with blanks, capability `ignored-options`)
//   (client, quorum and peer-client are DRBD's own, sent by the kernel engine only)
//   device: device current-uuid bitmap-uuids (PEER=UUID,…) history-uuids (UUID,…) undo-used undo-capacity
//   connection: split-brain last-error peer-last-seen peer-last-role ; path carries local/peer/established as in DRBD
//   peer-device: verify-mismatch peer-last-disk peer-last-uuid peer-last-bitmap peer-last-history
//   (peer-last-*: the peer as this node last knew it, kept across restarts and disk replacements)
//   target name: state iqn portal chap service-address service-interface service-held ; session name: id initiator address since
//     (service-*: iscsi.service-address ADDR/PREFIX when configured, the interface it goes on, yes/no held by this host)
//   config-error file: line col message
//   not-up name: file cause reason next volumes up-error — a resource with a file here that is not
//     up: configured-but-down (cause:down) or broken (config-error, not-a-host, backing-disk-missing,
//     backing-disk-failed, metadata-missing, metadata-invalid), the cause in words, the next step;
//     destroyed when it comes up or its file goes. reason is always sent (empty for down);
//     an empty up-error withdraws it. Agents that send it say so with capability `not-up`.
//   runbook name: runbook subject state step completed steps started updated seq by — the runbook run
//     a console last put for the resource (runbook-put): active, or the last finished/abandoned one;
//     step is where it stands (N/M: step N of M while active, the steps done after it ended),
//     completed the step ids done. Agents that keep runs say so with capability `runbooks`.
import type {
  AgentSnapshot,
  ConfigProblem,
  DeviceSnapshot,
  NotUpResource,
  EventObject,
  RunbookRecord,
  EventVerb,
  ReplState,
  ResourceSnapshot,
  ServiceAddressState,
  StateEvent,
} from './messages.js';
import { escapeChar, hasUnsafeText, UNSAFE_SOURCE } from './untrusted-text.js';

const VERBS: ReadonlySet<string> = new Set<EventVerb>(['exists', 'create', 'change', 'destroy', 'call', 'response']);
const OBJECTS: ReadonlySet<string> = new Set<EventObject>([
  'resource',
  'device',
  'connection',
  'peer-device',
  'path',
  'helper',
  'target',
  'session',
  'config-error',
  'not-up',
  'runbook',
  '-',
]);

export class Events2SyntaxError extends Error {
  constructor(
    message: string,
    readonly line: string,
  ) {
    super(message);
    this.name = 'Events2SyntaxError';
  }
}

// ---- values ----

function needsQuoting(v: string): boolean {
  return /[\s"\\]/.test(v) || hasUnsafeText(v);
}

// Inside quotes, every character untrustedText escapes is written as the same escape, so a
// line stays one line and holds nothing a terminal acts on, and the value still reads back
// exactly (an InitiatorName from the network, a config error quoting a file).
const ESCAPED_IN_QUOTES = new RegExp(`["\\\\]|${UNSAFE_SOURCE}`, 'g');

export function formatValue(v: string): string {
  if (!needsQuoting(v)) return v;
  return '"' + v.replace(ESCAPED_IN_QUOTES, (c) => (c === '"' || c === '\\' ? `\\${c}` : escapeChar(c))) + '"';
}

const NAMED_UNESCAPE: Record<string, string> = { n: '\n', r: '\r', t: '\t' };

/** Splits a line into tokens on blanks, keeping `key:"quoted value"` together and unescaped. */
function tokenize(line: string): string[] {
  const out: string[] = [];
  let i = 0;
  const n = line.length;
  while (i < n) {
    while (i < n && /\s/.test(line[i]!)) i++;
    if (i >= n) break;
    let tok = '';
    while (i < n && !/\s/.test(line[i]!)) {
      const c = line[i]!;
      // A quote right after the key's colon starts a quoted value.
      if (c === '"' && tok.endsWith(':') && !tok.slice(0, -1).includes(':')) {
        i++;
        let closed = false;
        while (i < n) {
          const q = line[i]!;
          if (q === '\\' && i + 1 < n) {
            const e = line[i + 1]!;
            const hex = e === 'x' ? /^[0-9a-f]{2}/.exec(line.slice(i + 2)) : e === 'u' ? /^[0-9a-f]{4}/.exec(line.slice(i + 2)) : null;
            if (hex) {
              tok += String.fromCharCode(parseInt(hex[0], 16));
              i += 2 + hex[0].length;
              continue;
            }
            tok += NAMED_UNESCAPE[e] ?? e;
            i += 2;
          } else if (q === '"') {
            i++;
            closed = true;
            break;
          } else {
            tok += q;
            i++;
          }
        }
        if (!closed) throw new Events2SyntaxError('unterminated quoted value', line);
        continue;
      }
      tok += c;
      i++;
    }
    out.push(tok);
  }
  return out;
}

const TIME_RE = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d/;

/**
 * One line → one event. Returns undefined for blank lines and `#` comments (our fixture
 * files carry comments); throws Events2SyntaxError for anything else that is not an event.
 */
export function parseEventLine(line: string): StateEvent | undefined {
  const trimmed = line.trim();
  if (trimmed === '' || trimmed.startsWith('#')) return undefined;
  const toks = tokenize(trimmed);
  let time = '';
  if (toks[0] !== undefined && TIME_RE.test(toks[0])) time = toks.shift()!;
  const verb = toks.shift();
  const object = toks.shift();
  if (verb === undefined || !VERBS.has(verb)) throw new Events2SyntaxError(`unknown verb '${verb ?? ''}'`, line);
  if (object === undefined || !OBJECTS.has(object)) throw new Events2SyntaxError(`unknown object '${object ?? ''}'`, line);
  const props: Array<[string, string]> = [];
  for (const t of toks) {
    const c = t.indexOf(':');
    if (c <= 0) throw new Events2SyntaxError(`expected key:value, got '${t}'`, line);
    props.push([t.slice(0, c), t.slice(c + 1)]);
  }
  return { time, verb: verb as EventVerb, object: object as EventObject, props };
}

/** Parses a whole transcript; malformed lines are collected, not fatal (a stream must go on). */
export function parseEvents(text: string): { events: StateEvent[]; errors: Events2SyntaxError[] } {
  const events: StateEvent[] = [];
  const errors: Events2SyntaxError[] = [];
  for (const line of text.split('\n')) {
    try {
      const e = parseEventLine(line);
      if (e) events.push(e);
    } catch (err) {
      if (err instanceof Events2SyntaxError) errors.push(err);
      else throw err;
    }
  }
  return { events, errors };
}

/** One event → one line (no newline). `time` is printed when non-empty. */
export function formatEvent(e: StateEvent): string {
  const parts: string[] = [];
  if (e.time) parts.push(e.time);
  parts.push(e.verb, e.object);
  for (const [k, v] of e.props) parts.push(`${k}:${formatValue(v)}`);
  return parts.join(' ');
}

export function prop(e: StateEvent, key: string): string | undefined {
  for (const [k, v] of e.props) if (k === key) return v;
  return undefined;
}

// ---- field codecs shared by the agent (snapshot → events) and the console (events → view) ----

export interface FieldSpec {
  key: string;
  field: string;
  kind: 'str' | 'int' | 'bool' | 'fixed2' | 'bitmap-uuids' | 'list' | 'int-list' | 'json';
  /** Only printed with --statistics. */
  stat?: boolean;
}

const f = (key: string, field: string, kind: FieldSpec['kind'] = 'str', stat = false): FieldSpec => ({ key, field, kind, stat });

export const RESOURCE_FIELDS: FieldSpec[] = [
  f('role', 'role'),
  f('suspended', 'suspended', 'bool'),
  f('write-ordering', 'writeOrdering'),
  f('may_promote', 'mayPromote', 'bool'),
  f('promotion_score', 'promotionScore', 'int'),
  f('node', 'node'),
  f('node-id', 'nodeId', 'int'),
  f('protocol', 'protocol'),
  f('config-hash', 'configHash'),
  f('config-file', 'configFile'),
  f('config-exposed', 'configExposed'),
  f('config-exposed-file', 'configExposedFile'),
  f('peer-authenticated', 'peerAuthenticated', 'bool'),
  f('ignored', 'ignored', 'json'),
];

export const DEVICE_FIELDS: FieldSpec[] = [
  f('backing_dev', 'backingDev'),
  f('disk', 'disk'),
  f('client', 'client', 'bool'),
  f('open', 'open', 'bool'),
  f('quorum', 'quorum', 'bool'),
  f('device', 'device'),
  f('size', 'size', 'int', true),
  f('read', 'read', 'int', true),
  f('written', 'written', 'int', true),
  f('al-writes', 'alWrites', 'int', true),
  f('bm-writes', 'bmWrites', 'int', true),
  f('upper-pending', 'upperPending', 'int', true),
  f('lower-pending', 'lowerPending', 'int', true),
  f('al-suspended', 'alSuspended', 'bool', true),
  f('blocked', 'blocked', 'bool', true),
];

export const CONNECTION_FIELDS: FieldSpec[] = [
  f('connection', 'connection'),
  f('role', 'role'),
  f('congested', 'congested', 'bool', true),
  f('ap-in-flight', 'apInFlight', 'int', true),
  f('rs-in-flight', 'rsInFlight', 'int', true),
  f('split-brain', 'splitBrain', 'bool'),
  f('last-error', 'lastError'),
  f('peer-last-seen', 'peerLastSeen'),
  f('peer-last-role', 'peerLastRole'),
];

export const PEER_DEVICE_FIELDS: FieldSpec[] = [
  f('replication', 'replication'),
  f('peer-disk', 'peerDisk'),
  f('peer-client', 'peerClient', 'bool'),
  f('resync-suspended', 'resyncSuspended'),
  f('done', 'done', 'fixed2'),
  f('received', 'received', 'int', true),
  f('sent', 'sent', 'int', true),
  f('out-of-sync', 'outOfSync', 'int', true),
  f('pending', 'pending', 'int', true),
  f('unacked', 'unacked', 'int', true),
  f('dbdt1', 'dbdt1', 'fixed2', true),
  f('eta', 'eta', 'int', true),
  f('verify-mismatch', 'verifyMismatch', 'int', true),
  f('peer-last-disk', 'peerLastDisk'),
  f('peer-last-uuid', 'peerLastUuid'),
  f('peer-last-bitmap', 'peerLastBitmap'),
  f('peer-last-history', 'peerLastHistory', 'list'),
];

/** Replication states in which `done`, `dbdt1` and `eta` mean something. */
export const SYNCING: ReadonlySet<ReplState> = new Set<ReplState>(['SyncSource', 'SyncTarget', 'PausedSyncS', 'PausedSyncT', 'VerifyS', 'VerifyT']);

export const TARGET_FIELDS: FieldSpec[] = [f('state', 'state'), f('iqn', 'iqn'), f('portal', 'portal'), f('chap', 'chap', 'bool')];
/** The target's serviceAddress, flattened onto the target line. */
export const SERVICE_ADDRESS_FIELDS: FieldSpec[] = [f('service-address', 'address'), f('service-interface', 'interface'), f('service-held', 'held', 'bool')];

/** Folds a target line's service-* fields into the target (a change line carries only those that changed). */
export function applyServiceAddress(target: { serviceAddress?: ServiceAddressState }, props: Array<[string, string]>): void {
  if (!props.some(([k]) => SERVICE_ADDRESS_FIELDS.some((s) => s.key === k))) return;
  target.serviceAddress ??= { address: '', interface: '', held: false };
  applyFields(target.serviceAddress, SERVICE_ADDRESS_FIELDS, props);
}
export const SESSION_FIELDS: FieldSpec[] = [f('initiator', 'initiator'), f('address', 'address'), f('since', 'since')];
export const CONFIG_ERROR_FIELDS: FieldSpec[] = [f('message', 'message')];
export const RUNBOOK_FIELDS: FieldSpec[] = [
  f('runbook', 'runbook'),
  f('subject', 'subject'),
  f('state', 'state'),
  f('completed', 'completed', 'list'),
  f('steps', 'steps', 'int'),
  f('started', 'started'),
  f('updated', 'updated'),
  f('seq', 'seq', 'int'),
  f('by', 'by'),
];
export const NOT_UP_FIELDS: FieldSpec[] = [f('file', 'file'), f('cause', 'cause'), f('reason', 'reason'), f('next', 'next'), f('volumes', 'volumes', 'int-list'), f('up-error', 'upError')];

export function encodeField(kind: FieldSpec['kind'], v: unknown): string | undefined {
  if (v === undefined || v === null) return undefined;
  switch (kind) {
    case 'bool':
      return v ? 'yes' : 'no';
    case 'int':
      return String(Math.round(Number(v)));
    case 'fixed2':
      return Number(v).toFixed(2);
    case 'bitmap-uuids':
      return Object.entries(v as Record<string, string>)
        .map(([k, u]) => `${k}=${u}`)
        .join(',');
    case 'list':
    case 'int-list':
      return (v as Array<string | number>).join(',');
    case 'json':
      return JSON.stringify(v);
    default:
      return String(v);
  }
}

export function decodeField(kind: FieldSpec['kind'], s: string): unknown {
  switch (kind) {
    case 'bool':
      // DRBD's `suspended` says why (user, no-data, fencing…); anything but "no" is yes.
      return s !== 'no';
    case 'int':
    case 'fixed2': {
      const n = Number(s);
      return Number.isFinite(n) ? n : 0;
    }
    case 'bitmap-uuids': {
      const out: Record<string, string> = {};
      for (const pair of s.split(',')) {
        const eq = pair.indexOf('=');
        if (eq > 0) out[pair.slice(0, eq)] = pair.slice(eq + 1);
      }
      return out;
    }
    case 'list':
      return s === '' ? [] : s.split(',');
    case 'int-list':
      return s === '' ? [] : s.split(',').map(Number).filter(Number.isInteger);
    case 'json':
      // The reader checks the shape it expects (an agent's word, not a promise).
      try {
        return JSON.parse(s) as unknown;
      } catch {
        return undefined;
      }
    default:
      return s;
  }
}

/** Writes the listed fields present in `props` onto `target` (unknown keys are ignored). */
export function applyFields(target: object, specs: FieldSpec[], props: Array<[string, string]>): void {
  const t = target as Record<string, unknown>;
  for (const [k, v] of props) {
    const spec = specs.find((s) => s.key === k);
    if (spec) t[spec.field] = decodeField(spec.kind, v);
  }
}

function fieldProps(source: object, specs: FieldSpec[], statistics: boolean): Array<[string, string]> {
  const s = source as Record<string, unknown>;
  const out: Array<[string, string]> = [];
  for (const spec of specs) {
    if (spec.stat && !statistics) continue;
    const v = encodeField(spec.kind, s[spec.field]);
    if (v !== undefined) out.push([spec.key, v]);
  }
  return out;
}

// Addresses are host:port in snapshots; DRBD prints them with the family in front.
export function toDrbdAddress(a: string): string {
  if (/^(ipv4|ipv6|ssocks|sdp):/.test(a)) return a;
  return (a.startsWith('[') ? 'ipv6:' : 'ipv4:') + a;
}
export function fromDrbdAddress(a: string): string {
  return a.replace(/^(ipv4|ipv6):/, '');
}

export interface SnapshotEventsOptions {
  verb?: EventVerb;
  time?: string;
  statistics?: boolean;
}

function deviceGiProps(d: DeviceSnapshot): Array<[string, string]> {
  const out: Array<[string, string]> = [['current-uuid', d.uuids.current]];
  out.push(['bitmap-uuids', encodeField('bitmap-uuids', d.uuids.bitmap)!]);
  out.push(['history-uuids', d.uuids.history.join(',')]);
  if (d.undoJournal) {
    out.push(['undo-used', String(d.undoJournal.used)], ['undo-capacity', String(d.undoJournal.capacity)]);
  }
  return out;
}

/** One resource's objects in DRBD's dump order: resource, devices, connections (peer-devices, path), target, sessions. */
export function resourceToEvents(r: ResourceSnapshot, opts: SnapshotEventsOptions = {}): StateEvent[] {
  const verb = opts.verb ?? 'exists';
  const time = opts.time ?? '';
  const stats = opts.statistics ?? false;
  const ev = (object: EventObject, props: Array<[string, string]>): StateEvent => ({ time, verb, object, props });
  const out: StateEvent[] = [ev('resource', [['name', r.name], ...fieldProps(r, RESOURCE_FIELDS, stats)])];
  for (const d of [...r.devices].sort((a, b) => a.volume - b.volume)) {
    out.push(
      ev('device', [
        ['name', r.name],
        ['volume', String(d.volume)],
        ['minor', String(d.minor)],
        ...fieldProps(d, DEVICE_FIELDS, stats),
        ...deviceGiProps(d),
      ]),
    );
  }
  for (const c of r.connections) {
    const id: Array<[string, string]> = [
      ['name', r.name],
      ['peer-node-id', String(c.peerNodeId)],
      ['conn-name', c.connName],
    ];
    out.push(ev('connection', [...id, ...fieldProps(c, CONNECTION_FIELDS, stats)]));
    for (const p of [...c.peerDevices].sort((a, b) => a.volume - b.volume)) {
      out.push(ev('peer-device', [...id, ['volume', String(p.volume)], ...fieldProps(p, PEER_DEVICE_FIELDS, stats)]));
    }
    if (c.localAddress || c.peerAddress) {
      out.push(
        ev('path', [
          ...id,
          ['local', toDrbdAddress(c.localAddress)],
          ['peer', toDrbdAddress(c.peerAddress)],
          ['established', c.established ? 'yes' : 'no'],
        ]),
      );
    }
  }
  if (r.target) {
    const sa = r.target.serviceAddress;
    out.push(ev('target', [['name', r.name], ...fieldProps(r.target, TARGET_FIELDS, stats), ...(sa ? fieldProps(sa, SERVICE_ADDRESS_FIELDS, stats) : [])]));
    for (const s of r.target.sessions) out.push(ev('session', [['name', r.name], ['id', s.id], ...fieldProps(s, SESSION_FIELDS, stats)]));
  }
  return out;
}

export function configErrorToEvent(e: ConfigProblem, opts: SnapshotEventsOptions = {}): StateEvent {
  return {
    time: opts.time ?? '',
    verb: opts.verb ?? 'exists',
    object: 'config-error',
    props: [
      ['file', e.file],
      ['line', String(e.line)],
      ['col', String(e.col)],
      ['message', e.message],
    ],
  };
}

export function notUpToEvent(n: NotUpResource, opts: SnapshotEventsOptions = {}): StateEvent {
  return { time: opts.time ?? '', verb: opts.verb ?? 'exists', object: 'not-up', props: [['name', n.name], ...fieldProps(n, NOT_UP_FIELDS, false)] };
}

/** Where a run stands, for people reading the stream: step N of M while active, the steps done once it ended. */
export function runbookStep(r: RunbookRecord): string {
  const at = r.state === 'active' ? Math.min(r.completed.length + 1, r.steps ?? Infinity) : r.completed.length;
  return r.steps ? `${at}/${r.steps}` : String(at);
}

export function runbookToEvent(r: RunbookRecord, opts: SnapshotEventsOptions = {}): StateEvent {
  const [runbook, subject, state, ...rest] = fieldProps(r, RUNBOOK_FIELDS, false);
  return { time: opts.time ?? '', verb: opts.verb ?? 'exists', object: 'runbook', props: [['name', r.resource], runbook!, subject!, state!, ['step', runbookStep(r)], ...rest] };
}

/** The initial dump of `events` (`--now` prints only this): every object as `exists`, then `exists -`. */
export function snapshotToEvents(s: AgentSnapshot, opts: Omit<SnapshotEventsOptions, 'verb'> = {}): StateEvent[] {
  const out: StateEvent[] = [];
  for (const r of [...s.resources].sort((a, b) => a.name.localeCompare(b.name))) out.push(...resourceToEvents(r, { ...opts, verb: 'exists' }));
  for (const n of s.notUp ?? []) out.push(notUpToEvent(n, { ...opts, verb: 'exists' }));
  for (const r of s.runbooks ?? []) out.push(runbookToEvent(r, { ...opts, verb: 'exists' }));
  for (const e of s.configErrors) out.push(configErrorToEvent(e, { ...opts, verb: 'exists' }));
  out.push({ time: opts.time ?? '', verb: 'exists', object: '-', props: [] });
  return out;
}

/** How many leading props identify the object (the rest are fields). */
export function identityLength(e: StateEvent): number {
  switch (e.object) {
    case 'resource':
    case 'target':
    case 'not-up':
    case 'runbook':
      return 1;
    case 'device':
      return e.props[2]?.[0] === 'minor' ? 3 : 2;
    case 'session':
      return 2;
    case 'connection':
      return e.props.findIndex(([k]) => k === 'conn-name') + 1 || 1;
    case 'peer-device':
      return e.props.findIndex(([k]) => k === 'volume') + 1 || 1;
    case 'path':
      return e.props.findIndex(([k]) => k === 'peer') + 1 || 1;
    case 'config-error':
      return 3;
    default:
      return e.props.length;
  }
}

/** Identifies the object an event is about (a device by name and volume: `destroy device` omits the minor). */
export function objectKey(e: StateEvent): string {
  const n = e.object === 'device' ? 2 : identityLength(e);
  return e.object + ' ' + e.props.slice(0, n).map(([k, v]) => `${k}:${v}`).join(' ');
}

/** Optional fields whose absence means something: an empty value withdraws them. */
const WITHDRAWN = ['last-error', 'up-error'];

/**
 * What changed between two snapshots, as events2 lines: `create` for new objects, `change`
 * with only the changed fields, `destroy` (identity only, children first) for vanished ones.
 * The agent daemon can emit its stream by diffing its snapshots.
 */
export function diffSnapshots(
  before: AgentSnapshot,
  after: AgentSnapshot,
  opts: { time?: string; statistics?: boolean } = {},
): StateEvent[] {
  const o = { statistics: opts.statistics ?? true, time: opts.time ?? '' };
  const list = (s: AgentSnapshot): StateEvent[] => snapshotToEvents(s, o).filter((e) => e.object !== '-');
  const old = new Map(list(before).map((e) => [objectKey(e), e]));
  const now = list(after);
  const nowKeys = new Set(now.map(objectKey));
  const out: StateEvent[] = [];
  // Destroy children before parents, as DRBD does (reverse dump order).
  for (const e of [...old.values()].reverse()) {
    if (!nowKeys.has(objectKey(e))) {
      const idLen = e.object === 'device' ? 2 : identityLength(e);
      out.push({ ...e, verb: 'destroy', props: e.props.slice(0, idLen) });
    }
  }
  for (const e of now) {
    const prev = old.get(objectKey(e));
    if (!prev) {
      out.push({ ...e, verb: 'create' });
      continue;
    }
    const idLen = identityLength(e);
    const prevFields = new Map(prev.props.slice(idLen));
    const changed = e.props.slice(idLen).filter(([k, v]) => prevFields.get(k) !== v);
    // A reason that no longer holds must be withdrawn explicitly: `last-error:` (empty).
    const nowKeys = new Set(e.props.map(([k]) => k));
    for (const k of WITHDRAWN) if (prevFields.has(k) && !nowKeys.has(k)) changed.push([k, '']);
    if (changed.length > 0) out.push({ ...e, verb: 'change', props: [...e.props.slice(0, idLen), ...changed] });
  }
  return out;
}
