// The one way the machine asks for its volume's metadata to be written: a persist-meta action
// whose meta-done comes back with `then`, the step to take once the superblock is on disk
// (or, when the write failed, once the volume is Failed: machine.ts metaFailed).
import type { Action, EngineState, MetaContinuation, VolumeState } from './machine-types.js';

export function persistMeta(s: EngineState, v: VolumeState, out: Action[], then: MetaContinuation = { kind: 'none' }): void {
  const t = s.nextToken++;
  s.metaWaits.set(t, { volume: v.volume, then });
  out.push({ a: 'persist-meta', token: t, volume: v.volume });
}
