// Loads the recorded-style transcripts in fixtures/events/ into a two-host model, the way
// the console's controller will: each host's stream folded in order, reachability set.
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseEvents } from '../../../src/cluster/events2.js';
import { applyHostEvents, createModel, setReachability, type ClusterModel, type HostIndex } from '../../../src/cluster/model.js';

export const FIXTURE_DIR = fileURLToPath(new URL('../../../fixtures/events/', import.meta.url));
export const SCENARIOS = ['healthy', 'initial-sync', 'split-brain', 'peer-down', 'outdated-peer', 'primary-iscsi', 'config-drift', 'unreachable'] as const;
export type Scenario = (typeof SCENARIOS)[number];
export const HOSTS = ['ha-a', 'ha-b'] as const;
export const UNREACHABLE_ERROR = 'connect ETIMEDOUT 10.77.0.12:22';

export function fixturePath(scenario: string, host: string): string {
  return `${FIXTURE_DIR}${scenario}.${host}.events2`;
}

export function loadScenario(scenario: Scenario, opts: { readOnly?: boolean } = {}): ClusterModel {
  let m = createModel(HOSTS[0], HOSTS[1], opts);
  for (const i of [0, 1] as HostIndex[]) {
    const file = fixturePath(scenario, HOSTS[i]);
    if (!existsSync(file)) {
      m = setReachability(m, i, { state: 'unreachable', error: UNREACHABLE_ERROR }, { time: '2026-11-22T03:59:00.000000+00:00' });
      continue;
    }
    m = setReachability(m, i, { state: 'up' }, { time: '2026-11-22T03:57:59.000000+00:00', latencyMs: 2 + i, agentVersion: '0.1.0' });
    const { events, errors } = parseEvents(readFileSync(file, 'utf8'));
    if (errors.length > 0) throw errors[0];
    m = applyHostEvents(m, i, events);
  }
  return m;
}
