// What a split-brain victim keeps before the discard (pure): the ranges of its bitmap, the
// manifest's file offsets, whether the copy may be made, and the sentences about it.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Bitmap } from '../../../agent/engine/bitmap.js';
import { BLOCK } from '../../../agent/engine/machine-types.js';
import {
  COPY_FREE_MARGIN,
  copyRanges,
  copyStem,
  decideCopy,
  keptText,
  outOfSyncRanges,
  restorePlanLines,
  restoreRefusal,
} from '../../../agent/engine/split-brain-copy-decision.js';

const KiB = 1024;
const MiB = 1024 * KiB;
const GiB = 1024 * MiB;

describe('outOfSyncRanges', () => {
  const cases: Array<{ name: string; blocks: number; set: number[]; dataBytes?: number; want: Array<[number, number]> }> = [
    { name: 'nothing set', blocks: 64, set: [], want: [] },
    { name: 'one block', blocks: 64, set: [5], want: [[5 * BLOCK, BLOCK]] },
    { name: 'adjacent blocks merge', blocks: 64, set: [20, 21, 22], want: [[20 * BLOCK, 3 * BLOCK]] },
    { name: 'separate runs stay apart', blocks: 64, set: [0, 2, 3, 63], want: [[0, BLOCK], [2 * BLOCK, 2 * BLOCK], [63 * BLOCK, BLOCK]] },
    { name: 'a run across a bitmap word boundary', blocks: 128, set: [62, 63, 64, 65], want: [[62 * BLOCK, 4 * BLOCK]] },
    { name: 'the last block clipped to the data area', blocks: 4, set: [3], dataBytes: 3 * BLOCK + 512, want: [[3 * BLOCK, 512]] },
  ];
  for (const c of cases) {
    test(c.name, () => {
      const bm = new Bitmap(c.blocks);
      for (const b of c.set) bm.setBlocks(b, 1);
      const got = outOfSyncRanges(bm, c.dataBytes ?? c.blocks * BLOCK).map((r) => [r.offset, r.length]);
      assert.deepEqual(got, c.want);
    });
  }
});

test('copyRanges: each range\'s bytes follow the previous ones in the .blocks file', () => {
  assert.deepEqual(copyRanges([{ offset: 8192, length: 4096 }, { offset: 0, length: 8192 }, { offset: 1 << 20, length: 4096 }]), [
    { offset: 8192, length: 4096, fileOffset: 0, changedBy: 'here' },
    { offset: 0, length: 8192, fileOffset: 4096, changedBy: 'here' },
    { offset: 1 << 20, length: 4096, fileOffset: 12288, changedBy: 'here' },
  ]);
});

test('copyStem: UTC time without colons, then the volume', () => {
  assert.equal(copyStem(new Date('2026-12-07T12:27:58.123Z'), 0), '20261207T122758.123Z-vol0');
  assert.equal(copyStem(new Date('2026-01-02T03:04:05.006Z'), 7), '20260102T030405.006Z-vol7');
});

describe('decideCopy', () => {
  const base = { node: 'ha-b', ranges: 3, dir: '/var/lib/drbd-tui/split-brain/r0', capBytes: GiB };
  const cases: Array<{ name: string; bytes: number; freeBytes: number; capBytes?: number; want: 'save' | RegExp }> = [
    { name: 'small copy, plenty of room', bytes: 12 * KiB, freeBytes: 10 * GiB, want: 'save' },
    { name: 'exactly the cap', bytes: GiB, freeBytes: 10 * GiB, want: 'save' },
    { name: 'over the cap: size and override named', bytes: GiB + BLOCK, freeBytes: 100 * GiB, want: /ha-b's 1 GiB of diverging blocks \(3 ranges\) exceed the split-brain copy limit of 1 GiB; connect --discard-my-data --no-backup/ },
    { name: 'a smaller configured cap', bytes: 2 * MiB, freeBytes: 10 * GiB, capBytes: MiB, want: /exceed the split-brain copy limit of 1 MiB/ },
    { name: 'room for the data but not the margin', bytes: MiB, freeBytes: MiB + COPY_FREE_MARGIN - 1, want: /no room in \/var\/lib\/drbd-tui\/split-brain\/r0 for a copy of ha-b's 1 MiB.*65 MiB needed.*free.*--no-backup/ },
    { name: 'data plus margin just fits', bytes: MiB, freeBytes: MiB + COPY_FREE_MARGIN, want: 'save' },
  ];
  for (const c of cases) {
    test(c.name, () => {
      const d = decideCopy({ ...base, bytes: c.bytes, freeBytes: c.freeBytes, ...(c.capBytes !== undefined ? { capBytes: c.capBytes } : {}) });
      if (c.want === 'save') assert.deepEqual(d, { kind: 'save' });
      else {
        assert.equal(d.kind, 'refuse');
        assert.match(d.kind === 'refuse' ? d.why : '', c.want);
        assert.match(d.kind === 'refuse' ? d.why : '', /^Refusing to discard my data/);
      }
    });
  }
});

test('keptText: size, ranges and where, summed over volumes', () => {
  assert.equal(keptText('ha-b', [{ bytes: 12 * KiB, ranges: 3, path: '/s/r0/x-vol0.blocks' }]), "kept a copy of ha-b's 12 KiB of diverging blocks (3 ranges) in /s/r0/x-vol0.blocks");
  assert.equal(keptText('ha-b', [{ bytes: MiB, ranges: 1, path: '/a' }, { bytes: MiB, ranges: 2, path: '/b' }]), "kept a copy of ha-b's 2 MiB of diverging blocks (3 ranges) in /a, /b");
  assert.equal(keptText('ha-a', []), 'ha-a had no diverging blocks of its own to keep');
});

describe('restoreRefusal', () => {
  const manifest = { volume: 0, ranges: [{ offset: 0, length: BLOCK, fileOffset: 0, changedBy: 'here' as const }] };
  const cases: Array<{ name: string; role: string; disk: string; dataBytes?: number; want: RegExp | undefined }> = [
    { name: 'Primary, UpToDate: allowed', role: 'Primary', disk: 'UpToDate', want: undefined },
    { name: 'Secondary: refused, promote first', role: 'Secondary', disk: 'UpToDate', want: /this node is Secondary; promote it first/ },
    { name: 'Primary without UpToDate data: DRBD\'s wording', role: 'Primary', disk: 'Inconsistent', want: /^Need access to UpToDate data/ },
    { name: 'a range past the end of the device', role: 'Primary', disk: 'UpToDate', dataBytes: 100, want: /beyond the end of volume 0/ },
  ];
  for (const c of cases) {
    test(c.name, () => {
      const why = restoreRefusal({ role: c.role, disk: c.disk, dataBytes: c.dataBytes ?? MiB, manifest });
      if (c.want === undefined) assert.equal(why, undefined);
      else assert.match(why ?? '', c.want);
    });
  }
});

test('restorePlanLines: every range that would be overwritten', () => {
  assert.deepEqual(restorePlanLines({ resource: 'r0', volume: 0, bytes: 3 * BLOCK, ranges: copyRanges([{ offset: 0, length: BLOCK }, { offset: 10 * BLOCK, length: 2 * BLOCK }]) }), [
    'r0/0: would overwrite 12 KiB in 2 ranges:',
    '  offset 0 length 4096 (4 KiB)',
    '  offset 40960 length 8192 (8 KiB)',
  ]);
});
