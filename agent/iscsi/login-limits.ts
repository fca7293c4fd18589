// What an iSCSI client may hold before it has logged in, pure. Anyone who reaches the portal
// can open connections; until login completes nobody knows who they are, so connections in the
// login phase are capped in all and per source address, and each one has a deadline. The
// caller counts and closes; this only decides.

export interface LoginPhaseLimits {
  /** Connections in the login phase at once, from everyone. */
  maxLoginConnections: number;
  /** Connections in the login phase at once from one source address. */
  maxLoginConnectionsPerAddress: number;
  /** A connection that has not completed login by then is closed (ms). */
  loginTimeoutMs: number;
  /** A connection in full feature phase that stops in the middle of a PDU is closed after this much silence (ms). */
  stalledPduTimeoutMs: number;
}

export const DEFAULT_LOGIN_PHASE_LIMITS: LoginPhaseLimits = {
  maxLoginConnections: 64,
  maxLoginConnectionsPerAddress: 8,
  loginTimeoutMs: 15_000,
  stalledPduTimeoutMs: 30_000,
};

export type LoginAdmission = { admit: true } | { admit: false; cap: 'total' | 'per-address'; reason: string };

/** Whether one more connection, from `address`, may start a login next to those already in the login phase. */
export function loginPhaseAdmission(inLogin: { total: number; fromAddress: number }, address: string, limits: LoginPhaseLimits): LoginAdmission {
  if (inLogin.total >= limits.maxLoginConnections) {
    return { admit: false, cap: 'total', reason: `${inLogin.total} connections are logging in (at most ${limits.maxLoginConnections})` };
  }
  if (inLogin.fromAddress >= limits.maxLoginConnectionsPerAddress) {
    return { admit: false, cap: 'per-address', reason: `${inLogin.fromAddress} connections from ${address} are logging in (at most ${limits.maxLoginConnectionsPerAddress} per address)` };
  }
  return { admit: true };
}

/** The address a cap counts by: an IPv4 client seen through a dual-stack socket is the same client. */
export function sourceAddress(remote: string | undefined): string {
  return (remote ?? '?').replace(/^::ffff:/, '');
}
