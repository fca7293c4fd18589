// Parsers for the scalar values both file formats share (sizes, rates, addresses, iSCSI
// names, split-brain policies). Each returns the value or a message that says what is
// wrong and how to write it; callers add the file position. None of them ever echoes a
// secret, because none of them is given one.

export type Parsed<T> = { ok: true; value: T } | { ok: false; message: string };

export const ok = <T>(value: T): Parsed<T> => ({ ok: true, value });
export const fail = <T>(message: string): Parsed<T> => ({ ok: false, message });

/** Quotes a user-written value for a message, shortened so one bad line cannot flood a screen. */
export function shown(v: unknown): string {
  if (v === undefined) return 'nothing';
  if (v === null) return 'an empty value';
  if (typeof v === 'string') return JSON.stringify(v.length > 60 ? `${v.slice(0, 57)}...` : v);
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  if (Array.isArray(v)) return 'a list';
  return 'a mapping';
}

export const RESOURCE_NAME = /^[A-Za-z0-9_.-]+$/;
// What `uname -n` can return: letters, digits, '-', '.', '_' (DRBD compares it verbatim).
export const HOST_NAME = /^[A-Za-z0-9_][A-Za-z0-9_.-]*$/;

const UNITS: Record<string, number> = {
  '': 1,
  b: 1,
  k: 1024,
  kib: 1024,
  m: 1024 ** 2,
  mib: 1024 ** 2,
  g: 1024 ** 3,
  gib: 1024 ** 3,
  t: 1024 ** 4,
  tib: 1024 ** 4,
};

/**
 * Sizes as people write them for disks: `1GiB`, `512MiB`, `10G` (binary, like LVM and DRBD),
 * or plain bytes. `GB`-style suffixes are refused rather than guessed: half the tools mean
 * 10^9 by them and the other half 2^30, and a disk that is 7% too small fails at create-md.
 * With `perSecond`, a rate: the same with an optional `/s` (`100MiB/s`).
 */
export function parseSize(v: unknown, perSecond = false): Parsed<number> {
  const s = perSecond ? '/s' : '';
  const what = perSecond ? 'a rate like 100MiB/s, 40M or plain bytes per second' : 'a size like 512MiB, 1GiB, 10G or plain bytes';
  if (typeof v === 'number') {
    if (Number.isSafeInteger(v) && v > 0) return ok(v);
    return fail(`must be ${what}: a positive whole number of bytes${s} (got ${shown(v)})`);
  }
  if (typeof v !== 'string') return fail(`must be ${what} (got ${shown(v)})`);
  const m = (perSecond ? /^\s*(\d+(?:\.\d+)?)\s*([A-Za-z]*)\s*(?:\/\s*s(?:ec)?)?\s*$/i : /^\s*(\d+(?:\.\d+)?)\s*([A-Za-z]*)\s*$/).exec(v);
  const unit = m?.[2]?.toLowerCase() ?? '';
  if (m && /^[kmgt]b$/.test(unit)) {
    const u = unit[0]!.toUpperCase();
    const i = 'KMGT'.indexOf(u);
    return fail(`${shown(v)} is ambiguous (10^${i * 3 + 3} or 2^${i * 10 + 10}?): write ${m[1]}${u}iB${s} for the binary unit, or the exact number of bytes${s}`);
  }
  const mult = m ? UNITS[unit] : undefined;
  if (!m || mult === undefined) {
    return fail(`must be ${what} (got ${shown(v)}); units are K/KiB, M/MiB, G/GiB, T/TiB, all powers of 1024`);
  }
  const bytes = Number(m[1]) * mult;
  if (!Number.isSafeInteger(bytes) || bytes <= 0) {
    return fail(`must be a positive whole number of bytes${s} (${shown(v)} is ${bytes} bytes${s})`);
  }
  return ok(bytes);
}

/** A rate in bytes per second: a size with an optional `/s`, e.g. `100MiB/s`. */
export function parseRate(v: unknown): Parsed<number> {
  return parseSize(v, true);
}

export interface Address {
  /** As written (without DRBD's address family word): `10.0.0.1:7789`, `[fd00::1]:7789`. */
  address: string;
  host: string;
  port: number;
}

const IPV4 = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;
const HOSTNAME = /^(?=.{1,253}$)[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/;

function isIpv6(s: string): boolean {
  if (!/^[0-9A-Fa-f:.]+$/.test(s) || s.length < 2) return false;
  const dbl = s.split('::');
  if (dbl.length > 2) return false;
  const groups = (part: string) => (part === '' ? [] : part.split(':'));
  const all = dbl.flatMap(groups);
  const last = all[all.length - 1];
  let count = all.length;
  if (last !== undefined && last.includes('.')) {
    if (!IPV4.test(last)) return false;
    all.pop();
    count += 1; // an embedded IPv4 address fills two groups
  }
  if (!all.every((g) => /^[0-9A-Fa-f]{1,4}$/.test(g))) return false;
  return dbl.length === 2 ? count < 8 : count === 8;
}

/** `host:port` with an IPv4 address, a host name, or `[IPv6]:port`. */
export function parseAddress(v: unknown, example = '10.77.0.11:7789'): Parsed<Address> {
  if (typeof v !== 'string') {
    return fail(`must be host:port, e.g. ${example} (got ${shown(v)})`);
  }
  const s = v.trim();
  let host: string;
  let portText: string;
  const v6 = /^\[([^\]]*)\]:(.*)$/.exec(s);
  if (v6) {
    host = v6[1]!;
    portText = v6[2]!;
    if (!isIpv6(host)) return fail(`has an invalid IPv6 address ${shown(host)} in brackets: write e.g. [fd00::11]:7789`);
  } else {
    const i = s.lastIndexOf(':');
    if (i < 0) return fail(`must be host:port, e.g. ${example}: the port is missing (got ${shown(v)})`);
    host = s.slice(0, i);
    portText = s.slice(i + 1);
    if (host.includes(':')) return fail(`looks like an IPv6 address without brackets: write [address]:port, e.g. [fd00::11]:7789 (got ${shown(v)})`);
    if (/^[\d.]+$/.test(host)) {
      if (!IPV4.test(host)) return fail(`has an invalid IPv4 address ${shown(host)} (got ${shown(v)})`);
    } else if (!HOSTNAME.test(host)) {
      return fail(`must be host:port with an IPv4 address, a host name or [IPv6] (got ${shown(v)})`);
    }
  }
  if (!/^\d{1,5}$/.test(portText) || Number(portText) < 1 || Number(portText) > 65535) {
    return fail(`has an invalid port ${shown(portText)}: a port is a number from 1 to 65535 (got ${shown(v)})`);
  }
  return ok({ address: s, host, port: Number(portText) });
}

/**
 * iSCSI names (RFC 3720 §3.2.6): `iqn.YYYY-MM.reversed.domain[:anything]` or `eui.` and 16
 * hex digits. Names are compared case-insensitively by initiators after stringprep, so we
 * insist on the canonical lower case rather than exporting a target Windows cannot match.
 */
export function parseIqn(v: unknown): Parsed<string> {
  const example = 'iqn.2026-11.com.example:r0';
  if (typeof v !== 'string' || v === '') return fail(`must be an iSCSI name like ${example} (got ${shown(v)})`);
  if (v.length > 223) return fail(`is ${v.length} bytes long; iSCSI names are at most 223 bytes (RFC 3720)`);
  if (/^eui\./i.test(v)) {
    if (/^eui\.[0-9A-Fa-f]{16}$/.test(v)) return ok(v);
    return fail(`must be eui. followed by exactly 16 hex digits, e.g. eui.02004567A425678D (got ${shown(v)})`);
  }
  if (!/^iqn\./i.test(v)) return fail(`must start with iqn. (or eui.), e.g. ${example} (got ${shown(v)})`);
  if (v !== v.toLowerCase()) return fail(`must be lower case (iSCSI names are case-folded by RFC 3722): write ${shown(v.toLowerCase())}`);
  const m = /^iqn\.(\d{4})-(\d{2})\.([^:]+)(?::(.*))?$/.exec(v);
  if (!m) return fail(`must be iqn.YYYY-MM.reversed.domain[:name], e.g. ${example} (got ${shown(v)})`);
  const month = Number(m[2]);
  if (month < 1 || month > 12) return fail(`has month ${m[2]}: the date after iqn. is the year and month (01-12) your organisation owned the domain, e.g. ${example}`);
  if (!/^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*$/.test(m[3]!)) {
    return fail(`has ${shown(m[3])} where a reversed domain name belongs (like com.example), e.g. ${example}`);
  }
  if (m[4] !== undefined && !/^[a-z0-9.:-]+$/.test(m[4])) {
    return fail(`may only use a-z, 0-9, '.', '-' and ':' after the domain (got ${shown(v)})`);
  }
  return ok(v);
}

/**
 * A name an initiator sent (InitiatorName, TargetName), read as RFC 3722 reads it: folded to
 * lower case first (initiators send mixed case, e.g. VMware's), and naa. names allowed too
 * (RFC 7143 §4.2.7.5). Our own names in config stay strict (parseIqn).
 */
export function parseIscsiName(v: string): Parsed<string> {
  const folded = v.toLowerCase();
  if (/^naa\.[0-9a-f]{16}([0-9a-f]{16})?$/.test(folded)) return ok(folded);
  if (/^naa\./.test(folded)) return fail(`must be naa. followed by 16 or 32 hex digits (got ${shown(v)})`);
  return parseIqn(folded);
}

export const AFTER_SB_0PRI = [
  'disconnect',
  'discard-younger-primary',
  'discard-older-primary',
  'discard-zero-changes',
  'discard-least-changes',
  'discard-node-NAME',
] as const;
export const AFTER_SB_1PRI = ['disconnect', 'consensus', 'discard-secondary', 'call-pri-lost-after-sb'] as const;
export const AFTER_SB_2PRI = ['disconnect', 'call-pri-lost-after-sb'] as const;

/** net.tls: how the peer link is encrypted; none (the default) is plain TCP. */
export const PEER_TLS_MODES = ['psk', 'none'] as const;
export type PeerTlsMode = (typeof PEER_TLS_MODES)[number];

export function parsePeerTls(v: unknown): Parsed<PeerTlsMode> {
  if (v === 'psk' || v === 'none') return ok(v);
  // DRBD 9.2 spells its kernel TLS (certificates through tlshd) "tls yes": a different mechanism.
  if (v === 'yes' || v === true) return fail('yes is DRBD\'s kernel TLS with certificates, which drbd-tui does not use: write psk (TLS with a key derived from shared-secret) or none');
  return fail(`must be psk or none (got ${shown(v)})`);
}

/**
 * Checks a split-brain policy against DRBD's allowed values. `discard-node-NAME` is only
 * checked for shape here; that NAME is one of the hosts is a whole-file check.
 */
export function parsePolicy(v: unknown, allowed: readonly string[]): Parsed<string> {
  const list = allowed.join(', ');
  if (typeof v !== 'string') return fail(`must be one of ${list} (got ${shown(v)})`);
  if (allowed.includes(v)) return ok(v);
  if (allowed.includes('discard-node-NAME') && v.startsWith('discard-node-') && HOST_NAME.test(v.slice(13))) return ok(v);
  const hint = didYouMean(v, allowed.filter((a) => !a.endsWith('NAME')));
  return fail(`must be one of ${list} (got ${shown(v)})${hint ? `; did you mean "${hint}"?` : ''}`);
}

/** Edit distance, for "did you mean" hints on misspelt keys and values. */
export function editDistance(a: string, b: string): number {
  const prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let diag = prev[0]!;
    prev[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const up = prev[j]!;
      prev[j] = Math.min(up + 1, prev[j - 1]! + 1, diag + (a[i - 1] === b[j - 1] ? 0 : 1));
      diag = up;
    }
  }
  return prev[b.length]!;
}

/** The closest candidate when it is close enough to be a typo (or differs only in `_`/`-`/case). */
export function didYouMean(word: string, candidates: readonly string[]): string | undefined {
  const norm = (s: string) => s.toLowerCase().replace(/_/g, '-');
  let best: string | undefined;
  let bestD = Infinity;
  for (const c of candidates) {
    const d = norm(word) === norm(c) ? 0 : editDistance(norm(word), norm(c));
    if (d < bestD) {
      best = c;
      bestD = d;
    }
  }
  const limit = Math.max(1, Math.min(3, Math.floor(word.length / 3)));
  return bestD <= limit ? best : undefined;
}

export interface ServiceAddress {
  /** The IPv4 address, without the prefix. */
  address: string;
  /** The prefix length of the subnet it belongs to (0..32 would be accepted by ip, 8..32 is what makes sense on a LAN). */
  prefix: number;
}

/**
 * `ADDR/PREFIX`, IPv4 only: the address the Primary adds for its initiators (iscsi.service-address).
 * IPv6 would need neighbour advertisements instead of gratuitous ARP; refused until that exists.
 */
export function parseServiceAddress(v: unknown): Parsed<ServiceAddress> {
  const example = '10.77.0.100/24';
  if (typeof v !== 'string') return fail(`must be an IPv4 address with its prefix length, e.g. ${example} (got ${shown(v)})`);
  const m = /^\s*([^/\s]+)\/(\S*)\s*$/.exec(v);
  if (!m) return fail(`must be an IPv4 address with its prefix length, e.g. ${example}: the /prefix is missing (got ${shown(v)})`);
  const [, address, prefixText] = m as unknown as [string, string, string];
  if (address.includes(':')) return fail(`must be an IPv4 address (IPv6 service addresses are not supported: initiators would need neighbour advertisements, not gratuitous ARP), e.g. ${example} (got ${shown(v)})`);
  if (!IPV4.test(address)) return fail(`has an invalid IPv4 address ${shown(address)}, e.g. ${example}`);
  if (!/^\d{1,2}$/.test(prefixText) || Number(prefixText) < 8 || Number(prefixText) > 32) {
    return fail(`has prefix length ${shown(prefixText)}: it is the subnet's length from 8 to 32, e.g. ${example}`);
  }
  const first = Number(address.split('.')[0]);
  if (address === '0.0.0.0' || first === 127 || first >= 224) return fail(`${shown(address)} cannot be a service address: use a unicast address of the initiators' subnet, e.g. ${example}`);
  return ok({ address, prefix: Number(prefixText) });
}

/** A network interface name as the kernel allows it (IFNAMSIZ 16: at most 15 characters, no '/' or blanks). */
export function parseInterfaceName(v: unknown): Parsed<string> {
  if (typeof v === 'string' && /^[A-Za-z0-9_.:@-]{1,15}$/.test(v) && v !== '.' && v !== '..') return ok(v);
  return fail(`must be a network interface name as ip link shows it, e.g. eth0 (at most 15 characters; got ${shown(v)})`);
}
