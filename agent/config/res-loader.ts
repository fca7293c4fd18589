// Loads a DRBD .res file (DRBD 8.4 and 9 style, and 8.x without node-id or volume blocks)
// into the same Draft as the YAML loader, so an existing DRBD setup can be imported as is.
//
// Honoured:
//   resource NAME { ... }                      exactly one per file
//   protocol A|B|C;                            at resource level or in net { }
//   net { protocol; shared-secret; after-sb-0pri; after-sb-1pri; after-sb-2pri;
//         ping-timeout (tenths of a second, as in DRBD); c-max-rate (KiB/s, or K/M/G);
//         tls psk|none (beyond DRBD: see the README's Security section) }
//   disk { c-max-rate }                        DRBD 8.4+ keeps the resync controller here
//   volume N { device; disk; meta-disk; }      at resource level or inside on HOST { }
//   device /dev/drbdN | device minor N | device /dev/X minor N;  disk PATH;  meta-disk internal;
//                                              directly in the resource or an on section: volume 0
//   on HOST { node-id N; address [ipv4|ipv6] ADDR:PORT; ... }  node ids by order when none given
// Accepted and ignored: global { }, startup { }, handlers { }, options { }, syncer { }, skip { },
//   every other option of disk { }, cram-hmac-alg (our peer link always uses its own HMAC), and
//   the DRBD net tunables listed in IGNORED_NET (timeouts, buffers, digests: the engine's own).
import type { AfterSb1Pri, AfterSb2Pri, ConfigError, Protocol } from './types.js';
import { DEFAULTS, SHARED_SECRET_WHY, finish, sortErrors } from './draft.js';
import type { At, Draft, DraftHost, DraftVolume, LoadOptions, Loc, Located } from './draft.js';
import { parseStatements, tokenize } from './res-syntax.js';
import type { Statement, Token } from './res-syntax.js';
import { AFTER_SB_0PRI, AFTER_SB_1PRI, AFTER_SB_2PRI, HOST_NAME, RESOURCE_NAME, didYouMean, parseAddress, parsePeerTls, parsePolicy, shown } from './values.js';
import type { PeerTlsMode } from './values.js';
import type { Address } from './values.js';

const IGNORED_BLOCKS = ['global', 'startup', 'handlers', 'options', 'syncer', 'skip'];
const IGNORED_NET = [
  'cram-hmac-alg',
  'timeout',
  'connect-int',
  'ping-int',
  'max-buffers',
  'max-epoch-size',
  'ko-count',
  'sndbuf-size',
  'rcvbuf-size',
  'unplug-watermark',
  'always-asbp',
  'rr-conflict',
  'data-integrity-alg',
  'tcp-cork',
  'on-congestion',
  'congestion-fill',
  'congestion-extents',
  'csums-alg',
  'csums-after-crash-only',
  'verify-alg',
  'use-rle',
  'fencing',
  'transport',
  'socket-check-timeout',
  'discard-my-data',
];
const NET_KEYS = ['protocol', 'shared-secret', 'after-sb-0pri', 'after-sb-1pri', 'after-sb-2pri', 'ping-timeout', 'c-max-rate', 'allow-two-primaries', 'tls'];
const RESOURCE_KEYS = ['protocol', 'net', 'disk', 'device', 'meta-disk', 'flexible-meta-disk', 'volume', 'on', ...IGNORED_BLOCKS];
const ON_KEYS = ['node-id', 'address', 'device', 'disk', 'meta-disk', 'flexible-meta-disk', 'volume'];
const VOLUME_KEYS = ['device', 'disk', 'meta-disk', 'flexible-meta-disk'];
const UNSUPPORTED: Record<string, string> = {
  connection: 'connection sections are not supported: drbd-tui pairs two hosts; give each "on HOST { node-id N; address A:P; }"',
  'connection-mesh': 'connection-mesh is not supported: drbd-tui pairs exactly two hosts, described by their on sections',
  floating: 'floating sections are not supported: use on HOST { ... } with the host name uname -n prints',
  'stacked-on-top-of': 'stacked resources are not supported',
  common: 'common sections are not supported: put these options into the resource itself',
  include: 'include is not supported: put one resource per file in the config directory',
};


interface Paths {
  at?: At;
  device?: Loc<string>;
  disk?: Loc<string>;
  metaDisk?: Token;
}

interface RawHost {
  name: Token;
  /** Set when written at all, even if invalid, so one mistake is not reported twice. */
  wrote: Set<string>;
  nodeId?: Loc<number>;
  address?: Loc<Address>;
  vols: Map<number, Paths>;
}

const at = (t: Token): At => ({ line: t.line, col: t.col });

export function parseResLocated(file: string, text: string, opts: LoadOptions = {}): Located {
  const errors: ConfigError[] = [];
  const err = (a: At, message: string) => errors.push({ file, line: a.line, col: a.col, message });
  const lines = text.split('\n');
  const eof = { line: lines.length, col: (lines[lines.length - 1] ?? '').length + 1 };

  const toks = tokenize(text);
  if ('error' in toks) return { errors: [{ file, ...toks.error }] };
  const parsed = parseStatements(toks.tokens, eof);
  if ('error' in parsed) return { errors: [{ file, ...parsed.error }] };

  // A statement whose words run over several lines almost always lost its `;`, and then
  // swallowed the next statement: say that, and skip the whole-file checks it would upset.
  let swallowed = false;
  const runOn = (s: Statement): string | undefined => {
    const next = s.args.find((a) => a.line !== s.key.line);
    if (!next) return undefined;
    swallowed = true;
    const own = s.args.filter((a) => a.line === s.key.line).map((a) => a.text);
    return `missing ; at the end of line ${s.key.line}: "${[s.key.text, ...own].join(' ')}" runs into "${next.text}" on line ${next.line}`;
  };
  const shape = (s: Statement, message: string) => err(at(s.key), runOn(s) ?? message);
  const one = (s: Statement, example: string): Token | undefined => {
    if (s.block || s.args.length !== 1) {
      shape(s, `${s.key.text} takes one value, e.g. ${example}`);
      return undefined;
    }
    return s.args[0];
  };
  // Keywords a typo probably meant: not reported again as missing.
  const meant = new Set<string>();
  const unknown = (s: Statement, where: string, known: readonly string[]) => {
    const unsupported = UNSUPPORTED[s.key.text];
    if (unsupported) return err(at(s.key), unsupported);
    const hint = didYouMean(s.key.text, known);
    if (hint) meant.add(`${where}/${hint}`);
    err(at(s.key), `unknown keyword "${s.key.text}" in ${where}${hint ? `; did you mean "${hint}"?` : `; known here: ${known.join(', ')}`}`);
  };
  const once = <T>(prev: T | undefined, s: Statement): boolean => {
    if (prev === undefined) return true;
    err(at(s.key), `${s.key.text} is set twice in the same section; keep one`);
    return false;
  };

  const resources = parsed.statements.filter((s) => s.key.text === 'resource');
  for (const s of parsed.statements) {
    if (s.key.text === 'resource' || IGNORED_BLOCKS.includes(s.key.text)) continue;
    unknown(s, 'the file (only resource NAME { ... } belongs at the top)', ['resource', ...IGNORED_BLOCKS]);
  }
  resources.slice(1).forEach((s) => err(at(s.key), `this file defines a second resource${s.args[0] ? ` (${s.args[0].text})` : ''}: put one resource per file`));
  const res = resources[0];
  if (!res) {
    if (errors.length === 0) err({ line: 1, col: 1 }, 'no resource found: expected resource NAME { ... }');
    return { errors: sortErrors(errors) };
  }
  const nameTok = res.args[0];
  if (!res.block || res.args.length !== 1 || !nameTok) {
    err(at(res.key), 'expected resource NAME { ... } with one name');
    return { errors: sortErrors(errors) };
  }
  if (!RESOURCE_NAME.test(nameTok.text)) err(at(nameTok), `resource name ${shown(nameTok.text)} must be made of letters, digits, '_', '.' and '-'`);

  let protocol: Loc<Protocol> | undefined;
  let sharedSecret: Token | undefined;
  let netAt: At | undefined;
  let sb0: Loc<string> | undefined;
  let sb1: Loc<string> | undefined;
  let sb2: Loc<string> | undefined;
  let maxRate: Loc<number> | undefined;
  let pingTimeout: Loc<number> | undefined;
  let tls: Loc<PeerTlsMode> | undefined;
  const resVols = new Map<number, Paths>();
  const hosts: RawHost[] = [];

  const setProtocol = (s: Statement) => {
    const t = one(s, 'protocol C;');
    if (!t) return;
    if (t.text !== 'A' && t.text !== 'B' && t.text !== 'C') {
      const hint = /^[abc]$/.test(t.text) ? `; write it in capitals: ${t.text.toUpperCase()}` : '';
      return err(at(t), `protocol must be A, B or C (got ${shown(t.text)})${hint}`);
    }
    if (protocol && protocol.value !== t.text) return err(at(t), `protocol ${t.text} contradicts protocol ${protocol.value} at ${protocol.at.line}:${protocol.at.col}; keep one`);
    protocol = { value: t.text, at: at(t) };
  };

  const rate = (s: Statement): Loc<number> | undefined => {
    const t = one(s, 'c-max-rate 100M;');
    if (!t) return undefined;
    const m = /^(\d+)([kKmMgG]?)$/.exec(t.text);
    const unit = { '': 1024, k: 1024, m: 1024 ** 2, g: 1024 ** 3 }[(m?.[2] ?? '').toLowerCase()];
    if (!m || unit === undefined || Number(m[1]) === 0) {
      err(at(t), `c-max-rate must be a rate in KiB/s, or with a K, M or G suffix, e.g. c-max-rate 100M; (got ${shown(t.text)})`);
      return undefined;
    }
    return { value: Number(m[1]) * unit, at: at(t) };
  };

  const netBlock = (block: Statement[]) => {
    for (const s of block) {
      const k = s.key.text;
      if (k === 'protocol') setProtocol(s);
      else if (k === 'shared-secret') {
        if (!once(sharedSecret, s)) continue;
        // Never quote the secret back, even when the statement is malformed.
        if (s.block || s.args.length !== 1) shape(s, 'shared-secret takes one value in double quotes, e.g. shared-secret "a long random string";');
        else sharedSecret = s.args[0];
      } else if (k === 'after-sb-0pri' || k === 'after-sb-1pri' || k === 'after-sb-2pri') {
        const allowed = k === 'after-sb-0pri' ? AFTER_SB_0PRI : k === 'after-sb-1pri' ? AFTER_SB_1PRI : AFTER_SB_2PRI;
        const prev = k === 'after-sb-0pri' ? sb0 : k === 'after-sb-1pri' ? sb1 : sb2;
        if (!once(prev, s)) continue;
        const t = one(s, `${k} disconnect;`);
        if (!t) continue;
        const r = parsePolicy(t.text, allowed);
        if (!r.ok) {
          err(at(t), `${k} ${r.message}`);
          continue;
        }
        const l = { value: r.value, at: at(t) };
        if (k === 'after-sb-0pri') sb0 = l;
        else if (k === 'after-sb-1pri') sb1 = l;
        else sb2 = l;
      } else if (k === 'ping-timeout') {
        if (!once(pingTimeout, s)) continue;
        const t = one(s, 'ping-timeout 5;');
        if (!t) continue;
        const n = Number(t.text);
        if (!/^\d+$/.test(t.text) || n < 1 || n > 300) {
          err(at(t), `ping-timeout is in tenths of a second and must be a whole number from 1 to 300 (got ${shown(t.text)})`);
        } else pingTimeout = { value: n / 10, at: at(t) };
      } else if (k === 'tls') {
        if (!once(tls, s)) continue;
        const t = one(s, 'tls psk;');
        if (!t) continue;
        const r = parsePeerTls(t.text);
        if (r.ok) tls = { value: r.value, at: at(t) };
        else err(at(t), `tls ${r.message}`);
      } else if (k === 'c-max-rate') {
        if (once(maxRate, s)) maxRate = rate(s);
      } else if (k === 'allow-two-primaries') {
        if (s.args[0]?.text !== 'no') err(at(s.key), 'allow-two-primaries is not supported: drbd-tui exports each volume from one Primary; remove it');
      } else if (!IGNORED_NET.includes(k)) {
        unknown(s, 'net', [...NET_KEYS, ...IGNORED_NET]);
      }
    }
  };

  // `disk { }` holds disk options; only the resync ceiling matters to the engine.
  const diskOptions = (block: Statement[]) => {
    for (const s of block) if (s.key.text === 'c-max-rate' && once(maxRate, s)) maxRate = rate(s);
  };

  const pathStmt = (s: Statement, p: Paths): boolean => {
    const k = s.key.text;
    if (k === 'disk' && s.block) {
      diskOptions(s.block);
      return true;
    }
    if (k === 'device') {
      if (!once(p.device, s)) return true;
      const a = s.args.map((t) => t.text);
      const first = s.args[0];
      if (!s.block && first && a.length === 2 && a[0] === 'minor' && /^\d+$/.test(a[1]!)) p.device = { value: `/dev/drbd${a[1]}`, at: at(first) };
      else if (!s.block && first && a[0]!.startsWith('/') && (a.length === 1 || (a.length === 3 && a[1] === 'minor' && /^\d+$/.test(a[2]!)))) {
        p.device = { value: a[0]!, at: at(first) };
      } else shape(s, 'device must be a path or a minor number, e.g. device /dev/drbd1; or device minor 1;');
      p.at ??= at(s.key);
      return true;
    }
    if (k === 'disk') {
      if (!once(p.disk, s)) return true;
      const t = one(s, 'disk /dev/sdb1;');
      if (t?.text === 'none') err(at(t), 'disk none (a diskless node) is not supported: each host needs its own backing disk');
      else if (t && !t.text.startsWith('/')) err(at(t), `disk must be an absolute path to a block device or file, e.g. disk /dev/sdb1; (got ${shown(t.text)})`);
      else if (t) p.disk = { value: t.text, at: at(t) };
      p.at ??= at(s.key);
      return true;
    }
    if (k === 'meta-disk' || k === 'flexible-meta-disk') {
      if (!once(p.metaDisk, s)) return true;
      const t = one(s, `${k} internal;`);
      if (t && t.text !== 'internal') err(at(t), `${k} must be internal (got ${shown(t.text)}): drbd-tui keeps its metadata at the end of the backing disk; external meta-disks are not supported`);
      else if (t) p.metaDisk = t;
      return true;
    }
    return false;
  };

  const volumeBlock = (s: Statement, into: Map<number, Paths>) => {
    const t = s.args[0];
    if (!s.block || s.args.length !== 1 || !t) return err(at(s.key), 'expected volume N { device ...; disk ...; meta-disk internal; }');
    const n = Number(t.text);
    if (!/^\d+$/.test(t.text) || n > 65535) return err(at(t), `volume number must be a whole number from 0 to 65535 (got ${shown(t.text)})`);
    if (into.has(n)) return err(at(t), `volume ${n} is defined twice in the same section; keep one`);
    const p: Paths = { at: at(t) };
    into.set(n, p);
    for (const v of s.block) if (!pathStmt(v, p)) unknown(v, `volume ${n}`, VOLUME_KEYS);
  };

  const onBlock = (s: Statement) => {
    const name = s.args[0];
    if (!s.block || s.args.length !== 1 || !name) return err(at(s.key), 'expected on HOST { node-id N; address A:P; } with one host name (as uname -n prints it)');
    if (!HOST_NAME.test(name.text)) err(at(name), `host name ${shown(name.text)} must be the host's name as uname -n prints it (letters, digits, '-', '.', '_')`);
    const h: RawHost = { name, wrote: new Set(), vols: new Map() };
    hosts.push(h);
    const direct: Paths = {};
    for (const x of s.block) {
      const k = x.key.text;
      h.wrote.add(k);
      if (k === 'node-id') {
        if (!once(h.nodeId, x)) continue;
        const t = one(x, 'node-id 0;');
        if (t && (!/^\d+$/.test(t.text) || Number(t.text) > 31)) err(at(t), `node-id must be a whole number from 0 to 31 (got ${shown(t.text)})`);
        else if (t) h.nodeId = { value: Number(t.text), at: at(t) };
      } else if (k === 'address') {
        if (!once(h.address, x)) continue;
        const fam = x.args.length === 2 ? x.args[0] : undefined;
        const t = x.args[x.args.length - 1];
        if (x.block || !t || x.args.length > 2) {
          shape(x, 'expected address [ipv4|ipv6] HOST:PORT; e.g. address 10.77.0.11:7789;');
          continue;
        }
        if (fam && fam.text !== 'ipv4' && fam.text !== 'ipv6') {
          err(at(fam), `address family ${shown(fam.text)} is not supported: use ipv4 or ipv6 (or leave it out)`);
          continue;
        }
        const r = parseAddress(t.text);
        if (!r.ok) err(at(t), `address ${r.message}`);
        else if (fam?.text === 'ipv6' && !t.text.startsWith('[')) err(at(t), `address ipv6 needs the address in brackets, e.g. address ipv6 [fd00::11]:7789; (got ${shown(t.text)})`);
        else if (fam?.text === 'ipv4' && t.text.startsWith('[')) err(at(fam), `address ${t.text} is IPv6: write address ipv6 ${t.text};`);
        else h.address = { value: r.value, at: at(t) };
      } else if (k === 'volume') volumeBlock(x, h.vols);
      else if (!pathStmt(x, direct)) unknown(x, `on ${name.text}`, ON_KEYS);
    }
    if (direct.at) mergeDirect(h.vols, direct, s);
    if (!h.wrote.has('address') && !meant.has(`on ${name.text}/address`)) err(at(name), `on ${name.text} has no address: add address HOST:PORT; (the peer link listens there, e.g. address 10.77.0.11:7789;)`);
  };

  // Device/disk written directly in a section are volume 0's (the DRBD 8 form).
  const mergeDirect = (vols: Map<number, Paths>, direct: Paths, where: Statement) => {
    const v0 = vols.get(0);
    if (!v0) return vols.set(0, direct);
    for (const f of ['device', 'disk'] as const) {
      const d = direct[f];
      if (d && v0[f]) err(d.at, `volume 0's ${f} is given twice in ${where.key.text}${where.args[0] ? ` ${where.args[0].text}` : ''} (directly and in volume 0 { }); keep one`);
      else if (d) v0[f] = d;
    }
    v0.metaDisk ??= direct.metaDisk;
    v0.at ??= direct.at;
  };

  const resDirect: Paths = {};
  for (const s of res.block) {
    const k = s.key.text;
    if (k === 'protocol') setProtocol(s);
    else if (k === 'net') {
      if (!s.block) err(at(s.key), 'expected net { ... }');
      else {
        netAt ??= at(s.key);
        netBlock(s.block);
      }
    } else if (k === 'volume') volumeBlock(s, resVols);
    else if (k === 'on') onBlock(s);
    else if (IGNORED_BLOCKS.includes(k)) continue;
    else if (!pathStmt(s, resDirect)) unknown(s, `resource ${nameTok.text}`, RESOURCE_KEYS);
  }
  if (resDirect.at) mergeDirect(resVols, resDirect, res);

  if (swallowed) return { errors: sortErrors(errors) };
  if (!sharedSecret && !meant.has('net/shared-secret')) {
    err(netAt ?? at(res.key), `shared-secret is missing: ${SHARED_SECRET_WHY}; add net { shared-secret "..."; }`);
  } else if (sharedSecret?.text === '') err(at(sharedSecret), `shared-secret is empty: ${SHARED_SECRET_WHY}`);

  // DRBD 8 numbered hosts by their order; mixing the two styles is ambiguous.
  const withId = hosts.filter((h) => h.wrote.has('node-id'));
  if (withId.length === 0) hosts.forEach((h, i) => (h.nodeId = { value: i, at: at(h.name) }));
  else {
    for (const h of hosts) {
      if (!h.wrote.has('node-id')) err(at(h.name), `on ${h.name.text} has no node-id while on ${withId[0]!.name.text} has one: give every host a node-id (0..31), or none to number them in order`);
    }
  }
  if (errors.length > 0) return { errors: sortErrors(errors) };

  const draftHosts: DraftHost[] = hosts.map((h) => ({ name: { value: h.name.text, at: at(h.name) }, nodeId: h.nodeId!, address: h.address! }));
  const numbers = [...new Set([...resVols.keys(), ...hosts.flatMap((h) => [...h.vols.keys()])])].sort((a, b) => a - b);
  const volumes: DraftVolume[] = numbers.map((n) => {
    const firstAt = resVols.get(n)?.at ?? hosts.map((h) => h.vols.get(n)?.at).find((a) => a) ?? at(res.key);
    const each = (f: 'device' | 'disk') => {
      const byHost = new Map<string, Loc<string>>();
      for (const h of hosts) {
        const v = h.vols.get(n)?.[f] ?? resVols.get(n)?.[f];
        if (v) byHost.set(h.name.text, v);
      }
      return { kind: 'each' as const, byHost };
    };
    return { volume: { value: n, at: firstAt }, device: each('device'), disk: each('disk') };
  });

  const draft: Draft = {
    file,
    format: 'res',
    resource: { value: nameTok.text, at: at(nameTok) },
    protocol: protocol?.value ?? DEFAULTS.protocol,
    net: {
      sharedSecret: sharedSecret!.text,
      afterSb0Pri: sb0 ?? { value: DEFAULTS.afterSb, at: netAt ?? at(res.key) },
      afterSb1Pri: (sb1?.value ?? DEFAULTS.afterSb) as AfterSb1Pri,
      afterSb2Pri: (sb2?.value ?? DEFAULTS.afterSb) as AfterSb2Pri,
      maxRate: maxRate?.value ?? DEFAULTS.maxRate,
      pingTimeout: pingTimeout?.value ?? DEFAULTS.pingTimeout,
      ...(tls?.value === 'psk' ? { tls: 'psk' as const } : {}),
    },
    hostsAt: at(res.key),
    hosts: draftHosts,
    volumesAt: at(res.key),
    volumes,
  };
  return finish(draft, opts);
}
