// A small iSCSI initiator for tests: the parts libiscsi's tools never exercise (CRC32C
// digests, mutual CHAP, task management, NOP timing) plus raw PDU injection for fuzzing.
// It builds request PDUs by hand; only the receive framing is shared with the target.
import { createConnection, type Socket } from 'node:net';
import { chapResponse, decodeBinary, encodeHex } from '../../agent/iscsi/chap.js';
import { BHS_LENGTH, framePieces, Op, PduFramer, type DigestSettings, type RawPdu } from '../../agent/iscsi/pdu.js';
import { encodeText, parseText, type KeyValues } from '../../agent/iscsi/text.js';

export interface InitiatorOptions {
  port: number;
  host?: string;
  /** The source address to connect from (another loopback address looks like another client). */
  localAddress?: string;
  target: string;
  initiatorName?: string;
  isid?: Buffer;
  headerDigest?: boolean;
  dataDigest?: boolean;
  chap?: { user: string; secret: string; targetUser?: string; targetSecret?: string };
  /** Our MaxRecvDataSegmentLength. */
  maxRecv?: number;
  extraKeys?: KeyValues;
  /** Give up connecting after this long (the socket is destroyed); default: the kernel's SYN retries. */
  connectTimeoutMs?: number;
}

export interface CommandResult {
  status: number;
  sense?: Buffer;
  data: Buffer;
  flags: number;
  residual: number;
  dataInPdus: number;
}

type Waiter = (pdu: RawPdu) => void;

export class LoginError extends Error {
  constructor(readonly status: number) {
    super(`login failed with status 0x${status.toString(16).padStart(4, '0')}`);
  }
}

export class TestInitiator {
  private readonly framer = new PduFramer(16 << 20);
  private digests: DigestSettings = { header: false, data: false };
  private itt = 1;
  cmdSN = 1;
  expStatSN = 0;
  private readonly waiters = new Map<number, Waiter>();
  private readonly dataIn = new Map<number, Buffer[]>();
  private readonly outData = new Map<number, Buffer>();
  readonly unsolicited: RawPdu[] = [];
  readonly rejects: RawPdu[] = [];
  closed = false;
  tsih = 0;
  /** Answer the target's NOP-In pings (on by default). */
  answerPings = true;
  targetMaxRecv = 8192;

  private constructor(
    readonly socket: Socket,
    readonly opts: InitiatorOptions,
  ) {
    socket.on('data', (c: Buffer) => this.onData(c));
    socket.on('close', () => {
      this.closed = true;
    });
    socket.on('error', () => {});
  }

  static async connect(opts: InitiatorOptions): Promise<TestInitiator> {
    const socket = createConnection({ host: opts.host ?? '127.0.0.1', port: opts.port, ...(opts.localAddress ? { localAddress: opts.localAddress } : {}) });
    await new Promise<void>((resolve, reject) => {
      const timer = opts.connectTimeoutMs === undefined ? undefined : setTimeout(() => {
        socket.destroy();
        reject(new Error(`connect to ${opts.host ?? '127.0.0.1'}:${opts.port} timed out after ${opts.connectTimeoutMs} ms`));
      }, opts.connectTimeoutMs);
      socket.once('connect', () => {
        clearTimeout(timer);
        resolve();
      });
      socket.once('error', (e) => {
        clearTimeout(timer);
        reject(e);
      });
    });
    socket.setNoDelay(true);
    return new TestInitiator(socket, opts);
  }

  static async login(opts: InitiatorOptions): Promise<TestInitiator> {
    const i = await TestInitiator.connect(opts);
    try {
      await i.doLogin();
    } catch (e) {
      i.close();
      throw e;
    }
    return i;
  }

  close(): void {
    this.socket.destroy();
  }

  /** Resolves when the socket is closed by the target (or after ms, with false). */
  waitClosed(ms: number): Promise<boolean> {
    if (this.closed) return Promise.resolve(true);
    return new Promise((resolve) => {
      const t = setTimeout(() => resolve(false), ms);
      this.socket.once('close', () => {
        clearTimeout(t);
        resolve(true);
      });
    });
  }

  private onData(chunk: Buffer): void {
    for (const ev of this.framer.push(chunk)) {
      if (ev.kind !== 'pdu') throw new Error(`initiator framing: ${ev.kind}`);
      this.onPdu(ev.pdu);
    }
  }

  private onPdu(p: RawPdu): void {
    const op = (p.bhs[0] as number) & 0x3f;
    const itt = p.bhs.readUInt32BE(16);
    if (op !== Op.DataIn || ((p.bhs[1] as number) & 0x01) !== 0) {
      const statSN = p.bhs.readUInt32BE(24);
      if (op !== Op.R2T && op !== Op.DataIn) this.expStatSN = (statSN + 1) >>> 0;
      else if (op === Op.DataIn) this.expStatSN = (statSN + 1) >>> 0;
    }
    switch (op) {
      case Op.DataIn: {
        const list = this.dataIn.get(itt) ?? [];
        list.push(Buffer.from(p.data));
        this.dataIn.set(itt, list);
        if (((p.bhs[1] as number) & 0x01) === 0) return;
        break;
      }
      case Op.R2T:
        this.sendDataOut(itt, p.bhs.readUInt32BE(20), p.bhs.readUInt32BE(40), p.bhs.readUInt32BE(44));
        return;
      case Op.NopIn:
        if (itt === 0xffffffff) {
          this.unsolicited.push(p);
          if (this.answerPings) this.nopOutReply(p.bhs.readUInt32BE(20));
          return;
        }
        break;
      case Op.Reject:
        this.rejects.push(p);
        return;
      case Op.AsyncMessage:
        this.unsolicited.push(p);
        return;
    }
    const w = this.waiters.get(itt);
    if (w) {
      this.waiters.delete(itt);
      w(p);
    } else this.unsolicited.push(p);
  }

  /** Set: the next Data-Out goes out with its data digest flipped. */
  corruptNextDataOutDigest = false;

  private write(bhs: Buffer, data?: Buffer): void {
    const pieces = framePieces(bhs, data, this.digests);
    if (this.corruptNextDataOutDigest && ((bhs[0] as number) & 0x3f) === Op.DataOut && this.digests.data && data && data.length > 0) {
      this.corruptNextDataOutDigest = false;
      const last = pieces.length - 1;
      pieces[last] = Buffer.from(pieces[last] as Buffer).map((b) => b ^ 0xff) as Buffer;
    }
    for (const piece of pieces) this.socket.write(piece);
  }

  /** Writes bytes as they are: for fuzzing. */
  sendRaw(b: Buffer): void {
    this.socket.write(b);
  }

  private nextItt(): number {
    return this.itt++;
  }

  private wait(itt: number, ms = 10000): Promise<RawPdu> {
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => {
        this.waiters.delete(itt);
        reject(new Error(`no response for ITT ${itt} in ${ms} ms`));
      }, ms);
      this.waiters.set(itt, (p) => {
        clearTimeout(t);
        resolve(p);
      });
    });
  }

  /** A BHS with opcode, flags, data segment length and ITT filled in (also for tests that send raw PDUs). */
  header(op: number, flags: number, dataLength: number, itt: number, immediate = false): Buffer {
    const b = Buffer.alloc(BHS_LENGTH);
    b[0] = op | (immediate ? 0x40 : 0);
    b[1] = flags;
    b.writeUIntBE(dataLength, 5, 3);
    b.writeUInt32BE(itt, 16);
    return b;
  }

  // ---- login ----

  private async loginPdu(csg: number, nsg: number, transit: boolean, keys: KeyValues): Promise<{ status: number; keys: KeyValues; transit: boolean; nsg: number }> {
    const data = encodeText(keys);
    const itt = this.nextItt();
    const b = this.header(Op.LoginRequest, (transit ? 0x80 : 0) | (csg << 2) | (transit ? nsg : 0), data.length, itt, true);
    (this.opts.isid ?? Buffer.from([0x80, 0, 0, 0, 0, 1])).copy(b, 8);
    b.writeUInt16BE(this.tsih, 14);
    b.writeUInt32BE(this.cmdSN, 24);
    b.writeUInt32BE(this.expStatSN, 28);
    const reply = this.wait(itt);
    this.write(b, data);
    const r = await reply;
    const status = r.bhs.readUInt16BE(36);
    if (status !== 0) throw new LoginError(status);
    if (((r.bhs[1] as number) & 0x80) !== 0 && ((r.bhs[1] as number) & 3) === 3) this.tsih = r.bhs.readUInt16BE(14);
    return { status, keys: parseText(r.data), transit: ((r.bhs[1] as number) & 0x80) !== 0, nsg: (r.bhs[1] as number) & 3 };
  }

  targetKeys: Record<string, string> = {};

  async doLogin(): Promise<void> {
    const names: KeyValues = [
      ['InitiatorName', this.opts.initiatorName ?? 'iqn.2026-11.test:initiator'],
      ['TargetName', this.opts.target],
      ['SessionType', 'Normal'],
    ];
    const chap = this.opts.chap;
    let first = true;
    if (chap) {
      const a = await this.loginPdu(0, 1, false, [...names, ['AuthMethod', 'CHAP,None']]);
      first = false;
      if (Object.fromEntries(a.keys).AuthMethod !== 'CHAP') throw new Error('target did not choose CHAP');
      const b = Object.fromEntries((await this.loginPdu(0, 1, false, [['CHAP_A', '5']])).keys);
      const id = Number(b.CHAP_I);
      const challenge = decodeBinary(b.CHAP_C ?? '') as Buffer;
      const keys: KeyValues = [
        ['CHAP_N', chap.user],
        ['CHAP_R', encodeHex(chapResponse(id, chap.secret, challenge))],
      ];
      const myChallenge = Buffer.from('00112233445566778899aabbccddeeff', 'hex');
      if (chap.targetSecret) keys.push(['CHAP_I', '77'], ['CHAP_C', encodeHex(myChallenge)]);
      const c = await this.loginPdu(0, 1, true, keys);
      if (chap.targetSecret) {
        const ck = Object.fromEntries(c.keys);
        const want = encodeHex(chapResponse(77, chap.targetSecret, myChallenge));
        if (ck.CHAP_N !== chap.targetUser || ck.CHAP_R !== want) throw new Error('target failed mutual CHAP');
      }
      if (!c.transit) throw new Error('target did not move to the operational stage');
    }
    const hd = this.opts.headerDigest ? 'CRC32C' : 'None';
    const dd = this.opts.dataDigest ? 'CRC32C' : 'None';
    const op = await this.loginPdu(1, 3, true, [
      ...(first ? names : []),
      ['HeaderDigest', hd],
      ['DataDigest', dd],
      ['MaxRecvDataSegmentLength', String(this.opts.maxRecv ?? 65536)],
      ['InitialR2T', 'Yes'],
      ['ImmediateData', 'Yes'],
      ['FirstBurstLength', '65536'],
      ['MaxBurstLength', '262144'],
      ['MaxOutstandingR2T', '1'],
      ['ErrorRecoveryLevel', '0'],
      ...(this.opts.extraKeys ?? []),
    ]);
    this.targetKeys = Object.fromEntries(op.keys);
    if (!op.transit || op.nsg !== 3) throw new Error('login did not reach full feature phase');
    this.targetMaxRecv = Number(this.targetKeys.MaxRecvDataSegmentLength ?? 8192);
    this.digests = { header: this.targetKeys.HeaderDigest === 'CRC32C', data: this.targetKeys.DataDigest === 'CRC32C' };
    this.framer.digests = this.digests;
  }

  // ---- full feature phase ----

  /** Sends a SCSI command; immediate data up to FirstBurst, the rest on R2T. */
  async command(lun: number, cdb: Buffer, o: { dataOut?: Buffer; readLength?: number; timeoutMs?: number } = {}): Promise<CommandResult> {
    const itt = this.nextItt();
    const out = o.dataOut;
    const edtl = out ? out.length : (o.readLength ?? 0);
    const imm = out ? out.subarray(0, Math.min(out.length, 65536, this.targetMaxRecv)) : undefined;
    const b = this.header(Op.ScsiCommand, 0x80 | (o.readLength ? 0x40 : 0) | (out ? 0x20 : 0) | 0x01, imm?.length ?? 0, itt);
    b[9] = lun;
    b.writeUInt32BE(edtl, 20);
    b.writeUInt32BE(this.cmdSN, 24);
    this.cmdSN = (this.cmdSN + 1) >>> 0;
    b.writeUInt32BE(this.expStatSN, 28);
    cdb.copy(b, 32, 0, Math.min(16, cdb.length));
    if (out) this.outData.set(itt, out);
    const reply = this.wait(itt, o.timeoutMs);
    this.write(b, imm);
    const r = await reply;
    this.outData.delete(itt);
    const pieces = this.dataIn.get(itt) ?? [];
    this.dataIn.delete(itt);
    const op = (r.bhs[0] as number) & 0x3f;
    const flags = r.bhs[1] as number;
    const status = r.bhs[3] as number;
    let sense: Buffer | undefined;
    if (op === Op.ScsiResponse && r.data.length >= 2) sense = Buffer.from(r.data.subarray(2, 2 + r.data.readUInt16BE(0)));
    if (op === Op.DataIn) pieces.pop();
    const data = Buffer.concat(op === Op.DataIn ? [...pieces, Buffer.from(r.data)] : pieces);
    return { status, sense, data, flags, residual: r.bhs.readUInt32BE(44), dataInPdus: pieces.length + (op === Op.DataIn ? 1 : 0) };
  }

  private sendDataOut(itt: number, ttt: number, offset: number, length: number): void {
    const out = this.outData.get(itt);
    if (!out) return;
    let sn = 0;
    for (let off = offset; off < offset + length; off += this.targetMaxRecv) {
      const piece = out.subarray(off, Math.min(off + this.targetMaxRecv, offset + length));
      const last = off + piece.length >= offset + length;
      const b = this.header(Op.DataOut, last ? 0x80 : 0, piece.length, itt);
      b.writeUInt32BE(ttt, 20);
      b.writeUInt32BE(this.expStatSN, 28);
      b.writeUInt32BE(sn++, 36);
      b.writeUInt32BE(off, 40);
      this.write(b, piece);
    }
  }

  /** NOP-Out ping; resolves with the round-trip time in ms and the echoed data. */
  async nop(data = Buffer.alloc(0), timeoutMs = 10000): Promise<{ ms: number; data: Buffer }> {
    const itt = this.nextItt();
    const b = this.header(Op.NopOut, 0x80, data.length, itt, true);
    b.writeUInt32BE(0xffffffff, 20);
    b.writeUInt32BE(this.cmdSN, 24);
    b.writeUInt32BE(this.expStatSN, 28);
    const t0 = performance.now();
    const reply = this.wait(itt, timeoutMs);
    this.write(b, data);
    const r = await reply;
    return { ms: performance.now() - t0, data: Buffer.from(r.data) };
  }

  private nopOutReply(ttt: number): void {
    const b = this.header(Op.NopOut, 0x80, 0, 0xffffffff, true);
    b.writeUInt32BE(ttt, 20);
    b.writeUInt32BE(this.cmdSN, 24);
    b.writeUInt32BE(this.expStatSN, 28);
    this.write(b);
  }

  /** Task management; returns the response code. The command's ITT/CmdSN come from `ref`. */
  async tmf(fn: number, o: { lun?: number; refItt?: number; refCmdSN?: number } = {}): Promise<number> {
    const itt = this.nextItt();
    const b = this.header(Op.TaskMgmtRequest, 0x80 | fn, 0, itt, true);
    b[9] = o.lun ?? 0;
    b.writeUInt32BE(o.refItt ?? 0xffffffff, 20);
    b.writeUInt32BE(this.cmdSN, 24);
    b.writeUInt32BE(this.expStatSN, 28);
    b.writeUInt32BE(o.refCmdSN ?? 0, 32);
    const reply = this.wait(itt);
    this.write(b);
    return (await reply).bhs[2] as number;
  }

  /** The ITT the next command() will use (to aim ABORT TASK at it). */
  get nextTaskTag(): number {
    return this.itt;
  }

  async logout(): Promise<number> {
    const itt = this.nextItt();
    const b = this.header(Op.LogoutRequest, 0x80, 0, itt, true);
    b.writeUInt32BE(this.cmdSN, 24);
    b.writeUInt32BE(this.expStatSN, 28);
    const reply = this.wait(itt);
    this.write(b);
    return (await reply).bhs[2] as number;
  }

  /** Sends a command with an explicit CmdSN (for window tests); does not wait. */
  sendCommandWithCmdSN(lun: number, cdb: Buffer, cmdSN: number): number {
    const itt = this.nextItt();
    const b = this.header(Op.ScsiCommand, 0x81, 0, itt);
    b[9] = lun;
    b.writeUInt32BE(cmdSN, 24);
    b.writeUInt32BE(this.expStatSN, 28);
    cdb.copy(b, 32);
    this.write(b);
    return itt;
  }

  waitFor(itt: number, ms: number): Promise<RawPdu> {
    return this.wait(itt, ms);
  }
}
