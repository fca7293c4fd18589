// `resize` (drbdadm resize, grow only), part of the pure machine. The node the operator runs it
// on measured what its backing disks leave for data; it asks the peer to grow to the same
// sizes, the peer grows (or says why not), then this node grows. Both sides must end with the
// same size: the on-disk layout follows from the disk's size alone (md-layout.ts), so the
// two backing disks must leave exactly the same room. The runtime moves the metadata.
import { BLOCK, type Action, type EngineState, type Input } from './machine-types.js';

const MiB = 1024 * 1024;
const size = (bytes: number): string => (bytes % MiB === 0 ? `${bytes / MiB} MiB` : `${bytes / 1024} KiB`);

/**
 * Why this node's disks cannot be grown to `possible` (what they leave now), in DRBD's manner;
 * undefined when every volume grows or stays and at least one grows.
 */
export function growRefusal(current: readonly number[], possible: readonly number[]): string | undefined {
  for (const [v, now] of current.entries()) {
    const can = possible[v]!;
    if (can < now) return `Refusing to shrink volume ${v}: its backing disk leaves ${size(can)} for data, the device is ${size(now)} (resize only grows)`;
  }
  if (current.every((now, v) => possible[v] === now)) return 'The backing disks leave no more room: grow both backing disks first, then resize';
  return undefined;
}

/** The peer's answer to a request to grow to `requested`, given what its own disks leave. */
export function peerGrowRefusal(node: string, possible: readonly number[], requested: readonly number[]): string | undefined {
  for (const [v, want] of requested.entries()) {
    const can = possible[v];
    if (can === undefined) return `${node} has no volume ${v}`;
    if (can < want) return `The peer's disk is smaller: ${node}'s backing disk of volume ${v} leaves ${size(can)} for data, ${size(want)} asked; grow it first`;
    if (can > want) return `The peer's disk is larger: ${node}'s backing disk of volume ${v} leaves ${size(can)} for data, ${size(want)} asked; both must leave the same, grow the smaller one to match`;
  }
  return undefined;
}

/** Why two nodes whose data areas differ do not connect. */
export function sizeMismatch(volume: number, mine: number, peers: number): string {
  return `volume ${volume} is ${size(mine)} of data here and ${size(peers)} on the peer: both backing disks must leave the same; grow the smaller one, then resize`;
}

/** What resize needs of the pair: connected, nothing syncing or verifying, two UpToDate copies. */
function busyRefusal(s: EngineState): string | undefined {
  if (s.conn !== 'Connected') return 'Need a connection to resize: the peer\'s backing disk must grow too (connect first)';
  if (s.resizing) return 'In transient state, retry after next state change';
  for (const v of s.volumes) {
    if (v.sync || v.verify || v.repl !== 'Established') return `Cannot resize while volume ${v.volume} is ${v.repl}`;
    if (v.disk !== 'UpToDate' || v.peerDisk !== 'UpToDate') return `Cannot resize: volume ${v.volume} is ${v.disk}/${v.peerDisk}; resize needs two UpToDate copies`;
  }
  return undefined;
}

export function resizeCmd(s: EngineState, req: number, dataBytes: number[], out: Action[]): void {
  const why = busyRefusal(s) ?? (dataBytes.length !== s.volumes.length ? `resize needs a size for each of ${s.volumes.length} volumes` : undefined);
  if (why) return void out.push({ a: 'reply', req, error: why });
  if (dataBytes.some((b) => b % BLOCK !== 0)) return void out.push({ a: 'reply', req, error: 'resize sizes must be whole 4 KiB blocks' });
  const id = s.nextToken++;
  s.resizing = { id, req, dataBytes, phase: 'peer' };
  out.push({ a: 'send', msg: { type: 'resize-request', id, dataBytes } });
  out.push({ a: 'log', level: 'info', text: `resize: asking the peer to grow to ${dataBytes.map(size).join(', ')}` });
}

export function onResizeRequest(s: EngineState, id: number, dataBytes: number[], out: Action[]): void {
  const why = busyRefusal(s);
  if (why) return void out.push({ a: 'send', msg: { type: 'resize-reply', id, error: why } });
  s.resizing = { id, dataBytes, phase: 'local' };
  out.push({ a: 'grow', id, origin: 'peer', dataBytes });
}

export function onResizeReply(s: EngineState, id: number, error: string | undefined, out: Action[]): void {
  const r = s.resizing;
  if (!r || r.id !== id || r.phase !== 'peer') return;
  if (error) {
    s.resizing = undefined;
    if (r.req !== undefined) out.push({ a: 'reply', req: r.req, error });
    return;
  }
  r.phase = 'local';
  out.push({ a: 'grow', id, origin: 'local', dataBytes: r.dataBytes });
}

export function onGrown(s: EngineState, g: Extract<Input, { t: 'grown' }>, out: Action[]): void {
  const r = s.resizing;
  if (r?.id === g.id) s.resizing = undefined;
  if (g.volumes) {
    for (const [i, nv] of g.volumes.entries()) {
      const v = s.volumes[i]!;
      v.dataBytes = nv.dataBytes;
      v.bitmap = nv.bitmap;
    }
    out.push({ a: 'log', level: 'info', text: `resized to ${g.volumes.map((v) => size(v.dataBytes)).join(', ')}` });
  }
  if (g.origin === 'peer') out.push({ a: 'send', msg: { type: 'resize-reply', id: g.id, ...(g.error ? { error: g.error } : {}) } });
  else if (r?.req !== undefined) out.push({ a: 'reply', req: r.req, ...(g.error ? { error: g.error } : {}) });
}

/** The link went down while the peer was asked: the peer may or may not have grown; nothing grew here. */
export function resizeLinkLost(s: EngineState, out: Action[]): void {
  const r = s.resizing;
  if (!r || r.phase !== 'peer') return;
  s.resizing = undefined;
  if (r.req !== undefined) out.push({ a: 'reply', req: r.req, error: 'Connection lost during resize: check both sizes, then resize again' });
}
