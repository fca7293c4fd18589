// Whether a running target is open to anyone, pure: no CHAP and a portal on every address
// means anyone who reaches any address of the Primary can read and write the volume. Shown
// in `status` and as a console problem; binding the portal or requiring CHAP ends it.
import type { TargetSnapshot } from '../protocol/messages.js';

export function portalIsWildcard(portal: string): boolean {
  return /^(0\.0\.0\.0|\[::\]|::):\d+$/.test(portal);
}

/** The warning for resource `name`'s target, or undefined when it is not exposed (or an older agent did not say). */
export function exposureWarning(name: string, t: TargetSnapshot | undefined): string | undefined {
  if (!t || t.state !== 'running' || t.chap !== false || !portalIsWildcard(t.portal)) return undefined;
  return `${name}'s target accepts any initiator on every address: bind the portal to the storage network or the service address, or require CHAP`;
}
