import './setup.js';
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { act } from 'react';
import { render } from 'ink-testing-library';
import { QuestionDialog, questionHeight, wrapLine, type Question } from '../../../src/ui/QuestionDialog.js';
import { plain } from './harness.js';

const HOST_KEY: Question = {
  title: 'ha-a: unknown host key',
  body: ["The authenticity of host '10.77.0.11' can't be established.\nED25519 key fingerprint is SHA256:Dbxk8ynrRMxTcU34RqHgCC9l+ZlNDJ+9vkxpXyoDg9E."],
  kind: 'yes-no',
};

describe('QuestionDialog', () => {
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
        inst = render(<QuestionDialog question={HOST_KEY} width={width} onAnswer={(a) => answers.push(a)} />);
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
