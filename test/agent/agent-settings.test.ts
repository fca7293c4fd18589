import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AGENT_SETTINGS_FILE, parseAgentSettings, readAgentSettings } from '../../agent/agent-settings.js';
import { loadConfigDir } from '../../agent/config/index.js';

const F = '/etc/drbd-tui/agent.conf';

test('agent.conf: metrics on an address, or nothing; empty and comment-only files are every default', () => {
  assert.deepEqual(parseAgentSettings('metrics: 127.0.0.1:9942\n', F), { settings: { metrics: { host: '127.0.0.1', port: 9942, loopback: true } } });
  assert.deepEqual(parseAgentSettings('metrics: 9942\n', F), { settings: { metrics: { host: '127.0.0.1', port: 9942, loopback: true } } });
  assert.deepEqual(parseAgentSettings('metrics: ":9942"\n', F), { settings: { metrics: { host: '127.0.0.1', port: 9942, loopback: true } } });
  assert.deepEqual(parseAgentSettings('metrics: 10.77.0.11:9942\n', F), { settings: { metrics: { host: '10.77.0.11', port: 9942, loopback: false } } });
  assert.deepEqual(parseAgentSettings('metrics: off\n', F), { settings: {} });
  assert.deepEqual(parseAgentSettings('', F), { settings: {} });
  assert.deepEqual(parseAgentSettings('# nothing here\n', F), { settings: {} });
});

test('agent.conf problems name file, line and column and the fix', () => {
  const table: Array<[string, RegExp]> = [
    ['metric: 9942\n', /^\/etc\/drbd-tui\/agent\.conf:1:1: unknown setting "metric"; did you mean "metrics"\? \(settings: metrics\)$/],
    ['# c\nmetrics: prom.example:9942\n', /^\/etc\/drbd-tui\/agent\.conf:2:10: metrics names the host "prom.example": write the address to listen on as an IP address/],
    ['metrics: [1, 2]\n', /^\/etc\/drbd-tui\/agent\.conf:1:1: metrics must be an address and port/],
    ['- metrics\n', /^\/etc\/drbd-tui\/agent\.conf:1:1: expected settings as key: value lines, e\.g\. metrics: 127\.0\.0\.1:9942$/],
    ['metrics: "9942\n', /^\/etc\/drbd-tui\/agent\.conf:\d+:\d+: not YAML: Missing closing/],
  ];
  for (const [text, want] of table) {
    const r = parseAgentSettings(text, F);
    assert.ok('errors' in r, text);
    assert.match(r.errors[0]!, want);
  }
});

test('agent.conf beside the resource files: the resource loader does not read it, and a missing one is the defaults', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'drbd-tui-settings-'));
  try {
    assert.deepEqual(await readAgentSettings(dir), { settings: {} });
    await writeFile(join(dir, AGENT_SETTINGS_FILE), 'metrics: 127.0.0.1:9942\n');
    assert.deepEqual(await loadConfigDir(dir), { resources: [], errors: [] });
    assert.deepEqual(await readAgentSettings(dir), { settings: { metrics: { host: '127.0.0.1', port: 9942, loopback: true } } });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
