// Zabbix 6.0 trigger expressions, the subset contrib/zabbix/drbd-tui.yaml uses, parsed and
// evaluated in a steady state: every item has held one value for as long as a function looks
// back (last, min, max, count over #N, find, nodata; length of a string; = <> < > <= >=, and,
// or, not, + -). That answers "does this trigger fire once the state has lasted", which is what
// a table over fixtures can check; how fast it fires is Zabbix's to decide. A function or
// parameter outside the subset throws.

export interface ItemRef {
  host: string;
  key: string;
}

type Node =
  | { kind: 'num'; value: number }
  | { kind: 'str'; value: string }
  | { kind: 'fn'; name: string; item?: ItemRef; args: Array<Node | string> }
  | { kind: 'op'; op: string; left: Node; right: Node }
  | { kind: 'not'; arg: Node };

const TOKEN = /\s*(\/[^/]+\/[\w.-]+(?:\[[^\]]*\])?|"(?:[^"\\]|\\.)*"|\d+(?:\.\d+)?[smhdwKMGT]?|[A-Za-z_]+(?=\()|\b(?:and|or|not)\b|<>|<=|>=|[=<>()+\-,]|#\d+(?::now-\d+[smhdw])?|\{\$[A-Z0-9._]+\})/y;

function tokenize(expr: string): string[] {
  const out: string[] = [];
  TOKEN.lastIndex = 0;
  while (TOKEN.lastIndex < expr.length) {
    const at = TOKEN.lastIndex;
    const m = TOKEN.exec(expr);
    if (!m) {
      if (/^\s*$/.test(expr.slice(at))) break;
      throw new Error(`trigger expression: cannot read ${JSON.stringify(expr.slice(at, at + 30))} in ${expr}`);
    }
    out.push(m[1]!);
  }
  return out;
}

/** The items an expression reads (`/host/key` in function calls), in order. */
export function itemRefs(expr: string): ItemRef[] {
  return tokenize(expr)
    .filter((t) => t.startsWith('/'))
    .map((t) => {
      const [, host, key] = /^\/([^/]+)\/(.+)$/.exec(t)!;
      return { host: host!, key: key! };
    });
}

export function parseExpression(expr: string): Node {
  const toks = tokenize(expr);
  let i = 0;
  const peek = () => toks[i];
  const take = (want?: string) => {
    const t = toks[i++];
    if (t === undefined || (want !== undefined && t !== want)) throw new Error(`trigger expression: expected ${want ?? 'more'} at token ${i} of ${expr}`);
    return t;
  };
  const binary = (next: () => Node, ops: string[]) => (): Node => {
    let left = next();
    while (ops.includes(peek() ?? '')) {
      const op = take();
      left = { kind: 'op', op, left, right: next() };
    }
    return left;
  };
  const primary = (): Node => {
    const t = take();
    if (t === '(') {
      const e = or();
      take(')');
      return e;
    }
    if (t.startsWith('"')) return { kind: 'str', value: JSON.parse(t) as string };
    if (/^\d/.test(t)) return { kind: 'num', value: Number(t) };
    if (/^[A-Za-z_]+$/.test(t) && peek() === '(') {
      take('(');
      const args: Array<Node | string> = [];
      let item: ItemRef | undefined;
      while (peek() !== ')') {
        const a = peek()!;
        if (a === ',') {
          // An empty parameter, as in find(/h/k,,"regexp","…").
          if (toks[i - 1] === ',' || toks[i - 1] === '(') args.push('');
          take(',');
          continue;
        }
        if (a.startsWith('/')) {
          take();
          item = itemRefs(a)[0];
        } else if (a.startsWith('#') || a.startsWith('{$') || /^\d+[smhdw]$/.test(a)) args.push(take());
        else args.push(or());
      }
      take(')');
      return { kind: 'fn', name: t, item, args };
    }
    throw new Error(`trigger expression: unexpected ${t} in ${expr}`);
  };
  const unary = (): Node => {
    if (peek() !== 'not') return primary();
    take('not');
    return { kind: 'not', arg: unary() };
  };
  const sum = binary(unary, ['+', '-']);
  const cmp = binary(sum, ['=', '<>', '<', '>', '<=', '>=']);
  const and = binary(cmp, ['and']);
  const or = binary(and, ['or']);
  const tree = or();
  if (i !== toks.length) throw new Error(`trigger expression: trailing ${toks.slice(i).join(' ')} in ${expr}`);
  return tree;
}

type Value = number | string;

function num(v: Value): number {
  const n = typeof v === 'number' ? v : Number(v);
  if (v === '' || Number.isNaN(n)) throw new Error(`trigger expression: ${JSON.stringify(v)} is not a number`);
  return n;
}

function matches(value: string, op: string, pattern: string): boolean {
  switch (op) {
    case 'eq':
      return value === pattern;
    case 'ne':
      return value !== pattern;
    case 'like':
      return value.includes(pattern);
    case 'regexp':
      return new RegExp(pattern).test(value);
    default:
      throw new Error(`trigger expression: operator ${op} is outside the supported subset`);
  }
}

/**
 * Whether the expression is true with each item steadily at `value(key)` (undefined: the item
 * has no data, which only nodata() may look at).
 */
export function evaluate(expr: string, value: (item: ItemRef) => string | undefined): boolean {
  const ev = (n: Node): Value => {
    switch (n.kind) {
      case 'num':
      case 'str':
        return n.value;
      case 'not':
        return num(ev(n.arg)) === 0 ? 1 : 0;
      case 'op': {
        const l = ev(n.left);
        const r = ev(n.right);
        switch (n.op) {
          case 'and':
            return num(l) !== 0 && num(r) !== 0 ? 1 : 0;
          case 'or':
            return num(l) !== 0 || num(r) !== 0 ? 1 : 0;
          case '+':
            return num(l) + num(r);
          case '-':
            return num(l) - num(r);
          case '=':
          case '<>': {
            const numeric = typeof l === 'number' || typeof r === 'number';
            const eq = numeric ? num(l) === num(r) : l === r;
            return eq === (n.op === '=') ? 1 : 0;
          }
          default: {
            const [a, b] = [num(l), num(r)];
            return (n.op === '<' ? a < b : n.op === '>' ? a > b : n.op === '<=' ? a <= b : a >= b) ? 1 : 0;
          }
        }
      }
      case 'fn': {
        if (n.name === 'length') return String(ev(n.args[0] as Node)).length;
        if (!n.item) throw new Error(`trigger expression: ${n.name}() without an item`);
        const v = value(n.item);
        if (n.name === 'nodata') return v === undefined ? 1 : 0;
        if (v === undefined) throw new Error(`trigger expression: ${n.item.key} has no value`);
        const [period, op, pattern] = n.args.map((a) => (typeof a === 'string' ? a : String(ev(a))));
        switch (n.name) {
          case 'last':
          case 'min':
          case 'max':
            return /^-?\d+(\.\d+)?$/.test(v) ? Number(v) : v;
          case 'count': {
            const m = /^#(\d+)$/.exec(period ?? '');
            if (!m) throw new Error(`trigger expression: count() over ${period}: only #N is supported`);
            return matches(v, op!, pattern!) ? Number(m[1]) : 0;
          }
          case 'find':
            if (period !== '') throw new Error('trigger expression: find() over a period is outside the supported subset');
            return matches(v, op!, pattern!) ? 1 : 0;
          default:
            throw new Error(`trigger expression: function ${n.name}() is outside the supported subset`);
        }
      }
    }
  };
  return num(ev(parseExpression(expr))) !== 0;
}
