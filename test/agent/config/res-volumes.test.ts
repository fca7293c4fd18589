import { test } from 'node:test';
import assert from 'node:assert/strict';
import { deviceName } from '../../../agent/config/res-volumes.js';

test('deviceName: the device forms drbdadm takes, and its refusals', () => {
  const cases: Array<[string, string | RegExp | undefined]> = [
    ['minor 3', '/dev/drbd3'],
    ['/dev/drbd3', '/dev/drbd3'],
    ['drbd3', '/dev/drbd3'],
    ['/dev/drbd3 minor 3', '/dev/drbd3'],
    ['drbd7 minor 7', '/dev/drbd7'],
    ['/dev/drbd_data minor 8', '/dev/drbd_data'],
    ['drbd_logs minor 9', '/dev/drbd_logs'],
    ['/dev/drbd3 minor 4', /^device \/dev\/drbd3 minor 4: the minor must match the device name, as drbdadm requires; write device \/dev\/drbd4 minor 4;/],
    ['/dev/sdz1', /^device "\/dev\/sdz1" must be named \/dev\/drbdN \(as drbdadm requires\)/],
    ['/dev/drbdx minor 3', /a name other than \/dev\/drbdN must start with \/dev\/drbd_ and give its minor/],
    ['/dev/drbd_data', /^device \/dev\/drbd_data has no minor number: write device \/dev\/drbd_data minor N;/],
    ['minor x', undefined],
    ['/dev/drbd1 2', undefined],
    ['minor', undefined],
  ];
  for (const [words, want] of cases) {
    const got = deviceName(words.split(' '));
    if (want === undefined) assert.equal(got, undefined, words);
    else if (typeof want === 'string') assert.deepEqual(got, { ok: true, value: want }, words);
    else assert.ok(got && !got.ok && want.test(got.message), `${words}: ${JSON.stringify(got)}`);
  }
});
