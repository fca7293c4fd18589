// Line diffs of resource files, as `diff -u` shows them: what the console will write against
// what a host has. Myers' O((N+M)D) algorithm; resource files are small, and a pair too far
// apart to be worth the search is shown as a whole replacement.

export type DiffKind = ' ' | '-' | '+';
export interface DiffOp {
  kind: DiffKind;
  text: string;
}
/** A line of a unified diff; '@' lines head a hunk (`@@ -3,4 +3,5 @@`). */
export interface DiffLine {
  kind: DiffKind | '@';
  text: string;
}

/** A file's lines; the newline that ends the last line makes no empty line of its own. */
export function splitLines(text: string): string[] {
  if (text === '') return [];
  const lines = text.split('\n');
  if (lines.at(-1) === '') lines.pop();
  return lines;
}

/** Beyond this many differing lines the search stops and the diff is the whole replacement. */
const MAX_EDITS = 2000;

/** The shortest edit script from a to b, as kept / removed / added lines in order. */
export function lineDiff(a: readonly string[], b: readonly string[]): DiffOp[] {
  const n = a.length;
  const m = b.length;
  const max = Math.min(n + m, MAX_EDITS);
  const offset = max + 1;
  let v = new Int32Array(2 * max + 3);
  const trace: Int32Array[] = [];
  let found = -1;
  for (let d = 0; d <= max && found < 0; d++) {
    trace.push(v.slice());
    const next = v.slice();
    for (let k = -d; k <= d; k += 2) {
      let x = k === -d || (k !== d && v[offset + k - 1]! < v[offset + k + 1]!) ? v[offset + k + 1]! : v[offset + k - 1]! + 1;
      let y = x - k;
      while (x < n && y < m && a[x] === b[y]) {
        x++;
        y++;
      }
      next[offset + k] = x;
      if (x >= n && y >= m) {
        found = d;
        break;
      }
    }
    v = next;
  }
  if (found < 0) return [...a.map((text) => ({ kind: '-' as const, text })), ...b.map((text) => ({ kind: '+' as const, text }))];
  const ops: DiffOp[] = [];
  let x = n;
  let y = m;
  for (let d = found; d > 0; d--) {
    const pv = trace[d]!;
    const k = x - y;
    const down = k === -d || (k !== d && pv[offset + k - 1]! < pv[offset + k + 1]!);
    const pk = down ? k + 1 : k - 1;
    const px = pv[offset + pk]!;
    const py = px - pk;
    // The snake after the edit: lines both keep.
    while (x > px + (down ? 0 : 1) && y > py + (down ? 1 : 0)) {
      ops.push({ kind: ' ', text: a[--x]! });
      y--;
    }
    if (down) ops.push({ kind: '+', text: b[--y]! });
    else ops.push({ kind: '-', text: a[--x]! });
  }
  while (x > 0 && y > 0) {
    ops.push({ kind: ' ', text: a[--x]! });
    y--;
  }
  return ops.reverse();
}

/**
 * The unified diff of two texts with `context` unchanged lines around each change; empty when
 * they are equal. An absent old text is a new file (every line added).
 */
export function unifiedDiff(oldText: string | undefined, newText: string, context = 3): DiffLine[] {
  const a = splitLines(oldText ?? '');
  const b = splitLines(newText);
  const ops = lineDiff(a, b);
  const changed = ops.map((o) => o.kind !== ' ');
  if (!changed.includes(true)) return [];
  // Each op's position in a and b, for the hunk headers.
  const pos: Array<[number, number]> = [];
  let ai = 0;
  let bi = 0;
  for (const o of ops) {
    pos.push([ai, bi]);
    if (o.kind !== '+') ai++;
    if (o.kind !== '-') bi++;
  }
  const keep = ops.map((_, i) => {
    for (let j = Math.max(0, i - context); j <= Math.min(ops.length - 1, i + context); j++) if (changed[j]) return true;
    return false;
  });
  const out: DiffLine[] = [];
  for (let i = 0; i < ops.length; ) {
    if (!keep[i]) {
      i++;
      continue;
    }
    let end = i;
    while (end < ops.length && keep[end]) end++;
    const hunk = ops.slice(i, end);
    const olds = hunk.filter((o) => o.kind !== '+').length;
    const news = hunk.filter((o) => o.kind !== '-').length;
    const [a0, b0] = pos[i]!;
    out.push({ kind: '@', text: `@@ -${olds === 0 ? a0 : a0 + 1},${olds} +${news === 0 ? b0 : b0 + 1},${news} @@` });
    out.push(...hunk);
    i = end;
  }
  return out;
}
