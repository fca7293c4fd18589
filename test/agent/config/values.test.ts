import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { didYouMean, parseAddress, parseInterfaceName, parseIqn, parsePolicy, parseRate, parseServiceAddress, parseSize, AFTER_SB_0PRI, AFTER_SB_2PRI } from '../../../agent/config/values.js';

const value = <T>(r: { ok: true; value: T } | { ok: false; message: string }): T => {
  if (!r.ok) throw new Error(r.message);
  return r.value;
};
const message = (r: { ok: boolean; message?: string }): string => {
  assert.equal(r.ok, false);
  return r.message!;
};

describe('parseSize', () => {
  test('binary units, short and long, and plain bytes', () => {
    assert.equal(value(parseSize('1GiB')), 2 ** 30);
    assert.equal(value(parseSize('512MiB')), 512 * 2 ** 20);
    assert.equal(value(parseSize('10G')), 10 * 2 ** 30);
    assert.equal(value(parseSize('4k')), 4096);
    assert.equal(value(parseSize('2TiB')), 2 * 2 ** 40);
    assert.equal(value(parseSize('1.5GiB')), 1.5 * 2 ** 30);
    assert.equal(value(parseSize(1048576)), 1048576);
    assert.equal(value(parseSize('1048576')), 1048576);
  });
  test('GB is refused as ambiguous, with the fix', () => {
    assert.equal(message(parseSize('10GB')), '"10GB" is ambiguous (10^9 or 2^30?): write 10GiB for the binary unit, or the exact number of bytes');
  });
  test('nonsense, zero, fractions of a byte and negatives are refused', () => {
    assert.match(message(parseSize('lots')), /^must be a size like 512MiB, 1GiB, 10G or plain bytes \(got "lots"\)/);
    assert.match(message(parseSize(0)), /positive whole number/);
    assert.match(message(parseSize(-5)), /positive whole number/);
    assert.match(message(parseSize('0.3K')), /positive whole number of bytes \("0.3K" is 307.2 bytes\)/);
    assert.match(message(parseSize('1 PiB')), /units are K\/KiB/);
  });
});

describe('parseRate', () => {
  test('sizes per second, with or without /s', () => {
    assert.equal(value(parseRate('100MiB/s')), 100 * 2 ** 20);
    assert.equal(value(parseRate('40M')), 40 * 2 ** 20);
    assert.equal(value(parseRate(1000)), 1000);
  });
  test('MB/s is ambiguous too', () => {
    assert.equal(message(parseRate('100MB/s')), '"100MB/s" is ambiguous (10^6 or 2^20?): write 100MiB/s for the binary unit, or the exact number of bytes/s');
  });
});

describe('parseAddress', () => {
  test('IPv4, host names and bracketed IPv6', () => {
    assert.deepEqual(value(parseAddress('10.77.0.11:7789')), { address: '10.77.0.11:7789', host: '10.77.0.11', port: 7789 });
    assert.deepEqual(value(parseAddress('ha-a.example.com:7789')), { address: 'ha-a.example.com:7789', host: 'ha-a.example.com', port: 7789 });
    assert.deepEqual(value(parseAddress('[fd00::11]:7789')), { address: '[fd00::11]:7789', host: 'fd00::11', port: 7789 });
    assert.deepEqual(value(parseAddress('[::1]:1')), { address: '[::1]:1', host: '::1', port: 1 });
    assert.deepEqual(value(parseAddress('[::ffff:10.0.0.1]:3260')), { address: '[::ffff:10.0.0.1]:3260', host: '::ffff:10.0.0.1', port: 3260 });
  });
  test('each mistake says what is wrong', () => {
    assert.match(message(parseAddress('10.77.0.11')), /the port is missing/);
    assert.match(message(parseAddress('10.77.0.11:0')), /invalid port "0": a port is a number from 1 to 65535/);
    assert.match(message(parseAddress('10.77.0.11:65536')), /invalid port "65536"/);
    assert.match(message(parseAddress('10.77.0.256:7789')), /invalid IPv4 address "10.77.0.256"/);
    assert.match(message(parseAddress('fd00::11:7789')), /IPv6 address without brackets: write \[address\]:port/);
    assert.match(message(parseAddress('[fd00:::11]:7789')), /invalid IPv6 address "fd00:::11" in brackets/);
    assert.match(message(parseAddress('[1:2:3:4:5:6:7:8:9]:7789')), /invalid IPv6/);
    assert.match(message(parseAddress('bad_host!:7789')), /must be host:port with an IPv4 address, a host name or \[IPv6\]/);
    assert.match(message(parseAddress(7789)), /must be host:port, e.g. 10.77.0.11:7789 \(got 7789\)/);
  });
});

describe('parseServiceAddress', () => {
  test('IPv4 with a prefix length', () => {
    assert.deepEqual(value(parseServiceAddress('10.77.0.100/24')), { address: '10.77.0.100', prefix: 24 });
    assert.deepEqual(value(parseServiceAddress(' 192.0.2.7/32 ')), { address: '192.0.2.7', prefix: 32 });
  });
  const cases: Array<[unknown, RegExp]> = [
    ['10.77.0.100', /the \/prefix is missing/],
    ['10.77.0.300/24', /invalid IPv4 address "10.77.0.300"/],
    ['10.77.0.100/33', /prefix length "33": it is the subnet's length from 8 to 32/],
    ['10.77.0.100/7', /prefix length "7"/],
    ['10.77.0.100/', /prefix length ""/],
    ['10.77.0.100/2x', /prefix length "2x"/],
    ['fd00::100/64', /IPv6 service addresses are not supported/],
    ['127.0.0.2/8', /cannot be a service address/],
    ['224.0.0.1/24', /cannot be a service address/],
    [24, /must be an IPv4 address with its prefix length, e.g. 10.77.0.100\/24 \(got 24\)/],
  ];
  for (const [v, want] of cases) test(`refuses ${JSON.stringify(v)}`, () => assert.match(message(parseServiceAddress(v)), want));
});

describe('parseInterfaceName', () => {
  test('names ip link shows, and nothing longer than the kernel allows', () => {
    assert.equal(value(parseInterfaceName('eth0')), 'eth0');
    assert.equal(value(parseInterfaceName('bond0.100')), 'bond0.100');
    assert.match(message(parseInterfaceName('a-very-long-interface')), /at most 15 characters/);
    assert.match(message(parseInterfaceName('eth 0')), /interface name/);
    assert.match(message(parseInterfaceName('../x')), /interface name/);
  });
});

describe('parseIqn', () => {
  test('iqn and eui forms', () => {
    assert.equal(value(parseIqn('iqn.2026-11.com.example:r0')), 'iqn.2026-11.com.example:r0');
    assert.equal(value(parseIqn('iqn.2026-11.com.example')), 'iqn.2026-11.com.example');
    assert.equal(value(parseIqn('iqn.1991-05.com.microsoft:winsrv.corp.local')), 'iqn.1991-05.com.microsoft:winsrv.corp.local');
    assert.equal(value(parseIqn('eui.02004567A425678D')), 'eui.02004567A425678D');
  });
  test('mistakes', () => {
    assert.match(message(parseIqn('IQN.2026-11.com.example:r0')), /must be lower case .*write "iqn.2026-11.com.example:r0"/);
    assert.match(message(parseIqn('iqn.2026-13.com.example')), /has month 13/);
    assert.match(message(parseIqn('iqn.26-11.com.example')), /must be iqn.YYYY-MM.reversed.domain\[:name\]/);
    assert.match(message(parseIqn('iqn.2026-11.-bad-.com')), /where a reversed domain name belongs/);
    assert.match(message(parseIqn('iqn.2026-11.com.example:r0 target')), /may only use a-z, 0-9/);
    assert.match(message(parseIqn('eui.0200')), /exactly 16 hex digits/);
    assert.match(message(parseIqn('naa.6001405abcdef')), /must start with iqn. \(or eui.\)/);
    assert.match(message(parseIqn(`iqn.2026-11.com.example:${'x'.repeat(220)}`)), /at most 223 bytes/);
  });
});

describe('parsePolicy', () => {
  test("DRBD's values per policy, discard-node-NAME only for 0pri", () => {
    assert.equal(value(parsePolicy('discard-node-ha-a', AFTER_SB_0PRI)), 'discard-node-ha-a');
    assert.equal(value(parsePolicy('discard-least-changes', AFTER_SB_0PRI)), 'discard-least-changes');
    assert.equal(message(parsePolicy('consensus', AFTER_SB_2PRI)), 'must be one of disconnect, call-pri-lost-after-sb (got "consensus")');
    assert.match(message(parsePolicy('discard-node-ha-a', AFTER_SB_2PRI)), /must be one of/);
    assert.match(message(parsePolicy('discard-zero-change', AFTER_SB_0PRI)), /did you mean "discard-zero-changes"\?$/);
  });
});

describe('didYouMean', () => {
  test('close typos and _/- confusions get a hint; far-off words do not', () => {
    assert.equal(didYouMean('protcol', ['protocol', 'net']), 'protocol');
    assert.equal(didYouMean('meta_disk', ['meta-disk', 'disk']), 'meta-disk');
    assert.equal(didYouMean('Shared-Secret', ['shared-secret']), 'shared-secret');
    assert.equal(didYouMean('colour', ['volume', 'device', 'disk', 'size', 'meta-disk']), undefined);
    assert.equal(didYouMean('ab', ['net']), undefined);
  });
});
