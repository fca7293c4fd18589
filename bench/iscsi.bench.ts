// qemu-img bench against our iSCSI target and tgt serving a plain file, in the same run on
// the same machine: prints each figure and the ratio ours/tgt (goal ≥ 0.8). Ours serves a
// replicated Primary (protocol C, the peer an agent daemon on 127.0.0.2) with --replicated,
// else a plain file-backed device.
// Run: npm run build && node --import tsx bench/iscsi.bench.ts [--replicated]   (needs root
// for tgtd, qemu-utils, qemu-block-extra, tgt). Only loopback is used.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm, open } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FileBlockDevice } from '../agent/engine/file-block-device.js';
import type { BlockDevice } from '../agent/engine/block-device.js';
import { IscsiTarget } from '../agent/iscsi/target.js';
import { startReplicatedPrimary, type ReplicatedPrimary } from '../test/support/replicated-primary.js';

const SIZE = 1 << 30;
const replicated = process.argv.includes('--replicated');
const OURS_IQN = 'iqn.2026-11.bench.drbd-tui:ours';
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
];

function sh(cmd: string, args: string[], timeoutMs = 120000): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(cmd, args, { timeout: timeoutMs }, (err, stdout, stderr) => {
      if (err) reject(new Error(`${cmd} ${args.join(' ')}: ${err.message}\n${stderr}`));
      else resolve(String(stdout) + String(stderr));
    });
  });
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      const port = typeof a === 'object' && a ? a.port : 0;
      s.close(() => resolve(port));
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

async function qemuBench(url: string, w: Workload): Promise<number> {
  const out = await sh('qemu-img', ['bench', '-f', 'raw', ...w.args, url], 300000);
  const m = /Run completed in ([\d.]+) seconds/.exec(out);
  if (!m) throw new Error(`qemu-img bench printed no result:\n${out}`);
  return Number(m[1]);
}

async function startTgt(file: string): Promise<{ url: string; stop: () => Promise<void> }> {
  const port = await freePort();
  const ctl = String(2000 + (port % 1000));
  const child: ChildProcess = spawn('tgtd', ['-f', '-C', ctl, '--iscsi', `portal=127.0.0.1:${port}`], { stdio: 'ignore' });
  const tgtadm = (...a: string[]) => sh('tgtadm', ['-C', ctl, '--lld', 'iscsi', ...a]);
  let ready = false;
  for (let i = 0; i < 50 && !ready; i++) {
    await new Promise((r) => setTimeout(r, 100));
    ready = await tgtadm('--op', 'show', '--mode', 'target').then(
      () => true,
      () => false,
    );
  }
  if (!ready) {
    child.kill('SIGKILL');
    throw new Error('tgtd did not start');
  }
  await tgtadm('--op', 'new', '--mode', 'target', '--tid', '1', '-T', TGT_IQN);
  await tgtadm('--op', 'new', '--mode', 'logicalunit', '--tid', '1', '--lun', '1', '-b', file);
  await tgtadm('--op', 'bind', '--mode', 'target', '--tid', '1', '-I', 'ALL');
  const stop = async (): Promise<void> => {
    await tgtadm('--op', 'delete', '--mode', 'logicalunit', '--tid', '1', '--lun', '1').catch(() => {});
    await tgtadm('--op', 'delete', '--mode', 'target', '--tid', '1').catch(() => {});
    await sh('tgtadm', ['-C', ctl, '--op', 'delete', '--mode', 'system']).catch(() => {});
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
  return { url: `iscsi://127.0.0.1:${port}/${TGT_IQN}/1`, stop };
}

function figure(w: Workload, seconds: number): string {
  if (w.bytes >= 1 << 20) return `${((w.bytes * w.count) / seconds / 1e9).toFixed(2)} GB/s`;
  return `${Math.round(w.count / seconds / 1000)}k IOPS`;
}

async function main(): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'drbd-tui-bench-'));
  let target: IscsiTarget | undefined;
  let dev: FileBlockDevice | undefined;
  let tgt: { url: string; stop: () => Promise<void> } | undefined;
  let primary: ReplicatedPrimary | undefined;
  try {
    await filledFile(join(dir, 'tgt.img'));
    let lun: BlockDevice;
    if (replicated) {
      primary = await startReplicatedPrimary(SIZE / (1 << 20) + 64);
      lun = primary.device;
      // Filled through the engine, so both targets read allocated, cached blocks.
      const chunk = Buffer.alloc(1 << 20, 0x5a);
      for (let off = 0; off < SIZE; off += chunk.length) await lun.write(off, chunk);
    } else {
      await filledFile(join(dir, 'ours.img'));
      dev = await FileBlockDevice.open(join(dir, 'ours.img'));
      lun = dev;
    }
    console.log(`ours: ${replicated ? 'replicated Primary (protocol C, peer daemon on 127.0.0.2)' : 'plain file'}`);
    target = new IscsiTarget({ iqn: OURS_IQN, host: '127.0.0.1', port: 0, luns: [lun] });
    await target.start();
    const ours = `iscsi://127.0.0.1:${target.port}/${OURS_IQN}/0`;
    tgt = await startTgt(join(dir, 'tgt.img'));
    console.log('| workload | ours | tgt | ours/tgt |');
    console.log('|---|---|---|---|');
    const ratios: number[] = [];
    for (const w of WORKLOADS) {
      // Warm both once, then alternate so drift on this shared 2-core machine hits both
      // alike; the median of three runs each.
      const warm = { ...w, args: w.args.map((a, i, all) => (all[i - 1] === '-c' ? String(Math.ceil(Number(a) / 10)) : a)) };
      await qemuBench(ours, warm);
      await qemuBench(tgt.url, warm);
      const os: number[] = [];
      const ts: number[] = [];
      for (let k = 0; k < 3; k++) {
        os.push(await qemuBench(ours, w));
        ts.push(await qemuBench(tgt.url, w));
      }
      const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[1] as number;
      const o = median(os);
      const t = median(ts);
      const ratio = t / o;
      ratios.push(ratio);
      console.log(`| ${w.name} | ${figure(w, o)} | ${figure(w, t)} | ${ratio.toFixed(2)} |`);
    }
    const worst = Math.min(...ratios);
    console.log(`\nworst ratio ours/tgt: ${worst.toFixed(2)} (goal ≥ 0.8)`);
  } finally {
    await tgt?.stop();
    await target?.stop();
    await dev?.close();
    await primary?.stop();
    await rm(dir, { recursive: true, force: true });
  }
}

main().catch((e: unknown) => {
  console.error(e);
  process.exitCode = 1;
});
