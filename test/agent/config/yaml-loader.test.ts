import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { parseResourceYaml } from '../../../agent/config/load.js';
import { formatConfigError } from '../../../agent/config/types.js';
import type { ResourceConfig } from '../../../agent/config/types.js';

const FIXTURES = 'fixtures/config';
const read = (name: string) => readFileSync(join(FIXTURES, name), 'utf8');

function config(file: string, text: string, node?: string): ResourceConfig {
  const r = parseResourceYaml(file, text, node === undefined ? {} : { node });
  if ('errors' in r) assert.fail(r.errors.map(formatConfigError).join('\n'));
  assert.match(r.config.source.hash, /^[0-9a-f]{16}$/);
  return r.config;
}
function errors(file: string, text: string, node?: string): string[] {
  const r = parseResourceYaml(file, text, node === undefined ? {} : { node });
  if ('config' in r) assert.fail(`${file} loaded but should not have`);
  return r.errors.map(formatConfigError);
}

const HOSTS_AB = [
  { name: 'ha-a', nodeId: 0, address: '10.77.0.11:7789', host: '10.77.0.11', port: 7789 },
  { name: 'ha-b', nodeId: 1, address: '10.77.0.12:7789', host: '10.77.0.12', port: 7789 },
];

describe('valid YAML files load into the exact ResourceConfig', () => {
  test('r0.yaml, the DESIGN.md example', () => {
    const c = config('r0.yaml', read('r0.yaml'));
    assert.deepEqual(c, {
      resource: 'r0',
      protocol: 'C',
      net: {
        sharedSecret: 'FooFunFactory-r0-secret',
        afterSb0Pri: 'discard-zero-changes',
        afterSb1Pri: 'discard-secondary',
        afterSb2Pri: 'disconnect',
        maxRate: 100 * 1024 * 1024,
        pingTimeout: 5,
      },
      volumes: [{ volume: 0, device: '/dev/drbd1', disk: '/var/lib/drbd-tui/disks/r0-0.img', size: 1024 ** 3, metaDisk: 'internal' }],
      hosts: HOSTS_AB,
      iscsi: {
        iqn: 'iqn.2026-11.com.example:r0',
        portal: '0.0.0.0:3260',
        portalHost: '0.0.0.0',
        portalPort: 3260,
        chap: { user: 'winsrv', secret: 'twelve-chars' },
      },
      source: { file: 'r0.yaml', format: 'yaml', hash: c.source.hash },
    });
  });

  test('seed-r0.yaml: everything optional takes its default', () => {
    const c = config('seed-r0.yaml', read('seed-r0.yaml'));
    assert.deepEqual(c, {
      resource: 'r0',
      protocol: 'C',
      net: { sharedSecret: 'FooFunFactory', afterSb0Pri: 'disconnect', afterSb1Pri: 'disconnect', afterSb2Pri: 'disconnect', maxRate: 104857600, pingTimeout: 5 },
      volumes: [{ volume: 0, device: '/dev/drbd1', disk: '/dev/sdb1', metaDisk: 'internal' }],
      hosts: HOSTS_AB,
      source: { file: 'seed-r0.yaml', format: 'yaml', hash: c.source.hash },
    });
  });

  test('perhost-r2.yaml: per-host disks resolve for the local node; volumes sorted; hosts in file order', () => {
    const text = read('perhost-r2.yaml');
    const expected = (disk: string): ResourceConfig => ({
      resource: 'r2',
      protocol: 'A',
      net: { sharedSecret: 'r2-peer-secret', afterSb0Pri: 'disconnect', afterSb1Pri: 'disconnect', afterSb2Pri: 'disconnect', maxRate: 104857600, pingTimeout: 5 },
      volumes: [
        {
          volume: 0,
          device: '/dev/drbd1',
          disk,
          metaDisk: 'internal',
          perHost: { bob: { device: '/dev/drbd1', disk: '/dev/sdb7' }, alice: { device: '/dev/drbd1', disk: '/dev/sda7' } },
        },
        { volume: 1, device: '/dev/drbd2', disk: '/dev/sda8', metaDisk: 'internal' },
      ],
      hosts: [
        { name: 'bob', nodeId: 7, address: '[fd00:77::32]:7789', host: 'fd00:77::32', port: 7789 },
        { name: 'alice', nodeId: 3, address: '[fd00:77::31]:7789', host: 'fd00:77::31', port: 7789 },
      ],
      source: { file: 'perhost-r2.yaml', format: 'yaml', hash: '' },
    });
    const onAlice = config('perhost-r2.yaml', text, 'alice');
    const onBob = config('perhost-r2.yaml', text, 'bob');
    const unresolved = config('perhost-r2.yaml', text);
    assert.deepEqual({ ...onAlice, source: { ...onAlice.source, hash: '' } }, expected('/dev/sda7'));
    assert.deepEqual({ ...onBob, source: { ...onBob.source, hash: '' } }, expected('/dev/sdb7'));
    // Without a node name the first host's paths are used, and perHost tells the whole truth.
    assert.equal(unresolved.volumes[0]!.disk, '/dev/sdb7');
    assert.equal(onAlice.source.hash, onBob.source.hash);
    assert.equal(onAlice.source.hash, unresolved.source.hash);
  });

  test('sizes, rates, IPv6, eui names, mutual CHAP and an explicit portal', () => {
    const c = config(
      'x.yaml',
      `resource: x.1_y
protocol: B
net:
  shared-secret: "s3cret-value"
  after-sb-0pri: discard-node-h2
  after-sb-2pri: call-pri-lost-after-sb
  c-max-rate: 40M
  ping-timeout: 0.5
volumes:
  - { volume: 3, device: /dev/drbd3, disk: /srv/x.img, size: 10G }
hosts:
  h1: { node-id: 30, address: "[::1]:7789" }
  h2: { node-id: 31, address: localhost:7790 }
iscsi:
  iqn: eui.02004567A425678D
  portal: "[::]:3261"
  chap: { user: u, secret: "123456789012", target-user: t, target-secret: "abcdefghijklmnop" }
`,
    );
    assert.equal(c.resource, 'x.1_y');
    assert.equal(c.protocol, 'B');
    assert.deepEqual(c.net, { sharedSecret: 's3cret-value', afterSb0Pri: 'discard-node-h2', afterSb1Pri: 'disconnect', afterSb2Pri: 'call-pri-lost-after-sb', maxRate: 40 * 2 ** 20, pingTimeout: 0.5 });
    assert.deepEqual(c.volumes, [{ volume: 3, device: '/dev/drbd3', disk: '/srv/x.img', size: 10 * 2 ** 30, metaDisk: 'internal' }]);
    assert.deepEqual(c.hosts[0], { name: 'h1', nodeId: 30, address: '[::1]:7789', host: '::1', port: 7789 });
    assert.deepEqual(c.iscsi, {
      iqn: 'eui.02004567A425678D',
      portal: '[::]:3261',
      portalHost: '::',
      portalPort: 3261,
      chap: { user: 'u', secret: '123456789012', targetUser: 't', targetSecret: 'abcdefghijklmnop' },
    });
  });
});

// Every broken fixture, with every error at its exact position and in its exact words.
const BROKEN: Record<string, string[]> = {
  "bad-chap-pairs.yaml": [
    "bad-chap-pairs.yaml:9:3: iscsi.chap.target-user is missing: target-secret and target-user go together (for mutual CHAP the target answers with both)",
    "bad-chap-pairs.yaml:11:13: iscsi.chap.secret is 8 characters; CHAP secrets must be 12 to 16 characters: RFC 3720 asks for at least 96 bits and the Windows initiator refuses anything outside 12-16",
    "bad-chap-pairs.yaml:12:20: iscsi.chap.target-secret is 22 characters; CHAP secrets must be 12 to 16 characters: RFC 3720 asks for at least 96 bits and the Windows initiator refuses anything outside 12-16",
  ],
  "bad-chap.yaml": [
    "bad-chap.yaml:9:86: iscsi.chap.target-secret must differ from iscsi.chap.secret: the Windows initiator refuses the same secret in both directions, and RFC 3720 advises against it",
  ],
  "bad-iscsi.yaml": [
    "bad-iscsi.yaml:8:8: iscsi.iqn has month 13: the date after iqn. is the year and month (01-12) your organisation owned the domain, e.g. iqn.2026-11.com.example:r0",
    "bad-iscsi.yaml:9:11: iscsi.portal must be host:port, e.g. 0.0.0.0:3260: the port is missing (got \"0.0.0.0\")",
  ],
  "bad-protocol.yaml": [
    "bad-protocol.yaml:7:23: unknown key \"protocol\" in hosts.ha-a; protocol belongs at the top level",
    "bad-protocol.yaml:9:16: protocol must be A, B or C (got \"D\")",
  ],
  "bad-values.yaml": [
    "bad-values.yaml:1:11: resource must be a name made of letters, digits, '_', '.' and '-', e.g. r0 (got \"r0 main\")",
    "bad-values.yaml:3:18: net.shared-secret must be text: put the secret in double quotes",
    "bad-values.yaml:5:18: net.after-sb-1pri must be one of disconnect, consensus, discard-secondary, call-pri-lost-after-sb (got \"consensu\"); did you mean \"consensus\"?",
    "bad-values.yaml:6:18: net.after-sb-2pri must be one of disconnect, call-pri-lost-after-sb (got \"consensus\")",
    "bad-values.yaml:7:15: net.c-max-rate \"10GB/s\" is ambiguous (10^9 or 2^30?): write 10GiB/s for the binary unit, or the exact number of bytes/s",
    "bad-values.yaml:9:13: volumes[0].volume must be a whole number from 0 to 65535 (got -1)",
    "bad-values.yaml:10:13: volumes[0].device must be an absolute path like /dev/drbd1 (got \"drbd1\"); or one path per host: { ha-a: /dev/drbd1, ha-b: /dev/drbd1 }",
    "bad-values.yaml:12:11: volumes[0].size must be a multiple of 512 bytes, the sector size (got 1000 bytes)",
    "bad-values.yaml:13:16: volumes[0].meta-disk must be internal (got \"/dev/sdc1\"): drbd-tui keeps its metadata at the end of the backing disk; external meta-disks are not supported",
    "bad-values.yaml:17:11: volumes[1].size must be a size like 512MiB, 1GiB, 10G or plain bytes (got \"lots\"); units are K/KiB, M/MiB, G/GiB, T/TiB, all powers of 1024",
    "bad-values.yaml:19:20: hosts.ha-a.node-id must be a whole number from 0 to 31, unique per host (got 32)",
    "bad-values.yaml:19:33: hosts.ha-a.address has an invalid IPv4 address \"10.77.0.300\" (got \"10.77.0.300:7789\")",
    "bad-values.yaml:20:32: hosts.ha-b.address looks like an IPv6 address without brackets: write [address]:port, e.g. [fd00::11]:7789 (got \"fd00::12:7789\")",
  ],
  "duplicate-hosts.yaml": [
    "duplicate-hosts.yaml:5:15: volume 0 is defined twice; volume numbers must be unique",
    "duplicate-hosts.yaml:8:20: node-id 4 of ha-b is already used by ha-a; give each host its own node-id (0..31)",
    "duplicate-hosts.yaml:8:32: address 10.77.0.11:7789 of ha-b is already used by ha-a; each host listens on its own address",
  ],
  "duplicate-key.yaml": [
    "duplicate-key.yaml:7:1: key \"resource\" appears twice in the same mapping; keep one",
  ],
  "empty-secret.yaml": [
    "empty-secret.yaml:4:17: net.ping-timeout must be a number of seconds from 0.1 to 30 (got 0)",
  ],
  "empty.yaml": [
    "empty.yaml:1:1: the file is empty: expected a resource definition starting with resource: NAME",
  ],
  "per-host-paths.yaml": [
    "per-host-paths.yaml:6:5: volume 0 has no disk for host ha-b; add ha-b: /path under disk",
    "per-host-paths.yaml:8:7: volume 0 gives a disk for \"ha-c\", which is not one of the hosts (ha-a, ha-b)",
  ],
  "syntax.yaml": [
    "syntax.yaml:5:42: YAML syntax: Missing , between flow map items; an IPv6 address must be quoted, e.g. address: \"[fd00::11]:7789\"",
  ],
  "three-hosts.yaml": [
    "three-hosts.yaml:4:1: hosts must name exactly two hosts, the replication pair (got 3: ha-a, ha-b, ha-c); e.g. hosts: { ha-a: { node-id: 0, address: 10.77.0.11:7789 }, ha-b: { node-id: 1, address: 10.77.0.12:7789 } }",
  ],
  "unknown-keys.yaml": [
    "unknown-keys.yaml:2:1: unknown key \"protcol\"; did you mean \"protocol\"?",
    "unknown-keys.yaml:5:3: unknown key \"after-sb0pri\" in net; did you mean \"after-sb-0pri\"?",
    "unknown-keys.yaml:6:3: unknown key \"protocol\" in net; protocol belongs at the top level",
    "unknown-keys.yaml:11:5: unknown key \"meta_disk\" in volumes[0]; did you mean \"meta-disk\"?",
    "unknown-keys.yaml:12:5: unknown key \"colour\" in volumes[0]; known keys in each entry of volumes: volume, device, disk, size, meta-disk",
    "unknown-keys.yaml:14:11: unknown key \"nodeid\" in hosts.ha-a; did you mean \"node-id\"?",
  ],
  "wrong-shapes.yaml": [
    "wrong-shapes.yaml:2:1: net must be a mapping (key: value lines) (got an empty value); it needs shared-secret: the peer link authenticates every connection with it (HMAC challenge-response), so that nothing but the other host can replicate into this disk; put the same long random string on both hosts (e.g. from openssl rand -base64 24)",
    "wrong-shapes.yaml:3:10: volumes must be a list (lines starting with \"- \") (got a text value)",
    "wrong-shapes.yaml:5:3: hosts must be a mapping (key: value lines) (got a list); name the two hosts, e.g. hosts: { ha-a: { node-id: 0, address: 10.77.0.11:7789 }, ha-b: { node-id: 1, address: 10.77.0.12:7789 } }",
  ],
};

describe('broken YAML files: each error at the right line:col, naming the problem and the fix', () => {
  const files = readdirSync(join(FIXTURES, 'broken')).filter((f) => f.endsWith('.yaml'));
  test('every broken YAML fixture is covered by this table', () => {
    assert.deepEqual(files.sort(), Object.keys(BROKEN).sort());
  });
  for (const f of files) {
    test(f, () => {
      assert.deepEqual(errors(f, read(`broken/${f}`)), BROKEN[f]);
    });
  }
});

describe('more mistakes', () => {
  const base = (over: string) => `resource: r0
net: { shared-secret: "s3cret-value" }
volumes: [{ volume: 0, device: /dev/drbd1, disk: /dev/sdb1 }]
hosts:
  ha-a: { node-id: 0, address: 10.77.0.11:7789 }
  ha-b: { node-id: 1, address: 10.77.0.12:7789 }
${over}`;

  test('protocol in lower case gets told to use capitals', () => {
    assert.deepEqual(errors('r0.yaml', base('protocol: c\n')), ['r0.yaml:7:11: protocol must be A, B or C (got "c"); write it in capitals: C']);
  });
  test('discard-node-NAME must name one of the hosts', () => {
    assert.deepEqual(errors('r0.yaml', base('').replace('shared-secret: "s3cret-value"', 'shared-secret: "s3cret-value", after-sb-0pri: discard-node-ha-c')), [
      'r0.yaml:2:54: after-sb-0pri discard-node-ha-c names host "ha-c", which is not one of the hosts (ha-a, ha-b); write discard-node-<host>',
    ]);
  });
  test('this node must be one of the hosts', () => {
    assert.deepEqual(errors('r0.yaml', base(''), 'ha-x'), ["r0.yaml:4:1: this node 'ha-x' is not one of the hosts in r0.yaml: ha-a, ha-b; set --node or fix hosts"]);
  });
  test('a single host is not a pair', () => {
    const text = base('').replace(/ {2}ha-b:.*\n/, '');
    assert.deepEqual(errors('r0.yaml', text), [
      'r0.yaml:4:1: hosts must name exactly two hosts, the replication pair (got 1: ha-a); e.g. hosts: { ha-a: { node-id: 0, address: 10.77.0.11:7789 }, ha-b: { node-id: 1, address: 10.77.0.12:7789 } }',
    ]);
  });
  test('an empty chap and an iscsi without iqn', () => {
    assert.deepEqual(errors('r0.yaml', base('iscsi:\n  chap: {}\n')), ['r0.yaml:7:1: iscsi.iqn is missing: name the target, e.g. iqn: iqn.2026-11.com.example:r0']);
    assert.deepEqual(errors('r0.yaml', base('iscsi:\n  iqn: iqn.2026-11.com.example:r0\n  chap: {}\n')), [
      'r0.yaml:9:3: iscsi.chap is empty: give user and secret (and target-user/target-secret for mutual CHAP), or remove chap to allow logins without CHAP',
    ]);
  });
  test('a service address, with or without its interface', () => {
    const iscsi = (lines: string) => config('r0.yaml', base(`iscsi:\n  iqn: iqn.2026-11.com.example:r0\n${lines}`)).iscsi;
    assert.deepEqual(iscsi('  service-address: 10.77.0.100/24\n')?.serviceAddress, { address: '10.77.0.100', prefix: 24 });
    assert.deepEqual(iscsi('  service-address: 10.77.0.100/24\n  service-interface: bond0\n')?.serviceAddress, { address: '10.77.0.100', prefix: 24, interface: 'bond0' });
    assert.equal(iscsi('')?.serviceAddress, undefined);
  });
  test('a bad service address or a lone service-interface, at its position', () => {
    assert.deepEqual(errors('r0.yaml', base('iscsi:\n  iqn: iqn.2026-11.com.example:r0\n  service-address: 10.77.0.100/40\n')), [
      'r0.yaml:9:20: iscsi.service-address has prefix length "40": it is the subnet\'s length from 8 to 32, e.g. 10.77.0.100/24',
    ]);
    assert.deepEqual(errors('r0.yaml', base('iscsi:\n  iqn: iqn.2026-11.com.example:r0\n  service-address: 10.77.0.100\n')), [
      'r0.yaml:9:20: iscsi.service-address must be an IPv4 address with its prefix length, e.g. 10.77.0.100/24: the /prefix is missing (got "10.77.0.100")',
    ]);
    assert.deepEqual(errors('r0.yaml', base('iscsi:\n  iqn: iqn.2026-11.com.example:r0\n  service-interface: eth0\n')), [
      'r0.yaml:9:3: iscsi.service-interface names the interface of the service address: add service-address (e.g. service-address: 10.77.0.100/24) or remove it',
    ]);
    assert.deepEqual(errors('r0.yaml', base('iscsi:\n  iqn: iqn.2026-11.com.example:r0\n  service-adress: 10.77.0.100/24\n')), [
      'r0.yaml:9:3: unknown key "service-adress" in iscsi; did you mean "service-address"?',
    ]);
  });
  test('allowed-initiators: a list of iSCSI names; a bad name at its position; an empty list refused', () => {
    const iscsi = (lines: string) => config('r0.yaml', base(`iscsi:\n  iqn: iqn.2026-11.com.example:r0\n${lines}`)).iscsi;
    assert.deepEqual(iscsi('  allowed-initiators: [iqn.1991-05.com.microsoft:sql1, eui.02004567A425678D]\n')?.allowedInitiators, ['iqn.1991-05.com.microsoft:sql1', 'eui.02004567A425678D']);
    assert.equal(iscsi('')?.allowedInitiators, undefined);
    const [bad] = errors('r0.yaml', base('iscsi:\n  iqn: iqn.2026-11.com.example:r0\n  allowed-initiators:\n    - iqn.1991-05.com.microsoft:sql1\n    - sql2\n'));
    assert.match(bad ?? '', /^r0\.yaml:11:7: iscsi\.allowed-initiators\[1\] must start with iqn\. \(or eui\.\)/);
    assert.deepEqual(errors('r0.yaml', base('iscsi:\n  iqn: iqn.2026-11.com.example:r0\n  allowed-initiators: []\n')), [
      'r0.yaml:9:3: iscsi.allowed-initiators is empty, so no initiator could log in: list the initiator names (e.g. [iqn.1991-05.com.microsoft:sql1]) or remove the key to allow any',
    ]);
  });
  test('mutual CHAP without one-way CHAP', () => {
    assert.deepEqual(errors('r0.yaml', base('iscsi:\n  iqn: iqn.2026-11.com.example:r0\n  chap: { target-user: t, target-secret: "abcdefghijklmnop" }\n')), [
      'r0.yaml:9:3: iscsi.chap has target-user/target-secret but no user/secret: mutual CHAP also needs the initiator to authenticate, so add user and secret',
    ]);
  });
  test('the same device or disk for two volumes', () => {
    const text = base('').replace('volumes: [{ volume: 0, device: /dev/drbd1, disk: /dev/sdb1 }]', 'volumes: [{ volume: 0, device: /dev/drbd1, disk: /dev/sdb1 }, { volume: 1, device: /dev/drbd2, disk: /dev/sdb1 }]');
    assert.deepEqual(errors('r0.yaml', text), [
      'r0.yaml:3:102: volume 1 uses disk /dev/sdb1 on ha-a, which volume 0 already uses; each volume needs its own disk',
      'r0.yaml:3:102: volume 1 uses disk /dev/sdb1 on ha-b, which volume 0 already uses; each volume needs its own disk',
    ]);
  });
  test('a file that is a list, and two documents in one file', () => {
    assert.deepEqual(errors('r0.yaml', '- resource: r0\n'), ['r0.yaml:1:1: the file must be a mapping of resource, protocol, net, volumes, hosts and iscsi, e.g. resource: r0']);
    assert.deepEqual(errors('r0.yaml', `${base('')}---\nresource: r1\n`), ['r0.yaml:7:1: a second YAML document starts here (---): put one resource per file']);
  });
  test('missing top-level keys are reported at the start of the file', () => {
    assert.deepEqual(errors('r0.yaml', '# r0\nresource: r0\n'), [
      'r0.yaml:2:1: net is missing: it needs shared-secret: the peer link authenticates every connection with it (HMAC challenge-response), so that nothing but the other host can replicate into this disk; put the same long random string on both hosts (e.g. from openssl rand -base64 24)',
      'r0.yaml:2:1: volumes is missing: list the replicated volumes, e.g. volumes: [{ volume: 0, device: /dev/drbd1, disk: /dev/sdb1 }]',
      'r0.yaml:2:1: hosts is missing: name the two hosts, e.g. hosts: { ha-a: { node-id: 0, address: 10.77.0.11:7789 }, ha-b: { node-id: 1, address: 10.77.0.12:7789 } }',
    ]);
  });
});

describe('secrets never appear in error messages', () => {
  // Values of shared-secret, secret and target-secret in every broken fixture.
  const secrets = readdirSync(join(FIXTURES, 'broken')).flatMap((f) =>
    [...read(`broken/${f}`).matchAll(/(?:shared-secret|secret)"?:?\s*"?([^";,}\n]{4,})/g)].map((m) => ({ f, secret: m[1]!.trim() })),
  );
  test('the fixtures do hold secrets to look for', () => assert.ok(secrets.length >= 8));
  for (const { f, secret } of secrets.filter((s) => s.f.endsWith('.yaml'))) {
    test(`${f}`, () => {
      for (const e of errors(f, read(`broken/${f}`))) assert.ok(!e.includes(secret), `${e} shows a secret`);
    });
  }
  test('a secret on a misindented line is not shown', () => {
    assert.deepEqual(errors('r0.yaml', 'resource: r0\nnet: shared-secret "hunter2hunter2"\n').filter((e) => e.includes('net must')), [
      'r0.yaml:2:6: net must be a mapping (key: value lines) (got a text value); it needs shared-secret: the peer link authenticates every connection with it (HMAC challenge-response), so that nothing but the other host can replicate into this disk; put the same long random string on both hosts (e.g. from openssl rand -base64 24)',
    ]);
  });
  test('a malformed secret is not shown either', () => {
    for (const e of errors('r0.yaml', 'resource: r0\nnet: { shared-secret: [hunter2hunter2] }\n')) assert.doesNotMatch(e, /hunter2/);
  });
});
