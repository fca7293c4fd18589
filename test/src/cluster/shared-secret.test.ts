import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { parseResourceRes, parseResourceYaml } from '../../../agent/config/index.js';
import { generateSharedSecret, lacksSharedSecret, withSharedSecret } from '../../../src/cluster/shared-secret.js';

const fixture = (name: string) => readFileSync(new URL(`../../../fixtures/config/${name}`, import.meta.url), 'utf8');
const noSecretYaml = fixture('r0.yaml').replace(/ {2}shared-secret: .*\n/, '');
const noNetYaml = fixture('r0.yaml').replace(/net:\n(?: {2}.*\n)+/, '');
const noSecretRes = fixture('seed-r0.res').replace(' shared-secret "FooFunFactory";', '');
const noNetRes = fixture('seed-r0.res').replace(/ {2}net \{.*\n/, '');

describe('a missing shared secret, generated and put in the file', () => {
  test('generated secrets: 32 base64url characters, never twice the same', () => {
    const a = generateSharedSecret();
    assert.match(a, /^[A-Za-z0-9_-]{32}$/);
    assert.notEqual(a, generateSharedSecret());
  });

  const cases: Array<[string, string, 'yaml' | 'res', boolean]> = [
    ['YAML with a secret', fixture('r0.yaml'), 'yaml', false],
    ['YAML without', noSecretYaml, 'yaml', true],
    ['YAML without net', noNetYaml, 'yaml', true],
    ['YAML with an empty one', fixture('r0.yaml').replace(/shared-secret: .*/, 'shared-secret: ""'), 'yaml', true],
    ['broken YAML: the loader reports it', 'resource: [r0\n', 'yaml', false],
    ['.res with a secret', fixture('seed-r0.res'), 'res', false],
    ['.res without', noSecretRes, 'res', true],
    ['.res without net', noNetRes, 'res', true],
  ];
  for (const [name, text, format, lacks] of cases) {
    test(`${name}: ${lacks ? 'lacks one' : 'does not lack one'}`, () => {
      assert.equal(lacksSharedSecret(text, format), lacks);
      if (!lacks || name.includes('empty')) return;
      const secret = '0123456789';
      const fixed = withSharedSecret(text, format, secret);
      const r = (format === 'yaml' ? parseResourceYaml : parseResourceRes)(`r0.${format}`, fixed);
      assert.ok('config' in r, JSON.stringify(r));
      assert.equal(r.config.net.sharedSecret, secret, 'digits only still load as text');
      assert.equal(lacksSharedSecret(fixed, format), false);
      // The rest of the file as written: every line of the original is still there.
      for (const line of text.split('\n').filter((l) => l.trim() !== '' && !/^\s*net\b/.test(l))) assert.ok(fixed.includes(line.trimEnd()), `kept: ${line}`);
    });
  }
});
