// Whether a resource file's mode gives its secrets away, pure: a file holding the shared
// secret or a CHAP secret that the group or others may read hands them to every such local
// user. Shown in `status` and as a console problem, naming the file the secret is read from
// (global_common.conf for a secret set in common { }); chmod 600 that file ends it.
import { configSecrets } from './secret-mask.js';
import type { ResourceConfig } from './types.js';

/** The file's permission bits as `ls` would say them in octal (0644), when they expose a secret it holds; undefined otherwise. */
export function exposedSecretsMode(c: ResourceConfig): string | undefined {
  const mode = c.source.mode;
  if (mode === undefined || (mode & 0o077) === 0 || configSecrets(c).length === 0) return undefined;
  return `0${(mode & 0o777).toString(8).padStart(3, '0')}`;
}

/** Of the files that hold a resource's secret, the one to name: the most exposed, the resource's own file on a tie. */
export function secretHolder(resourceFile: string, holders: ReadonlyArray<{ file: string; mode: number }>): { file: string; mode: number } | undefined {
  // Others (everyone on the host) before the group.
  const exposure = (m: number) => (m & 0o007 ? 2 : 0) + (m & 0o070 ? 1 : 0);
  let best: { file: string; mode: number } | undefined;
  for (const h of holders) {
    if (!best || exposure(h.mode) > exposure(best.mode) || (exposure(h.mode) === exposure(best.mode) && h.file === resourceFile)) best = h;
  }
  return best;
}

/**
 * The warning for resource `name`, or undefined when its files keep its secrets (or an older
 * agent did not say). `secretFile`: the file the secret is read from, when not the resource's.
 */
export function secretFileWarning(name: string, file: string | undefined, mode: string | undefined, secretFile?: string): string | undefined {
  if (mode === undefined) return undefined;
  if (secretFile) return `${name}'s shared secret is read from ${secretFile}, which others on the host may read (mode ${mode}): chmod 600 ${secretFile}`;
  return file ? `${name}'s resource file ${file} holds secrets that others on the host may read (mode ${mode}): chmod 600 ${file}` : `${name}'s resource file holds secrets that others on the host may read (mode ${mode}): chmod 600 it`;
}
