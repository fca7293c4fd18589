import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatListen, parseMetricsListen } from '../../../agent/metrics/listen-address.js';

test('metrics addresses: a port alone is loopback, other addresses only as IP addresses, off is off', () => {
  const table: Array<[unknown, string | undefined, boolean | undefined]> = [
    [9942, '127.0.0.1:9942', true],
    ['9942', '127.0.0.1:9942', true],
    // drbd-reactor's ":9942" listens on every address; here it stays on loopback.
    [':9942', '127.0.0.1:9942', true],
    ['localhost:9942', '127.0.0.1:9942', true],
    ['127.0.0.1:9942', '127.0.0.1:9942', true],
    ['127.0.0.53:9100', '127.0.0.53:9100', true],
    ['[::1]:9942', '[::1]:9942', true],
    ['10.77.0.11:9942', '10.77.0.11:9942', false],
    ['0.0.0.0:9942', '0.0.0.0:9942', false],
    ['[fd00::11]:9942', '[fd00::11]:9942', false],
    ['off', undefined, undefined],
    [false, undefined, undefined],
  ];
  for (const [input, want, loopback] of table) {
    const r = parseMetricsListen(input);
    assert.ok(r.ok, `${JSON.stringify(input)}: ${r.ok ? '' : r.message}`);
    assert.equal(r.value && formatListen(r.value), want, JSON.stringify(input));
    assert.equal(r.value?.loopback, loopback, JSON.stringify(input));
  }
});

test('bad metrics addresses are refused, naming the problem and how to write it', () => {
  const table: Array<[unknown, RegExp]> = [
    ['monitor.example.com:9942', /names the host "monitor.example.com": write the address to listen on as an IP address, 127.0.0.1:9942/],
    ['10.77.0.11', /port is missing/],
    ['127.0.0.1:99999', /invalid port "99999"/],
    ['0', /invalid port "0"/],
    ['fd00::11:9942', /IPv6 address without brackets/],
    [['127.0.0.1:9942'], /must be an address and port to serve metrics on, e.g. 127.0.0.1:9942, or off \(got a list\)/],
    [null, /\(got an empty value\)/],
  ];
  for (const [input, want] of table) {
    const r = parseMetricsListen(input);
    assert.ok(!r.ok, JSON.stringify(input));
    assert.match(r.message, want);
  }
});
