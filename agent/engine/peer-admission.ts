// Which inbound TCP connections the peer port takes at all, as a pure function: peer-link.ts
// asks before it reads a byte. Only the configured peer address may connect (anyone else is
// closed at once, holding nothing), and at most MAX_UNAUTHENTICATED connections may be in the
// handshake at a time: each holds a socket, at most MAX_HANDSHAKE_PAYLOAD × 4 bytes of input
// and a handshake timer (5 s by default), so a flood from the peer's address is bounded by
// these, not by how fast it connects. Since one source address is admitted, the cap per
// source is the cap in total.

export const MAX_UNAUTHENTICATED = 4;

export interface AdmissionInput {
  /** Normalized source IP of the new connection. */
  remoteIp: string;
  /** The configured peer address. */
  peerIp: string;
  /** Connections from it that have not authenticated yet. */
  unauthenticated: number;
  running: boolean;
}

export type Admission = { ok: true } | { ok: false; error: string };

export function admitConnection(i: AdmissionInput): Admission {
  if (!i.running) return { ok: false, error: 'link is stopped' };
  if (i.remoteIp !== i.peerIp) return { ok: false, error: `connection from ${i.remoteIp} refused: only the peer ${i.peerIp} may connect` };
  if (i.unauthenticated >= MAX_UNAUTHENTICATED) return { ok: false, error: `connection from ${i.remoteIp} refused: ${MAX_UNAUTHENTICATED} connections already in the handshake` };
  return { ok: true };
}
