// The SCSI command layer (SPC-4 / SBC-3): a CDB and its data-out in, status, sense and
// data-in out, executed against the volumes' BlockDevices. Knows nothing of iSCSI except
// the I_T nexus name that unit attentions and reservations are kept per.
import { createHash } from 'node:crypto';
import { IoError, type BlockDevice } from '../block/block-device.js';
import { memoryReservationStore, type ReservationStore } from '../block/reservation-store.js';
import { Serializer } from '../lib/serializer.js';
import { encodeLun } from './pdu.js';
import { deserializePr, prConflict, prOut, readFullStatus, readKeys, readReservation, reportCapabilities, serializePr, type PrState } from './reservations.js';
import { accessOf, cdbLength, OPCODES, ScsiOp, ServiceAction, serviceActionOf, SUPPORTED, type Access } from './opcodes.js';
import { Sense, senseFixed, Status, type SenseInfo } from './sense.js';

export interface ScsiRequest {
  lun: number;
  cdb: Buffer;
  /** Everything the initiator sent (EDTL bytes for a write), empty otherwise. */
  dataOut: Buffer;
  /** I_T nexus: initiator name + ISID. */
  nexus: string;
}

export interface ScsiResult {
  status: number;
  sense?: Buffer;
  /** Data-in, already cut to the CDB's allocation length. */
  data?: Buffer;
  /** For commands that take data-out: how many bytes the CDB asked for (for residuals). */
  dataOutExpected?: number;
}

export interface LogicalUnitConfig {
  device: BlockDevice;
  readOnly?: boolean;
  reservations?: ReservationStore;
}

const VENDOR = 'DRBD-TUI';
const PRODUCT = 'userspace target';
const REVISION = '0001';
/** Block limits we advertise (VPD 0xB0) and enforce. */
export const MAX_TRANSFER_BLOCKS = 65536;
const MAX_UNMAP_BLOCKS = 0x100000;
const MAX_UNMAP_DESCRIPTORS = 256;
const MAX_WRITE_SAME_BLOCKS = 0x400000;
const MAX_COMPARE_WRITE_BLOCKS = 1;
const OPTIMAL_UNMAP_GRANULARITY = 8;

const check = (s: SenseInfo): ScsiResult => ({ status: Status.CheckCondition, sense: senseFixed(s) });
const good = (data?: Buffer): ScsiResult => (data ? { status: Status.Good, data } : { status: Status.Good });
const conflict = (): ScsiResult => ({ status: Status.ReservationConflict });

function padAscii(s: string, n: number): string {
  return s.slice(0, n).padEnd(n, ' ');
}

function cut(b: Buffer, alloc: number): Buffer {
  return b.length > alloc ? b.subarray(0, alloc) : b;
}

interface UnitAttention {
  asc: number;
  ascq: number;
}

class LogicalUnit {
  readonly blockSize: number;
  /** SPC-2 RESERVE(6) holder. */
  reservedBy: string | undefined;
  private pr: PrState | undefined;
  private prLoading: Promise<PrState> | undefined;
  readonly store: ReservationStore;
  readonly attentions = new Map<string, UnitAttention[]>();
  /** COMPARE AND WRITE runs one at a time and writes overlapping it wait for it. */
  private atomic: { lba: number; blocks: number; done: Promise<void> } | undefined;
  private atomicChain: Promise<void> = Promise.resolve();

  constructor(
    readonly lun: number,
    readonly dev: BlockDevice,
    readonly readOnly: boolean,
    store: ReservationStore | undefined,
    readonly serial: string,
    readonly naa: Buffer,
  ) {
    this.blockSize = dev.blockSize;
    this.store = store ?? memoryReservationStore();
  }

  /** From the device each time: resize grows it under a running target (seen at the next READ CAPACITY). */
  get blocks(): number {
    return Math.floor(this.dev.size / this.blockSize);
  }

  async prState(): Promise<PrState> {
    if (this.pr) return this.pr;
    this.prLoading ??= this.store.load().then((b) => deserializePr(b));
    this.pr = await this.prLoading;
    return this.pr;
  }

  /**
   * PERSISTENT RESERVE OUT one at a time: each sees the state the one before it saved, and
   * the new state is served only once the store has it (the replicated store can refuse, on a
   * node that is no longer Primary).
   */
  updatePr<T>(fn: (s: PrState, save: (next: PrState) => Promise<boolean>) => Promise<T>): Promise<T> {
    const run = async () =>
      fn(await this.prState(), async (next) => {
        const blob = serializePr(next);
        // Past the store's capacity nothing is saved: the caller answers with a sense code.
        if (this.store.capacity !== undefined && blob.length > this.store.capacity) return false;
        await this.store.save(blob);
        this.pr = next;
        return true;
      });
    return this.prUpdates.run(run);
  }

  private readonly prUpdates = new Serializer();

  /** Read the state from the store again on next use. */
  forgetPr(): void {
    this.pr = undefined;
    this.prLoading = undefined;
  }

  /** The loaded PR state, if any has been loaded (sync check on the hot path). */
  get prLoaded(): PrState | undefined {
    return this.pr;
  }

  addAttention(nexus: string, ua: UnitAttention): void {
    const list = this.attentions.get(nexus) ?? [];
    if (!list.some((u) => u.asc === ua.asc && u.ascq === ua.ascq)) list.push(ua);
    this.attentions.set(nexus, list);
  }

  /** What a write of these blocks must wait for (a COMPARE AND WRITE in progress over them), if anything. */
  atomicOver(lba: number, blocks: number): Promise<void> | undefined {
    const a = this.atomic;
    return a && lba < a.lba + a.blocks && a.lba < lba + blocks ? a.done : undefined;
  }

  async runAtomic<T>(lba: number, blocks: number, fn: () => Promise<T>): Promise<T> {
    const prev = this.atomicChain;
    let release!: () => void;
    const done = new Promise<void>((r) => (release = r));
    this.atomicChain = prev.then(() => done);
    await prev;
    this.atomic = { lba, blocks, done };
    try {
      return await fn();
    } finally {
      this.atomic = undefined;
      release();
    }
  }
}

/** Identity of the target the LUs belong to; VPD serials and NAA names derive from it. */
export interface ScsiTargetIdentity {
  iqn: string;
}

/**
 * NAA IEEE Registered Extended (type 6) name derived from the IQN and LUN, so it is the
 * same on both nodes of the pair (initiators see one device across a failover). We own no
 * IEEE company ID: the company-ID and vendor-specific fields are all hash-derived.
 */
export function naaFor(iqn: string, lun: number): Buffer {
  const h = createHash('sha256').update(`${iqn}/${lun}`).digest();
  const b = Buffer.alloc(16);
  h.copy(b, 0, 0, 16);
  b[0] = 0x60 | ((b[0] as number) & 0x0f);
  return b;
}

export function serialFor(iqn: string, lun: number): string {
  return createHash('sha256').update(`${iqn}/${lun}`).digest('hex').slice(0, 16);
}

/** The sense for a command whose device I/O failed. */
function ioFailure(err: unknown, access: Access): ScsiResult {
  if (err instanceof IoError) {
    if (err.code === 'out-of-range') return check(Sense.lbaOutOfRange);
    if (err.code === 'not-primary' || err.code === 'suspended') return check(Sense.notReadyTransitioning);
  }
  return check(access === 'write' ? Sense.writeError : Sense.mediumError);
}

interface Rw {
  lba: number;
  blocks: number;
  protect: number;
  fua: boolean;
}

function decodeRw(op: number, c: Buffer): Rw | undefined {
  if (!OPCODES.get(op)?.rw) return undefined;
  const b1 = c[1] as number;
  switch (cdbLength(op)) {
    case 6: {
      const blocks = c[4] as number;
      return { lba: c.readUIntBE(1, 3) & 0x1fffff, blocks: blocks === 0 ? 256 : blocks, protect: 0, fua: false };
    }
    case 10:
      return { lba: c.readUInt32BE(2), blocks: c.readUInt16BE(7), protect: b1 >> 5, fua: (b1 & 0x08) !== 0 };
    case 12:
      return { lba: c.readUInt32BE(2), blocks: c.readUInt32BE(6), protect: b1 >> 5, fua: (b1 & 0x08) !== 0 };
    default: {
      const lba = c.readBigUInt64BE(2);
      return { lba: lba > BigInt(Number.MAX_SAFE_INTEGER) ? Number.MAX_SAFE_INTEGER : Number(lba), blocks: c.readUInt32BE(10), protect: b1 >> 5, fua: (b1 & 0x08) !== 0 };
    }
  }
}

export class ScsiTarget {
  private readonly units: LogicalUnit[];

  /** PREEMPT AND ABORT: the transport aborts the preempted nexuses' tasks on that LUN. */
  onPreemptAbort: ((lun: number, nexuses: string[]) => void) | undefined;

  constructor(
    luns: LogicalUnitConfig[],
    private readonly identity: ScsiTargetIdentity,
  ) {
    this.units = luns.map((l, i) => new LogicalUnit(i, l.device, l.readOnly ?? false, l.reservations, serialFor(identity.iqn, i), naaFor(identity.iqn, i)));
  }

  get lunCount(): number {
    return this.units.length;
  }

  device(lun: number): BlockDevice | undefined {
    return this.units[lun]?.dev;
  }

  /** See BlockDevice.afterWrites; a LUN whose device cannot tell never calls done. */
  afterWrites(lun: number, done: () => void): void {
    this.units[lun]?.dev.afterWrites?.(done);
  }

  /** A new I_T nexus sees a reset unit attention on every LU (29/00). */
  nexusJoined(nexus: string): void {
    for (const u of this.units) {
      // Nobody was logged in to rely on the cached reservations, and the store may hold newer
      // ones: a target left running while this node was Secondary got its peer's changes there.
      if (u.attentions.size === 0) u.forgetPr();
      u.attentions.set(nexus, []);
      u.addAttention(nexus, { asc: 0x29, ascq: 0x00 });
    }
  }

  /** I_T nexus loss releases its SPC-2 reservation; persistent ones stay, by design. */
  nexusLost(nexus: string): void {
    for (const u of this.units) {
      if (u.reservedBy === nexus) u.reservedBy = undefined;
      u.attentions.delete(nexus);
    }
  }

  /** LOGICAL UNIT RESET / TARGET WARM RESET: SPC-2 reservations go, every nexus sees 29/00. */
  reset(lun?: number): void {
    for (const u of this.units) {
      if (lun !== undefined && u.lun !== lun) continue;
      u.reservedBy = undefined;
      for (const nexus of u.attentions.keys()) u.addAttention(nexus, { asc: 0x29, ascq: 0x00 });
    }
  }

  /**
   * Runs a command. What can be answered at once (CDB, LUN, unit attention, reservations) is
   * decided here synchronously, so that a READ or WRITE costs one promise, its command's.
   */
  execute(req: ScsiRequest): Promise<ScsiResult> {
    try {
      return this.admit(req);
    } catch (err) {
      return Promise.reject(err);
    }
  }

  private admit(req: ScsiRequest): Promise<ScsiResult> {
    const op = req.cdb[0] as number;
    if (req.cdb.length < cdbLength(op)) return Promise.resolve(check(Sense.invalidFieldInCdb));
    if (op === ScsiOp.ReportLuns) return Promise.resolve(this.reportLuns(req.cdb));
    const lu = this.units[req.lun];
    if (!lu) {
      if (op === ScsiOp.Inquiry) return Promise.resolve(this.inquiryNoLun(req.cdb));
      if (op === ScsiOp.RequestSense) return Promise.resolve(good(cut(senseFixed(Sense.lunNotSupported), req.cdb[4] as number)));
      return Promise.resolve(check(Sense.lunNotSupported));
    }
    const info = OPCODES.get(op);
    if (!info?.uaExempt) {
      const list = lu.attentions.get(req.nexus);
      const ua = list?.shift();
      if (ua) return Promise.resolve(check({ key: 0x6, asc: ua.asc, ascq: ua.ascq }));
    }
    if (lu.reservedBy !== undefined && lu.reservedBy !== req.nexus && !info?.allowedUnderReserve6) return Promise.resolve(conflict());
    const access = accessOf(op, req.cdb);
    if (access === 'other' || lu.prLoaded) return this.run(lu, op, req, access);
    return lu.prState().then(() => this.run(lu, op, req, access));
  }

  /** The command once admitted: persistent reservations checked, device failures mapped to sense. */
  private run(lu: LogicalUnit, op: number, req: ScsiRequest, access: Access): Promise<ScsiResult> {
    if (access !== 'other' && prConflict(lu.prLoaded as PrState, req.nexus, access)) return Promise.resolve(conflict());
    try {
      return Promise.resolve(this.dispatch(lu, op, req)).catch((err: unknown) => ioFailure(err, access));
    } catch (err) {
      return Promise.resolve(ioFailure(err, access));
    }
  }

  private dispatch(lu: LogicalUnit, op: number, req: ScsiRequest): ScsiResult | Promise<ScsiResult> {
    const c = req.cdb;
    switch (op) {
      case ScsiOp.TestUnitReady:
        return good();
      case ScsiOp.RequestSense:
        return this.requestSense(lu, req);
      case ScsiOp.Inquiry:
        return this.inquiry(lu, c);
      case ScsiOp.ReadCapacity10:
        return this.readCapacity10(lu, c);
      case ScsiOp.ServiceActionIn16: {
        const sa = serviceActionOf(c);
        if (sa === ServiceAction.ReadCapacity16) return this.readCapacity16(lu, c);
        if (sa === ServiceAction.GetLbaStatus) return this.getLbaStatus(lu, c);
        return check(Sense.invalidFieldInCdb);
      }
      case ScsiOp.ModeSense6:
      case ScsiOp.ModeSense10:
        return this.modeSense(lu, c, op === ScsiOp.ModeSense10);
      case ScsiOp.ModeSelect6:
      case ScsiOp.ModeSelect10:
        return this.modeSelect(c, req.dataOut, op === ScsiOp.ModeSelect10);
      case ScsiOp.Read6:
      case ScsiOp.Read10:
      case ScsiOp.Read12:
      case ScsiOp.Read16:
        return this.read(lu, op, c);
      case ScsiOp.Write6:
      case ScsiOp.Write10:
      case ScsiOp.Write12:
      case ScsiOp.Write16:
      case ScsiOp.WriteAndVerify10:
      case ScsiOp.WriteAndVerify12:
      case ScsiOp.WriteAndVerify16:
        return this.write(lu, op, c, req.dataOut);
      case ScsiOp.Verify10:
      case ScsiOp.Verify12:
      case ScsiOp.Verify16:
        return this.verify(lu, op, c, req.dataOut);
      case ScsiOp.SynchronizeCache10:
      case ScsiOp.SynchronizeCache16:
        return this.synchronizeCache(lu, op, c);
      case ScsiOp.PreFetch10:
      case ScsiOp.PreFetch16:
        return this.prefetch(lu, op, c);
      case ScsiOp.Unmap:
        return this.unmap(lu, c, req.dataOut);
      case ScsiOp.WriteSame10:
      case ScsiOp.WriteSame16:
        return this.writeSame(lu, op, c, req.dataOut);
      case ScsiOp.CompareAndWrite:
        return this.compareAndWrite(lu, c, req.dataOut);
      case ScsiOp.OrWrite16:
        return this.orWrite(lu, c, req.dataOut);
      case ScsiOp.PersistentReserveIn:
        return this.prIn(lu, c);
      case ScsiOp.PersistentReserveOut:
        return this.prOut(lu, c, req);
      case ScsiOp.Reserve6:
      case ScsiOp.Reserve10:
        return this.reserve6(lu, req.nexus);
      case ScsiOp.Release6:
      case ScsiOp.Release10:
        if (lu.reservedBy === req.nexus) lu.reservedBy = undefined;
        return good();
      case ScsiOp.StartStopUnit: // a volume is always spinning; only a load/eject request is refused
        return (c[4] as number) & 0x02 ? check(Sense.invalidFieldInCdb) : good();
      case ScsiOp.PreventAllowMediumRemoval: // nothing to remove
        return good();
      case ScsiOp.ReadDefectData10: {
        const b = Buffer.alloc(4);
        b[1] = (c[2] as number) & 0x1f;
        return good(cut(b, c.readUInt16BE(7)));
      }
      case ScsiOp.ReadDefectData12: {
        const b = Buffer.alloc(8);
        b[1] = (c[1] as number) & 0x1f;
        return good(cut(b, c.readUInt32BE(6)));
      }
      case ScsiOp.MaintenanceIn:
        if (serviceActionOf(c) === ServiceAction.ReportSupportedOperationCodes) return this.reportSupportedOpcodes(c);
        return check(Sense.invalidFieldInCdb);
      default:
        return check(Sense.invalidOpcode);
    }
  }

  private reserve6(lu: LogicalUnit, nexus: string): ScsiResult {
    if (lu.reservedBy !== undefined && lu.reservedBy !== nexus) return conflict();
    const pr = lu.prLoaded;
    if (pr && (pr.reservation || Object.keys(pr.registrations).length > 0)) return conflict();
    lu.reservedBy = nexus;
    return good();
  }

  private requestSense(lu: LogicalUnit, req: ScsiRequest): ScsiResult {
    const alloc = req.cdb[4] as number;
    const ua = lu.attentions.get(req.nexus)?.shift();
    const s = ua ? senseFixed({ key: 0x6, asc: ua.asc, ascq: ua.ascq }) : senseFixed(Sense.noSense);
    return good(cut(s, alloc));
  }

  private reportLuns(c: Buffer): ScsiResult {
    const alloc = c.readUInt32BE(6);
    if ((c[2] as number) > 2) return check(Sense.invalidFieldInCdb);
    if (alloc < 16) return check(Sense.invalidFieldInCdb);
    const b = Buffer.alloc(8 + this.units.length * 8);
    b.writeUInt32BE(this.units.length * 8, 0);
    this.units.forEach((u) => encodeLun(u.lun, b, 8 + u.lun * 8));
    return good(cut(b, alloc));
  }

  private inquiryNoLun(c: Buffer): ScsiResult {
    if ((c[1] as number) & 0x01) return check(Sense.lunNotSupported);
    const b = Buffer.alloc(36);
    b[0] = 0x7f; // peripheral qualifier 011b: no logical unit here
    b[2] = 0x06;
    b[3] = 0x12;
    b[4] = 31;
    return good(cut(b, c.readUInt16BE(3)));
  }

  private inquiry(lu: LogicalUnit, c: Buffer): ScsiResult {
    const evpd = (c[1] as number) & 0x01;
    const page = c[2] as number;
    const alloc = c.readUInt16BE(3);
    if ((c[1] as number) & 0x02) return check(Sense.invalidFieldInCdb); // CmdDt is obsolete
    if (!evpd) {
      if (page !== 0) return check(Sense.invalidFieldInCdb);
      const b = Buffer.alloc(96);
      b[0] = 0x00; // direct access block device
      b[2] = 0x06; // SPC-4
      b[3] = 0x12; // HiSup, response data format 2
      b[4] = b.length - 5;
      b[7] = 0x02; // CmdQue
      b.write(padAscii(VENDOR, 8), 8, 'ascii');
      b.write(padAscii(PRODUCT, 16), 16, 'ascii');
      b.write(padAscii(REVISION, 4), 32, 'ascii');
      // Version descriptors: SAM-5, iSCSI, SPC-4, SBC-3.
      [0x00a0, 0x0960, 0x0460, 0x04c0].forEach((v, i) => b.writeUInt16BE(v, 58 + i * 2));
      return good(cut(b, alloc));
    }
    const body = this.vpd(lu, page);
    if (!body) return check(Sense.invalidFieldInCdb);
    const b = Buffer.alloc(4 + body.length);
    b[1] = page;
    b.writeUInt16BE(body.length, 2);
    body.copy(b, 4);
    return good(cut(b, alloc));
  }

  private vpd(lu: LogicalUnit, page: number): Buffer | undefined {
    switch (page) {
      case 0x00:
        return Buffer.from([0x00, 0x80, 0x83, 0xb0, 0xb1, 0xb2]);
      case 0x80:
        return Buffer.from(lu.serial, 'ascii');
      case 0x83: {
        const t10 = Buffer.from(padAscii(VENDOR, 8) + lu.serial, 'ascii');
        const port = Buffer.alloc(4);
        port.writeUInt16BE(1, 2);
        const iscsiName = Buffer.from(`${this.identity.iqn},t,0x0001\0`, 'utf8');
        const nameLen = (iscsiName.length + 3) & ~3;
        const name = Buffer.alloc(nameLen);
        iscsiName.copy(name);
        return Buffer.concat([
          designator(0x02, 0x01, 0x00, t10), // T10 vendor ID, ASCII, logical unit
          designator(0x01, 0x03, 0x00, lu.naa), // NAA, binary, logical unit
          designator(0x51, 0x04, 0x90, port), // relative target port, iSCSI, PIV, target port
          designator(0x53, 0x08, 0x90, name), // SCSI name string of the target port, UTF-8
        ]);
      }
      case 0xb0: {
        const b = Buffer.alloc(0x3c);
        b[1] = MAX_COMPARE_WRITE_BLOCKS;
        b.writeUInt16BE(OPTIMAL_UNMAP_GRANULARITY, 2); // optimal transfer length granularity
        b.writeUInt32BE(MAX_TRANSFER_BLOCKS, 4);
        b.writeUInt32BE(2048, 8); // optimal transfer length: 1 MiB
        b.writeUInt32BE(MAX_TRANSFER_BLOCKS, 12); // maximum prefetch length
        b.writeUInt32BE(MAX_UNMAP_BLOCKS, 16);
        b.writeUInt32BE(MAX_UNMAP_DESCRIPTORS, 20);
        b.writeUInt32BE(OPTIMAL_UNMAP_GRANULARITY, 24);
        b.writeUInt32BE(0, 28);
        b.writeBigUInt64BE(BigInt(MAX_WRITE_SAME_BLOCKS), 32);
        return b;
      }
      case 0xb1: {
        const b = Buffer.alloc(0x3c);
        b.writeUInt16BE(1, 0); // non-rotating medium
        return b;
      }
      case 0xb2: {
        const b = Buffer.alloc(4);
        b[1] = 0x80 | 0x40 | 0x20 | 0x04; // LBPU, LBPWS, LBPWS10, LBPRZ
        b[2] = 0x02; // thin provisioned
        return b;
      }
      default:
        return undefined;
    }
  }

  private readCapacity10(lu: LogicalUnit, c: Buffer): ScsiResult {
    if (!((c[8] as number) & 0x01) && c.readUInt32BE(2) !== 0) return check(Sense.invalidFieldInCdb);
    const b = Buffer.alloc(8);
    b.writeUInt32BE(Math.min(lu.blocks - 1, 0xffffffff), 0);
    b.writeUInt32BE(lu.blockSize, 4);
    return good(b);
  }

  private readCapacity16(lu: LogicalUnit, c: Buffer): ScsiResult {
    const b = Buffer.alloc(32);
    b.writeBigUInt64BE(BigInt(lu.blocks - 1), 0);
    b.writeUInt32BE(lu.blockSize, 8);
    b[14] = 0x80 | 0x40; // LBPME, LBPRZ
    return good(cut(b, c.readUInt32BE(10)));
  }

  private modeSense(lu: LogicalUnit, c: Buffer, ten: boolean): ScsiResult {
    const dbd = ((c[1] as number) & 0x08) !== 0;
    const llbaa = ten && ((c[1] as number) & 0x10) !== 0;
    const pc = (c[2] as number) >> 6;
    const page = (c[2] as number) & 0x3f;
    const subpage = c[3] as number;
    const alloc = ten ? c.readUInt16BE(7) : (c[4] as number);
    if (pc === 3) return check(Sense.savingParametersNotSupported);
    const pages: Buffer[] = [];
    const want = (p: number): boolean => page === p || page === 0x3f;
    if (page !== 0x3f && subpage !== 0) return check(Sense.invalidFieldInCdb);
    if (page === 0x3f && subpage !== 0 && subpage !== 0xff) return check(Sense.invalidFieldInCdb);
    if (want(0x01)) {
      const p = Buffer.alloc(12);
      p[0] = 0x01;
      p[1] = 0x0a;
      if (pc !== 1) p[2] = 0x80; // AWRE
      pages.push(p);
    }
    if (want(0x08)) {
      const p = Buffer.alloc(20);
      p[0] = 0x08;
      p[1] = 0x12;
      if (pc !== 1) p[2] = 0x04; // WCE: writes are acknowledged before a flush makes them stable
      pages.push(p);
    }
    if (want(0x0a)) {
      const p = Buffer.alloc(12);
      p[0] = 0x0a;
      p[1] = 0x0a;
      if (pc !== 1) {
        p[2] = 0x02; // GLTSD
        p[3] = 0x10; // QAM: unrestricted reordering allowed
        p.writeUInt16BE(0xffff, 10); // busy timeout period: unlimited
      }
      pages.push(p);
    }
    if (want(0x1c)) {
      const p = Buffer.alloc(12);
      p[0] = 0x1c;
      p[1] = 0x0a;
      pages.push(p);
    }
    if (pages.length === 0) return check(Sense.invalidFieldInCdb);
    let desc = Buffer.alloc(0);
    if (!dbd) {
      if (llbaa) {
        desc = Buffer.alloc(16);
        desc.writeBigUInt64BE(BigInt(lu.blocks), 0);
        desc.writeUInt32BE(lu.blockSize, 12);
      } else {
        desc = Buffer.alloc(8);
        desc.writeUInt32BE(Math.min(lu.blocks, 0xffffffff), 0);
        desc.writeUInt32BE(lu.blockSize & 0xffffff, 4);
      }
    }
    const deviceSpecific = (lu.readOnly ? 0x80 : 0) | 0x10; // WP, DPOFUA
    const body = Buffer.concat([desc, ...pages]);
    if (ten) {
      const h = Buffer.alloc(8);
      h.writeUInt16BE(6 + body.length, 0);
      h[3] = deviceSpecific;
      h[4] = llbaa && !dbd ? 0x01 : 0;
      h.writeUInt16BE(desc.length, 6);
      return good(cut(Buffer.concat([h, body]), alloc));
    }
    const h = Buffer.alloc(4);
    h[0] = Math.min(255, 3 + body.length);
    h[2] = deviceSpecific;
    h[3] = desc.length;
    return good(cut(Buffer.concat([h, body]), alloc));
  }

  private modeSelect(c: Buffer, data: Buffer, ten: boolean): ScsiResult {
    const len = ten ? c.readUInt16BE(7) : (c[4] as number);
    if ((c[1] as number) & 0x01) return check(Sense.invalidFieldInCdb); // SP: nothing is saved
    if (data.length < len) return { ...check(Sense.parameterListLengthError), dataOutExpected: len };
    // The caching and control pages are accepted; their only fields we honour are fixed.
    return { status: Status.Good, dataOutExpected: len };
  }

  private rangeError(lu: LogicalUnit, lba: number, blocks: number): ScsiResult | undefined {
    if (lba > lu.blocks || lba + blocks > lu.blocks) return check(Sense.lbaOutOfRange);
    return undefined;
  }

  private async read(lu: LogicalUnit, op: number, c: Buffer): Promise<ScsiResult> {
    const rw = decodeRw(op, c) as Rw;
    if (rw.protect) return check(Sense.invalidFieldInCdb);
    const bad = this.rangeError(lu, rw.lba, rw.blocks);
    if (bad) return bad;
    if (rw.blocks > MAX_TRANSFER_BLOCKS) return check(Sense.invalidFieldInCdb);
    if (rw.blocks === 0) return good();
    return good(await lu.dev.read(rw.lba * lu.blockSize, rw.blocks * lu.blockSize));
  }

  private async write(lu: LogicalUnit, op: number, c: Buffer, data: Buffer): Promise<ScsiResult> {
    const rw = decodeRw(op, c) as Rw;
    const need = rw.blocks * lu.blockSize;
    if (lu.readOnly) return { ...check(Sense.writeProtected), dataOutExpected: need };
    if (rw.protect) return { ...check(Sense.invalidFieldInCdb), dataOutExpected: need };
    const bad = this.rangeError(lu, rw.lba, rw.blocks);
    if (bad) return { ...bad, dataOutExpected: need };
    if (rw.blocks > MAX_TRANSFER_BLOCKS) return { ...check(Sense.invalidFieldInCdb), dataOutExpected: need };
    // EDTL short of the CDB: write the whole blocks that did arrive (RFC 7143 §11.4.5.1 overflow).
    const bytes = data.length >= need ? need : data.length - (data.length % lu.blockSize);
    if (bytes === 0) return { status: Status.Good, dataOutExpected: need };
    const atomic = lu.atomicOver(rw.lba, bytes / lu.blockSize);
    if (atomic) await atomic;
    const payload = data.length === bytes ? data : data.subarray(0, bytes);
    await lu.dev.write(rw.lba * lu.blockSize, payload, rw.fua ? { fua: true } : undefined);
    return { status: Status.Good, dataOutExpected: need };
  }

  private async verify(lu: LogicalUnit, op: number, c: Buffer, data: Buffer): Promise<ScsiResult> {
    const rw = decodeRw(op, c) as Rw;
    const bytchk = ((c[1] as number) >> 1) & 0x03;
    const need = bytchk === 0 ? 0 : bytchk === 3 ? lu.blockSize : rw.blocks * lu.blockSize;
    if (rw.protect) return { ...check(Sense.invalidFieldInCdb), dataOutExpected: need };
    if (bytchk === 2) return { ...check(Sense.invalidFieldInCdb), dataOutExpected: need };
    const bad = this.rangeError(lu, rw.lba, rw.blocks);
    if (bad) return { ...bad, dataOutExpected: need };
    if (rw.blocks > MAX_TRANSFER_BLOCKS) return { ...check(Sense.invalidFieldInCdb), dataOutExpected: need };
    if (bytchk === 0 || rw.blocks === 0) return { status: Status.Good, dataOutExpected: need };
    if (data.length < need) return { ...check(Sense.invalidFieldInInformationUnit), dataOutExpected: need };
    const medium = await lu.dev.read(rw.lba * lu.blockSize, rw.blocks * lu.blockSize);
    for (let i = 0; i < medium.length; i++) {
      const want = bytchk === 3 ? data[i % lu.blockSize] : data[i];
      if (medium[i] !== want) return { ...check({ ...Sense.miscompare, info: i }), dataOutExpected: need };
    }
    return { status: Status.Good, dataOutExpected: need };
  }

  private async synchronizeCache(lu: LogicalUnit, op: number, c: Buffer): Promise<ScsiResult> {
    const rw = decodeRw(op, c) as Rw;
    const bad = this.rangeError(lu, rw.lba, rw.blocks);
    if (bad) return bad;
    await lu.dev.flush();
    return good();
  }

  private prefetch(lu: LogicalUnit, op: number, c: Buffer): ScsiResult {
    const rw = decodeRw(op, c) as Rw;
    return this.rangeError(lu, rw.lba, rw.blocks) ?? good();
  }

  private async unmap(lu: LogicalUnit, c: Buffer, data: Buffer): Promise<ScsiResult> {
    const len = c.readUInt16BE(7);
    if (lu.readOnly) return { ...check(Sense.writeProtected), dataOutExpected: len };
    if ((c[1] as number) & 0x01) return { ...check(Sense.invalidFieldInCdb), dataOutExpected: len }; // ANCHOR
    if (len === 0) return { status: Status.Good, dataOutExpected: 0 };
    if (len < 8 || data.length < len) return { ...check(Sense.parameterListLengthError), dataOutExpected: len };
    const descLen = Math.min(data.readUInt16BE(2), len - 8);
    const count = Math.floor(descLen / 16);
    if (count > MAX_UNMAP_DESCRIPTORS) return { ...check(Sense.invalidFieldInParameterList), dataOutExpected: len };
    const ranges: Array<[number, number]> = [];
    for (let i = 0; i < count; i++) {
      const off = 8 + i * 16;
      const lbaBig = data.readBigUInt64BE(off);
      const blocks = data.readUInt32BE(off + 8);
      const lba = lbaBig > BigInt(Number.MAX_SAFE_INTEGER) ? Number.MAX_SAFE_INTEGER : Number(lbaBig);
      if (lba + blocks > lu.blocks) return { ...check(Sense.lbaOutOfRange), dataOutExpected: len };
      if (blocks > MAX_UNMAP_BLOCKS) return { ...check(Sense.invalidFieldInParameterList), dataOutExpected: len };
      const last = ranges[ranges.length - 1];
      if (last && last[0] + last[1] === lba) last[1] += blocks;
      else if (blocks > 0) ranges.push([lba, blocks]);
    }
    for (const [lba, blocks] of ranges) {
      await lu.atomicOver(lba, blocks);
      await lu.dev.discard(lba * lu.blockSize, blocks * lu.blockSize);
    }
    return { status: Status.Good, dataOutExpected: len };
  }

  private async writeSame(lu: LogicalUnit, op: number, c: Buffer, data: Buffer): Promise<ScsiResult> {
    const b1 = c[1] as number;
    const ndob = op === ScsiOp.WriteSame16 && (b1 & 0x01) !== 0;
    const need = ndob ? 0 : lu.blockSize;
    const fail = (s: SenseInfo): ScsiResult => ({ ...check(s), dataOutExpected: need });
    if (lu.readOnly) return fail(Sense.writeProtected);
    if (b1 >> 5 || b1 & 0x10) return fail(Sense.invalidFieldInCdb); // WRPROTECT, ANCHOR
    let lba: number;
    let blocks: number;
    if (op === ScsiOp.WriteSame10) {
      lba = c.readUInt32BE(2);
      blocks = c.readUInt16BE(7);
    } else {
      const big = c.readBigUInt64BE(2);
      lba = big > BigInt(Number.MAX_SAFE_INTEGER) ? Number.MAX_SAFE_INTEGER : Number(big);
      blocks = c.readUInt32BE(10);
    }
    if (lba > lu.blocks) return fail(Sense.lbaOutOfRange);
    // WSNZ=0 in the block limits page: zero blocks means "through the last LBA".
    if (blocks === 0) blocks = lu.blocks - lba;
    if (lba + blocks > lu.blocks) return fail(Sense.lbaOutOfRange);
    if (blocks > MAX_WRITE_SAME_BLOCKS) return fail(Sense.invalidFieldInCdb);
    if (data.length !== need) return fail(Sense.invalidFieldInCdb);
    const block = ndob ? Buffer.alloc(lu.blockSize) : data.subarray(0, lu.blockSize);
    await lu.atomicOver(lba, blocks);
    // UNMAP=1: deallocate whatever the data block holds; LBPRZ=1 makes reads return zeros.
    if (b1 & 0x08) {
      await lu.dev.discard(lba * lu.blockSize, blocks * lu.blockSize);
      return { status: Status.Good, dataOutExpected: need };
    }
    const chunkBlocks = Math.min(blocks, 2048);
    const chunk = Buffer.allocUnsafe(chunkBlocks * lu.blockSize);
    for (let i = 0; i < chunkBlocks; i++) block.copy(chunk, i * lu.blockSize);
    for (let done = 0; done < blocks; done += chunkBlocks) {
      const n = Math.min(chunkBlocks, blocks - done);
      await lu.dev.write((lba + done) * lu.blockSize, chunk.subarray(0, n * lu.blockSize));
    }
    return { status: Status.Good, dataOutExpected: need };
  }

  private async compareAndWrite(lu: LogicalUnit, c: Buffer, data: Buffer): Promise<ScsiResult> {
    const b1 = c[1] as number;
    const big = c.readBigUInt64BE(2);
    const lba = big > BigInt(Number.MAX_SAFE_INTEGER) ? Number.MAX_SAFE_INTEGER : Number(big);
    const blocks = c[13] as number;
    const half = blocks * lu.blockSize;
    const need = half * 2;
    const fail = (s: SenseInfo): ScsiResult => ({ ...check(s), dataOutExpected: need });
    if (lu.readOnly) return fail(Sense.writeProtected);
    if (b1 >> 5) return fail(Sense.invalidFieldInCdb);
    if (blocks > MAX_COMPARE_WRITE_BLOCKS) return fail(Sense.invalidFieldInCdb);
    if (lba + blocks > lu.blocks) return fail(Sense.lbaOutOfRange);
    // A data-out that does not match the CDB (e.g. a block count that wrapped to 0) is refused.
    if (data.length !== need) return fail(Sense.invalidFieldInCdb);
    if (blocks === 0) return { status: Status.Good, dataOutExpected: 0 };
    return lu.runAtomic(lba, blocks, async () => {
      const medium = await lu.dev.read(lba * lu.blockSize, half);
      for (let i = 0; i < half; i++) {
        if (medium[i] !== data[i]) return fail({ ...Sense.miscompare, info: i });
      }
      await lu.dev.write(lba * lu.blockSize, data.subarray(half, need), b1 & 0x08 ? { fua: true } : undefined);
      return { status: Status.Good, dataOutExpected: need };
    });
  }

  private async orWrite(lu: LogicalUnit, c: Buffer, data: Buffer): Promise<ScsiResult> {
    const rw = decodeRw(0x8b, c) as Rw;
    const need = rw.blocks * lu.blockSize;
    const fail = (s: SenseInfo): ScsiResult => ({ ...check(s), dataOutExpected: need });
    if (lu.readOnly) return fail(Sense.writeProtected);
    if (rw.protect) return fail(Sense.invalidFieldInCdb);
    const bad = this.rangeError(lu, rw.lba, rw.blocks);
    if (bad) return { ...bad, dataOutExpected: need };
    if (rw.blocks > MAX_TRANSFER_BLOCKS) return fail(Sense.invalidFieldInCdb);
    if (need === 0) return { status: Status.Good, dataOutExpected: 0 };
    if (data.length < need) return fail(Sense.invalidFieldInInformationUnit);
    return lu.runAtomic(rw.lba, rw.blocks, async () => {
      const medium = await lu.dev.read(rw.lba * lu.blockSize, need);
      for (let i = 0; i < need; i++) medium[i] = (medium[i] as number) | (data[i] as number);
      await lu.dev.write(rw.lba * lu.blockSize, medium, rw.fua ? { fua: true } : undefined);
      return { status: Status.Good, dataOutExpected: need };
    });
  }

  private async getLbaStatus(lu: LogicalUnit, c: Buffer): Promise<ScsiResult> {
    const big = c.readBigUInt64BE(2);
    const alloc = c.readUInt32BE(10);
    if (big >= BigInt(lu.blocks)) return check(Sense.lbaOutOfRange);
    const lba = Number(big);
    const maxDescriptors = Math.max(1, Math.floor((Math.max(alloc, 24) - 8) / 16));
    const span = Math.min(lu.blocks - lba, MAX_UNMAP_BLOCKS);
    let extents: Array<{ offset: number; length: number; mapped: boolean }>;
    if (lu.dev.mapped) extents = await lu.dev.mapped(lba * lu.blockSize, span * lu.blockSize);
    else extents = [{ offset: lba * lu.blockSize, length: span * lu.blockSize, mapped: true }];
    const descs = extents.slice(0, maxDescriptors);
    const b = Buffer.alloc(8 + descs.length * 16);
    b.writeUInt32BE(4 + descs.length * 16, 0);
    descs.forEach((e, i) => {
      const first = Math.floor(e.offset / lu.blockSize);
      const end = Math.ceil((e.offset + e.length) / lu.blockSize);
      b.writeBigUInt64BE(BigInt(first), 8 + i * 16);
      b.writeUInt32BE(end - first, 16 + i * 16);
      b[20 + i * 16] = e.mapped ? 0 : 1;
    });
    return good(cut(b, alloc));
  }

  private async prIn(lu: LogicalUnit, c: Buffer): Promise<ScsiResult> {
    const sa = (c[1] as number) & 0x1f;
    const alloc = c.readUInt16BE(7);
    const s = await lu.prState();
    switch (sa) {
      case 0:
        return good(readKeys(s, alloc));
      case 1:
        return good(readReservation(s, alloc));
      case 2:
        return good(reportCapabilities(alloc));
      case 3:
        return good(readFullStatus(s, alloc));
      default:
        return check(Sense.invalidFieldInCdb);
    }
  }

  private async prOut(lu: LogicalUnit, c: Buffer, req: ScsiRequest): Promise<ScsiResult> {
    const sa = (c[1] as number) & 0x1f;
    const len = c.readUInt32BE(5);
    const fail = (s: SenseInfo): ScsiResult => ({ ...check(s), dataOutExpected: len });
    if (sa > 6) return fail(Sense.invalidFieldInCdb);
    if (len !== 24) return fail(Sense.parameterListLengthError);
    if (req.dataOut.length < 24) return fail(Sense.parameterListLengthError);
    if (lu.reservedBy !== undefined && lu.reservedBy !== req.nexus) return { status: Status.ReservationConflict, dataOutExpected: len };
    const p = req.dataOut;
    // SPEC_I_PT is not offered. ALL_TG_PT means nothing with one target port, and APTPL is
    // what we do anyway: the state is persisted (and replicated) through the store.
    if ((p[20] as number) & 0x08) return fail(Sense.invalidFieldInParameterList);
    return lu.updatePr(async (s, save) => {
      const out = prOut(s, {
        nexus: req.nexus,
        action: sa,
        scope: (c[2] as number) >> 4,
        type: (c[2] as number) & 0x0f,
        key: p.readBigUInt64BE(0),
        saKey: p.readBigUInt64BE(8),
      });
      switch (out.kind) {
        case 'conflict':
          return { status: Status.ReservationConflict, dataOutExpected: len };
        case 'invalid-field-cdb':
          return fail(Sense.invalidFieldInCdb);
        case 'invalid-field-param':
          return fail(Sense.invalidFieldInParameterList);
        case 'invalid-release':
          return fail(Sense.invalidReleaseOfPr);
        case 'ok':
          if (out.changed && !(await save(out.state))) return fail(Sense.insufficientRegistrationResources);
          for (const ua of out.unitAttentions) if (lu.attentions.has(ua.nexus)) lu.addAttention(ua.nexus, { asc: ua.asc, ascq: ua.ascq });
          if (sa === 5 && out.preempted.length > 0) this.onPreemptAbort?.(lu.lun, out.preempted);
          return { status: Status.Good, dataOutExpected: len };
      }
    });
  }

  private reportSupportedOpcodes(c: Buffer): ScsiResult {
    const options = (c[2] as number) & 0x07;
    const rctd = ((c[2] as number) & 0x80) !== 0;
    const reqOp = c[3] as number;
    const reqSa = c.readUInt16BE(4);
    const alloc = c.readUInt32BE(6);
    const timeouts = (): Buffer => {
      const t = Buffer.alloc(12);
      t.writeUInt16BE(0x0a, 0);
      return t;
    };
    if (options === 0) {
      const descs = SUPPORTED.map(([op, sa]) => {
        const d = Buffer.alloc(rctd ? 20 : 8);
        d[0] = op;
        if (sa !== undefined) {
          d.writeUInt16BE(sa, 2);
          d[5] = 0x01;
        }
        if (rctd) {
          d[5] = (d[5] as number) | 0x02;
          timeouts().copy(d, 8);
        }
        d.writeUInt16BE(cdbLength(op), 6);
        return d;
      });
      const body = Buffer.concat(descs);
      const h = Buffer.alloc(4);
      h.writeUInt32BE(body.length, 0);
      return good(cut(Buffer.concat([h, body]), alloc));
    }
    if (options !== 1 && options !== 2) return check(Sense.invalidFieldInCdb);
    const hasSa = SUPPORTED.some(([op, sa]) => op === reqOp && sa !== undefined);
    if (options === 1 && hasSa) return check(Sense.invalidFieldInCdb);
    if (options === 2 && !hasSa && SUPPORTED.some(([op]) => op === reqOp)) return check(Sense.invalidFieldInCdb);
    const found = SUPPORTED.some(([op, sa]) => op === reqOp && (options === 1 || sa === reqSa));
    const len = cdbLength(reqOp);
    const b = Buffer.alloc(4 + (found ? len : 0) + (rctd && found ? 12 : 0));
    b[1] = (found ? 0x03 : 0x01) | (rctd && found ? 0x80 : 0);
    if (found) {
      b.writeUInt16BE(len, 2);
      const usage = Buffer.alloc(len, 0xff);
      usage[0] = reqOp;
      if (options === 2) {
        usage[1] = 0xe0 | (reqSa & 0x1f);
      }
      usage[len - 1] = 0x04; // control byte: NACA only
      usage.copy(b, 4);
      if (rctd) timeouts().copy(b, 4 + len);
    }
    return good(cut(b, alloc));
  }
}

function designator(protoCodeSet: number, type: number, assocPiv: number, value: Buffer): Buffer {
  const d = Buffer.alloc(4 + value.length);
  d[0] = protoCodeSet;
  d[1] = assocPiv | type;
  d[3] = value.length;
  value.copy(d, 4);
  return d;
}
