// The shipped alert rules through Debian's promtool: `check rules`, and `test rules` over the
// series contrib/prometheus/drbd-tui.rules.test.yml writes; and the agent's exposition text
// (the golden files in fixtures/metrics/) through `check metrics`. A lab suite only because
// promtool is a Debian package (prometheus); it needs no root.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { PROMETHEUS_TOOLS, requireTools } from '../support/lab-packages.js';
import { expositionComplaints, promtool } from '../support/prometheus.js';

const DIR = 'contrib/prometheus';

describe('Prometheus rules and exposition format, checked by promtool', async () => {
  const skip = await requireTools(PROMETHEUS_TOOLS);

  test('promtool check rules: the rules file loads, every rule', { skip }, () => {
    const r = promtool(['check', 'rules', 'drbd-tui.rules.yml'], { cwd: DIR });
    assert.equal(r.code, 0, r.out);
    assert.match(r.out, /SUCCESS: 7 rules found/);
  });

  test('promtool test rules: each alert fires on the series written for it, and only there', { skip }, () => {
    const r = promtool(['test', 'rules', 'drbd-tui.rules.test.yml'], { cwd: DIR });
    assert.equal(r.code, 0, r.out);
    assert.match(r.out, /SUCCESS/);
  });

  test('every alert of the rules file has a test', { skip }, () => {
    const alerts = [...readFileSync(`${DIR}/drbd-tui.rules.yml`, 'utf8').matchAll(/^\s+- alert: (\S+)$/gm)].map((m) => m[1]!);
    const tested = new Set([...readFileSync(`${DIR}/drbd-tui.rules.test.yml`, 'utf8').matchAll(/alertname: (\S+)$/gm)].map((m) => m[1]!));
    assert.equal(alerts.length, 7);
    for (const a of alerts) assert.ok(tested.has(a), `${a} has no alert_rule_test`);
  });

  test('promtool check metrics: the golden exposition texts parse, with only drbd-reactor\'s own naming linted', { skip }, () => {
    const files = readdirSync('fixtures/metrics').filter((f) => f.endsWith('.prom'));
    assert.ok(files.length >= 3);
    for (const f of files) assert.deepEqual(expositionComplaints(readFileSync(`fixtures/metrics/${f}`, 'utf8')), [], f);
  });
});
