// The config API the daemon and the console call: parse one text, load one file, load a
// directory (bad files reported, good ones still served), and find this node in a config.
import { constants } from 'node:fs';
import { open, readdir, stat } from 'node:fs/promises';
import { basename, extname, join } from 'node:path';
import type { ConfigError, HostConfig, ResourceConfig } from './types.js';
import { notAHostMessage } from './draft.js';
import type { LoadOptions, Located, ParseResult } from './draft.js';
import { parseYamlLocated } from './yaml-loader.js';
import { loadResStatements, parseResLocated } from './res-loader.js';
import { readTree, nodeTreeFs } from './drbd-conf.js';
import { maskKnown, textSecrets } from './secret-mask.js';
import { secretHolder } from './file-mode.js';

export type { LoadOptions, ParseResult } from './draft.js';

const strip = (r: Located): ParseResult => ('config' in r ? { config: r.config } : r);

type Parser = (file: string, text: string, opts: LoadOptions) => Located;

/**
 * A parser whose error messages never quote a secret of the text: a message may quote the
 * value or the line it stumbled on (a YAML syntax error, a value of the wrong type), and
 * config errors reach `status`, events and the console.
 */
function masking(parse: Parser): Parser {
  return (file, text, opts) => {
    const r = parse(file, text, opts);
    if ('config' in r) return r;
    const known = textSecrets(text);
    return { errors: r.errors.map((e) => ({ ...e, message: maskKnown(e.message, known) })) };
  };
}

const parseYaml = masking(parseYamlLocated);
const parseRes = masking(parseResLocated);

export function parseResourceYaml(file: string, text: string, opts: LoadOptions = {}): ParseResult {
  return strip(parseYaml(file, text, opts));
}

export function parseResourceRes(file: string, text: string, opts: LoadOptions = {}): ParseResult {
  return strip(parseRes(file, text, opts));
}

const PARSERS: Record<string, Parser> = {
  '.yaml': parseYaml,
  '.yml': parseYaml,
  '.res': parseRes,
};

export const CONFIG_EXTENSIONS = Object.keys(PARSERS);

async function loadLocated(path: string, opts: LoadOptions): Promise<Located> {
  const parse = PARSERS[extname(path).toLowerCase()];
  if (!parse) {
    return { errors: [{ file: path, line: 1, col: 1, message: `unknown kind of resource file: name it NAME.yaml (or .yml) for YAML, or NAME.res for a DRBD resource file` }] };
  }
  let text: string;
  try {
    text = await readBounded(path);
  } catch (e) {
    return { errors: [{ file: path, line: 1, col: 1, message: `cannot read the file: ${describeFsError(e)}` }] };
  }
  try {
    const r = parse(path, text, opts);
    if ('config' in r) {
      const mode = await stat(path).then((s) => s.mode & 0o7777, () => undefined);
      if (mode !== undefined) r.config.source.mode = mode;
    }
    return r;
  } catch (e) {
    // A bug of ours in one file's loader must not stop the other resources from loading.
    return { errors: [{ file: path, line: 1, col: 1, message: `internal error while loading this file (please report it): ${(e as Error).message}` }] };
  }
}

/** Far more than any resource file needs. */
export const MAX_RESOURCE_FILE_BYTES = 1 << 20;

/**
 * A regular file of at most MAX_RESOURCE_FILE_BYTES, read through one descriptor: an entry of the
 * config dir may be a symlink to anything (/dev/zero never ends, a FIFO blocks), and a file may
 * grow while it is read.
 */
export async function readBounded(path: string): Promise<string> {
  const fh = await open(path, constants.O_RDONLY | constants.O_NONBLOCK);
  try {
    if (!(await fh.stat()).isFile()) throw new Error('it is not a regular file (a device, FIFO or socket?): resource files are text files');
    const buf = Buffer.alloc(MAX_RESOURCE_FILE_BYTES + 1);
    let n = 0;
    for (;;) {
      const { bytesRead } = await fh.read(buf, n, buf.length - n, n);
      if (bytesRead === 0) break;
      n += bytesRead;
      if (n > MAX_RESOURCE_FILE_BYTES) throw new Error(`it is larger than ${MAX_RESOURCE_FILE_BYTES} bytes, which no resource file is`);
    }
    return buf.toString('utf8', 0, n);
  } finally {
    await fh.close();
  }
}

export function describeFsError(e: unknown): string {
  const code = (e as NodeJS.ErrnoException).code;
  if (code === 'ENOENT') return 'it does not exist';
  if (code === 'EACCES' || code === 'EPERM') return 'permission denied (the agent runs as root; check the file mode)';
  if (code === 'EISDIR') return 'it is a directory';
  return (e as Error).message;
}

/** Loads one resource file; the format follows the extension (.yaml, .yml, .res). */
export async function loadResourceFile(path: string, opts: LoadOptions = {}): Promise<ParseResult> {
  return strip(await loadLocated(path, opts));
}

/** The files of a DRBD tree in a config dir: drbd.conf, or global_common.conf; .res files it leaves out join it. */
export const DRBD_CONF = 'drbd.conf';
export const GLOBAL_COMMON = 'global_common.conf';

type Loaded = { resources: ResourceConfig[]; errors: ConfigError[] };
type Good = Extract<Located, { config: ResourceConfig }>;

/**
 * A drbd.conf tree (roots and what they include) as drbdadm reads it: every resource of it, with
 * common's options applied; errors masked against every secret of the tree's files.
 */
async function loadTree(roots: readonly string[], opts: LoadOptions): Promise<{ located: Located[]; errors: ConfigError[] }> {
  const read = (p: string) =>
    readBounded(p).catch((e: unknown) => {
      throw new Error(describeFsError(e));
    });
  const tree = await readTree(roots, nodeTreeFs(read));
  let out: { located: Located[]; errors: ConfigError[] };
  try {
    const r = loadResStatements(roots[0] ?? '.', tree.statements, opts);
    out = { located: r.resources, errors: [...tree.errors, ...r.errors] };
  } catch (e) {
    // A bug of ours must not stop the YAML resources from loading.
    out = { located: [], errors: [...tree.errors, { file: roots[0] ?? '.', line: 1, col: 1, message: `internal error while loading this DRBD configuration (please report it): ${(e as Error).message}` }] };
  }
  const known = [...tree.texts.values()].flatMap(textSecrets);
  const mask = (e: ConfigError): ConfigError => ({ ...e, message: maskKnown(e.message, known) });
  const modeOf = (f: string) => stat(f).then((st) => st.mode & 0o7777, () => undefined);
  // The files that hold each secret: a resource's shared secret may be written in common's file.
  const secretFiles = new Map<string, Set<string>>();
  for (const [f, text] of tree.texts) for (const sec of textSecrets(text)) secretFiles.set(sec, (secretFiles.get(sec) ?? new Set()).add(f));
  for (const l of out.located) {
    if ('errors' in l) {
      l.errors = l.errors.map(mask);
      continue;
    }
    // The files the secret is written in (its own file when the value is not found in any):
    // the most exposed is named, so that a readable global_common.conf is not missed.
    const file = l.config.source.file;
    const holders: Array<{ file: string; mode: number }> = [];
    for (const f of secretFiles.get(l.config.net.sharedSecret) ?? [file]) {
      const m = await modeOf(f);
      if (m !== undefined) holders.push({ file: f, mode: m });
    }
    const held = secretHolder(file, holders);
    if (held) l.config.source.mode = held.mode;
    if (held && held.file !== file) l.config.source.secretFile = held.file;
  }
  // An empty tree (global_common.conf alone) is no error: the YAML files may hold the resources.
  const errors = out.errors.filter((e) => !/^no resource found/.test(e.message)).map(mask);
  return { located: out.located, errors };
}

/** Two definitions of one resource are both refused: serving either could be serving the wrong disk. */
function dedupe(loaded: readonly Located[], errors: ConfigError[]): Loaded {
  const byName = new Map<string, Good[]>();
  for (const r of loaded) {
    if ('errors' in r) errors.push(...r.errors);
    else byName.set(r.config.resource, [...(byName.get(r.config.resource) ?? []), r]);
  }
  const resources: ResourceConfig[] = [];
  for (const [name, defs] of byName) {
    if (defs.length === 1) {
      resources.push(defs[0]!.config);
      continue;
    }
    for (const d of defs) {
      const others = defs.filter((o) => o !== d).map((o) => `${o.at.file ?? o.config.source.file}:${o.at.line}:${o.at.col}`);
      errors.push({
        file: d.at.file ?? d.config.source.file,
        line: d.at.line,
        col: d.at.col,
        resource: name,
        message: `resource ${name} is also defined in ${others.join(', ')}; keep one file per resource (neither is loaded until then)`,
      });
    }
  }
  resources.sort((a, b) => (a.resource < b.resource ? -1 : a.resource > b.resource ? 1 : 0));
  return { resources, errors };
}

/**
 * Loads every resource in dir (sorted by name; other files and dotfiles are ignored): each
 * YAML file, and the DRBD files as one drbd.conf tree — DIR/drbd.conf and what it includes, or
 * DIR/global_common.conf, plus every DIR/*.res the tree does not include (so /etc/drbd-tui,
 * /etc/drbd.d and /etc all work). A bad file is reported and the others still load.
 */
export async function loadConfigDir(dir: string, opts: LoadOptions = {}): Promise<Loaded> {
  let names: string[];
  try {
    names = (await readdir(dir, { withFileTypes: true }))
      .filter((e) => (e.isFile() || e.isSymbolicLink()) && !e.name.startsWith('.'))
      .map((e) => e.name)
      .sort();
  } catch (e) {
    return { resources: [], errors: [{ file: dir, line: 1, col: 1, message: `cannot read the config directory: ${describeFsError(e)}` }] };
  }
  const yaml = names.filter((n) => ['.yaml', '.yml'].includes(extname(n).toLowerCase()));
  const res = names.filter((n) => extname(n).toLowerCase() === '.res');
  const roots = [...(names.includes(DRBD_CONF) ? [DRBD_CONF] : names.includes(GLOBAL_COMMON) ? [GLOBAL_COMMON] : []), ...res].map((n) => join(dir, n));
  const loaded = await Promise.all(yaml.map((n) => loadLocated(join(dir, n), opts)));
  const errors: ConfigError[] = [];
  if (roots.length > 0) {
    const t = await loadTree(roots, opts);
    loaded.push(...t.located);
    errors.push(...t.errors);
  }
  return dedupe(loaded, errors);
}

/** Loads one file (--config FILE): a YAML resource file, or a DRBD file with what it includes (/etc/drbd.conf). */
export async function loadConfigFile(path: string, opts: LoadOptions = {}): Promise<Loaded> {
  const ext = extname(path).toLowerCase();
  if (ext === '.yaml' || ext === '.yml') return dedupe([await loadLocated(path, opts)], []);
  const t = await loadTree([path], opts);
  if (t.located.length === 0 && t.errors.length === 0) t.errors.push({ file: path, line: 1, col: 1, message: 'no resource found: expected resource NAME { ... } here or in the files it includes' });
  return dedupe(t.located, t.errors);
}

/** This node's host entry, or an error that says how to fix the mismatch. */
export function localHost(config: ResourceConfig, nodeName: string): { host: HostConfig } | { error: string } {
  const host = config.hosts.find((h) => h.name === nodeName);
  if (host) return { host };
  return { error: notAHostMessage(config.source.file, nodeName, config.hosts.map((h) => h.name)) };
}

/**
 * The errors that keep resource `name` from loading: those of its file (NAME.yaml, NAME.yml,
 * NAME.res, the naming the config dir asks for; a typo anywhere in it may keep the parser from
 * ever reading `resource:`) and those that name it (a second file defining it).
 */
export function errorsForResource(name: string, errors: readonly ConfigError[]): ConfigError[] {
  return errors.filter((e) => (e.resource !== undefined ? e.resource === name : basename(e.file, extname(e.file)) === name || e.message.includes(`resource ${name} `)));
}
