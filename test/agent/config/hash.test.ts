import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseResourceRes, parseResourceYaml } from '../../../agent/config/load.js';
import { canonicalJson, configHash, configMeaning } from '../../../agent/config/hash.js';
import type { ResourceConfig } from '../../../agent/config/types.js';

const read = (name: string) => readFileSync(join('fixtures/config', name), 'utf8');
function load(name: string, text = read(name), node?: string): ResourceConfig {
  const parse = name.endsWith('.res') ? parseResourceRes : parseResourceYaml;
  const r = parse(name, text, node === undefined ? {} : { node });
  if ('errors' in r) assert.fail(JSON.stringify(r.errors));
  return r.config;
}
const hash = (name: string, text?: string, node?: string) => load(name, text, node).source.hash;

describe('configHash', () => {
  test('is stable across versions: both hosts compare it, so a change here is a protocol change', () => {
    assert.equal(hash('r0.yaml'), '59ced338b774d0e7');
  });

  test('the same resource as YAML and as .res hashes the same', () => {
    // ping-timeout absent differs: DRBD's 0.5 s in .res, drbd-tui's 5 s in YAML.
    assert.notEqual(hash('seed-r0.yaml'), hash('seed-r0.res'));
    assert.equal(hash('seed-r0.yaml', read('seed-r0.yaml').replace('net:\n', 'net:\n  ping-timeout: 0.5\n')), hash('seed-r0.res'));
    assert.equal(hash('perhost-r2.yaml'), hash('perhost-r2.res'));
  });

  test('both hosts compute the same hash, per-host disks included', () => {
    const all = ['alice', 'bob', undefined].flatMap((node) => [hash('perhost-r2.res', undefined, node), hash('perhost-r2.yaml', undefined, node)]);
    assert.equal(new Set(all).size, 1);
  });

  test('file name, format and host order are not meaning', () => {
    const text = read('seed-r0.yaml');
    assert.equal(hash('elsewhere.yml', text), hash('seed-r0.yaml'));
    const swapped = text.replace(/( {2}ha-a: .*\n)( {2}ha-b: .*\n)/, '$2$1');
    assert.notEqual(swapped, text);
    assert.equal(hash('seed-r0.yaml', swapped), hash('seed-r0.yaml'));
  });

  test('every change of meaning changes the hash, secrets included', () => {
    const text = read('r0.yaml');
    const base = hash('r0.yaml');
    const changes: Array<[string, string]> = [
      ['protocol: C', 'protocol: B'],
      ['"FooFunFactory-r0-secret"', '"FooFunFactory-r0-secreT"'],
      ['after-sb-1pri: discard-secondary', 'after-sb-1pri: consensus'],
      ['size: 1GiB', 'size: 2GiB'],
      ['r0-0.img', 'r0-1.img'],
      ['node-id: 1', 'node-id: 2'],
      ['10.77.0.12:7789', '10.77.0.12:7790'],
      ['ha-b:', 'ha-c:'],
      ['secret: "twelve-chars"', 'secret: "twelve-chaRs"'],
      ['user: "winsrv"', 'user: "winsrv2"'],
      ['iqn.2026-11.com.example:r0', 'iqn.2026-11.com.example:r9'],
      ['  after-sb-1pri: discard-secondary', '  after-sb-1pri: discard-secondary\n  c-max-rate: 50MiB'],
      ['  after-sb-1pri: discard-secondary', '  after-sb-1pri: discard-secondary\n  ping-timeout: 3'],
    ];
    for (const [from, to] of changes) {
      assert.ok(text.includes(from), from);
      assert.notEqual(hash('r0.yaml', text.replace(from, to)), base, `${from} -> ${to}`);
    }
  });

  test('the hashed meaning never holds a secret in the clear', () => {
    const c = load('r0.yaml');
    const meaning = JSON.stringify(configMeaning(c));
    assert.doesNotMatch(meaning, /FooFunFactory|twelve-chars/);
    assert.equal(configHash(c), c.source.hash);
  });

  test('canonicalJson sorts keys at every level and drops undefined', () => {
    assert.equal(canonicalJson({ b: 1, a: [{ d: 2, c: undefined, b: null }], c: 'x' }), '{"a":[{"b":null,"d":2}],"b":1,"c":"x"}');
  });
});
