// The peer link's wire format: frames and the replication protocol's messages. Pure: bytes
// in, typed messages out and back; the socket lives in peer-link.ts.
//
// Frame = 16-byte header + payload, all integers big endian:
//   0 magic u32 | 4 type u16 | 6 flags u16 | 8 payload length u32 | 12 CRC32C u32
// The CRC covers header bytes 0..11 and then the payload, so a flipped bit anywhere in the
// frame (TCP's 16-bit checksum misses some) is a protocol error rather than silent corruption.
//
// Data-carrying messages (Data, RsDataReply, BitmapChunk) encode to two buffers: one small
// buffer holding header + fixed fields, and the caller's data buffer untouched, so that the
// socket can send both with one writev and a 1 MiB write is never copied on the way out.
// Control messages that are rare and small use a JSON payload.

import { crc32c } from '../lib/crc32c.js';
import { ChunkQueue } from '../net/chunk-queue.js';
import { DIRECT_READ_MIN } from '../net/reused-reads.js';
import type { DiskState, Role } from '../drbd-states.js';

export const FRAME_MAGIC = 0x44525450; // "DRTP"
export const FRAME_HEADER_BYTES = 16;
/** Largest data payload one message carries (a Data write, a resync reply, a bitmap chunk). */
export const MAX_DATA_BYTES = 1 << 20;
/** Largest frame payload: data plus the largest fixed part of any data message. */
export const MAX_FRAME_PAYLOAD = MAX_DATA_BYTES + 64;
/** Before authentication only small handshake frames are allowed: an unauthenticated peer cannot make us buffer more. */
export const MAX_HANDSHAKE_PAYLOAD = 4096;
/** Wire protocol version announced in Hello; peers with another version are refused. */
export const PEER_PROTOCOL_VERSION = 3;

export type ProtocolErrorCode = 'bad-magic' | 'too-large' | 'bad-checksum' | 'unknown-type' | 'malformed';

/** The peer sent something we cannot accept: the connection must be dropped (DRBD: ProtocolError). */
export class ProtocolError extends Error {
  constructor(
    readonly code: ProtocolErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'ProtocolError';
  }
}

export interface Frame {
  type: number;
  flags: number;
  payload: Buffer;
}

// ---- Messages ----

/**
 * Frame flag: the bulk data of this frame is not checksummed (net.data-integrity-alg none,
 * DRBD's default; TCP's checksum covers it). Header, fields and control messages always are.
 */
export const FRAME_DATA_UNCHECKED = 0x8000;
/** With FRAME_DATA_UNCHECKED, the checksum covers this many leading payload bytes. */
export const CHECKED_PREFIX = 64;

/** Data / write flags. */
export const DATA_FUA = 1;
export const DATA_FLUSH = 2;
/** BitmapChunk flags: this is the last chunk of the volume's bitmap. */
export const BITMAP_LAST = 1;

export interface Hello {
  type: 'Hello';
  protocolVersion: number;
  nodeId: number;
  resource: string;
  configHash: string;
  /**
   * Identifies the sender's current attempt to connect (random per start, bumped on every
   * disconnect). Two authenticated connections with the same session are the simultaneous-dial
   * race; a new session means the peer gave up on the old connection. See peer-link.ts.
   */
  session: string;
  /**
   * The sender has no shared-secret (net sets none, as DRBD allows): its side of the handshake
   * proves nothing. Sent only then, so a Hello with a secret is what it always was; a side with
   * a secret refuses a peer that says this, and a side without one a peer that does not.
   */
  unauthenticated?: true;
}
export interface AuthChallenge {
  type: 'AuthChallenge';
  nonce: Buffer;
}
export interface AuthResponse {
  type: 'AuthResponse';
  mac: Buffer;
}
export interface AuthResult {
  type: 'AuthResult';
  ok: boolean;
  reason?: string;
}
/** Sent by the connection keeper (lower node-id) on the one connection both sides keep. */
export interface KeepConnection {
  type: 'KeepConnection';
}

export interface Uuids {
  type: 'Uuids';
  volume: number;
  current: bigint;
  /** Bitmap UUID per peer node-id. */
  bitmap: Record<number, bigint>;
  history: bigint[];
  /** Bit meanings belong to the replication state machine (crashed-primary, discard-my-data, …). */
  flags: number;
  diskState: DiskState;
  /** Usable size of the volume in bytes. */
  dataBytes: number;
  /** Number of bits set in the sender's bitmap for the receiver. */
  bitmapWeight: number;
}
export type JsonValue = string | number | boolean | null | JsonValue[] | { [k: string]: JsonValue };
export interface State {
  type: 'State';
  role: Role;
  disks: Array<{ volume: number; disk: DiskState }>;
  /** Further state the state machine wants to share (susp flags, …), JSON only. */
  extra?: Record<string, JsonValue>;
}
export interface StateChangeRequest {
  type: 'StateChangeRequest';
  id: number;
  change: string;
  params?: Record<string, JsonValue>;
}
export interface StateChangeReply {
  type: 'StateChangeReply';
  id: number;
  ok: boolean;
  reason?: string;
}
/** Largest persistent-reservation blob a PrBlob carries (the superblock keeps at most 1 KiB). */
export const MAX_PR_BYTES = 4096;
/** A volume's persistent-reservation state (opaque), from the Primary; answered by PrAck. */
export interface PrBlob {
  type: 'PrBlob';
  volume: number;
  id: number;
  blob: Buffer;
}
/** The receiver has the PrBlob of this id in its metadata. */
export interface PrAck {
  type: 'PrAck';
  volume: number;
  id: number;
}

export interface Data {
  type: 'Data';
  volume: number;
  /** Per-connection write sequence; a safe integer, u64 on the wire. */
  seq: number;
  /** Byte offset in the volume. */
  offset: number;
  /** DATA_FUA | DATA_FLUSH */
  flags: number;
  payload: Buffer;
}
/**
 * A discard: `length` zero bytes at `offset`, deallocated where the disk can (DRBD's
 * P_ZEROES). Sequenced and acknowledged like Data; it carries no payload.
 */
export interface DataZeroes {
  type: 'DataZeroes';
  volume: number;
  seq: number;
  offset: number;
  /** DATA_FUA */
  flags: number;
  length: number;
}
export interface WriteAck {
  type: 'WriteAck';
  volume: number;
  seq: number;
  /** Protocol B acks receipt, protocol C acks the write being done. */
  kind: 'received' | 'written';
}
export interface NegAck {
  type: 'NegAck';
  volume: number;
  seq: number;
}
export interface Barrier {
  type: 'Barrier';
  seq: number;
}
export interface BarrierAck {
  type: 'BarrierAck';
  seq: number;
}
export interface Flush {
  type: 'Flush';
  volume: number;
  id: number;
}
export interface FlushAck {
  type: 'FlushAck';
  volume: number;
  id: number;
}

export interface BitmapChunk {
  type: 'BitmapChunk';
  volume: number;
  /** Byte offset into the packed bitmap (bit n of the bitmap is bit n%8 of byte n/8). */
  offset: number;
  /** BITMAP_LAST on the final chunk. */
  flags: number;
  bits: Buffer;
}
export interface RsDataRequest {
  type: 'RsDataRequest';
  volume: number;
  offset: number;
  length: number;
  id: number;
}
export interface RsDataReply {
  type: 'RsDataReply';
  volume: number;
  offset: number;
  id: number;
  payload: Buffer;
}
export interface RsChecksumRequest {
  type: 'RsChecksumRequest';
  volume: number;
  offset: number;
  length: number;
  id: number;
  digest: Buffer;
}
export interface RsIsInSync {
  type: 'RsIsInSync';
  volume: number;
  offset: number;
  id: number;
}
export interface OvRequest {
  type: 'OvRequest';
  volume: number;
  offset: number;
  length: number;
  id: number;
}
export interface OvReply {
  type: 'OvReply';
  volume: number;
  offset: number;
  length: number;
  id: number;
  digest: Buffer;
}
export interface Ping {
  type: 'Ping';
}
export interface PingAck {
  type: 'PingAck';
}

export type PeerMessage =
  | Hello
  | AuthChallenge
  | AuthResponse
  | AuthResult
  | KeepConnection
  | Uuids
  | State
  | StateChangeRequest
  | StateChangeReply
  | PrBlob
  | PrAck
  | Data
  | DataZeroes
  | WriteAck
  | NegAck
  | Barrier
  | BarrierAck
  | Flush
  | FlushAck
  | BitmapChunk
  | RsDataRequest
  | RsDataReply
  | RsChecksumRequest
  | RsIsInSync
  | OvRequest
  | OvReply
  | Ping
  | PingAck;

export type PeerMessageType = PeerMessage['type'];

/** Wire type numbers. Grouped by range; never reuse a number. */
export const MESSAGE_TYPE_NUMBERS = {
  Hello: 1,
  AuthChallenge: 2,
  AuthResponse: 3,
  AuthResult: 4,
  KeepConnection: 5,
  Uuids: 16,
  State: 17,
  StateChangeRequest: 18,
  StateChangeReply: 19,
  PrBlob: 20,
  PrAck: 21,
  Data: 32,
  WriteAck: 33,
  NegAck: 34,
  Barrier: 35,
  BarrierAck: 36,
  Flush: 37,
  FlushAck: 38,
  DataZeroes: 39,
  BitmapChunk: 48,
  RsDataRequest: 49,
  RsDataReply: 50,
  RsChecksumRequest: 51,
  RsIsInSync: 52,
  OvRequest: 53,
  OvReply: 54,
  Ping: 64,
  PingAck: 65,
} as const satisfies Record<PeerMessageType, number>;

const TYPE_NAMES = new Map<number, PeerMessageType>(
  Object.entries(MESSAGE_TYPE_NUMBERS).map(([name, n]) => [n, name as PeerMessageType]),
);

/** The messages allowed before authentication completes; anything else then is a protocol error. */
export const HANDSHAKE_TYPES: ReadonlySet<PeerMessageType> = new Set(['Hello', 'AuthChallenge', 'AuthResponse', 'AuthResult', 'KeepConnection']);

export const AUTH_NONCE_BYTES = 32;
export const AUTH_MAC_BYTES = 32;

const DISK_STATES: readonly DiskState[] = [
  'Diskless',
  'Attaching',
  'Detaching',
  'Failed',
  'Negotiating',
  'Inconsistent',
  'Outdated',
  'DUnknown',
  'Consistent',
  'UpToDate',
];
const ROLES: readonly Role[] = ['Primary', 'Secondary', 'Unknown'];

// ---- Frame encoding ----

/**
 * Fills the frame header at the start of `head` (whose bytes after the header are the start
 * of the payload) and returns the buffers to write: [head] or [head, data].
 */
function finishFrame(type: number, head: Buffer, data?: Buffer, flags = 0, dataChecked = true): Buffer[] {
  const dataLen = data?.length ?? 0;
  if (data && dataLen > 0 && !dataChecked) flags |= FRAME_DATA_UNCHECKED;
  const payloadLen = head.length - FRAME_HEADER_BYTES + dataLen;
  if (payloadLen > MAX_FRAME_PAYLOAD) throw new RangeError(`frame payload ${payloadLen} bytes exceeds ${MAX_FRAME_PAYLOAD}`);
  head.writeUInt32BE(FRAME_MAGIC, 0);
  head.writeUInt16BE(type, 4);
  head.writeUInt16BE(flags, 6);
  head.writeUInt32BE(payloadLen, 8);
  let crc = crc32c(head, 0, 0, 12);
  crc = crc32c(head, crc, FRAME_HEADER_BYTES);
  if (data && dataLen > 0) {
    // Unchecked data: the checksum still covers the message's fields and the first bytes
    // after them, up to CHECKED_PREFIX bytes of payload, as the decoder computes it.
    const rest = dataChecked ? dataLen : Math.max(0, Math.min(dataLen, CHECKED_PREFIX - (head.length - FRAME_HEADER_BYTES)));
    crc = crc32c(data, crc, 0, rest);
  }
  head.writeUInt32BE(crc, 12);
  return data && dataLen > 0 ? [head, data] : [head];
}

/** A frame of any type with the given payload (for tests and for message types added later). */
export function encodeFrame(type: number, payload: Buffer, flags = 0): Buffer[] {
  return finishFrame(type, Buffer.alloc(FRAME_HEADER_BYTES), payload, flags);
}

function allocHead(bodyBytes: number): Buffer {
  // From Node's shared pool: a fresh ArrayBuffer per message is what the GC then chases.
  return Buffer.allocUnsafe(FRAME_HEADER_BYTES + bodyBytes).fill(0);
}

function writeU64(buf: Buffer, value: number, at: number, what: string): void {
  if (!Number.isSafeInteger(value) || value < 0) throw new RangeError(`${what} must be a non-negative safe integer, got ${value}`);
  buf.writeUInt32BE(Math.floor(value / 0x1_0000_0000), at);
  buf.writeUInt32BE(value >>> 0, at + 4);
}

function readU64(buf: Buffer, at: number, what: string): number {
  const hi = buf.readUInt32BE(at);
  if (hi > 0x1f_ffff) throw new ProtocolError('malformed', `${what} does not fit a safe integer`);
  return hi * 0x1_0000_0000 + buf.readUInt32BE(at + 4);
}

function checkU16(value: number, what: string): number {
  if (!Number.isInteger(value) || value < 0 || value > 0xffff) throw new RangeError(`${what} must be 0..65535, got ${value}`);
  return value;
}

function checkU32(value: number, what: string): number {
  if (!Number.isInteger(value) || value < 0 || value > 0xffff_ffff) throw new RangeError(`${what} must be 0..2^32-1, got ${value}`);
  return value;
}

function checkData(buf: Buffer, what: string): Buffer {
  if (buf.length > MAX_DATA_BYTES) throw new RangeError(`${what} of ${buf.length} bytes exceeds ${MAX_DATA_BYTES}`);
  return buf;
}

function jsonFrame(type: number, body: Record<string, unknown>): Buffer[] {
  const json = Buffer.from(JSON.stringify(body), 'utf8');
  const head = allocHead(json.length);
  json.copy(head, FRAME_HEADER_BYTES);
  return finishFrame(type, head);
}

/** Encodes a message to the buffers to write, in order (one or two: data is never copied). */
export function encodeMessage(msg: PeerMessage, opts: { dataIntegrity?: boolean } = {}): Buffer[] {
  const dataChecked = opts.dataIntegrity ?? true;
  const T = MESSAGE_TYPE_NUMBERS;
  const H = FRAME_HEADER_BYTES;
  switch (msg.type) {
    case 'Hello': {
      const { protocolVersion, nodeId, resource, configHash, session } = msg;
      return jsonFrame(T.Hello, { protocolVersion, nodeId, resource, configHash, session, ...(msg.unauthenticated ? { unauthenticated: true } : {}) });
    }
    case 'AuthChallenge':
    case 'AuthResponse': {
      const bytes = msg.type === 'AuthChallenge' ? msg.nonce : msg.mac;
      const head = allocHead(bytes.length);
      bytes.copy(head, H);
      return finishFrame(T[msg.type], head);
    }
    case 'AuthResult':
      return jsonFrame(T.AuthResult, msg.reason === undefined ? { ok: msg.ok } : { ok: msg.ok, reason: msg.reason });
    case 'KeepConnection':
    case 'Ping':
    case 'PingAck':
      return finishFrame(T[msg.type], allocHead(0));
    case 'Uuids': {
      const peers = Object.entries(msg.bitmap);
      if (peers.length > 255 || msg.history.length > 255) throw new RangeError('Uuids: at most 255 bitmap UUIDs and 255 history entries');
      const disk = DISK_STATES.indexOf(msg.diskState);
      if (disk < 0) throw new RangeError(`Uuids: unknown disk state ${msg.diskState}`);
      const head = allocHead(40 + peers.length * 12 + msg.history.length * 8);
      let at = H;
      head.writeUInt16BE(checkU16(msg.volume, 'volume'), at);
      head.writeUInt8(disk, at + 2);
      head.writeUInt8(peers.length, at + 3);
      head.writeUInt8(msg.history.length, at + 4);
      head.writeUInt32BE(checkU32(msg.flags, 'flags'), at + 8);
      head.writeBigUInt64BE(msg.current, at + 16);
      writeU64(head, msg.dataBytes, at + 24, 'dataBytes');
      writeU64(head, msg.bitmapWeight, at + 32, 'bitmapWeight');
      at += 40;
      for (const [nodeId, uuid] of peers) {
        head.writeUInt32BE(checkU32(Number(nodeId), 'bitmap node-id'), at);
        head.writeBigUInt64BE(uuid, at + 4);
        at += 12;
      }
      for (const h of msg.history) {
        head.writeBigUInt64BE(h, at);
        at += 8;
      }
      return finishFrame(T.Uuids, head);
    }
    case 'State':
      return jsonFrame(T.State, msg.extra === undefined ? { role: msg.role, disks: msg.disks } : { role: msg.role, disks: msg.disks, extra: msg.extra });
    case 'StateChangeRequest':
      return jsonFrame(T.StateChangeRequest, msg.params === undefined ? { id: msg.id, change: msg.change } : { id: msg.id, change: msg.change, params: msg.params });
    case 'StateChangeReply':
      return jsonFrame(T.StateChangeReply, msg.reason === undefined ? { id: msg.id, ok: msg.ok } : { id: msg.id, ok: msg.ok, reason: msg.reason });
    case 'Data': {
      const head = allocHead(20);
      head.writeUInt16BE(checkU16(msg.volume, 'volume'), H);
      head.writeUInt16BE(checkU16(msg.flags, 'flags'), H + 2);
      writeU64(head, msg.seq, H + 4, 'seq');
      writeU64(head, msg.offset, H + 12, 'offset');
      return finishFrame(T.Data, head, checkData(msg.payload, 'Data payload'), 0, dataChecked);
    }
    case 'DataZeroes': {
      const head = allocHead(24);
      head.writeUInt16BE(checkU16(msg.volume, 'volume'), H);
      head.writeUInt16BE(checkU16(msg.flags, 'flags'), H + 2);
      head.writeUInt32BE(checkU32(msg.length, 'length'), H + 4);
      writeU64(head, msg.seq, H + 8, 'seq');
      writeU64(head, msg.offset, H + 16, 'offset');
      return finishFrame(T.DataZeroes, head);
    }
    case 'WriteAck': {
      const head = allocHead(12);
      head.writeUInt16BE(checkU16(msg.volume, 'volume'), H);
      head.writeUInt8(msg.kind === 'written' ? 1 : 0, H + 2);
      writeU64(head, msg.seq, H + 4, 'seq');
      return finishFrame(T.WriteAck, head);
    }
    case 'PrBlob': {
      if (msg.blob.length > MAX_PR_BYTES) throw new RangeError(`PrBlob: blob of ${msg.blob.length} bytes exceeds ${MAX_PR_BYTES}`);
      // Small: copied into the head, so the checksum covers it whatever data-integrity-alg says.
      const head = allocHead(12 + msg.blob.length);
      head.writeUInt16BE(checkU16(msg.volume, 'volume'), H);
      writeU64(head, msg.id, H + 4, 'id');
      msg.blob.copy(head, H + 12);
      return finishFrame(T.PrBlob, head);
    }
    case 'NegAck':
    case 'Flush':
    case 'FlushAck':
    case 'PrAck': {
      const head = allocHead(12);
      head.writeUInt16BE(checkU16(msg.volume, 'volume'), H);
      writeU64(head, msg.type === 'NegAck' ? msg.seq : msg.id, H + 4, msg.type === 'NegAck' ? 'seq' : 'id');
      return finishFrame(T[msg.type], head);
    }
    case 'Barrier':
    case 'BarrierAck': {
      const head = allocHead(8);
      writeU64(head, msg.seq, H, 'seq');
      return finishFrame(T[msg.type], head);
    }
    case 'BitmapChunk': {
      const head = allocHead(12);
      head.writeUInt16BE(checkU16(msg.volume, 'volume'), H);
      head.writeUInt16BE(checkU16(msg.flags, 'flags'), H + 2);
      writeU64(head, msg.offset, H + 4, 'offset');
      return finishFrame(T.BitmapChunk, head, checkData(msg.bits, 'bitmap chunk'));
    }
    case 'RsDataRequest':
    case 'OvRequest':
    case 'RsChecksumRequest':
    case 'OvReply': {
      // Shared fixed part: volume, length, offset, id; digest (if any) follows.
      const digest = msg.type === 'RsChecksumRequest' || msg.type === 'OvReply' ? msg.digest : undefined;
      if (digest && digest.length > 64) throw new RangeError(`${msg.type}: digest of ${digest.length} bytes exceeds 64`);
      const head = allocHead(24 + (digest?.length ?? 0));
      head.writeUInt16BE(checkU16(msg.volume, 'volume'), H);
      head.writeUInt32BE(checkU32(msg.length, 'length'), H + 4);
      writeU64(head, msg.offset, H + 8, 'offset');
      writeU64(head, msg.id, H + 16, 'id');
      digest?.copy(head, H + 24);
      return finishFrame(T[msg.type], head);
    }
    case 'RsDataReply': {
      const head = allocHead(20);
      head.writeUInt16BE(checkU16(msg.volume, 'volume'), H);
      writeU64(head, msg.offset, H + 4, 'offset');
      writeU64(head, msg.id, H + 12, 'id');
      return finishFrame(T.RsDataReply, head, checkData(msg.payload, 'RsDataReply payload'), 0, dataChecked);
    }
    case 'RsIsInSync': {
      const head = allocHead(20);
      head.writeUInt16BE(checkU16(msg.volume, 'volume'), H);
      writeU64(head, msg.offset, H + 4, 'offset');
      writeU64(head, msg.id, H + 12, 'id');
      return finishFrame(T.RsIsInSync, head);
    }
  }
}

// ---- Message decoding ----

function malformed(type: string, why: string): ProtocolError {
  return new ProtocolError('malformed', `malformed ${type}: ${why}`);
}

function expectLength(p: Buffer, type: string, exact: number): void {
  if (p.length !== exact) throw malformed(type, `payload is ${p.length} bytes, expected ${exact}`);
}

function expectAtLeast(p: Buffer, type: string, min: number): void {
  if (p.length < min) throw malformed(type, `payload is ${p.length} bytes, expected at least ${min}`);
}

function parseJson(p: Buffer, type: string): Record<string, unknown> {
  let v: unknown;
  try {
    v = JSON.parse(p.toString('utf8'));
  } catch {
    throw malformed(type, 'payload is not JSON');
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw malformed(type, 'payload is not a JSON object');
  return v as Record<string, unknown>;
}

function str(o: Record<string, unknown>, key: string, type: string): string {
  const v = o[key];
  if (typeof v !== 'string') throw malformed(type, `${key} must be a string`);
  return v;
}

function int(o: Record<string, unknown>, key: string, type: string): number {
  const v = o[key];
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) throw malformed(type, `${key} must be a non-negative integer`);
  return v;
}

function bool(o: Record<string, unknown>, key: string, type: string): boolean {
  const v = o[key];
  if (typeof v !== 'boolean') throw malformed(type, `${key} must be a boolean`);
  return v;
}

function optStr(o: Record<string, unknown>, key: string, type: string): string | undefined {
  return o[key] === undefined ? undefined : str(o, key, type);
}

function optObject(o: Record<string, unknown>, key: string, type: string): Record<string, JsonValue> | undefined {
  const v = o[key];
  if (v === undefined) return undefined;
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw malformed(type, `${key} must be an object`);
  return v as Record<string, JsonValue>;
}

function diskState(v: unknown, type: string): DiskState {
  if (typeof v !== 'string' || !(DISK_STATES as readonly string[]).includes(v)) throw malformed(type, `unknown disk state ${JSON.stringify(v)}`);
  return v as DiskState;
}

/** Frames → messages. Throws ProtocolError for an unknown type or a malformed payload. */
export function decodeMessage(frame: Frame): PeerMessage {
  const name = TYPE_NAMES.get(frame.type);
  if (name === undefined) throw new ProtocolError('unknown-type', `unknown message type ${frame.type}`);
  const p = frame.payload;
  switch (name) {
    case 'Hello': {
      const o = parseJson(p, name);
      return {
        type: name,
        protocolVersion: int(o, 'protocolVersion', name),
        nodeId: int(o, 'nodeId', name),
        resource: str(o, 'resource', name),
        configHash: str(o, 'configHash', name),
        session: str(o, 'session', name),
        ...(o['unauthenticated'] === undefined ? {} : bool(o, 'unauthenticated', name) ? { unauthenticated: true as const } : {}),
      };
    }
    case 'AuthChallenge':
      expectLength(p, name, AUTH_NONCE_BYTES);
      return { type: name, nonce: Buffer.from(p) };
    case 'AuthResponse':
      expectLength(p, name, AUTH_MAC_BYTES);
      return { type: name, mac: Buffer.from(p) };
    case 'AuthResult': {
      const o = parseJson(p, name);
      const reason = optStr(o, 'reason', name);
      return reason === undefined ? { type: name, ok: bool(o, 'ok', name) } : { type: name, ok: bool(o, 'ok', name), reason };
    }
    case 'KeepConnection':
    case 'Ping':
    case 'PingAck':
      expectLength(p, name, 0);
      return { type: name };
    case 'Uuids': {
      expectAtLeast(p, name, 40);
      const nPeers = p.readUInt8(3);
      const nHist = p.readUInt8(4);
      expectLength(p, name, 40 + nPeers * 12 + nHist * 8);
      const disk = DISK_STATES[p.readUInt8(2)];
      if (disk === undefined) throw malformed(name, `unknown disk state ${p.readUInt8(2)}`);
      const bitmap: Record<number, bigint> = {};
      let at = 40;
      for (let i = 0; i < nPeers; i++, at += 12) bitmap[p.readUInt32BE(at)] = p.readBigUInt64BE(at + 4);
      const history: bigint[] = [];
      for (let i = 0; i < nHist; i++, at += 8) history.push(p.readBigUInt64BE(at));
      return {
        type: name,
        volume: p.readUInt16BE(0),
        current: p.readBigUInt64BE(16),
        bitmap,
        history,
        flags: p.readUInt32BE(8),
        diskState: disk,
        dataBytes: readU64(p, 24, 'dataBytes'),
        bitmapWeight: readU64(p, 32, 'bitmapWeight'),
      };
    }
    case 'State': {
      const o = parseJson(p, name);
      const role = o.role;
      if (typeof role !== 'string' || !(ROLES as readonly string[]).includes(role)) throw malformed(name, `unknown role ${JSON.stringify(role)}`);
      if (!Array.isArray(o.disks)) throw malformed(name, 'disks must be an array');
      const disks = o.disks.map((d: unknown) => {
        if (typeof d !== 'object' || d === null) throw malformed(name, 'disks entries must be objects');
        const e = d as Record<string, unknown>;
        return { volume: int(e, 'volume', name), disk: diskState(e.disk, name) };
      });
      const extra = optObject(o, 'extra', name);
      return extra === undefined ? { type: name, role: role as Role, disks } : { type: name, role: role as Role, disks, extra };
    }
    case 'StateChangeRequest': {
      const o = parseJson(p, name);
      const params = optObject(o, 'params', name);
      const base = { type: name, id: int(o, 'id', name), change: str(o, 'change', name) } as const;
      return params === undefined ? base : { ...base, params };
    }
    case 'StateChangeReply': {
      const o = parseJson(p, name);
      const reason = optStr(o, 'reason', name);
      const base = { type: name, id: int(o, 'id', name), ok: bool(o, 'ok', name) } as const;
      return reason === undefined ? base : { ...base, reason };
    }
    case 'Data':
      expectAtLeast(p, name, 20);
      return {
        type: name,
        volume: p.readUInt16BE(0),
        flags: p.readUInt16BE(2),
        seq: readU64(p, 4, 'seq'),
        offset: readU64(p, 12, 'offset'),
        payload: p.subarray(20),
      };
    case 'DataZeroes':
      expectLength(p, name, 24);
      return { type: name, volume: p.readUInt16BE(0), flags: p.readUInt16BE(2), length: p.readUInt32BE(4), seq: readU64(p, 8, 'seq'), offset: readU64(p, 16, 'offset') };
    case 'WriteAck': {
      expectLength(p, name, 12);
      const kind = p.readUInt8(2);
      if (kind > 1) throw malformed(name, `unknown ack kind ${kind}`);
      return { type: name, volume: p.readUInt16BE(0), kind: kind === 1 ? 'written' : 'received', seq: readU64(p, 4, 'seq') };
    }
    case 'NegAck':
      expectLength(p, name, 12);
      return { type: name, volume: p.readUInt16BE(0), seq: readU64(p, 4, 'seq') };
    case 'PrBlob':
      expectAtLeast(p, name, 12);
      if (p.length > 12 + MAX_PR_BYTES) throw malformed(name, `blob longer than ${MAX_PR_BYTES} bytes`);
      return { type: name, volume: p.readUInt16BE(0), id: readU64(p, 4, 'id'), blob: Buffer.from(p.subarray(12)) };
    case 'Flush':
    case 'FlushAck':
    case 'PrAck':
      expectLength(p, name, 12);
      return { type: name, volume: p.readUInt16BE(0), id: readU64(p, 4, 'id') };
    case 'Barrier':
    case 'BarrierAck':
      expectLength(p, name, 8);
      return { type: name, seq: readU64(p, 0, 'seq') };
    case 'BitmapChunk':
      expectAtLeast(p, name, 12);
      return { type: name, volume: p.readUInt16BE(0), flags: p.readUInt16BE(2), offset: readU64(p, 4, 'offset'), bits: p.subarray(12) };
    case 'RsDataRequest':
    case 'OvRequest':
      expectLength(p, name, 24);
      return { type: name, volume: p.readUInt16BE(0), length: p.readUInt32BE(4), offset: readU64(p, 8, 'offset'), id: readU64(p, 16, 'id') };
    case 'RsChecksumRequest':
    case 'OvReply':
      expectAtLeast(p, name, 24);
      if (p.length > 24 + 64) throw malformed(name, 'digest longer than 64 bytes');
      return {
        type: name,
        volume: p.readUInt16BE(0),
        length: p.readUInt32BE(4),
        offset: readU64(p, 8, 'offset'),
        id: readU64(p, 16, 'id'),
        digest: Buffer.from(p.subarray(24)),
      };
    case 'RsDataReply':
      expectAtLeast(p, name, 20);
      return { type: name, volume: p.readUInt16BE(0), offset: readU64(p, 4, 'offset'), id: readU64(p, 12, 'id'), payload: p.subarray(20) };
    case 'RsIsInSync':
      expectLength(p, name, 20);
      return { type: name, volume: p.readUInt16BE(0), offset: readU64(p, 4, 'offset'), id: readU64(p, 12, 'id') };
  }
}

// ---- Stream decoding ----

/** Where a frame's payload is assembled: a fresh buffer unless the caller pools them. */
export type PayloadAlloc = (type: number, length: number) => Buffer;

const freshPayload: PayloadAlloc = (_type, length) => Buffer.allocUnsafe(length);

/**
 * Incremental frame decoder: feed it the socket's chunks in order, get whole frames back.
 * Every byte is copied once, into the frame's header or its payload buffer, and no chunk is
 * kept past the call that consumed it, so the socket may read into the same memory again
 * (peer-link does). Payload buffers come from `alloc`. After a ProtocolError the stream is
 * unusable: drop the connection.
 */
export class FrameDecoder {
  /** Payloads above this are refused before they are buffered (lowered during the handshake). */
  maxPayload: number;
  /** Input not yet consumed: at most one chunk in the socket's hot path. */
  private readonly input = new ChunkQueue();
  private readonly header = Buffer.alloc(FRAME_HEADER_BYTES);
  private headerFill = 0;
  private pending: { type: number; flags: number; crc: number; headerCrc: number; payload: Buffer; fill: number } | null = null;
  private failed: ProtocolError | null = null;

  constructor(
    maxPayload = MAX_FRAME_PAYLOAD,
    private readonly alloc: PayloadAlloc = freshPayload,
  ) {
    this.maxPayload = maxPayload;
  }

  /** Bytes received but not yet returned as frames. */
  get buffered(): number {
    return this.headerFill + (this.pending?.fill ?? 0) + this.input.length;
  }

  /** Appends a chunk and returns every frame it completes. */
  push(chunk: Buffer): Frame[] {
    this.append(chunk);
    const frames: Frame[] = [];
    for (let f = this.next(); f !== null; f = this.next()) frames.push(f);
    return frames;
  }

  /**
   * Appends a chunk without decoding (pair with next(), to apply a changed limit between
   * frames). Call next() until it returns null before the chunk's memory is reused; input
   * left over from an earlier append is copied first, so it never depends on such memory.
   */
  append(chunk: Buffer): void {
    if (this.failed) throw this.failed;
    this.input.append(chunk);
  }

  /**
   * Where the next read may land directly (reused-reads.ts), when no earlier input waits: the
   * rest of a large payload; and after a large one, the next frame's header exactly, so that
   * a read never takes the start of a large payload into the shared buffer with its header.
   */
  directTarget(): Buffer | undefined {
    const f = this.pending;
    if (this.failed || this.input.length > 0) return undefined;
    if (f !== null) return f.payload.length - f.fill >= DIRECT_READ_MIN ? f.payload.subarray(f.fill) : undefined;
    return this.large ? this.header.subarray(this.headerFill) : undefined;
  }

  /** n bytes were read into what directTarget() returned; then call next() as after append. */
  placed(n: number): void {
    if (this.pending) this.pending.fill += n;
    else this.headerFill += n;
  }

  /** The last frame had a large payload: the next header is read on its own (directTarget). */
  private large = false;

  /** The next complete frame, or null when more bytes are needed. Throws ProtocolError. */
  next(): Frame | null {
    if (this.failed) throw this.failed;
    try {
      if (this.pending === null) {
        this.headerFill += this.input.copyInto(this.header, this.headerFill);
        if (this.headerFill < FRAME_HEADER_BYTES) return null;
        this.headerFill = 0;
        const h = this.header;
        const magic = h.readUInt32BE(0);
        if (magic !== FRAME_MAGIC) throw new ProtocolError('bad-magic', `bad frame magic 0x${magic.toString(16).padStart(8, '0')}`);
        const length = h.readUInt32BE(8);
        if (length > this.maxPayload) throw new ProtocolError('too-large', `frame payload of ${length} bytes exceeds the limit of ${this.maxPayload}`);
        const type = h.readUInt16BE(4);
        this.pending = { type, flags: h.readUInt16BE(6), crc: h.readUInt32BE(12), headerCrc: crc32c(h, 0, 0, 12), payload: length === 0 ? Buffer.alloc(0) : this.alloc(type, length), fill: 0 };
      }
      const f = this.pending;
      f.fill += this.input.copyInto(f.payload, f.fill);
      if (f.fill < f.payload.length) return null;
      this.pending = null;
      this.large = f.payload.length >= DIRECT_READ_MIN;
      const checked = f.flags & FRAME_DATA_UNCHECKED ? Math.min(f.payload.length, CHECKED_PREFIX) : f.payload.length;
      if (crc32c(f.payload, f.headerCrc, 0, checked) !== f.crc) throw new ProtocolError('bad-checksum', `frame checksum mismatch (type ${f.type}, ${f.payload.length} bytes)`);
      return { type: f.type, flags: f.flags & ~FRAME_DATA_UNCHECKED, payload: f.payload };
    } catch (e) {
      if (e instanceof ProtocolError) {
        this.failed = e;
        this.input.clear();
        this.pending = null;
      }
      throw e;
    }
  }
}
