// Loads DRBD configuration (.res files and drbd.conf trees, DRBD 9 and the 8.4 forms drbdadm 9
// still reads) into the same Draft as the YAML loader, resolving it as drbdadm does:
//   - `common { }` options apply to every resource unless the resource sets the same option;
//     a connection's net { } overrides the resource's; 8.4 `syncer { }` options move to their
//     DRBD 9 sections;
//   - volumes inherit device/disk/meta-disk resource → volume → on HOST, field by field;
//     device/disk written directly in a section are volume 0's;
//   - addresses come from `on HOST { address }`, or from `connection { host H address A; }`
//     (or its `path { }`), the connection's winning;
//   - without any node-id, a two-host resource whose connection is implicit (no connection
//     section, or a connection-mesh) gets drbdadm's implicit node-ids (node-id.ts).
// What each option means to drbd-tui (honoured, ignored with why, refused when unsafe) is
// drbd-options.ts; an option outside that table is a typo, reported with did-you-mean.
import type { AfterSb1Pri, AfterSb2Pri, ConfigError, IgnoredOption } from './types.js';
import { DEFAULTS, finish, sortErrors } from './draft.js';
import type { At, Draft, DraftHost, DraftVolume, LoadOptions, Loc, Located, PathLoc } from './draft.js';
import { parseStatements, tokenize } from './res-syntax.js';
import type { Statement, Token } from './res-syntax.js';
import { HOST_NAME, RESOURCE_NAME, parseAddress, shown } from './values.js';
import type { Address } from './values.js';
import { DRBD_KEYWORDS, REFUSED_CONSTRUCTS } from './drbd-options.js';
import { implicitNodeIds } from './node-id.js';
import { Reporter, at, where } from './res-report.js';
import { applyOptions, collectOptions, commonOptions, globalSection, resolveOptions } from './res-options.js';
import type { Written } from './res-options.js';
import { mergeDirect, pathStmt, volumeBlock } from './res-volumes.js';
import type { Paths } from './res-volumes.js';

const PAIR = 'drbd-tui pairs exactly two hosts';

interface RawHost {
  name: Token;
  nodeId?: Loc<number>;
  wroteNodeId: boolean;
  address?: Loc<Address>;
  wroteAddress: boolean;
  vols: Map<number, Paths>;
}

/** The result of a file or a tree: every resource's outcome, and the errors no single resource owns. */
export interface ResLoad {
  resources: Located[];
  errors: ConfigError[];
}

/** The top level of a file or tree: global, common, resources. */
export function loadResStatements(rootFile: string, statements: readonly Statement[], opts: LoadOptions = {}): ResLoad {
  const top = new Reporter(rootFile);
  const resources: Statement[] = [];
  let common: Statement | undefined;
  let global: Statement | undefined;
  for (const s of statements) {
    const k = s.key.text;
    if (k === 'resource') resources.push(s);
    else if (k === 'skip') continue;
    else if (k === 'global') {
      if (global) top.err(at(s.key), `a second global section (the first is at ${where(global.key)}): keep one`);
      global ??= s;
      globalSection(top, s);
    } else if (k === 'common') {
      if (common) top.err(at(s.key), `a second common section (the first is at ${where(common.key)}): keep one`);
      else if (!s.block) top.err(at(s.key), 'expected common { ... }');
      else common = s;
    } else if (k === 'include') {
      top.err(at(s.key), 'include is read only in a drbd.conf tree: point the agent at the file (--config /etc/drbd.conf) or its directory (--config-dir)');
    } else top.unknown(s, 'the file (only global, common and resource NAME { ... } belong at the top)', DRBD_KEYWORDS.top);
  }
  // common's values are checked once here, so that a mistake in it is reported once, not per resource.
  const beforeCommon = top.errors.length;
  const inherited = commonOptions(top, common);
  applyOptions(top, resolveOptions(top, [], inherited), []);
  const commonBroken = top.errors.length > beforeCommon;
  if (resources.length === 0 && top.errors.length === 0) top.err({ line: 1, col: 1, file: rootFile }, 'no resource found: expected resource NAME { ... }');
  // A resource defined twice is refused in both places: serving either could be serving the wrong disk.
  const byName = new Map<string, Token[]>();
  for (const res of resources) {
    const name = res.args[0];
    if (name) byName.set(name.text, [...(byName.get(name.text) ?? []), name]);
  }
  const out: Located[] = [];
  for (const res of resources) {
    const name = res.args[0];
    // What drbd-tui cannot pair is said first, before any other mistake in the resource or common.
    const refusal = pairRefusal(res);
    if (refusal) {
      out.push({ errors: [{ file: refusal.at.file ?? rootFile, line: refusal.at.line, col: refusal.at.col, ...(name ? { resource: name.text } : {}), message: refusal.message }] });
      continue;
    }
    const others = name ? byName.get(name.text)!.filter((t) => t !== name) : [];
    if (name && others.length > 0) {
      out.push({ errors: [{ file: name.file ?? rootFile, line: name.line, col: name.col, resource: name.text, message: `resource ${name.text} is also defined at ${others.map(where).join(', ')}; keep one (neither is loaded until then)` }] });
      continue;
    }
    if (commonBroken && name) {
      out.push({ errors: [{ file: name.file ?? rootFile, line: name.line, col: name.col, resource: name.text, message: `resource ${name.text} is not loaded until the common section (${where(common!.key)}) is fixed: its options apply to every resource` }] });
      continue;
    }
    out.push(loadResource(rootFile, res, inherited, opts));
  }
  return { resources: out, errors: sortErrors(top.errors) };
}

/**
 * Why drbd-tui cannot pair resource `res` at all, before anything else is said about it: more
 * than two hosts (counted over on, floating, connection-mesh and connection sections), or a
 * stacked resource.
 */
export function pairRefusal(res: Statement): { at: At; message: string } | undefined {
  const name = res.args[0]?.text ?? '';
  const hosts = new Set<string>();
  const stacked: Statement[] = [];
  for (const s of res.block ?? []) {
    const k = s.key.text;
    if ((k === 'on' || k === 'floating') && s.args.length > 0) hosts.add(s.args.map((a) => a.text).join(' '));
    else if (k === 'stacked-on-top-of') stacked.push(s);
    else if (k === 'connection-mesh') {
      for (const x of s.block ?? []) if (x.key.text === 'hosts') x.args.forEach((t) => hosts.add(t.text));
    } else if (k === 'connection') {
      const named = (b: Statement[]) => b.filter((x) => x.key.text === 'host' && x.args[0]).map((x) => x.args[0]!.text);
      for (const h of [...named(s.block ?? []), ...(s.block ?? []).filter((x) => x.key.text === 'path').flatMap((p) => named(p.block ?? []))]) {
        // `on a b { }` is one host known by either name: a connection naming b is not a third.
        if (![...hosts].some((n) => n.split(' ').includes(h))) hosts.add(h);
      }
    }
  }
  if (hosts.size > 2) return { at: at(res.key), message: `${PAIR}, and resource ${name} has ${hosts.size} (${[...hosts].join(', ')}): keep the two on sections of the replication pair in this file` };
  const s = stacked[0];
  if (s) return { at: at(s.key), message: `resource ${name} is stacked on ${s.args[0]?.text ?? 'another resource'}: ${REFUSED_CONSTRUCTS['stacked-on-top-of']!}; remove it, or serve the lower resource alone` };
  return undefined;
}

function loadResource(rootFile: string, res: Statement, inherited: readonly Written[], opts: LoadOptions): Located {
  const nameTok = res.args[0];
  const file = res.key.file ?? rootFile;
  const r = new Reporter(file, nameTok?.text);
  const done = (): Located => ({ errors: sortErrors(r.errors) });
  if (!res.block || res.args.length !== 1 || !nameTok) {
    r.err(at(res.key), 'expected resource NAME { ... } with one name');
    return done();
  }
  if (!RESOURCE_NAME.test(nameTok.text)) r.err(at(nameTok), `resource name ${shown(nameTok.text)} must be made of letters, digits, '_', '.' and '-'`);

  const mesh = res.block.filter((s) => s.key.text === 'connection-mesh');

  const own: Written[] = [];
  let protocolStmt: Statement | undefined;
  const resVols = new Map<number, Paths>();
  const hosts: RawHost[] = [];
  const connections: Statement[] = [];
  const resDirect: Paths = {};

  const readAddress = (x: Statement, args: readonly Token[], example: string, blockAllowed = false): Loc<Address> | undefined => {
    const fam = args.length === 2 ? args[0] : undefined;
    const t = args[args.length - 1];
    if ((x.block && !blockAllowed) || !t || args.length > 2) {
      r.shape(x, `expected address [ipv4|ipv6] HOST:PORT; e.g. ${example}`);
      return undefined;
    }
    if (fam && fam.text !== 'ipv4' && fam.text !== 'ipv6') {
      r.err(at(fam), `address family ${shown(fam.text)} is not supported: use ipv4 or ipv6 (or leave it out)`);
      return undefined;
    }
    const p = parseAddress(t.text);
    if (!p.ok) r.err(at(t), `address ${p.message}`);
    // drbdadm resolves no names: a host name here is refused there too.
    else if (!t.text.startsWith('[') && !/^[\d.]+$/.test(p.value.host)) r.err(at(t), `address ${shown(t.text)} names a host: DRBD files take an IP address (drbdadm resolves no names), e.g. address 10.77.0.11:7789;`);
    else if (fam?.text === 'ipv6' && !t.text.startsWith('[')) r.err(at(t), `address ipv6 needs the address in brackets, e.g. address ipv6 [fd00::11]:7789; (got ${shown(t.text)})`);
    else if (fam?.text === 'ipv4' && t.text.startsWith('[')) r.err(at(fam), `address ${t.text} is IPv6: write address ipv6 ${t.text};`);
    else return { value: p.value, at: at(t) };
    return undefined;
  };

  // What on HOST { } and floating ADDR { } hold: node-id, address (on only), device, disk, volumes.
  const hostBody = (h: RawHost, s: Statement, label: string) => {
    const direct: Paths = {};
    for (const x of s.block ?? []) {
      const k = x.key.text;
      if (k === 'skip') continue;
      if (k === 'node-id') {
        if (h.wroteNodeId) {
          r.err(at(x.key), 'node-id is set twice in the same section; keep one');
          continue;
        }
        h.wroteNodeId = true;
        const t = r.one(x, 'node-id 0;');
        if (t && (!/^\d+$/.test(t.text) || Number(t.text) > 31)) r.err(at(t), `node-id must be a whole number from 0 to 31 (got ${shown(t.text)})`);
        else if (t) h.nodeId = { value: Number(t.text), at: at(t) };
      } else if (k === 'address' && s.key.text === 'on') {
        if (h.wroteAddress) {
          r.err(at(x.key), 'address is set twice in the same section; keep one');
          continue;
        }
        h.wroteAddress = true;
        h.address = readAddress(x, x.args, 'address 10.77.0.11:7789;');
      } else if (k === 'volume') volumeBlock(r, own, x, h.vols, label);
      else if (k === 'proxy') r.err(at(x.key), REFUSED_CONSTRUCTS.proxy!);
      else if (!pathStmt(r, own, x, direct)) r.unknown(x, label, s.key.text === 'on' ? DRBD_KEYWORDS.on : DRBD_KEYWORDS.on.filter((w) => w !== 'address'));
    }
    if (direct.at) mergeDirect(r, h.vols, direct, s);
  };

  const onBlock = (s: Statement) => {
    const name = s.args[0];
    if (!s.block || !name) return r.err(at(s.key), 'expected on HOST { node-id N; address A:P; } with the host name uname -n prints');
    if (s.args.length > 1) return r.err(at(s.args[1]!), `on ${s.args.map((a) => a.text).join(' ')} names one host by several names (drbdadm uses the section on whichever of them this host is): drbd-tui knows each host by one name; write on ${name.text} { } with the name uname -n prints`);
    if (!HOST_NAME.test(name.text)) r.err(at(name), `host name ${shown(name.text)} must be the host's name as uname -n prints it (letters, digits, '-', '.', '_')`);
    const h: RawHost = { name, wroteNodeId: false, wroteAddress: false, vols: new Map() };
    hosts.push(h);
    hostBody(h, s, `on ${name.text}`);
  };

  // floating [ipv4] ADDR:PORT { }: drbdadm picks the host that has ADDR. drbd-tui names hosts,
  // so a floating host is named by its IPv4 address: start that host's daemon with --node ADDR.
  const floatingBlock = (s: Statement) => {
    if (!s.block) return r.err(at(s.key), 'expected floating ADDR:PORT { device ...; disk ...; }');
    const a = readAddress(s, s.args, 'floating 10.77.0.11:7789 { ... }', true);
    if (!a) return;
    if (!/^[\d.]+$/.test(a.value.host)) return r.err(a.at, `floating ${a.value.address}: drbd-tui names a floating host by its IPv4 address, which this is not; write on HOST { address ${a.value.address}; ... } with the name uname -n prints`);
    const t = s.args[s.args.length - 1]!;
    const name: Token = { ...t, kind: 'word', text: a.value.host };
    hosts.push({ name, wroteNodeId: false, wroteAddress: true, address: a, vols: new Map() });
    hostBody(hosts[hosts.length - 1]!, s, `floating ${a.value.address}`);
  };

  for (const s of res.block) {
    const k = s.key.text;
    if (k === 'skip' || k === 'connection-mesh') continue;
    if (k === 'protocol') protocolStmt = s;
    else if (k === 'net' || k === 'options' || k === 'startup' || k === 'handlers' || k === 'syncer') {
      if (!s.block) r.err(at(s.key), `expected ${k} { ... }`);
      else collectOptions(r, s, k, own);
    } else if (k === 'volume') volumeBlock(r, own, s, resVols, `resource ${nameTok.text}`);
    else if (k === 'on') onBlock(s);
    else if (k === 'floating') floatingBlock(s);
    else if (k === 'connection') connections.push(s);
    else if (!(DRBD_KEYWORDS.resource as readonly string[]).includes(k) || REFUSED_CONSTRUCTS[k]) r.unknown(s, `resource ${nameTok.text}`, DRBD_KEYWORDS.resource);
    else if (!pathStmt(r, own, s, resDirect)) r.unknown(s, `resource ${nameTok.text}`, DRBD_KEYWORDS.resource);
  }
  if (resDirect.at) mergeDirect(r, resVols, resDirect, res);
  const hostNamed = (t: Token, what: string): RawHost | undefined => {
    const h = hosts.find((x) => x.name.text === t.text);
    if (!h) r.err(at(t), `${what} names host "${t.text}", which has no on ${t.text} { } section in resource ${nameTok.text} (hosts: ${hosts.map((x) => x.name.text).join(', ') || 'none'})`);
    return h;
  };

  // connection-mesh { hosts A B; net { } }: the implicit connection of the two on sections.
  for (const m of mesh) {
    for (const x of m.block ?? []) {
      if (x.key.text === 'hosts') x.args.forEach((t) => hostNamed(t, 'connection-mesh'));
      else if (x.key.text === 'net' && x.block) collectOptions(r, x, 'net', own);
      else r.unknown(x, 'connection-mesh', DRBD_KEYWORDS['connection-mesh']);
    }
  }
  // connection [NAME] { host A [address [af] ADDR:PORT]; host B ...; | path { host ...; } net { } disk { } }
  if (connections.length > 1) r.err(at(connections[1]!.key), `a second connection section: ${PAIR}, which one connection links; keep one`);
  const connAddress = new Map<RawHost, Loc<Address>>();
  const hostStmt = (x: Statement) => {
    const name = x.args[0];
    if (!name || x.block) return r.shape(x, 'expected host NAME [address [ipv4|ipv6] ADDR:PORT];');
    const h = hostNamed(name, 'connection');
    const rest = x.args.slice(1);
    if (rest.length === 0 || !h) return;
    if (rest[0]!.text === 'via') return r.err(at(rest[0]!), REFUSED_CONSTRUCTS.proxy!);
    if (rest[0]!.text !== 'address') return r.err(at(rest[0]!), `expected host ${name.text} address [ipv4|ipv6] ADDR:PORT; (got ${shown(rest[0]!.text)})`);
    const a = readAddress(x, rest.slice(1), `host ${name.text} address 10.77.0.11:7789;`);
    if (a) connAddress.set(h, a);
  };
  for (const c of connections.slice(0, 1)) {
    if (!c.block) {
      r.err(at(c.key), 'expected connection { host A address ...; host B address ...; }');
      continue;
    }
    const paths = c.block.filter((x) => x.key.text === 'path');
    if (paths.length > 1) r.err(at(paths[1]!.key), 'a second path: drbd-tui links the pair over one path; keep one');
    for (const x of c.block) {
      const k = x.key.text;
      if (k === 'host') hostStmt(x);
      else if (k === 'path' && x.block) {
        if (x !== paths[0]) continue;
        for (const y of x.block) {
          if (y.key.text === 'host') hostStmt(y);
          else r.unknown(y, 'path', DRBD_KEYWORDS.path);
        }
      } else if (k === 'net' && x.block) collectOptions(r, x, 'net', own);
      else if (k === 'disk' && x.block) collectOptions(r, x, 'disk', own);
      else if (k === 'volume' && x.block) {
        // A connection's volume holds that peer device's options (disk { c-max-rate ...; }).
        for (const y of x.block) {
          if (y.key.text === 'disk' && y.block) collectOptions(r, y, 'disk', own);
          else if (y.key.text !== 'skip') r.unknown(y, "a connection's volume", ['disk']);
        }
      } else if (k !== 'skip') r.unknown(x, 'connection', DRBD_KEYWORDS.connection);
    }
  }

  if (r.swallowed) return done();

  // drbdadm refuses volume 0 written directly for one host and as volume 0 { } for the other
  // (a host without a disk for it is reported as that, the real cause, by finish()).
  const v0 = hosts.map((h) => h.vols.get(0) ?? resVols.get(0));
  const hasDisk = hosts.every((h) => (h.vols.get(0)?.disk ?? resVols.get(0)?.disk) !== undefined);
  if (hosts.length === 2 && hasDisk && v0[0] && v0[1] && v0[0].implicit !== v0[1].implicit) {
    const [direct, block] = v0[0].implicit ? [hosts[0]!, hosts[1]!] : [hosts[1]!, hosts[0]!];
    r.err(at(res.key), `volume 0 of resource ${nameTok.text} is written directly (device/disk without volume 0 { }) for ${direct.name.text} but in volume 0 { } for ${block.name.text}, which drbdadm refuses ("must not be implicit on one but not the other"): write it the same way for both hosts`);
  }

  // Options: common's under the resource's, resource-level protocol counting as net's.
  const ignored: IgnoredOption[] = [];
  if (protocolStmt) own.unshift({ s: protocolStmt, section: 'net', key: 'protocol', block: res, writtenIn: 'net' });
  const options = resolveOptions(r, inherited, own);
  const net = applyOptions(r, options, ignored);
  for (const h of hosts) {
    const c = connAddress.get(h);
    if (c) h.address = c;
    else if (!h.wroteAddress && !r.meant.has(`on ${h.name.text}/address`)) {
      r.err(at(h.name), `on ${h.name.text} has no address: add address HOST:PORT; to it (the peer link listens there, e.g. address 10.77.0.11:7789;), or host ${h.name.text} address ...; to the connection`);
    }
  }

  // Node-ids: drbdadm derives them only for an implicit connection between exactly two hosts.
  const withId = hosts.filter((h) => h.wroteNodeId);
  if (withId.length === 0 && hosts.length === 2) {
    if (connections.length > 0) {
      for (const h of hosts) r.err(at(h.name), `on ${h.name.text} has no node-id: with a connection section DRBD needs node-id in every on section (e.g. node-id 0; and node-id 1;)`);
    } else if (hosts[0]!.address && hosts[1]!.address) {
      const [a, b] = [hosts[0]!.address.value, hosts[1]!.address.value];
      // The same host:port twice is reported by finish() as the real mistake.
      const ids = a.host === b.host && a.port === b.port ? ([0, 1] as [number, number]) : implicitNodeIds(a.host, b.host);
      if (!ids) {
        r.err(at(hosts[1]!.name), `on ${hosts[0]!.name.text} and on ${hosts[1]!.name.text} share the address ${hosts[0]!.address.value.host}, so drbdadm cannot derive their node-ids: give each a node-id (0 and 1)`);
      } else hosts.forEach((h, i) => (h.nodeId = { value: ids[i]!, at: at(h.name) }));
    }
  } else if (withId.length > 0) {
    for (const h of hosts) {
      if (!h.wroteNodeId) r.err(at(h.name), `on ${h.name.text} has no node-id while on ${withId[0]!.name.text} has one: give every host a node-id (0..31), or none to have them derived as drbdadm does`);
    }
  }

  const secret = net.sharedSecret;
  if (r.errors.length > 0) return done();
  const implicit = withId.length === 0;
  const draftHosts: DraftHost[] = hosts.map((h) => ({ name: { value: h.name.text, at: at(h.name) }, nodeId: h.nodeId!, address: h.address!, ...(implicit ? { implicit: true } : {}) }));
  const numbers = [...new Set([...resVols.keys(), ...hosts.flatMap((h) => [...h.vols.keys()])])].sort((a, b) => a - b);
  const volumes: DraftVolume[] = numbers.map((n) => {
    const firstAt = resVols.get(n)?.at ?? hosts.map((h) => h.vols.get(n)?.at).find((a) => a) ?? at(res.key);
    const each = (f: 'device' | 'disk') => {
      const byHost = new Map<string, PathLoc>();
      for (const h of hosts) {
        const v = h.vols.get(n)?.[f] ?? resVols.get(n)?.[f];
        if (v) byHost.set(h.name.text, v);
      }
      return { kind: 'each' as const, byHost };
    };
    return { volume: { value: n, at: firstAt }, device: each('device'), disk: each('disk') };
  });
  ignored.sort((a, b) => (a.file === b.file ? a.line - b.line || a.col - b.col : a.file < b.file ? -1 : 1));

  const draft: Draft = {
    file,
    format: 'res',
    resource: { value: nameTok.text, at: at(nameTok) },
    protocol: net.protocol?.value ?? DEFAULTS.protocol,
    net: {
      sharedSecret: secret?.text ?? '',
      afterSb0Pri: net.sb0 ?? { value: DEFAULTS.afterSb, at: at(res.key) },
      afterSb1Pri: (net.sb1?.value ?? DEFAULTS.afterSb) as AfterSb1Pri,
      afterSb2Pri: (net.sb2?.value ?? DEFAULTS.afterSb) as AfterSb2Pri,
      maxRate: net.cMaxRate?.value ?? net.resyncRate?.value ?? DEFAULTS.maxRate,
      pingTimeout: net.pingTimeout?.value ?? DEFAULTS.resPingTimeout,
      ...(net.dataIntegrity ? { dataIntegrity: true } : {}),
      ...(net.tls?.value === 'psk' ? { tls: 'psk' as const } : {}),
    },
    hostsAt: at(res.key),
    hosts: draftHosts,
    volumesAt: at(res.key),
    volumes,
    ignored,
  };
  return finish(draft, opts);
}

/** Tokenizes and parses one file's text into its top-level statements (tokens carry the file). */
export function parseResText(file: string, text: string): { statements: Statement[] } | { error: ConfigError } {
  const lines = text.split('\n');
  const eof = { line: lines.length, col: (lines[lines.length - 1] ?? '').length + 1 };
  const toks = tokenize(text, file);
  if ('error' in toks) return { error: { file, ...toks.error } };
  const parsed = parseStatements(toks.tokens, eof);
  if ('error' in parsed) return { error: { file, ...parsed.error } };
  return { statements: parsed.statements };
}

/** Every resource of one file on its own (no include: that is a drbd.conf tree, drbd-conf.ts). */
export function parseResFile(file: string, text: string, opts: LoadOptions = {}): ResLoad {
  const p = parseResText(file, text);
  if ('error' in p) return { resources: [], errors: [p.error] };
  return loadResStatements(file, p.statements, opts);
}

/** One file that defines exactly one resource (config-put checks a resource's file with this). */
export function parseResLocated(file: string, text: string, opts: LoadOptions = {}): Located {
  const all = parseResFile(file, text, opts);
  const errors = [...all.errors, ...all.resources.flatMap((r) => ('errors' in r ? r.errors : []))];
  if (all.resources.length > 1) {
    const second = all.resources.slice(1).map((r) => ('config' in r ? r.config.resource : r.errors[0]?.resource)).filter((n) => n !== undefined);
    errors.push({ file, line: 1, col: 1, message: `this file defines ${all.resources.length} resources (${second.join(', ')} after the first): a resource's own file defines only it` });
  }
  if (errors.length > 0) return { errors: sortErrors(errors) };
  return all.resources[0]!;
}
