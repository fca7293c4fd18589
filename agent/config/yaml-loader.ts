// Loads a YAML resource file (schema in DESIGN.md). zod checks the shape and each value;
// the yaml Document keeps every node's source range, so each problem is reported at the
// line and column of the key or value it is about.
import { LineCounter, isMap, isScalar, isSeq, parseDocument } from 'yaml';
import type { Document, Node, Pair } from 'yaml';
// zod/mini: the same checks as zod's full API at a fraction of the agent bundle's size.
import * as z from 'zod/mini';
import type { AfterSb1Pri, AfterSb2Pri, ChapConfig, ConfigError, IscsiConfig, Protocol } from './types.js';
import { DEFAULTS, SHARED_SECRET_WHY, finish, sortErrors } from './draft.js';
import type { At, Draft, DraftHost, DraftVolume, LoadOptions, Located, PerHost } from './draft.js';
import {
  AFTER_SB_0PRI,
  AFTER_SB_1PRI,
  AFTER_SB_2PRI,
  HOST_NAME,
  RESOURCE_NAME,
  didYouMean,
  fail,
  ok,
  parseAddress,
  parseInterfaceName,
  parseIqn,
  parsePeerTls,
  parsePolicy,
  parseServiceAddress,
  parseRate,
  parseSize,
  shown,
} from './values.js';
import type { Address, Parsed } from './values.js';

type Path = Array<string | number>;

// ---- value checks (each a zod leaf, so problems carry their path) ----

function leaf<T>(check: (v: unknown) => Parsed<T>) {
  return z.pipe(z.unknown(), z.transform((v, ctx): T => {
    const r = check(v);
    if (r.ok) return r.value;
    ctx.issues.push({ code: 'custom', message: r.message, input: v });
    return z.NEVER;
  }));
}

const resourceName = leaf((v) =>
  typeof v === 'string' && RESOURCE_NAME.test(v)
    ? ok(v)
    : fail<string>(`must be a name made of letters, digits, '_', '.' and '-', e.g. r0 (got ${shown(v)})`),
);
const protocol = leaf((v) => {
  if (v === 'A' || v === 'B' || v === 'C') return ok<Protocol>(v);
  const hint = typeof v === 'string' && /^[abc]$/.test(v) ? `; write it in capitals: ${v.toUpperCase()}` : '';
  return fail<Protocol>(`must be A, B or C (got ${shown(v)})${hint}`);
});
const secret = (what: string, emptyAllowed = false) =>
  leaf((v) => {
    if (emptyAllowed && v === '') return ok('');
    if (v === null || v === '') return fail<string>(`is empty: ${what}`);
    // Never show the value: it is a secret even when it is malformed.
    if (typeof v !== 'string') return fail<string>('must be text: put the secret in double quotes');
    return ok(v);
  });
const policy = (allowed: readonly string[]) => leaf((v) => parsePolicy(v, allowed));
const rate = leaf(parseRate);
const integrityAlg = leaf((v) =>
  v === 'crc32c' || v === 'none' ? ok<'crc32c' | 'none'>(v) : fail<'crc32c' | 'none'>(`must be crc32c or none (got ${shown(v)})`),
);
const peerTls = leaf(parsePeerTls);
const pingTimeout = leaf((v) =>
  typeof v === 'number' && v >= 0.1 && v <= 30
    ? ok(v)
    : fail<number>(`must be a number of seconds from 0.1 to 30 (got ${shown(v)})`),
);
const wholeNumber = (lo: number, hi: number, what: string) =>
  leaf((v) =>
    Number.isInteger(v) && (v as number) >= lo && (v as number) <= hi
      ? ok(v as number)
      : fail<number>(`must be a whole number from ${lo} to ${hi}${what} (got ${shown(v)})`),
  );
const absolutePath = (v: unknown, example: string): Parsed<string> =>
  typeof v === 'string' && v.startsWith('/') && !/\s/.test(v)
    ? ok(v)
    : fail(`must be an absolute path like ${example} (got ${shown(v)})`);
/** One path for both hosts, or a mapping host → path when the hosts differ. */
const pathPerHost = (example: string) =>
  leaf((v): Parsed<string | Record<string, string>> => {
    if (v !== null && typeof v === 'object' && !Array.isArray(v)) {
      for (const [host, p] of Object.entries(v)) {
        const r = absolutePath(p, example);
        if (!r.ok) return fail(`${host} ${r.message}`);
      }
      return ok(v as Record<string, string>);
    }
    const r = absolutePath(v, example);
    return r.ok ? r : fail(`${r.message}; or one path per host: { ha-a: ${example}, ha-b: ${example} }`);
  });
const size = leaf((v) => {
  const r = parseSize(v);
  if (r.ok && r.value % 512 !== 0) return fail<number>(`must be a multiple of 512 bytes, the sector size (got ${r.value} bytes)`);
  return r;
});
const metaDisk = leaf((v) =>
  v === 'internal'
    ? ok('internal' as const)
    : fail<'internal'>(`must be internal (got ${shown(v)}): drbd-tui keeps its metadata at the end of the backing disk; external meta-disks are not supported`),
);
const address = leaf((v) => parseAddress(v));
const portal = leaf((v) => parseAddress(v, '0.0.0.0:3260'));
const iqn = leaf(parseIqn);
const serviceAddress = leaf(parseServiceAddress);
const interfaceName = leaf(parseInterfaceName);
const text = leaf((v) => (typeof v === 'string' && v !== '' ? ok(v) : fail<string>(`must be a non-empty name (got ${shown(v)})`)));

const Schema = z.strictObject({
  resource: resourceName,
  protocol: z.optional(protocol),
  net: z.strictObject({
    // Absent or empty, as DRBD allows: the peer link then runs unauthenticated (a warning problem).
    'shared-secret': z.optional(secret(SHARED_SECRET_WHY, true)),
    'after-sb-0pri': z.optional(policy(AFTER_SB_0PRI)),
    'after-sb-1pri': z.optional(policy(AFTER_SB_1PRI)),
    'after-sb-2pri': z.optional(policy(AFTER_SB_2PRI)),
    'c-max-rate': z.optional(rate),
    'ping-timeout': z.optional(pingTimeout),
    'undo-journal-max': z.optional(size),
    'data-integrity-alg': z.optional(integrityAlg),
    tls: z.optional(peerTls),
  }),
  volumes: z.array(
    z.strictObject({
      volume: wholeNumber(0, 65535, ''),
      device: pathPerHost('/dev/drbd1'),
      disk: pathPerHost('/var/lib/drbd-tui/disks/r0-0.img'),
      size: z.optional(size),
      'meta-disk': z.optional(metaDisk),
    }),
  ),
  hosts: z.record(
    z.string(),
    z.strictObject({
      'node-id': wholeNumber(0, 31, ', unique per host'),
      address,
    }),
  ),
  iscsi: z.optional(
    z.strictObject({
      iqn,
      portal: z.optional(portal),
      'service-address': z.optional(serviceAddress),
      'service-interface': z.optional(interfaceName),
      'allowed-initiators': z.optional(z.array(iqn)),
      chap: z.optional(
        z.strictObject({
          user: z.optional(text),
          secret: z.optional(secret('CHAP secrets must be 12 to 16 characters')),
          'target-user': z.optional(text),
          'target-secret': z.optional(secret('CHAP secrets must be 12 to 16 characters')),
        }),
      ),
    }),
  ),
});
type Raw = z.output<typeof Schema>;

// Keys by where they may appear, for "unknown key" hints.
const KEYS: Record<string, readonly string[]> = {
  '': ['resource', 'protocol', 'net', 'volumes', 'hosts', 'iscsi'],
  net: ['shared-secret', 'after-sb-0pri', 'after-sb-1pri', 'after-sb-2pri', 'c-max-rate', 'ping-timeout', 'undo-journal-max', 'data-integrity-alg', 'tls'],
  'volumes[]': ['volume', 'device', 'disk', 'size', 'meta-disk'],
  'hosts.*': ['node-id', 'address'],
  iscsi: ['iqn', 'portal', 'service-address', 'service-interface', 'allowed-initiators', 'chap'],
  'iscsi.chap': ['user', 'secret', 'target-user', 'target-secret'],
};
const WHERE: Record<string, string> = {
  '': 'at the top level',
  net: 'under net',
  'volumes[]': 'in each entry of volumes',
  'hosts.*': 'in each host under hosts',
  iscsi: 'under iscsi',
  'iscsi.chap': 'under iscsi.chap',
};
const MISSING: Record<string, string> = {
  resource: 'name the resource, e.g. resource: r0',
  net: `it needs shared-secret: ${SHARED_SECRET_WHY}`,
  'net.shared-secret': SHARED_SECRET_WHY,
  volumes: 'list the replicated volumes, e.g. volumes: [{ volume: 0, device: /dev/drbd1, disk: /dev/sdb1 }]',
  hosts: 'name the two hosts, e.g. hosts: { ha-a: { node-id: 0, address: 10.77.0.11:7789 }, ha-b: { node-id: 1, address: 10.77.0.12:7789 } }',
  'volumes[].volume': 'number each volume, starting at 0 (volume: 0)',
  'volumes[].device': 'name the device operators see, e.g. device: /dev/drbd1',
  'volumes[].disk': 'give the backing file or block device, e.g. disk: /dev/sdb1',
  'hosts.*.node-id': 'give each host a distinct node-id from 0 to 31',
  'hosts.*.address': 'give the host:port the peer link listens on, e.g. address: 10.77.0.11:7789',
  'iscsi.iqn': 'name the target, e.g. iqn: iqn.2026-11.com.example:r0',
};

function pattern(path: Path): string {
  let out = '';
  for (let i = 0; i < path.length; i++) {
    const seg = path[i]!;
    if (typeof seg === 'number') out += '[]';
    else if (path[i - 1] === 'hosts' && i === 1) out += '.*';
    else out += out === '' ? seg : `.${seg}`;
  }
  return out;
}

function dotted(path: Path): string {
  return path.map((s, i) => (typeof s === 'number' ? `[${s}]` : i === 0 ? s : `.${s}`)).join('');
}

/** Finds nodes by path and turns their source offsets into line:col. */
class Locator {
  constructor(
    private readonly doc: Document,
    private readonly lc: LineCounter,
  ) {}

  private pos(offset: number): At {
    const p = this.lc.linePos(offset);
    return { line: p.line, col: p.col };
  }

  private pair(path: Path): Pair | undefined {
    const parent = this.node(path.slice(0, -1));
    const last = path[path.length - 1];
    if (!isMap(parent)) return undefined;
    return parent.items.find((p) => isScalar(p.key) && String(p.key.value) === String(last));
  }

  node(path: Path): Node | undefined {
    let cur: unknown = this.doc.contents;
    for (const seg of path) {
      if (isMap(cur)) cur = cur.items.find((p) => isScalar(p.key) && String(p.key.value) === String(seg))?.value;
      else if (isSeq(cur) && typeof seg === 'number') cur = cur.items[seg];
      else return undefined;
    }
    return (cur ?? undefined) as Node | undefined;
  }

  /** Where the key of path is written; for a list item, where the item starts. */
  keyAt(path: Path): At {
    if (path.length === 0) {
      const root = this.doc.contents;
      return root?.range ? this.pos(root.range[0]) : { line: 1, col: 1 };
    }
    const key = this.pair(path)?.key as Node | undefined;
    if (key?.range) return this.pos(key.range[0]);
    const n = this.node(path);
    if (typeof path[path.length - 1] === 'number' && n?.range) return this.pos(n.range[0]);
    return this.keyAt(path.slice(0, -1));
  }

  /** Where the value of path is written, or its key when the value is empty. */
  valueAt(path: Path): At {
    const n = this.node(path);
    if (n?.range && !(isScalar(n) && n.value === null)) return this.pos(n.range[0]);
    return this.keyAt(path);
  }

  /** For a key that is not there: where its mapping is named. */
  missingAt(path: Path): At {
    return this.keyAt(path.slice(0, -1));
  }
}

function issueToErrors(file: string, issue: z.core.$ZodIssue, loc: Locator): ConfigError[] {
  const path = issue.path as Path;
  const at = (a: At, message: string): ConfigError => ({ file, line: a.line, col: a.col, message });
  if (issue.code === 'unrecognized_keys') {
    const where = pattern(path);
    const known = KEYS[where] ?? [];
    return issue.keys.map((k) => {
      const elsewhere = Object.entries(KEYS).find(([w, keys]) => w !== where && keys.includes(k));
      const hint = didYouMean(k, known);
      const fix = elsewhere
        ? `${k} belongs ${WHERE[elsewhere[0]]}`
        : hint
          ? `did you mean "${hint}"?`
          : `known keys ${WHERE[where] ?? 'here'}: ${known.join(', ')}`;
      return at(loc.keyAt([...path, k]), `unknown key "${k}"${path.length ? ` in ${dotted(path)}` : ''}; ${fix}`);
    });
  }
  // Leaves are z.unknown(), so a missing key reaches them as undefined: the source decides.
  if (loc.node(path) === undefined) {
    const fix = MISSING[pattern(path)];
    return [at(loc.missingAt(path), `${dotted(path)} is missing${fix ? `: ${fix}` : ''}`)];
  }
  if (issue.code === 'invalid_type') {
    const what =
      issue.expected === 'array'
        ? 'a list (lines starting with "- ")'
        : issue.expected === 'object' || issue.expected === 'record'
          ? 'a mapping (key: value lines)'
          : issue.expected;
    const n = loc.node(path);
    // Only the kind of value: a misindented line may hold a secret (net: shared-secret "x").
    const got = isScalar(n) ? (n.value === null ? 'an empty value' : typeof n.value === 'string' ? 'a text value' : `a ${typeof n.value}`) : isSeq(n) ? 'a list' : 'a mapping';
    // An empty net: is the one place where "empty" needs the why.
    const extra = pattern(path) === 'net' || pattern(path) === 'hosts' ? `; ${MISSING[pattern(path)]}` : '';
    return [at(loc.valueAt(path), `${dotted(path)} must be ${what} (got ${got})${extra}`)];
  }
  return [at(loc.valueAt(path), `${dotted(path)} ${issue.message}`)];
}

const IPV6_UNQUOTED = /\[[0-9A-Fa-f:.]*:[0-9A-Fa-f:.]*\]:\d+/;

export function parseYamlLocated(file: string, text: string, opts: LoadOptions = {}): Located {
  const lc = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lc, prettyErrors: false, uniqueKeys: true });
  const lines = text.split('\n');
  if (doc.errors.length > 0) {
    return {
      errors: sortErrors(
        doc.errors.map((e) => {
          const p = lc.linePos(e.pos[0]);
          const srcLine = lines[p.line - 1] ?? '';
          const hint = IPV6_UNQUOTED.test(srcLine) ? '; an IPv6 address must be quoted, e.g. address: "[fd00::11]:7789"' : '';
          const key = /^[^:\s{},]+/.exec(srcLine.slice(p.col - 1))?.[0];
          const msg =
            e.code === 'DUPLICATE_KEY'
              ? `key ${key ? `"${key}" ` : ''}appears twice in the same mapping; keep one`
              : e.code === 'MULTIPLE_DOCS'
                ? 'a second YAML document starts here (---): put one resource per file'
                : `YAML syntax: ${e.message.replace(/\.$/, '')}${hint}`;
          return { file, line: p.line, col: p.col, message: msg };
        }),
      ),
    };
  }
  if (doc.contents === null) {
    return { errors: [{ file, line: 1, col: 1, message: 'the file is empty: expected a resource definition starting with resource: NAME' }] };
  }
  const loc = new Locator(doc, lc);
  const parsed = Schema.safeParse(doc.toJS());
  if (!parsed.success) {
    if (!isMap(doc.contents)) {
      return { errors: [{ file, ...loc.keyAt([]), message: 'the file must be a mapping of resource, protocol, net, volumes, hosts and iscsi, e.g. resource: r0' }] };
    }
    // A key reported as a typo of a known key is not reported again as that key missing.
    const meant = new Set(
      parsed.error.issues.flatMap((i) =>
        i.code === 'unrecognized_keys' ? i.keys.flatMap((k) => [didYouMean(k, KEYS[pattern(i.path as Path)] ?? [])].filter((h) => h !== undefined).map((h) => dotted([...(i.path as Path), h]))) : [],
      ),
    );
    const issues = parsed.error.issues.filter((i) => !(meant.has(dotted(i.path as Path)) && loc.node(i.path as Path) === undefined));
    return { errors: sortErrors(issues.flatMap((i) => issueToErrors(file, i, loc))) };
  }
  return buildDraft(file, parsed.data, loc, opts);
}

function buildDraft(file: string, raw: Raw, loc: Locator, opts: LoadOptions): Located {
  const errors: ConfigError[] = [];
  const err = (a: At, message: string) => errors.push({ file, line: a.line, col: a.col, message });

  const hosts: DraftHost[] = Object.entries(raw.hosts).map(([name, h]) => {
    if (!HOST_NAME.test(name)) err(loc.keyAt(['hosts', name]), `host name ${shown(name)} must be the host's name as uname -n prints it (letters, digits, '-', '.', '_')`);
    return {
      name: { value: name, at: loc.keyAt(['hosts', name]) },
      nodeId: { value: h['node-id'], at: loc.valueAt(['hosts', name, 'node-id']) },
      address: { value: h.address, at: loc.valueAt(['hosts', name, 'address']) },
    };
  });

  const perHost = (v: string | Record<string, string>, path: Path): PerHost =>
    typeof v === 'string'
      ? { kind: 'all', value: { value: v, at: loc.valueAt(path) } }
      : {
          kind: 'each',
          at: loc.keyAt(path),
          byHost: new Map(Object.entries(v).map(([h, p]) => [h, { value: p, at: loc.keyAt([...path, h]) }])),
        };
  const volumes: DraftVolume[] = raw.volumes.map((v, i) => ({
    volume: { value: v.volume, at: loc.valueAt(['volumes', i, 'volume']) },
    device: perHost(v.device, ['volumes', i, 'device']),
    disk: perHost(v.disk, ['volumes', i, 'disk']),
    ...(v.size !== undefined ? { size: v.size } : {}),
  }));

  let iscsi: IscsiConfig | undefined;
  if (raw.iscsi) {
    const p = raw.iscsi.portal ?? defaultPortal();
    iscsi = { iqn: raw.iscsi.iqn, portal: p.address, portalHost: p.host, portalPort: p.port };
    const sa = raw.iscsi['service-address'];
    const si = raw.iscsi['service-interface'];
    if (sa) iscsi.serviceAddress = { ...sa, ...(si !== undefined ? { interface: si } : {}) };
    else if (si !== undefined) err(loc.keyAt(['iscsi', 'service-interface']), 'iscsi.service-interface names the interface of the service address: add service-address (e.g. service-address: 10.77.0.100/24) or remove it');
    const allowed = raw.iscsi['allowed-initiators'];
    if (allowed?.length === 0) err(loc.keyAt(['iscsi', 'allowed-initiators']), 'iscsi.allowed-initiators is empty, so no initiator could log in: list the initiator names (e.g. [iqn.1991-05.com.microsoft:sql1]) or remove the key to allow any');
    else if (allowed) iscsi.allowedInitiators = allowed;
    const chap = raw.iscsi.chap;
    if (chap) {
      const c = checkChap(chap, (key) => loc.valueAt(['iscsi', 'chap', key]), loc.keyAt(['iscsi', 'chap']), err);
      if (c) iscsi.chap = c;
    }
  }
  if (errors.length > 0) return { errors: sortErrors(errors) };

  const draft: Draft = {
    file,
    format: 'yaml',
    resource: { value: raw.resource, at: loc.valueAt(['resource']) },
    protocol: raw.protocol ?? DEFAULTS.protocol,
    net: {
      sharedSecret: raw.net['shared-secret'] ?? '',
      afterSb0Pri: { value: raw.net['after-sb-0pri'] ?? DEFAULTS.afterSb, at: loc.valueAt(['net', 'after-sb-0pri']) },
      afterSb1Pri: (raw.net['after-sb-1pri'] ?? DEFAULTS.afterSb) as AfterSb1Pri,
      afterSb2Pri: (raw.net['after-sb-2pri'] ?? DEFAULTS.afterSb) as AfterSb2Pri,
      maxRate: raw.net['c-max-rate'] ?? DEFAULTS.maxRate,
      pingTimeout: raw.net['ping-timeout'] ?? DEFAULTS.pingTimeout,
      ...(raw.net['undo-journal-max'] !== undefined ? { undoJournalMax: raw.net['undo-journal-max'] } : {}),
      ...(raw.net['data-integrity-alg'] === 'crc32c' ? { dataIntegrity: true } : {}),
      ...(raw.net.tls === 'psk' ? { tls: 'psk' as const } : {}),
    },
    hostsAt: loc.keyAt(['hosts']),
    hosts,
    volumesAt: loc.keyAt(['volumes']),
    volumes,
    ...(iscsi ? { iscsi } : {}),
  };
  return finish(draft, opts);
}

function defaultPortal(): Address {
  const r = parseAddress(DEFAULTS.portal);
  if (!r.ok) throw new Error(`default portal: ${r.message}`);
  return r.value;
}

const CHAP_LENGTH = 'CHAP secrets must be 12 to 16 characters: RFC 3720 asks for at least 96 bits and the Windows initiator refuses anything outside 12-16';

/** CHAP's pairing and length rules; messages give lengths, never the secrets. */
export function checkChap(
  chap: { user?: string; secret?: string; 'target-user'?: string; 'target-secret'?: string },
  at: (key: string) => At,
  chapAt: At,
  err: (a: At, message: string) => void,
): ChapConfig | undefined {
  let good = true;
  if (Object.values(chap).every((v) => v === undefined)) {
    err(chapAt, 'iscsi.chap is empty: give user and secret (and target-user/target-secret for mutual CHAP), or remove chap to allow logins without CHAP');
    return undefined;
  }
  const pair = (u: 'user' | 'target-user', s: 'secret' | 'target-secret', why: string) => {
    if ((chap[u] === undefined) === (chap[s] === undefined)) return;
    const missing = chap[u] === undefined ? u : s;
    const present = missing === u ? s : u;
    err(chapAt, `iscsi.chap.${missing} is missing: ${present} and ${missing} go together (${why})`);
    good = false;
  };
  pair('user', 'secret', 'the initiator logs in with both');
  pair('target-user', 'target-secret', 'for mutual CHAP the target answers with both');
  if (chap.user === undefined && chap.secret === undefined && chap['target-user'] !== undefined) {
    err(chapAt, 'iscsi.chap has target-user/target-secret but no user/secret: mutual CHAP also needs the initiator to authenticate, so add user and secret');
    good = false;
  }
  for (const s of ['secret', 'target-secret'] as const) {
    const v = chap[s];
    if (v !== undefined && (v.length < 12 || v.length > 16)) {
      err(at(s), `iscsi.chap.${s} is ${v.length} characters; ${CHAP_LENGTH}`);
      good = false;
    }
  }
  if (chap.secret !== undefined && chap.secret === chap['target-secret']) {
    err(at('target-secret'), 'iscsi.chap.target-secret must differ from iscsi.chap.secret: the Windows initiator refuses the same secret in both directions, and RFC 3720 advises against it');
    good = false;
  }
  if (!good || chap.user === undefined || chap.secret === undefined) return undefined;
  const c: ChapConfig = { user: chap.user, secret: chap.secret };
  if (chap['target-user'] !== undefined && chap['target-secret'] !== undefined) {
    c.targetUser = chap['target-user'];
    c.targetSecret = chap['target-secret'];
  }
  return c;
}
