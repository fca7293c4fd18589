// One iSCSI connection (and, since MaxConnections=1, its session): login, then full
// feature phase with CmdSN ordering, R2T/Data-Out collection, Data-In, task management,
// NOP keepalive and logout. Sockets and timers live here; decisions are in the pure modules.
import { randomBytes } from 'node:crypto';
import type { Socket } from 'node:net';
import { corkForTurn } from '../net/cork-turn.js';
import { payloadPool } from '../lib/buffer-pool.js';
import { IdMap } from '../lib/id-map.js';
import type { LoginPhaseLimits } from './login-limits.js';
import { loginStep, initialLoginState, LoginStatus, Stage, type LoginConfig, type LoginState } from './login.js';
import { DEFAULT_PARAMS, type SessionParams } from './negotiation.js';
import {
  AsyncEvent,
  decodeRequest,
  encodeAsyncMessage,
  encodeDataIn,
  encodeLoginResponse,
  encodeLogoutResponse,
  encodeNopIn,
  encodeR2T,
  encodeReject,
  encodeScsiResponse,
  encodeTaskMgmtResponse,
  encodeTextResponse,
  framePieces,
  Op,
  opcodeOf,
  PduError,
  PduFramer,
  RejectReason,
  RESERVED_TAG,
  residualFlags,
  type DataOutPdu,
  type LoginRequestPdu,
  type LogoutRequestPdu,
  type NopOutPdu,
  type RawPdu,
  EMPTY,
  type RequestPdu,
  type ScsiCommandPdu,
  type SeqNumbers,
  type TaskMgmtPdu,
  type TextRequestPdu,
} from './pdu.js';
import { hasPooledDataOut, TaskMgmtFunction, TaskMgmtResponse } from './opcodes.js';
import { MAX_TRANSFER_BLOCKS, type ScsiResult, type ScsiTarget } from './scsi.js';
import { Sense, senseFixed, Status } from './sense.js';
import { classifyCmdSN, snAdd, snLess } from './sequence.js';
import { encodeText, parseText, splitText, TextAccumulator, TextFormatError, type KeyValues } from './text.js';

/** How many commands the initiator may have outstanding (MaxCmdSN - ExpCmdSN + 1). */
export const CMD_WINDOW = 128;
const LOGIN_DATA_LIMIT = 65536;
const DEBUG = process.env.DRBD_TUI_ISCSI_DEBUG === '1';
/** The largest write we gather in memory: the block limits page promises no more. */
const MAX_WRITE_BYTES = MAX_TRANSFER_BLOCKS * 512;
/** Write data gathered but not yet executed, per connection: beyond it, TASK SET FULL. */
const MAX_PENDING_WRITE_BYTES = 256 << 20;
/** Bytes queued on the socket beyond which we stop reading new PDUs until it drains. */
const MAX_QUEUED_OUTPUT = 64 << 20;

/** What a connection needs from the target that owns it. */
export interface ConnectionHost {
  login: LoginConfig;
  scsi: ScsiTarget;
  /** Text answer to SendTargets=All, for the portal this connection came in on. */
  sendTargets(localAddress: string, localPort: number): KeyValues;
  /** Registers a completed normal/discovery login; returns the TSIH or a login status to refuse with. */
  admit(conn: Connection): { tsih: number } | { status: number };
  /** Tasks on other connections a LUN / target reset or CLEAR TASK SET must abort. */
  abortEverywhere(lun: number | undefined, except: Connection): void;
  closed(conn: Connection): void;
  /** Keepalive: NOP-In every interval ms of silence; close if unanswered for timeout ms (0 = off). */
  nopInterval: number;
  nopTimeout: number;
  /** The login deadline and the stalled-PDU timeout (login-limits.ts). */
  limits: LoginPhaseLimits;
  log(msg: string): void;
  /** A refused login from `ip`: logged rate-limited, `line` being the full line when it is logged. */
  refused(ip: string, line: string): void;
}

interface R2TState {
  ttt: number;
  offset: number;
  length: number;
  received: number;
  nextDataSN: number;
}

interface Task {
  itt: number;
  lun: number;
  cdb: Buffer;
  edtl: number;
  read: boolean;
  write: boolean;
  /** Gathered data-out; the command PDU's own data when it carries everything (no copy). */
  buf: Buffer | undefined;
  received: number;
  unsolicitedOpen: boolean;
  unsolicitedDataSN: number;
  nextR2TOffset: number;
  r2tSN: number;
  /** R2Ts outstanding, by TTT (made at the first: most writes need none). */
  r2ts?: Map<number, R2TState>;
  delivered: boolean;
  started: boolean;
  aborted: boolean;
  /** Bytes of pendingWriteBytes this task holds until it finishes. */
  reserved: number;
}

export class Connection {
  private readonly framer = new PduFramer(LOGIN_DATA_LIMIT);
  private phase: 'login' | 'ffp' | 'closed' = 'login';
  private loginState: LoginState = initialLoginState();
  private loginText = new TextAccumulator(LOGIN_DATA_LIMIT);
  private textIn = new TextAccumulator(LOGIN_DATA_LIMIT);
  private textOut: { ttt: number; chunks: Buffer[] } | undefined;
  params: SessionParams = { ...DEFAULT_PARAMS };
  statSN = 0;
  expCmdSN = 0;
  tsih = 0;
  isid = Buffer.alloc(6);
  cid = 0;
  initiatorName = '';
  sessionType: 'Normal' | 'Discovery' = 'Normal';
  readonly since = new Date();
  private readonly tasks = new IdMap<Task>();
  /** Non-immediate commands that arrived ahead of ExpCmdSN, by CmdSN. */
  private readonly queued = new IdMap<() => void>();
  private nextTtt = 1;
  private loginTimer: NodeJS.Timeout | undefined;
  private stallTimer: NodeJS.Timeout | undefined;
  private nopTimer: NodeJS.Timeout | undefined;
  private nopOutstanding: { ttt: number; sent: number } | undefined;
  private lastHeard = Date.now();
  /**
   * Set once the connection is ending: later input is dropped, never parsed. Input left in the
   * framer when a PDU made us end points into the shared read buffer, which the next read
   * overwrites; parsed later, it could look like any command.
   */
  private inputEnded = false;
  private releaseHolds: Array<() => void> = [];
  private logoutRequested = false;
  private pendingWriteBytes = 0;
  private paused = false;

  constructor(
    readonly socket: Socket,
    private readonly host: ConnectionHost,
  ) {
    socket.setNoDelay(true);
    socket.setKeepAlive(true, 10000);
    this.framer.place = (bhs, length) => this.placeData(bhs, length);
    socket.on('error', () => this.close());
    socket.on('close', () => this.close());
    this.loginTimer = setTimeout(() => {
      if (this.phase === 'login') {
        host.log(`login from ${this.address} not completed in ${host.limits.loginTimeoutMs} ms; closing`);
        this.close();
      }
    }, host.limits.loginTimeoutMs);
    this.loginTimer.unref();
  }

  get address(): string {
    return `${this.socket.remoteAddress ?? '?'}:${this.socket.remotePort ?? 0}`;
  }

  /** Built once per login (every SCSI command carries it); cleared where either part is set. */
  get nexus(): string {
    return (this.nexusCache ??= `${this.initiatorName},i,0x${this.isid.toString('hex')}`);
  }

  private nexusCache?: string;

  get fullFeature(): boolean {
    return this.phase === 'ffp';
  }

  get maxCmdSN(): number {
    return snAdd(this.expCmdSN, CMD_WINDOW - 1);
  }

  private seq(advanceStat = true): SeqNumbers {
    const s = { statSN: this.statSN, expCmdSN: this.expCmdSN, maxCmdSN: this.maxCmdSN };
    if (advanceStat) this.statSN = snAdd(this.statSN, 1);
    return s;
  }

  private send(bhs: Buffer, data?: Buffer): void {
    if (this.phase === 'closed' || this.socket.destroyed) return;
    corkForTurn(this.socket);
    for (const p of framePieces(bhs, data, this.phase === 'ffp' ? this.framer.digests : { header: false, data: false })) this.socket.write(p);
    // An initiator that does not read its Data-In stops being read from, so it cannot make
    // us queue responses without bound; TCP flow control then holds its commands back.
    if (!this.paused && this.socket.writableLength > MAX_QUEUED_OUTPUT) {
      this.paused = true;
      this.socket.pause();
      this.socket.once('drain', () => {
        this.paused = false;
        if (this.phase !== 'closed') this.socket.resume();
      });
    }
  }

  close(): void {
    if (this.phase === 'closed') return;
    this.phase = 'closed';
    clearTimeout(this.loginTimer);
    clearTimeout(this.nopTimer);
    clearTimeout(this.stallTimer);
    for (const t of this.tasks.values()) t.aborted = true;
    this.tasks.clear();
    this.queued.clear();
    for (const r of this.releaseHolds) r();
    this.releaseHolds = [];
    if (!this.socket.destroyed) this.socket.destroy();
    this.host.closed(this);
  }

  /** Graceful end: flush what is queued, then close. */
  private endAfterFlush(): void {
    this.inputEnded = true;
    this.framer.discard();
    if (this.phase === 'closed') return;
    this.socket.end(() => this.close());
    setTimeout(() => this.close(), 2000).unref();
  }

  /**
   * Bytes from the socket (target.ts reads into one buffer, reused): every PDU they complete
   * is handled before this returns, one at a time, so a Data-Out can be placed by the tasks
   * the commands before it created.
   */
  receive(chunk: Buffer): void {
    if (this.inputEnded) return;
    this.framer.append(chunk);
    this.drain();
  }

  /** Where the next read may go straight (the rest of a large data segment), if anywhere. */
  directTarget(): Buffer | undefined {
    return this.phase === 'closed' || this.inputEnded ? undefined : this.framer.directTarget();
  }

  /** n bytes were read into what directTarget() returned. */
  placed(n: number): void {
    if (this.inputEnded) return;
    this.framer.placed(n);
    this.drain();
  }

  private drain(): void {
    this.lastHeard = Date.now();
    this.watchStall();
    try {
      for (let ev = this.framer.next(); ev !== null; ev = this.framer.next()) {
        if (this.phase === 'closed') return;
        switch (ev.kind) {
          case 'pdu':
            this.onPdu(ev.pdu);
            break;
          case 'too-long':
            this.host.log(`${this.address}: data segment of ${ev.length} bytes exceeds our limit`);
            if (this.phase === 'ffp') this.send(encodeReject({ reason: RejectReason.ProtocolError, rejectedBhs: ev.bhs, seq: this.seq() }), ev.bhs);
            this.endAfterFlush();
            return;
          case 'header-digest-error':
            // Without a trustworthy header the stream cannot be resynchronised at ERL 0.
            this.host.log(`${this.address}: header digest error`);
            this.close();
            return;
          case 'data-digest-error':
            this.send(encodeReject({ reason: RejectReason.DataDigestError, rejectedBhs: ev.pdu.bhs, seq: this.seq() }), Buffer.from(ev.pdu.bhs));
            if (opcodeOf(ev.pdu.bhs) === Op.DataOut || opcodeOf(ev.pdu.bhs) === Op.ScsiCommand) {
              // The data is lost and ERL 0 cannot ask for it again: end the connection. The
              // task must never run, whatever arrives before the close: its buffer may hold the
              // bad bytes (placed before the check). Later Data-Outs would fail on DataSN anyway.
              const task = this.tasks.get(ev.pdu.bhs.readUInt32BE(16));
              if (task) task.aborted = true;
              this.endAfterFlush();
              return;
            }
            break;
        }
      }
    } catch (err) {
      this.host.log(`${this.address}: ${(err as Error).message}; closing`);
      this.close();
    }
  }

  /**
   * A client that stops in the middle of a PDU holds its partial PDU (up to a data segment)
   * and its connection; at ERL 0 nothing completes it later, so silence there ends it. In the
   * login phase the login deadline covers this.
   */
  private watchStall(): void {
    if (this.stallTimer || this.phase !== 'ffp') return;
    const wait = this.host.limits.stalledPduTimeoutMs;
    this.stallTimer = setTimeout(() => {
      this.stallTimer = undefined;
      if (this.phase !== 'ffp' || !this.framer.midPdu) return;
      const silent = Date.now() - this.lastHeard;
      if (silent >= wait) {
        this.host.log(`${this.address}: stopped in the middle of a PDU for ${silent} ms; closing`);
        this.close();
      } else this.watchStall();
    }, wait);
    this.stallTimer.unref();
  }

  private reject(pdu: RawPdu, reason: number): void {
    this.send(encodeReject({ reason, rejectedBhs: pdu.bhs, seq: this.seq() }), Buffer.from(pdu.bhs));
  }

  private onPdu(raw: RawPdu): void {
    if (DEBUG) this.host.log(`rx op=0x${opcodeOf(raw.bhs).toString(16)} flags=0x${(raw.bhs[1] ?? 0).toString(16)} itt=0x${raw.bhs.readUInt32BE(16).toString(16)} len=${raw.data.length} w20=${raw.bhs.readUInt32BE(20)} w24=${raw.bhs.readUInt32BE(24)} w36=${raw.bhs.readUInt32BE(36)} w40=${raw.bhs.readUInt32BE(40)} cdb0=0x${(raw.bhs[32] ?? 0).toString(16)}`);
    let pdu: RequestPdu;
    try {
      pdu = decodeRequest(raw);
    } catch (err) {
      if (err instanceof PduError && this.phase === 'ffp') {
        this.reject(raw, err.reason);
        return;
      }
      throw err;
    }
    if (this.phase === 'login') {
      if (pdu.op !== Op.LoginRequest) throw new Error(`opcode 0x${pdu.op.toString(16)} before login completed`);
      this.onLogin(pdu, raw.data);
      return;
    }
    switch (pdu.op) {
      case Op.DataOut:
        this.onDataOut(pdu, raw);
        return;
      case Op.Snack:
        this.reject(raw, RejectReason.SnackReject);
        return;
      case Op.LoginRequest:
        this.reject(raw, RejectReason.ProtocolError);
        return;
    }
    if (this.sessionType === 'Discovery' && pdu.op !== Op.TextRequest && pdu.op !== Op.LogoutRequest && pdu.op !== Op.NopOut) {
      this.reject(raw, RejectReason.ProtocolError);
      return;
    }
    if (pdu.op === Op.NopOut && pdu.itt === RESERVED_TAG) {
      // A reply to our NOP-In ping: it carries no new CmdSN.
      if (this.nopOutstanding && pdu.ttt === this.nopOutstanding.ttt) this.nopOutstanding = undefined;
      return;
    }
    const handle = (): void => this.dispatch(pdu, raw);
    if (pdu.immediate) {
      if (pdu.op === Op.ScsiCommand) this.receiveCommand(pdu, raw, true);
      else handle();
      return;
    }
    const verdict = classifyCmdSN(pdu.cmdSN, this.expCmdSN, this.maxCmdSN);
    if (verdict === 'drop') {
      this.host.log(`${this.address}: CmdSN ${pdu.cmdSN} outside window [${this.expCmdSN}, ${this.maxCmdSN}]; dropped`);
      return;
    }
    if (pdu.op === Op.ScsiCommand) {
      // Data-Out for a queued command may arrive before its turn: the task exists from now.
      this.receiveCommand(pdu, raw, false);
      const deliver = (): void => this.deliver(pdu.itt);
      if (verdict === 'deliver') this.advance(deliver);
      else this.queued.set(pdu.cmdSN, deliver);
      return;
    }
    if (verdict === 'deliver') this.advance(handle);
    else this.queued.set(pdu.cmdSN, handle);
  }

  /** Runs the command at ExpCmdSN, then whatever was waiting for the numbers after it. */
  private advance(run: () => void): void {
    this.expCmdSN = snAdd(this.expCmdSN, 1);
    run();
    for (let next = this.queued.get(this.expCmdSN); next; next = this.queued.get(this.expCmdSN)) {
      this.queued.delete(this.expCmdSN);
      this.expCmdSN = snAdd(this.expCmdSN, 1);
      next();
    }
  }

  private dispatch(pdu: RequestPdu, raw: RawPdu): void {
    switch (pdu.op) {
      case Op.NopOut:
        return this.onNopOut(pdu, raw);
      case Op.TaskMgmtRequest:
        return this.onTaskMgmt(pdu);
      case Op.TextRequest:
        return this.onText(pdu, raw);
      case Op.LogoutRequest:
        return this.onLogout(pdu);
      default:
        return;
    }
  }

  // ---- login ----

  private onLogin(pdu: LoginRequestPdu, data: Buffer): void {
    let whole: Buffer | undefined;
    try {
      whole = this.loginText.add(data, pdu.cont);
    } catch {
      this.loginFail(pdu, LoginStatus.InitiatorError);
      return;
    }
    if (this.loginState.first) {
      this.isid = Buffer.from(pdu.isid);
      this.nexusCache = undefined;
      this.tsih = pdu.tsih;
      this.cid = pdu.cid;
      this.expCmdSN = pdu.cmdSN;
    }
    if (!whole) {
      this.sendLogin(pdu, { transit: false, csg: pdu.csg, nsg: 0, status: 0 }, Buffer.alloc(0));
      return;
    }
    let keys: KeyValues;
    try {
      keys = parseText(whole);
    } catch (err) {
      if (err instanceof TextFormatError) return this.loginFail(pdu, LoginStatus.InitiatorError);
      throw err;
    }
    const step = loginStep(this.loginState, { transit: pdu.transit, csg: pdu.csg, nsg: pdu.nsg, versionMin: pdu.versionMin, versionMax: pdu.versionMax, keys }, this.host.login, randomBytes(17));
    if (step.kind === 'fail') {
      this.host.refused(this.socket.remoteAddress ?? '?', `login from ${this.address} refused: ${step.reason}`);
      return this.loginFail(pdu, step.reply.status);
    }
    this.loginState = step.state;
    this.params = step.state.params;
    this.initiatorName = step.state.initiatorName ?? '';
    this.nexusCache = undefined;
    this.sessionType = step.state.sessionType;
    if (step.kind === 'complete') {
      const admitted = this.host.admit(this);
      if ('status' in admitted) return this.loginFail(pdu, admitted.status);
      this.tsih = admitted.tsih;
    }
    this.sendLogin(pdu, step.reply, encodeText(step.reply.keys));
    if (step.kind === 'complete') this.enterFullFeature();
  }

  private sendLogin(pdu: LoginRequestPdu, r: { transit: boolean; csg: number; nsg: number; status: number }, data: Buffer): void {
    const complete = r.transit && r.nsg === Stage.FullFeature;
    this.send(
      encodeLoginResponse({
        transit: r.transit,
        cont: false,
        csg: r.csg,
        nsg: r.nsg,
        isid: this.isid,
        tsih: complete ? this.tsih : pdu.tsih,
        itt: pdu.itt,
        statusClass: r.status >> 8,
        statusDetail: r.status & 0xff,
        dataLength: data.length,
        seq: this.seq(),
      }),
      data,
    );
  }

  private loginFail(pdu: LoginRequestPdu, status: number): void {
    this.sendLogin(pdu, { transit: false, csg: pdu.csg, nsg: 0, status }, Buffer.alloc(0));
    // Ends through endAfterFlush's close(), which tells the target: a refused login must
    // leave nothing registered behind it.
    this.endAfterFlush();
  }

  private enterFullFeature(): void {
    this.phase = 'ffp';
    clearTimeout(this.loginTimer);
    this.framer.digests = { header: this.params.headerDigest, data: this.params.dataDigest };
    this.framer.maxDataSegment = this.host.login.limits.maxRecvDataSegmentLength;
    if (this.sessionType === 'Normal') {
      for (let lun = 0; lun < this.host.scsi.lunCount; lun++) {
        const dev = this.host.scsi.device(lun);
        if (dev) this.releaseHolds.push(dev.open(`iscsi:${this.nexus}`));
      }
    }
    this.scheduleNop();
  }

  // ---- keepalive ----

  private scheduleNop(): void {
    if (this.host.nopInterval <= 0 || this.phase !== 'ffp') return;
    clearTimeout(this.nopTimer);
    this.nopTimer = setTimeout(() => this.nopTick(), Math.min(this.host.nopInterval, 1000));
    this.nopTimer.unref();
  }

  private nopTick(): void {
    if (this.phase !== 'ffp') return;
    const now = Date.now();
    if (this.nopOutstanding && now - this.nopOutstanding.sent > this.host.nopTimeout) {
      const pending = [...this.tasks.values()].map((t) => `0x${(t.cdb[0] ?? 0).toString(16)}${t.started ? ' running' : t.delivered ? ` awaiting data ${t.received}/${t.edtl}` : ' queued'}`);
      this.host.log(`${this.address}: no NOP-Out reply in ${this.host.nopTimeout} ms; closing (tasks: ${pending.join(', ') || 'none'}; ExpCmdSN ${this.expCmdSN}, queued ${this.queued.size})`);
      this.close();
      return;
    }
    if (!this.nopOutstanding && now - this.lastHeard >= this.host.nopInterval) {
      const ttt = this.allocTtt();
      this.nopOutstanding = { ttt, sent: now };
      // An unsolicited NOP-In carries the current StatSN without advancing it.
      this.send(encodeNopIn({ lun: 0, itt: RESERVED_TAG, ttt, dataLength: 0, seq: this.seq(false) }));
    }
    this.scheduleNop();
  }

  private allocTtt(): number {
    const t = this.nextTtt;
    this.nextTtt = this.nextTtt >= 0x7fffffff ? 1 : this.nextTtt + 1;
    return t;
  }

  private onNopOut(pdu: NopOutPdu, raw: RawPdu): void {
    const echo = raw.data.subarray(0, Math.min(raw.data.length, this.params.initiatorMaxRecvDataSegmentLength));
    this.send(encodeNopIn({ lun: pdu.lun, itt: pdu.itt, ttt: RESERVED_TAG, dataLength: echo.length, seq: this.seq() }), echo);
  }

  // ---- text ----

  private onText(pdu: TextRequestPdu, raw: RawPdu): void {
    if (pdu.ttt !== RESERVED_TAG && this.textOut && pdu.ttt === this.textOut.ttt) {
      return this.sendTextChunk(pdu.itt);
    }
    let whole: Buffer | undefined;
    try {
      whole = this.textIn.add(raw.data, pdu.cont);
    } catch {
      return this.reject(raw, RejectReason.ProtocolError);
    }
    if (!whole) {
      this.send(encodeTextResponse({ final: false, cont: false, itt: pdu.itt, ttt: this.allocTtt(), dataLength: 0, seq: this.seq() }));
      return;
    }
    let keys: KeyValues;
    try {
      keys = parseText(whole);
    } catch {
      return this.reject(raw, RejectReason.ProtocolError);
    }
    const answers: KeyValues = [];
    for (const [k, v] of keys) {
      if (k === 'SendTargets') {
        if (v === 'All' || v === this.host.login.iqn || (v === '' && this.sessionType === 'Normal')) {
          answers.push(...this.host.sendTargets(this.socket.localAddress ?? '127.0.0.1', this.socket.localPort ?? 3260));
        }
      } else answers.push([k, 'NotUnderstood']);
    }
    const chunks = splitText(encodeText(answers), this.params.initiatorMaxRecvDataSegmentLength);
    this.textOut = { ttt: chunks.length > 1 ? this.allocTtt() : RESERVED_TAG, chunks };
    this.sendTextChunk(pdu.itt);
  }

  private sendTextChunk(itt: number): void {
    const out = this.textOut;
    if (!out) return;
    const chunk = out.chunks.shift() ?? Buffer.alloc(0);
    const last = out.chunks.length === 0;
    this.send(encodeTextResponse({ final: last, cont: !last, itt, ttt: last ? RESERVED_TAG : out.ttt, dataLength: chunk.length, seq: this.seq() }), chunk);
    if (last) this.textOut = undefined;
  }

  // ---- logout ----

  private onLogout(pdu: LogoutRequestPdu): void {
    const response = pdu.reason === 2 ? 2 : pdu.reason === 1 && pdu.cid !== this.cid ? 1 : 0;
    this.send(encodeLogoutResponse({ itt: pdu.itt, response, time2Wait: 0, time2Retain: 0, seq: this.seq() }));
    if (response === 0) {
      for (const t of this.tasks.values()) t.aborted = true;
      this.endAfterFlush();
    }
  }

  /** Asks the initiator to log out (a planned shutdown or demotion); it has `seconds` to comply. */
  requestLogout(seconds: number): void {
    if (this.phase !== 'ffp' || this.logoutRequested) return;
    this.logoutRequested = true;
    this.send(encodeAsyncMessage({ lun: 0, event: AsyncEvent.LogoutRequest, param1: 0, param2: 0, param3: seconds, dataLength: 0, seq: this.seq() }));
  }

  // ---- SCSI commands ----

  private receiveCommand(pdu: ScsiCommandPdu, raw: RawPdu, immediate: boolean): void {
    if (this.tasks.has(pdu.itt)) {
      this.reject(raw, RejectReason.TaskInProgress);
      return;
    }
    const task: Task = {
      itt: pdu.itt,
      lun: pdu.lun,
      cdb: pdu.cdb,
      edtl: pdu.write ? pdu.edtl : pdu.read ? pdu.edtl : 0,
      read: pdu.read,
      write: pdu.write,
      buf: undefined,
      received: 0,
      unsolicitedOpen: pdu.write && !pdu.final && !this.params.initialR2T,
      unsolicitedDataSN: 0,
      nextR2TOffset: 0,
      r2tSN: 0,
      delivered: false,
      started: false,
      aborted: false,
      reserved: 0,
    };
    if (!pdu.read && !pdu.write) task.edtl = pdu.edtl;
    this.tasks.set(pdu.itt, task);
    if (pdu.write && pdu.edtl > MAX_WRITE_BYTES) {
      this.tasks.delete(pdu.itt);
      this.respond(task, { status: Status.CheckCondition, sense: senseFixed(Sense.invalidFieldInCdb) }, 0);
      return;
    }
    if (pdu.write && this.pendingWriteBytes + pdu.edtl > MAX_PENDING_WRITE_BYTES) {
      this.tasks.delete(pdu.itt);
      this.respond(task, { status: Status.TaskSetFull }, 0);
      return;
    }
    if (pdu.write) {
      task.reserved = pdu.edtl;
      this.pendingWriteBytes += pdu.edtl;
    }
    const immBytes = raw.data.length;
    if (immBytes > 0) {
      if (!pdu.write || !this.params.immediateData || immBytes > Math.min(this.params.firstBurstLength, pdu.edtl)) {
        this.tasks.delete(pdu.itt);
        this.unreserve(task);
        this.reject(raw, RejectReason.ProtocolError);
        return;
      }
      if (immBytes === pdu.edtl) task.buf = raw.data;
      else {
        task.buf = this.writeBuffer(task);
        raw.data.copy(task.buf, 0);
        // Copied: the PDU's own buffer has no other reader.
        if (hasPooledDataOut(task.cdb[0] as number)) payloadPool.release(raw.data);
      }
      task.received = immBytes;
    }
    if (pdu.write) {
      const unsolicitedEnd = task.unsolicitedOpen ? Math.min(this.params.firstBurstLength, pdu.edtl) : immBytes;
      task.nextR2TOffset = unsolicitedEnd;
    }
    if (immediate) this.deliver(pdu.itt);
  }

  private deliver(itt: number): void {
    const task = this.tasks.get(itt);
    if (!task || task.aborted) return;
    task.delivered = true;
    this.issueR2Ts(task);
    this.maybeStart(task);
  }

  private issueR2Ts(task: Task): void {
    if (!task.write || !task.delivered) return;
    while ((task.r2ts?.size ?? 0) < this.params.maxOutstandingR2T && task.nextR2TOffset < task.edtl) {
      const length = Math.min(this.params.maxBurstLength, task.edtl - task.nextR2TOffset);
      const ttt = this.allocTtt();
      const r: R2TState = { ttt, offset: task.nextR2TOffset, length, received: 0, nextDataSN: 0 };
      (task.r2ts ??= new Map()).set(ttt, r);
      task.nextR2TOffset += length;
      this.send(encodeR2T({ lun: task.lun, itt: task.itt, ttt, r2tSN: task.r2tSN++, bufferOffset: r.offset, length, seq: this.seq(false) }));
    }
  }

  /**
   * What onDataOut will do with a Data-Out of `length` bytes: drop it (task answered or
   * aborted), reject it, end the connection (DataSN gap), or take it (unsolicited, or for an R2T).
   */
  private dataOutVerdict(task: Task | undefined, pdu: DataOutPdu, length: number): 'drop' | 'reject' | 'sequence' | 'unsolicited' | R2TState {
    // Data for a task that was answered early or aborted is dropped, as RFC 7143 allows.
    if (!task || task.aborted || task.started) return 'drop';
    if (!task.write || pdu.bufferOffset + length > task.edtl) return 'reject';
    if (pdu.ttt === RESERVED_TAG) {
      if (!task.unsolicitedOpen || pdu.bufferOffset + length > Math.min(this.params.firstBurstLength, task.edtl)) return 'reject';
      return pdu.dataSN === task.unsolicitedDataSN ? 'unsolicited' : 'sequence';
    }
    const r2t = task.r2ts?.get(pdu.ttt);
    if (!r2t || pdu.bufferOffset < r2t.offset || pdu.bufferOffset + length > r2t.offset + r2t.length) return 'reject';
    return pdu.dataSN === r2t.nextDataSN ? r2t : 'sequence';
  }

  /** The framer's `place`: a Data-Out that will be taken is read straight into its command's buffer. */
  private placeData(bhs: Buffer, length: number): Buffer | undefined {
    if (this.phase !== 'ffp') return undefined;
    // A WRITE's immediate data (W bit set) comes from the pool: it usually becomes the task's buffer.
    if (opcodeOf(bhs) === Op.ScsiCommand) return ((bhs[1] as number) & 0x20) !== 0 && hasPooledDataOut(bhs[32] as number) ? payloadPool.take(length) : undefined;
    if (opcodeOf(bhs) !== Op.DataOut) return undefined;
    let pdu: DataOutPdu;
    try {
      pdu = decodeRequest({ bhs, ahs: EMPTY, data: EMPTY }) as DataOutPdu;
    } catch {
      return undefined; // onPdu rejects it
    }
    const task = this.tasks.get(pdu.itt);
    const verdict = this.dataOutVerdict(task, pdu, length);
    if (!task || typeof verdict === 'string' && verdict !== 'unsolicited') return undefined;
    if (!task.buf) task.buf = this.writeBuffer(task);
    return task.buf.subarray(pdu.bufferOffset, pdu.bufferOffset + length);
  }

  private onDataOut(pdu: DataOutPdu, raw: RawPdu): void {
    const task = this.tasks.get(pdu.itt);
    const length = raw.data.length;
    const verdict = this.dataOutVerdict(task, pdu, length);
    if (verdict === 'drop' || !task) return;
    if (verdict === 'reject') return this.reject(raw, RejectReason.ProtocolError);
    if (verdict === 'sequence') return this.dataSequenceError(task, raw);
    const r2t = verdict === 'unsolicited' ? undefined : verdict;
    if (r2t) {
      r2t.nextDataSN++;
      r2t.received += length;
    } else {
      task.unsolicitedDataSN++;
      if (pdu.final) task.unsolicitedOpen = false;
    }
    if (length > 0) {
      if (!task.buf && pdu.bufferOffset === 0 && length === task.edtl) task.buf = raw.data;
      else if (!isPlacedIn(raw.data, task.buf, pdu.bufferOffset)) {
        if (!task.buf) task.buf = this.writeBuffer(task);
        raw.data.copy(task.buf, pdu.bufferOffset);
      }
      task.received += length;
    }
    if (r2t && (r2t.received >= r2t.length || pdu.final)) {
      task.r2ts?.delete(r2t.ttt);
      this.issueR2Ts(task);
    }
    this.maybeStart(task);
  }

  /** A task's data buffer: from the pool for the plain WRITEs, whose only reader is the device write. */
  private writeBuffer(task: Task): Buffer {
    return hasPooledDataOut(task.cdb[0] as number) ? payloadPool.take(task.edtl) : Buffer.allocUnsafe(task.edtl);
  }

  /**
   * After the command settled: a WRITE's buffer goes back once the device no longer reads it.
   * Whether it came from the pool (writeBuffer, placeData) the pool itself knows.
   */
  private releaseWriteBuffer(task: Task): void {
    const buf = task.buf;
    if (!buf || !hasPooledDataOut(task.cdb[0] as number)) return;
    task.buf = undefined;
    this.host.scsi.afterWrites(task.lun, () => payloadPool.release(buf));
  }

  /** A DataSN out of order means lost data; at ERL 0 the only recovery is a new connection. */
  private dataSequenceError(task: Task, raw: RawPdu): void {
    this.host.log(`${this.address}: Data-Out DataSN out of sequence for ITT 0x${task.itt.toString(16)}`);
    this.reject(raw, RejectReason.ProtocolError);
    this.endAfterFlush();
  }

  private maybeStart(task: Task): void {
    if (task.started || !task.delivered || task.aborted) return;
    if (task.write && task.received < task.edtl) return;
    task.started = true;
    const dataOut = task.write ? (task.buf ?? Buffer.alloc(0)) : Buffer.alloc(0);
    this.host.scsi
      .execute({ lun: task.lun, cdb: task.cdb, dataOut, nexus: this.nexus })
      .then(
        (r) => this.finish(task, r),
        (err: unknown) => {
          this.host.log(`${this.address}: command 0x${(task.cdb[0] ?? 0).toString(16)} failed: ${(err as Error).message}`);
          this.finish(task, { status: Status.CheckCondition, sense: senseFixed(Sense.mediumError) });
        },
      );
  }

  /** The command has settled (execute resolved or failed). */
  private finish(task: Task, r: ScsiResult): void {
    this.releaseWriteBuffer(task);
    this.unreserve(task);
    if (task.aborted || this.phase !== 'ffp' || this.tasks.get(task.itt) !== task) return;
    this.tasks.delete(task.itt);
    this.respond(task, r, task.write ? task.received : 0);
  }

  private respond(task: Task, r: ScsiResult, _dataOutReceived: number): void {
    let overflow = 0;
    let underflow = 0;
    let dataIn: Buffer | undefined;
    if (r.data && r.data.length > 0) {
      if (task.read) {
        if (r.data.length > task.edtl) {
          overflow = r.data.length - task.edtl;
          dataIn = r.data.subarray(0, task.edtl);
        } else {
          underflow = task.edtl - r.data.length;
          dataIn = r.data;
        }
      } else overflow = r.data.length;
    } else if (task.read && task.edtl > 0) {
      underflow = task.edtl;
    }
    if (task.write && r.dataOutExpected !== undefined) {
      if (r.dataOutExpected > task.edtl) overflow = r.dataOutExpected - task.edtl;
      else if (r.dataOutExpected < task.edtl) underflow = task.edtl - r.dataOutExpected;
    } else if (!task.write && !task.read && r.dataOutExpected !== undefined && r.dataOutExpected > 0) {
      overflow = r.dataOutExpected;
    }
    const res = residualFlags({ overflow, underflow });
    const statusInData = r.status === Status.Good && !r.sense && dataIn !== undefined && dataIn.length > 0;
    let dataSN = 0;
    {
      if (dataIn && dataIn.length > 0) {
        const seg = Math.max(512, this.params.initiatorMaxRecvDataSegmentLength);
        for (let off = 0; off < dataIn.length; off += seg) {
          const piece = dataIn.subarray(off, Math.min(off + seg, dataIn.length));
          const last = off + piece.length >= dataIn.length;
          const withStatus = last && statusInData;
          const bhs = encodeDataIn({
            lun: task.lun,
            itt: task.itt,
            final: last,
            status: withStatus ? r.status : undefined,
            residualFlags: res.flags,
            residual: res.count,
            dataSN: dataSN++,
            bufferOffset: off,
            dataLength: piece.length,
            seq: this.seq(withStatus),
          });
          this.send(bhs, piece);
        }
      }
      if (!statusInData) {
        const sense = r.sense;
        let senseData: Buffer | undefined;
        if (sense) {
          senseData = Buffer.allocUnsafe(2 + sense.length);
          senseData.writeUInt16BE(sense.length, 0);
          sense.copy(senseData, 2);
        }
        this.send(
          encodeScsiResponse({
            itt: task.itt,
            status: r.status,
            senseLength: sense ? sense.length : 0,
            residualFlags: res.flags,
            residual: res.count,
            expDataSN: dataSN || task.r2tSN,
            seq: this.seq(),
          }),
          senseData,
        );
      }
    }
  }

  private unreserve(task: Task): void {
    this.pendingWriteBytes -= task.reserved;
    task.reserved = 0;
  }

  // ---- task management ----

  /** Marks tasks aborted (their responses are never sent); lun undefined = all LUNs. */
  abortTasks(lun: number | undefined): void {
    for (const [itt, t] of this.tasks) {
      if (lun === undefined || t.lun === lun) {
        t.aborted = true;
        if (!t.started) this.unreserve(t);
        this.tasks.delete(itt);
      }
    }
  }

  private onTaskMgmt(pdu: TaskMgmtPdu): void {
    const respond = (response: number): void => this.send(encodeTaskMgmtResponse({ itt: pdu.itt, response, seq: this.seq() }));
    const lunExists = pdu.lun < this.host.scsi.lunCount;
    switch (pdu.fn) {
      case TaskMgmtFunction.AbortTask: {
        const t = this.tasks.get(pdu.refTask);
        if (t && t.lun === pdu.lun) {
          t.aborted = true;
          if (!t.started) this.unreserve(t);
          this.tasks.delete(pdu.refTask);
          return respond(TaskMgmtResponse.FunctionComplete);
        }
        // Never received, or already answered: either way nothing is left to abort.
        if (snLess(pdu.refCmdSN, pdu.cmdSN)) return respond(TaskMgmtResponse.FunctionComplete);
        return respond(TaskMgmtResponse.TaskDoesNotExist);
      }
      case TaskMgmtFunction.AbortTaskSet:
      case TaskMgmtFunction.ClearTaskSet:
        if (!lunExists) return respond(TaskMgmtResponse.LunDoesNotExist);
        this.abortTasks(pdu.lun);
        if (pdu.fn === TaskMgmtFunction.ClearTaskSet) this.host.abortEverywhere(pdu.lun, this);
        return respond(TaskMgmtResponse.FunctionComplete);
      case TaskMgmtFunction.LogicalUnitReset:
        if (!lunExists) return respond(TaskMgmtResponse.LunDoesNotExist);
        this.abortTasks(pdu.lun);
        this.host.abortEverywhere(pdu.lun, this);
        this.host.scsi.reset(pdu.lun);
        return respond(TaskMgmtResponse.FunctionComplete);
      case TaskMgmtFunction.TargetWarmReset:
      case TaskMgmtFunction.TargetColdReset:
        this.abortTasks(undefined);
        this.host.abortEverywhere(undefined, this);
        this.host.scsi.reset();
        respond(TaskMgmtResponse.FunctionComplete);
        if (pdu.fn === TaskMgmtFunction.TargetColdReset) this.endAfterFlush();
        return;
      case TaskMgmtFunction.TaskReassign: // needs ErrorRecoveryLevel 2
        return respond(TaskMgmtResponse.AllegianceReassignmentNotSupported);
      default:
        return respond(TaskMgmtResponse.FunctionNotSupported);
    }
  }
}

/** Whether `data` already lies in `buf` at `offset` (the framer placed it there). */
function isPlacedIn(data: Buffer, buf: Buffer | undefined, offset: number): boolean {
  return buf !== undefined && data.buffer === buf.buffer && data.byteOffset === buf.byteOffset + offset;
}
