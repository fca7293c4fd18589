// Every keyword DRBD 9.22's drbdadm knows, by the section it is written in, and what drbd-tui
// does with it: honoured (the .res loader gives it DRBD's meaning), ignored (accepted, listed
// per resource with the reason) or refused when its value would change what is safe. The
// option sections follow drbdsetup's option tables (net-options/new-peer, disk-options/attach +
// peer-device-options, resource-options) and drbdadm's own (global, startup, handlers, the
// 8.4 syncer section); the structural keywords follow drbdadm's parser. Anything else is a
// typo, reported with the closest keyword of the section.

export type Section = 'global' | 'net' | 'disk' | 'options' | 'startup' | 'handlers' | 'syncer' | 'proxy';

export type OptionRule =
  | { kind: 'honoured'; note?: string }
  | { kind: 'ignored'; why: string }
  /** Accepted (and ignored with `why`) unless `refuse` returns the refusal for the written value. */
  | { kind: 'refused-when'; why: string; refuse: (args: readonly string[]) => string | undefined };

const ignored = (why: string): OptionRule => ({ kind: 'ignored', why });
const honoured: OptionRule = { kind: 'honoured' };

const ENGINE_NET = "the userspace engine's peer link manages its own timers and buffers";
const HANDLER = 'drbd-tui runs no handler scripts; its console and status show the event instead';
const STARTUP = 'drbd-tui does not wait at boot: the daemon serves the resource and the console shows the peer';
const CSUMS = 'resync sends the blocks the bitmap marks, without checksum-based skipping';
const CONGESTION = 'replication blocks on congestion (protocol semantics), DRBD\'s default';
const CONTROLLER = 'the resync runs at up to the ceiling, without DRBD\'s controller';
const FLUSHES = "the engine passes the application's flushes to the backing disk";
const MD_FLUSHES = 'metadata writes are always flushed';
const QUORUM = 'a pair has no quorum; the console\'s guards check both sides before a promotion';
const PROMOTE = 'promotion is explicit (drbd-agent primary or the console)';
const PEER_ACKS = 'a two-host pair has no peer acks to batch';
const TWOPC = 'state changes of a pair need no two-phase commit timers';
const DRBDADM_TIMEOUTS = "drbdadm's drbdsetup timeouts";
const DRBD_YES = (v: string | undefined) => v === undefined || v === 'yes';

/** DRBD's boolean options: `opt;` and `opt yes;` switch them on. */
export function booleanOn(args: readonly string[]): boolean {
  return DRBD_YES(args[0]);
}

export const DRBD_OPTIONS: Record<Section, Record<string, OptionRule>> = {
  global: {
    'usage-count': ignored('a drbdadm setting: drbd-tui reports nothing to LINBIT'),
    'minor-count': ignored('kernel module parameter; the userspace engine has no minor limit'),
    'dialog-refresh': ignored("drbdadm's boot dialog; drbd-tui does not wait at boot"),
    'disable-ip-verification': ignored('drbd-tui checks addresses when the peer link binds'),
    'cmd-timeout-short': ignored(DRBDADM_TIMEOUTS),
    'cmd-timeout-medium': ignored(DRBDADM_TIMEOUTS),
    'cmd-timeout-long': ignored(DRBDADM_TIMEOUTS),
    'udev-always-use-vnr': ignored('udev symlinks for kernel devices; the userspace engine creates none'),
  },
  net: {
    protocol: honoured,
    'shared-secret': honoured,
    'after-sb-0pri': honoured,
    'after-sb-1pri': honoured,
    'after-sb-2pri': honoured,
    'ping-timeout': { kind: 'honoured', note: 'tenths of a second, as in DRBD' },
    'data-integrity-alg': { kind: 'honoured', note: 'any algorithm switches on crc32c checksums of replicated data' },
    'cram-hmac-alg': ignored('the peer link authenticates with HMAC-SHA256 whatever algorithm is named'),
    'verify-alg': ignored('online verify compares SHA-256 digests whatever algorithm is named'),
    'csums-alg': ignored(CSUMS),
    'csums-after-crash-only': ignored(CSUMS),
    timeout: ignored(ENGINE_NET),
    'connect-int': ignored(ENGINE_NET),
    'ping-int': ignored('the engine pings every half ping-timeout (1 to 10 s)'),
    'max-epoch-size': ignored(ENGINE_NET),
    'max-buffers': ignored(ENGINE_NET),
    'ko-count': ignored(ENGINE_NET),
    'sndbuf-size': ignored(ENGINE_NET),
    'rcvbuf-size': ignored(ENGINE_NET),
    'tcp-cork': ignored(ENGINE_NET),
    'socket-check-timeout': ignored(ENGINE_NET),
    'use-rle': ignored('the bitmap exchange has its own encoding'),
    'always-asbp': ignored('the split-brain policies apply whenever both sides changed'),
    'rr-conflict': ignored('a resync-role conflict disconnects, DRBD\'s default'),
    'on-congestion': ignored(CONGESTION),
    'congestion-fill': ignored(CONGESTION),
    'congestion-extents': ignored(CONGESTION),
    fencing: ignored('drbd-tui does not fence: the console refuses a promotion that could diverge, and its runbooks check both sides'),
    'allow-remote-read': ignored('reads are served from the local disk'),
    transport: ignored('the peer link is TCP'),
    'allow-two-primaries': {
      kind: 'refused-when',
      why: 'one Primary at a time, the default',
      refuse: (a) => (booleanOn(a) ? 'allow-two-primaries yes is not supported: drbd-tui exports each volume from one Primary; remove it (or write allow-two-primaries no;)' : undefined),
    },
    // Beyond DRBD (drbd-tui's own; drbdadm refuses both): see the README.
    tls: honoured,
    'c-max-rate': { kind: 'honoured', note: 'drbd-tui also reads it here; DRBD keeps it in disk { }' },
  },
  disk: {
    'c-max-rate': { kind: 'honoured', note: 'KiB/s, or with a K, M or G suffix' },
    'resync-rate': { kind: 'honoured', note: 'the resync ceiling when c-max-rate is not set' },
    'c-plan-ahead': ignored(CONTROLLER),
    'c-delay-target': ignored(CONTROLLER),
    'c-fill-target': ignored(CONTROLLER),
    'c-min-rate': ignored('application I/O is not throttled for the resync'),
    bitmap: {
      kind: 'refused-when',
      why: 'every peer keeps a bitmap, the default',
      refuse: (a) => (a[0] === 'no' ? 'bitmap no is for diskless or stacked peers, which drbd-tui does not support: remove it' : undefined),
    },
    'on-io-error': ignored('on an I/O error the engine detaches the disk, DRBD\'s default'),
    'disk-barrier': ignored(FLUSHES),
    'disk-flushes': ignored(FLUSHES),
    'disk-drain': ignored(FLUSHES),
    'md-flushes': ignored(MD_FLUSHES),
    'resync-after': ignored('resources resync independently'),
    'al-extents': ignored('the activity log has its own fixed size'),
    'al-updates': ignored('the activity log is always kept'),
    'discard-zeroes-if-aligned': ignored('discards go to the backing disk as they come'),
    'disable-write-same': ignored('WRITE SAME is not offered'),
    'disk-timeout': ignored('a failing backing disk is detached on its errors, not on a timer'),
    'read-balancing': ignored('reads are served from the local disk'),
    'rs-discard-granularity': ignored('resync sends data, not discards'),
    size: ignored('the volume is the size of its backing disk (file disks: the size key of a YAML file)'),
    // DRBD 8.3's spellings, which drbdadm 9 still reads.
    'no-disk-barrier': ignored(FLUSHES),
    'no-disk-flushes': ignored(FLUSHES),
    'no-disk-drain': ignored(FLUSHES),
    'no-md-flushes': ignored(MD_FLUSHES),
  },
  options: {
    'cpu-mask': ignored('the engine is one process; pin it with taskset if needed'),
    'on-no-data-accessible': ignored('I/O without accessible data fails, DRBD\'s default'),
    'auto-promote': ignored(PROMOTE),
    'auto-promote-timeout': ignored(PROMOTE),
    'peer-ack-window': ignored(PEER_ACKS),
    'peer-ack-delay': ignored(PEER_ACKS),
    'twopc-timeout': ignored(TWOPC),
    'twopc-retry-timeout': ignored(TWOPC),
    'max-io-depth': ignored('the engine queues I/O itself'),
    quorum: ignored(QUORUM),
    'on-no-quorum': ignored(QUORUM),
    'quorum-minimum-redundancy': ignored(QUORUM),
    'on-suspended-primary-outdated': ignored(QUORUM),
  },
  startup: {
    'wfc-timeout': ignored(STARTUP),
    'degr-wfc-timeout': ignored(STARTUP),
    'outdated-wfc-timeout': ignored(STARTUP),
    'wait-after-sb': ignored(STARTUP),
    'become-primary-on': ignored(PROMOTE),
    'stacked-timeouts': ignored('stacked resources are not supported'),
  },
  handlers: Object.fromEntries(
    [
      'pri-on-incon-degr',
      'pri-lost-after-sb',
      'pri-lost',
      'initial-split-brain',
      'split-brain',
      'outdate-peer',
      'fence-peer',
      'unfence-peer',
      'local-io-error',
      'before-resync-target',
      'after-resync-target',
      'before-resync-source',
      'out-of-sync',
      'quorum-lost',
      'disconnected',
    ].map((h) => [h, ignored(HANDLER)]),
  ),
  syncer: {},
  proxy: {},
};

/** What drbdadm accepts as the value of an option (one a section; options not named here take any word). */
export type ValueKind = 'bool' | 'number' | 'flag' | readonly string[];

const BOOL: ValueKind = 'bool';
const NUMBER: ValueKind = 'number';
const QUORUM_VALUES: ValueKind = ['off', 'majority', 'all', ...Array.from({ length: 32 }, (_, i) => String(i + 1))];

export const DRBD_VALUES: Record<string, ValueKind> = {
  // net
  timeout: NUMBER,
  'connect-int': NUMBER,
  'ping-int': NUMBER,
  'max-epoch-size': NUMBER,
  'max-buffers': NUMBER,
  'ko-count': NUMBER,
  'sndbuf-size': NUMBER,
  'rcvbuf-size': NUMBER,
  'congestion-fill': NUMBER,
  'congestion-extents': NUMBER,
  'socket-check-timeout': NUMBER,
  'always-asbp': BOOL,
  'tcp-cork': BOOL,
  'use-rle': BOOL,
  'csums-after-crash-only': BOOL,
  'allow-remote-read': BOOL,
  'allow-two-primaries': BOOL,
  'rr-conflict': ['disconnect', 'call-pri-lost', 'violently', 'retry-connect', 'auto-discard'],
  'on-congestion': ['block', 'pull-ahead', 'disconnect'],
  fencing: ['dont-care', 'resource-only', 'resource-and-stonith'],
  // disk (disk-options, attach, peer-device-options)
  'on-io-error': ['pass_on', 'call-local-io-error', 'detach'],
  'read-balancing': ['prefer-local', 'prefer-remote', 'round-robin', 'least-pending', 'when-congested-remote', '32K-striping', '64K-striping', '128K-striping', '256K-striping', '512K-striping', '1M-striping'],
  'disk-barrier': BOOL,
  'disk-flushes': BOOL,
  'disk-drain': BOOL,
  'md-flushes': BOOL,
  'al-updates': BOOL,
  'discard-zeroes-if-aligned': BOOL,
  'disable-write-same': BOOL,
  bitmap: BOOL,
  'al-extents': NUMBER,
  'disk-timeout': NUMBER,
  'rs-discard-granularity': NUMBER,
  size: NUMBER,
  'c-plan-ahead': NUMBER,
  'c-delay-target': NUMBER,
  'c-fill-target': NUMBER,
  'c-min-rate': NUMBER,
  'no-disk-barrier': 'flag',
  'no-disk-flushes': 'flag',
  'no-disk-drain': 'flag',
  'no-md-flushes': 'flag',
  // options
  'on-no-data-accessible': ['io-error', 'suspend-io'],
  'on-no-quorum': ['io-error', 'suspend-io'],
  'on-suspended-primary-outdated': ['disconnect', 'force-secondary'],
  quorum: QUORUM_VALUES,
  'quorum-minimum-redundancy': QUORUM_VALUES,
  'auto-promote': BOOL,
  'peer-ack-window': NUMBER,
  'peer-ack-delay': NUMBER,
  'twopc-timeout': NUMBER,
  'twopc-retry-timeout': NUMBER,
  'auto-promote-timeout': NUMBER,
  'max-io-depth': NUMBER,
  // startup
  'wfc-timeout': NUMBER,
  'degr-wfc-timeout': NUMBER,
  'outdated-wfc-timeout': NUMBER,
  'wait-after-sb': BOOL,
};

/** Why drbdadm would refuse `args` as the value of `option`, or undefined when it takes them. */
export function valueProblem(option: string, args: readonly string[]): string | undefined {
  const kind = DRBD_VALUES[option];
  const v = args[0];
  if (kind === 'flag') return args.length === 0 ? undefined : `${option} takes no value: write ${option};`;
  if (kind === 'bool') return args.length === 0 || (args.length === 1 && (v === 'yes' || v === 'no')) ? undefined : `${option} is yes or no (or ${option}; alone for yes)`;
  if (args.length !== 1) return `${option} takes one value, e.g. ${option} ${kind === 'number' ? '10' : Array.isArray(kind) ? kind[0] : 'VALUE'};`;
  // drbdsetup's numbers take a unit suffix (K, M, G; s for sectors) where the option has a unit.
  if (kind === 'number') return /^\d+[kKmMgGsS]?$/.test(v!) ? undefined : `${option} must be a number (got ${JSON.stringify(v)})`;
  if (Array.isArray(kind) && !kind.includes(v!)) return `${option} must be one of ${kind.filter((k) => !/^\d+$/.test(k)).join(', ')}${kind.some((k) => /^\d+$/.test(k)) ? ' or a number' : ''} (got ${JSON.stringify(v!.length > 40 ? `${v!.slice(0, 37)}...` : v)})`;
  return undefined;
}

/** DRBD 8.4's syncer { } options that drbdadm 9 still reads, each with its DRBD 9 section and name. */
export const SYNCER_HOME: Record<string, ['net' | 'disk' | 'options', string]> = {
  'verify-alg': ['net', 'verify-alg'],
  'csums-alg': ['net', 'csums-alg'],
  'use-rle': ['net', 'use-rle'],
  'al-extents': ['disk', 'al-extents'],
  'cpu-mask': ['options', 'cpu-mask'],
  'on-no-data-accessible': ['options', 'on-no-data-accessible'],
  after: ['disk', 'resync-after'],
};
for (const [old, [home, name]] of Object.entries(SYNCER_HOME)) DRBD_OPTIONS.syncer[old] = DRBD_OPTIONS[home][name]!;

/** Where each structural keyword may be written (blocks and statements that are not options). */
export const DRBD_KEYWORDS = {
  top: ['global', 'common', 'resource', 'skip', 'include'],
  common: ['net', 'disk', 'options', 'startup', 'handlers', 'syncer', 'proxy', 'skip'],
  resource: ['protocol', 'net', 'disk', 'options', 'startup', 'handlers', 'syncer', 'device', 'meta-disk', 'flexible-meta-disk', 'volume', 'on', 'floating', 'connection', 'connection-mesh', 'stacked-on-top-of', 'proxy', 'skip', 'template-file'],
  on: ['node-id', 'address', 'device', 'disk', 'meta-disk', 'flexible-meta-disk', 'volume', 'proxy', 'skip'],
  volume: ['device', 'disk', 'meta-disk', 'flexible-meta-disk', 'skip'],
  connection: ['host', 'path', 'net', 'disk', 'volume', 'skip'],
  path: ['host'],
  'connection-mesh': ['hosts', 'net'],
} as const;

/** Constructs drbdadm accepts that drbd-tui refuses outright, with the fix. */
export const REFUSED_CONSTRUCTS: Record<string, string> = {
  'stacked-on-top-of': 'stacked resources are not supported: drbd-tui pairs exactly two hosts, each with its own backing disk',
  proxy: 'DRBD Proxy is not supported: the peer link connects the two hosts directly; remove the proxy section',
  'template-file': 'template-file is not supported: write the resource out in full',
};

/** The rule for `option` in `section`, or undefined for a keyword DRBD does not know there. */
export function optionRule(section: Section, option: string): OptionRule | undefined {
  return Object.hasOwn(DRBD_OPTIONS[section], option) ? DRBD_OPTIONS[section][option] : undefined;
}
