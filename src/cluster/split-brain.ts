// Which side of a split brain to discard by default: the one with fewer changes since the
// split (each side's out-of-sync KiB), ties broken as DRBD's discard-least-changes breaks them
// (the agent's own policy function decides, so the console and an automatic recovery agree).
// Pure; the operator still confirms the choice.
import { hasSplitBrain, sidesOf, splitBrainChanges } from '../runbooks/pair-state.js';
import { fmtKiB } from '../ui/format.js';
import type { ClusterModel, HostIndex } from './model.js';
import { resolveSplitBrain } from '../../agent/protocol/decisions.js';

export function splitBrainDefaultVictim(m: ClusterModel, resource: string): { victim: HostIndex; reason: string } | undefined {
  if (!hasSplitBrain(m, resource)) return undefined;
  const nodeId = (h: HostIndex): number | undefined => sidesOf(m, resource, h).find((s) => s.present)?.resource?.nodeId;
  const [idA, idB] = [nodeId(0), nodeId(1)];
  if (idA === undefined || idB === undefined) return undefined;
  const changes = splitBrainChanges(m, resource);
  const verdict = resolveSplitBrain(
    { pri0: 'discard-least-changes', pri1: 'disconnect', pri2: 'disconnect' },
    { nodeId: idA, primary: false, changes: changes[0] },
    { nodeId: idB, primary: false, changes: changes[1] },
  );
  if (verdict.victim === 'none') return undefined;
  const victim: HostIndex = verdict.victim === 'me' ? 0 : 1;
  const survivor: HostIndex = victim === 0 ? 1 : 0;
  const [v, s] = [m.hosts[victim].name, m.hosts[survivor].name];
  const reason =
    changes[victim] === changes[survivor]
      ? `${v} and ${s} each changed ${fmtKiB(changes[victim])} since the split: discarding ${v}'s, the higher node-id, as DRBD's discard-least-changes breaks the tie`
      : `${v} changed ${fmtKiB(changes[victim])} since the split, ${s} ${fmtKiB(changes[survivor])}: discarding ${v}'s loses less`;
  return { victim, reason };
}
