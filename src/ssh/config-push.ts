// Resource files through both agents' control channels: putting one file on both hosts
// (`--config FILE`, the console's C key) and reading both files when their config hashes
// differ, to name the differing settings. The decisions are pure (src/cluster/config-push.ts,
// config-drift.ts); this is the order of requests and what each failure means.
import { AgentError, type AdjustResult, type ConfigGetResult, type ConfigPutResult } from '../../agent/protocol/messages.js';
import { driftFields, driftToCheck } from '../cluster/config-drift.js';
import { nothingToWrite, pushPlan, type PushPlan } from '../cluster/config-push.js';
import type { DriftInfo, HostIndex } from '../cluster/model.js';
import { generateSharedSecret, lacksSharedSecret, withSharedSecret } from '../cluster/shared-secret.js';
import type { ClusterSession } from './cluster-session.js';
import { configSecrets, describeFsError, formatConfigError, formatOfFile, parseResourceRes, parseResourceYaml, readBounded, type ResourceConfig, type ResourceFormat } from '../../agent/protocol/config.js';

export interface PushSource {
  text: string;
  format: ResourceFormat;
  /** Where the text came from, for file:line:col errors: a local path or HOST:PATH. */
  label: string;
}

export interface PushOutcome {
  ok: boolean;
  message: string;
  /** The operator said no: nothing to report beyond that. */
  cancelled?: boolean;
}

/** What the operator is asked, through whatever UI runs the push. */
export interface PushHooks {
  /** The file has no shared-secret: generate one (the same on both hosts)? */
  offerSecret(label: string): Promise<boolean>;
  confirm(plan: PushPlan): Promise<boolean>;
}

const both = [0, 1] as const;
const errText = (e: unknown) => (e instanceof AgentError || e instanceof Error ? e.message : String(e));

function parse(label: string, text: string, format: ResourceFormat) {
  return (format === 'yaml' ? parseResourceYaml : parseResourceRes)(label, text);
}

function parsedOrUndefined(file: string, text: string | undefined): ResourceConfig | undefined {
  const format = formatOfFile(file);
  if (text === undefined || !format) return undefined;
  const r = parse(file, text, format);
  return 'config' in r ? r.config : undefined;
}

/** A local resource file for `--config`: its text and format, or a message naming the problem. */
export async function readLocalResourceFile(path: string): Promise<PushSource | { error: string }> {
  const format = formatOfFile(path);
  if (!format) return { error: `${path}: name a resource file NAME.yaml (or .yml) for YAML, or NAME.res for a DRBD resource file` };
  // The agent's own bounded read: a FIFO or a device given by mistake is refused, not waited on.
  try {
    return { text: await readBounded(path), format, label: path };
  } catch (e) {
    return { error: `${path}: cannot read it: ${describeFsError(e)}` };
  }
}

/**
 * Puts `src` on both hosts: validate here, offer a shared secret when there is none, read what
 * each host has, have each agent check the text (its loader, its node name), show the plan,
 * and on the operator's yes write where it changes something and `adjust` there.
 */
export async function pushResourceFile(session: ClusterSession, src: PushSource, hooks: PushHooks): Promise<PushOutcome> {
  const names = [session.model.hosts[0].name, session.model.hosts[1].name] as const;
  let text = src.text;
  let generated = false;
  if (lacksSharedSecret(text, src.format)) {
    if (!(await hooks.offerSecret(src.label))) return { ok: false, message: `${src.label}: no shared-secret, nothing written: add net.shared-secret (the same on both hosts), or let the console generate one` };
    text = withSharedSecret(text, src.format, generateSharedSecret());
    generated = true;
  }
  const parsed = parse(src.label, text, src.format);
  if ('errors' in parsed) return { ok: false, message: `nothing written: ${parsed.errors.map(formatConfigError).join('; ')}` };
  const resource = parsed.config.resource;
  const ask = async <T>(i: HostIndex, method: 'config-get' | 'config-put' | 'adjust', params: object): Promise<T> => {
    try {
      return await session.request<T>(i, method, params);
    } catch (e) {
      throw new Error(`${names[i]}: ${errText(e)}`, { cause: e });
    }
  };
  let now: [ConfigGetResult, ConfigGetResult];
  let files: [string, string];
  try {
    now = (await Promise.all(both.map((i) => ask<ConfigGetResult>(i, 'config-get', { resource })))) as [ConfigGetResult, ConfigGetResult];
    const checks = await Promise.all(both.map((i) => ask<ConfigPutResult>(i, 'config-put', { resource, text, format: src.format, expect: now[i].sha256, check: true })));
    files = [checks[0]!.file, checks[1]!.file];
  } catch (e) {
    return { ok: false, message: `nothing written: ${errText(e)}` };
  }
  const secrets = [...configSecrets(parsed.config), ...both.flatMap((i) => configSecrets(parsedOrUndefined(now[i].file, now[i].text)))];
  const plan = pushPlan({ resource, format: src.format, text, names, now, files, secrets });
  if (nothingToWrite(plan)) return { ok: true, message: `${resource}: both hosts already have this file (${files[0]}, ${files[1]})` };
  if (!(await hooks.confirm(plan))) return { ok: false, cancelled: true, message: `${resource}: cancelled, nothing written` };

  const written: string[] = [];
  for (const t of plan.targets) {
    if (t.change === 'same') continue;
    try {
      await ask<ConfigPutResult>(t.host, 'config-put', { resource, text, format: src.format, expect: now[t.host].sha256 });
      written.push(t.name);
    } catch (e) {
      const partial = written.length > 0 ? `written on ${written.join(', ')}, ` : '';
      return { ok: false, message: `${resource}: ${partial}NOT written on ${t.name}: ${errText(e)}${partial ? '; the hosts now differ: fix it and put the file again' : ''}` };
    }
  }
  const states: string[] = [];
  let pending = false;
  for (const t of plan.targets) {
    if (t.change === 'same') continue;
    try {
      const r = await ask<AdjustResult>(t.host, 'adjust', { resource });
      pending ||= r.pending === true;
      states.push(`${t.name} ${adjustText(r)}`);
    } catch (e) {
      states.push(`adjust failed: ${errText(e)}`);
    }
  }
  const where = files[0] === files[1] ? `${files[0]} on ${written.join(' and ')}` : plan.targets.filter((t) => t.change !== 'same').map((t) => `${t.file} on ${t.name}`).join(', ');
  return { ok: true, message: `${resource}: ${where} written (mode 0600)${generated ? ' with a generated shared secret' : ''}; ${states.join('; ')}${generated && pending ? `. ${SECRET_PICKUP}` : ''}` };
}

/** How a running resource takes up a secret written into its file (the builtin engine changes a running link only at down/up). */
export const SECRET_PICKUP =
  'The link stays unauthenticated until each host takes the resource down and up (D, then u; the Secondary first): in between the two do not connect (the problems name it); a Primary stops serving while it is down, so switch over first (r) where initiators must not notice. Once both run the secret they connect and resync what changed';

export function adjustText(r: AdjustResult): string {
  if (r.state === 'down') return `configured, not up: ${r.reason ?? 'unknown reason'}`;
  if (r.pending) return 'up with its old settings until its next down/up';
  return r.broughtUp ? 'brought up' : 'up';
}

/** The console's C key: the file `from` has for `resource`, put on both hosts. */
export async function copyResourceFile(session: ClusterSession, from: HostIndex, resource: string, hooks: PushHooks): Promise<PushOutcome> {
  const name = session.model.hosts[from].name;
  let got: ConfigGetResult;
  try {
    got = await session.request<ConfigGetResult>(from, 'config-get', { resource });
  } catch (e) {
    return { ok: false, message: `${name}: ${errText(e)}` };
  }
  const format = formatOfFile(got.file);
  if (got.text === undefined || !format) return { ok: false, message: `${name} has no resource file for ${resource}: select the host that has the right one (Tab), then C` };
  return pushResourceFile(session, { text: got.text, format, label: `${name}:${got.file}` }, hooks);
}

/**
 * Keeps the model's drift information current: when the two hosts report different config
 * hashes for a resource, reads both files once (per pair of hashes) and names the differing
 * settings. A read-only console cannot read them (they hold the secret): the problem then
 * says only that the hashes differ.
 */
export function watchDrift(session: ClusterSession): () => void {
  const inFlight = new Set<string>();
  const check = async (resource: string, hashes: [string, string]) => {
    const key = `${resource}:${hashes.join(':')}`;
    if (inFlight.has(key)) return;
    inFlight.add(key);
    try {
      const got = await Promise.all(both.map((i) => session.request<ConfigGetResult>(i, 'config-get', { resource }).catch((e: unknown) => new Error(errText(e)))));
      const files = got.map((g) => (g instanceof Error ? '?' : g.file)) as [string, string];
      const configs = got.map((g) => (g instanceof Error ? undefined : parsedOrUndefined(g.file, g.text)));
      const names = [session.model.hosts[0].name, session.model.hosts[1].name];
      const bad = both.filter((i) => !configs[i]);
      const info: DriftInfo =
        bad.length === 0
          ? { hashes, files, fields: driftFields(configs[0]!, configs[1]!) }
          : {
              hashes,
              files,
              unknown: bad.map((i) => (got[i] instanceof Error ? `${names[i]}'s file cannot be read (${(got[i] as Error).message})` : `${names[i]}'s file does not load here (see its config error)`)).join('; '),
            };
      session.setDrift(resource, info);
    } finally {
      inFlight.delete(key);
    }
  };
  const onChange = () => {
    if (session.model.readOnly) return;
    for (const d of driftToCheck(session.model)) void check(d.resource, d.hashes);
  };
  session.on('change', onChange);
  onChange();
  return () => session.off('change', onChange);
}
