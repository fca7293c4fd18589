// qemu-img bench against our iSCSI target and tgt serving a plain file, in the same run on
// the same machine: prints each figure and the ratio ours/tgt (goal ≥ 0.8).
//
// Plain (default): our target in this process serves a file-backed device on loopback; tgt
// serves a file on loopback.
// --replicated: the product as deployed. Agent daemons run in the lab hosts ha-a (Primary,
// serving the target) and ha-b (its peer, protocol C over the lab bridge); tgtd and the
// initiator run in ha-a too, so both targets are reached over ha-a's loopback.
//
// Run: npm run build && node --import tsx bench/iscsi.bench.ts [--replicated] [--only TEXT] [--runs N]
// Needs root (tgtd; the lab for --replicated), qemu-utils, qemu-block-extra, tgt.
// Profiling the daemons: AGENT_NODE_ARGS='--cpu-prof --cpu-prof-dir=/tmp/prof'.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm, open } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { FileBlockDevice } from '../agent/block/file-block-device.js';
import { IscsiTarget } from '../agent/iscsi/target.js';
import { createLab, type Lab, type LabHost } from '../test/lab/lab.js';
import { conn, inSync, installResource, jsonWhen, labAgent, labResourceYaml, type LabAgent } from '../test/support/lab-agents.js';
import { freePort } from '../test/support/wait.js';
import { setTimeout as sleep } from 'node:timers/promises';

const SIZE = 1 << 30;
const { values: flags } = parseArgs({ options: { replicated: { type: 'boolean' }, only: { type: 'string' }, runs: { type: 'string' } } });
const replicated = flags.replicated === true;
const RUNS = Number(flags.runs ?? 3);
const OURS_IQN = 'iqn.2026-11.com.example:r0';
const TGT_IQN = 'iqn.2026-11.bench.drbd-tui:tgt';

interface Workload {
  name: string;
  args: string[];
  bytes: number;
  count: number;
}

const WORKLOADS: Workload[] = [
  { name: '4 KiB QD32 read', args: ['-s', '4k', '-d', '32', '-c', '40000'], bytes: 4096, count: 40000 },
  { name: '4 KiB QD32 write', args: ['-s', '4k', '-d', '32', '-c', '40000', '-w'], bytes: 4096, count: 40000 },
  { name: '1 MiB QD4 read', args: ['-s', '1M', '-d', '4', '-c', '800'], bytes: 1 << 20, count: 800 },
  { name: '1 MiB QD4 write', args: ['-s', '1M', '-d', '4', '-c', '800', '-w'], bytes: 1 << 20, count: 800 },
].filter((w) => !flags.only || w.name.includes(flags.only));

function sh(cmd: string, args: string[], timeoutMs = 120000): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(cmd, args, { timeout: timeoutMs }, (err, stdout, stderr) => {
      if (err) reject(new Error(`${cmd} ${args.join(' ')}: ${err.message}\n${stderr}`));
      else resolve(String(stdout) + String(stderr));
    });
  });
}

/** A file whose blocks are really allocated, so both targets read from the page cache. */
async function filledFile(path: string): Promise<void> {
  const fh = await open(path, 'w');
  const chunk = Buffer.alloc(4 << 20, 0x5a);
  for (let off = 0; off < SIZE; off += chunk.length) await fh.write(chunk, 0, chunk.length, off);
  await fh.close();
}

/** Where initiators run: this process's namespace, or inside the Primary's lab host. */
let initiatorHost: LabHost | undefined;

async function qemuBench(url: string, w: Workload): Promise<number> {
  const argv = ['qemu-img', 'bench', '-f', 'raw', ...w.args, url];
  let out: string;
  if (initiatorHost) {
    const r = await initiatorHost.exec(argv, { timeoutMs: 300000 });
    if (r.code !== 0) throw new Error(`${argv.join(' ')}: ${r.stderr}`);
    out = r.stdout + r.stderr;
  } else out = await sh(argv[0]!, argv.slice(1), 300000);
  const m = /Run completed in ([\d.]+) seconds/.exec(out);
  if (!m) throw new Error(`qemu-img bench printed no result:\n${out}`);
  return Number(m[1]);
}

interface Tgt {
  url: string;
  stop: () => Promise<void>;
}

/**
 * tgtd serving `file` on `portal` (host:port). `where` runs it inside a lab host (its network
 * and private dirs) or, absent, in this process's namespace.
 */
async function startTgt(file: string, portal: { host: string; port: number }, where?: LabHost): Promise<Tgt> {
  const ctl = String(2000 + (portal.port % 1000));
  const argv = ['tgtd', '-f', '-C', ctl, '--iscsi', `portal=${portal.host}:${portal.port}`];
  const child: ChildProcess = where ? where.spawn(argv, { stdio: 'ignore' }) : spawn(argv[0]!, argv.slice(1), { stdio: 'ignore' });
  const tgtadm = async (...a: string[]): Promise<void> => {
    const cmd = ['tgtadm', '-C', ctl, ...a];
    if (!where) {
      await sh(cmd[0]!, cmd.slice(1));
      return;
    }
    const r = await where.exec(cmd);
    if (r.code !== 0) throw new Error(`${cmd.join(' ')}: ${r.stderr}`);
  };
  let ready = false;
  for (let i = 0; i < 50 && !ready; i++) {
    await sleep(100);
    ready = await tgtadm('--lld', 'iscsi', '--op', 'show', '--mode', 'target').then(
      () => true,
      () => false,
    );
  }
  if (!ready) {
    child.kill('SIGKILL');
    throw new Error('tgtd did not start');
  }
  await tgtadm('--lld', 'iscsi', '--op', 'new', '--mode', 'target', '--tid', '1', '-T', TGT_IQN);
  await tgtadm('--lld', 'iscsi', '--op', 'new', '--mode', 'logicalunit', '--tid', '1', '--lun', '1', '-b', file);
  await tgtadm('--lld', 'iscsi', '--op', 'bind', '--mode', 'target', '--tid', '1', '-I', 'ALL');
  const stop = async (): Promise<void> => {
    await tgtadm('--lld', 'iscsi', '--op', 'delete', '--mode', 'logicalunit', '--tid', '1', '--lun', '1').catch(() => {});
    await tgtadm('--lld', 'iscsi', '--op', 'delete', '--mode', 'target', '--tid', '1').catch(() => {});
    await tgtadm('--op', 'delete', '--mode', 'system').catch(() => {});
    const exited = await new Promise<boolean>((r) => {
      if (child.exitCode !== null) return r(true);
      const t = setTimeout(() => r(false), 3000);
      child.once('exit', () => {
        clearTimeout(t);
        r(true);
      });
    });
    // tgtd ignores SIGTERM; only our own child, by its pid.
    if (!exited) child.kill('SIGKILL');
  };
  return { url: `iscsi://${portal.host}:${portal.port}/${TGT_IQN}/1`, stop };
}

function figure(w: Workload, seconds: number): string {
  if (w.bytes >= 1 << 20) return `${((w.bytes * w.count) / seconds / 1e9).toFixed(2)} GB/s`;
  return `${Math.round(w.count / seconds / 1000)}k IOPS`;
}

interface Setup {
  label: string;
  ours: string;
  tgt: Tgt;
  stop: () => Promise<void>;
}

async function plainSetup(): Promise<Setup> {
  const dir = await mkdtemp(join(tmpdir(), 'drbd-tui-bench-'));
  await filledFile(join(dir, 'tgt.img'));
  await filledFile(join(dir, 'ours.img'));
  await sh('sync', []); // the fills' writeback must not land in the middle of a run
  const dev = await FileBlockDevice.open(join(dir, 'ours.img'));
  const target = new IscsiTarget({ iqn: OURS_IQN, host: '127.0.0.1', port: 0, luns: [dev] });
  await target.start();
  const tgt = await startTgt(join(dir, 'tgt.img'), { host: '127.0.0.1', port: await freePort() });
  return {
    label: 'plain file in this process, loopback',
    ours: `iscsi://127.0.0.1:${target.port}/${OURS_IQN}/0`,
    tgt,
    stop: async () => {
      await tgt.stop();
      await target.stop();
      await dev.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

async function must(agent: LabAgent, ...args: string[]): Promise<void> {
  const r = await agent.cli(...args);
  if (r.code !== 0) throw new Error(`${agent.host.name}: drbd-agent ${args.join(' ')}: ${r.stderr || r.stdout}`);
}

async function replicatedSetup(): Promise<Setup> {
  const lab: Lab = await createLab({ sshd: false });
  const a = labAgent(lab.a);
  const b = labAgent(lab.b);
  let tgt: Tgt | undefined;
  const stop = async (): Promise<void> => {
    await tgt?.stop();
    // A graceful stop first, so a profiled daemon (AGENT_NODE_ARGS=--cpu-prof) writes its profile.
    for (const x of [a, b]) x.daemon?.kill('SIGTERM');
    await sleep(1500);
    await lab.destroy();
  };
  try {
    const yaml = labResourceYaml(lab, { name: 'r0', port: 7790, size: `${SIZE / (1 << 20) + 64}MiB` });
    await installResource(a, 'r0', yaml.a);
    await installResource(b, 'r0', yaml.b);
    await a.start();
    await b.start();
    for (const x of [a, b]) {
      await must(x, 'create-md', 'r0');
      await must(x, 'up', 'r0');
    }
    await jsonWhen(a, 'r0', (st) => conn(st)['connection-state'] === 'Connected', 'Connected');
    await must(a, 'new-current-uuid', '--clear-bitmap', 'r0');
    await inSync(a, 'r0');
    await must(a, 'primary', 'r0');
    await must(a, 'target', 'start', 'r0');
    // The initiator runs on ha-a and reaches both targets over its loopback, as in tgt's
    // reference baseline; ours replicates every write to ha-b over the lab bridge.
    initiatorHost = lab.a;
    const ours = `iscsi://127.0.0.1:3260/${OURS_IQN}/0`;
    // Filled through the target (so replicated), so both targets read allocated, cached blocks.
    await qemuBench(ours, { name: 'fill', args: ['-s', '1M', '-S', '1M', '-d', '4', '-c', String(SIZE >> 20), '-w', '--pattern', '90'], bytes: 1 << 20, count: SIZE >> 20 });
    const tgtFile = '/var/lib/drbd-tui/tgt.img';
    await filledFile(lab.a.realPath(tgtFile));
    await sh('sync', []); // the fills' writeback must not land in the middle of a run
    tgt = await startTgt(tgtFile, { host: '127.0.0.1', port: 3261 }, lab.a);
    return { label: `replicated Primary: agent daemon on ha-a, peer daemon on ha-b (${lab.b.address}), protocol C; tgt and the initiator on ha-a, loopback`, ours, tgt, stop };
  } catch (e) {
    console.error([...a.log, ...b.log].join(''));
    await stop();
    throw e;
  }
}

async function main(): Promise<void> {
  const setup = replicated ? await replicatedSetup() : await plainSetup();
  try {
    console.log(`ours: ${setup.label}`);
    console.log('| workload | ours | tgt | ours/tgt |');
    console.log('|---|---|---|---|');
    const ratios: number[] = [];
    const median = (xs: number[]): number => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)] as number;
    for (const w of WORKLOADS) {
      // Warm both once, then alternate so drift on this shared 2-core machine hits both
      // alike; the median of the runs each.
      const warm = { ...w, args: w.args.map((x, i, all) => (all[i - 1] === '-c' ? String(Math.ceil(Number(x) / 10)) : x)) };
      await qemuBench(setup.ours, warm);
      await qemuBench(setup.tgt.url, warm);
      const os: number[] = [];
      const ts: number[] = [];
      for (let k = 0; k < RUNS; k++) {
        os.push(await qemuBench(setup.ours, w));
        ts.push(await qemuBench(setup.tgt.url, w));
      }
      const o = median(os);
      const t = median(ts);
      const ratio = t / o;
      ratios.push(ratio);
      console.log(`| ${w.name} | ${figure(w, o)} | ${figure(w, t)} | ${ratio.toFixed(2)} |`);
    }
    console.log(`\nworst ratio ours/tgt: ${Math.min(...ratios).toFixed(2)} (goal ≥ 0.8)`);
  } finally {
    await setup.stop();
  }
}

main().catch((e: unknown) => {
  console.error(e);
  process.exitCode = 1;
});
