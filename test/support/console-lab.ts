// The console end to end against the two-host lab, for suites that drive it like an operator:
// a lab with r0 installed on both hosts, the built console running in tmux with an ssh_config
// that notices a dead host fast, and a data pattern written and read back with qemu-io.
import { after, before } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createLab, type Lab } from '../lab/lab.js';
import { ISCSI_TOOLS, requireTools } from './lab-packages.js';
import { inSync, installResource, jsonWhen, labAgent, labResourceYaml, peerDevice, readRange, type LabAgent } from './lab-agents.js';
import { openTerminal, requireConsoleTerminal, type Terminal } from './tmux.js';

export const ROOT = resolve(import.meta.dirname, '../..');
export const CLI = join(ROOT, 'dist/cli.js');
export const DISK = '/var/lib/drbd-tui/disks/r0-0.img';
export const MiB = 1 << 20;

export interface ConsoleLab {
  lab: Lab;
  work: string;
  a: LabAgent;
  b: LabAgent;
  term: Terminal;
}

/**
 * A skip reason (thrown under CI=true) when tmux, the built console or the iSCSI tools are
 * missing; else the lab with r0 (8 MiB, resync at 2 MiB/s so that it can be watched) on both
 * hosts and the console started on ha-a and ha-b.
 */
export async function openConsoleLab(name: string): Promise<ConsoleLab | string> {
  const skip = (await requireConsoleTerminal(CLI)) ?? (await requireTools(ISCSI_TOOLS));
  if (skip) return skip;
  const work = mkdtempSync(join(tmpdir(), `drbd-tui-${name}-`));
  const lab = await createLab();
  try {
    const sshConfig = join(work, 'ssh_config');
    writeFileSync(sshConfig, readFileSync(lab.sshConfig, 'utf8') + '  ServerAliveInterval 1\n  ServerAliveCountMax 2\n');
    const a = labAgent(lab.a);
    const b = labAgent(lab.b);
    const yaml = labResourceYaml(lab, { name: 'r0', port: 7789, size: '8MiB', maxRate: '2MiB/s' });
    await installResource(a, 'r0', yaml.a);
    await installResource(b, 'r0', yaml.b);
    const term = await openTerminal({ argv: [process.execPath, CLI, '-F', sshConfig, 'ha-a', 'ha-b'], cwd: ROOT, exitFile: join(work, 'console.exit'), width: 160, height: 45 });
    return { lab, work, a, b, term };
  } catch (e) {
    // Nothing to close it by later: the caller never got it.
    await lab.destroy();
    rmSync(work, { recursive: true, force: true });
    throw e;
  }
}

export async function closeConsoleLab(c: ConsoleLab | string | undefined): Promise<void> {
  if (c === undefined || typeof c === 'string') return;
  await c.term.kill();
  await c.lab.destroy();
  rmSync(c.work, { recursive: true, force: true });
}

/** r0's LUN on `host`'s target, from the machine (root namespace) or, with `local`, from inside the host. */
export const r0Url = (host: LabAgent, local = false) => `iscsi://${local ? '127.0.0.1' : host.host.address}:3260/iqn.2026-11.com.example:r0/0`;

/** One byte value per MiB written; the data area starts at offset 0 of the backing disk (md-layout.ts). */
export type Pattern = readonly { offset: number; byte: number }[];

export const SEED_PATTERN: Pattern = [
  { offset: 0, byte: 0x5a },
  { offset: 3 * MiB, byte: 0xa5 },
  { offset: 6 * MiB, byte: 0x3c },
];

export const writesOf = (p: Pattern) => p.map((x) => `write -P 0x${x.byte.toString(16)} ${x.offset} 1M`);
export const readsOf = (p: Pattern) => p.map((x) => `read -P 0x${x.byte.toString(16)} ${x.offset} 1M`);

/** The host's backing disk holds every MiB of the pattern, read from the file itself. */
export async function holdsPattern(a: LabAgent, p: Pattern): Promise<boolean> {
  for (const x of p) {
    const b = await readRange(a.path(DISK), x.offset, MiB);
    if (!b.every((v) => v === x.byte)) return false;
  }
  return true;
}

/**
 * The enclosing suite's lab: opened before its tests (`use` receives it), closed after them;
 * `skip` says why it cannot run, for each test to skip with.
 */
export function consoleLabHooks(name: string, use: (c: ConsoleLab) => void): { skip?: string } {
  const state: { skip?: string } = {};
  let c: ConsoleLab | string | undefined;
  before(async () => {
    c = await openConsoleLab(name);
    if (typeof c === 'string') state.skip = c;
    else use(c);
  });
  after(() => closeConsoleLab(c));
  return state;
}

/**
 * Once the console shows both hosts up: r0 made with the agent CLI on both, ha-a forced
 * Primary, the initial sync done, ha-a's target started.
 */
export async function serveR0FromA(c: Pick<ConsoleLab, 'a' | 'b' | 'term'>): Promise<void> {
  await c.term.waitFor('both hosts up', (x) => /ha-a up/.test(x) && /ha-b up/.test(x), 60_000);
  for (const h of [c.a, c.b]) {
    for (const verb of ['create-md', 'up']) {
      const r = await h.cli(verb, 'r0');
      assert.equal(r.code, 0, `${verb} on ${h.host.name}: ${r.stdout}${r.stderr}`);
    }
  }
  await jsonWhen(c.a, 'r0', (s) => peerDevice(s)['replication-state'] === 'Established', 'connected');
  assert.equal((await c.a.cli('primary', '--force', 'r0')).code, 0);
  await inSync(c.b, 'r0', 'the initial sync done', 60_000);
  assert.equal((await c.a.cli('target', 'start', 'r0')).code, 0);
}
