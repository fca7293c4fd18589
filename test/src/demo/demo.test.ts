// The embedded demo end to end without root: two real agent processes, two ssh2 endpoints,
// reached through the production connect → deploy check → control channel → model path.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { resourceRows } from '../../../src/cluster/model.js';
import { startDemo, type Demo } from '../../../src/demo/demo.js';
import { ClusterSession } from '../../../src/ssh/cluster-session.js';
import { collectStatus } from '../../../src/status/collect.js';
import { statusReport } from '../../../src/status/report.js';
import { setTimeout as sleep } from 'node:timers/promises';

let demo: Demo | undefined;
let session: ClusterSession | undefined;

before(async () => {
  demo = await startDemo({ diskSize: '64MiB', syncRate: '2MiB' });
});
after(async () => {
  await session?.close();
  await demo?.stop();
});

test('the demo hands out an ssh_config, known_hosts and identity for ha-a and ha-b', () => {
  assert.ok(demo);
  assert.deepEqual(demo.hosts, ['ha-a', 'ha-b']);
  const cfg = readFileSync(demo.sshConfigPath, 'utf8');
  assert.match(cfg, /Host ha-a\n {2}HostName 127\.0\.0\.1\n {2}Port \d+/);
  assert.match(cfg, /StrictHostKeyChecking yes/);
  assert.equal(readFileSync(demo.knownHostsPath, 'utf8').trim().split('\n').length, 2);
  assert.match(readFileSync(demo.identityPath, 'utf8'), /OPENSSH PRIVATE KEY/);
});

test('the console reaches both demo hosts through SSH and sees the initial sync', async () => {
  assert.ok(demo);
  session = new ClusterSession({ hosts: ['ha-a', 'ha-b'], configFile: demo.sshConfigPath, agentSocket: false, readOnly: false });
  session.start();
  const model = await new Promise<ReturnType<typeof resourceRows>>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`no sync seen: ${JSON.stringify(session?.model.hosts.map((h) => h.reach))}`)), 20_000);
    session!.on('change', (m) => {
      const rows = resourceRows(m);
      if (m.hosts.every((h) => h.reach.state === 'up') && rows[0]?.sync) {
        clearTimeout(t);
        resolve(rows);
      }
    });
  });
  const row = model[0]!;
  assert.equal(row.resource, 'r0');
  assert.equal(row.sides[0].role, 'Primary');
  assert.equal(row.sync?.source, 0);
  assert.equal(row.sync?.target, 1);
  assert.ok(session.model.hosts.every((h) => h.latencyMs !== undefined));
  // Admin verbs go through too (the endpoint forwards the admin socket).
  await session.request(1, 'pause-sync', { resource: 'r0' });
  await session.request(1, 'resume-sync', { resource: 'r0' });
});

test('status over the demo: degraded while syncing (exit 1)', async () => {
  assert.ok(demo);
  const m = await collectStatus(['ha-a', 'ha-b'], { configFile: demo.sshConfigPath, agentSocket: false, readOnly: true });
  const r = statusReport(m);
  assert.equal(r.status, 'degraded', JSON.stringify(r, null, 2));
  assert.equal(r.exitCode, 1);
  assert.ok(r.problems.some((p) => p.id === 'sync:r0/0'));
});

test('stop() removes processes and files', async () => {
  assert.ok(demo);
  const dir = demo.dir;
  await session?.close();
  session = undefined;
  await demo.stop();
  demo = undefined;
  assert.equal(existsSync(dir), false);
});

/** Pids whose command line mentions `text`. */
function processesMentioning(text: string): number[] {
  return readdirSync('/proc')
    .filter((d) => /^\d+$/.test(d))
    .filter((d) => {
      try {
        return readFileSync(`/proc/${d}/cmdline`, 'utf8').includes(text);
      } catch {
        return false;
      }
    })
    .map(Number);
}

test('a console killed with SIGKILL leaves no agent behind', { skip: process.platform !== 'linux' && 'reads /proc' }, async () => {
  const script = `import { startDemo } from ${JSON.stringify(new URL('../../../src/demo/demo.ts', import.meta.url).pathname)};
const d = await startDemo({ diskSize: '16MiB' }); process.stdout.write(d.dir + '\\n'); setInterval(() => {}, 1000);`;
  const env = { ...process.env };
  delete env.NODE_TEST_CONTEXT;
  const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'inherit'], env });
  const dir = await new Promise<string>((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (b: Buffer) => {
      out += b.toString();
      if (out.includes('\n')) resolve(out.trim());
    });
    child.once('exit', (c) => reject(new Error(`demo child exited ${c}`)));
  });
  try {
    assert.equal(processesMentioning(dir).length, 4, 'two watchdogs, two agents');
    child.kill('SIGKILL');
    const deadline = Date.now() + 10_000;
    while (processesMentioning(dir).length > 0 && Date.now() < deadline) await sleep(50);
    assert.deepEqual(processesMentioning(dir), []);
  } finally {
    for (const pid of processesMentioning(dir)) process.kill(pid, 'SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  }
});
