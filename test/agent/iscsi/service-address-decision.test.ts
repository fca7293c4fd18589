import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import {
  chooseInterface,
  claimRefusal,
  dadAnswer,
  heldOn,
  parseIpAddrJson,
  sameSubnet,
  settle,
  subnetOf,
  wantsAddress,
  type ClaimFacts,
  type LocalInterface,
} from '../../../agent/iscsi/service-address-decision.js';
import type { Role } from '../../../agent/drbd-states.js';

// What `ip -j addr` printed in a lab host (trimmed to the keys that matter).
const IP_J_ADDR = JSON.stringify([
  { ifindex: 1, ifname: 'lo', address: '00:00:00:00:00:00', addr_info: [{ family: 'inet', local: '127.0.0.1', prefixlen: 8 }, { family: 'inet6', local: '::1', prefixlen: 128 }] },
  { ifindex: 2, ifname: 'eth0', address: '4E:D9:6D:60:EF:7C', addr_info: [{ family: 'inet', local: '10.77.0.11', prefixlen: 24 }, { family: 'inet6', local: 'fe80::1', prefixlen: 64 }] },
  { ifindex: 3, ifname: 'eth1', address: '4e:d9:6d:60:ef:7d', addr_info: [{ family: 'inet', local: '192.168.5.11', prefixlen: 24 }, { family: 'inet', local: '10.77.0.100', prefixlen: 24 }] },
]);
const IFACES = parseIpAddrJson(IP_J_ADDR);
const SA = { address: '10.77.0.100', prefix: 24 };

describe('ip -j addr and subnets', () => {
  test('interfaces with their IPv4 addresses and lower-case MACs', () => {
    assert.deepEqual(IFACES[1], { name: 'eth0', mac: '4e:d9:6d:60:ef:7c', ipv4: [{ address: '10.77.0.11', prefix: 24 }] });
    assert.equal(IFACES.length, 3);
    assert.deepEqual(parseIpAddrJson('not json'), []);
    assert.deepEqual(parseIpAddrJson('{}'), []);
  });
  const subnets: Array<[string, string, number, boolean]> = [
    ['10.77.0.11', '10.77.0.100', 24, true],
    ['10.77.1.11', '10.77.0.100', 24, false],
    ['10.77.1.11', '10.77.0.100', 16, true],
    ['10.77.0.100', '10.77.0.100', 32, true],
    ['10.77.0.101', '10.77.0.100', 32, false],
    ['192.0.2.1', '10.0.0.1', 8, false],
  ];
  for (const [a, b, p, want] of subnets) test(`${a} and ${b} in /${p}: ${want}`, () => assert.equal(sameSubnet(a, b, p), want));
  test('subnet names', () => {
    assert.equal(subnetOf(SA), '10.77.0.0/24');
    assert.equal(subnetOf({ address: '172.16.200.9', prefix: 12 }), '172.16.0.0/12');
  });
  test('heldOn finds the interface that holds the address', () => {
    assert.equal(heldOn(IFACES, '10.77.0.100'), 'eth1');
    assert.equal(heldOn(IFACES, '10.77.0.101'), undefined);
  });
});

describe('chooseInterface', () => {
  const only = (ifaces: LocalInterface[]) => ifaces;
  const eth0Only = only([IFACES[0]!, IFACES[1]!]);
  const twoInSubnet = only([IFACES[1]!, { name: 'eth2', mac: '', ipv4: [{ address: '10.77.0.12', prefix: 24 }] }]);
  const cases: Array<[string, LocalInterface[], { address: string; prefix: number; interface?: string }, { name: string } | RegExp]> = [
    ['the one interface in the subnet', eth0Only, SA, { name: 'eth0' }],
    ['where it is already held', IFACES, SA, { name: 'eth1' }],
    ['the configured interface', IFACES, { ...SA, interface: 'eth0' }, { name: 'eth0' }],
    ['a configured interface that does not exist', IFACES, { ...SA, interface: 'bond0' }, /interface bond0 \(iscsi.service-interface\) does not exist on this host; have: lo, eth0, eth1/],
    ['no interface in the subnet', eth0Only, { address: '192.0.2.100', prefix: 24 }, /no interface of this host has an address in 192.0.2.0\/24 for service address 192.0.2.100\/24; .*set iscsi.service-interface/],
    ['two interfaces in the subnet', twoInSubnet, SA, /interfaces eth0 and eth2 both have addresses in 10.77.0.0\/24: set iscsi.service-interface/],
  ];
  for (const [name, ifaces, sa, want] of cases) {
    test(name, () => {
      const r = chooseInterface(ifaces, sa);
      if (want instanceof RegExp) assert.match('error' in r ? r.error : 'no error', want);
      else assert.deepEqual(r, want);
    });
  }
});

test('dadAnswer reads the MAC that answered from arping -D', () => {
  assert.equal(dadAnswer('ARPING 10.77.0.100 from 0.0.0.0 eth0\nUnicast reply from 10.77.0.100 [1A:05:2C:62:3F:30]  0.526ms\nSent 1 probes (1 broadcast(s))\nReceived 1 response(s)\n'), '1a:05:2c:62:3f:30');
  assert.equal(dadAnswer('ARPING 10.77.0.100 from 0.0.0.0 eth0\nBroadcast request from 10.77.0.100 [B2:8F:B4:0B:6D:15] for 10.77.0.100 [FF:FF:FF:FF:FF:FF] 789.898ms\nSent 1 probes (1 broadcast(s))\nReceived 1 response(s) (1 request(s), 1 broadcast(s))\n'), 'b2:8f:b4:0b:6d:15', 'a gratuitous ARP from another holder');
  assert.equal(dadAnswer('ARPING 10.77.0.100 from 0.0.0.0 eth0\nSent 2 probes (2 broadcast(s))\nReceived 0 response(s)\n'), undefined);
});

describe('claimRefusal', () => {
  const base: ClaimFacts = { resource: 'r0', sa: SA, missingPackages: [], iface: { name: 'eth0' }, peer: { name: 'ha-b', role: 'Secondary' } };
  const cases: Array<[string, Partial<ClaimFacts>, RegExp | undefined]> = [
    ['all clear', {}, undefined],
    ['peer unknown, nobody answered', { peer: undefined }, undefined],
    ['ip and arping missing', { missingPackages: ['iproute2', 'iputils-arping'] }, /^target start refused: r0 has service address 10.77.0.100\/24, which needs ip and arping on this host: apt-get install iproute2 iputils-arping$/],
    ['no interface', { iface: { error: 'no interface of this host has an address in 10.77.0.0/24' } }, /^target start refused: r0: no interface of this host/],
    ['the peer is Primary', { peer: { name: 'ha-b', role: 'Primary' } }, /the peer ha-b is Primary and may hold service address 10.77.0.100\/24; demote it first/],
    ['someone answered the detection', { answeredBy: '1a:05:2c:62:3f:30' }, /^target start refused: r0: service address 10.77.0.100 is in use: 1a:05:2c:62:3f:30 answered for it \(duplicate address detection on eth0\); remove it from the host that holds it/],
    ['missing tools come first', { missingPackages: ['iputils-arping'], answeredBy: 'x' }, /apt-get install iputils-arping$/],
  ];
  for (const [name, over, want] of cases) {
    test(name, () => {
      const r = claimRefusal({ ...base, ...over });
      if (want) assert.match(r ?? 'no refusal', want);
      else assert.equal(r, undefined);
    });
  }
});

describe('settle: the address follows the Primary whose target runs', () => {
  const cases: Array<[Role, boolean, boolean, string]> = [
    ['Primary', true, false, 'add'],
    ['Primary', true, true, 'none'],
    ['Primary', false, true, 'remove'], // target stopped
    ['Primary', false, false, 'none'],
    ['Secondary', false, true, 'remove'], // demoted, or a crash left it
    ['Secondary', true, true, 'remove'], // a target left running after a demote serves nothing
    ['Secondary', false, false, 'none'],
    ['Unknown', false, true, 'remove'], // daemon start: not up
  ];
  for (const [role, running, held, want] of cases) {
    test(`${role}, target ${running ? 'running' : 'stopped'}, ${held ? 'held' : 'not held'}: ${want}`, () => assert.equal(settle(wantsAddress(role, running), held), want));
  }
});
