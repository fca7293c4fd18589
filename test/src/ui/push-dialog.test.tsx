// The dialog that puts a resource file on both hosts, as the console mounts it: the plan with
// its diff (secrets masked), then y, or the resource name typed when an existing file changes.
import './setup.js';
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { act, useState } from 'react';
import { render } from 'ink-testing-library';
import { pushPlan } from '../../../src/cluster/config-push.js';
import { QuestionDialog, questionHeight, useQuestionEntry, type Question } from '../../../src/ui/QuestionDialog.js';
import { pushQuestion } from '../../../src/ui/push-question.js';
import { KEY, plain } from './harness.js';

const R0 = readFileSync(new URL('../../../fixtures/config/r0.yaml', import.meta.url), 'utf8');
const SECRET = 'FooFunFactory-r0-secret';
const sha = (t: string) => createHash('sha256').update(t).digest('hex');
const FILE = '/etc/drbd-tui/r0.yaml';

function question(old: [string | undefined, string | undefined]): Question {
  const now = old.map((t) => (t === undefined ? { file: FILE, sha256: '' } : { file: FILE, text: t, sha256: sha(t) })) as never;
  return pushQuestion(pushPlan({ resource: 'r0', format: 'yaml', text: R0, names: ['ha-a', 'ha-b'], now, files: [FILE, FILE], secrets: [SECRET, 'twelve-chars', 'the-old-secret'] }));
}

function Asking({ q, width, maxHeight, onAnswer }: { q: Question; width: number; maxHeight?: number; onAnswer: (a: string | boolean) => void }) {
  const [answered, setAnswered] = useState(false);
  const asked = !answered ? { question: q, answer: (a: string | boolean) => (setAnswered(true), onAnswer(a)) } : undefined;
  const { typed, rejected } = useQuestionEntry(asked);
  return asked ? <QuestionDialog question={asked.question} width={width} typed={typed} rejected={rejected} maxHeight={maxHeight} /> : null;
}

async function mount(q: Question, opts: { width?: number; maxHeight?: number } = {}) {
  const answers: Array<string | boolean> = [];
  let inst!: ReturnType<typeof render>;
  await act(async () => {
    inst = render(<Asking q={q} width={opts.width ?? 80} maxHeight={opts.maxHeight} onAnswer={(a) => answers.push(a)} />);
  });
  return {
    answers,
    text: () => plain(inst.lastFrame() ?? ''),
    async press(...keys: string[]) {
      for (const k of keys) {
        await act(async () => {
          inst.stdin.write(k);
        });
      }
    },
    unmount: () => act(async () => inst.unmount()),
  };
}

describe('the resource file dialog', () => {
  test('two bare hosts: the new file once, its secrets hidden, y writes', async () => {
    const d = await mount(question([undefined, undefined]));
    const text = d.text();
    assert.match(text, /Put the resource file of r0 on ha-a and ha-b\?/);
    assert.match(text, /ha-a \/etc\/drbd-tui\/r0\.yaml: new file \(19 lines\)/);
    assert.match(text, /\+ {2}shared-secret: <hidden>/);
    assert.match(text, /ha-b \/etc\/drbd-tui\/r0\.yaml: new file/);
    assert.match(text, /the same text as above/);
    assert.match(text, /drbd-agent adjust r0 {3}# on ha-a/);
    assert.match(text, /y write it · n cancel/);
    assert.ok(!text.includes(SECRET) && !text.includes('twelve-chars'), 'no secret on screen');
    await d.press('x', 'y');
    assert.deepEqual(d.answers, [true]);
    await d.unmount();
  });

  test('n and Esc cancel', async () => {
    for (const key of ['n', KEY.esc]) {
      const d = await mount(question([undefined, undefined]));
      await d.press(key);
      assert.deepEqual(d.answers, [false]);
      await d.unmount();
    }
  });

  test('an existing file changes: the diff, a changed secret marked; y is not enough, the resource name is', async () => {
    const old = R0.replace('protocol: C', 'protocol: A').replace(SECRET, 'the-old-secret');
    const d = await mount(question([R0, old]));
    const text = d.text();
    assert.match(text, /ha-a \/etc\/drbd-tui\/r0\.yaml: already has this file: unchanged/);
    assert.match(text, /ha-b \/etc\/drbd-tui\/r0\.yaml: changes \(2 lines removed, 2 added\)/);
    assert.match(text, /-protocol: A[^\n]*\n[^\n]*\+protocol: C/);
    assert.match(text, /- {2}shared-secret: <hidden>[^\n]*\n[^\n]*\+ {2}shared-secret: <hidden, changed>/);
    assert.ok(!text.includes('the-old-secret') && !text.includes(SECRET));
    assert.match(text, /type r0 to write it > /);
    await d.press('y', 'r', KEY.enter);
    assert.deepEqual(d.answers, [], 'a wrong text is not a confirmation');
    assert.match(d.text(), /"yr" does not match r0/);
    await d.press(KEY.backspace, KEY.backspace, 'r0', KEY.enter);
    assert.deepEqual(d.answers, [true]);
    await d.unmount();
  });

  for (const [width, maxHeight] of [
    [80, undefined],
    [60, 14],
    [100, 30],
  ] as const) {
    test(`takes exactly questionHeight() lines at ${width}×${maxHeight ?? 'any'}; a diff too long says how much is cut`, async () => {
      const q = question([undefined, R0.replace('protocol: C', 'protocol: B')]);
      const d = await mount(q, { width, maxHeight });
      const lines = d.text().split('\n');
      assert.equal(lines.length, questionHeight(q, width, maxHeight), lines.join('\n'));
      if (maxHeight !== undefined) assert.ok(lines.length <= maxHeight);
      for (const l of lines) assert.ok([...l].length <= Math.min(width, 80), l);
      if (maxHeight === 14) assert.match(d.text(), /… \d+ more lines \(a taller terminal shows them\)/);
      await d.unmount();
    });
  }
});
