// The iSCSI service address between two daemons in the lab: it follows the Primary's target,
// is refused while another host answers for it, and initiators that keep writing through it
// get through a planned switchover and a failover with every acknowledged write intact. The
// pauses are measured and printed (the README quotes them), never asserted beyond Windows'
// 60 s default.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { createLab, describeLab, type Lab, type LabHost } from '../lab/lab.js';
import { run as runTool } from '../lab/run.js';
import { ISCSI_TOOLS, requireTools } from '../support/lab-packages.js';
import { longestPause, missingAcks, ReconnectingWriter } from '../support/reconnecting-writer.js';
import { conn, disconnected, disk, inSync, installResource, jsonWhen, labAgent, labResourceYaml, labServiceAddress, type LabAgent, type StatusJson } from '../support/lab-agents.js';
import { setTimeout as sleep } from 'node:timers/promises';

const RES = 'sa0';
const IQN = `iqn.2026-11.com.example:${RES}`;
const BLOCK = 4096;
const SIZE_MIB = 64;
/** Windows' initiator gives up on a path after 60 s by default: a pause past it loses the disk. */
const WINDOWS_GIVES_UP_MS = 60_000;

type ServiceAddressJson = { address: string; interface: string; held: boolean };
const serviceAddress = (s: StatusJson) => (s as StatusJson & { 'iscsi-target'?: { state: string; serviceAddress?: ServiceAddressJson } })['iscsi-target']?.serviceAddress;

const run = (cmd: string, args: string[], timeoutMs = 60000) => runTool(cmd, args, { allowFail: true, timeoutMs });

/** Whether the host's namespace has the address (what the kernel says, not the agent). */
async function holds(host: LabHost, addr: string): Promise<boolean> {
  const r = await run('ip', ['-n', host.netns, '-o', '-4', 'addr', 'show']);
  return r.stdout.split('\n').some((l) => l.includes(` ${addr}/`));
}

async function mac(host: LabHost): Promise<string> {
  const r = await run('ip', ['-n', host.netns, '-j', 'link', 'show', 'eth0']);
  return (JSON.parse(r.stdout) as Array<{ address: string }>)[0]!.address.toLowerCase();
}

async function ok(agent: LabAgent, ...args: string[]): Promise<void> {
  const r = await agent.cli(...args);
  assert.equal(r.code, 0, `${args.join(' ')} on ${agent.host.name}: ${r.stdout}${r.stderr}\nlog of ${agent.host.name}:\n${agent.log.join('')}`);
}

describeLab('the iSCSI service address follows the Primary between two daemons in the lab', async () => {
  const skip = await requireTools([...ISCSI_TOOLS, { path: '/usr/bin/arping', pkg: 'iputils-arping' }, { path: '/usr/sbin/ip', pkg: 'iproute2' }]);
  let lab: Lab;
  let a: LabAgent;
  let b: LabAgent;
  let addr = '';
  let dir = '';
  const writers: ReconnectingWriter[] = [];
  const pauses: string[] = [];

  before(async () => {
    if (skip) return;
    lab = await createLab({ sshd: false });
    addr = labServiceAddress(lab);
    dir = await mkdtemp(join(tmpdir(), 'drbd-tui-svcaddr-'));
    a = labAgent(lab.a);
    b = labAgent(lab.b);
    const yaml = labResourceYaml(lab, { name: RES, port: 7797, size: `${SIZE_MIB}MiB`, serviceAddress: `${addr}/24` });
    for (const [agent, side] of [[a, 'a'], [b, 'b']] as const) {
      await installResource(agent, RES, yaml[side]);
      await agent.start();
      await ok(agent, 'create-md', RES);
      await ok(agent, 'up', RES);
    }
    await jsonWhen(a, RES, (s) => conn(s)['connection-state'] === 'Connected', 'Connected');
    await ok(a, 'new-current-uuid', '--clear-bitmap', RES);
    await inSync(b, RES, 'B UpToDate');
    await ok(a, 'primary', RES);
  });
  after(async () => {
    for (const w of writers) await w.stop();
    if (pauses.length > 0) console.log(`service-address: ${pauses.join(', ')}`);
    await lab?.destroy();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  test('target start on the Primary adds the address and serves on it; target stop removes it', { skip }, async () => {
    await ok(a, 'target', 'start', RES);
    assert.ok(await holds(lab.a, addr), 'ha-a holds the service address');
    assert.deepEqual(serviceAddress(await a.json(RES)), { address: `${addr}/24`, interface: 'eth0', held: true });
    assert.match((await a.cli('status', RES)).stdout, new RegExp(`^# service-address: ${addr.replace(/\./g, '\\.')}/24 on eth0 held:yes target:running$`, 'm'));
    const ls = await run('iscsi-ls', ['-s', `iscsi://${addr}:3260`]);
    assert.equal(ls.code, 0, ls.stderr);
    assert.match(ls.stdout, new RegExp(`Target:${IQN} Portal:${addr.replace(/\./g, '\\.')}:3260,1`), 'discovery answers with the service address as the portal');
    const inq = await run('iscsi-inq', [`iscsi://${addr}:3260/${IQN}/0`]);
    assert.equal(inq.code, 0, inq.stderr);
    assert.match(inq.stdout, /Vendor:DRBD-TUI/);

    // Changed by hand, the status follows: the agent watches the host's addresses.
    assert.equal((await run('ip', ['-n', lab.a.netns, 'addr', 'del', `${addr}/24`, 'dev', 'eth0'])).code, 0);
    await jsonWhen(a, RES, (s) => serviceAddress(s)?.held === false, 'held:no after ip addr del by hand');
    assert.equal((await run('ip', ['-n', lab.a.netns, 'addr', 'add', `${addr}/24`, 'dev', 'eth0'])).code, 0);
    await jsonWhen(a, RES, (s) => serviceAddress(s)?.held === true, 'held:yes after ip addr add by hand');

    await ok(a, 'target', 'stop', RES);
    assert.equal(await holds(lab.a, addr), false, 'the address left with the target');
    assert.equal(serviceAddress(await a.json(RES))?.held, false);
    assert.ok(a.log.join('').includes(`service address ${addr}/24 removed from eth0: the target stopped`), a.log.join(''));
  });

  test('the Secondary refuses; a host that answers for the address makes target start refuse, naming its MAC', { skip }, async () => {
    const onB = await b.cli('target', 'start', RES);
    assert.notEqual(onB.code, 0);
    assert.match(onB.stderr, /target start refused: sa0 is Secondary here/);
    assert.equal(await holds(lab.b, addr), false);

    // Someone else (here: ha-a's namespace, by hand) has the address.
    await ok(a, 'secondary', RES);
    await ok(b, 'primary', RES);
    assert.equal((await run('ip', ['-n', lab.a.netns, 'addr', 'add', `${addr}/24`, 'dev', 'eth0'])).code, 0);
    try {
      const refused = await b.cli('target', 'start', RES);
      assert.notEqual(refused.code, 0);
      assert.match(refused.stderr, new RegExp(`target start refused: sa0: service address ${addr.replace(/\./g, '\\.')} is in use: ${await mac(lab.a)} answered for it \\(duplicate address detection on eth0\\)`));
      assert.equal(await holds(lab.b, addr), false, 'ha-b did not take it');
      assert.equal((await b.json(RES))['iscsi-target' as keyof StatusJson] !== undefined, true);
      assert.equal(serviceAddress(await b.json(RES))?.held, false);
    } finally {
      await run('ip', ['-n', lab.a.netns, 'addr', 'del', `${addr}/24`, 'dev', 'eth0']);
    }
    await ok(b, 'target', 'start', RES);
    assert.ok(await holds(lab.b, addr));
    // Back to ha-a serving, for what follows.
    await ok(b, 'target', 'stop', RES);
    await ok(b, 'secondary', RES);
    await ok(a, 'primary', RES);
    await ok(a, 'target', 'start', RES);
    assert.ok(await holds(lab.a, addr));
    assert.equal(await holds(lab.b, addr), false);
  });

  test('a daemon killed while holding the address: its next start removes it', { skip }, async () => {
    assert.ok(await holds(lab.a, addr));
    a.daemon!.kill('SIGKILL');
    await new Promise((r) => a.daemon!.once('exit', r));
    assert.ok(await holds(lab.a, addr), 'the kernel keeps the address of a killed daemon');
    await a.start();
    // start() returns at the socket file, which the killed daemon left: wait for the log line.
    for (let i = 0; i < 200 && !a.log.join('').includes('removed from eth0: no target runs here'); i++) await sleep(50);
    assert.ok(a.log.join('').includes(`service address ${addr}/24 removed from eth0: no target runs here`), a.log.join(''));
    assert.equal(await holds(lab.a, addr), false, 'the restarted daemon removed it');
    await jsonWhen(a, RES, (s) => conn(s)['connection-state'] === 'Connected', 'Connected again');
    await inSync(a, RES);
    if ((await a.json(RES)).role !== 'Primary') await ok(a, 'primary', RES);
    await ok(a, 'target', 'start', RES);
  });

  async function verify(writer: ReconnectingWriter, what: string): Promise<void> {
    const image = join(dir, `${what}.img`);
    const r = await run('qemu-img', ['convert', '-f', 'raw', '-O', 'raw', `iscsi://${addr}:3260/${IQN}/0`, image], 120000);
    assert.equal(r.code, 0, r.stderr);
    const missing = missingAcks(await readFile(image), writer.acks, BLOCK);
    assert.deepEqual(missing.slice(0, 10), [], `${missing.length} of ${writer.acks.length} acknowledged writes do not read back after the ${what}`);
  }

  function newWriter(): ReconnectingWriter {
    const w = new ReconnectingWriter({ host: addr, port: 3260, target: IQN, blockBytes: BLOCK, slots: (SIZE_MIB << 20) / BLOCK, gapMs: 5 });
    writers.push(w);
    return w;
  }

  /** Waits for the writer to get through again, stops it and reports the longest pause since `from`. */
  async function resumed(w: ReconnectingWriter, from: number, what: string): Promise<void> {
    await w.more(100, 30000);
    const to = performance.now();
    await w.stop();
    const pause = longestPause(w.acks, from, to);
    pauses.push(`${what} pause ${(pause.ms / 1000).toFixed(1)} s`);
    console.log(`service-address: ${what}: I/O paused ${(pause.ms / 1000).toFixed(2)} s (write ${pause.before?.seq} to ${pause.after?.seq}), ${((to - from) / 1000).toFixed(1)} s until 100 more writes, ${w.logins} logins`);
    assert.ok(pause.ms > 0 && pause.ms < WINDOWS_GIVES_UP_MS, `pause ${pause.ms} ms`);
  }

  test('planned switchover under a writer: the pause, and every acknowledged write reads back', { skip }, async () => {
    const w = newWriter();
    w.start();
    await w.more(100, 20000);
    const from = performance.now();
    await ok(a, 'target', 'stop', RES);
    await ok(a, 'secondary', RES);
    await ok(b, 'primary', RES);
    await ok(b, 'target', 'start', RES);
    await resumed(w, from, 'switchover');
    assert.ok(await holds(lab.b, addr));
    assert.equal(await holds(lab.a, addr), false);
    await verify(w, 'switchover');
  });

  test('failover under a writer: the Primary loses power, the survivor takes the address; the pause, and every acknowledged write reads back', { skip }, async () => {
    // ha-b serves now: make ha-a the Primary again, so the writer starts there.
    await inSync(b, RES);
    await ok(b, 'target', 'stop', RES);
    await ok(b, 'secondary', RES);
    await ok(a, 'primary', RES);
    await ok(a, 'target', 'start', RES);
    const w = newWriter();
    w.start();
    await w.more(100, 20000);
    const from = performance.now();
    // Power loss: link dark, every process SIGKILLed (the daemon cannot remove anything), and
    // the address gone with the machine's memory.
    await lab.a.powerOff();
    await run('ip', ['-n', lab.a.netns, 'addr', 'del', `${addr}/24`, 'dev', 'eth0']);
    await disconnected(b, RES);
    assert.equal(disk(await b.json(RES)), 'UpToDate', 'the survivor had every acknowledged write');
    await ok(b, 'primary', RES);
    await ok(b, 'target', 'start', RES);
    await resumed(w, from, 'failover');
    assert.ok(await holds(lab.b, addr));
    await verify(w, 'failover');
  });
});
