import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { HIDDEN, HIDDEN_CHANGED, maskKnown, maskSecrets, secretTokens, textSecrets } from '../../../agent/config/secret-mask.js';
import { parseResourceRes } from '../../../agent/config/load.js';

describe('secrets in resource files are masked', () => {
  const cases: Array<[string, string, string]> = [
    ['YAML, double-quoted', '  shared-secret: "s3cr3t-value"', `  shared-secret: ${HIDDEN}`],
    ['YAML, single-quoted', "  shared-secret: 's3cr3t'", `  shared-secret: ${HIDDEN}`],
    ['YAML, plain', '  shared-secret: s3cr3t # why', `  shared-secret: ${HIDDEN} # why`],
    ['YAML flow map with CHAP', '  chap: { user: "winsrv", secret: "twelve-chars", target-secret: "other-twelve" }', `  chap: { user: "winsrv", secret: ${HIDDEN}, target-secret: ${HIDDEN} }`],
    ['.res', '  net { cram-hmac-alg sha1; shared-secret "FooFunFactory"; }', `  net { cram-hmac-alg sha1; shared-secret ${HIDDEN}; }`],
    ['an escaped quote inside', '  shared-secret: "a\\"b"', `  shared-secret: ${HIDDEN}`],
    ['no secret', '  ping-timeout: 5', '  ping-timeout: 5'],
  ];
  for (const [name, line, want] of cases) test(name, () => assert.equal(maskSecrets(line), want));

  test('against the text it replaces: a changed or new secret says so, an unchanged one does not', () => {
    const before = 'net:\n  shared-secret: "old-one"\niscsi:\n  chap: { user: "u", secret: "twelve-chars" }\n';
    const after = 'net:\n  shared-secret: "new-one"\niscsi:\n  chap: { user: "u", secret: "twelve-chars" }\n';
    assert.equal(maskSecrets(after, { before }), `net:\n  shared-secret: ${HIDDEN_CHANGED}\niscsi:\n  chap: { user: "u", secret: ${HIDDEN} }\n`);
    assert.equal(maskSecrets(before, { before }), maskSecrets(before));
  });

  test('known secrets are masked wherever else they appear', () => {
    const text = 'net:\n  shared-secret: >-\n    folded-secret-value\n# folded-secret-value\n';
    const masked = maskSecrets(text, { known: ['folded-secret-value'] });
    assert.ok(!masked.includes('folded-secret-value'), masked);
  });

  test('secretTokens lists the values in order', () => {
    assert.deepEqual(secretTokens('shared-secret "a";\n  chap: { secret: b }'), ['"a"', 'b']);
  });
});

describe('config error messages never quote a secret', () => {
  const res = (secret: string) =>
    `resource r0 {\n  net { shared-secret ${secret}; }\n  on ha-a { node-id 0; address 10.77.0.11:7789; device /dev/drbd1; disk /tmp/x; meta-disk internal; }\n  on ha-b { node-id 1; address 10.77.0.12:7789; device /dev/drbd1; disk /tmp/x; meta-disk internal; }\n}\n`;
  const CASES: Array<[what: string, parse: () => ReturnType<typeof parseResourceRes>]> = [
    ['a .res parser quoting the word it stumbled on', () => parseResourceRes('/etc/drbd-tui/r0.res', res('{ Hunter2Hunter2 }'))],
    ['a .res value in brackets', () => parseResourceRes('/etc/drbd-tui/r0.res', res('"Hunter2Hunter2" {'))],
  ];
  for (const [what, parse] of CASES) {
    test(what, () => {
      const r = parse();
      assert.ok('errors' in r, 'the file is broken');
      for (const e of r.errors) assert.ok(!e.message.includes('Hunter2Hunter2'), e.message);
    });
  }

  test('masking is by value, so the prose around a secret key stays readable', () => {
    assert.equal(maskKnown('put the secret in double quotes', textSecrets('secret: [Hunter2Hunter2]')), 'put the secret in double quotes');
    assert.deepEqual(textSecrets('net { shared-secret { Hunter2Hunter2 } }'), ['{', 'Hunter2Hunter2']);
  });
});
