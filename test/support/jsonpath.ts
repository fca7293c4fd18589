// The subset of Zabbix's JSONPath that contrib/zabbix/drbd-tui.yaml uses, evaluated as Zabbix's
// preprocessing does: `$`, `.name`, `[N]`, filters `[?(@.a.b=="x" && @.c==0)]` (== and !=,
// string, number and boolean literals), and a trailing `.first()` or `.length()`. A path
// outside the subset throws, so the template cannot quietly use what this cannot check.

export class JsonPathNoMatch extends Error {}

type Segment = { kind: 'name'; name: string } | { kind: 'index'; index: number } | { kind: 'filter'; conds: Condition[] };
interface Condition {
  path: string[];
  op: '==' | '!=';
  value: string | number | boolean;
}

const NAME = /^\.([A-Za-z_][\w-]*)/;
const INDEX = /^\[(\d+)\]/;
const FILTER = /^\[\?\((.*?)\)\]/;
const COND = /^\s*@((?:\.[A-Za-z_]\w*)+)\s*(==|!=)\s*("[^"]*"|'[^']*'|-?\d+(?:\.\d+)?|true|false)\s*$/;

function literal(s: string): string | number | boolean {
  if (s === 'true' || s === 'false') return s === 'true';
  if (s.startsWith('"') || s.startsWith("'")) return s.slice(1, -1);
  return Number(s);
}

function parse(path: string): { segments: Segment[]; fn?: 'first' | 'length' } {
  if (!path.startsWith('$')) throw new Error(`JSONPath ${path}: must start with $`);
  let rest = path.slice(1);
  let fn: 'first' | 'length' | undefined;
  const f = /\.(first|length)\(\)$/.exec(rest);
  if (f) {
    fn = f[1] as 'first' | 'length';
    rest = rest.slice(0, -f[0].length);
  }
  const segments: Segment[] = [];
  while (rest.length > 0) {
    let m: RegExpExecArray | null;
    if ((m = NAME.exec(rest))) segments.push({ kind: 'name', name: m[1]! });
    else if ((m = INDEX.exec(rest))) segments.push({ kind: 'index', index: Number(m[1]) });
    else if ((m = FILTER.exec(rest))) {
      const conds = m[1]!.split('&&').map((c) => {
        const cm = COND.exec(c);
        if (!cm) throw new Error(`JSONPath ${path}: filter condition ${c.trim()} is outside the supported subset`);
        return { path: cm[1]!.slice(1).split('.'), op: cm[2] as '==' | '!=', value: literal(cm[3]!) };
      });
      segments.push({ kind: 'filter', conds });
    } else throw new Error(`JSONPath ${path}: cannot read ${rest}`);
    rest = rest.slice(m[0].length);
  }
  return { segments, fn };
}

function get(v: unknown, path: string[]): unknown {
  return path.reduce<unknown>((o, k) => (o !== null && typeof o === 'object' ? (o as Record<string, unknown>)[k] : undefined), v);
}

/** Zabbix's text for a result: strings bare, everything else as JSON. */
function text(v: unknown): string {
  return typeof v === 'string' ? v : JSON.stringify(v);
}

/**
 * The text Zabbix's JSONPATH step yields for `path` on `json`; throws JsonPathNoMatch where
 * Zabbix fails the step ("no data matches the specified path"): a definite path that is absent,
 * `.first()` of nothing. An indefinite path (a filter) without a function yields its matches as
 * a JSON array.
 */
export function jsonPath(json: unknown, path: string): string {
  const { segments, fn } = parse(path);
  let nodes: unknown[] = [json];
  let definite = true;
  for (const s of segments) {
    if (s.kind === 'filter') {
      definite = false;
      nodes = nodes.flatMap((n) => (Array.isArray(n) ? n : [])).filter((el) => s.conds.every((c) => (get(el, c.path) === c.value) === (c.op === '==')));
    } else {
      nodes = nodes.map((n) => (s.kind === 'name' ? get(n, [s.name]) : Array.isArray(n) ? n[s.index] : undefined)).filter((n) => n !== undefined);
    }
  }
  if (fn === 'first') {
    if (nodes.length === 0) throw new JsonPathNoMatch(`no data matches ${path}`);
    return text(nodes[0]);
  }
  if (definite) {
    if (nodes.length === 0) throw new JsonPathNoMatch(`no data matches ${path}`);
    const v = nodes[0];
    if (fn === 'length') {
      if (!Array.isArray(v)) throw new JsonPathNoMatch(`${path}: length() of a non-array`);
      return String(v.length);
    }
    return text(v);
  }
  return fn === 'length' ? String(nodes.length) : text(nodes);
}
