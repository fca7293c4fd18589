import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { DRBD_KEYWORDS, DRBD_OPTIONS, REFUSED_CONSTRUCTS, booleanOn, optionRule } from '../../../agent/config/drbd-options.js';
import { parseResourceRes } from '../../../agent/config/load.js';
import { formatConfigError } from '../../../agent/config/types.js';

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
        const r = load(`${section} { ${name} ${section === 'handlers' ? '"/bin/true"' : '1'}; }`);
        assert.ok('config' in r, `${section} ${name}: ${JSON.stringify(r)}`);
        assert.deepEqual(r.config.ignored?.map((i) => [i.section, i.option, i.why]), [[section, name, (rule as { why: string }).why]]);
      }
    }
  });
  test('refused constructs are known keywords where DRBD allows them', () => {
    for (const k of Object.keys(REFUSED_CONSTRUCTS)) assert.ok((DRBD_KEYWORDS.resource as readonly string[]).includes(k), k);
    const r = load('stacked-on-top-of lower { }');
    assert.ok('errors' in r && /^stacked resources are not supported/.test(r.errors[0]!.message), JSON.stringify(r));
  });
});
