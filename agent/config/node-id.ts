// The node-ids drbdadm 9 derives for a two-host resource that gives none (the DRBD 8.4 form):
// each host's address, without the port, is hashed with CRC32C (seed 0x1a656f21, no final
// inversion, compared as a signed 32-bit number) and the larger hash gets node-id 0. Ties in
// split brain and resync go by node-id, so ours must be drbdadm's (checked against drbdadm in
// test/agent/config/drbdadm-diff.lab.test.ts).
import { crc32c } from '../lib/crc32c.js';

const SEED = 0x1a656f21;

/** drbdadm's address hash: its CRC32C loop started at SEED, never inverted, read as an int. */
export function drbdAddressHash(addr: string): number {
  // Our crc32c inverts on the way in and out; undoing both leaves drbdadm's plain loop.
  return ~crc32c(Buffer.from(addr, 'utf8'), ~SEED >>> 0) | 0;
}

/** [id of the first host, id of the second], or undefined when the hashes tie (drbdadm: "BAD LUCK, equal hashes"). */
export function implicitNodeIds(firstAddr: string, secondAddr: string): [number, number] | undefined {
  const a = drbdAddressHash(firstAddr);
  const b = drbdAddressHash(secondAddr);
  if (a === b) return undefined;
  return a > b ? [0, 1] : [1, 0];
}
