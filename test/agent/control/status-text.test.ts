import { test } from 'node:test';
import assert from 'node:assert/strict';
import { statusText } from '../../../agent/control/status-text.js';
import type { AgentSnapshot, ResourceSnapshot } from '../../../agent/protocol.js';

const resource = (over: Partial<ResourceSnapshot>): ResourceSnapshot => ({
  name: 'r0',
  nodeId: 0,
  node: 'ha-a',
  role: 'Primary',
  suspended: false,
  writeOrdering: 'flush',
  mayPromote: false,
  promotionScore: 10102,
  protocol: 'C',
  configHash: '0123456789abcdef',
  devices: [],
  connections: [],
  ...over,
});
const snap = (r: ResourceSnapshot): AgentSnapshot => ({ node: 'ha-a', agentVersion: '0.1.0', resources: [r], configErrors: [] });

test('a service address is one comment line after the DRBD lines, which stay as drbdadm prints them', () => {
  const target = { state: 'running' as const, iqn: 'iqn.2026-11.com.example:r0', portal: '0.0.0.0:3260', sessions: [] };
  assert.equal(statusText(snap(resource({ target }))), 'r0 role:Primary\n');
  assert.equal(
    statusText(snap(resource({ target: { ...target, serviceAddress: { address: '10.77.0.100/24', interface: 'eth0', held: true } } }))),
    'r0 role:Primary\n# service-address: 10.77.0.100/24 on eth0 held:yes target:running\n',
  );
  assert.equal(
    statusText(snap(resource({ role: 'Secondary', target: { ...target, state: 'stopped', serviceAddress: { address: '10.77.0.100/24', interface: '', held: false } } }))),
    'r0 role:Secondary\n# service-address: 10.77.0.100/24 held:no target:stopped\n',
  );
});
