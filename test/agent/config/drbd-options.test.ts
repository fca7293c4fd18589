import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { DRBD_KEYWORDS, DRBD_OPTIONS, DRBD_VALUES, REFUSED_CONSTRUCTS, booleanOn, optionRule, valueProblem } from '../../../agent/config/drbd-options.js';
import { parseResourceRes } from '../../../agent/config/load.js';
import { formatConfigError } from '../../../agent/config/types.js';
import { RES_POLICY_REFUSALS } from '../../../agent/config/res-options.js';
import { readFileSync } from 'node:fs';

const HOSTS = 'on a { node-id 0; address 10.0.0.1:7789; } on b { node-id 1; address 10.0.0.2:7789; }';
const load = (body: string) => parseResourceRes('t.res', `resource t { device minor 1; disk /dev/sdb; ${body} ${HOSTS} }`);

describe('drbd-options.ts', () => {
  test('every ignored option says why in one line; every refused-when names its fix', () => {
    for (const [section, options] of Object.entries(DRBD_OPTIONS)) {
      for (const [name, rule] of Object.entries(options)) {
        if (rule.kind === 'honoured') continue;
        assert.ok(rule.why.length > 10 && !rule.why.includes('\n'), `${section} ${name}`);
      }
    }
  });
  test('refused when the value changes safety, ignored otherwise', () => {
    const cases: Array<[string, string, string[], boolean]> = [
      ['net', 'allow-two-primaries', [], true],
      ['net', 'allow-two-primaries', ['yes'], true],
      ['net', 'allow-two-primaries', ['no'], false],
      ['disk', 'bitmap', ['no'], true],
      ['disk', 'bitmap', ['yes'], false],
    ];
    for (const [section, name, args, refused] of cases) {
      const rule = optionRule(section as 'net', name);
      assert.ok(rule?.kind === 'refused-when');
      assert.equal(rule.refuse(args) !== undefined, refused, `${name} ${args.join(' ')}`);
    }
    assert.equal(booleanOn([]), true);
    assert.equal(booleanOn(['no']), false);
  });
  test('unknown options are typos even in sections drbd-tui ignores, with did-you-mean', () => {
    for (const [body, want] of [
      ['handlers { split-brian "/bin/true"; }', 't.res:1:56: unknown keyword "split-brian" in handlers; did you mean "split-brain"?'],
      ['startup { wfc-timout 5; }', 't.res:1:55: unknown keyword "wfc-timout" in startup; did you mean "wfc-timeout"?'],
      ['options { quorom off; }', 't.res:1:55: unknown keyword "quorom" in options; did you mean "quorum"?'],
    ] as const) {
      const r = load(body);
      assert.ok('errors' in r);
      assert.deepEqual(r.errors.map(formatConfigError), [want]);
    }
  });
  test('every option of the table loads where DRBD writes it, listed as ignored unless honoured', () => {
    for (const section of ['options', 'startup', 'handlers'] as const) {
      for (const [name, rule] of Object.entries(DRBD_OPTIONS[section])) {
        const kind = DRBD_VALUES[name];
        const value = section === 'handlers' ? '"/bin/true"' : kind === 'flag' ? '' : kind === 'bool' ? 'no' : Array.isArray(kind) ? kind[0] : '1';
        const r = load(`${section} { ${name} ${value}; }`);
        assert.ok('config' in r, `${section} ${name}: ${JSON.stringify(r)}`);
        assert.deepEqual(r.config.ignored?.map((i) => [i.section, i.option, i.why]), [[section, name, (rule as { why: string }).why]]);
      }
    }
  });
  test("values drbdadm refuses are refused too, with did-you-mean for a misspelt one", () => {
    const cases: Array<[string, string[], string | undefined]> = [
      ['on-io-error', ['detach'], undefined],
      ['on-io-error', ['detatch'], 'on-io-error must be one of pass_on, call-local-io-error, detach (got "detatch")'],
      ['tcp-cork', [], undefined],
      ['tcp-cork', ['no'], undefined],
      ['tcp-cork', ['off'], 'tcp-cork is yes or no (or tcp-cork; alone for yes)'],
      ['max-buffers', ['8000'], undefined],
      ['sndbuf-size', ['512k'], undefined],
      ['max-buffers', ['lots'], 'max-buffers must be a number (got "lots")'],
      ['quorum', ['2'], undefined],
      ['quorum', ['most'], 'quorum must be one of off, majority, all or a number (got "most")'],
      ['no-disk-flushes', [], undefined],
      ['no-disk-flushes', ['yes'], 'no-disk-flushes takes no value: write no-disk-flushes;'],
      ['cram-hmac-alg', ['sha256'], undefined],
    ];
    for (const [o, args, want] of cases) assert.equal(valueProblem(o, args), want, `${o} ${args.join(' ')}`);
    const r = load('disk { on-io-error detatch; }');
    assert.ok('errors' in r);
    assert.deepEqual(r.errors.map(formatConfigError), ['t.res:1:64: on-io-error must be one of pass_on, call-local-io-error, detach (got "detatch"); did you mean "detach"?']);
  });
  test('every valued option of DRBD_VALUES is in the table', () => {
    for (const o of Object.keys(DRBD_VALUES)) assert.ok(Object.values(DRBD_OPTIONS).some((sec) => Object.hasOwn(sec, o)), o);
  });
  test('refused constructs are known keywords where DRBD allows them', () => {
    for (const k of Object.keys(REFUSED_CONSTRUCTS)) assert.ok((DRBD_KEYWORDS.resource as readonly string[]).includes(k), k);
    const r = load('stacked-on-top-of lower { }');
    assert.ok('errors' in r && /^resource t is stacked on lower: stacked resources are not supported/.test(r.errors[0]!.message), JSON.stringify(r));
  });
});

describe("the README's DRBD configuration lists are drbd-options.ts's tables", () => {
  const readme = readFileSync('README.md', 'utf8');
  const section = readme.slice(readme.indexOf('### DRBD configuration'), readme.indexOf('**Node-ids and metadata.**'));
  const between = (from: string, to: string) => section.slice(section.indexOf(from), section.indexOf(to));
  const rows = (text: string) =>
    text
      .split('\n')
      .filter((l) => l.startsWith('| ') && !l.startsWith('|---'))
      .slice(1)
      .map((l) => l.slice(2, -2).split(' | '));
  const rules = Object.entries(DRBD_OPTIONS).flatMap(([section, opts]) => Object.entries(opts).map(([name, rule]) => ({ section, name, rule })));

  test('Honoured: every option the loader gives its DRBD meaning', () => {
    const cells = rows(between('**Honoured**', '**Ignored**')).map((r) => r[0]!).join(' ');
    for (const { name, rule } of rules) if (rule.kind === 'honoured') assert.ok(cells.includes(name), `${name} is honoured but not in the README's Honoured table`);
  });

  test('Ignored: every other option with its why, grouped as the table words it', () => {
    const theirs = new Map<string, string[]>();
    for (const { section, name, rule } of rules) {
      if (rule.kind === 'honoured') continue;
      const why = rule.kind === 'ignored' ? rule.why : `${rule.why} (the unsafe value is refused)`;
      theirs.set(why, [...(theirs.get(why) ?? []), `${section}.${name}`]);
    }
    const readmes = new Map(rows(between('**Ignored**', '**Refused** by design')).map(([opts, why]) => [why!, [...opts!.matchAll(/`([^`]+)`/g)].map((m) => m[1]!)]));
    assert.deepEqual(readmes, theirs);
  });

  test('Refused: every refused construct, value and split-brain policy', () => {
    const byDesign = rows(between('**Refused** by design', '**Refused as drbdadm')).map((r) => r[0]!).join(' ');
    const asDrbdadm = between('**Refused as drbdadm', 'Secrets never appear');
    for (const k of Object.keys(REFUSED_CONSTRUCTS)) assert.ok(byDesign.includes(`\`${k}\``), k);
    for (const { name, rule } of rules) if (rule.kind === 'refused-when') assert.ok(byDesign.includes(`\`${name} `), name);
    for (const p of Object.keys(RES_POLICY_REFUSALS)) assert.ok((p === 'discard-node-NAME' ? asDrbdadm : byDesign).includes(p), p);
  });
});
