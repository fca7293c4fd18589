// The daemon's own settings: `<config-dir>/agent.conf`, YAML, read once at start. Its
// extension is one the resource loader never reads (.yaml, .yml and .res are resources), so
// it cannot be taken for a resource file or a resource for it. Absent means every default.
import { join } from 'node:path';
import { LineCounter, isMap, isScalar, parseDocument } from 'yaml';
import { describeFsError, readBounded } from './config/load.js';
import { didYouMean } from './config/values.js';
import { parseMetricsListen, type MetricsListen } from './metrics/listen-address.js';

export const AGENT_SETTINGS_FILE = 'agent.conf';

export interface AgentSettings {
  /** Serve Prometheus metrics over HTTP here; absent: no endpoint. */
  metrics?: MetricsListen;
}

const KEYS = ['metrics'] as const;

/** The settings, or the problems as `file:line:col: what is wrong and how to write it`. */
export function parseAgentSettings(text: string, file: string): { settings: AgentSettings } | { errors: string[] } {
  const lc = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lc, prettyErrors: false });
  const at = (offset: number | undefined) => {
    const p = lc.linePos(offset ?? 0);
    return `${file}:${p.line}:${p.col}`;
  };
  if (doc.errors.length > 0) return { errors: doc.errors.map((e) => `${at(e.pos[0])}: not YAML: ${e.message.split('\n')[0]}`) };
  if (doc.contents === null || (isScalar(doc.contents) && doc.contents.value === null)) return { settings: {} };
  if (!isMap(doc.contents)) return { errors: [`${at(doc.contents.range?.[0])}: expected settings as key: value lines, e.g. metrics: 127.0.0.1:9942`] };
  const settings: AgentSettings = {};
  const errors: string[] = [];
  for (const pair of doc.contents.items) {
    const key = isScalar(pair.key) ? String(pair.key.value) : '';
    const keyAt = at(isScalar(pair.key) ? pair.key.range?.[0] : undefined);
    if (key !== 'metrics') {
      const hint = didYouMean(key, KEYS);
      errors.push(`${keyAt}: unknown setting ${JSON.stringify(key)}${hint ? `; did you mean "${hint}"?` : ''} (settings: ${KEYS.join(', ')})`);
      continue;
    }
    const value = isScalar(pair.value) ? pair.value.value : pair.value === null ? undefined : pair.value.toJSON();
    const parsed = parseMetricsListen(value);
    if (!parsed.ok) errors.push(`${isScalar(pair.value) ? at(pair.value.range?.[0]) : keyAt}: metrics ${parsed.message}`);
    else if (parsed.value) settings.metrics = parsed.value;
  }
  return errors.length > 0 ? { errors } : { settings };
}

/** Reads `<configDir>/agent.conf`; a missing file is every default. */
export async function readAgentSettings(configDir: string): Promise<{ settings: AgentSettings } | { errors: string[] }> {
  const file = join(configDir, AGENT_SETTINGS_FILE);
  let text: string;
  try {
    text = await readBounded(file);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return { settings: {} };
    return { errors: [`${file}: cannot read: ${describeFsError(e)}`] };
  }
  return parseAgentSettings(text, file);
}
