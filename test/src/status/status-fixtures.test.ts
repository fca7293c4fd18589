// fixtures/status/*.json: what `drbd-tui status --json` prints for each model scenario, for the
// consumers that read that JSON without running drbd-tui (the Zabbix template's test). They
// must stay what the code produces, so each one is compared with a fresh report here.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { statusReport } from '../../../src/status/report.js';
import { loadScenario, SCENARIOS } from '../cluster/fixtures.js';

const STATUS_FIXTURE_DIR = 'fixtures/status';
/** A fixed report time, so the files change only when the report does. */
const STATUS_FIXTURE_TIME = '2026-11-22T04:00:00.000Z';
const REGENERATE = 'DRBD_TUI_WRITE_GOLDEN=1 node .ci/test.mjs unit status-fixtures';

/** The bytes the CLI prints for the scenario (src/cli.ts runStatus with --json). */
function statusJsonText(scenario: (typeof SCENARIOS)[number]): string {
  return JSON.stringify(statusReport(loadScenario(scenario), STATUS_FIXTURE_TIME), null, 2) + '\n';
}

for (const s of SCENARIOS) {
  test(`fixtures/status/${s}.json is statusReport(loadScenario('${s}'))`, () => {
    const path = `${STATUS_FIXTURE_DIR}/${s}.json`;
    const text = statusJsonText(s);
    if (process.env.DRBD_TUI_WRITE_GOLDEN === '1') writeFileSync(path, text);
    assert.equal(readFileSync(path, 'utf8'), text, `${path} is not what the code produces now; if the change is deliberate, regenerate: ${REGENERATE}`);
  });
}

test('fixtures/status holds one file per scenario and nothing else', () => {
  const files = readdirSync(STATUS_FIXTURE_DIR).sort();
  assert.deepEqual(files, SCENARIOS.map((s) => `${s}.json`).sort(), `stale or missing files in ${STATUS_FIXTURE_DIR}; regenerate: ${REGENERATE}`);
});
