// Host-key verification against OpenSSH known_hosts text. ssh2 accepts any host key unless
// we check it ourselves, so this module reproduces OpenSSH's lookup rules (plain and hashed
// host lists, `[host]:port`, `* ? !` patterns, @revoked) and its wording, so operators see
// the messages they already know from `ssh`. Pure: text and key blobs in, verdicts out.
import { createHash, createHmac, randomBytes } from 'node:crypto';

export type KnownHostMarker = 'none' | 'revoked' | 'cert-authority';

export type HostMatcher =
  | { kind: 'hashed'; salt: Buffer; hash: Buffer }
  | { kind: 'patterns'; patterns: readonly { negated: boolean; pattern: string }[] };

export interface KnownHostEntry {
  marker: KnownHostMarker;
  hosts: HostMatcher;
  /** The key type named on the line, e.g. `ssh-ed25519`. */
  keyType: string;
  /** The decoded public key blob (what the server sends during key exchange). */
  keyBlob: Buffer;
  comment: string;
  /** Where the line came from, for "Offending key in FILE:LINE". */
  source: string;
  line: number;
}

export interface ExpectedKey {
  keyType: string;
  fingerprint: string;
  source: string;
  line: number;
}

export type HostKeyVerdict =
  | { status: 'match'; entry: KnownHostEntry }
  | {
      status: 'unknown';
      fingerprint: string;
      keyType: string;
      /** Key types already known for this host: a different type is suspicious (downgrade). */
      otherKeyTypes: string[];
      /** OpenSSH's "authenticity of host ... can't be established" text. */
      message: string;
    }
  | { status: 'changed'; fingerprint: string; keyType: string; expected: ExpectedKey[]; warning: string }
  | { status: 'revoked'; fingerprint: string; keyType: string; entry: KnownHostEntry; warning: string };

const DEFAULT_PORT = 22;

/**
 * Parses known_hosts text. Lines OpenSSH would skip (comments, blanks, malformed keys) are
 * skipped here too; @cert-authority lines are kept (marked) so callers can see them, but
 * checkHostKey ignores them because we do not verify host certificates.
 */
export function parseKnownHosts(text: string, source = 'known_hosts'): KnownHostEntry[] {
  const entries: KnownHostEntry[] = [];
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const entry = parseLine(lines[i] ?? '', source, i + 1);
    if (entry) entries.push(entry);
  }
  return entries;
}

function parseLine(raw: string, source: string, line: number): KnownHostEntry | undefined {
  const text = raw.trim();
  if (text === '' || text.startsWith('#')) return undefined;
  const fields = text.split(/[ \t]+/);
  let marker: KnownHostMarker = 'none';
  if (fields[0]?.startsWith('@')) {
    const m = fields.shift();
    if (m === '@revoked') marker = 'revoked';
    else if (m === '@cert-authority') marker = 'cert-authority';
    else return undefined; // OpenSSH rejects unknown markers
  }
  const [hostField, keyType, keyB64, ...rest] = fields;
  if (!hostField || !keyType || !keyB64) return undefined;
  const hosts = parseHostField(hostField);
  if (!hosts) return undefined;
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(keyB64)) return undefined;
  const keyBlob = Buffer.from(keyB64, 'base64');
  // A blob whose embedded type disagrees with the line is corrupt; OpenSSH skips it.
  if (blobKeyType(keyBlob) !== keyType) return undefined;
  return { marker, hosts, keyType, keyBlob, comment: rest.join(' '), source, line };
}

function parseHostField(field: string): HostMatcher | undefined {
  if (field.startsWith('|')) {
    const m = /^\|1\|([A-Za-z0-9+/=]+)\|([A-Za-z0-9+/=]+)$/.exec(field);
    if (!m) return undefined;
    const salt = Buffer.from(m[1] ?? '', 'base64');
    const hash = Buffer.from(m[2] ?? '', 'base64');
    if (salt.length !== 20 || hash.length !== 20) return undefined;
    return { kind: 'hashed', salt, hash };
  }
  const patterns = field
    .split(',')
    .filter((p) => p !== '')
    .map((p) => (p.startsWith('!') ? { negated: true, pattern: p.slice(1) } : { negated: false, pattern: p }));
  return patterns.length > 0 ? { kind: 'patterns', patterns } : undefined;
}

/** The name OpenSSH looks up: `host` on port 22, `[host]:port` otherwise. */
export function lookupName(host: string, port = DEFAULT_PORT): string {
  const h = host.toLowerCase();
  return port === DEFAULT_PORT || port === 0 ? h : `[${h}]:${port}`;
}

/** Whether an entry's host list names `host` on `port` (negations veto, as in OpenSSH). */
export function entryMatchesHost(entry: KnownHostEntry, host: string, port = DEFAULT_PORT): boolean {
  return matcherMatches(entry.hosts, lookupName(host, port));
}

function matcherMatches(m: HostMatcher, name: string): boolean {
  if (m.kind === 'hashed') {
    const h = createHmac('sha1', m.salt).update(name).digest();
    return h.equals(m.hash);
  }
  let positive = false;
  for (const p of m.patterns) {
    if (wildcardMatch(p.pattern.toLowerCase(), name)) {
      if (p.negated) return false;
      positive = true;
    }
  }
  return positive;
}

/** OpenSSH's match_pattern: `*` any run of characters, `?` exactly one; nothing else special. */
export function wildcardMatch(pattern: string, text: string): boolean {
  // Iterative with backtracking to the last `*`: linear enough and no regex escaping pitfalls.
  let p = 0;
  let t = 0;
  let star = -1;
  let mark = 0;
  while (t < text.length) {
    if (p < pattern.length && (pattern[p] === '?' || pattern[p] === text[t])) {
      p++;
      t++;
    } else if (p < pattern.length && pattern[p] === '*') {
      star = p++;
      mark = t;
    } else if (star >= 0) {
      p = star + 1;
      t = ++mark;
    } else {
      return false;
    }
  }
  while (p < pattern.length && pattern[p] === '*') p++;
  return p === pattern.length;
}

/** `SHA256:` + unpadded base64 of sha256(blob), exactly what `ssh-keygen -lf` prints. */
export function fingerprintSha256(keyBlob: Buffer): string {
  return 'SHA256:' + createHash('sha256').update(keyBlob).digest('base64').replace(/=+$/, '');
}

/** The type string embedded at the start of an SSH public key blob, or undefined if malformed. */
export function blobKeyType(blob: Buffer): string | undefined {
  if (blob.length < 4) return undefined;
  const len = blob.readUInt32BE(0);
  if (len === 0 || len > 64 || 4 + len > blob.length) return undefined;
  const type = blob.subarray(4, 4 + len).toString('latin1');
  return /^[\x21-\x7e]+$/.test(type) ? type : undefined;
}

/** The upper-case label OpenSSH uses in messages ("ED25519", "RSA", "ECDSA"). */
export function keyTypeLabel(keyType: string): string {
  const base = keyType.replace(/-cert-v01@openssh\.com$/, '');
  const cert = base !== keyType ? '-CERT' : '';
  const label =
    base === 'ssh-ed25519' ? 'ED25519'
    : base === 'sk-ssh-ed25519@openssh.com' ? 'ED25519-SK'
    : base === 'ssh-rsa' ? 'RSA'
    : base === 'ssh-dss' ? 'DSA'
    : base.startsWith('ecdsa-sha2-') ? 'ECDSA'
    : base.startsWith('sk-ecdsa-sha2-') ? 'ECDSA-SK'
    : base.toUpperCase();
  return label + cert;
}

/**
 * Checks the key a server presented for `host` (or any of several names for it, e.g. the
 * alias and the address) on `port`. Revoked beats everything; then an identical key is a
 * match; a different key of the same type is 'changed' (refuse); otherwise 'unknown'.
 */
export function checkHostKey(
  entries: readonly KnownHostEntry[],
  host: string | readonly string[],
  port: number,
  keyBlob: Buffer,
): HostKeyVerdict {
  const names = (typeof host === 'string' ? [host] : [...host]).map((h) => lookupName(h, port));
  const displayHost = typeof host === 'string' ? host : (host[0] ?? '');
  const relevant = entries.filter((e) => names.some((n) => matcherMatches(e.hosts, n)));
  const fingerprint = fingerprintSha256(keyBlob);
  const keyType = blobKeyType(keyBlob) ?? 'unknown';
  const label = keyTypeLabel(keyType);

  const revoked = relevant.find((e) => e.marker === 'revoked' && e.keyBlob.equals(keyBlob));
  if (revoked) {
    return { status: 'revoked', fingerprint, keyType, entry: revoked, warning: revokedWarning(label, displayHost, fingerprint) };
  }
  const plain = relevant.filter((e) => e.marker === 'none');
  const match = plain.find((e) => e.keyBlob.equals(keyBlob));
  if (match) return { status: 'match', entry: match };

  const sameType = plain.filter((e) => e.keyType === keyType);
  if (sameType.length > 0) {
    const expected = sameType.map((e) => ({
      keyType: e.keyType,
      fingerprint: fingerprintSha256(e.keyBlob),
      source: e.source,
      line: e.line,
    }));
    return { status: 'changed', fingerprint, keyType, expected, warning: changedWarning(label, fingerprint, expected) };
  }
  const otherKeyTypes = [...new Set(plain.map((e) => e.keyType))];
  return { status: 'unknown', fingerprint, keyType, otherKeyTypes, message: unknownMessage(displayHost, label, fingerprint, plain) };
}

/** Key types known for a host, so a client can offer only those (as OpenSSH orders them). */
export function knownKeyTypes(entries: readonly KnownHostEntry[], host: string, port: number): string[] {
  const name = lookupName(host, port);
  return [...new Set(entries.filter((e) => e.marker === 'none' && matcherMatches(e.hosts, name)).map((e) => e.keyType))];
}

const BANNER = '@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@';

function changedWarning(label: string, fingerprint: string, expected: readonly ExpectedKey[]): string {
  const first = expected[0];
  return [
    BANNER,
    '@    WARNING: REMOTE HOST IDENTIFICATION HAS CHANGED!     @',
    BANNER,
    'IT IS POSSIBLE THAT SOMEONE IS DOING SOMETHING NASTY!',
    'Someone could be eavesdropping on you right now (man-in-the-middle attack)!',
    'It is also possible that a host key has just been changed.',
    `The fingerprint for the ${label} key sent by the remote host is`,
    `${fingerprint}.`,
    'Please contact your system administrator.',
    ...(first ? [`Add correct host key in ${first.source} to get rid of this message.`] : []),
    ...expected.map((e) => `Offending ${keyTypeLabel(e.keyType)} key in ${e.source}:${e.line}`),
  ].join('\n');
}

function revokedWarning(label: string, host: string, fingerprint: string): string {
  return [
    BANNER,
    '@       WARNING: REVOKED HOST KEY DETECTED!               @',
    BANNER,
    `The ${label} host key for ${host} is marked as revoked.`,
    'This could mean that a stolen key is being used to',
    'impersonate this host.',
    `${label} key fingerprint is ${fingerprint}.`,
  ].join('\n');
}

function unknownMessage(host: string, label: string, fingerprint: string, others: readonly KnownHostEntry[]): string {
  if (others.length === 0) {
    return `The authenticity of host '${host}' can't be established.\n${label} key fingerprint is ${fingerprint}.`;
  }
  return [
    `The authenticity of host '${host}' can't be established`,
    'but keys of different type are already known for this host.',
    `${label} key fingerprint is ${fingerprint}.`,
    ...others.map(
      (e) => `WARNING: ${keyTypeLabel(e.keyType)} key found for host ${host}\nin ${e.source}:${e.line}\n${keyTypeLabel(e.keyType)} key fingerprint ${fingerprintSha256(e.keyBlob)}.`,
    ),
  ].join('\n');
}

/**
 * A known_hosts line for accepting a key (what `ssh` appends). With `hash`, each name gets
 * its own hashed line, as `ssh-keygen -H` writes them.
 */
export function knownHostsLines(
  hosts: readonly string[],
  port: number,
  keyBlob: Buffer,
  opts: { hash?: boolean; salt?: Buffer } = {},
): string[] {
  const keyType = blobKeyType(keyBlob);
  if (!keyType) throw new Error('not an SSH public key blob');
  const key = `${keyType} ${keyBlob.toString('base64')}`;
  const names = hosts.map((h) => lookupName(h, port));
  if (!opts.hash) return [`${names.join(',')} ${key}`];
  return names.map((n) => {
    const salt = opts.salt ?? randomBytes(20);
    const hash = createHmac('sha1', salt).update(n).digest();
    return `|1|${salt.toString('base64')}|${hash.toString('base64')} ${key}`;
  });
}
