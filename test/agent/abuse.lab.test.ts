// Abuse probes against a real daemon (dist/agent.mjs) on loopback with real clients: non-reading
// monitor subscribers while the Primary is written through its target (qemu-img bench), 20 000
// refused iSCSI logins with the daemon's RSS measured, and an initiator outside
// allowed-initiators refused by a real initiator. Each with its limit asserted, generously.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { connect, type Socket } from 'node:net';
import { createAgentPair, type AgentPair } from '../support/agent-daemons.js';
import { LoginError, TestInitiator } from '../support/iscsi-initiator.js';
import { ISCSI_TOOLS, requireTools } from '../support/lab-packages.js';
import { resourceYaml } from '../support/two-runtimes.js';
import { freePort, waitFor } from '../support/wait.js';
import { setTimeout as sleep } from 'node:timers/promises';
import { monitorSocketPath } from '../../agent/protocol/socket-paths.js';

const IQN = 'iqn.2026-11.com.example:r0';
const ALLOWED = 'iqn.2026-11.test.drbd-tui:bench';

function run(cmd: string, args: string[], timeoutMs = 120_000): Promise<{ code: number; out: string }> {
  return new Promise((resolve) => {
    execFile(cmd, args, { timeout: timeoutMs, maxBuffer: 16 << 20 }, (err, stdout, stderr) => {
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, out: `${stdout}${stderr}` });
    });
  });
}

async function rssMiB(pid: number): Promise<number> {
  const m = /VmRSS:\s+(\d+) kB/.exec(await readFile(`/proc/${pid}/status`, 'utf8'));
  assert.ok(m, 'VmRSS in /proc/PID/status');
  return Number(m[1]) / 1024;
}

describe('abuse: a daemon under hostile clients', async () => {
  const skip = await requireTools(ISCSI_TOOLS);
  let pair: AgentPair | undefined;
  let port = 0;

  before(async () => {
    if (skip) return;
    port = await freePort('127.0.0.1');
    const yaml = (dir: string, a: number, b: number) =>
      `${resourceYaml({ dir, portA: a, portB: b, size: '64MiB' })}iscsi:\n  iqn: ${IQN}\n  portal: 127.0.0.1:${port}\n  allowed-initiators: [${ALLOWED}]\n`;
    pair = await createAgentPair({ yamlFor: yaml });
    for (const h of [pair.a, pair.b]) assert.equal((await h.cli('create-md', 'r0')).code, 0);
    for (const h of [pair.a, pair.b]) assert.equal((await h.cli('up', 'r0')).code, 0);
    assert.equal((await pair.a.cli('primary', '--force', 'r0')).code, 0);
    const r = await pair.a.cli('target', 'start', 'r0');
    assert.equal(r.code, 0, r.stderr);
  });

  after(async () => {
    await pair?.close();
  });

  /** 4 KiB random writes through qemu's iSCSI driver as the allowed initiator; IOPS. */
  async function writeIops(): Promise<number> {
    const spec = JSON.stringify({ driver: 'raw', file: { driver: 'iscsi', transport: 'tcp', portal: `127.0.0.1:${port}`, target: IQN, lun: 0, 'initiator-name': ALLOWED } });
    const count = 6000;
    const r = await run('qemu-img', ['bench', '-w', '-c', String(count), '-d', '16', '-s', '4096', '-S', '1048576', '-t', 'none', `json:${spec}`]);
    assert.equal(r.code, 0, r.out);
    const m = /Run completed in ([\d.]+) seconds/.exec(r.out);
    assert.ok(m, r.out);
    return count / Number(m[1]);
  }

  test('2000 monitor subscribers that never read: the write rate holds (≥ 0.5 of before), the daemon grows < 100 MiB, the excess is refused and the stuck are dropped', { skip }, async () => {
    const pid = pair!.a.proc!.pid!;
    await writeIops(); // warm-up: the first run pays for the volume's first writes
    const before = await writeIops();
    const rssBefore = await rssMiB(pid);
    const monitor = monitorSocketPath(pair!.a.socket);
    const socks: Socket[] = [];
    let refused = 0;
    for (let k = 0; k < 2000; k++) {
      const s = connect(monitor);
      s.on('error', () => undefined);
      s.on('close', () => refused++);
      s.pause();
      s.write('{"id":1,"method":"subscribe","params":{"statistics":true}}\n');
      socks.push(s);
    }
    const during = await writeIops();
    const rssDuring = await rssMiB(pid);
    const log = pair!.a.log.join('');
    for (const s of socks) s.destroy();
    console.log(`# write IOPS before ${before.toFixed(0)}, with 2000 non-reading subscribers ${during.toFixed(0)} (ratio ${(during / before).toFixed(2)}); RSS ${rssBefore.toFixed(0)} → ${rssDuring.toFixed(0)} MiB; closed by the daemon ${refused}`);
    assert.ok(during / before >= 0.5, `write rate ${during.toFixed(0)} vs ${before.toFixed(0)} IOPS`);
    assert.ok(rssDuring - rssBefore < 100, `RSS grew ${(rssDuring - rssBefore).toFixed(0)} MiB`);
    assert.ok(refused >= 2000 - 64, `connections past the cap closed (${refused})`);
    assert.match(log, /monitor socket: 64 connections open \(at most 64\)/);
  });

  test('20 000 refused logins: the daemon keeps no memory of them (RSS growth < 80 MiB after idle, the leak it replaces was ~215 MiB) and still serves', { skip, timeout: 180_000 }, async () => {
    const pid = pair!.a.proc!.pid!;
    let refused = 0;
    const worker = async (n: number) => {
      for (let k = 0; k < n; k++) {
        try {
          const i = await TestInitiator.login({ port, target: IQN, initiatorName: 'iqn.2026-11.test.drbd-tui:intruder' });
          i.close();
        } catch (e) {
          if (e instanceof LoginError && e.status === 0x0202) refused++;
        }
      }
    };
    // Fewer at once than the per-address login cap: each is a refused login, not a closed connection.
    const burst = (n: number) => Promise.all(Array.from({ length: 6 }, () => worker(Math.ceil(n / 6))));
    // A first burst lets the heap reach its working size (garbage is collected, not returned to
    // the system at once); what a leak would add comes on top of it, ~11 KB a login.
    await burst(5000);
    await sleep(2000);
    const rssBefore = await rssMiB(pid);
    refused = 0;
    await burst(20_000);
    await sleep(5000);
    const rssAfter = await rssMiB(pid);
    console.log(`# ${refused} refused logins; RSS ${rssBefore.toFixed(0)} → ${rssAfter.toFixed(0)} MiB after 5 s idle`);
    assert.ok(refused >= 20_000, `${refused} refused with 0x0202`);
    assert.ok(rssAfter - rssBefore < 80, `RSS grew ${(rssAfter - rssBefore).toFixed(0)} MiB`);
    assert.ok((await writeIops()) > 0);
  });

  test('allowed-initiators with a real initiator: iscsi-inq under another name is refused, under the allowed name answered', { skip }, async () => {
    const url = `iscsi://127.0.0.1:${port}/${IQN}/0`;
    const other = await run('iscsi-inq', ['-i', 'iqn.2026-11.test.drbd-tui:intruder', url]);
    assert.notEqual(other.code, 0, other.out);
    assert.match(other.out, /authoriz|Forbidden|0x0202|not allowed|Login Failed/i);
    const ok = await run('iscsi-inq', ['-i', ALLOWED, url]);
    assert.equal(ok.code, 0, ok.out);
    assert.match(ok.out, /Vendor:DRBD-TUI/);
    await waitFor(() => pair!.a.log.join('').includes('is not in allowed-initiators'), 'the refusal in the daemon log', 5000);
  });
});
