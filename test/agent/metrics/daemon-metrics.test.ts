// `drbd-agent metrics` and the daemon's HTTP endpoint with real daemons (dist/agent.mjs) on
// loopback: the text carries what `status --json` says, on the monitor socket too; agent.conf
// turns the endpoint on; a bad agent.conf leaves it off and the daemon running; a daemon that
// does not answer prints agent_up 0.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createAgentPair, type AgentPair } from '../../support/agent-daemons.js';
import { freePort, waitFor } from '../../support/wait.js';
import { monitorSocketPath } from '../../../agent/protocol/socket-paths.js';

const sample = (text: string, series: string): number | undefined => {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
};

describe('metrics from real daemons', () => {
  let p: AgentPair;
  let port = 0;
  before(async () => {
    p = await createAgentPair();
    port = await freePort('127.0.0.1');
    await writeFile(join(p.a.root, 'etc', 'agent.conf'), `# Prometheus endpoint\nmetrics: ${port}\n`);
    await writeFile(join(p.b.root, 'etc', 'agent.conf'), 'metrics: prometheus.example:9942\n');
    // agent.conf is read at start: the pair's daemons start again with it.
    for (const h of [p.a, p.b]) {
      await h.stop();
      await h.start();
    }
    for (const h of [p.a, p.b]) for (const verb of ['create-md', 'up']) assert.equal((await h.cli(verb, 'r0')).code, 0);
    assert.equal((await p.a.cli('primary', '--force', 'r0')).code, 0);
  });
  after(async () => {
    await p?.close();
  });

  test('drbd-agent metrics prints what status --json says, on the admin and the monitor socket alike', async () => {
    const json = JSON.parse((await p.a.cli('status', '--json')).stdout)[0];
    for (const socket of [p.a.socket, monitorSocketPath(p.a.socket)]) {
      const r = await p.a.cli('--socket', socket, 'metrics');
      assert.equal(r.code, 0, r.stderr);
      assert.equal(sample(r.stdout, 'drbd_resource_role{name="r0",drbd_resource_role="Primary"}'), 1);
      assert.equal(sample(r.stdout, 'drbd_device_size_bytes{name="r0",volume="0",minor="1"}'), json.devices[0].size * 1024);
      assert.equal(sample(r.stdout, 'drbdtui_agent_up'), 1);
      assert.equal(sample(r.stdout, `drbdtui_config_info{name="r0",hash="${json['config-hash']}"}`), 1);
    }
  });

  test('agent.conf `metrics: PORT` serves GET /metrics on loopback, and says so in the log', async () => {
    const r = await fetch(`http://127.0.0.1:${port}/metrics`);
    assert.equal(r.status, 200);
    const text = await r.text();
    assert.equal(sample(text, 'drbd_resource_role{name="r0",drbd_resource_role="Primary"}'), 1);
    assert.equal(sample(text, 'drbd_connection_state{name="r0",conn_name="ha-b",peer_node_id="1",drbd_connection_state="Connected"}'), 1);
    assert.ok(p.a.log.join('').includes(`metrics on http://127.0.0.1:${port}/metrics`), p.a.log.join(''));
  });

  test('a bad agent.conf: logged with file:line:col, metrics off, the daemon serves its resources', async () => {
    await waitFor(() => p.b.log.join('').includes('agent.conf:1:10: metrics names the host'), 'the warning in the log');
    assert.match(p.b.log.join(''), /metrics are off until it is fixed and the daemon restarted/);
    assert.match((await p.b.cli('status', 'r0')).stdout, /^r0 role:Secondary/);
  });

  test('no daemon: metrics prints drbdtui_agent_up 0 and exits 3', async () => {
    const r = await p.a.cli('--socket', join(p.dir, 'nowhere.sock'), 'metrics');
    assert.equal(r.code, 3);
    assert.equal(sample(r.stdout, 'drbdtui_agent_up'), 0);
    assert.ok(r.stderr.length > 0);
  });

  test('--metrics with a host name is a usage error naming the fix', async () => {
    const r = await p.a.cli('daemon', '--metrics', 'prom.example:9942', '--config-dir', join(p.dir, 'none'));
    assert.equal(r.code, 2);
    assert.match(r.stderr, /--metrics names the host "prom.example": write the address to listen on as an IP address, 127.0.0.1:9942/);
  });
});
