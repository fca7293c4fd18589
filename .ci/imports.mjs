// The house's import rules, checked on every lint: what the design forbids (../shared/DESIGN.md,
// the README's Code map) must not creep back once a move has removed it.
//   - no import circles, type-only imports included (a type circle still ties two modules together);
//   - agent/engine and agent/iscsi do not import each other (shared pieces live in agent/block, agent/lib);
//   - agent/block and agent/lib sit below both: block imports only block and lib, lib only lib;
//   - src/ imports from agent/ only agent/protocol/ (the console's one window into the agent);
//   - agent/ never imports src/ (the agent bundle is uploaded alone).
// Violations that exist today are listed in .ci/imports-known.txt: a new one fails, and so does a
// listed one that is gone (delete its line), so the list only shrinks.
import { readFileSync, readdirSync, statSync, existsSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const knownFile = join(root, '.ci', 'imports-known.txt');

function sources(dir) {
  const out = [];
  for (const name of readdirSync(join(root, dir))) {
    const rel = join(dir, name);
    if (statSync(join(root, rel)).isDirectory()) out.push(...sources(rel));
    else if (/\.tsx?$/.test(name) && !name.endsWith('.d.ts')) out.push(rel);
  }
  return out;
}

const SPEC = /(?:^|[\s;])(?:import|export)\s[^'"`;]*?from\s*['"]([^'"]+)['"]|(?:^|[\s;(])import\s*\(\s*['"]([^'"]+)['"]\s*\)|^\s*import\s*['"]([^'"]+)['"]/gm;

function importsOf(file) {
  const text = readFileSync(join(root, file), 'utf8').replace(/\/\*[\s\S]*?\*\//g, '').replace(/^\s*\/\/.*$/gm, '');
  const out = new Set();
  for (const m of text.matchAll(SPEC)) {
    const spec = m[1] ?? m[2] ?? m[3];
    if (!spec || !spec.startsWith('.')) continue;
    const base = join(dirname(file), spec);
    const candidates = [base, base.replace(/\.js$/, '.ts'), base.replace(/\.js$/, '.tsx'), `${base}.ts`, `${base}.tsx`, join(base, 'index.ts')];
    const hit = candidates.find((c) => /\.tsx?$/.test(c) && existsSync(join(root, c)));
    if (hit) out.add(hit);
  }
  return [...out];
}

const files = [...sources('agent'), ...sources('src')];
const graph = new Map(files.map((f) => [f, importsOf(f)]));

const violations = [];
const under = (f, dir) => f === `${dir}.ts` || f.startsWith(`${dir}/`);
for (const [from, tos] of graph) {
  for (const to of tos) {
    if (under(from, 'agent/engine') && under(to, 'agent/iscsi')) violations.push(`engine-iscsi: ${from} -> ${to}`);
    if (under(from, 'agent/iscsi') && under(to, 'agent/engine')) violations.push(`iscsi-engine: ${from} -> ${to}`);
    if (under(from, 'agent/block') && under(to, 'agent') && !under(to, 'agent/block') && !under(to, 'agent/lib')) violations.push(`block-up: ${from} -> ${to}`);
    if (under(from, 'agent/lib') && under(to, 'agent') && !under(to, 'agent/lib')) violations.push(`lib-up: ${from} -> ${to}`);
    if (under(from, 'src') && under(to, 'agent') && !under(to, 'agent/protocol')) violations.push(`console-agent: ${from} -> ${to}`);
    if (under(from, 'agent') && under(to, 'src')) violations.push(`agent-console: ${from} -> ${to}`);
  }
}

// Tarjan's strongly connected components: each component of more than one file is a circle.
let index = 0;
const idx = new Map();
const low = new Map();
const stack = [];
const onStack = new Set();
const circles = [];
function connect(v) {
  idx.set(v, index);
  low.set(v, index);
  index++;
  stack.push(v);
  onStack.add(v);
  for (const w of graph.get(v) ?? []) {
    if (!idx.has(w)) {
      connect(w);
      low.set(v, Math.min(low.get(v), low.get(w)));
    } else if (onStack.has(w)) low.set(v, Math.min(low.get(v), idx.get(w)));
  }
  if (low.get(v) === idx.get(v)) {
    const comp = [];
    let w;
    do {
      w = stack.pop();
      onStack.delete(w);
      comp.push(w);
    } while (w !== v);
    if (comp.length > 1) circles.push(comp.sort());
  }
}
for (const f of files) if (!idx.has(f)) connect(f);
for (const c of circles) violations.push(`circle: ${c.join(' <-> ')}`);

const known = existsSync(knownFile)
  ? readFileSync(knownFile, 'utf8').split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('#'))
  : [];
const found = new Set(violations);
const added = violations.filter((v) => !known.includes(v)).sort();
const gone = known.filter((k) => !found.has(k));

if (process.argv.includes('--write-known')) {
  const head = '# Import-rule violations that exist today (.ci/imports.mjs). Only ever delete lines.\n';
  await import('node:fs').then((fs) => fs.writeFileSync(knownFile, head + violations.sort().join('\n') + '\n'));
  console.log(`imports: ${violations.length} known violation(s) written to ${relative(root, knownFile)}`);
  process.exit(0);
}
for (const v of added) console.error(`imports: forbidden: ${v}`);
for (const g of gone) console.error(`imports: fixed, delete this line from .ci/imports-known.txt: ${g}`);
if (added.length > 0 || gone.length > 0) {
  if (added.length > 0) console.error('imports: shared pieces go to agent/block or agent/lib; the console imports agent/protocol only; break circles by moving the shared type down');
  process.exit(1);
}
console.log(`imports: ${files.length} files, rules hold (${known.length} known violation(s) left)`);
