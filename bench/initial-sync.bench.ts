// Initial full sync of a volume between the two lab hosts against a raw copy of the same
// amount over one TCP connection between the same hosts (dd piped through a socket, the
// receiver writing to a file as the SyncTarget does). Goal: sync/raw ≥ 0.8.
// Needs root. Run: npm run build && node --import tsx bench/initial-sync.bench.ts [MiB]
import { createLab } from '../test/lab/lab.js';
import { AGENT } from '../test/support/agent-daemons.js';
import { installResource, jsonWhen, labAgent, labResourceYaml } from '../test/support/lab-agents.js';
import { setTimeout as sleep } from 'node:timers/promises';

const mib = Number(process.argv[2] ?? 1024);
const lab = await createLab({ sshd: false });
const a = labAgent(lab.a);
const b = labAgent(lab.b);
try {

  // Raw copy: a file of the same size read with dd on ha-a, sent over one TCP connection,
  // written to a file on ha-b.
  const src = '/var/lib/drbd-tui/raw-src.img';
  await lab.a.exec(['dd', 'if=/dev/urandom', `of=${src}`, 'bs=1M', `count=${mib}`, 'status=none'], { timeoutMs: 300000 });
  const port = 7900;
  const receiver = lab.b.spawn(
    ['node', '-e', `require('net').createServer((s)=>{const o=require('fs').createWriteStream('/var/lib/drbd-tui/raw-dst.img');s.pipe(o);o.on('finish',()=>process.exit(0))}).listen(${port})`],
    { stdio: ['ignore', 'inherit', 'inherit'] },
  );
  const received = new Promise((r) => receiver.once('exit', r));
  await sleep(500);
  const t0 = Date.now();
  const sender = await lab.a.exec(['sh', '-c', `dd if=${src} bs=1M status=none | node -e "const s=require('net').connect(${port},'${lab.b.address}');process.stdin.pipe(s)"`], { timeoutMs: 300000 });
  await received;
  const raw = (Date.now() - t0) / 1000;
  if (sender.code !== 0) throw new Error(`raw copy failed: ${sender.stderr}`);
  await lab.a.exec(['rm', '-f', src]);
  await lab.b.exec(['rm', '-f', '/var/lib/drbd-tui/raw-dst.img']);

  // The initial sync of a volume of the same size (plus metadata).
  const yaml = labResourceYaml(lab, { name: 'r0', port: 7790, size: `${mib + 1}MiB`, maxRate: '100GiB/s' });
  await installResource(a, 'r0', yaml.a);
  await installResource(b, 'r0', yaml.b);
  await a.start();
  await b.start();
  for (const agent of [a, b]) {
    await agent.cli('create-md', 'r0');
    await agent.cli('up', 'r0');
  }
  await jsonWhen(a, 'r0', (s) => s.connections[0]!['connection-state'] === 'Connected', 'Connected');
  // Watch B's event stream (no polling: spawning status processes would steal CPU).
  const events = lab.b.spawn(['node', AGENT, 'events'], { stdio: ['ignore', 'pipe', 'inherit'] });
  let seen = '';
  const upToDate = new Promise<void>((resolve) =>
    events.stdout!.setEncoding('utf8').on('data', (d: string) => {
      seen += d;
      if (/^change device name:r0 .*disk:UpToDate/m.test(seen)) resolve();
    }),
  );
  await sleep(300);
  const t1 = Date.now();
  await a.cli('primary', '--force', 'r0');
  await upToDate;
  const sync = (Date.now() - t1) / 1000;
  events.kill();

  const rate = (s: number) => ((mib * 1.048576) / s).toFixed(0);
  console.log(`initial sync of ${mib} MiB between ${lab.a.address} and ${lab.b.address}`);
  console.log(`  raw copy (dd | one TCP connection | file):  ${raw.toFixed(2)} s  ${rate(raw)} MB/s`);
  console.log(`  drbd-tui initial sync:                       ${sync.toFixed(2)} s  ${rate(sync)} MB/s`);
  console.log(`  ratio sync/raw:                              ${(raw / sync).toFixed(2)}  (goal >= 0.80)`);
} finally {
  // A graceful stop first, so a profiled daemon (AGENT_NODE_ARGS=--cpu-prof) writes its profile.
  for (const x of [a, b]) x.daemon?.kill('SIGTERM');
  await sleep(1500);
  await lab.destroy();
}
