// A resource file put on this host by the console (`config-put`): which file defines a
// resource now, and where the new one goes (written with atomic-file.ts, mode 0600: no other
// login can read the shared secret in it).
import { createHash } from 'node:crypto';
import { chmod, rename } from 'node:fs/promises';
import { basename, dirname, extname, join } from 'node:path';
import type { ConfigError, ResourceConfig } from './types.js';
import { errorsForResource } from './load.js';

export type ResourceFormat = 'yaml' | 'res';

export function formatOfFile(file: string): ResourceFormat | undefined {
  const ext = extname(file).toLowerCase();
  return ext === '.yaml' || ext === '.yml' ? 'yaml' : ext === '.res' ? 'res' : undefined;
}

export function sha256Hex(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

/** Why `name` cannot name a file in the config dir, or undefined when it can. */
export function resourceNameProblem(name: string): string | undefined {
  if (!/^[A-Za-z0-9_][A-Za-z0-9_.-]*$/.test(name)) return `'${name}' is not a resource name: letters, digits, '_', '-', '.' (not first)`;
  return undefined;
}

/**
 * The files in `dir` that define resource `name`, valid or not (a broken file is the one the
 * operator means to replace), in name order.
 */
export function filesOfResource(dir: string, name: string, loaded: { resources: readonly ResourceConfig[]; errors: readonly ConfigError[] }): string[] {
  const files = new Set<string>();
  for (const r of loaded.resources) if (r.resource === name) files.add(r.source.file);
  for (const e of errorsForResource(name, loaded.errors)) if (dirname(e.file) === dir && formatOfFile(e.file)) files.add(e.file);
  return [...files].sort();
}

/** Where a file of `format` for `name` goes: over the file that defines it when that is of the same format. */
export function targetFile(dir: string, name: string, format: ResourceFormat, existing: string | undefined): string {
  if (existing && formatOfFile(existing) === format) return existing;
  return join(dir, `${name}.${format}`);
}

/** The name a replaced file of the other format is kept under: a dotfile, which the loader skips. */
export function keptAsName(file: string): string {
  return join(dirname(file), `.${basename(file)}.replaced`);
}

/** Moves a replaced file aside (mode 0600: it holds the old secret). */
export async function keepAside(file: string): Promise<string> {
  const kept = keptAsName(file);
  await rename(file, kept);
  await chmod(kept, 0o600);
  return kept;
}
