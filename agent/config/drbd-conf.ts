// A drbd.conf tree as drbdadm reads it: `include "PATTERN";` at the top level of a file pulls
// in the files the glob matches (sorted, relative to the including file's directory); a
// pattern that matches nothing is skipped, as drbdadm skips it. A file that cannot be read or
// parsed is reported and the rest of the tree still loads, so one bad .res does not take the
// other resources down.
import { readdir } from 'node:fs/promises';
import { dirname, isAbsolute, join, normalize } from 'node:path';
import type { ConfigError } from './types.js';
import type { Statement } from './res-syntax.js';
import { parseResText } from './res-loader.js';

export interface TreeFs {
  read(path: string): Promise<string>;
  /** The entries of a directory, or [] when it cannot be listed. */
  list(dir: string): Promise<string[]>;
}

export interface Tree {
  /** Every file's top-level statements but the includes, in the order drbdadm reads them. */
  statements: Statement[];
  /** The files read, with their text (error messages are masked against their secrets). */
  texts: Map<string, string>;
  errors: ConfigError[];
}

const MAX_DEPTH = 8;
const MAX_FILES = 1000;

function globRegex(part: string): RegExp {
  const body = part.replace(/[.+^${}()|\\]/g, '\\$&').replace(/\*/g, '[^/]*').replace(/\?/g, '[^/]');
  return new RegExp(`^${body}$`);
}

/** glob(3) for `*`, `?` and `[...]` in any path component; dotfiles only when the pattern names them. */
export async function expandGlob(pattern: string, fs: TreeFs): Promise<string[]> {
  if (!/[*?[]/.test(pattern)) return [pattern];
  const parts = pattern.split('/');
  let bases = [parts[0] === '' ? '/' : '.'];
  for (const part of parts.slice(parts[0] === '' ? 1 : 0)) {
    if (part === '') continue;
    const next: string[] = [];
    for (const b of bases) {
      if (!/[*?[]/.test(part)) next.push(join(b, part));
      else {
        const re = globRegex(part);
        for (const e of (await fs.list(b)).sort()) if (re.test(e) && (part.startsWith('.') || !e.startsWith('.'))) next.push(join(b, e));
      }
    }
    bases = next;
  }
  return bases;
}

/** Reads `roots` and everything they include. */
export async function readTree(roots: readonly string[], fs: TreeFs): Promise<Tree> {
  const tree: Tree = { statements: [], texts: new Map(), errors: [] };
  const visit = async (file: string, depth: number, from?: Statement): Promise<void> => {
    if (tree.texts.has(file)) return; // included twice (or a root also matched by a glob): read once
    if (tree.texts.size >= MAX_FILES || depth > MAX_DEPTH) {
      const t = from?.key;
      tree.errors.push({ file: t?.file ?? file, line: t?.line ?? 1, col: t?.col ?? 1, message: `includes nest deeper than ${MAX_DEPTH} levels or reach more than ${MAX_FILES} files: an include loop?` });
      return;
    }
    let text: string;
    try {
      text = await fs.read(file);
    } catch (e) {
      const t = from?.key;
      tree.errors.push({ file: t?.file ?? file, line: t?.line ?? 1, col: t?.col ?? 1, message: `cannot read ${file}: ${(e as Error).message}` });
      return;
    }
    tree.texts.set(file, text);
    const p = parseResText(file, text);
    if ('error' in p) {
      tree.errors.push(p.error);
      return;
    }
    for (const s of p.statements) {
      if (s.key.text !== 'include') {
        tree.statements.push(s);
        continue;
      }
      const pat = s.args[0];
      if (s.block || s.args.length !== 1 || !pat) {
        tree.errors.push({ file, line: s.key.line, col: s.key.col, message: 'expected include "PATH-OR-GLOB"; e.g. include "drbd.d/*.res";' });
        continue;
      }
      const full = isAbsolute(pat.text) ? pat.text : join(dirname(file), pat.text);
      for (const f of await expandGlob(full, fs)) await visit(normalize(f), depth + 1, s);
    }
  };
  for (const r of roots) await visit(normalize(r), 0);
  return tree;
}

/** The real file system, reading each file as the config dir reads its files (bounded, regular files only). */
export function nodeTreeFs(read: (path: string) => Promise<string>): TreeFs {
  return {
    read,
    list: (dir) => readdir(dir).catch(() => []),
  };
}
