// Automatic split-brain recovery (DRBD's after-sb-0pri/1pri/2pri). Pure: both nodes run it on
// the same inputs (each from its own side) and must name the same victim, so every input is
// exchanged in the hello-state:
// - changes: the volume's bitmap weight, i.e. 4 KiB blocks written since the split;
// - primary: role at connect time (it picks the policy: 0, 1 or 2 Primaries);
// - promotedAt: wall-clock ms when the node last became Primary since the agent started
//   (younger = later). Not persisted: after a restart it is unknown, and the younger/older
//   policies then refuse to guess (disconnect). Clock skew between the hosts only matters
//   for promotions closer together than the skew.
// - the policies themselves: if the two resource files disagree, nobody is discarded.
// Ties (equal changes, equal promotion times) go against the higher node-id, as DRBD breaks
// them with a per-connection flag that one node holds.
import type { AfterSb0Pri, AfterSb1Pri, AfterSb2Pri } from '../config/types.js';

export interface SbPolicies {
  pri0: AfterSb0Pri;
  pri1: AfterSb1Pri;
  pri2: AfterSb2Pri;
  /** discard-node-NAME resolved to that host's node-id (by the runtime, from the resource file). */
  discardNodeId?: number;
}

export const DEFAULT_SB_POLICIES: SbPolicies = { pri0: 'disconnect', pri1: 'disconnect', pri2: 'disconnect' };

export interface SbSide {
  nodeId: number;
  primary: boolean;
  /** Blocks written since the split (bitmap weight). */
  changes: number;
  promotedAt?: number;
}

export type SbVerdict = { victim: 'me' | 'peer'; why: string } | { victim: 'none'; why: string };

/** Whether two nodes' policies are the same (both must apply the same rule). */
export function samePolicies(a: SbPolicies, b: Pick<SbPolicies, 'pri0' | 'pri1' | 'pri2'> | undefined): boolean {
  return b !== undefined && a.pri0 === b.pri0 && a.pri1 === b.pri1 && a.pri2 === b.pri2;
}

export function resolveSplitBrain(p: SbPolicies, me: SbSide, peer: SbSide): SbVerdict {
  const primaries = (me.primary ? 1 : 0) + (peer.primary ? 1 : 0);
  if (primaries === 0) return zeroPri(p, me, peer);
  if (primaries === 1) return onePri(p, me, peer);
  if (p.pri2 === 'call-pri-lost-after-sb')
    return { victim: 'none', why: 'after-sb-2pri call-pri-lost-after-sb: this engine runs no handlers, treated as disconnect' };
  return { victim: 'none', why: 'after-sb-2pri disconnect' };
}

function loser(me: SbSide, peer: SbSide, meLoses: boolean, why: string): SbVerdict {
  return { victim: meLoses ? 'me' : 'peer', why };
}

/** Tie-break: the higher node-id is discarded. */
function tieLoser(me: SbSide, peer: SbSide): boolean {
  return me.nodeId > peer.nodeId;
}

function zeroPri(p: SbPolicies, me: SbSide, peer: SbSide): SbVerdict {
  const pol = p.pri0;
  switch (pol) {
    case 'disconnect':
      return { victim: 'none', why: 'after-sb-0pri disconnect' };
    case 'discard-zero-changes':
      if (me.changes === 0 && peer.changes === 0) return loser(me, peer, tieLoser(me, peer), `${pol}: neither node changed anything; node-id tie-break`);
      if (me.changes === 0) return loser(me, peer, true, `${pol}: this node made no changes`);
      if (peer.changes === 0) return loser(me, peer, false, `${pol}: the peer made no changes`);
      return { victim: 'none', why: `${pol}: both nodes changed data (${me.changes} and ${peer.changes} blocks), disconnect` };
    case 'discard-least-changes':
      if (me.changes !== peer.changes) return loser(me, peer, me.changes < peer.changes, `${pol}: ${me.changes} blocks changed here, ${peer.changes} on the peer`);
      return loser(me, peer, tieLoser(me, peer), `${pol}: equal changes (${me.changes} blocks); node-id tie-break`);
    case 'discard-younger-primary':
    case 'discard-older-primary': {
      if (me.promotedAt === undefined || peer.promotedAt === undefined)
        return { victim: 'none', why: `${pol}: when each node was last Primary is not known (agent restarted?), disconnect` };
      if (me.promotedAt === peer.promotedAt) return loser(me, peer, tieLoser(me, peer), `${pol}: promoted at the same time; node-id tie-break`);
      const meYounger = me.promotedAt > peer.promotedAt;
      return loser(me, peer, pol === 'discard-younger-primary' ? meYounger : !meYounger, `${pol}: this node became Primary ${meYounger ? 'after' : 'before'} the peer`);
    }
    default: {
      if (p.discardNodeId === undefined) return { victim: 'none', why: `${pol}: node not resolved, disconnect` };
      if (p.discardNodeId === me.nodeId) return loser(me, peer, true, `${pol}: this node is the named victim`);
      if (p.discardNodeId === peer.nodeId) return loser(me, peer, false, `${pol}: the peer is the named victim`);
      return { victim: 'none', why: `${pol}: names neither node, disconnect` };
    }
  }
}

function onePri(p: SbPolicies, me: SbSide, peer: SbSide): SbVerdict {
  const secondaryIsMe = !me.primary;
  switch (p.pri1) {
    case 'disconnect':
      return { victim: 'none', why: 'after-sb-1pri disconnect' };
    case 'discard-secondary':
      return loser(me, peer, secondaryIsMe, 'after-sb-1pri discard-secondary');
    case 'consensus': {
      // The Secondary is discarded only if the 0pri policy would discard it too.
      const v = zeroPri(p, me, peer);
      const secondary = secondaryIsMe ? 'me' : 'peer';
      if (v.victim === secondary) return { victim: secondary, why: `after-sb-1pri consensus (${v.why})` };
      return { victim: 'none', why: `after-sb-1pri consensus: after-sb-0pri would not discard the Secondary (${v.why}), disconnect` };
    }
    case 'call-pri-lost-after-sb':
      return { victim: 'none', why: 'after-sb-1pri call-pri-lost-after-sb: this engine runs no handlers, treated as disconnect' };
  }
}
