// The per-uid cap's I/O around monitor-admission.ts: which connections are open with which uid,
// the lookups (one `ss` at a time; the connections that arrive meanwhile wait for the next, which
// answers for all of them at once), and the log — once when a uid starts being refused and once
// when it is below its cap again, not once per refused connection. Waiting connections are
// accepted sockets not served yet (no request answered, no event sent); net.Server counts them
// against the total cap, which bounds the queue. Lookups are paced: the next starts no sooner
// than LOOKUP_GAP_MS, nor sooner than the last one took, after the last one ended, so a user who
// reconnects in a loop keeps at most half a core busy with ss (its connections wait meanwhile).
import type { Socket } from 'node:net';
import { locateTool } from '../lib/locate-tool.js';
import { checkMonitorUidLimits, describeUid, heldBy, monitorAdmission, type ClientUid, type MonitorUidLimits } from './monitor-admission.js';
import { peerUids } from './peer-uid.js';

const LOOKUP_GAP_MS = 100;

export interface MonitorGateOptions {
  limits: MonitorUidLimits;
  log(line: string): void;
  /** Starts serving an admitted connection. */
  serve(sock: Socket): void;
  /** The ss binary; default: found on PATH and the sbin directories. */
  ss?: string;
}

export class MonitorGate {
  private readonly open = new Map<Socket, ClientUid | undefined>();
  private waiting: Socket[] = [];
  private inFlight: Socket[] = [];
  private ss: Promise<string | undefined> | undefined;
  /** False once ss is known to be missing: uids cannot be learned for the daemon's life. */
  private canLookUp = true;
  /** Set while ss fails, so that the failure is logged once and its end too. */
  private failing = false;
  /** Connections closed at accept per uid, while it is at its cap. */
  private readonly refusing = new Map<ClientUid, number>();
  private running = false;
  private notBefore = 0;
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly opts: MonitorGateOptions) {
    checkMonitorUidLimits(opts.limits);
    if (opts.ss !== undefined) this.ss = Promise.resolve(opts.ss);
  }

  accept(sock: Socket): void {
    sock.once('close', () => this.closed(sock));
    this.decide(sock, undefined, this.canLookUp);
  }

  private decide(sock: Socket, uid: ClientUid | undefined, canLookUp: boolean): void {
    const limits = this.opts.limits;
    const admission = monitorAdmission({ open: [...this.open.values()], waiting: this.waiting.length + this.inFlight.length, uid, canLookUp }, limits);
    switch (admission.verdict) {
      case 'admit':
        this.open.set(sock, uid);
        this.opts.serve(sock);
        return;
      case 'look-up':
        this.waiting.push(sock);
        this.schedule();
        return;
      case 'refuse': {
        if (uid === undefined) throw new Error('monitor admission refused a connection whose uid was not looked up');
        const refused = this.refusing.get(uid) ?? 0;
        if (refused === 0) this.opts.log(`monitor socket: ${admission.reason}; closing new ones at accept until one of them closes`);
        this.refusing.set(uid, refused + 1);
        sock.destroy();
        return;
      }
    }
  }

  private closed(sock: Socket): void {
    this.waiting = this.waiting.filter((s) => s !== sock);
    this.inFlight = this.inFlight.filter((s) => s !== sock);
    if (!this.open.has(sock)) return;
    const uid = this.open.get(sock);
    this.open.delete(sock);
    if (uid === undefined) return;
    const refused = this.refusing.get(uid);
    if (refused === undefined) return;
    // Connections admitted while uids could not be learned may keep a uid above its cap for a while.
    if (heldBy([...this.open.values()], uid) >= this.opts.limits.maxMonitorConnectionsPerUid) return;
    this.refusing.delete(uid);
    this.opts.log(`monitor socket: ${describeUid(uid)} below the per-uid cap again, after closing ${refused} connection(s) at accept`);
  }

  private schedule(): void {
    if (this.running || this.timer !== undefined || this.waiting.length === 0) return;
    const delay = this.notBefore - Date.now();
    if (delay <= 0) {
      void this.lookUp();
      return;
    }
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.schedule();
    }, delay);
    this.timer.unref();
  }

  private async lookUp(): Promise<void> {
    const started = Date.now();
    this.running = true;
    try {
      this.inFlight = this.waiting;
      this.waiting = [];
      const unresolved = [...this.open].filter(([, uid]) => uid === undefined).map(([sock]) => sock);
      const uids = await this.peerUids([...this.inFlight, ...unresolved]);
      for (const sock of unresolved) {
        const uid = uids?.get(sock);
        if (uid !== undefined && this.open.has(sock)) this.open.set(sock, uid);
      }
      const batch = this.inFlight;
      this.inFlight = [];
      for (const sock of batch) {
        if (!sock.destroyed) this.decide(sock, uids ? (uids.get(sock) ?? 'unknown') : undefined, uids !== undefined);
      }
    } finally {
      this.running = false;
    }
    const ended = Date.now();
    this.notBefore = ended + Math.max(LOOKUP_GAP_MS, ended - started);
    this.schedule();
  }

  /** The uids, or undefined when they cannot be learned now (logged once per episode). */
  private async peerUids(socks: Socket[]): Promise<Map<Socket, ClientUid> | undefined> {
    const { limits, log } = this.opts;
    const fallback = `the per-uid cap (${limits.maxMonitorConnectionsPerUid}) is not applied, only the total cap`;
    this.ss ??= locateTool('ss');
    const ss = await this.ss;
    if (ss === undefined) {
      this.canLookUp = false;
      log(`monitor socket: ss (iproute2) not found, so client uids cannot be learned: ${fallback}; install iproute2 and restart the daemon`);
      return undefined;
    }
    try {
      const uids = await peerUids(ss, socks);
      if (this.failing) log(`monitor socket: ${ss} works again; the per-uid cap applies again`);
      this.failing = false;
      return uids;
    } catch (e) {
      if (!this.failing) log(`monitor socket: cannot learn client uids (${(e as Error).message}): ${fallback} until it works again`);
      this.failing = true;
      return undefined;
    }
  }
}
