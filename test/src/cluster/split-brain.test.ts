import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseEventLine } from '../../../src/cluster/events2.js';
import { applyHostEvent, type ClusterModel, type HostIndex } from '../../../src/cluster/model.js';
import { splitBrainDefaultVictim } from '../../../src/cluster/split-brain.js';
import { loadScenario } from './fixtures.js';

const T = '2026-11-22T04:00:00.000000+00:00';

function apply(m: ClusterModel, host: HostIndex, ...lines: string[]): ClusterModel {
  for (const l of lines) m = applyHostEvent(m, host, parseEventLine(`${T} ${l}`)!);
  return m;
}

/** The split-brain fixture with each side's out-of-sync KiB (ha-a node-id 0, ha-b node-id 1 unless swapped). */
function splitBrain(kibA: number, kibB: number, opts: { swapIds?: boolean } = {}): ClusterModel {
  let m = loadScenario('split-brain');
  m = apply(m, 0, `change peer-device name:r0 peer-node-id:1 conn-name:ha-b volume:0 out-of-sync:${kibA}`);
  m = apply(m, 1, `change peer-device name:r0 peer-node-id:0 conn-name:ha-a volume:0 out-of-sync:${kibB}`);
  if (opts.swapIds) {
    m = apply(m, 0, 'change resource name:r0 node-id:1');
    m = apply(m, 1, 'change resource name:r0 node-id:0');
  }
  return m;
}

const cases: Array<{ name: string; model: () => ClusterModel; want: { victim: HostIndex; reason: string } | undefined }> = [
  {
    name: 'the recorded split brain: ha-b changed less',
    model: () => loadScenario('split-brain'),
    want: { victim: 1, reason: "ha-b changed 2.0 MiB since the split, ha-a 8.0 MiB: discarding ha-b's loses less" },
  },
  {
    name: 'ha-a changed less',
    model: () => splitBrain(4, 12),
    want: { victim: 0, reason: "ha-a changed 4 KiB since the split, ha-b 12 KiB: discarding ha-a's loses less" },
  },
  {
    name: 'nothing changed on one side',
    model: () => splitBrain(0, 4096),
    want: { victim: 0, reason: "ha-a changed 0 KiB since the split, ha-b 4.0 MiB: discarding ha-a's loses less" },
  },
  {
    name: 'a tie goes against the higher node-id (ha-b)',
    model: () => splitBrain(12, 12),
    want: { victim: 1, reason: "ha-b and ha-a each changed 12 KiB since the split: discarding ha-b's, the higher node-id, as DRBD's discard-least-changes breaks the tie" },
  },
  {
    name: 'a tie with the node-ids the other way round: ha-a is the higher one',
    model: () => splitBrain(12, 12, { swapIds: true }),
    want: { victim: 0, reason: "ha-a and ha-b each changed 12 KiB since the split: discarding ha-a's, the higher node-id, as DRBD's discard-least-changes breaks the tie" },
  },
  { name: 'no split brain: no default', model: () => loadScenario('healthy'), want: undefined },
  { name: 'an unknown resource: no default', model: () => splitBrain(1, 2), want: undefined },
];

for (const c of cases) {
  test(`splitBrainDefaultVictim: ${c.name}`, () => {
    const resource = c.name.startsWith('an unknown resource') ? 'r9' : 'r0';
    assert.deepEqual(splitBrainDefaultVictim(c.model(), resource), c.want);
  });
}
