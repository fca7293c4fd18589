import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { lstatSync, mkdirSync, mkdtempSync, readFileSync, readlinkSync, rmSync, writeFileSync, existsSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { hostProblem, installScript, INSTALL_ROOT, parseProbe, pathLinkScript, probeScript, remoteAgentPath, startScript, systemdUnit, UNIT_PATH } from '../../../src/ssh/deploy.js';
import { bridgeCommand } from '../../../src/ssh/agent-channel.js';

describe('deploy decisions', () => {
  test('the install path is versioned by version and content', () => {
    const p = remoteAgentPath({ version: '0.1.0', sha256: 'ab'.repeat(32) });
    assert.equal(p, `${INSTALL_ROOT}/0.1.0-abababababab/agent.mjs`);
  });

  test('parseProbe reads what the probe script prints', () => {
    const f = parseProbe('uid=1000\nnode=/usr/bin/node\nnodeVersion=v20.20.2\nsystemd=1\nsudo=password\ninstalled=\npid=\n');
    assert.deepEqual(f, { uid: 1000, nodePath: '/usr/bin/node', nodeVersion: 'v20.20.2', systemd: true, sudo: 'password', installedSha: undefined, pid: undefined });
    const g = parseProbe(`uid=0\nnode=\nsystemd=0\ninstalled=${'a'.repeat(64)}\npid=42\n`);
    assert.equal(g.installedSha, 'a'.repeat(64));
    assert.equal(g.pid, 42);
    assert.equal(g.nodePath, undefined);
    assert.throws(() => parseProbe('sh: 1: Syntax error'), /cannot read the host's facts/);
  });

  test('the probe script runs under sh and reports this machine', () => {
    const out = execFileSync('sh', ['-c', probeScript('/nonexistent/agent.mjs')], { encoding: 'utf8' });
    const f = parseProbe(out);
    assert.equal(f.uid, process.getuid?.());
    assert.equal(f.nodeVersion, process.version);
    assert.equal(f.installedSha, undefined);
  });

  test('host problems: Node missing or old, sudo absent or wanting a password — each says what to do', () => {
    const ok = { uid: 0, nodePath: '/usr/bin/node', nodeVersion: 'v20.1.0', systemd: false };
    assert.equal(hostProblem(ok, 'ha-a'), undefined);
    assert.match(hostProblem({ ...ok, nodePath: undefined }, 'ha-a')!.message, /ha-a: Node.js is not installed .*apt install nodejs/);
    assert.match(hostProblem({ ...ok, nodeVersion: 'v18.19.0' }, 'ha-a')!.message, /v18\.19\.0 .* too old; the agent needs 20 or newer/);
    assert.match(hostProblem({ ...ok, uid: 1000, sudo: 'absent' }, 'ha-b')!.message, /not root and sudo is not installed/);
    assert.match(hostProblem({ ...ok, uid: 1000, sudo: 'password' }, 'ha-b')!.message, /sudo needs a password .*NOPASSWD/);
    assert.equal(hostProblem({ ...ok, uid: 1000, sudo: 'ok' }, 'ha-b'), undefined);
  });

  test('systemd hosts get an enabled unit (back after reboot); others a detached process with a pid file', () => {
    const unit = systemdUnit('/usr/bin/node', '/var/lib/drbd-tui/agent/x/agent.mjs');
    assert.match(unit, /ExecStart=\/usr\/bin\/node \/var\/lib\/drbd-tui\/agent\/x\/agent\.mjs daemon/);
    assert.match(unit, /WantedBy=multi-user\.target/);
    const sd = startScript({ systemd: true }, '/usr/bin/node', '/a.mjs');
    assert.ok(sd.includes(UNIT_PATH) && sd.includes('systemctl enable drbd-agent.service') && sd.includes('systemctl restart'));
    const plain = startScript({ systemd: false }, '/usr/bin/node', '/a.mjs');
    assert.match(plain, /setsid nohup \/usr\/bin\/node \/a\.mjs daemon/);
    assert.match(plain, /echo \$! > \/run\/drbd-tui\/agent\.pid/);
    for (const s of [sd, plain]) assert.equal(spawnSync('sh', ['-n', '-c', s]).status, 0, 'valid sh');
  });

  test('installScript: temp name, sha256 verified, then renamed; a mismatch leaves nothing', () => {
    const dir = mkdtempSync(join(tmpdir(), 'deploy-test-'));
    try {
      const data = Buffer.from('console.log("agent")\n');
      const sha = createHash('sha256').update(data).digest('hex');
      const target = join(dir, 'agent', '0.1.0-x', 'agent.mjs');
      writeFileSync(join(dir, 'stage'), data);
      execFileSync('sh', ['-c', installScript(join(dir, 'stage'), target, sha)]);
      assert.deepEqual(readFileSync(target), data);
      assert.equal(existsSync(join(dir, 'stage')), false, 'stage removed');
      writeFileSync(join(dir, 'stage2'), 'tampered');
      const target2 = join(dir, 'agent', '0.1.0-y', 'agent.mjs');
      const r = spawnSync('sh', ['-c', installScript(join(dir, 'stage2'), target2, sha)], { encoding: 'utf8' });
      assert.equal(r.status, 3);
      assert.match(r.stderr, /sha256 mismatch after upload/);
      assert.deepEqual(readdirSync(join(dir, 'agent', '0.1.0-y')), []);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('pathLinkScript: drbd-agent on PATH runs the deployed version, swapped on upgrade; a file not ours is kept', () => {
    const dir = mkdtempSync(join(tmpdir(), 'deploy-link-'));
    try {
      const link = join(dir, 'sbin', 'drbd-agent');
      const deployed = (v: string) => {
        const p = join(dir, 'agent', v, 'agent.mjs');
        mkdirSync(join(dir, 'agent', v), { recursive: true });
        writeFileSync(p, `console.log('${v}', process.argv.slice(2).join(' '))\n`);
        return p;
      };
      const run = (agentPath: string) => execFileSync('sh', ['-c', pathLinkScript(process.execPath, agentPath, link)], { encoding: 'utf8' });
      assert.equal(run(deployed('0.1.0-aaa')), 'path-link=ok\n');
      assert.equal(execFileSync(link, ['status', "it's r0"], { encoding: 'utf8' }), "0.1.0-aaa status it's r0\n");
      assert.equal(run(deployed('0.2.0-bbb')), 'path-link=ok\n');
      assert.equal(readlinkSync(link), join(dir, 'agent', '0.2.0-bbb', 'drbd-agent'));
      assert.equal(execFileSync(link, ['status'], { encoding: 'utf8' }), '0.2.0-bbb status\n');
      assert.deepEqual(readdirSync(join(dir, 'sbin')), ['drbd-agent'], 'no temp link left');
      rmSync(link);
      writeFileSync(link, '#!/bin/sh\necho mine\n');
      assert.equal(run(deployed('0.3.0-ccc')), 'path-link=foreign\n');
      assert.ok(lstatSync(link).isFile());
      assert.equal(readFileSync(link, 'utf8'), '#!/bin/sh\necho mine\n');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('the exec bridge quotes its program and socket for the shell', () => {
    const c = bridgeCommand("/run/x y/agent.sock", { sudo: true, nodePath: '/usr/bin/node' });
    assert.match(c, /^sudo -n \/usr\/bin\/node -e '.*' '\/run\/x y\/agent\.sock'$/);
  });
});
