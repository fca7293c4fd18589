// Whether the monitor socket takes one more connection from a uid, pure: the uids of the
// connections it holds and the new one's in; admit, look the uid up first, or refuse out.
// Learning a uid costs a process (peer-uid.ts), so it is asked only once more than
// `monitorUidLookupAbove` connections are open: a console and a few scripts never pay for it.
// The total cap is not decided here: net.Server closes a connection past it before a socket
// object exists (server.ts capConnections), and connections waiting for their uid count in it.
//
// Root is exempt: root owns the admin socket, which has no cap and can stop the daemon, so
// capping its monitor connections protects nobody, and would let a flooding user refuse root's
// checks and consoles at the per-uid cap. Its connections still count against the total.

/** A client's uid; `unknown`: looked up, and no process was found holding the client's end. */
export type ClientUid = number | 'unknown';

export interface MonitorUidLimits {
  /** Monitor connections at once from one uid (root excepted); clients whose uid is unknown share one such budget. */
  maxMonitorConnectionsPerUid: number;
  /** Uids are looked up only while more than this many monitor connections are open. */
  monitorUidLookupAbove: number;
}

export interface AdmissionInput {
  /** The uids of the connections admitted; undefined for one admitted while few were open, not looked up yet. */
  open: ReadonlyArray<ClientUid | undefined>;
  /** Connections accepted and waiting for their uid. */
  waiting: number;
  /** The new connection's uid; undefined: not looked up. */
  uid: ClientUid | undefined;
  /** false when uids cannot be learned on this host (no `ss`, or it fails): the total cap alone applies. */
  canLookUp: boolean;
}

export type Admission = { verdict: 'admit' } | { verdict: 'look-up' } | { verdict: 'refuse'; reason: string };

/**
 * Connections admitted without a lookup (at most `monitorUidLookupAbove` of them) must never put
 * a uid past its cap, or a cap learned later would have to close connections already served.
 */
export function checkMonitorUidLimits(limits: MonitorUidLimits): void {
  if (!(limits.monitorUidLookupAbove < limits.maxMonitorConnectionsPerUid)) {
    throw new Error(`monitorUidLookupAbove (${limits.monitorUidLookupAbove}) must be below maxMonitorConnectionsPerUid (${limits.maxMonitorConnectionsPerUid})`);
  }
}

export function describeUid(uid: ClientUid): string {
  return uid === 'unknown' ? 'clients whose uid could not be learned' : `uid ${uid}`;
}

/** Connections open from `uid`; those not looked up yet count for nobody. */
export function heldBy(open: ReadonlyArray<ClientUid | undefined>, uid: ClientUid): number {
  return open.filter((u) => u === uid).length;
}

export function monitorAdmission(input: AdmissionInput, limits: MonitorUidLimits): Admission {
  const { uid } = input;
  if (uid === undefined) {
    const opened = input.open.length + input.waiting + 1;
    return input.canLookUp && opened > limits.monitorUidLookupAbove ? { verdict: 'look-up' } : { verdict: 'admit' };
  }
  if (uid === 0) return { verdict: 'admit' };
  const held = heldBy(input.open, uid);
  if (held < limits.maxMonitorConnectionsPerUid) return { verdict: 'admit' };
  return { verdict: 'refuse', reason: `${describeUid(uid)}: ${held} monitor connections open (at most ${limits.maxMonitorConnectionsPerUid} per uid)` };
}
