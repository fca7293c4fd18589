// The agent's pure decisions that the console runs to predict them: a confirmation shows what
// the agent will decide (which side syncs from which, what it refuses and why) before anything
// is sent, so it calls the agent's own functions, never a copy. The agent's word stays final.
export { createMdRefusal, forcePrimaryRefusal, type KnownPeer, type LocalVolume } from '../data-refusals.js';
export { resolveSplitBrain } from '../engine/split-brain-policy.js';
export { formatUuid, UUID_JUST_CREATED, uuidEq } from '../engine/uuid.js';
export { decideSync, discardResolution, holdsData, newGenerationIds, sideFromWire, type SideGi, type SyncDecision, type WireGi } from '../sync-decision.js';
