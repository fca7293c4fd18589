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
import { freshPair, inSync, installResource, jsonWhen, labAgent, labResourceYaml, peerDevice, qemuIo, readRange, type LabAgent } from './lab-agents.js';
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
 * r0 in sync with ha-a Primary serving it through its target and `p` written there with
 * qemu-io (protocol C: on ha-b too); returns once the console shows that pair.
 */
export async function servingPair(c: ConsoleLab, p: Pattern = SEED_PATTERN): Promise<void> {
  await c.term.waitFor('both hosts up', (x) => /ha-a up/.test(x) && /ha-b up/.test(x), 60_000);
  await freshPair(c.a, c.b, 'r0');
  const w = qemuIo(r0Url(c.a), writesOf(p));
  assert.equal(w.code, 0, w.out);
  await inSync(c.a, 'r0', 'in sync after the writes');
  assert.ok(await holdsPattern(c.b, p), 'protocol C: the pattern is on ha-b');
  await c.term.waitFor('ha-a Primary, ha-b Secondary, both UpToDate', (x) => /r0\/0\s+Primary\s+UpToDate\s+Connected\s+.*Secondary\s+UpToDate\s+Connected/.test(x), 20_000);
}

/** `p` reads back identically through `url` (qemu-io's read -P verifies every byte). */
export function assertReadsBack(url: string, p: Pattern): void {
  const r = qemuIo(url, readsOf(p));
  assert.equal(r.code, 0, r.out);
  assert.doesNotMatch(r.out, /verification failed/i, r.out);
}

/**
 * Waits until step `n` of the open runbook is the next one (its line `▶ n. title`) and ready to
 * run: the step before has had its answer (keys are ignored while one is `running…`) and the
 * live state passes its checks (Enter on a refused step does nothing). Then types `keys` as
 * text and presses Enter. Returns the screen it saw the step on.
 */
export async function runStep(term: Terminal, n: number, title: RegExp, keys: string[] = [], timeoutMs = 60_000): Promise<string> {
  const ready = (x: string) => new RegExp(`▶ ${n}\\. ${title.source}`).test(x) && !/running…/.test(x) && /⏎ run this step|and press Enter:|⏎ run on /.test(x);
  const s = await term.waitFor(`step ${n} next and ready`, ready, timeoutMs);
  for (const k of keys) await term.keys(k, { literal: true });
  await term.keys('Enter');
  return s;
}

/**
 * `r`, then the runbook whose menu line matches `label` chosen with the arrow keys and opened
 * with Enter. Returns the menu as it was first shown, for what it offers and what it does not.
 */
export async function openRunbook(term: Terminal, label: RegExp): Promise<string> {
  await term.keys('r', { literal: true });
  const menu = await term.waitFor(`the runbook menu offering ${label.source}`, (x) => /Runbooks for r0/.test(x) && label.test(x), 20_000);
  const cursorLine = (x: string) => x.split('\n').find((l) => /│ ▶ /.test(l)) ?? '';
  for (let moves = 0; !label.test(cursorLine(await term.screen())); moves++) {
    if (moves > 5) throw new Error(`${label.source} not reached with ↓ in the menu:\n${await term.screen()}`);
    const before = cursorLine(await term.screen());
    await term.keys('Down');
    await term.waitFor('the menu cursor moved', (x) => cursorLine(x) !== before);
  }
  await term.keys('Enter');
  await term.waitFor('the runbook open', (x) => !/Runbooks for r0/.test(x));
  return menu;
}

/** `p` written with qemu-io through `h`'s target from inside the host: its own clients, whom a cut link does not stop. */
export async function writeInside(h: LabAgent, p: Pattern): Promise<void> {
  const w = await h.host.exec(['qemu-io', '-f', 'raw', ...writesOf(p).flatMap((x) => ['-c', x]), r0Url(h, true)], { timeoutMs: 60_000 });
  assert.equal(w.code, 0, w.stdout + w.stderr);
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
