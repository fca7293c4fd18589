// net.tls in both resource-file forms: the same values mean the same, and a bad value is an
// error at its own line:col naming the fix.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { parseResourceRes, parseResourceYaml } from '../../../agent/config/load.js';
import { formatConfigError, type ResourceConfig } from '../../../agent/config/types.js';
import { configFields } from '../../../src/cluster/config-drift.js';

const yaml = (tlsLine: string) => `resource: r0
net:
  shared-secret: "FooFunFactory"
${tlsLine}
volumes:
  - { volume: 0, device: /dev/drbd1, disk: /dev/sdb1 }
hosts:
  ha-a: { node-id: 0, address: 10.77.0.11:7789 }
  ha-b: { node-id: 1, address: 10.77.0.12:7789 }
`;
const res = (tlsLine: string) => `resource r0 {
  net {
    shared-secret "FooFunFactory";
${tlsLine}
    ping-timeout 50; # YAML's default, for the same hash
  }
  on ha-a { node-id 0; device /dev/drbd1; disk /dev/sdb1; address 10.77.0.11:7789; meta-disk internal; }
  on ha-b { node-id 1; device /dev/drbd1; disk /dev/sdb1; address 10.77.0.12:7789; meta-disk internal; }
}
`;

function load(form: 'yaml' | 'res', line: string): ResourceConfig | string[] {
  const r = form === 'yaml' ? parseResourceYaml('r0.yaml', yaml(line)) : parseResourceRes('r0.res', res(line));
  return 'errors' in r ? r.errors.map(formatConfigError) : r.config;
}

describe('net.tls loads the same from YAML and .res', () => {
  const valid: Array<[string, string, 'psk' | undefined]> = [
    ['  tls: psk', '    tls psk;', 'psk'],
    ['  tls: none', '    tls none;', undefined],
    ['', '', undefined],
  ];
  for (const [y, r, want] of valid) {
    test(`${JSON.stringify(y.trim() || '(absent)')} → ${want ?? 'plain TCP'}`, () => {
      const a = load('yaml', y);
      const b = load('res', r);
      assert.ok(!Array.isArray(a) && !Array.isArray(b), JSON.stringify([a, b]));
      assert.equal(a.net.tls, want);
      assert.equal(b.net.tls, want);
      assert.equal(a.source.hash, b.source.hash);
    });
  }

  test('psk changes the config hash; none and absent keep the hash files had before net.tls existed', () => {
    const [absent, none, psk] = ['', '  tls: none', '  tls: psk'].map((l) => load('yaml', l) as ResourceConfig);
    assert.equal(none!.source.hash, absent!.source.hash);
    assert.notEqual(psk!.source.hash, absent!.source.hash);
  });

  test('a host with net.tls and one without differ in net.tls, by name', () => {
    const [plain, tls] = ['', '  tls: psk'].map((l) => configFields(load('yaml', l) as ResourceConfig));
    assert.equal(plain!['net.tls'], '');
    assert.equal(tls!['net.tls'], 'psk');
  });
});

describe('a bad net.tls is an error at its line:col, naming the fix', () => {
  const bad: Array<[string, string, string]> = [
    ['yaml', '  tls: yes', "r0.yaml:4:8: net.tls yes is DRBD's kernel TLS with certificates, which drbd-tui does not use: write psk (TLS with a key derived from shared-secret) or none"],
    ['yaml', '  tls: pks', 'r0.yaml:4:8: net.tls must be psk or none (got "pks")'],
    ['yaml', '  tls: 1', 'r0.yaml:4:8: net.tls must be psk or none (got 1)'],
    ['res', '    tls yes;', "r0.res:4:9: tls yes is DRBD's kernel TLS with certificates, which drbd-tui does not use: write psk (TLS with a key derived from shared-secret) or none"],
    ['res', '    tls pks;', 'r0.res:4:9: tls must be psk or none (got "pks")'],
    ['res', '    tls;', 'r0.res:4:5: '],
    ['res', '    tls psk; tls none;', 'r0.res:4:14: '],
  ];
  for (const [form, line, want] of bad) {
    test(`${form}: ${line.trim()}`, () => {
      const got = load(form as 'yaml' | 'res', line);
      assert.ok(Array.isArray(got), `${line} loaded`);
      assert.equal(got.length, 1, got.join('\n'));
      if (want.endsWith(': ')) assert.ok(got[0]!.startsWith(want), got[0]);
      else assert.equal(got[0], want);
    });
  }
});
