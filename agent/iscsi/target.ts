// The iSCSI target: a TCP portal, the sessions logged in to it, and the SCSI logical units
// (volume N = LUN N) they reach. Runs on the Primary; stop() asks initiators to log out.
import { EventEmitter } from 'node:events';
import { createServer, type Server, type Socket } from 'node:net';
import type { BlockDevice } from '../block/block-device.js';
import { adoptAccepted } from '../net/reused-reads.js';
import type { TargetSession } from '../protocol/messages.js';
import type { ChapConfig } from './chap.js';
import { Connection, type ConnectionHost } from './connection.js';
import { LoginStatus } from './login.js';
import { DEFAULT_LOGIN_PHASE_LIMITS, loginPhaseAdmission, sourceAddress, type LoginPhaseLimits } from './login-limits.js';
import { RefusalLog } from '../refusal-log.js';
import { DEFAULT_LIMITS, type TargetLimits } from './negotiation.js';
import type { ReservationStore } from '../block/reservation-store.js';
import { ScsiTarget } from './scsi.js';
import type { KeyValues } from './text.js';

export interface IscsiTargetOptions {
  iqn: string;
  /** Portal to listen on; port 0 picks a free one (see `port` after start). */
  host: string;
  port: number;
  /** More addresses to listen on, at the same port (the service address, when `host` is not a wildcard). */
  alsoOn?: string[];
  /** Volume N is LUN N. */
  luns: BlockDevice[];
  alias?: string;
  chap?: ChapConfig;
  /** Initiator names allowed to log in (iscsi.allowed-initiators); absent: any. */
  allowedInitiators?: string[];
  /** Caps and deadlines of the login phase (login-limits.ts); defaults when absent. */
  loginLimits?: Partial<LoginPhaseLimits>;
  /** Per-LUN persistent reservation storage; in memory when absent. */
  reservations?: (lun: number) => ReservationStore;
  readOnly?: boolean;
  tpgt?: number;
  limits?: Partial<TargetLimits>;
  /** NOP-In ping interval and reply timeout in ms. Off by default: libiscsi's synchronous API
   * only answers while it waits on a command, so idle healthy sessions would be cut; TCP
   * keepalive finds dead peers instead. */
  nopInterval?: number;
  nopTimeout?: number;
  /** Seconds initiators are given to log out on stop(). Default 2. */
  logoutGrace?: number;
  log?: (msg: string) => void;
}

export interface SessionEvent {
  type: 'login' | 'logout';
  session: TargetSession;
}

export class IscsiTarget extends EventEmitter {
  private server: Server | undefined;
  private readonly extraServers: Server[] = [];
  private readonly connections = new Set<Connection>();
  private readonly admitted = new Set<Connection>();
  private readonly scsi: ScsiTarget;
  private readonly host: ConnectionHost;
  private nextTsih = 1;
  private boundPort = 0;
  private readonly loginLimits: LoginPhaseLimits;
  /** Connections closed at accept by a login-phase cap since the cap last admitted one (logged on the way in and out). */
  private capRefusals = 0;

  constructor(readonly options: IscsiTargetOptions) {
    super();
    this.scsi = new ScsiTarget(
      options.luns.map((device, lun) => ({ device, readOnly: options.readOnly, reservations: options.reservations?.(lun) })),
      { iqn: options.iqn },
    );
    this.scsi.onPreemptAbort = (lun, nexuses) => {
      for (const c of this.connections) if (nexuses.includes(c.nexus)) c.abortTasks(lun);
    };
    const tpgt = options.tpgt ?? 1;
    const log = options.log ?? (() => {});
    this.loginLimits = { ...DEFAULT_LOGIN_PHASE_LIMITS, ...options.loginLimits };
    const refusals = new RefusalLog(log);
    this.host = {
      login: {
        iqn: options.iqn,
        alias: options.alias,
        tpgt,
        chap: options.chap,
        limits: { ...DEFAULT_LIMITS, ...options.limits },
        ...(options.allowedInitiators ? { allowedInitiators: options.allowedInitiators } : {}),
      },
      scsi: this.scsi,
      sendTargets: (addr, port): KeyValues => {
        const a = addr.includes(':') && !addr.startsWith('::ffff:') ? `[${addr}]` : addr.replace(/^::ffff:/, '');
        return [
          ['TargetName', options.iqn],
          ['TargetAddress', `${a}:${port},${tpgt}`],
        ];
      },
      admit: (conn) => this.admit(conn),
      abortEverywhere: (lun, except) => {
        for (const c of this.connections) if (c !== except) c.abortTasks(lun);
      },
      closed: (conn) => this.onClosed(conn),
      nopInterval: options.nopInterval ?? 0,
      nopTimeout: options.nopTimeout ?? 15000,
      limits: this.loginLimits,
      log,
      refused: (ip, line) => refusals.refused(ip, 'refused logins', line),
    };
  }

  override on(event: 'session', listener: (e: SessionEvent) => void): this {
    return super.on(event, listener);
  }

  override off(event: 'session', listener: (e: SessionEvent) => void): this {
    return super.off(event, listener);
  }

  get port(): number {
    return this.boundPort;
  }

  get portal(): string {
    return `${this.options.host}:${this.boundPort}`;
  }

  get running(): boolean {
    return this.server !== undefined;
  }

  /** Connections that have not completed login: what the login-phase caps and deadline bound. */
  get loggingIn(): number {
    let n = 0;
    for (const c of this.connections) if (!c.fullFeature) n++;
    return n;
  }

  /** Connections this target holds, logged in or not: what a refused or abandoned login must not leave behind. */
  get connectionCount(): number {
    return this.connections.size;
  }

  async start(): Promise<void> {
    if (this.server) return;
    const server = await this.listen(this.options.port, this.options.host);
    const addr = server.address();
    this.boundPort = typeof addr === 'object' && addr ? addr.port : this.options.port;
    try {
      for (const host of this.options.alsoOn ?? []) if (host !== this.options.host) this.extraServers.push(await this.listen(this.boundPort, host));
    } catch (e) {
      for (const s of [server, ...this.extraServers.splice(0)]) s.close();
      throw e;
    }
    this.server = server;
  }

  private listen(port: number, host: string): Promise<Server> {
    const server = createServer({ pauseOnConnect: true }, (accepted: Socket) => {
      if (!this.admitToLogin(accepted)) return;
      // The read callback exists before its connection does; it first runs from the event loop, after.
      const ref: { conn?: Connection } = {};
      const socket = adoptAccepted(accepted, {
        onChunk: (chunk) => ref.conn?.receive(chunk),
        directTarget: () => ref.conn?.directTarget(),
        onPlaced: (n) => ref.conn?.placed(n),
      });
      ref.conn = new Connection(socket, this.host);
      this.connections.add(ref.conn);
    });
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => {
        server.off('error', reject);
        resolve(server);
      });
    });
  }

  /** Closes a new connection at once when the login-phase caps are reached: before it costs a read buffer. */
  private admitToLogin(accepted: Socket): boolean {
    const address = sourceAddress(accepted.remoteAddress);
    let total = 0;
    let fromAddress = 0;
    for (const c of this.connections) {
      if (c.fullFeature) continue;
      total++;
      if (sourceAddress(c.socket.remoteAddress) === address) fromAddress++;
    }
    const verdict = loginPhaseAdmission({ total, fromAddress }, address, this.loginLimits);
    const log = this.host.log;
    if (verdict.admit) {
      if (this.capRefusals > 0) log(`login-phase cap: admitting again after closing ${this.capRefusals} connection(s) at accept`);
      this.capRefusals = 0;
      return true;
    }
    if (this.capRefusals++ === 0) log(`login-phase cap: ${verdict.reason}; closing new connections until one finishes`);
    accepted.destroy();
    return false;
  }

  /** Asks every initiator to log out (Async Message), waits up to the grace period, then closes. */
  async stop(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = undefined;
    const extra = this.extraServers.splice(0);
    server.close();
    for (const s of extra) s.close();
    const grace = (this.options.logoutGrace ?? 2) * 1000;
    for (const c of this.connections) {
      if (c.fullFeature && c.sessionType === 'Normal') c.requestLogout(Math.ceil(grace / 1000));
    }
    const deadline = Date.now() + grace;
    while ([...this.connections].some((c) => c.fullFeature && c.sessionType === 'Normal') && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 20));
    }
    for (const c of [...this.connections]) c.close();
    await Promise.all([server, ...extra].map((s) => new Promise<void>((r) => s.close(() => r()))));
  }

  sessions(): TargetSession[] {
    return [...this.connections].filter((c) => c.fullFeature && c.sessionType === 'Normal').map((c) => this.describe(c));
  }

  private describe(c: Connection): TargetSession {
    return { id: `${c.nexus},tsih=${c.tsih}`, initiator: c.initiatorName, address: c.address, since: c.since.toISOString() };
  }

  private admit(conn: Connection): { tsih: number } | { status: number } {
    if (!this.server) return { status: LoginStatus.ServiceUnavailable };
    if (conn.tsih !== 0) {
      // Adding a connection to a session: we negotiate MaxConnections=1.
      const exists = [...this.connections].some((c) => c !== conn && c.fullFeature && c.tsih === conn.tsih);
      return { status: exists ? LoginStatus.TooManyConnections : LoginStatus.SessionDoesNotExist };
    }
    if (conn.sessionType === 'Normal') {
      // Session reinstatement: same initiator name and ISID replaces the old session.
      for (const c of [...this.connections]) {
        if (c !== conn && c.fullFeature && c.sessionType === 'Normal' && c.nexus === conn.nexus) c.close();
      }
    }
    const used = new Set([...this.connections].map((c) => c.tsih));
    let tsih = this.nextTsih;
    while (used.has(tsih) || tsih === 0) tsih = tsih >= 0xffff ? 1 : tsih + 1;
    this.nextTsih = tsih >= 0xffff ? 1 : tsih + 1;
    if (conn.sessionType === 'Normal') {
      this.scsi.nexusJoined(conn.nexus);
      this.admitted.add(conn);
      queueMicrotask(() => this.emit('session', { type: 'login', session: this.describe(conn) } satisfies SessionEvent));
    }
    return { tsih };
  }

  private onClosed(conn: Connection): void {
    if (!this.connections.delete(conn)) return;
    if (this.admitted.delete(conn)) {
      // Another connection may already carry this nexus (reinstatement): keep its state.
      const stillThere = [...this.connections].some((c) => c.nexus === conn.nexus && c.fullFeature);
      if (!stillThere) this.scsi.nexusLost(conn.nexus);
      this.emit('session', { type: 'logout', session: this.describe(conn) } satisfies SessionEvent);
    }
  }
}
