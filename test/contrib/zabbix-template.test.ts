// The shipped Zabbix template (contrib/zabbix/drbd-tui.yaml) without a Zabbix server: its
// structure as Zabbix 6.0 imports it, every preprocessing step run on the status JSON of every
// model scenario (fixtures/status/, kept equal to what the code prints), the discovery as
// Zabbix does it, and which triggers fire once each scenario's state has lasted.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { jsonPath, JsonPathNoMatch } from '../support/jsonpath.js';
import { evaluate, itemRefs } from '../support/zabbix-expression.js';

const TEMPLATE_FILE = 'contrib/zabbix/drbd-tui.yaml';
const USERPARAMETER_FILE = 'contrib/zabbix/userparameter_drbd-tui.conf';
const FIXTURE_DIR = 'fixtures/status';

interface Step {
  type: string;
  parameters?: string[];
  error_handler?: string;
  error_handler_params?: string;
}
interface Trigger {
  uuid: string;
  expression: string;
  name: string;
  priority: string;
  dependencies?: Array<{ name: string; expression: string }>;
}
interface Item {
  uuid: string;
  name: string;
  type?: string;
  key: string;
  master_item?: { key: string };
  preprocessing?: Step[];
  valuemap?: { name: string };
  triggers?: Trigger[];
  trigger_prototypes?: Trigger[];
}
interface Rule extends Item {
  lld_macro_paths: Array<{ lld_macro: string; path: string }>;
  item_prototypes: Item[];
}
interface Template {
  uuid: string;
  template: string;
  name: string;
  groups: Array<{ name: string }>;
  items: Item[];
  discovery_rules: Rule[];
  macros: Array<{ macro: string; value: string }>;
  valuemaps: Array<{ uuid: string; name: string }>;
}
interface Export {
  zabbix_export: { version: string; groups: Array<{ uuid: string; name: string }>; templates: Template[] };
}

const doc = parseYaml(readFileSync(TEMPLATE_FILE, 'utf8')) as Export;
const [tpl] = doc.zabbix_export.templates as [Template];
const [rule] = tpl.discovery_rules as [Rule];
const userMacros = Object.fromEntries(tpl.macros.map((m) => [m.macro, m.value]));

function uuidsIn(v: unknown): string[] {
  if (Array.isArray(v)) return v.flatMap(uuidsIn);
  if (v === null || typeof v !== 'object') return [];
  return Object.entries(v).flatMap(([k, x]) => (k === 'uuid' ? [String(x)] : uuidsIn(x)));
}

/** {#LLD} and {$USER} macros replaced; user macros by the template's defaults. */
function resolve(s: string, lld: Record<string, string> = {}): string {
  return s.replace(/\{#[A-Z0-9_.]+\}/g, (m) => lld[m] ?? m).replace(/\{\$[A-Z0-9_.]+\}/g, (m) => userMacros[m] ?? m);
}

/** The steps as Zabbix runs them; a step that fails with a CUSTOM_VALUE handler yields that value. */
function preprocess(steps: readonly Step[], input: string, lld: Record<string, string>, onStep: (i: number, real: boolean) => void = () => {}): string {
  let v = input;
  for (const [i, s] of steps.entries()) {
    const p = resolve(s.parameters?.[0] ?? '', lld);
    try {
      switch (s.type) {
        case 'JSONPATH':
          v = jsonPath(JSON.parse(v), p);
          break;
        case 'BOOL_TO_DECIMAL':
          if (!/^(true|false)$/.test(v)) throw new Error(`BOOL_TO_DECIMAL: ${v} is not a boolean`);
          v = v === 'true' ? '1' : '0';
          break;
        case 'MULTIPLIER':
          v = String(Number(v) * Number(p));
          break;
        default:
          throw new Error(`preprocessing ${s.type} is not simulated here: add it to this test`);
      }
      onStep(i, true);
    } catch (e) {
      if (!(e instanceof JsonPathNoMatch) || s.error_handler !== 'CUSTOM_VALUE') throw e;
      v = s.error_handler_params ?? '';
      onStep(i, false);
    }
  }
  return v;
}

const fixtures = readdirSync(FIXTURE_DIR)
  .filter((f) => f.endsWith('.json'))
  .sort()
  .map((f) => ({ scenario: f.replace(/\.json$/, ''), text: readFileSync(`${FIXTURE_DIR}/${f}`, 'utf8') }));

/** Discovery: the rule's steps on the master value, then the macros of each row. */
function discover(master: string): Array<Record<string, string>> {
  const rows = JSON.parse(preprocess(rule.preprocessing ?? [], master, {})) as unknown[];
  assert.ok(Array.isArray(rows), 'discovery yields a JSON array');
  return rows.map((row) => Object.fromEntries(rule.lld_macro_paths.map((m) => [m.lld_macro, jsonPath(row, m.path)])));
}

/** Every item's value (by resolved key) and every trigger (resolved) for one status JSON. */
function collect(master: string, onStep?: (item: Item, i: number, real: boolean) => void) {
  const values = new Map<string, string>();
  const triggers: Trigger[] = [];
  for (const it of tpl.items) {
    if (it.type === 'DEPENDENT') values.set(it.key, preprocess(it.preprocessing ?? [], master, {}, (i, r) => onStep?.(it, i, r)));
    triggers.push(...(it.triggers ?? []));
  }
  for (const lld of discover(master)) {
    for (const p of rule.item_prototypes) {
      values.set(resolve(p.key, lld), preprocess(p.preprocessing ?? [], master, lld, (i, r) => onStep?.(p, i, r)));
    }
    const protos = [...rule.item_prototypes.flatMap((p) => p.trigger_prototypes ?? []), ...(rule.trigger_prototypes ?? [])];
    triggers.push(...protos.map((t) => ({ ...t, expression: resolve(t.expression, lld), name: resolve(t.name, lld), dependencies: t.dependencies?.map((d) => ({ name: resolve(d.name, lld), expression: resolve(d.expression, lld) })) })));
  }
  return { values, triggers: triggers.map((t) => ({ ...t, expression: resolve(t.expression), name: resolve(t.name) })) };
}

/** The triggers in PROBLEM once the state has lasted, a dependent one hidden behind the trigger it depends on. */
function firing(master: string): string[] {
  const { values, triggers } = collect(master);
  const fires = new Map(triggers.map((t) => [t.name, evaluate(t.expression, (ref) => values.get(ref.key))]));
  return triggers.filter((t) => fires.get(t.name) && !(t.dependencies ?? []).some((d) => fires.get(resolve(d.name)))).map((t) => t.name).sort();
}

describe('Zabbix template: structure as Zabbix 6.0 imports it', () => {
  test('a 6.0 export: groups at the top and on the template (6.2 renamed them template_groups)', () => {
    assert.equal(doc.zabbix_export.version, '6.0');
    assert.equal('template_groups' in doc.zabbix_export, false);
    const groups = doc.zabbix_export.groups.map((g) => g.name);
    assert.ok(groups.length > 0);
    for (const g of tpl.groups) assert.ok(groups.includes(g.name), `template group ${g.name} is exported`);
    assert.equal(doc.zabbix_export.templates.length, 1);
    assert.equal(tpl.discovery_rules.length, 1);
  });

  test('the same document under YAML 1.1 (yes/no are booleans there): no scalar depends on the YAML version', () => {
    assert.deepEqual(parseYaml(readFileSync(TEMPLATE_FILE, 'utf8'), { version: '1.1' }), doc);
  });

  test('uuids: 32 lowercase hex digits of a version-4 UUID, each used once', () => {
    const uuids = uuidsIn(doc);
    assert.ok(uuids.length > 30, `${uuids.length} uuids`);
    for (const u of uuids) assert.match(u, /^[0-9a-f]{12}4[0-9a-f]{3}[89ab][0-9a-f]{15}$/, u);
    assert.equal(new Set(uuids).size, uuids.length, 'a uuid is used twice');
  });

  test('keys unique; every dependent item, prototype and the discovery rule has its master item in the template', () => {
    const itemKeys = tpl.items.map((i) => i.key);
    const protoKeys = rule.item_prototypes.map((i) => i.key);
    assert.equal(new Set([...itemKeys, ...protoKeys, rule.key]).size, itemKeys.length + protoKeys.length + 1);
    for (const it of [...tpl.items, ...rule.item_prototypes, rule]) {
      if (it.type !== 'DEPENDENT') {
        assert.equal(it.master_item, undefined, it.key);
        continue;
      }
      assert.ok(it.master_item && itemKeys.includes(it.master_item.key), `${it.key}: master ${it.master_item?.key} is not an item of the template`);
    }
    for (const p of rule.item_prototypes) assert.match(p.key, /\{#RESOURCE\},\{#VOLUME\}/, `${p.key} names its resource and volume`);
  });

  test('the master item is the shipped UserParameter, with the hosts as the template\'s macros', () => {
    const masters = tpl.items.filter((i) => i.type === undefined);
    assert.deepEqual(masters.map((m) => m.key), ['drbd-tui.status[{$DRBDTUI.HOST_A},{$DRBDTUI.HOST_B}]']);
    const lines = readFileSync(USERPARAMETER_FILE, 'utf8').split('\n').filter((l) => l.startsWith('UserParameter='));
    assert.equal(lines.length, 1);
    const [key, command] = lines[0]!.slice('UserParameter='.length).split(/,(.*)/s) as [string, string];
    assert.equal(key, 'drbd-tui.status[*]');
    assert.match(command, /^drbd-tui status --json --read-only (--timeout \d+ )?\$1 \$2 2>\/dev\/null$/);
    for (const m of ['{$DRBDTUI.HOST_A}', '{$DRBDTUI.HOST_B}', '{$DRBDTUI.NODATA}']) assert.ok(m in userMacros, `${m} is a template macro`);
  });

  test('every trigger reads items of its own level: a trigger its item, a prototype trigger at least one prototype', () => {
    const itemKeys = new Set(tpl.items.map((i) => i.key));
    const protoKeys = new Set(rule.item_prototypes.map((i) => i.key));
    const check = (t: Trigger, allowed: Set<string>, where: string) => {
      const refs = itemRefs(t.expression);
      assert.ok(refs.length > 0, `${t.name}: reads no item`);
      for (const r of refs) {
        assert.equal(r.host, tpl.template, `${t.name}: /${r.host}/ is not this template`);
        assert.ok(allowed.has(r.key), `${t.name}: ${r.key} is no item ${where}`);
      }
      return new Set(refs.map((r) => r.key));
    };
    for (const it of tpl.items) for (const t of it.triggers ?? []) assert.deepEqual([...check(t, itemKeys, 'of the template')], [it.key], `${t.name} is nested under the one item it reads`);
    const all = new Set([...itemKeys, ...protoKeys]);
    for (const p of rule.item_prototypes) for (const t of p.trigger_prototypes ?? []) assert.deepEqual([...check(t, all, 'of the template or rule')], [p.key], `${t.name} is nested under the one prototype it reads`);
    for (const t of rule.trigger_prototypes ?? []) {
      const keys = check(t, all, 'of the template or rule');
      assert.ok(keys.size > 1, `${t.name} reads one item: a 6.0 export nests it under that item`);
      assert.ok([...keys].some((k) => protoKeys.has(k)), `${t.name}: a trigger prototype must read an item prototype`);
    }
  });

  test('dependencies name existing triggers; valuemaps and user macros are the template\'s own', () => {
    const triggers = [...tpl.items.flatMap((i) => i.triggers ?? []), ...rule.item_prototypes.flatMap((p) => p.trigger_prototypes ?? []), ...(rule.trigger_prototypes ?? [])];
    const known = new Set(triggers.map((t) => `${t.name}\n${t.expression}`));
    assert.equal(known.size, triggers.length, 'two triggers share a name and expression');
    for (const t of triggers) for (const d of t.dependencies ?? []) assert.ok(known.has(`${d.name}\n${d.expression}`), `${t.name} depends on ${d.name}, which is not a trigger of the template`);
    const maps = new Set(tpl.valuemaps.map((v) => v.name));
    for (const it of [...tpl.items, ...rule.item_prototypes]) if (it.valuemap) assert.ok(maps.has(it.valuemap.name), `${it.key}: valuemap ${it.valuemap.name}`);
    const used = readFileSync(TEMPLATE_FILE, 'utf8').match(/\{\$[A-Z0-9_.]+\}/g) ?? [];
    for (const m of new Set(used)) assert.ok(m in userMacros, `${m} is used but not a template macro`);
  });
});

describe('Zabbix template: the preprocessing on every scenario\'s status JSON', () => {
  test('one status fixture per model scenario is here', () => {
    assert.ok(fixtures.length >= 8, `${fixtures.length} fixtures in ${FIXTURE_DIR}`);
  });

  test('every step of every item and prototype yields a value on every fixture, and each JSONPath a real one on some', () => {
    const real = new Map<string, boolean>();
    for (const f of fixtures) {
      collect(f.text, (it, i, r) => {
        const id = `${it.key} step ${i + 1}`;
        real.set(id, (real.get(id) ?? false) || r);
      });
    }
    const all = [...tpl.items, ...rule.item_prototypes].filter((i) => i.type === 'DEPENDENT');
    assert.equal(real.size, all.reduce((n, i) => n + (i.preprocessing?.length ?? 0), 0), 'every step ran');
    for (const [id, r] of real) assert.ok(r, `${id} falls back to its custom value on every fixture: a mistyped path?`);
  });

  test('discovery: one row per resource and volume, with {#RESOURCE} {#VOLUME} {#DEVICE}', () => {
    for (const f of fixtures) {
      const status = JSON.parse(f.text) as { resources: Array<{ name: string; volume: number; device: string }> };
      assert.deepEqual(discover(f.text), status.resources.map((r) => ({ '{#RESOURCE}': r.name, '{#VOLUME}': String(r.volume), '{#DEVICE}': r.device })), f.scenario);
    }
  });

  const VALUES: Array<[string, string, string]> = [
    ['healthy', 'drbd-tui.exitcode', '0'],
    ['initial-sync', 'drbd-tui.exitcode', '1'],
    ['unreachable', 'drbd-tui.exitcode', '2'],
    ['unreachable', 'drbd-tui.overall', 'unreachable'],
    ['unreachable', 'drbd-tui.host.reach[b]', 'unreachable'],
    ['healthy', 'drbd-tui.host.reach[a]', 'up'],
    ['healthy', 'drbd-tui.problems', '0'],
    ['config-drift', 'drbd-tui.problems', '2'],
    ['healthy', 'drbd-tui.role[r0,0,a]', 'Primary'],
    ['healthy', 'drbd-tui.role[r1,1,b]', 'Secondary'],
    ['outdated-peer', 'drbd-tui.disk[r0,0,b]', 'Outdated'],
    ['outdated-peer', 'drbd-tui.connection[r0,0,b]', 'StandAlone'],
    ['initial-sync', 'drbd-tui.replication[r0,0,b]', 'SyncTarget'],
    ['split-brain', 'drbd-tui.split_brain[r0,0,a]', '1'],
    ['healthy', 'drbd-tui.split_brain[r0,0,a]', '0'],
    ['primary-iscsi', 'drbd-tui.target[r0,0,a]', 'running'],
    ['healthy', 'drbd-tui.target[r1,0,a]', 'none'],
    ['config-drift', 'drbd-tui.config_hash[r0,0,b]', 'sha256:91be07c3d5aa'],
    ['unreachable', 'drbd-tui.config_hash[r0,0,b]', ''],
    ['initial-sync', 'drbd-tui.sync.replication[r0,0]', 'SyncSource'],
    ['initial-sync', 'drbd-tui.sync.oos[r0,0]', String(393216 * 1024)],
    ['initial-sync', 'drbd-tui.sync.done[r0,0]', '62.5'],
    ['healthy', 'drbd-tui.sync.oos[r0,0]', '0'],
    ['healthy', 'drbd-tui.sync.done[r0,0]', '100'],
    ['healthy', 'drbd-tui.sync.replication[r0,0]', 'none'],
  ];
  for (const [scenario, key, want] of VALUES) {
    test(`${scenario}: ${key} = ${JSON.stringify(want)}`, () => {
      const f = fixtures.find((x) => x.scenario === scenario);
      assert.ok(f, `${FIXTURE_DIR}/${scenario}.json`);
      assert.equal(collect(f.text).values.get(key), want);
    });
  }
});

describe('Zabbix template: the triggers each scenario fires once its state has lasted', () => {
  const FIRING: Record<string, string[]> = {
    healthy: [],
    'primary-iscsi': [],
    // Held still for five minutes, a resync is one that does not move.
    'initial-sync': ['r0/0: resync not moving for 5m'],
    'split-brain': ['r0/0 on ha-a: not Connected', 'r0/0 on ha-b: not Connected', 'r0/0: split brain'],
    'peer-down': ['r0/0 on ha-a: not Connected', 'r0/0 on ha-b: not Connected'],
    'outdated-peer': ['r0/0 on ha-a: not Connected', 'r0/0 on ha-b: disk not UpToDate', 'r0/0 on ha-b: not Connected'],
    'config-drift': ['r0/0: config drift'],
    // ha-b's resource triggers wait behind the trigger that says ha-b is not reached.
    unreachable: ['drbd-tui: status unreachable: ha-b not reached'],
  };

  test('every fixture has its row', () => {
    assert.deepEqual(Object.keys(FIRING).sort(), fixtures.map((f) => f.scenario));
  });

  for (const f of fixtures) {
    test(`${f.scenario}: ${JSON.stringify(FIRING[f.scenario])}`, () => {
      assert.deepEqual(firing(f.text), [...(FIRING[f.scenario] ?? [])].sort());
    });
  }

  test('no status at all: only "no status" fires, every other trigger has nothing to read', () => {
    const { triggers } = collect(fixtures[0]!.text);
    const fired = triggers.filter((t) => /nodata\(/.test(t.expression)).map((t) => [t.name, evaluate(t.expression, () => undefined)]);
    assert.deepEqual(fired, [['drbd-tui: no status for 5m', true]]);
  });

  test('a Primary whose target stopped is no Primary serving', () => {
    const f = fixtures.find((x) => x.scenario === 'primary-iscsi')!;
    const stopped = f.text.replace('"state": "running"', '"state": "stopped"');
    assert.notEqual(stopped, f.text);
    assert.deepEqual(firing(stopped), ['r0/0: no Primary serving']);
  });
});
