import { test } from 'node:test';
import assert from 'node:assert/strict';
import { implicitNodeIds } from '../../../agent/config/node-id.js';

// Measured with drbd-utils 9.22: `drbdadm -c FILE dump all` for on h1 { address A:7789; } on h2 { address B:7789; }.
const DRBDADM: Array<[string, string, [number, number] | undefined]> = [
  ['10.0.0.2', '10.0.0.1', [1, 0]],
  ['10.0.0.1', '10.0.0.2', [0, 1]],
  ['192.168.1.10', '192.168.1.11', [0, 1]],
  ['10.77.0.11', '10.77.0.12', [1, 0]],
  ['10.1.1.1', '172.16.0.9', [0, 1]],
  // Same address (different ports): drbdadm says "BAD LUCK, equal hashes" and refuses.
  ['10.0.0.1', '10.0.0.1', undefined],
];

test("implicit node-ids are drbdadm's", () => {
  for (const [a, b, want] of DRBDADM) assert.deepEqual(implicitNodeIds(a, b), want, `${a} ${b}`);
});
