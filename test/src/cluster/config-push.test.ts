import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { nothingToWrite, planLines, pushPlan, type PushInput } from '../../../src/cluster/config-push.js';
import { HIDDEN, HIDDEN_CHANGED } from '../../../agent/config/secret-mask.js';

const R0 = readFileSync(new URL('../../../fixtures/config/r0.yaml', import.meta.url), 'utf8');
const SECRETS = ['FooFunFactory-r0-secret', 'twelve-chars', 'old-peer-secret'];
const sha = (t: string) => createHash('sha256').update(t).digest('hex');
const has = (text: string) => ({ file: '/etc/drbd-tui/r0.yaml', text, sha256: sha(text) });
const none = { file: '/etc/drbd-tui/r0.yaml', sha256: '' };

function input(now: PushInput['now'], files: PushInput['files'] = ['/etc/drbd-tui/r0.yaml', '/etc/drbd-tui/r0.yaml']): PushInput {
  return { resource: 'r0', format: 'yaml', text: R0, names: ['ha-a', 'ha-b'], now, files, secrets: SECRETS };
}

describe('pushPlan: what putting one file on both hosts changes on each', () => {
  const cases: Array<[string, PushInput['now'], Array<'new' | 'same' | 'changed'>, string | undefined, number]> = [
    ['two bare hosts: two new files, y is enough', [none, none], ['new', 'new'], undefined, 4],
    ['copy to the host that lacks it', [has(R0), none], ['same', 'new'], undefined, 2],
    ['both have it already: nothing to write', [has(R0), has(R0)], ['same', 'same'], undefined, 0],
    ['replacing an existing file: typed resource name', [has(R0), has(R0.replace('protocol: C', 'protocol: A'))], ['same', 'changed'], 'r0', 2],
  ];
  for (const [name, now, changes, typed, commands] of cases) {
    test(name, () => {
      const p = pushPlan(input(now));
      assert.deepEqual(p.targets.map((t) => t.change), changes);
      assert.equal(p.typeToConfirm, typed);
      assert.equal(p.commands.length, commands);
      assert.equal(nothingToWrite(p), changes.every((c) => c === 'same'));
    });
  }

  test('the diff is against what the host has, with the secret masked but its change shown', () => {
    const old = R0.replace('protocol: C', 'protocol: A').replace('FooFunFactory-r0-secret', 'old-peer-secret');
    const p = pushPlan(input([has(R0), has(old)]));
    const diff = p.targets[1].diff.map((l) => `${l.kind}${l.text}`);
    assert.ok(diff.includes('-protocol: A') && diff.includes('+protocol: C'), diff.join('\n'));
    assert.ok(diff.includes(`-  shared-secret: ${HIDDEN}`) && diff.includes(`+  shared-secret: ${HIDDEN_CHANGED}`), diff.join('\n'));
    const lines = planLines(p).map((l) => l.text).join('\n');
    for (const s of SECRETS) assert.ok(!lines.includes(s), `no ${s} in the dialog`);
    assert.match(lines, /^ha-a \/etc\/drbd-tui\/r0\.yaml: already has this file: unchanged$/m);
    assert.match(lines, /^ha-b \/etc\/drbd-tui\/r0\.yaml: changes \(2 lines removed, 2 added\)$/m);
    assert.match(lines, /drbd-agent adjust r0 {3}# on ha-b/);
    assert.doesNotMatch(lines, /# on ha-a/, 'a host whose file does not change is left alone');
  });

  test('two new files: the text is shown once, masked', () => {
    const lines = planLines(pushPlan(input([none, none]))).map((l) => l.text);
    assert.equal(lines.filter((l) => l === '+resource: r0').length, 1);
    assert.ok(lines.includes('  the same text as above'));
    assert.ok(lines.includes(`+  chap: { user: "winsrv", secret: ${HIDDEN} }`));
  });

  test('a file of the other format is replaced, and the dialog says so', () => {
    const res = { file: '/etc/drbd-tui/r0.res', text: 'resource r0 { }\n', sha256: 'x' };
    const p = pushPlan(input([none, res], ['/etc/drbd-tui/r0.yaml', '/etc/drbd-tui/r0.yaml']));
    assert.equal(p.targets[1].replaces, '/etc/drbd-tui/r0.res');
    assert.equal(p.typeToConfirm, 'r0');
    assert.ok(planLines(p).some((l) => l.text === '  replaces /etc/drbd-tui/r0.res (kept beside it as a dotfile)'));
  });
});
