import './setup.js';
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { act } from 'react';
import { render } from 'ink-testing-library';
import { useState } from 'react';
import { QuestionDialog, questionHeight, questionKey, useQuestionInput, wrapLine, type Question } from '../../../src/ui/QuestionDialog.js';
import { plain } from './harness.js';

const HOST_KEY: Question = {
  title: 'ha-a: unknown host key',
  body: ["The authenticity of host '10.77.0.11' can't be established.\nED25519 key fingerprint is SHA256:Dbxk8ynrRMxTcU34RqHgCC9l+ZlNDJ+9vkxpXyoDg9E."],
  kind: 'yes-no',
};

/** As the console mounts them: the input hook always, the dialog while a question is open. */
function Asking({ question, width, onAnswer }: { question?: Question; width: number; onAnswer: (a: string | boolean) => void }) {
  const [answered, setAnswered] = useState(false);
  const asked = question && !answered ? { question, answer: (a: string | boolean) => (setAnswered(true), onAnswer(a)) } : undefined;
  const typed = useQuestionInput(asked);
  return asked ? <QuestionDialog question={asked.question} width={width} typed={typed} /> : null;
}

const SECRET: Question = { title: 'Passphrase for id_ed25519', body: [], kind: 'secret' };

describe('QuestionDialog', () => {
  test('questionKey: y/n answer a yes-no question; a secret is typed, edited, sent with Enter or skipped with Esc', () => {
    assert.deepEqual(questionKey(HOST_KEY, '', 'y', {}), { answer: true });
    assert.deepEqual(questionKey(HOST_KEY, '', 'N', {}), { answer: false });
    assert.deepEqual(questionKey(HOST_KEY, '', '', { escape: true }), { answer: false });
    assert.equal(questionKey(HOST_KEY, '', 'x', {}), undefined);
    assert.deepEqual(questionKey(SECRET, 'ab', 'c', {}), { typed: 'abc' });
    assert.deepEqual(questionKey(SECRET, 'abc', '', { backspace: true }), { typed: 'ab' });
    assert.deepEqual(questionKey(SECRET, 'ab', '', { return: true }), { answer: 'ab' });
    assert.deepEqual(questionKey(SECRET, 'ab', '', { escape: true }), { answer: false });
  });

  test('questionKey: a secret pasted with its Enter, Backspace bursts and control characters, as one read each', () => {
    assert.deepEqual(questionKey(SECRET, '', 'pass word\r', {}), { answer: 'pass word' });
    assert.deepEqual(questionKey(SECRET, 'abcd', '\x7f\x7f', {}), { typed: 'ab' });
    assert.deepEqual(questionKey(SECRET, 'ab', '\x00\x07\t', {}), undefined, 'nothing invisible is added to the secret');
    assert.deepEqual(questionKey(SECRET, 'ab', 'u', { ctrl: true }), { typed: '' });
  });

  test('a key pressed as soon as the question is drawn answers it', async () => {
    const answers: Array<string | boolean> = [];
    let inst!: ReturnType<typeof render>;
    await act(async () => {
      inst = render(<Asking width={80} onAnswer={(a) => answers.push(a)} />);
    });
    // Outside act: the key follows the frame at once.
    inst.rerender(<Asking question={HOST_KEY} width={80} onAnswer={(a) => answers.push(a)} />);
    assert.match(plain(inst.lastFrame() ?? ''), /y accept/);
    inst.stdin.write('y');
    await act(async () => {});
    assert.deepEqual(answers, [true]);
    await act(async () => {
      inst.unmount();
    });
  });

  test('a secret shows as stars and is answered with Enter', async () => {
    const answers: Array<string | boolean> = [];
    let inst!: ReturnType<typeof render>;
    await act(async () => {
      inst = render(<Asking question={SECRET} width={80} onAnswer={(a) => answers.push(a)} />);
    });
    for (const k of ['s', '3', 'x', '\x7f', 'c']) {
      await act(async () => {
        inst.stdin.write(k);
      });
    }
    assert.match(plain(inst.lastFrame() ?? ''), /> \*\*\* /);
    await act(async () => {
      inst.stdin.write('\r');
    });
    assert.deepEqual(answers, ['s3c']);
    await act(async () => {
      inst.unmount();
    });
  });

  test('wrapLine: words kept whole, over-long words cut, never wider than asked', () => {
    assert.deepEqual(wrapLine('aa bb cc', 5), ['aa bb', 'cc']);
    assert.deepEqual(wrapLine('abcdefgh', 3), ['abc', 'def', 'gh']);
    assert.deepEqual(wrapLine('', 10), ['']);
    for (const l of wrapLine(HOST_KEY.body[0]!.replace('\n', ' '), 20)) assert.ok(l.length <= 20, l);
  });

  for (const width of [40, 80, 120]) {
    test(`takes exactly questionHeight() lines at ${width} columns, the fingerprint readable`, async () => {
      let inst!: ReturnType<typeof render>;
      const answers: Array<string | boolean> = [];
      await act(async () => {
        inst = render(<Asking question={HOST_KEY} width={width} onAnswer={(a) => answers.push(a)} />);
      });
      const lines = plain(inst.lastFrame() ?? '').split('\n');
      assert.equal(lines.length, questionHeight(HOST_KEY, width), lines.join('\n'));
      for (const l of lines) assert.ok([...l].length <= Math.min(width, 80), l);
      assert.ok(lines.join('').replace(/[║\s]/g, '').includes('SHA256:Dbxk8ynrRMxTcU34RqHgCC9l+ZlNDJ+9vkxpXyoDg9E.'));
      await act(async () => {
        inst.stdin.write('y');
      });
      assert.deepEqual(answers, [true]);
      await act(async () => {
        inst.unmount();
      });
    });
  }
});
