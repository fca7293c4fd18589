// What a resource file asks for that the agent does not do as asked, in words for `status`
// and the console: a peer link without a shared secret (DRBD allows it; the link then runs
// unauthenticated) and the DRBD options accepted but not honoured. Pure; both status and the
// console import it, so the two read alike.
import { formatOfFile } from '../config/resource-files.js';
import type { IgnoredOptionSnapshot } from './messages.js';

/** How the file would set a shared secret, in its own syntax. */
function secretHint(file: string | undefined): string {
  return formatOfFile(file ?? '') === 'yaml' ? 'net: { shared-secret: "…" }' : 'net { shared-secret "…"; }';
}

/** What a peer link without a shared secret means and its fix, for the resource's own log. */
export function unauthenticatedText(file: string | undefined): string {
  return `peer link not authenticated: add ${secretHint(file)}${file ? ` to ${file}` : ''}, the same on both hosts, so that nothing but the peer can replicate into this disk`;
}

/** The warning for resource `name` when its peer link runs unauthenticated; undefined otherwise (or an older agent did not say). */
export function unauthenticatedWarning(name: string, file: string | undefined, authenticated: boolean | undefined): string | undefined {
  return authenticated === false ? `${name}: ${unauthenticatedText(file)}` : undefined;
}

/** "ignored: fencing (why) at file:line:col", one per option. */
export function ignoredText(o: IgnoredOptionSnapshot): string {
  return `ignored: ${o.option} (${o.why}) at ${o.file}:${o.line}:${o.col}`;
}
