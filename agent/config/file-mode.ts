// Whether a resource file's mode gives its secrets away, pure: a file holding the shared
// secret or a CHAP secret that the group or others may read hands them to every such local
// user. Shown in `status` and as a console problem; chmod 600 ends it.
import { configSecrets } from './secret-mask.js';
import type { ResourceConfig } from './types.js';

/** The file's permission bits as `ls` would say them in octal (0644), when they expose a secret it holds; undefined otherwise. */
export function exposedSecretsMode(c: ResourceConfig): string | undefined {
  const mode = c.source.mode;
  if (mode === undefined || (mode & 0o077) === 0 || configSecrets(c).length === 0) return undefined;
  return `0${(mode & 0o777).toString(8).padStart(3, '0')}`;
}

/** The warning for resource `name`, or undefined when its file keeps its secrets (or an older agent did not say). */
export function secretFileWarning(name: string, file: string | undefined, mode: string | undefined): string | undefined {
  if (mode === undefined) return undefined;
  return file ? `${name}'s resource file ${file} holds secrets that others on the host may read (mode ${mode}): chmod 600 ${file}` : `${name}'s resource file holds secrets that others on the host may read (mode ${mode}): chmod 600 it`;
}
