import { test } from 'node:test';
import assert from 'node:assert/strict';
import { deviceName } from '../../../agent/config/res-volumes.js';
import { parseResourceRes } from '../../../agent/config/load.js';

test('deviceName: the device forms drbdadm takes, and its refusals', () => {
  // A name that ends in its minor says it; /dev/drbd_NAME carries the minor it was given.
  const cases: Array<[string, string | [string, number] | RegExp | undefined]> = [
    ['/dev/drbd_data minor 8', ['/dev/drbd_data', 8]],
    ['drbd_logs minor 9', ['/dev/drbd_logs', 9]],
    ['minor 3', '/dev/drbd3'],
    ['/dev/drbd3', '/dev/drbd3'],
    ['drbd3', '/dev/drbd3'],
    ['/dev/drbd3 minor 3', '/dev/drbd3'],
    ['drbd7 minor 7', '/dev/drbd7'],
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
    else if (Array.isArray(want)) assert.deepEqual(got, { ok: true, value: want[0], minor: want[1] }, words);
    else assert.ok(got && !got.ok && want.test(got.message), `${words}: ${JSON.stringify(got)}`);
  }
});

test('a /dev/drbd_NAME device keeps its minor in the config; /dev/drbdN needs none', () => {
  const hosts = 'on ha-a { address 10.0.0.1:7789; node-id 0; } on ha-b { address 10.0.0.2:7789; node-id 1; }';
  const minors = (device: string) => {
    const r = parseResourceRes('t.res', `resource t { net { shared-secret "s"; } volume 0 { device ${device}; disk /dev/sdb; meta-disk internal; } ${hosts} }`, { node: 'ha-a' });
    assert.ok('config' in r && r.config, JSON.stringify(r));
    return r.config.volumes.map((v) => [v.device, v.minor]);
  };
  assert.deepEqual(minors('/dev/drbd_data minor 4'), [['/dev/drbd_data', 4]]);
  assert.deepEqual(minors('/dev/drbd3'), [['/dev/drbd3', undefined]]);
});
