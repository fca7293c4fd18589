// runbook-put's params at the boundary: what is accepted as is, and each malformed field refused with its name.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { validRunbookPut } from '../../agent/runbook-input.js';
import { runbookEntry, runbookRecord } from '../support/runbook-records.js';

const record = runbookRecord({ completed: ['stop-target', 'demote'], updated: '2026-12-07T12:41:00.000Z', seq: 3 });
const entry = runbookEntry();

test('a well-formed put passes unchanged; unknown fields are dropped', () => {
  assert.deepEqual(validRunbookPut({ record, entry }), { record, entry });
  assert.deepEqual(validRunbookPut({ record: { ...record, secret: 'x' }, converge: true }), { record, converge: true });
  const detail = 'State change failed:\nDevice is held open by someone';
  assert.deepEqual(validRunbookPut({ record, entry: { ...entry, result: 'refused', detail } }), { record, entry: { ...entry, result: 'refused', detail } });
});

const cases: Array<[string, unknown, RegExp]> = [
  ['no params', undefined, /params must be an object/],
  ['no record', { entry }, /record must be an object/],
  ['a bad state', { record: { ...record, state: 'paused' } }, /record\.state must be active, finished or abandoned/],
  ['a resource name with a slash', { record: { ...record, resource: '../etc' } }, /is not a resource name/],
  ['a runbook id with blanks', { record: { ...record, runbook: 'disk replacement' } }, /record\.runbook must be a runbook id/],
  ['completed not an array', { record: { ...record, completed: 'down' } }, /record\.completed must be an array/],
  ['65 steps completed', { record: { ...record, completed: Array.from({ length: 65 }, (_, i) => `s${i}`) } }, /more than 64 steps/],
  ['a step id of 65 characters', { record: { ...record, completed: ['x'.repeat(65)] } }, /record\.completed\[0\] must be a step id of at most 64/],
  ['a step id with a comma', { record: { ...record, completed: ['a,b'] } }, /record\.completed\[0\] must be a step id/],
  ['a negative seq', { record: { ...record, seq: -1 } }, /record\.seq must be a non-negative integer/],
  ['a fractional seq', { record: { ...record, seq: 1.5 } }, /record\.seq/],
  ['steps out of range', { record: { ...record, steps: 0 } }, /record\.steps must be an integer from 1 to 64/],
  ['a time that is not one', { record: { ...record, started: 'yesterday' } }, /record\.started is not an ISO time/],
  ['an empty subject', { record: { ...record, subject: '' } }, /record\.subject must be a non-empty string/],
  ['a user with a newline', { record: { ...record, by: 'root@a\nb' } }, /record\.by holds control characters/],
  ['a 129-character user', { record: { ...record, by: 'u'.repeat(129) } }, /record\.by is longer than 128/],
  ['an unknown result', { record, entry: { ...entry, result: 'maybe' } }, /entry\.result must be one of started, ran/],
  ['a command of 401 characters', { record, entry: { ...entry, command: 'c'.repeat(401) } }, /entry\.command is longer than 400/],
  ['an entry of another resource', { record, entry: { ...entry, resource: 'r1' } }, /entry\.resource \(r1\) is not record\.resource \(r0\)/],
];
for (const [name, params, message] of cases) {
  test(`refused: ${name}`, () => {
    const r = validRunbookPut(params);
    assert.ok('error' in r, JSON.stringify(r));
    assert.match(r.error, /^runbook-put refused: /);
    assert.match(r.error, message);
  });
}
