// `drbd-tui status ha-a ha-b` against the anchor an operator knows: `ssh ha-a true` and
// `ssh ha-b true` run in parallel, on the two-host lab (root, real OpenSSH).
// Goals: agents already running ≤ 1.5× the anchor; first run, upload and daemon start
// included, ≤ 3×. Medians of several runs; the first run is one measurement on fresh hosts.
// Run: npm run build && node --import tsx bench/status.bench.ts [runs]
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { createLab, labUnavailableReason } from '../test/lab/lab.js';

const runs = Number(process.argv[2] ?? 15);
const CLI = join(import.meta.dirname, '..', 'dist', 'cli.js');

function run(cmd: string, args: string[]): Promise<number> {
  return new Promise((resolve, reject) => {
    const env = { ...process.env };
    delete env.SSH_AUTH_SOCK;
    const t0 = performance.now();
    execFile(cmd, args, { env, timeout: 60_000 }, (err, _stdout, stderr) => {
      const code = err ? (err as { code?: number }).code : 0;
      // status exits 0/1 for healthy/degraded; anything else is a failed measurement.
      if (code !== 0 && code !== 1) reject(new Error(`${cmd} ${args.join(' ')}: exit ${code}\n${stderr}`));
      else resolve(performance.now() - t0);
    });
  });
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

const why = labUnavailableReason();
if (why) {
  console.error(`status bench needs the lab: ${why}`);
  process.exit(process.env.CI === 'true' ? 1 : 0);
}
const lab = await createLab();
try {
  const cfg = lab.sshConfig;
  const anchor = () => Promise.all([run('ssh', ['-F', cfg, 'ha-a', 'true']), run('ssh', ['-F', cfg, 'ha-b', 'true'])]).then((t) => Math.max(...t));
  const wall = async (f: () => Promise<unknown>) => {
    const t0 = performance.now();
    await f();
    return performance.now() - t0;
  };
  await anchor(); // warm the page cache for ssh and sshd
  const first = await run(process.execPath, [CLI, 'status', '-F', cfg, 'ha-a', 'ha-b']);
  const anchors: number[] = [];
  const statuses: number[] = [];
  for (let i = 0; i < runs; i++) {
    anchors.push(await wall(anchor));
    statuses.push(await run(process.execPath, [CLI, 'status', '-F', cfg, 'ha-a', 'ha-b']));
  }
  const a = median(anchors);
  const s = median(statuses);
  console.log(`ssh ha-a true & ssh ha-b true (parallel): ${a.toFixed(1)} ms (median of ${runs})`);
  console.log(`drbd-tui status ha-a ha-b, agents running: ${s.toFixed(1)} ms (median of ${runs})  ratio ${(s / a).toFixed(2)}× (goal ≤ 1.5×)`);
  console.log(`drbd-tui status ha-a ha-b, first run (upload + start): ${first.toFixed(1)} ms  ratio ${(first / a).toFixed(2)}× (goal ≤ 3×)`);
} finally {
  await lab.destroy();
}
