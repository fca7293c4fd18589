// TLS on the peer link (net.tls psk): what the two sides agree on and how a failed TLS
// handshake reads. peer-link.ts owns the sockets.
//
// Both hosts already share net.shared-secret, so the TLS key is derived from it (pre-shared
// key, no certificates to distribute). HKDF with its own label keeps the TLS key apart from
// the HMAC handshake's key: knowing one tells nothing about the other. Node 20 offers PSK only
// up to TLS 1.2; DHE-PSK with AES-256-GCM gives forward secrecy (a later leak of the secret
// does not decrypt recorded traffic) and runs on AES instructions.
//
// The authenticated handshake (peer-auth.ts) still runs inside TLS: TLS proves the peer knows
// the secret, the handshake checks node identities, resource and session as without TLS.
import { hkdfSync } from 'node:crypto';
import type { ConnectionOptions, TlsOptions } from 'node:tls';

export const TLS_CIPHER = 'DHE-PSK-AES256-GCM-SHA384';
const HKDF_SALT = 'drbd-tui/peer-link';
const HKDF_INFO = 'tls-psk/v1/';

/** The pre-shared key of a resource's peer link, 32 bytes. */
export function peerTlsKey(secret: string | Buffer, resource: string): Buffer {
  return Buffer.from(hkdfSync('sha256', secret, HKDF_SALT, HKDF_INFO + resource, 32));
}

const COMMON = { minVersion: 'TLSv1.2', maxVersion: 'TLSv1.2', ciphers: TLS_CIPHER } as const;

/** For tls.connect: the identity is the resource, so one listener can tell keys apart if it ever must. */
export function tlsDialOptions(key: Buffer, resource: string): ConnectionOptions {
  return {
    ...COMMON,
    pskCallback: () => ({ psk: key, identity: resource }),
    // No certificate: the key is the proof, so there is no server name to check.
    checkServerIdentity: () => undefined,
  };
}

/** For new TLSSocket(accepted, { isServer: true, … }). */
export function tlsAcceptOptions(key: Buffer, resource: string): TlsOptions {
  return {
    ...COMMON,
    dhparam: 'auto',
    pskCallback: (_socket, identity) => (identity === resource ? key : null),
  };
}

/** A TLS record starts with a content type 20..23 and major version 3; a frame starts with "DRTP". */
export function looksLikeTls(first: Buffer): boolean {
  return first.length >= 2 && first[0]! >= 0x14 && first[0]! <= 0x17 && first[1] === 0x03;
}

export type TlsFailure =
  /** The other end speaks plain frames (a plain side sends its Hello at once: that is no TLS record). */
  | { kind: 'peer-plain' }
  /** The handshake's MAC did not check: the keys differ, so the shared secrets do. */
  | { kind: 'key-mismatch' }
  | { kind: 'other'; code: string };

/** OpenSSL's reasons, as the text of its error: Node gives them as ERR_SSL_… codes, or inside an EPROTO write error. */
const PEER_PLAIN = ['wrong version number', 'alert protocol version', 'unsupported protocol', 'packet length too long', 'record length mismatch'];
const KEY_MISMATCH = ['bad record mac', 'cipher operation failed', 'decrypt error', 'digest check failed', 'unknown psk identity'];

/** Reads an error from a TLS socket before authentication; undefined: not a TLS error (a socket error as on plain TCP). */
export function tlsFailure(err: { code?: string | undefined; message: string }): TlsFailure | undefined {
  const code = err.code ?? '';
  if (!code.startsWith('ERR_SSL_') && code !== 'EPROTO') return undefined;
  const text = `${code.slice(8).replace(/_/g, ' ')} ${err.message}`.toLowerCase();
  if (PEER_PLAIN.some((r) => text.includes(r))) return { kind: 'peer-plain' };
  if (KEY_MISMATCH.some((r) => text.includes(r))) return { kind: 'key-mismatch' };
  return { kind: 'other', code };
}

/** The problem a mismatch shows while Connecting: who is plain, and the fix. */
export function tlsMismatchProblem(peer: string, weSpeakTls: boolean): string {
  return weSpeakTls
    ? `${peer} does not speak TLS on the peer link: set net.tls psk on both hosts, or on neither`
    : `${peer} speaks TLS on the peer link and this host does not: set net.tls psk on both hosts, or on neither`;
}
