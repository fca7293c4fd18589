// The differential test: every file of fixtures/drbd-conf/ read by our loader and by
// `drbdadm -c FILE dump all` (drbd-utils, the reference; dump needs no kernel module and does
// not match hosts against uname -n). Where drbdadm accepts, our fields equal what its dump
// says; where it refuses, we refuse. drbdadm's dump is DRBD syntax, read here with our own
// tokenizer and resolved as drbdadm resolves it (common under the resource, on HOST under
// volume under resource, connection addresses over on addresses).
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfigFile } from '../../../agent/config/load.js';
import { parseResText } from '../../../agent/config/res-loader.js';
import type { Statement } from '../../../agent/config/res-syntax.js';
import { DRBD_OPTIONS, DRBD_VALUES, optionRule } from '../../../agent/config/drbd-options.js';
import { formatConfigError } from '../../../agent/config/types.js';
import type { ResourceConfig } from '../../../agent/config/types.js';
import { DRBD_UTILS_TOOLS, requireTools } from '../../support/lab-packages.js';

const DRBDADM = '/usr/sbin/drbdadm';
const DIR = 'fixtures/drbd-conf';
const skip = await requireTools(DRBD_UTILS_TOOLS);

function drbdadm(...args: string[]): { ok: boolean; out: string; err: string } {
  const r = spawnSync(DRBDADM, args, { encoding: 'utf8', env: { ...process.env, PATH: `/usr/sbin:/sbin:${process.env.PATH ?? ''}` } });
  return { ok: r.status === 0, out: r.stdout, err: r.stderr.split('\n').filter((l) => !/modinfo/.test(l)).join('\n') };
}

/** What we compare, from either side. */
interface Fields {
  resource: string;
  protocol: string;
  sharedSecret: string;
  afterSb: [string, string, string];
  /** Seconds. */
  pingTimeout: number;
  /** Bytes per second. */
  maxRate: number;
  hosts: Record<string, { nodeId: number; address: string; volumes: Record<number, { device: string; disk: string; metaDisk: string }> }>;
}

const block = (s: Statement | undefined, key: string) => (s?.block ?? []).filter((x) => x.key.text === key);
const opt = (sections: Statement[], key: string) => {
  let v: string | undefined;
  for (const sec of sections) for (const x of sec.block ?? []) if (x.key.text === key) v = x.args.map((a) => a.text).join(' ');
  return v;
};
const rate = (v: string) => {
  const m = /^(\d+)([KMGs]?)$/i.exec(v)!;
  return Number(m[1]) * { '': 1024, k: 1024, m: 1024 ** 2, g: 1024 ** 3, s: 512 }[m[2]!.toLowerCase()]!;
};
const device = (v: string) => (v.startsWith('minor ') ? `/dev/drbd${v.slice(6)}` : v.split(' ')[0]!);

/** drbdadm's dump, resolved into Fields per resource. */
function fromDump(text: string): Fields[] {
  const p = parseResText('dump', text);
  if ('error' in p) throw new Error(`cannot read drbdadm's dump: ${formatConfigError(p.error)}\n${text}`);
  const common = p.statements.find((s) => s.key.text === 'common');
  return p.statements
    .filter((s) => s.key.text === 'resource')
    .map((res) => {
      const ons = [...block(res, 'on'), ...block(res, 'floating')];
      const conns = block(res, 'connection');
      const net = [...block(common, 'net'), ...block(res, 'net'), ...conns.flatMap((c) => block(c, 'net')), ...block(res, 'connection-mesh').flatMap((c) => block(c, 'net'))];
      const disk = [...block(common, 'disk'), ...block(res, 'disk')];
      const connHosts = conns.flatMap((c) => [...block(c, 'host'), ...block(c, 'path').flatMap((pp) => block(pp, 'host'))]);
      const paths = (s: Statement | undefined, n: number) => {
        const vol = block(s, 'volume').find((v) => v.args[0]?.text === String(n));
        const direct = n === 0 ? s : undefined;
        return (k: string) => opt(vol ? [vol] : [], k) ?? (direct ? (direct.block ?? []).filter((x) => x.key.text === k && !x.block).map((x) => x.args.map((a) => a.text).join(' '))[0] : undefined);
      };
      const vnrs = new Set<number>([0]);
      for (const s of [res, ...ons]) for (const v of block(s, 'volume')) vnrs.add(Number(v.args[0]!.text));
      const cMax = opt(disk, 'c-max-rate');
      const resync = opt(disk, 'resync-rate');
      const hosts: Fields['hosts'] = {};
      for (const on of ons) {
        // A floating host is known by its address (drbd-tui's name for it: the IPv4 address).
        const floating = on.key.text === 'floating' ? on.args[on.args.length - 1]!.text : undefined;
        const name = floating ? floating.slice(0, floating.lastIndexOf(':')) : on.args[0]!.text;
        const fromConn = connHosts.find((h) => h.args[0]?.text === name && h.args[1]?.text === 'address');
        const addr = floating ?? (fromConn ? fromConn.args.map((a) => a.text).slice(2) : (opt([on], 'address') ?? '').split(' ')).pop()!;
        const volumes: Fields['hosts'][string]['volumes'] = {};
        for (const n of vnrs) {
          const get = (k: string) => paths(on, n)(k) ?? paths(res, n)(k);
          const dev = get('device');
          if (dev === undefined) continue;
          volumes[n] = { device: device(dev), disk: get('disk')!, metaDisk: get('meta-disk') ?? 'internal' };
        }
        hosts[name] = { nodeId: Number(opt([on], 'node-id')), address: addr, volumes };
      }
      const prot = opt(net, 'protocol') ?? (res.block ?? []).find((x) => x.key.text === 'protocol')?.args[0]?.text ?? 'C';
      const pt = opt(net, 'ping-timeout');
      return {
        resource: res.args[0]!.text,
        protocol: prot.toUpperCase(),
        sharedSecret: opt(net, 'shared-secret') ?? '',
        afterSb: [opt(net, 'after-sb-0pri') ?? 'disconnect', opt(net, 'after-sb-1pri') ?? 'disconnect', opt(net, 'after-sb-2pri') ?? 'disconnect'],
        // Absent: DRBD's 0.5 s; the resync ceiling absent is drbd-tui's 100 MiB/s (DRBD's controller; see the README).
        pingTimeout: pt === undefined ? 0.5 : Number(pt) / 10,
        maxRate: cMax !== undefined ? rate(cMax) : resync !== undefined ? rate(resync) : 100 * 1024 * 1024,
        hosts,
      };
    });
}

function ours(c: ResourceConfig): Fields {
  const hosts: Fields['hosts'] = {};
  for (const h of c.hosts) {
    const volumes: Fields['hosts'][string]['volumes'] = {};
    for (const v of c.volumes) volumes[v.volume] = { ...(v.perHost?.[h.name] ?? { device: v.device, disk: v.disk }), metaDisk: v.metaDisk };
    hosts[h.name] = { nodeId: h.nodeId, address: h.address, volumes };
  }
  return {
    resource: c.resource,
    protocol: c.protocol,
    sharedSecret: c.net.sharedSecret,
    afterSb: [c.net.afterSb0Pri, c.net.afterSb1Pri, c.net.afterSb2Pri],
    pingTimeout: c.net.pingTimeout,
    maxRate: c.net.maxRate,
    hosts,
  };
}

const corpus = (sub: string) =>
  readdirSync(join(DIR, sub))
    .sort()
    .map((f) => (f.endsWith('.res') ? join(DIR, sub, f) : join(DIR, sub, f, 'drbd.conf')))
    .filter((f) => existsSync(f));

describe('drbdadm accepts: our fields equal its dump', { skip }, () => {
  for (const file of corpus('accepted')) {
    test(file, async () => {
      const d = drbdadm('-c', file, 'dump', 'all');
      assert.ok(d.ok, `drbdadm refuses ${file}: ${d.err}`);
      const theirs = fromDump(d.out);
      const loaded = await loadConfigFile(file);
      assert.deepEqual(loaded.errors.map(formatConfigError), []);
      assert.deepEqual(loaded.resources.map(ours).sort((a, b) => a.resource.localeCompare(b.resource)), theirs.sort((a, b) => a.resource.localeCompare(b.resource)));
      // Node-ids the file does not give are marked as derived.
      const text = readFileSync(file, 'utf8');
      for (const r of loaded.resources) for (const h of r.hosts) if (!/node-id/.test(text)) assert.equal(h.nodeIdImplicit, true, `${r.resource} ${h.name}`);
    });
  }
});

/**
 * What a refused file expects beyond its refusal, from its comment lines: `# says: TEXT` (the
 * first error contains TEXT: the real cause comes first) and `# loads: NAME ...` (resources of
 * the file that still load beside the refused one; none unless named).
 */
function expectations(file: string): { says?: string; loads: string[] } {
  const text = readFileSync(file, 'utf8');
  const says = /^# says: (.+)$/m.exec(text)?.[1];
  const loads = /^# loads: (.+)$/m.exec(text)?.[1]?.split(' ') ?? [];
  return { ...(says !== undefined ? { says } : {}), loads };
}

async function refusedAsExpected(file: string): Promise<void> {
  const { says, loads } = expectations(file);
  const loaded = await loadConfigFile(file);
  assert.deepEqual(loaded.resources.map((r) => r.resource), loads);
  assert.ok(loaded.errors.length > 0);
  if (says !== undefined) assert.ok(loaded.errors[0]!.message.includes(says), `the first error of ${file} should say "${says}": ${formatConfigError(loaded.errors[0]!)}`);
}

describe('drbdadm refuses: so do we', { skip }, () => {
  for (const file of corpus('refused')) {
    test(file, async () => {
      assert.equal(drbdadm('-c', file, 'dump', 'all').ok, false, `drbdadm accepts ${file}`);
      await refusedAsExpected(file);
    });
  }
});

describe('drbdadm accepts, drbd-tui refuses by design (each file says why)', { skip }, () => {
  for (const file of corpus('ours-refused')) {
    test(file, async () => {
      assert.ok(drbdadm('-c', file, 'dump', 'all').ok, `drbdadm refuses ${file}`);
      await refusedAsExpected(file);
    });
  }
});

describe("drbd-options.ts holds exactly drbdsetup's option names", { skip }, () => {
  const names = (cmd: string) => {
    const r = spawnSync('/usr/sbin/drbdsetup', [cmd, '--help'], { encoding: 'utf8' });
    return [...`${r.stdout}${r.stderr}`.matchAll(/\[--([a-z0-9-]+)/g)].map((m) => m[1]!).filter((n) => n !== 'set-defaults');
  };
  const cases: Array<[string, 'net' | 'disk' | 'options', string[]]> = [
    ['new-peer', 'net', ['tls', 'c-max-rate']],
    ['disk-options', 'disk', ['size', 'resync-rate', 'c-plan-ahead', 'c-delay-target', 'c-fill-target', 'c-max-rate', 'c-min-rate', 'bitmap', 'no-disk-barrier', 'no-disk-flushes', 'no-disk-drain', 'no-md-flushes']],
    ['peer-device-options', 'disk', []],
    ['resource-options', 'options', []],
  ];
  for (const [cmd, section, beyond] of cases) {
    test(`drbdsetup ${cmd} → ${section}`, () => {
      const theirs = names(cmd);
      assert.ok(theirs.length > 0);
      for (const n of theirs) assert.ok(optionRule(section, n), `${n} (drbdsetup ${cmd}) is missing from DRBD_OPTIONS.${section}`);
      if (cmd !== 'peer-device-options' && cmd !== 'disk-options') {
        const extra = Object.keys(DRBD_OPTIONS[section]).filter((k) => !theirs.includes(k) && !beyond.includes(k));
        assert.deepEqual(extra, []);
      }
    });
  }
  test('drbdadm accepts every option of the table, with a value DRBD_VALUES allows, where the table puts it', () => {
    const beyond = new Set(['net/tls', 'net/c-max-rate']);
    const sample = (section: string, name: string) => {
      const kind = DRBD_VALUES[name];
      if (section === 'handlers') return '"/bin/true"';
      if (kind === 'flag') return '';
      if (kind === 'bool') return 'no';
      if (Array.isArray(kind)) return kind[0]!;
      // Within drbdsetup's ranges (drbdadm checks them; drbd-tui, which ignores these, does not).
      if (kind === 'number') return { 'max-buffers': '8000', 'congestion-extents': '1000', 'peer-ack-window': '4096', 'twopc-timeout': '300' }[name] ?? '10';
      return { 'become-primary-on': 'a', 'resync-after': 'r0', 'cpu-mask': '1', 'shared-secret': 'x', 'usage-count': 'no', transport: 'tcp', 'stacked-timeouts': '' }[name] ?? 'sha1';
    };
    const refused: string[] = [];
    for (const section of ['net', 'disk', 'options', 'startup', 'handlers', 'syncer'] as const) {
      for (const name of Object.keys(DRBD_OPTIONS[section])) {
        if (beyond.has(`${section}/${name}`)) continue;
        let value = sample(section, name);
        if (name === 'protocol') value = 'C';
        else if (name.startsWith('after-sb')) value = 'disconnect';
        else if (name === 'ping-timeout') value = '5';
        else if (name === 'data-integrity-alg') value = 'crc32c';
        else if (name === 'resync-rate' || name === 'c-max-rate') value = '10M';
        const text = `resource r0 { device minor 1; disk /dev/sdb; ${section} { ${name} ${value}; } on a { address 10.0.0.1:7789; } on b { address 10.0.0.2:7789; } }\n`;
        const f = join(tmpdir(), `drbdadm-diff-${process.pid}.res`);
        writeFileSync(f, text);
        if (!drbdadm('-c', f, 'dump', 'all').ok) refused.push(`${section} { ${name} ${value}; }`);
        rmSync(f, { force: true });
      }
    }
    assert.deepEqual(refused, []);
  });
});
