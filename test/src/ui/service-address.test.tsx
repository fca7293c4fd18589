// Where the iSCSI service address is, on the detail screen and as a problem when it is wrong.
import './setup.js';
import { test, describe, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { parseEventLine } from '../../../src/cluster/events2.js';
import { applyHostEvent, resourceRows, type ClusterModel } from '../../../src/cluster/model.js';
import { serviceAddressWhere } from '../../../src/ui/DetailView.js';
import { loadScenario } from '../cluster/fixtures.js';
import { renderApp, type Harness } from './harness.js';

let h: Harness | undefined;
afterEach(async () => {
  await h?.unmount();
  h = undefined;
});

const held = (m: ClusterModel, host: 0 | 1, yes: boolean) =>
  applyHostEvent(m, host, parseEventLine(`change target name:r0 service-address:10.77.0.100/24 service-interface:eth0 service-held:${yes ? 'yes' : 'no'}`)!);
const NAMES: [string, string] = ['ha-a', 'ha-b'];

describe('the service address on screen', () => {
  test('the detail view says which host holds it', async () => {
    h = await renderApp(held(held(loadScenario('primary-iscsi'), 0, true), 1, false));
    await h.press('\r');
    assert.match(h.text(), /svc 10\.77\.0\.100\/24 on ha-a \(eth0\)/);
  });

  test('both, neither, none configured', () => {
    const row = (m: ClusterModel) => resourceRows(m)[0]!;
    const base = loadScenario('primary-iscsi');
    assert.equal(serviceAddressWhere(row(base), NAMES), undefined);
    assert.equal(serviceAddressWhere(row(held(held(base, 0, true), 1, true)), NAMES), 'svc 10.77.0.100/24 on ha-a (eth0) and ha-b (eth0)');
    assert.equal(serviceAddressWhere(row(held(held(base, 0, false), 1, false)), NAMES), 'svc 10.77.0.100/24 on neither host');
  });

  test('held by both hosts: the alert is on screen', async () => {
    h = await renderApp(held(held(loadScenario('primary-iscsi'), 0, true), 1, true));
    assert.match(h.text(), /service address 10\.77\.0\.100\/24 of r0 is held by both ha-a and ha-b/);
  });
});
