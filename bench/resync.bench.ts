// Resync volume after an outage and after a Primary crash, between the two lab hosts
// (issue 4, "Performance"). Goals:
//   1. after k MiB of scattered 4 KiB writes while disconnected, the resync moves ≤ 1.1 × k MiB;
//   2. after a Primary crash, it moves ≤ k + hot-extents × 4 MiB.
// Bytes moved are read from the engine's counters (B's `received`, A's `sent`) and, for what
// really crossed the wire, from the lab link's interface counters (payload + framing + bitmap).
// Needs root. Run: npm run build && node --import tsx bench/resync.bench.ts [k MiB, default 4]
import { spawnSync } from 'node:child_process';
import { rm } from 'node:fs/promises';
import { createLab, type LabHost } from '../test/lab/lab.js';
import { installResource, jsonWhen, labAgent, labResourceYaml, type LabAgent, type StatusJson } from '../test/support/lab-agents.js';

const k = Number(process.argv[2] ?? 4);
const MiB = 1024 * 1024;
const EXTENT = 4 * MiB;
/** Scattered writes stay within this span, so that they touch a known number of extents. */
const SPAN = Math.max(32, 8 * k) * MiB;
const VOLUME = '256MiB';

const peer = (s: StatusJson) => s.connections[0]!.peer_devices[0]!;
const conn = (s: StatusJson) => s.connections[0]!['connection-state'];
const fmt = (bytes: number) => `${(bytes / MiB).toFixed(2)} MiB`;

/** k MiB of 4 KiB writes spread evenly over SPAN, none adjacent to another. */
function scatteredWrites(): number[] {
  const n = k * 256;
  const stride = Math.floor(SPAN / 4096 / n);
  if (stride < 2) throw new Error(`k = ${k} MiB does not fit scattered in ${SPAN / MiB} MiB`);
  return Array.from({ length: n }, (_, i) => i * stride * 4096);
}

function qemuIo(url: string, offsets: number[]): void {
  const r = spawnSync('qemu-io', ['-f', 'raw', ...offsets.flatMap((o, i) => ['-c', `write -P 0x${((i % 250) + 1).toString(16)} ${o} 4k`]), url], { encoding: 'utf8', timeout: 300000 });
  if (r.status !== 0) throw new Error(`qemu-io failed: ${r.stdout}${r.stderr}`);
}

/** Bytes received on the host's lab interface (eth0 inside its namespace). */
async function rxBytes(host: LabHost): Promise<number> {
  const r = await host.exec(['cat', '/sys/class/net/eth0/statistics/rx_bytes']);
  return Number(r.stdout.trim());
}

const lab = await createLab({ sshd: false });
const a = labAgent(lab.a);
const b = labAgent(lab.b);
const results: Array<{ what: string; moved: number; bound: number }> = [];
try {
  for (const [name, port] of [['rs1', 7851], ['rs2', 7852]] as const) {
    const yaml = labResourceYaml(lab, { name, port, iscsiPort: port - 4500, size: VOLUME, maxRate: '1GiB/s' });
    await installResource(a, name, yaml.a);
    await installResource(b, name, yaml.b);
  }
  await a.start();
  await b.start();
  const url = (name: string, port: number) => `iscsi://${lab.a.address}:${port}/iqn.2026-11.com.example:${name}/0`;
  async function setup(name: string): Promise<void> {
    for (const agent of [a, b]) {
      await agent.cli('create-md', name);
      await agent.cli('up', name);
    }
    await jsonWhen(a, name, (s) => conn(s) === 'Connected', 'Connected');
    await a.cli('new-current-uuid', '--clear-bitmap', name);
    await jsonWhen(b, name, (s) => s.devices[0]!['disk-state'] === 'UpToDate', 'B UpToDate');
    await a.cli('primary', name);
    await a.cli('target', 'start', name);
  }
  const inSync = (agent: LabAgent, name: string) =>
    jsonWhen(agent, name, (s) => conn(s) === 'Connected' && peer(s)['replication-state'] === 'Established' && peer(s)['out-of-sync'] === 0 && peer(s)['peer-disk-state'] === 'UpToDate', 'in sync', 120000);
  const offsets = scatteredWrites();

  // 1. Outage of the Secondary: k MiB scattered while apart, then the bitmap resync.
  await setup('rs1');
  await lab.b.cutLink();
  await jsonWhen(a, 'rs1', (s) => conn(s) !== 'Connected', 'A notices the cut');
  qemuIo(url('rs1', 3351), offsets);
  const recv0 = peer(await b.json('rs1')).received;
  const sent0 = peer(await a.json('rs1')).sent;
  const rx0 = await rxBytes(lab.b);
  await lab.b.restoreLink();
  await inSync(a, 'rs1');
  const sb = await inSync(b, 'rs1');
  const rx = (await rxBytes(lab.b)) - rx0;
  const received = (peer(sb).received - recv0) * 1024;
  const sent = (peer(await a.json('rs1')).sent - sent0) * 1024;
  console.log(`1. ${k} MiB of scattered 4 KiB writes (${offsets.length}) while disconnected, then reconnect:`);
  console.log(`   B received ${fmt(received)}, A sent ${fmt(sent)}: ratio ${(received / (k * MiB)).toFixed(3)} (goal <= 1.10)`);
  console.log(`   B's link received ${fmt(rx)} in all (framing, acks, bitmap exchange, pings): ratio ${(rx / (k * MiB)).toFixed(3)}`);
  results.push({ what: 'outage', moved: Math.max(received, sent), bound: 1.1 * k * MiB });

  // 2. Primary crash: the same writes while apart, then A loses power before the link returns;
  // its unpersisted bitmap bits are covered by the hot extents that join the bitmap at attach.
  await setup('rs2');
  await lab.b.cutLink();
  await jsonWhen(a, 'rs2', (s) => conn(s) !== 'Connected', 'A notices the cut');
  qemuIo(url('rs2', 3352), offsets);
  const hot = new Set(offsets.map((o) => Math.floor(o / EXTENT))).size;
  const recv1 = peer(await b.json('rs2')).received;
  await lab.a.powerOff();
  await lab.b.restoreLink();
  await lab.a.powerOn();
  await rm(a.path('/run/drbd-tui/agent.sock'), { force: true });
  await rm(a.path('/run/drbd-tui/agent.ro.sock'), { force: true });
  await a.start();
  const sb2 = await inSync(b, 'rs2');
  const moved = (peer(sb2).received - recv1) * 1024;
  const bound = k * MiB + hot * EXTENT;
  console.log(`2. the same writes, then the Primary powered off and restarted (${hot} extents hot at most):`);
  console.log(`   B received ${fmt(moved)}; bound k + hot-extents x 4 MiB = ${fmt(bound)}: ratio to bound ${(moved / bound).toFixed(3)} (goal <= 1.00)`);
  results.push({ what: 'primary crash', moved, bound });
} finally {
  await lab.destroy();
}
const over = results.filter((r) => r.moved > r.bound);
for (const r of over) console.log(`OVER GOAL: ${r.what}: ${fmt(r.moved)} > ${fmt(r.bound)}`);
process.exitCode = over.length > 0 ? 1 : 0;
