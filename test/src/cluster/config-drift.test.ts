import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { parseResourceRes, parseResourceYaml } from '../../../agent/config/index.js';
import type { ResourceConfig } from '../../../agent/config/types.js';
import { configFields, driftFields } from '../../../src/cluster/config-drift.js';

const fixture = (name: string) => readFileSync(new URL(`../../../fixtures/config/${name}`, import.meta.url), 'utf8');
const R0 = fixture('r0.yaml');

function load(text: string, file = 'r0.yaml'): ResourceConfig {
  const r = (file.endsWith('.res') ? parseResourceRes : parseResourceYaml)(file, text);
  if ('errors' in r) throw new Error(r.errors.map((e) => `${e.line}:${e.col}: ${e.message}`).join('\n'));
  return r.config;
}

describe('driftFields names the settings that differ, as the file names them', () => {
  const cases: Array<[string, string, string[]]> = [
    ['the same file', R0, []],
    ['comments and layout only', R0.replace('# The example', '# Another comment on the example').replace('protocol: C', 'protocol:   C'), []],
    ['protocol', R0.replace('protocol: C', 'protocol: A'), ['protocol']],
    ['volume size and protocol', R0.replace('protocol: C', 'protocol: B').replace('size: 1GiB', 'size: 2GiB'), ['protocol', 'volumes.0.size']],
    ['the shared secret', R0.replace('FooFunFactory-r0-secret', 'another-secret'), ['net.shared-secret']],
    ['a CHAP secret', R0.replace('twelve-chars', 'twelve-chart'), ['iscsi.chap.secret']],
    ['a split-brain policy', R0.replace('after-sb-1pri: discard-secondary', 'after-sb-1pri: consensus'), ['net.after-sb-1pri']],
    ['a host address', R0.replace('10.77.0.12:7789', '10.77.0.13:7789'), ['hosts.ha-b.address']],
    ['the disk path', R0.replace('r0-0.img', 'r0-data.img'), ['volumes.0.disk']],
    ['no iscsi section', R0.replace(/iscsi:[\s\S]*$/, ''), ['iscsi']],
    ['a service address on one side', R0.replace(/iscsi:\n/, 'iscsi:\n  service-address: 10.77.0.100/24\n'), ['iscsi.service-address']],
    ['its interface', R0.replace(/iscsi:\n/, 'iscsi:\n  service-address: 10.77.0.100/24\n  service-interface: eth1\n'), ['iscsi.service-address', 'iscsi.service-interface']],
  ];
  for (const [name, other, want] of cases) test(name, () => assert.deepEqual(driftFields(load(R0), load(other)), want));

  test('a YAML file and a .res file of the same meaning do not drift', () => {
    assert.deepEqual(driftFields(load(fixture('perhost-r2.yaml'), 'r2.yaml'), load(fixture('perhost-r2.res'), 'r2.res')), []);
  });

  test('per-host disks: the host whose path differs is in the value, the field is the volume', () => {
    const y = fixture('perhost-r2.yaml');
    assert.deepEqual(driftFields(load(y, 'r2.yaml'), load(y.replace('bob: /dev/sdb7', 'bob: /dev/sdc7'), 'r2.yaml')), ['volumes.0.disk']);
  });

  test('secrets are compared by fingerprint: no field value holds a secret', () => {
    const values = Object.values(configFields(load(R0))).join('\n');
    assert.ok(!values.includes('FooFunFactory-r0-secret') && !values.includes('twelve-chars'));
  });
});
