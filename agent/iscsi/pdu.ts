// iSCSI PDU codec (RFC 7143 §11): the 48-byte Basic Header Segment of every PDU the target
// receives and sends, additional header segments, padding and CRC32C digests. Decoders
// read fields straight out of the header buffer; encoders build a fresh 48-byte header
// and leave the data segment as the caller's buffer so payloads are never copied.
import { crc32c } from '../lib/crc32c.js';
import { ChunkQueue } from '../net/chunk-queue.js';
import { DIRECT_READ_MIN } from '../net/reused-reads.js';

export const BHS_LENGTH = 48;

export const Op = {
  NopOut: 0x00,
  ScsiCommand: 0x01,
  TaskMgmtRequest: 0x02,
  LoginRequest: 0x03,
  TextRequest: 0x04,
  DataOut: 0x05,
  LogoutRequest: 0x06,
  Snack: 0x10,
  NopIn: 0x20,
  ScsiResponse: 0x21,
  TaskMgmtResponse: 0x22,
  LoginResponse: 0x23,
  TextResponse: 0x24,
  DataIn: 0x25,
  LogoutResponse: 0x26,
  R2T: 0x31,
  AsyncMessage: 0x32,
  Reject: 0x3f,
} as const;

export const RESERVED_TAG = 0xffffffff;

export const RejectReason = {
  DataDigestError: 0x02,
  SnackReject: 0x03,
  ProtocolError: 0x04,
  CommandNotSupported: 0x05,
  ImmediateCommandRejected: 0x06,
  TaskInProgress: 0x07,
  InvalidDataAck: 0x08,
  InvalidPduField: 0x09,
  OutOfResources: 0x0a,
  WaitingForLogout: 0x0c,
} as const;

/** A PDU as framed off the wire, in memory of its own (the framer keeps no view of a read). */
export interface RawPdu {
  bhs: Buffer;
  ahs: Buffer;
  /** The data segment, where the framer's `place` put it (else a buffer of its own). */
  readonly data: Buffer;
}

export const EMPTY = Buffer.alloc(0);

export const pad4 = (n: number): number => (4 - (n & 3)) & 3;

export function opcodeOf(bhs: Buffer): number {
  return (bhs[0] as number) & 0x3f;
}

export function dataSegmentLength(bhs: Buffer): number {
  return ((bhs[5] as number) << 16) | ((bhs[6] as number) << 8) | (bhs[7] as number);
}

function setDataSegmentLength(bhs: Buffer, n: number): void {
  bhs[5] = (n >>> 16) & 0xff;
  bhs[6] = (n >>> 8) & 0xff;
  bhs[7] = n & 0xff;
}

/** SAM-5 LUN structure: peripheral (bus 0) and flat addressing; anything else maps to an unreachable LUN. */
export function decodeLun(b: Buffer, off = 8): number {
  const b0 = b[off] as number;
  const b1 = b[off + 1] as number;
  const method = b0 >> 6;
  if (method === 0) return (b0 & 0x3f) === 0 ? b1 : 0x10000 + b0;
  if (method === 1) return ((b0 & 0x3f) << 8) | b1;
  return 0x20000;
}

export function encodeLun(lun: number, out: Buffer = Buffer.alloc(8), off = 0): Buffer {
  out.fill(0, off, off + 8);
  if (lun < 256) out[off + 1] = lun;
  else {
    out[off] = 0x40 | ((lun >> 8) & 0x3f);
    out[off + 1] = lun & 0xff;
  }
  return out;
}

// ---- received PDUs ----

interface Common {
  immediate: boolean;
  itt: number;
}

export interface ScsiCommandPdu extends Common {
  op: typeof Op.ScsiCommand;
  final: boolean;
  read: boolean;
  write: boolean;
  attr: number;
  lun: number;
  edtl: number;
  cmdSN: number;
  expStatSN: number;
  cdb: Buffer;
}

export interface DataOutPdu extends Common {
  op: typeof Op.DataOut;
  final: boolean;
  lun: number;
  ttt: number;
  expStatSN: number;
  dataSN: number;
  bufferOffset: number;
}

export interface NopOutPdu extends Common {
  op: typeof Op.NopOut;
  lun: number;
  ttt: number;
  cmdSN: number;
  expStatSN: number;
}

export interface TaskMgmtPdu extends Common {
  op: typeof Op.TaskMgmtRequest;
  fn: number;
  lun: number;
  refTask: number;
  cmdSN: number;
  expStatSN: number;
  refCmdSN: number;
}

export interface LoginRequestPdu extends Common {
  op: typeof Op.LoginRequest;
  transit: boolean;
  cont: boolean;
  csg: number;
  nsg: number;
  versionMax: number;
  versionMin: number;
  isid: Buffer;
  tsih: number;
  cid: number;
  cmdSN: number;
  expStatSN: number;
}

export interface TextRequestPdu extends Common {
  op: typeof Op.TextRequest;
  final: boolean;
  cont: boolean;
  ttt: number;
  cmdSN: number;
  expStatSN: number;
}

export interface LogoutRequestPdu extends Common {
  op: typeof Op.LogoutRequest;
  reason: number;
  cid: number;
  cmdSN: number;
  expStatSN: number;
}

export interface SnackPdu extends Common {
  op: typeof Op.Snack;
}

export type RequestPdu =
  | ScsiCommandPdu
  | DataOutPdu
  | NopOutPdu
  | TaskMgmtPdu
  | LoginRequestPdu
  | TextRequestPdu
  | LogoutRequestPdu
  | SnackPdu;

export class PduError extends Error {
  constructor(
    message: string,
    readonly reason: number,
  ) {
    super(message);
    this.name = 'PduError';
  }
}

/** Decodes an initiator PDU's header; throws PduError for opcodes a target never receives. */
export function decodeRequest(pdu: RawPdu): RequestPdu {
  const b = pdu.bhs;
  const op = opcodeOf(b);
  const immediate = ((b[0] as number) & 0x40) !== 0;
  const f = b[1] as number;
  const itt = b.readUInt32BE(16);
  switch (op) {
    case Op.ScsiCommand: {
      let cdb = b.subarray(32, 48);
      // An extended-CDB AHS (type 1) carries the bytes past the sixteenth.
      if (pdu.ahs.length >= 4 && pdu.ahs[2] === 1) {
        const len = pdu.ahs.readUInt16BE(0);
        cdb = Buffer.concat([cdb, pdu.ahs.subarray(4, 3 + len)]);
      }
      return {
        op,
        immediate,
        itt,
        final: (f & 0x80) !== 0,
        read: (f & 0x40) !== 0,
        write: (f & 0x20) !== 0,
        attr: f & 0x07,
        lun: decodeLun(b),
        edtl: b.readUInt32BE(20),
        cmdSN: b.readUInt32BE(24),
        expStatSN: b.readUInt32BE(28),
        cdb,
      };
    }
    case Op.DataOut:
      return {
        op,
        immediate,
        itt,
        final: (f & 0x80) !== 0,
        lun: decodeLun(b),
        ttt: b.readUInt32BE(20),
        expStatSN: b.readUInt32BE(28),
        dataSN: b.readUInt32BE(36),
        bufferOffset: b.readUInt32BE(40),
      };
    case Op.NopOut:
      return { op, immediate, itt, lun: decodeLun(b), ttt: b.readUInt32BE(20), cmdSN: b.readUInt32BE(24), expStatSN: b.readUInt32BE(28) };
    case Op.TaskMgmtRequest:
      return {
        op,
        immediate,
        itt,
        fn: f & 0x7f,
        lun: decodeLun(b),
        refTask: b.readUInt32BE(20),
        cmdSN: b.readUInt32BE(24),
        expStatSN: b.readUInt32BE(28),
        refCmdSN: b.readUInt32BE(32),
      };
    case Op.LoginRequest:
      return {
        op,
        immediate,
        itt,
        transit: (f & 0x80) !== 0,
        cont: (f & 0x40) !== 0,
        csg: (f >> 2) & 3,
        nsg: f & 3,
        versionMax: b[2] as number,
        versionMin: b[3] as number,
        isid: b.subarray(8, 14),
        tsih: b.readUInt16BE(14),
        cid: b.readUInt16BE(20),
        cmdSN: b.readUInt32BE(24),
        expStatSN: b.readUInt32BE(28),
      };
    case Op.TextRequest:
      return {
        op,
        immediate,
        itt,
        final: (f & 0x80) !== 0,
        cont: (f & 0x40) !== 0,
        ttt: b.readUInt32BE(20),
        cmdSN: b.readUInt32BE(24),
        expStatSN: b.readUInt32BE(28),
      };
    case Op.LogoutRequest:
      return { op, immediate, itt, reason: f & 0x7f, cid: b.readUInt16BE(20), cmdSN: b.readUInt32BE(24), expStatSN: b.readUInt32BE(28) };
    case Op.Snack:
      return { op, immediate, itt };
    default:
      throw new PduError(`unexpected opcode 0x${op.toString(16)}`, RejectReason.CommandNotSupported);
  }
}

// ---- sent PDUs ----

export interface SeqNumbers {
  statSN: number;
  expCmdSN: number;
  maxCmdSN: number;
}

function header(op: number, flags: number, dataLength: number): Buffer {
  // From Node's shared pool: a fresh ArrayBuffer per response is what the GC then chases.
  const b = Buffer.allocUnsafe(BHS_LENGTH).fill(0);
  b[0] = op;
  b[1] = flags;
  setDataSegmentLength(b, dataLength);
  return b;
}

function putSeq(b: Buffer, s: SeqNumbers, withStatSN = true): void {
  if (withStatSN) b.writeUInt32BE(s.statSN >>> 0, 24);
  b.writeUInt32BE(s.expCmdSN >>> 0, 28);
  b.writeUInt32BE(s.maxCmdSN >>> 0, 32);
}

export const ResidualFlag = { Overflow: 0x04, Underflow: 0x02 } as const;

export function residualFlags(residual: { overflow: number; underflow: number }): { flags: number; count: number } {
  if (residual.overflow > 0) return { flags: ResidualFlag.Overflow, count: residual.overflow };
  if (residual.underflow > 0) return { flags: ResidualFlag.Underflow, count: residual.underflow };
  return { flags: 0, count: 0 };
}

export function encodeNopIn(o: { lun: number; itt: number; ttt: number; dataLength: number; seq: SeqNumbers }): Buffer {
  const b = header(Op.NopIn, 0x80, o.dataLength);
  encodeLun(o.lun, b, 8);
  b.writeUInt32BE(o.itt >>> 0, 16);
  b.writeUInt32BE(o.ttt >>> 0, 20);
  putSeq(b, o.seq);
  return b;
}

export function encodeScsiResponse(o: {
  itt: number;
  status: number;
  response?: number;
  senseLength: number;
  residualFlags: number;
  residual: number;
  expDataSN: number;
  seq: SeqNumbers;
}): Buffer {
  const dataLength = o.senseLength > 0 ? o.senseLength + 2 : 0;
  const b = header(Op.ScsiResponse, 0x80 | o.residualFlags, dataLength);
  b[2] = o.response ?? 0;
  b[3] = o.status;
  b.writeUInt32BE(o.itt >>> 0, 16);
  putSeq(b, o.seq);
  b.writeUInt32BE(o.expDataSN >>> 0, 36);
  b.writeUInt32BE(o.residual >>> 0, 44);
  return b;
}

export function encodeDataIn(o: {
  lun: number;
  itt: number;
  final: boolean;
  /** Status travels with this PDU (S bit); only on the final one. */
  status?: number;
  residualFlags: number;
  residual: number;
  dataSN: number;
  bufferOffset: number;
  dataLength: number;
  seq: SeqNumbers;
}): Buffer {
  let flags = o.final ? 0x80 : 0;
  if (o.status !== undefined) flags |= 0x01 | o.residualFlags;
  const b = header(Op.DataIn, flags, o.dataLength);
  if (o.status !== undefined) b[3] = o.status;
  encodeLun(o.lun, b, 8);
  b.writeUInt32BE(o.itt >>> 0, 16);
  b.writeUInt32BE(RESERVED_TAG, 20);
  putSeq(b, o.seq, o.status !== undefined);
  b.writeUInt32BE(o.dataSN >>> 0, 36);
  b.writeUInt32BE(o.bufferOffset >>> 0, 40);
  if (o.status !== undefined) b.writeUInt32BE(o.residual >>> 0, 44);
  return b;
}

export function encodeR2T(o: { lun: number; itt: number; ttt: number; r2tSN: number; bufferOffset: number; length: number; seq: SeqNumbers }): Buffer {
  const b = header(Op.R2T, 0x80, 0);
  encodeLun(o.lun, b, 8);
  b.writeUInt32BE(o.itt >>> 0, 16);
  b.writeUInt32BE(o.ttt >>> 0, 20);
  putSeq(b, o.seq);
  b.writeUInt32BE(o.r2tSN >>> 0, 36);
  b.writeUInt32BE(o.bufferOffset >>> 0, 40);
  b.writeUInt32BE(o.length >>> 0, 44);
  return b;
}

export function encodeLoginResponse(o: {
  transit: boolean;
  cont: boolean;
  csg: number;
  nsg: number;
  isid: Buffer;
  tsih: number;
  itt: number;
  statusClass: number;
  statusDetail: number;
  dataLength: number;
  seq: SeqNumbers;
}): Buffer {
  const flags = (o.transit ? 0x80 : 0) | (o.cont ? 0x40 : 0) | ((o.csg & 3) << 2) | (o.transit ? o.nsg & 3 : 0);
  const b = header(Op.LoginResponse, flags, o.dataLength);
  b[2] = 0; // Version-max
  b[3] = 0; // Version-active
  o.isid.copy(b, 8, 0, 6);
  b.writeUInt16BE(o.tsih, 14);
  b.writeUInt32BE(o.itt >>> 0, 16);
  putSeq(b, o.seq);
  b[36] = o.statusClass;
  b[37] = o.statusDetail;
  return b;
}

export function encodeTextResponse(o: { final: boolean; cont: boolean; itt: number; ttt: number; dataLength: number; seq: SeqNumbers }): Buffer {
  const b = header(Op.TextResponse, (o.final ? 0x80 : 0) | (o.cont ? 0x40 : 0), o.dataLength);
  b.writeUInt32BE(o.itt >>> 0, 16);
  b.writeUInt32BE(o.ttt >>> 0, 20);
  putSeq(b, o.seq);
  return b;
}

export function encodeLogoutResponse(o: { itt: number; response: number; time2Wait: number; time2Retain: number; seq: SeqNumbers }): Buffer {
  const b = header(Op.LogoutResponse, 0x80, 0);
  b[2] = o.response;
  b.writeUInt32BE(o.itt >>> 0, 16);
  putSeq(b, o.seq);
  b.writeUInt16BE(o.time2Wait, 40);
  b.writeUInt16BE(o.time2Retain, 42);
  return b;
}

export function encodeTaskMgmtResponse(o: { itt: number; response: number; seq: SeqNumbers }): Buffer {
  const b = header(Op.TaskMgmtResponse, 0x80, 0);
  b[2] = o.response;
  b.writeUInt32BE(o.itt >>> 0, 16);
  putSeq(b, o.seq);
  return b;
}

export const AsyncEvent = { ScsiEvent: 0, LogoutRequest: 1, DropConnection: 2, DropAllConnections: 3, RenegotiateParameters: 4 } as const;

export function encodeAsyncMessage(o: { lun: number; event: number; param1: number; param2: number; param3: number; dataLength: number; seq: SeqNumbers }): Buffer {
  const b = header(Op.AsyncMessage, 0x80, o.dataLength);
  encodeLun(o.lun, b, 8);
  b.writeUInt32BE(RESERVED_TAG, 16);
  putSeq(b, o.seq);
  b[36] = o.event;
  b.writeUInt16BE(o.param1, 38);
  b.writeUInt16BE(o.param2, 40);
  b.writeUInt16BE(o.param3, 42);
  return b;
}

export function encodeReject(o: { reason: number; rejectedBhs: Buffer; seq: SeqNumbers }): Buffer {
  const b = header(Op.Reject, 0x80, BHS_LENGTH);
  b[2] = o.reason;
  b.writeUInt32BE(RESERVED_TAG, 16);
  putSeq(b, o.seq);
  return b;
}

// ---- framing ----

export interface DigestSettings {
  header: boolean;
  data: boolean;
}

export type FrameEvent =
  | { kind: 'pdu'; pdu: RawPdu }
  | { kind: 'header-digest-error' }
  | { kind: 'data-digest-error'; pdu: RawPdu }
  | { kind: 'too-long'; bhs: Buffer; length: number };

/**
 * Where a PDU's data segment should land: exactly `length` bytes, or undefined for a buffer
 * of its own. Asked once the header (and its digest) has been checked, and only after every
 * earlier PDU was handed out, so a Data-Out can go straight into its command's buffer.
 */
export type PlaceData = (bhs: Buffer, length: number) => Buffer | undefined;

/**
 * Splits a TCP byte stream into PDUs. Every byte is copied once, into the PDU's header or
 * its data segment, and no read is kept past the call that consumed it: the socket may read
 * into the same memory again (the target's connections do).
 */
export class PduFramer {
  private readonly input = new ChunkQueue();
  private readonly bhsScratch = Buffer.alloc(BHS_LENGTH);
  private readonly tailScratch = Buffer.alloc(8);
  private bhsFill = 0;
  /**
   * The PDU being assembled once its BHS is in: header (+AHS, +digest), then data; its pad and
   * data digest go to tailScratch[0, tailLen).
   */
  private cur: { header: Buffer; headerFill: number; dataLen: number; data: Buffer | null; dataFill: number; tailLen: number; tailFill: number } | null = null;
  digests: DigestSettings = { header: false, data: false };
  place: PlaceData | undefined;

  constructor(public maxDataSegment: number) {}

  /** Appends a chunk and returns every PDU it completes. */
  push(chunk: Buffer): FrameEvent[] {
    this.append(chunk);
    const out: FrameEvent[] = [];
    for (let ev = this.next(); ev !== null; ev = this.next()) out.push(ev);
    return out;
  }

  /** Appends a chunk; call next() until it returns null before the chunk's memory is reused. */
  append(chunk: Buffer): void {
    this.input.append(chunk);
  }

  /**
   * Where the next read may land directly (reused-reads.ts), when no earlier input waits: the
   * rest of a large data segment; and after a large one, each piece of the next PDU exactly
   * (its header, then its data, then pad and digest), so that a read never takes the start of
   * a large segment into the shared buffer along with the header before it.
   */
  directTarget(): Buffer | undefined {
    if (this.input.length > 0) return undefined;
    const c = this.cur;
    const dataRest = c !== null && c.data !== null && c.dataFill < c.dataLen ? c.dataLen - c.dataFill : 0;
    if (dataRest >= DIRECT_READ_MIN) return (c!.data as Buffer).subarray(c!.dataFill);
    if (!this.large) return undefined;
    if (c === null) return this.bhsScratch.subarray(this.bhsFill);
    if (c.headerFill < c.header.length) return c.header.subarray(c.headerFill);
    if (dataRest > 0) return (c.data as Buffer).subarray(c.dataFill);
    if (c.tailFill < c.tailLen) return this.tailScratch.subarray(c.tailFill, c.tailLen);
    return undefined;
  }

  /** n bytes were read into what directTarget() returned; then call next() as after append. */
  placed(n: number): void {
    const c = this.cur;
    if (c === null) this.bhsFill += n;
    else if (c.headerFill < c.header.length) c.headerFill += n;
    else if (c.dataFill < c.dataLen) c.dataFill += n;
    else c.tailFill += n;
  }

  /** Part of a PDU has arrived and the rest has not. */
  get midPdu(): boolean {
    return this.cur !== null || this.bhsFill > 0 || this.input.length > 0;
  }

  /** The last PDU had a large data segment: the next is read piece by piece (directTarget). */
  private large = false;

  /** The next PDU (or framing error), or null when more bytes are needed. */
  next(): FrameEvent | null {
    if (this.cur === null) {
      this.bhsFill += this.input.copyInto(this.bhsScratch, this.bhsFill);
      if (this.bhsFill < BHS_LENGTH) return null;
      this.bhsFill = 0;
      const head = this.bhsScratch;
      const dataLen = dataSegmentLength(head);
      if (dataLen > this.maxDataSegment) {
        // The length cannot be trusted; there is no way to resynchronise the stream.
        this.reset();
        return { kind: 'too-long', bhs: Buffer.from(head), length: dataLen };
      }
      const headerLen = BHS_LENGTH + (head[4] as number) * 4 + (this.digests.header ? 4 : 0);
      const header = Buffer.allocUnsafe(headerLen);
      head.copy(header, 0);
      const tailLen = pad4(dataLen) + (this.digests.data && dataLen > 0 ? 4 : 0);
      this.cur = { header, headerFill: BHS_LENGTH, dataLen, data: null, dataFill: 0, tailLen, tailFill: 0 };
    }
    const c = this.cur;
    if (c.headerFill < c.header.length) {
      c.headerFill += this.input.copyInto(c.header, c.headerFill);
      if (c.headerFill < c.header.length) return null;
    }
    if (c.data === null) {
      const ahsEnd = c.header.length - (this.digests.header ? 4 : 0);
      if (this.digests.header && crc32c(c.header, 0, 0, ahsEnd) !== c.header.readUInt32LE(ahsEnd)) {
        this.reset();
        return { kind: 'header-digest-error' };
      }
      const placed = c.dataLen > 0 ? this.place?.(bhsOf(c.header), c.dataLen) : undefined;
      c.data = placed && placed.length === c.dataLen ? placed : c.dataLen > 0 ? Buffer.allocUnsafe(c.dataLen) : EMPTY;
    }
    if (c.dataFill < c.dataLen) {
      c.dataFill += this.input.copyInto(c.data, c.dataFill);
      if (c.dataFill < c.dataLen) return null;
    }
    if (c.tailFill < c.tailLen) {
      c.tailFill += this.input.copyInto(this.tailScratch, c.tailFill, c.tailLen);
      if (c.tailFill < c.tailLen) return null;
    }
    this.cur = null;
    this.large = c.dataLen >= DIRECT_READ_MIN;
    const ahsEnd = c.header.length - (this.digests.header ? 4 : 0);
    const pdu: RawPdu = { bhs: bhsOf(c.header), ahs: ahsEnd === BHS_LENGTH ? EMPTY : c.header.subarray(BHS_LENGTH, ahsEnd), data: c.data };
    if (this.digests.data && c.dataLen > 0) {
      const padLen = pad4(c.dataLen);
      const crc = crc32c(this.tailScratch, crc32c(c.data), 0, padLen);
      if (crc !== this.tailScratch.readUInt32LE(padLen)) return { kind: 'data-digest-error', pdu };
    }
    return { kind: 'pdu', pdu };
  }

  /** Drops all input and the PDU being assembled (the connection is ending). */
  discard(): void {
    this.reset();
  }

  private reset(): void {
    this.input.clear();
    this.bhsFill = 0;
    this.cur = null;
    this.large = false;
  }
}

const PAD = Buffer.alloc(4);

/** The BHS of a header buffer (BHS, AHS, digest): the buffer itself when it is only that, as most are. */
function bhsOf(header: Buffer): Buffer {
  return header.length === BHS_LENGTH ? header : header.subarray(0, BHS_LENGTH);
}

/** The wire pieces of one PDU: header (+digest), data (+pad, +digest). Written with writev. */
export function framePieces(bhs: Buffer, data: Buffer | undefined, digests: DigestSettings): Buffer[] {
  const pieces: Buffer[] = [bhs];
  if (digests.header) {
    const d = Buffer.allocUnsafe(4);
    d.writeUInt32LE(crc32c(bhs), 0);
    pieces.push(d);
  }
  if (data && data.length > 0) {
    pieces.push(data);
    const p = pad4(data.length);
    if (p) pieces.push(PAD.subarray(0, p));
    if (digests.data) {
      let c = crc32c(data);
      if (p) c = crc32c(PAD, c, 0, p);
      const d = Buffer.allocUnsafe(4);
      d.writeUInt32LE(c, 0);
      pieces.push(d);
    }
  }
  return pieces;
}
