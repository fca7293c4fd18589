// The agent CLI and daemon as an operator uses them: the built dist/agent.mjs, real
// processes, real unix sockets, real files, real TCP between the two daemons.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { spawnSync } from 'node:child_process';
import { mkdtemp, open, readFile, rm, stat, symlink, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { computeLayout } from '../../agent/engine/md-layout.js';
import { connectUnix } from '../../agent/protocol/client.js';
import type { AgentSnapshot, RunbookLogEntry, RunbookPutResult, RunbookRecord } from '../../agent/protocol/messages.js';
import { agentHost, createAgentPair, type AgentHost, type AgentPair } from '../support/agent-daemons.js';
import { resourceYaml } from '../support/two-runtimes.js';
import { setTimeout as sleep } from 'node:timers/promises';

async function statusOf(h: AgentPair['a']): Promise<string> {
  return (await h.cli('status')).stdout;
}

/** `status` once it contains `needle` (state changes take a few round trips between the daemons). */
async function statusWhen(h: AgentPair['a'], needle: string): Promise<string> {
  let text = '';
  for (let i = 0; i < 200 && !text.includes(needle); i++) {
    text = await statusOf(h);
    if (!text.includes(needle)) await sleep(50);
  }
  return text;
}

/** One request on the monitor socket beside `socket`, crafted by hand as a script would: the raw reply line. */
function monitorRequest(socket: string, method: string): Promise<string> {
  return new Promise<string>((resolve, reject) => {
    const s = connect(socket.replace(/\.sock$/, '.ro.sock'));
    let buf = '';
    s.on('data', (d) => {
      buf += d;
      if (buf.includes('\n')) {
        s.destroy();
        resolve(buf);
      }
    });
    s.on('error', reject);
    s.write(JSON.stringify({ id: 1, method, params: { resource: 'r0' } }) + '\n');
  });
}

describe('drbd-agent CLI against two daemons', () => {
  let p: AgentPair;
  before(async () => {
    p = await createAgentPair();
  });
  after(async () => {
    await p?.close();
  });

  test('create-md, up: both Inconsistent and connected, no sync', async () => {
    for (const h of [p.a, p.b]) {
      const r = await h.cli('create-md', 'r0');
      assert.equal(r.code, 0, r.stderr);
    }
    const again = await p.a.cli('create-md', 'r0');
    assert.equal(again.code, 1);
    assert.match(again.stderr, /valid metadata found on .*a\.img \(node-id 0, Inconsistent, current UUID 0000000000000004.*use create-md --force to destroy it/);
    for (const h of [p.a, p.b]) assert.equal((await h.cli('up', 'r0')).code, 0);
    const text = await statusWhen(p.a, 'peer-disk:Inconsistent');
    assert.equal(text, 'r0 role:Secondary\n  disk:Inconsistent\n  ha-b role:Secondary\n    peer-disk:Inconsistent\n');
  });

  test('a refused promotion exits 1 with DRBD wording', async () => {
    const r = await p.a.cli('primary', 'r0');
    assert.equal(r.code, 1);
    assert.equal(r.stderr, 'r0: State change failed: Need access to UpToDate data\n');
  });

  test('primary --force starts the full sync; both end UpToDate with equal UUIDs', async () => {
    assert.equal((await p.a.cli('primary', '--force', 'r0')).code, 0);
    let json: Array<{ devices: Array<{ 'disk-state': string; uuids: { current: string } }> }> = [];
    for (let i = 0; i < 200; i++) {
      json = JSON.parse((await p.b.cli('status', '--json')).stdout);
      if (json[0]?.devices[0]?.['disk-state'] === 'UpToDate') break;
      await sleep(50);
    }
    const ja = JSON.parse((await p.a.cli('status', '--json')).stdout);
    assert.equal(json[0]!.devices[0]!['disk-state'], 'UpToDate');
    assert.equal(BigInt('0x' + ja[0].devices[0].uuids.current) >> 1n, BigInt('0x' + json[0]!.devices[0]!.uuids.current) >> 1n);
    assert.equal(await statusOf(p.a), 'r0 role:Primary\n  disk:UpToDate\n  ha-b role:Secondary\n    peer-disk:UpToDate\n');
    const peerPrimary = await p.b.cli('primary', 'r0');
    assert.equal(peerPrimary.code, 1);
    assert.match(peerPrimary.stderr, /Multiple primaries not allowed by config/);
  });

  test('events --now prints the events2 dump', async () => {
    const r = await p.a.cli('events', '--now');
    assert.equal(r.code, 0);
    const lines = r.stdout.trim().split('\n');
    assert.match(lines[0]!, /^exists resource name:r0 role:Primary /);
    assert.ok(lines.some((l) => /^exists peer-device name:r0 peer-node-id:1 conn-name:ha-b volume:0 replication:Established peer-disk:UpToDate/.test(l)));
    assert.equal(lines.at(-1), 'exists -');
  });

  test('sockets: admin 0600, monitor refuses a crafted state change', async () => {
    assert.equal((await stat(p.a.socket)).mode & 0o777, 0o600);
    assert.match(await monitorRequest(p.a.socket, 'secondary'), /"code":"read-only"/);
    assert.match(await statusOf(p.a), /role:Primary/);
  });

  test('the monitor socket refuses every lifecycle verb, resize included; resize without grown disks says why', async () => {
    for (const method of ['resize', 'invalidate', 'verify', 'pause-sync', 'resume-sync', 'attach', 'detach', 'adjust', 'down']) {
      assert.match(await monitorRequest(p.a.socket, method), /"code":"read-only"/, method);
    }
    const r = await p.a.cli('resize', 'r0');
    assert.equal(r.code, 1);
    assert.equal(r.stderr, 'r0: State change failed: The backing disks leave no more room: grow both backing disks first, then resize\n');
    assert.match(await statusOf(p.a), /role:Primary/);
  });

  test('split-brain copies: listed on the monitor socket too; restore is admin only and names what is missing', async () => {
    assert.match(await monitorRequest(p.a.socket, 'split-brain-copies'), /"result":\{"copies":\[\]\}/);
    assert.match(await monitorRequest(p.a.socket, 'split-brain-restore'), /"code":"read-only"/);
    assert.deepEqual(await p.a.cli('split-brain-copies', 'r0'), { code: 0, stdout: 'no split-brain copies kept of r0\n', stderr: '' });
    const r = await p.a.cli('split-brain-restore', 'r0', '20261207T000000.000Z');
    assert.equal(r.code, 1);
    assert.match(r.stderr, /r0: no kept split-brain copy 20261207T000000\.000Z \(see drbd-agent split-brain-copies r0\)/);
    assert.equal((await p.a.cli('connect', '--no-backup', 'r0')).code, 2, '--no-backup only with --discard-my-data');
  });

  test('graceful Secondary disconnect: the Primary shows the peer Outdated; promoting it needs --force', async () => {
    assert.equal((await p.b.cli('disconnect', 'r0')).code, 0);
    assert.equal(await statusWhen(p.a, 'peer-disk:Outdated'), 'r0 role:Primary\n  disk:UpToDate\n  ha-b connection:Connecting\n    peer-disk:Outdated\n');
    assert.equal(await statusOf(p.b), 'r0 role:Secondary\n  disk:Outdated\n  ha-a connection:StandAlone\n');
    const r = await p.b.cli('primary', 'r0');
    assert.equal(r.code, 1);
    assert.match(r.stderr, /Need access to UpToDate data/);
    assert.equal((await p.b.cli('connect', 'r0')).code, 0);
    await statusWhen(p.a, 'ha-b role:Secondary');
    assert.equal(await statusOf(p.b), 'r0 role:Secondary\n  disk:UpToDate\n  ha-a role:Primary\n    peer-disk:UpToDate\n');
  });

  test('a bad resource file is reported with file:line:col; the good one keeps working', async () => {
    await writeFile(join(p.a.root, 'etc', 'bad.yaml'), 'resource: bad\nprotocol: D\n');
    assert.equal((await p.a.cli('adjust')).code, 0);
    const text = await statusOf(p.a);
    assert.match(text, /^r0 role:Primary/);
    assert.match(text, /# config error: .*bad\.yaml:2:11: /);
  });

  test('up with a typo in its resource file shows the file:line:col of the typo, not "no resource file"', async () => {
    const r0 = await readFile(join(p.a.root, 'etc', 'r0.yaml'), 'utf8');
    const file = join(p.a.root, 'etc', 'r1.yaml');
    await writeFile(file, r0.replace('resource: r0', 'resource: r1').replace(/^protocol:/m, 'protocl:'));
    try {
      const r = await p.a.cli('up', 'r1');
      assert.notEqual(r.code, 0);
      assert.match(r.stderr, new RegExp(`^drbd-agent: ${file}:2:1: unknown key "protocl"`));
      assert.doesNotMatch(r.stderr, /No such resource/);
    } finally {
      await rm(file);
    }
  });

  test('adjust with a config entry that is a symlink to /dev/zero or to a FIFO reports it and reads nothing', async () => {
    const zero = join(p.a.root, 'etc', 'zero.yaml');
    const fifo = join(p.a.root, 'etc', 'fifo.yaml');
    const pipe = join(p.a.root, 'pipe');
    await symlink('/dev/zero', zero);
    assert.equal(spawnSync('mkfifo', [pipe]).status, 0, 'mkfifo');
    await symlink(pipe, fifo);
    try {
      const t0 = Date.now();
      assert.equal((await p.a.cli('adjust')).code, 0);
      assert.ok(Date.now() - t0 < 5000, `adjust took ${Date.now() - t0} ms`);
      const text = await statusOf(p.a);
      assert.match(text, /^r0 role:Primary/);
      for (const f of [zero, fifo]) assert.ok(text.includes(`# config error: ${f}:1:1: cannot read the file: it is not a regular file`), text);
    } finally {
      await Promise.all([zero, fifo, pipe].map((f) => rm(f)));
    }
  });

  test('the daemon survives a client that disconnects mid-command', async () => {
    const s = connect(p.a.socket);
    await new Promise((r) => s.once('connect', r));
    s.write(JSON.stringify({ id: 1, method: 'disconnect', params: { resource: 'r0' } }).slice(0, 20));
    s.destroy();
    const c = connect(p.a.socket);
    await new Promise((r) => c.once('connect', r));
    c.write(JSON.stringify({ id: 2, method: 'disconnect', params: { resource: 'r0' } }) + '\n');
    c.destroy();
    await sleep(300);
    const r = await p.a.cli('status');
    assert.equal(r.code, 0);
    assert.match(r.stdout, /^r0 role:Primary/);
  });
});

describe('drbd-agent status: resources known but not up', () => {
  let dir: string;
  let h: AgentHost;
  const disk = (n: string) => join(dir, `${n}.img`);
  const yaml = (name: string, opts: { disk: string; size?: boolean }) =>
    resourceYaml({ dir, portA: 7001, portB: 7002, size: '8MiB' })
      .replace('resource: r0', `resource: ${name}`)
      .replace(/disk:\n {6}ha-a: .*\n {6}ha-b: .*\n/, `disk: ${opts.disk}\n`)
      .replace(opts.size === false ? /\n {4}size: .*/ : /^$/, '');
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'drbd-agent-not-up-'));
    h = await agentHost(dir, 'ha-a', yaml('r0', { disk: disk('r0') }));
    await writeFile(join(h.root, 'etc', 'r1.yaml'), yaml('r1', { disk: join(dir, 'absent', 'r1.img'), size: false }));
    await writeFile(join(h.root, 'etc', 'r2.yaml'), yaml('r2', { disk: disk('r2'), size: false }));
    await writeFile(disk('r2'), '');
    await truncate(disk('r2'), 8 << 20);
    await writeFile(join(h.root, 'etc', 'r3.yaml'), yaml('r3', { disk: disk('r3') }));
    await writeFile(join(h.root, 'etc', 'bad.yaml'), 'resource: bad\nprotocol: D\n');
    await h.start();
  });
  after(async () => {
    await h?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  test('each says its state, cause and next step on a line of its own', async () => {
    assert.equal((await h.cli('create-md', 'r3')).code, 0);
    // Damage both superblock slots (the magic stays: a torn write, not a blank disk).
    const fh = await open(disk('r3'), 'r+');
    for (const off of computeLayout((await fh.stat()).size).superblockOffsets) await fh.write(Buffer.from('garbage'), 0, 7, off + 100);
    await fh.close();
    assert.equal((await h.cli('adjust')).code, 0);
    const lines = (await h.cli('status')).stdout.split('\n');
    const line = (name: string) => lines.find((l) => l.startsWith(`# not up: ${name} (`)) ?? `(no line for ${name} in:\n${lines.join('\n')})`;
    assert.match(line('r0'), new RegExp(`: broken: backing disk ${disk('r0')} does not exist; next: drbd-agent create-md r0 \\(creates .*\\), then: drbd-agent up r0$`));
    assert.match(line('r1'), /: broken: backing disk .*absent\/r1\.img does not exist; next: attach the disk or correct disk: in .*r1\.yaml, then: drbd-agent up r1$/);
    assert.match(line('r2'), /: broken: no metadata on .*r2\.img; next: drbd-agent create-md r2, then: drbd-agent up r2$/);
    assert.match(line('r3'), /: broken: metadata on .*r3\.img is damaged \(checksum mismatch\); next: if the peer holds good data: drbd-agent create-md --force r3/);
    assert.match(line('bad'), /: broken: .*bad\.yaml:(\d+:\d+): .*; next: fix .*bad\.yaml:\1, then: drbd-agent adjust$/);
    const one = await h.cli('status', 'r2');
    assert.equal(one.code, 10);
    assert.match(one.stderr, /^r2: not up: r2 \(.*\): broken: no metadata on /);
  });

  test('a failed up is remembered; create-md then up takes the resource to the drbdadm lines', async () => {
    const up = await h.cli('up', 'r2');
    assert.notEqual(up.code, 0);
    let events = (await h.cli('events', '--now')).stdout;
    for (let i = 0; i < 50 && !/not-up name:r2 .*up-error:/.test(events); i++) events = (await sleep(20), (await h.cli('events', '--now')).stdout);
    assert.match(events, /not-up name:r2 .*cause:metadata-missing .*up-error:"no valid metadata on .*r2\.img; run create-md first"/);
    let text = (await h.cli('status')).stdout;
    assert.match(text, /# not up: r2 \(.*\): broken: no metadata on .*r2\.img; next: drbd-agent create-md r2/);
    assert.equal((await h.cli('create-md', 'r0')).code, 0);
    text = (await h.cli('status')).stdout;
    for (let i = 0; i < 50 && !/# not up: r0 .*configured, down/.test(text); i++) text = (await sleep(20), (await h.cli('status')).stdout);
    assert.match(text, /# not up: r0 \(.*\): configured, down; next: drbd-agent up r0\n/);
    assert.equal((await h.cli('up', 'r0')).code, 0);
    text = (await h.cli('status')).stdout;
    assert.match(text, /^r0 role:Secondary\n {2}disk:Inconsistent\n/);
    assert.doesNotMatch(text, /# not up: r0 /);
    assert.match(text, /# not up: r1 /);
    // Taken down, it is shown as down at once, not gone.
    assert.equal((await h.cli('down', 'r0')).code, 0);
    text = (await h.cli('status')).stdout;
    assert.doesNotMatch(text, /^r0 role:/m);
    assert.match(text, /# not up: r0 \(.*\): configured, down; next: drbd-agent up r0\n/);
  });
});

describe('drbd-agent runbook-log: the runbooks the consoles put, kept across restarts', () => {
  let dir: string;
  let h: AgentHost;
  const record: RunbookRecord = { resource: 'r0', runbook: 'disk-replacement', subject: 'ha-b', state: 'active', completed: ['down'], steps: 4, started: '2026-12-07T12:40:00.000Z', updated: '2026-12-07T12:40:01.000Z', seq: 2, by: 'root@laptop' };
  const entry: RunbookLogEntry = { time: '2026-12-07T12:40:01.000Z', resource: 'r0', runbook: 'disk-replacement', subject: 'ha-b', step: 'down', title: 'take r0 down on ha-b', host: 'ha-b', command: 'drbd-agent down r0', result: 'ran', user: 'root@laptop' };
  const put = async (params: object) => {
    const c = await connectUnix(h.socket);
    try {
      return await c.request<RunbookPutResult>('runbook-put', params);
    } finally {
      c.close();
    }
  };
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'drbd-agent-runbooks-'));
    h = await agentHost(dir, 'ha-a', resourceYaml({ dir, portA: 7003, portB: 7004, size: '8MiB' }));
    await h.start();
  });
  after(async () => {
    h?.kill9();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  test('a put on the admin socket is stored and published; the monitor socket refuses it; a malformed one says what is wrong', async () => {
    assert.deepEqual(await put({ record, entry }), { record, stored: true });
    assert.match(await monitorRequest(h.socket, 'runbook-put'), /"code":"read-only".*refused: 'runbook-put' changes state and this is a read-only \(monitor\) channel/);
    await assert.rejects(put({ record: { ...record, completed: ['a b'] } }), /runbook-put refused: record\.completed\[0\] must be a step id/);
    await assert.rejects(put({ record: { ...record, runbook: 'switchover', started: '2026-12-07T13:00:00.000Z', seq: 1 } }), /finish or abandon the active runbook first: r0 disk-replacement\(ha-b\) active, step 2\/4, started 2026-12-07T12:40:00\.000Z by root@laptop/);
    const events = (await h.cli('events', '--now')).stdout;
    assert.match(events, /^exists runbook name:r0 runbook:disk-replacement subject:ha-b state:active step:2\/4 completed:down steps:4 started:2026-12-07T12:40:00\.000Z updated:2026-12-07T12:40:01\.000Z seq:2 by:root@laptop$/m);
    // The daemon's own log says what ran, not the params.
    assert.match(h.log.join(''), /r0: runbook disk-replacement\(ha-b\) active, step 2\/4 \(seq 2, by root@laptop\)/);
  });

  test('runbook-log prints one line per entry, on the admin and the monitor socket, and --json', async () => {
    await put({ record: { ...record, seq: 3, completed: ['down'] }, entry: { ...entry, time: '2026-12-07T12:41:00.000Z', step: 'create-md', title: "create metadata on ha-b's new disk", command: 'drbd-agent create-md r0', result: 'refused', detail: 'State change failed:\nDevice is held open by someone' } });
    const text = await h.cli('runbook-log', 'r0');
    assert.equal(text.code, 0, text.stderr);
    assert.equal(
      text.stdout,
      '2026-12-07T12:40:01.000Z r0 disk-replacement(ha-b) step down "take r0 down on ha-b" on ha-b: drbd-agent down r0 → ran (root@laptop)\n' +
        '2026-12-07T12:41:00.000Z r0 disk-replacement(ha-b) step create-md "create metadata on ha-b\'s new disk" on ha-b: drbd-agent create-md r0 → refused: State change failed: Device is held open by someone (root@laptop)\n',
    );
    const ro = await h.cli('--socket', h.socket.replace(/\.sock$/, '.ro.sock'), 'runbook-log', 'r0');
    assert.equal(ro.stdout, text.stdout);
    const json = JSON.parse((await h.cli('runbook-log', '--json', '--limit', '1')).stdout) as RunbookLogEntry[];
    assert.deepEqual(json.map((e) => e.result), ['refused']);
    assert.equal((await h.cli('runbook-log', 'r9')).stdout, '');
    assert.equal((await h.cli('runbook-log', '--limit', 'x')).code, 2);
  });

  test('after kill -9 and a restart the run and the log are still there', async () => {
    h.kill9();
    await new Promise((r) => h.proc!.once('exit', r));
    // The dead daemon's socket file stays behind: gone, the new one's appearing says it listens.
    await rm(h.socket, { force: true });
    await h.start();
    const c = await connectUnix(h.socket);
    try {
      const snap = await c.request<AgentSnapshot>('snapshot');
      assert.deepEqual(snap.runbooks, [{ ...record, seq: 3 }]);
    } finally {
      c.close();
    }
    assert.equal((await h.cli('runbook-log', 'r0')).stdout.split('\n').filter(Boolean).length, 2);
  });
});
