// A real Prometheus (Debian's package) scrapes both lab agents' metrics endpoints, opened on
// the hosts' lab addresses by agent.conf, every second, and evaluates the shipped rules. The
// test reads it back through Prometheus' HTTP API: role, disk and connection states, size and
// out-of-sync bytes equal what `status --json` says on each host, and a split brain made in the
// lab (link cut, both Primary, link back) shows in drbdtui_resource_split_brain on both hosts
// and fires DrbdSplitBrain.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createLab, describeLab, type Lab, type LabHost } from '../lab/lab.js';
import { conn, disk, freshPair, inSync, installResource, jsonWhen, labAgent, labResourceYaml, makeSplitBrain, peerDevice, qemuIo, type LabAgent, type StatusJson } from '../support/lab-agents.js';
import { PROMETHEUS_TOOLS, requireTools } from '../support/lab-packages.js';
import { expositionComplaints, startPrometheus, type PrometheusServer, type Sample } from '../support/prometheus.js';
import { setTimeout as sleep } from 'node:timers/promises';

const R = 'pm';
const PORT = 7851;
const ISCSI_PORT = 3351;
const METRICS_PORT = 9942;

describeLab('Prometheus scrapes the agents in the lab', async () => {
  const skip = await requireTools(PROMETHEUS_TOOLS);
  let lab: Lab;
  let a: LabAgent;
  let b: LabAgent;
  let prom: PrometheusServer | undefined;
  const url = (host: LabHost) => `iscsi://${host.address}:${ISCSI_PORT}/iqn.2026-11.com.example:${R}/0`;
  const instance = (agent: LabAgent) => `${agent.host.address}:${METRICS_PORT}`;
  /** The sample scraped from `agent`. */
  const of = (samples: Sample[], agent: LabAgent) => samples.find((s) => s.metric.instance === instance(agent));
  /** The state label of an enum's set series, per host. */
  const enumState = (samples: Sample[], label: string, agent: LabAgent) => samples.find((s) => s.metric.instance === instance(agent) && s.value === 1)?.metric[label];

  before(async () => {
    if (skip) return;
    lab = await createLab({ sshd: false });
    a = labAgent(lab.a);
    b = labAgent(lab.b);
    const yaml = labResourceYaml(lab, { name: R, port: PORT, iscsiPort: ISCSI_PORT, size: '16MiB' });
    await installResource(a, R, yaml.a);
    await installResource(b, R, yaml.b);
    // A non-loopback address has to be written out: here each host's own lab address.
    for (const agent of [a, b]) await writeFile(join(agent.host.dirs.etc, 'agent.conf'), `metrics: ${agent.host.address}:${METRICS_PORT}\n`);
    await a.start();
    await b.start();
    await freshPair(a, b, R);
    prom = await startPrometheus([instance(a), instance(b)], ['contrib/prometheus/drbd-tui.rules.yml']);
  });
  after(async () => {
    await prom?.stop();
    await lab?.destroy();
  });

  /** What Prometheus last scraped that differs from each agent's status --json; empty when all agree. */
  async function disagreements(states: Map<LabAgent, StatusJson>): Promise<string[]> {
    const [role, connection, device, size, outOfSync] = await Promise.all(
      ['drbd_resource_role', 'drbd_connection_state', 'drbd_device_state', 'drbd_device_size_bytes', 'drbd_peerdevice_outofsync_bytes'].map((m) => prom!.query(`${m}{name="${R}"}`)),
    );
    const out: string[] = [];
    const expect = (what: string, got: unknown, want: unknown) => {
      if (got !== want) out.push(`${what}: Prometheus ${String(got)}, agent ${String(want)}`);
    };
    for (const [agent, json] of states) {
      const host = agent.host.name;
      expect(`${host} role`, enumState(role!, 'drbd_resource_role', agent), json.role);
      expect(`${host} connection`, enumState(connection!, 'drbd_connection_state', agent), conn(json)['connection-state']);
      expect(`${host} disk`, enumState(device!, 'drbd_device_state', agent), disk(json));
      expect(`${host} size`, of(size!, agent)?.value, json.devices[0]!.size * 1024);
      expect(`${host} out-of-sync`, of(outOfSync!, agent)?.value, peerDevice(json)['out-of-sync'] * 1024);
      // One series per state (drbd-reactor's enums), exactly one of them set.
      expect(`${host} role series`, role!.filter((s) => s.metric.instance === instance(agent)).length, 3);
      expect(`${host} disk states set`, device!.filter((s) => s.metric.instance === instance(agent) && s.value === 1).length, 1);
    }
    return out;
  }

  /** Waits (a few scrapes) until Prometheus has what each agent's status --json says. */
  async function promAgrees(states: Map<LabAgent, StatusJson>): Promise<void> {
    let last: string[] = [];
    for (const start = Date.now(); Date.now() - start < 20_000; await sleep(250)) {
      last = await disagreements(states);
      if (last.length === 0) return;
    }
    assert.fail(`Prometheus disagrees with the agents: ${last.join('; ')}`);
  }

  test('role, disk and connection states, size and out-of-sync bytes in Prometheus are what the agents report', { skip }, async () => {
    await promAgrees(new Map([
      [a, await inSync(a, R)],
      [b, await inSync(b, R)],
    ]));
    // Writes while the Secondary is away leave blocks out of sync on the Primary.
    assert.equal((await b.cli('disconnect', R)).code, 0);
    const w = qemuIo(url(lab.a), ['write -P 0x5a 0 4k', 'write -P 0x5b 1M 8k', 'write -P 0x5c 8M 4k']);
    assert.equal(w.code, 0, w.out);
    const sa = await jsonWhen(a, R, (s) => peerDevice(s)['out-of-sync'] >= 16, 'blocks out of sync on A');
    const sb = await jsonWhen(b, R, (s) => conn(s)['connection-state'] === 'StandAlone', 'B StandAlone');
    assert.equal(sa.role, 'Primary');
    await promAgrees(new Map([
      [a, sa],
      [b, sb],
    ]));
    assert.equal((await b.cli('connect', R)).code, 0);
    await promAgrees(new Map([
      [a, await inSync(a, R, 'A resynced')],
      [b, await inSync(b, R, 'B resynced')],
    ]));
  });

  test("the endpoint's text passes promtool check metrics", { skip }, async () => {
    const r = await fetch(`http://${instance(a)}/metrics`);
    assert.equal(r.status, 200);
    assert.deepEqual(expositionComplaints(await r.text()), []);
    assert.equal((await fetch(`http://${instance(a)}/`)).status, 404);
  });

  test('a split brain shows in drbdtui_resource_split_brain on both hosts and fires DrbdSplitBrain', { skip }, async () => {
    const none = await prom!.query(`drbdtui_resource_split_brain{name="${R}"}`);
    assert.deepEqual(none.map((s) => s.value), [0, 0]);
    await makeSplitBrain(lab, a, b, R, { url, onA: ['write -P 0xa1 2M 4k'], onB: ['write -P 0xb1 3M 4k'], keepAPrimary: true });
    for (const agent of [a, b]) await jsonWhen(agent, R, (s) => conn(s)['connection-state'] === 'StandAlone' && conn(s)['split-brain'], 'StandAlone with split brain');
    const sb = await prom!.queryWhen(`drbdtui_resource_split_brain{name="${R}"} == 1`, (s) => s.length === 2, 'split brain on both hosts');
    assert.deepEqual(sb.map((s) => s.metric.instance).sort(), [instance(a), instance(b)].sort());
    await prom!.queryWhen(`ALERTS{alertname="DrbdSplitBrain",alertstate="firing",name="${R}"}`, (s) => s.length === 2, 'DrbdSplitBrain firing for both hosts');
  });
});
