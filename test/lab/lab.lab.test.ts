import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import ssh2 from 'ssh2';
import type { Client } from 'ssh2';
import { entryMatchesHost, fingerprintSha256, parseKnownHosts } from '../../src/ssh/known-hosts.js';
import { resolveSshConfig } from '../../src/ssh/ssh-config.js';
import { createLab, describeLab, type Lab, type LabHost } from './lab.js';
import { ourLinks, ourNetns } from './netns.js';
import { connectLabSsh, HostKeyRejected, sshExec } from './ssh-client.js';
import { setTimeout as sleep } from 'node:timers/promises';

const LAB_MODULE = fileURLToPath(new URL('./lab.ts', import.meta.url));

function sh(cmd: string, args: string[]): Promise<string> {
  return new Promise((resolve, reject) =>
    execFile(cmd, args, { encoding: 'utf8', timeout: 20_000 }, (err, stdout, stderr) => (err ? reject(new Error(`${err.message}\n${stderr}`)) : resolve(stdout))),
  );
}

function closed(c: Client): Promise<void> {
  return new Promise((resolve) => c.once('close', () => resolve()));
}

async function within<T>(ms: number, what: string, p: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const t = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: not within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([p, t]);
  } finally {
    clearTimeout(timer);
  }
}

/** ha-X reads the SSH banner of `address`:22 with node's net module, from inside the host. */
async function bannerFrom(host: LabHost, address: string): Promise<string> {
  const script = `const s=require('net').connect(22,'${address}');s.setTimeout(1000,()=>{console.log('timeout');process.exit(0)});` +
    `s.on('data',d=>{console.log(String(d).split('\\r')[0]);process.exit(0)});s.on('error',e=>{console.log(e.code);process.exit(0)})`;
  const r = await host.exec([process.execPath, '-e', script], { timeoutMs: 10_000 });
  return r.stdout.trim();
}

/** Running (zombies awaiting their parent's wait() count as dead). */
function processAlive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}

/** Mount table lines of the root namespace mentioning the lab. */
function labMounts(lab: { dataRoot: string; index: number }): string[] {
  return readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .filter((l) => l.includes(lab.dataRoot) || l.includes(`/drbdlab${lab.index}-`));
}

describeLab('two-host lab', () => {
  let lab: Lab;
  let work: string;

  before(async () => {
    work = mkdtempSync(join(tmpdir(), 'lab-smoke-'));
    const t0 = Date.now();
    lab = await createLab();
    const ms = Date.now() - t0;
    assert.ok(ms < 5000, `lab took ${ms} ms to come up`);
  });
  after(async () => {
    await lab?.destroy();
    rmSync(work, { recursive: true, force: true });
  });

  test('addresses derive from the instance index', () => {
    assert.equal(lab.a.name, 'ha-a');
    assert.equal(lab.b.name, 'ha-b');
    assert.equal(lab.a.address, `10.77.${lab.index}.11`);
    assert.equal(lab.b.address, `10.77.${lab.index}.12`);
    assert.equal(lab.host('ha-b'), lab.b);
  });

  test('ssh2 reaches both aliases via ssh -G and known_hosts, and each has its own uname -n', async () => {
    for (const host of lab.hosts) {
      const cfg = await resolveSshConfig(host.name, { configFile: lab.sshConfig });
      assert.equal(cfg.hostname, host.address);
      assert.equal(cfg.user, 'root');
      assert.deepEqual(cfg.identityFiles, [lab.identity]);
      assert.deepEqual(cfg.userKnownHostsFiles, [lab.knownHosts]);
      const c = await connectLabSsh(lab.sshConfig, host.name);
      try {
        const r = await sshExec(c, 'uname -n');
        assert.equal(r.code, 0);
        assert.equal(r.stdout, `${host.name}\n`);
      } finally {
        c.end();
      }
    }
  });

  test('the OpenSSH client works with the lab files too (strict checking)', async () => {
    assert.equal(await sh('ssh', ['-F', lab.sshConfig, 'ha-a', 'uname -n']), 'ha-a\n');
    assert.equal(await sh('ssh', ['-F', lab.sshConfig, 'ha-b', 'uname -n']), 'ha-b\n');
  });

  test('a wrong key in known_hosts refuses the connection with OpenSSH\'s warning', async () => {
    const wrong = ssh2.utils.generateKeyPairSync('ed25519');
    const file = join(work, 'wrong_known_hosts');
    writeFileSync(file, `ha-a,${lab.a.address} ${wrong.public}\n`);
    const real = parseKnownHosts(readFileSync(lab.knownHosts, 'utf8')).find((e) => entryMatchesHost(e, 'ha-a', 22));
    assert.ok(real);
    await assert.rejects(connectLabSsh(lab.sshConfig, 'ha-a', { knownHostsFiles: [file] }), (err: unknown) => {
      assert.ok(err instanceof HostKeyRejected);
      assert.equal(err.verdict.status, 'changed');
      assert.match(err.message, /WARNING: REMOTE HOST IDENTIFICATION HAS CHANGED!/);
      assert.ok(err.message.includes(fingerprintSha256(real.keyBlob)), 'names the key the host sent');
      return true;
    });
    const empty = join(work, 'empty_known_hosts');
    writeFileSync(empty, '');
    await assert.rejects(connectLabSsh(lab.sshConfig, 'ha-b', { knownHostsFiles: [empty] }), (err: unknown) => {
      assert.ok(err instanceof HostKeyRejected);
      assert.equal(err.verdict.status, 'unknown');
      return true;
    });
  });

  test('private dirs are private: ha-a\'s /etc/drbd-tui is not visible from ha-b', async () => {
    for (const dir of ['/etc/drbd-tui', '/var/lib/drbd-tui', '/run/drbd-tui']) {
      const r = await lab.a.exec(['sh', '-c', `echo from-a > ${dir}/only-on-a && cat ${dir}/only-on-a`]);
      assert.equal(r.stdout, 'from-a\n', r.stderr);
      assert.equal((await lab.b.exec(['test', '-e', `${dir}/only-on-a`])).code, 1, `${dir} leaked to ha-b`);
      assert.equal(readFileSync(join(lab.a.realPath(dir), 'only-on-a'), 'utf8'), 'from-a\n');
      assert.ok(!existsSync(join(lab.b.realPath(dir), 'only-on-a')));
      assert.ok(!existsSync(join(dir, 'only-on-a')), `${dir} leaked to the machine`);
    }
    assert.equal(lab.a.dirs.etc, lab.a.realPath('/etc/drbd-tui'));
    // Processes started over ssh see the same private view as host.exec.
    assert.equal(await sh('ssh', ['-F', lab.sshConfig, 'ha-a', 'cat /etc/drbd-tui/only-on-a']), 'from-a\n');
  });

  test('the hosts reach each other, by address and by name', async () => {
    assert.equal((await lab.a.exec(['getent', 'hosts', 'ha-b'])).stdout.trim().split(/\s+/)[0], lab.b.address);
    assert.match(await bannerFrom(lab.a, 'ha-b'), /^SSH-2\.0-OpenSSH/);
    assert.match(await bannerFrom(lab.a, lab.b.address), /^SSH-2\.0-OpenSSH/);
    assert.match(await bannerFrom(lab.b, lab.a.address), /^SSH-2\.0-OpenSSH/);
  });

  test('powerOff: the host goes silent and loses its processes; powerOn: back, disks intact', async () => {
    await lab.a.exec(['sh', '-c', 'echo kept > /var/lib/drbd-tui/disk.img']);
    const before = await connectLabSsh(lab.sshConfig, 'ha-a', { keepaliveInterval: 200, keepaliveCountMax: 2 });
    const daemon = lab.a.spawn(['sleep', '600'], { stdio: 'ignore' });
    const daemonGone = new Promise((r) => daemon.once('exit', r));
    const oldInit = lab.a.initPid;

    await lab.a.powerOff();
    assert.equal(lab.a.poweredOn, false);
    assert.deepEqual(lab.a.pids(), []);
    assert.equal(oldInit !== undefined && processAlive(oldInit), false);
    await within(2000, 'spawned process killed', daemonGone);
    await within(5000, 'keepalive notices the dead host', closed(before));
    await assert.rejects(connectLabSsh(lab.sshConfig, 'ha-a', { readyTimeout: 1500 }));
    assert.throws(() => lab.a.spawn(['true']), /powered off/);
    const other = await connectLabSsh(lab.sshConfig, 'ha-b');
    assert.equal((await sshExec(other, 'uname -n')).stdout, 'ha-b\n');
    other.end();

    await lab.a.powerOn();
    const c = await connectLabSsh(lab.sshConfig, 'ha-a');
    try {
      assert.equal((await sshExec(c, 'uname -n; cat /var/lib/drbd-tui/disk.img')).stdout, 'ha-a\nkept\n');
    } finally {
      c.end();
    }
  });

  test('powerOff({ silent: false }): connections drop at once', async () => {
    const c = await connectLabSsh(lab.sshConfig, 'ha-b');
    const gone = closed(c);
    await lab.b.powerOff({ silent: false });
    await within(1000, 'connection reset', gone);
    await assert.rejects(connectLabSsh(lab.sshConfig, 'ha-b', { readyTimeout: 1500 }), /ECONNREFUSED|EHOSTUNREACH|Timed out/);
    await lab.b.powerOn();
    const again = await connectLabSsh(lab.sshConfig, 'ha-b');
    again.end();
  });

  test('cutLink / restoreLink', async () => {
    const kept = await connectLabSsh(lab.sshConfig, 'ha-b');
    lab.b.cutLink();
    try {
      assert.equal(lab.b.linkCut, true);
      await assert.rejects(connectLabSsh(lab.sshConfig, 'ha-b', { readyTimeout: 1000 }));
      assert.match(await bannerFrom(lab.a, lab.b.address), /^(timeout|EHOSTUNREACH)$/);
      // The host itself keeps running behind the cut.
      assert.equal((await lab.b.exec(['uname', '-n'])).stdout, 'ha-b\n');
    } finally {
      lab.b.restoreLink();
    }
    assert.match(await bannerFrom(lab.a, lab.b.address), /^SSH-2\.0-OpenSSH/);
    // A connection that saw no traffic during the cut survives it, as TCP does.
    assert.equal((await sshExec(kept, 'uname -n')).stdout, 'ha-b\n');
    kept.end();
  });

  test('stopSshd / startSshd', async () => {
    const c = await connectLabSsh(lab.sshConfig, 'ha-a');
    const gone = closed(c);
    const daemon = lab.a.spawn(['sleep', '600'], { stdio: 'ignore' });
    await lab.a.stopSshd();
    await within(2000, 'sessions end with sshd', gone);
    await assert.rejects(connectLabSsh(lab.sshConfig, 'ha-a', { readyTimeout: 1500 }), /ECONNREFUSED/);
    assert.ok(daemon.pid !== undefined && processAlive(daemon.pid), 'other processes of the host survive');
    await lab.a.startSshd();
    const again = await connectLabSsh(lab.sshConfig, 'ha-a');
    assert.equal((await sshExec(again, 'uname -n')).stdout, 'ha-a\n');
    again.end();

    const session = await connectLabSsh(lab.sshConfig, 'ha-a');
    await lab.a.stopSshd({ keepSessions: true });
    assert.equal((await sshExec(session, 'echo still')).stdout, 'still\n');
    session.end();
    await lab.a.startSshd();
    daemon.kill('SIGKILL');
  });

  test('a second lab runs beside the first, and a SIGKILLed lab is reaped by the next createLab', async () => {
    // The orphan: a separate process creates a lab and is killed without any cleanup.
    const script = join(work, 'orphan.mts');
    writeFileSync(
      script,
      `import { createLab } from ${JSON.stringify(LAB_MODULE)};\n` +
        `const lab = await createLab();\n` +
        `console.log(JSON.stringify({ index: lab.index, dataRoot: lab.dataRoot, pids: [...lab.a.pids(), ...lab.b.pids()] }));\n` +
        `setInterval(() => {}, 1000);\n`,
    );
    const child = spawn(process.execPath, ['--import', 'tsx', script], { stdio: ['ignore', 'pipe', 'inherit'] });
    const info = await within(
      15_000,
      'orphan lab up',
      new Promise<{ index: number; dataRoot: string; pids: number[] }>((resolve, reject) => {
        let buf = '';
        child.stdout.on('data', (b: Buffer) => {
          buf += b.toString();
          if (buf.includes('\n')) resolve(JSON.parse(buf.split('\n')[0] ?? ''));
        });
        child.once('exit', (code) => reject(new Error(`orphan exited ${code}`)));
      }),
    );
    const dead = new Promise((r) => child.once('exit', r));
    child.kill('SIGKILL');
    await dead;
    assert.notEqual(info.index, lab.index);
    assert.ok(info.pids.length >= 4 && info.pids.every(processAlive), 'the orphan left its hosts running');
    assert.equal(ourNetns(`drbdlab${info.index}-`).length, 2);

    const second = await createLab();
    try {
      // Poll: a concurrent run of this suite may be the one reaping it, a moment later.
      for (let i = 0; i < 100 && info.pids.some(processAlive); i++) await sleep(20);
      assert.ok(info.pids.every((p) => !processAlive(p)), 'orphan processes reaped');
      assert.ok(!existsSync(info.dataRoot), 'orphan files reaped');
      if (second.index !== info.index) assert.deepEqual(ourNetns(`drbdlab${info.index}-`), []);
      assert.notEqual(second.index, lab.index);
      // Same host names, different subnets: both labs work at once.
      const c = await connectLabSsh(second.sshConfig, 'ha-a');
      assert.equal((await sshExec(c, 'uname -n; hostname -I')).stdout, `ha-a\n${second.a.address} \n`);
      c.end();
      assert.equal((await lab.a.exec(['uname', '-n'])).stdout, 'ha-a\n');
    } finally {
      await second.destroy();
    }
    assert.deepEqual(ourNetns(`drbdlab${second.index}-`), []);
    assert.deepEqual(ourLinks(`drbdlab${second.index}-`), []);
  });

  test('destroy leaves no namespace, link, mount, process, file or lock behind', async () => {
    const pids = [...lab.a.pids(), ...lab.b.pids()];
    assert.ok(pids.length >= 4);
    const spawned = lab.b.spawn(['sleep', '600'], { stdio: 'ignore' });
    const { index, dataRoot } = lab;
    await lab.destroy();
    assert.equal(lab.destroyed, true);
    const prefix = `drbdlab${index}-`;
    assert.deepEqual(ourNetns(prefix), []);
    assert.doesNotMatch(await sh('ip', ['netns', 'list']), new RegExp(prefix));
    assert.deepEqual(ourLinks(prefix), []);
    assert.deepEqual(labMounts({ dataRoot, index }), []);
    assert.deepEqual(pids.filter(processAlive), []);
    assert.ok(spawned.pid !== undefined && !processAlive(spawned.pid));
    assert.ok(!existsSync(dataRoot));
    assert.ok(!existsSync(`/run/drbd-tui-lab/${index}`));
    await lab.destroy(); // idempotent
  });
});
