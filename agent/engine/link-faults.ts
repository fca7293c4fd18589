// A test-only fault hook for lab tests of real daemons: the peer link of a resource breaks just
// before it would carry one given message, the way a network that fails at that instant does
// (the peer never gets the message nor anything after it; both sides see the connection drop,
// then reconnect as usual). Each break happens once per daemon process.
//
// It is set only by the daemon's environment at start, e.g.
//   DRBD_TUI_TEST_BREAK_LINK_BEFORE=r0:sync-finished,r1:sync-finished-ack
// No control message, CLI verb or resource file turns it on, so the console cannot; the
// console starts the daemon with a fixed command line. A daemon with it set says so in its log.
import type { PeerMsg } from './machine-types.js';

export const LINK_FAULTS_ENV = 'DRBD_TUI_TEST_BREAK_LINK_BEFORE';

/** The messages at the end of a resync, where a lost one used to make every later resync full. */
const BREAKABLE = ['resync-done', 'sync-finished', 'sync-finished-ack'] as const satisfies readonly PeerMsg['type'][];
type BreakableMsg = (typeof BREAKABLE)[number];
const isBreakable = (t: string | undefined): t is BreakableMsg => BREAKABLE.includes(t as BreakableMsg);

/** Per resource, the messages before which its link is still to break. */
export type LinkFaults = Map<string, Set<PeerMsg['type']>>;

/** Parses the variable's value; throws a message naming the variable and the expected form. */
export function parseLinkFaults(text: string | undefined): LinkFaults {
  const faults: LinkFaults = new Map();
  for (const entry of (text ?? '').split(',').map((e) => e.trim()).filter((e) => e !== '')) {
    const m = /^([^:\s]+):([a-z-]+)$/.exec(entry);
    const type = m?.[2];
    if (!m || !isBreakable(type)) {
      throw new Error(`${LINK_FAULTS_ENV}: '${entry}' is not RESOURCE:MESSAGE with MESSAGE one of ${BREAKABLE.join(', ')}`);
    }
    const set = faults.get(m[1]!) ?? new Set<PeerMsg['type']>();
    set.add(type);
    faults.set(m[1]!, set);
  }
  return faults;
}

/** The log line of a daemon with the hook set: never a silent fault. */
export function describeLinkFaults(faults: LinkFaults): string | undefined {
  if (faults.size === 0) return undefined;
  const what = [...faults].map(([res, types]) => `${res} before its first ${[...types].join(', ')}`).join('; ');
  return `test hook ${LINK_FAULTS_ENV} is set: the peer link breaks once, ${what}`;
}

/** True (once) if the link is to break instead of sending `type`: the entry is used up. */
export function takeLinkFault(pending: Set<PeerMsg['type']> | undefined, type: PeerMsg['type']): boolean {
  return pending?.delete(type) ?? false;
}
