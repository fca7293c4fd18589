import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createMdNodeId, nodeIdDecision, type NodeIdInput } from '../../../agent/engine/node-id-decision.js';

// ha-a is first in the file, ha-b second; "swapped": drbdadm's derived ids are the other way round.
function input(o: { local: number; peer: number; implicit: boolean; metadata: Array<number | undefined> }): NodeIdInput {
  return {
    resource: 'r0',
    file: '/etc/drbd.d/r0.res',
    local: { name: 'ha-a', nodeId: o.local, implicit: o.implicit, fileOrder: 0 },
    peer: { name: 'ha-b', nodeId: o.peer, implicit: o.implicit, fileOrder: 1 },
    metadata: o.metadata.map((nodeId, v) => ({ disk: `/dev/sdb${v + 1}`, nodeId })),
  };
}

const rows: Array<{ what: string; local: number; peer: number; implicit: boolean; metadata: Array<number | undefined>; want: string; says?: RegExp }> = [
  { what: 'metadata agrees with explicit ids', local: 0, peer: 1, implicit: false, metadata: [0], want: 'as-configured' },
  { what: 'metadata agrees with derived ids', local: 1, peer: 0, implicit: true, metadata: [1, 1], want: 'as-configured' },
  { what: 'no metadata yet (create-md to come)', local: 1, peer: 0, implicit: true, metadata: [undefined], want: 'as-configured' },
  {
    what: 'old file-order metadata, derived ids swapped: kept, both numbers named',
    local: 1,
    peer: 0,
    implicit: true,
    metadata: [0, 0],
    want: 'keep-metadata 0 1',
    says: /gives no node-ids; drbdadm derives ha-a 1 and ha-b 0, but the metadata on \/dev\/sdb1, \/dev\/sdb2 was written as node-id 0 \(file order.*keeping that numbering \(ha-a 0, ha-b 1\).*write node-id 0 in on ha-a and node-id 1 in on ha-b/,
  },
  {
    what: 'old file-order metadata, derived ids other than 0/1: kept',
    local: 7,
    peer: 12,
    implicit: true,
    metadata: [0],
    want: 'keep-metadata 0 1',
  },
  {
    what: 'explicit ids contradicting the metadata: refused with DRBD’s words, both ids and the fixes',
    local: 1,
    peer: 0,
    implicit: false,
    metadata: [0],
    want: 'refuse',
    says: /^r0: ambiguous node id: meta-data: 0, config: 1 — the metadata on \/dev\/sdb1 was written as node-id 0, but \/etc\/drbd\.d\/r0\.res makes ha-a node-id 1: if this disk is ha-a's, give ha-a node-id 0 .*else run create-md r0/,
  },
  {
    what: 'derived ids, metadata of neither numbering (another node’s disk): refused',
    local: 1,
    peer: 0,
    implicit: true,
    metadata: [5],
    want: 'refuse',
    says: /meta-data: 5, config: 1 .*\(derived as drbdadm derives it: \/etc\/drbd\.d\/r0\.res gives no node-ids\)/,
  },
  {
    what: 'derived ids as file order, metadata holds the peer’s id (the disks were swapped between hosts): refused',
    local: 0,
    peer: 1,
    implicit: true,
    metadata: [1],
    want: 'refuse',
    says: /meta-data: 1, config: 0/,
  },
  {
    what: 'volumes disagree among themselves: refused, naming both disks',
    local: 1,
    peer: 0,
    implicit: true,
    metadata: [1, 0],
    want: 'refuse',
    says: /metadata on \/dev\/sdb1 was written as node-id 1 and the one on \/dev\/sdb2 as node-id 0: one volume's disk is not this node's/,
  },
];

for (const r of rows) {
  test(r.what, () => {
    const d = nodeIdDecision(input(r));
    const got = d.kind === 'keep-metadata' ? `keep-metadata ${d.local} ${d.peer}` : d.kind;
    assert.equal(got, r.want);
    if (r.says) assert.match('message' in d ? d.message : '', r.says);
  });
}

test('two hosts with one node-id is an impossible input', () => {
  assert.throws(() => nodeIdDecision(input({ local: 1, peer: 1, implicit: true, metadata: [0] })), /must differ/);
});

test('create-md: drbdadm’s id, unless the peer was last seen under the file-order numbering of a file without node-ids', () => {
  const h = (o: { local: number; peer: number; implicit: boolean }) => {
    const i = input({ ...o, metadata: [] });
    return { resource: 'r0', local: i.local, peer: i.peer };
  };
  const table: Array<[string, { local: number; peer: number; implicit: boolean }, number | undefined, number]> = [
    ['no peer memory', { local: 1, peer: 0, implicit: true }, undefined, 1],
    ['peer seen under drbdadm’s ids', { local: 1, peer: 0, implicit: true }, 0, 1],
    ['peer seen under file order: that numbering', { local: 1, peer: 0, implicit: true }, 1, 0],
    ['explicit ids: always the file’s', { local: 1, peer: 0, implicit: false }, 1, 1],
  ];
  for (const [what, ids, last, want] of table) {
    const got = createMdNodeId({ ...h(ids), peerLastNodeId: last });
    assert.equal(got.nodeId, want, what);
    assert.equal(got.message !== undefined, want !== ids.local, what);
  }
  assert.match(createMdNodeId({ ...h({ local: 1, peer: 0, implicit: true }), peerLastNodeId: 1 }).message!, /^created as node-id 0, not drbdadm's 1: ha-b was last seen as node-id 1/);
});
