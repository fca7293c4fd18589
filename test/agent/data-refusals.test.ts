// The two refusals that protect a peer out of sight: force-promoting data the peer had newer,
// and wiping data the peer does not hold (the seed article's trap, both ways).
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { UUID_JUST_CREATED, formatUuid } from '../../agent/engine/uuid.js';
import { createMdRefusal, forcePrimaryRefusal, type KnownPeer, type LocalVolume } from '../../agent/data-refusals.js';

const X = 0x1111_2222_3333_4444n;
const Y = 0x5555_6666_7777_8888n;
const hex = formatUuid;
const ZERO = hex(0n);

function memory(v: Partial<KnownPeer['volumes'][0]> = {}, role: KnownPeer['role'] = 'Secondary'): KnownPeer {
  return { peer: 'ha-b', peerNodeId: 1, seen: '2026-12-07T01:02:00.000Z', role, volumes: [{ disk: 'UpToDate', current: hex(X), bitmap: ZERO, history: [], ...v }] };
}

const vol = (v: Partial<LocalVolume> = {}): LocalVolume => ({ disk: 'UpToDate', current: hex(X), bitmap: ZERO, history: [], ...v });
const blank = vol({ disk: 'Inconsistent', current: hex(UUID_JUST_CREATED) });

describe('forcePrimaryRefusal', () => {
  const cases: Array<[string, LocalVolume, KnownPeer | undefined, RegExp | undefined]> = [
    ['a blank disk while the peer last had UpToDate data', blank, memory(), /Refusing to force Primary: ha-b last had UpToDate data \(generation 11112222…, last seen 2026-12-07T01:02:00.000Z\) of r0 volume 0; this node's disk holds no data \(Inconsistent\)\. Promote ha-b instead; if ha-b is gone for good: primary --force --forget-peer r0/],
    ['older data: the peer went on from this generation', vol({ disk: 'Outdated', current: hex(X) }), memory({ current: hex(Y), history: [hex(X)] }), /this node's Outdated data is older/],
    ['both Outdated on the same generation', vol({ disk: 'Outdated' }), memory({ disk: 'Outdated' }), undefined],
    ['the peer was Inconsistent (a sync target)', vol({ disk: 'Consistent' }), memory({ disk: 'Inconsistent' }), undefined],
    ['newer data here: the peer is behind', vol({ disk: 'Outdated', current: hex(Y), history: [hex(X)] }), memory({ disk: 'Outdated' }), undefined],
    ['nothing known of the peer', blank, undefined, undefined],
  ];
  for (const [name, local, m, want] of cases) {
    test(name, () => {
      const r = forcePrimaryRefusal('r0', [local], 0, m);
      if (want) assert.match(r ?? '', want);
      else assert.equal(r, undefined);
    });
  }
});

describe('createMdRefusal', () => {
  const cases: Array<[string, LocalVolume, KnownPeer | undefined, RegExp | undefined]> = [
    ['the only good copy, the peer descends from a blank disk', vol(), memory({ current: hex(Y), history: [] }, 'Primary'), /Refusing to wipe the metadata of r0 volume 0: this node holds UpToDate data \(generation 11112222…\) and ha-b's data is unrelated to it .*create-md --force --forget-peer r0/],
    ['the peer never became UpToDate', vol(), memory({ disk: 'Inconsistent' }), /ha-b holds no data of it/],
    ['split brain: both wrote', vol({ current: hex(Y), bitmap: hex(X) }), memory({ current: hex(0xabcdn), bitmap: hex(X) }), /split brain/],
    ['the peer went on from this node data', vol({ disk: 'Outdated' }), memory({ current: hex(Y), history: [hex(X)] }), undefined],
    ['the peer holds the same generation, UpToDate', vol(), memory(), undefined],
    ['a blank disk here holds nothing to lose', blank, memory(), undefined],
    ['nothing known of the peer', vol(), undefined, undefined],
  ];
  for (const [name, local, m, want] of cases) {
    test(name, () => {
      const r = createMdRefusal('r0', [local], 0, m);
      if (want) assert.match(r ?? '', want);
      else assert.equal(r, undefined);
    });
  }
});
