// DRBD's own colours for its state words (drbdsetup's palette): operators' eyes are trained
// on them, so the console keeps them exactly, and adds only severity colours for problems.
import type { Severity } from '../cluster/problems.js';

export interface WordStyle {
  color?: string;
  bold?: boolean;
  dimColor?: boolean;
}

const RED = new Set([
  'Inconsistent',
  'Outdated',
  'Diskless',
  'Failed',
  'StandAlone',
  'Connecting',
  'Unconnected',
  'Timeout',
  'BrokenPipe',
  'NetworkFailure',
  'ProtocolError',
  'TearDown',
  'Disconnecting',
  'SyncSource',
  'SyncTarget',
  'PausedSyncS',
  'PausedSyncT',
  'StartingSyncS',
  'StartingSyncT',
  'WFBitMapS',
  'WFBitMapT',
  'WFSyncUUID',
  'Ahead',
  'Behind',
]);

/** The style of one DRBD state word (role, disk, connection or replication state). */
export function stateStyle(word: string): WordStyle {
  if (word === 'Primary') return { color: 'cyan' };
  if (word === 'UpToDate' || word === 'Connected' || word === 'Established') return { color: 'green' };
  if (word === 'Consistent') return { bold: true };
  if (RED.has(word)) return { color: 'red' };
  if (word === 'Unknown' || word === 'DUnknown' || word === '?') return { dimColor: true };
  return {};
}

export function severityStyle(s: Severity): WordStyle {
  switch (s) {
    case 'alert':
      return { color: 'red', bold: true };
    case 'warn':
      return { color: 'yellow' };
    case 'info':
      return { color: 'blue' };
  }
}

export const SEVERITY_ICON: Record<Severity, string> = { alert: '✖', warn: '▲', info: '•' };
