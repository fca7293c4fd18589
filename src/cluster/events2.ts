// The events2 line format lives beside the agent (its `events` CLI prints it, and the agent
// bundle must stay free of console code); the console imports it from here.
export {
  diffSnapshots,
  Events2SyntaxError,
  formatEvent,
  objectKey,
  parseEventLine,
  parseEvents,
  prop,
  snapshotToEvents,
} from '../../agent/protocol/events2.js';
