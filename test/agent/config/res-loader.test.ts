import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { loadConfigFile, parseResourceRes, parseResourceYaml } from '../../../agent/config/load.js';
import { formatConfigError } from '../../../agent/config/types.js';
import { pairRefusal, parseResFile, parseResText } from '../../../agent/config/res-loader.js';
import type { ResourceConfig } from '../../../agent/config/types.js';

const FIXTURES = 'fixtures/config';
const read = (name: string) => readFileSync(join(FIXTURES, name), 'utf8');

function config(file: string, text: string, node?: string): ResourceConfig {
  const r = parseResourceRes(file, text, node === undefined ? {} : { node });
  if ('errors' in r) assert.fail(r.errors.map(formatConfigError).join('\n'));
  assert.match(r.config.source.hash, /^[0-9a-f]{16}$/);
  return r.config;
}
function errors(file: string, text: string, node?: string): string[] {
  const r = parseResourceRes(file, text, node === undefined ? {} : { node });
  if ('config' in r) assert.fail(`${file} loaded but should not have`);
  return r.errors.map(formatConfigError);
}
const withoutSource = (c: ResourceConfig) => ({ ...c, source: undefined });

describe('valid .res files load into the exact ResourceConfig', () => {
  // One difference from seed-r0.yaml: ping-timeout absent is DRBD's 0.5 s in a .res file, drbd-tui's 5 s in YAML.
  test("seed-r0.res (the seed article's form) means what seed-r0.yaml means, with DRBD's ping-timeout default", () => {
    const c = config('seed-r0.res', read('seed-r0.res'), 'ha-b');
    assert.deepEqual(c, {
      resource: 'r0',
      protocol: 'C',
      net: { sharedSecret: 'FooFunFactory', afterSb0Pri: 'disconnect', afterSb1Pri: 'disconnect', afterSb2Pri: 'disconnect', maxRate: 104857600, pingTimeout: 0.5 },
      volumes: [{ volume: 0, device: '/dev/drbd1', disk: '/dev/sdb1', metaDisk: 'internal' }],
      hosts: [
        { name: 'ha-a', nodeId: 0, address: '10.77.0.11:7789', host: '10.77.0.11', port: 7789 },
        { name: 'ha-b', nodeId: 1, address: '10.77.0.12:7789', host: '10.77.0.12', port: 7789 },
      ],
      ignored: [{ option: 'cram-hmac-alg', section: 'net', why: 'the peer link authenticates with HMAC-SHA256 whatever algorithm is named', file: 'seed-r0.res', line: 4, col: 9 }],
      source: { file: 'seed-r0.res', format: 'res', hash: c.source.hash },
    });
    const y = parseResourceYaml('seed-r0.yaml', read('seed-r0.yaml').replace('net:\n', 'net:\n  ping-timeout: 0.5\n'));
    assert.ok('config' in y);
    assert.deepEqual({ ...withoutSource(c), ignored: undefined }, { ...withoutSource(y.config), ignored: undefined });
    assert.equal(c.source.hash, y.config.source.hash);
  });

  test('drbd8-r1.res: DRBD 8 style, node ids derived as drbdadm derives them, implicit volume 0, ignored sections', () => {
    const c = config('drbd8-r1.res', read('drbd8-r1.res'), 'storage1');
    assert.deepEqual(c, {
      resource: 'r1',
      protocol: 'B',
      net: {
        sharedSecret: 'xxxxxx-secret',
        afterSb0Pri: 'discard-least-changes',
        afterSb1Pri: 'consensus',
        afterSb2Pri: 'call-pri-lost-after-sb',
        maxRate: 40 * 1024 * 1024,
        // DRBD counts ping-timeout in tenths of a second: 20 is 2 s.
        pingTimeout: 2,
      },
      volumes: [{ volume: 0, device: '/dev/drbd0', disk: '/dev/storage/drives', metaDisk: 'internal' }],
      hosts: [
        // drbdadm -c drbd8-r1.res dump all prints these ids (test/agent/config/drbdadm-diff.lab.test.ts checks the corpus).
        { name: 'storage0', nodeId: 1, address: '192.168.6.148:7787', host: '192.168.6.148', port: 7787, nodeIdImplicit: true },
        { name: 'storage1', nodeId: 0, address: '192.168.6.149:7787', host: '192.168.6.149', port: 7787, nodeIdImplicit: true },
      ],
      ignored: c.ignored,
      source: { file: 'drbd8-r1.res', format: 'res', hash: c.source.hash },
    });
    assert.deepEqual(
      c.ignored!.map((i) => `${i.line}:${i.col} ${i.section} ${i.option}`),
      ['6:13 startup wfc-timeout', '6:29 startup degr-wfc-timeout', '8:5 handlers split-brain', '10:12 syncer al-extents', '11:10 disk on-io-error', '13:5 net max-buffers', '14:5 net max-epoch-size', '18:5 net cram-hmac-alg', '21:5 net fencing'],
    );
  });

  test('perhost-r2.res: volumes inside on sections, per-host disks, IPv6, device minor, c-max-rate in disk { }', () => {
    const c = config('perhost-r2.res', read('perhost-r2.res'), 'alice');
    assert.deepEqual(c, {
      resource: 'r2',
      protocol: 'A',
      net: { sharedSecret: 'r2-peer-secret', afterSb0Pri: 'disconnect', afterSb1Pri: 'disconnect', afterSb2Pri: 'disconnect', maxRate: 100 * 1024 * 1024, pingTimeout: 5 },
      volumes: [
        {
          volume: 0,
          device: '/dev/drbd1',
          disk: '/dev/sda7',
          metaDisk: 'internal',
          perHost: { alice: { device: '/dev/drbd1', disk: '/dev/sda7' }, bob: { device: '/dev/drbd1', disk: '/dev/sdb7' } },
        },
        { volume: 1, device: '/dev/drbd2', disk: '/dev/sda8', metaDisk: 'internal' },
      ],
      hosts: [
        { name: 'alice', nodeId: 3, address: '[fd00:77::31]:7789', host: 'fd00:77::31', port: 7789 },
        { name: 'bob', nodeId: 7, address: '[fd00:77::32]:7789', host: 'fd00:77::32', port: 7789 },
      ],
      source: { file: 'perhost-r2.res', format: 'res', hash: c.source.hash },
    });
    assert.equal(config('perhost-r2.res', read('perhost-r2.res'), 'bob').volumes[0]!.disk, '/dev/sdb7');
  });

  test('DRBD 8.4 form: shared device, per-host disk directly in on, address family ipv4', () => {
    const c = config(
      'r3.res',
      `resource r3 {
  device minor 3;
  meta-disk internal;
  net { shared-secret "x-secret"; ping-timeout 5; after-sb-0pri discard-younger-primary; }
  on a { disk /dev/vg/a; address ipv4 127.0.0.1:7800; }
  on b { disk /dev/vg/b; address ipv4 127.0.0.2:7800; }
}`,
      'b',
    );
    assert.deepEqual(c.volumes, [{ volume: 0, device: '/dev/drbd3', disk: '/dev/vg/b', metaDisk: 'internal', perHost: { a: { device: '/dev/drbd3', disk: '/dev/vg/a' }, b: { device: '/dev/drbd3', disk: '/dev/vg/b' } } }]);
    assert.equal(c.net.pingTimeout, 0.5);
    assert.equal(c.net.afterSb0Pri, 'discard-younger-primary');
    // Without node-ids, drbdadm's: the larger CRC32C of the address gets 0.
    assert.deepEqual(c.hosts.map((h) => [h.name, h.nodeId, h.nodeIdImplicit]), [['a', 1, true], ['b', 0, true]]);
  });

  test('meta-disk at resource level is a default for all volumes, not an implicit volume 0', () => {
    const c = config(
      'r5.res',
      `resource r5 {
  meta-disk internal;
  net { shared-secret "x-secret"; }
  on a { node-id 0; address 127.0.0.1:7800; volume 1 { device minor 11; disk /dev/vg/a1; } }
  on b { node-id 1; address 127.0.0.1:7801; volume 1 { device minor 11; disk /dev/vg/a1; } }
}`,
    );
    assert.deepEqual(c.volumes, [{ volume: 1, device: '/dev/drbd11', disk: '/dev/vg/a1', metaDisk: 'internal' }]);
  });

  test('device PATH minor N, flexible-meta-disk, a quoted disk path, and a skip section', () => {
    const c = config(
      'r4.res',
      `skip { resource old { } }
resource r4 {
  net { shared-secret "x-secret"; c-max-rate 2048; }
  volume 2 { device /dev/drbd_r4 minor 4; disk "/srv/disks/r 4.img"; flexible-meta-disk internal; }
  on a { node-id 5; address 127.0.0.1:7800; }
  on b { node-id 6; address 127.0.0.1:7801; }
}`,
    );
    assert.deepEqual(c.volumes, [{ volume: 2, device: '/dev/drbd_r4', minor: 4, disk: '/srv/disks/r 4.img', metaDisk: 'internal' }]);
    assert.equal(c.net.maxRate, 2048 * 1024);
  });
});

const BROKEN: Record<string, string[]> = {
  "bad-values.res": [
    "bad-values.res:2:12: protocol must be A, B or C (got \"D\")",
    "bad-values.res:5:19: after-sb-0pri discard-node-ha-c: DRBD 8's form, which drbdadm 9 refuses (a YAML resource file takes it); write one of disconnect, discard-younger-primary, discard-older-primary, discard-zero-changes, discard-least-changes",
    "bad-values.res:6:19: after-sb-1pri must be one of disconnect, consensus, discard-secondary, call-pri-lost-after-sb (got \"discard-primary\")",
    "bad-values.res:7:18: ping-timeout is in tenths of a second and must be a whole number from 1 to 300 (got \"0.5\")",
    "bad-values.res:8:16: c-max-rate must be a rate in KiB/s, or with a K, M or G suffix, e.g. c-max-rate 100M; (got \"100MB\")",
    "bad-values.res:9:5: allow-two-primaries yes is not supported: drbd-tui exports each volume from one Primary; remove it (or write allow-two-primaries no;)",
    "bad-values.res:11:38: disk must be an absolute path to a block device or file, e.g. disk /dev/sdb1; (got \"sdb1\")",
    "bad-values.res:11:54: meta-disk /dev/sdc1[0] is an external meta-disk, which drbd-tui does not support: it keeps its metadata at the end of the backing disk; write meta-disk internal; (and run create-md)",
    "bad-values.res:12:21: node-id must be a whole number from 0 to 31 (got \"32\")",
    "bad-values.res:12:33: address [fd00::11]:7789 is IPv6: write address ipv6 [fd00::11]:7789;",
    "bad-values.res:13:32: address family \"sdp\" is not supported: use ipv4 or ipv6 (or leave it out)"
  ],
  "hosts.res": [
    "hosts.res:1:1: drbd-tui pairs exactly two hosts, and resource r0 has 3 (ha-a, ha-b, ha-c): keep the two on sections of the replication pair in this file"
  ],
  "missing-disk.res": [
    "missing-disk.res:5:6: volume 0 has no disk for host ha-b; add \"disk ...\" to the volume, or to on ha-b",
    "missing-disk.res:5:21: address 10.77.0.11:7789 of ha-b is already used by ha-a; each host listens on its own address"
  ],
  "missing-semicolon-brace.res": [
    "missing-semicolon-brace.res:6:48: missing ; after \"address\" (line 6) before this }"
  ],
  "missing-semicolon.res": [
    "missing-semicolon.res:2:3: missing ; at the end of line 2: \"protocol C\" runs into \"net\" on line 3"
  ],
  "stray-brace.res": [
    "stray-brace.res:3:1: this } closes nothing: remove it or add the { it belongs to"
  ],
  "two-resources.res": [
    "two-resources.res:1:1: this file defines 2 resources (r1 after the first): a resource's own file defines only it",
    "two-resources.res:7:1: resource r1 needs exactly two \"on HOST { ... }\" sections, the replication pair (got none)",
    "two-resources.res:7:1: resource r1 has no volume: add \"volume 0 { device /dev/drbd1; disk /dev/sdb1; meta-disk internal; }\""
  ],
  "unclosed-block.res": [
    "unclosed-block.res:6:1: the resource block opened at 1:13 is never closed: a } is missing, at the end or inside that block"
  ],
  "unknown-keywords.res": [
    "unknown-keywords.res:3:3: unknown keyword \"protcol\" in resource r0; did you mean \"protocol\"?",
    "unknown-keywords.res:4:9: unknown keyword \"shared-secrt\" in net; did you mean \"shared-secret\"?",
    "unknown-keywords.res:4:39: unknown keyword \"max-bufers\" in net; did you mean \"max-buffers\"?",
    "unknown-keywords.res:5:49: unknown keyword \"metadisk\" in volume 0; did you mean \"meta-disk\"?",
    "unknown-keywords.res:7:24: unknown keyword \"adress\" in on ha-a; did you mean \"address\"?"
  ],
  "unterminated-string.res": [
    "unterminated-string.res:3:19: this string has no closing double quote (strings must end on the line they start)"
  ],
};

describe('broken .res files: each error at the right line:col, naming the problem and the fix', () => {
  const files = readdirSync(join(FIXTURES, 'broken')).filter((f) => f.endsWith('.res'));
  test('every broken .res fixture is covered by this table', () => {
    assert.deepEqual(files.sort(), Object.keys(BROKEN).sort());
  });
  for (const f of files) {
    test(f, () => {
      assert.deepEqual(errors(f, read(`broken/${f}`)), BROKEN[f]);
    });
  }
});

describe('more mistakes', () => {
  const hosts = `  on ha-a { node-id 0; address 10.77.0.11:7789; }
  on ha-b { node-id 1; address 10.77.0.12:7789; }`;
  test('contradicting protocols', () => {
    assert.deepEqual(errors('r0.res', `resource r0 {\n  protocol C;\n  net { protocol A; shared-secret "x-secret"; }\n  volume 0 { device /dev/drbd1; disk /dev/sdb1; }\n${hosts}\n}`), [
      'r0.res:3:18: protocol A contradicts protocol C at 2:12; keep one',
    ]);
  });
  test('c-max-rate in both net and disk', () => {
    assert.deepEqual(errors('r0.res', `resource r0 {\n  disk { c-max-rate 10M; }\n  net { c-max-rate 20M; shared-secret "x-secret"; }\n  volume 0 { device /dev/drbd1; disk /dev/sdb1; }\n${hosts}\n}`), [
      'r0.res:3:20: c-max-rate is given in both net { } and disk { }: keep the one in disk { }, where DRBD reads it',
    ]);
  });
  test('volume 0 given both directly and as a block in one on section', () => {
    assert.deepEqual(
      errors('r0.res', `resource r0 {\n  net { shared-secret "x-secret"; }\n  on ha-a { node-id 0; disk /dev/sdc1; volume 0 { device /dev/drbd1; disk /dev/sdb1; } address 10.77.0.11:7789; }\n  on ha-b { node-id 1; address 10.77.0.12:7789; volume 0 { device /dev/drbd1; disk /dev/sdb1; } }\n}`),
      ["r0.res:3:29: volume 0's disk is given twice in on ha-a (directly and in volume 0 { }); keep one"],
    );
  });
  test('a volume only one host has', () => {
    assert.deepEqual(
      errors('r0.res', `resource r0 {\n  net { shared-secret "x-secret"; }\n  volume 0 { device /dev/drbd1; disk /dev/sdb1; }\n  on ha-a { node-id 0; address 10.77.0.11:7789; volume 1 { device /dev/drbd2; disk /dev/sdc1; } }\n  on ha-b { node-id 1; address 10.77.0.12:7789; }\n}`),
      [
        'r0.res:5:6: volume 1 has no device for host ha-b; add "device ..." to the volume, or to on ha-b',
        'r0.res:5:6: volume 1 has no disk for host ha-b; add "disk ..." to the volume, or to on ha-b',
      ],
    );
  });
  test('this node must be one of the hosts', () => {
    assert.deepEqual(errors('r0.res', read('seed-r0.res'), 'ha-x'), ["r0.res:2:1: this node 'ha-x' is not one of the hosts in r0.res: ha-a, ha-b; set --node or fix hosts"]);
  });
  test("discard-node-NAME is refused as drbdadm 9 refuses it (YAML's vocabulary); a diskless host is refused", () => {
    assert.deepEqual(errors('r0.res', `resource r0 {\n  net { shared-secret "x-secret"; after-sb-0pri discard-node-ha-a; }\n  volume 0 { device /dev/drbd1; disk /dev/sdb1; }\n${hosts}\n}`), [
      "r0.res:2:49: after-sb-0pri discard-node-ha-a: DRBD 8's form, which drbdadm 9 refuses (a YAML resource file takes it); write one of disconnect, discard-younger-primary, discard-older-primary, discard-zero-changes, discard-least-changes",
    ]);
    assert.deepEqual(errors('r0.res', `resource r0 {\n  net { shared-secret "x-secret"; }\n  volume 0 { device /dev/drbd1; disk none; }\n${hosts}\n}`), [
      'r0.res:3:38: disk none (a diskless node) is not supported: each host needs its own backing disk; give it one (disk /dev/sdb1;)',
    ]);
  });
  test('an empty file and a file without a resource', () => {
    assert.deepEqual(errors('r0.res', '# nothing\n'), ['r0.res:1:1: no resource found: expected resource NAME { ... }']);
    assert.deepEqual(errors('r0.res', 'global { usage-count no; }\nresources r0 { }\n'), [
      'r0.res:2:1: unknown keyword "resources" in the file (only global, common and resource NAME { ... } belong at the top); did you mean "resource"?',
    ]);
  });
  test('a run-on statement inside a volume', () => {
    assert.deepEqual(errors('r0.res', `resource r0 {\n  net { shared-secret "x-secret"; }\n  volume 0 {\n    device /dev/drbd1\n    disk /dev/sdb1;\n  }\n${hosts}\n}`), [
      'r0.res:4:5: missing ; at the end of line 4: "device /dev/drbd1" runs into "disk" on line 5',
    ]);
  });
});

describe('secrets never appear in error messages', () => {
  const files = readdirSync(join(FIXTURES, 'broken')).filter((f) => f.endsWith('.res'));
  for (const f of files) {
    const secrets = [...read(`broken/${f}`).matchAll(/shared-secret\s+"([^"\n]{4,})/g)].map((m) => m[1]!);
    test(f, () => {
      for (const e of errors(f, read(`broken/${f}`))) for (const s of secrets) assert.ok(!e.includes(s), `${e} shows a secret`);
    });
  }
  test('a malformed shared-secret statement is not quoted back', () => {
    for (const e of errors('r0.res', 'resource r0 { net { shared-secret hunter2 hunter3; } }')) assert.doesNotMatch(e, /hunter/);
  });
});

describe('DRBD 9 shapes (the differential corpus, fixtures/drbd-conf, without drbdadm)', () => {
  const C = 'fixtures/drbd-conf/accepted';
  const one = async (file: string) => {
    const r = await loadConfigFile(join(C, file));
    assert.deepEqual(r.errors.map(formatConfigError), []);
    return r.resources;
  };
  const hostsOf = (c: ResourceConfig) => c.hosts.map((h) => `${h.name} ${h.nodeId}${h.nodeIdImplicit ? ' implicit' : ''} ${h.address}`);

  test('connection { host A address ...; }: the addresses are found there, with the on sections giving node-ids', async () => {
    const [c] = await one('connection.res');
    assert.deepEqual(hostsOf(c!), ['n1 0 10.1.0.1:7792', 'n2 1 10.1.0.2:7792']);
    assert.equal(c!.protocol, 'B'); // the connection's net { }
  });
  test("connection { path { } }: the path's addresses win over the on sections'", async () => {
    const [c] = await one('connection-path.res');
    assert.deepEqual(hostsOf(c!), ['n1 1 10.2.0.1:7793', 'n2 2 10.2.0.2:7793']);
  });
  test("a two-host connection-mesh: drbdadm's implicit node-ids, its net { } read", async () => {
    const [c] = await one('mesh.res');
    assert.deepEqual(hostsOf(c!), ['left 1 implicit 172.16.0.9:7794', 'right 0 implicit 10.1.1.1:7794']);
    assert.equal(c!.net.sharedSecret, 's3cret-r4');
  });
  test('several resources in one file, each device form', async () => {
    const cs = await one('device-forms.res');
    assert.deepEqual(cs.map((c) => `${c.resource} ${c.volumes[0]!.device}`), ['d5 /dev/drbd5', 'd6 /dev/drbd6', 'd7 /dev/drbd7', 'd8 /dev/drbd_data', 'd9 /dev/drbd_logs']);
    assert.ok(cs.every((c) => c.net.sharedSecret === ''));
  });
  test('resource → volume → on HOST inheritance, field by field', async () => {
    const [c] = await one('inherit.res');
    assert.deepEqual(c!.volumes.map((v) => [v.volume, v.perHost]), [
      [0, { 'ha-a': { device: '/dev/drbd8', disk: '/dev/sda8' }, 'ha-b': { device: '/dev/drbd8', disk: '/dev/sdb8' } }],
      [1, { 'ha-a': { device: '/dev/drbd9', disk: '/dev/shared1' }, 'ha-b': { device: '/dev/drbd9', disk: '/dev/own1' } }],
    ]);
  });
  test('DRBD 8.4 style: lower-case protocol, syncer options listed under syncer, resync-rate as the ceiling, data-integrity-alg', async () => {
    const [c] = await one('drbd84.res');
    assert.equal(c!.protocol, 'C');
    assert.equal(c!.net.maxRate, 6 * 1024 ** 2);
    assert.equal(c!.net.dataIntegrity, true);
    assert.deepEqual(c!.ignored!.filter((i) => i.section === 'syncer').map((i) => i.option), ['verify-alg', 'al-extents', 'csums-alg']);
    assert.ok(c!.ignored!.some((i) => i.option === 'allow-two-primaries'));
  });
  test('units: ping-timeout in tenths, rates in KiB/s by default, IPv6 addresses', async () => {
    const [u1, u2] = await one('units.res');
    assert.equal(u1!.net.pingTimeout, 3);
    assert.equal(u1!.net.maxRate, 40 * 1024 ** 2);
    assert.equal(u1!.hosts[0]!.host, 'fd00:77::31');
    assert.equal(u2!.net.maxRate, 20480 * 1024);
    assert.equal(u2!.net.pingTimeout, 0.5, 'absent: DRBD\'s 5 tenths');
  });
  test('floating sections: hosts named by their IPv4 address', async () => {
    const [c] = await one('floating.res');
    assert.deepEqual(hostsOf(c!), ['10.0.0.1 0 implicit 10.0.0.1:7812', '10.0.0.2 1 implicit 10.0.0.2:7812']);
    assert.deepEqual(c!.volumes[0]!.perHost, { '10.0.0.1': { device: '/dev/drbd12', disk: '/dev/sdb' }, '10.0.0.2': { device: '/dev/drbd12', disk: '/dev/sdc' } });
    const r = parseResourceRes('f.res', 'resource f { device minor 1; disk /dev/sdb; floating ipv6 [fd00::1]:7789 { } floating ipv6 [fd00::2]:7789 { } }');
    assert.ok('errors' in r);
    assert.match(r.errors[0]!.message, /^floating \[fd00::1\]:7789: drbd-tui names a floating host by its IPv4 address/);
  });
  test('refused by design, each naming the construct and the fix', async () => {
    const first = async (f: string) => (await loadConfigFile(join('fixtures/drbd-conf/ours-refused', f))).errors.map((e) => e.message)[0];
    assert.match((await first('mesh-three.res'))!, /^drbd-tui pairs exactly two hosts, and resource o6 has 3 \(a, b, c\)/);
    assert.match((await first('missing-address.res'))!, /^on b has no address: add address HOST:PORT;/);
    assert.match((await first('two-primaries.res'))!, /^allow-two-primaries yes is not supported/);
    assert.match((await first('external-meta.res'))!, /external meta-disk/);
    assert.match((await first('diskless.res'))!, /diskless/);
  });
});

describe('pairRefusal: what drbd-tui cannot pair is said before anything else', () => {
  const res = (body: string) => {
    const p = parseResText('t.res', `resource t { ${body} }`);
    if ('error' in p) throw new Error(p.error.message);
    return p.statements[0]!;
  };
  const on = (n: string) => `on ${n} { address 10.0.0.${n.length}:7789; }`;
  test('hosts counted over on, floating, connection-mesh and connection sections; stacked resources', () => {
    const cases: Array<[string, string | undefined]> = [
      [`${on('a')} ${on('b')}`, undefined],
      [`${on('a')} ${on('b')} ${on('c')} typo 1;`, 'drbd-tui pairs exactly two hosts, and resource t has 3 (a, b, c)'],
      [`${on('a')} floating 10.0.0.9:7789 { } floating 10.0.0.8:7789 { }`, 'drbd-tui pairs exactly two hosts, and resource t has 3 (a, 10.0.0.9:7789, 10.0.0.8:7789)'],
      [`${on('a')} ${on('b')} connection-mesh { hosts a b c; }`, 'drbd-tui pairs exactly two hosts, and resource t has 3 (a, b, c)'],
      [`${on('a')} ${on('b')} connection { host a; host c address 10.0.0.3:7789; }`, 'drbd-tui pairs exactly two hosts, and resource t has 3 (a, b, c)'],
      [`${on('a')} ${on('b')} connection { path { host b; host d; } }`, 'drbd-tui pairs exactly two hosts, and resource t has 3 (a, b, d)'],
      // `on a a2 { }` is one host known by two names: a connection naming a2 adds none.
      [`on a a2 { } ${on('b')} connection { host a2; host b; }`, undefined],
      [`stacked-on-top-of r0 { device minor 10; } ${on('c')}`, 'resource t is stacked on r0: stacked resources are not supported'],
    ];
    for (const [body, want] of cases) {
      const got = pairRefusal(res(body));
      if (want === undefined) assert.equal(got, undefined, body);
      else assert.ok(got?.message.startsWith(want), `${body}: ${got?.message}`);
    }
  });
  test('a three-host resource says so first even beside a broken common section', () => {
    const text = `common { net { protcol C; } }\nresource t { device minor 1; disk /dev/sdb; ${on('a')} ${on('b')} ${on('c')} }\n`;
    const r = parseResFile('t.res', text);
    assert.deepEqual(r.resources.map((x) => ('errors' in x ? x.errors.map((e) => e.message.slice(0, 32)) : [])), [['drbd-tui pairs exactly two hosts']]);
  });
});
