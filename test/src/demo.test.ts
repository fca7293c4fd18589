// `drbd-tui demo` in a real terminal (tmux), as an operator would try it: the built console
// (dist/cli.js) shows both demo hosts and the initial sync with its progress, `q` quits with
// exit code 0 and the demo's agents, watchdogs and temp dir are gone; a typed confirmation
// takes keys as a terminal sends them in one burst. No root needed.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { openTerminal, requireConsoleTerminal, type Terminal } from '../support/tmux.js';
import { setTimeout as sleep } from 'node:timers/promises';

const ROOT = resolve(import.meta.dirname, '../..');
const CLI = join(ROOT, 'dist/cli.js');

/** Pids whose command line mentions `text` (the demo's processes all name its temp dir). */
function processesMentioning(text: string): number[] {
  return readdirSync('/proc')
    .filter((d) => /^\d+$/.test(d) && Number(d) !== process.pid)
    .filter((d) => {
      try {
        return readFileSync(`/proc/${d}/cmdline`, 'utf8').includes(text);
      } catch {
        return false;
      }
    })
    .map(Number);
}

describe('drbd-tui demo in a terminal', () => {
  let skip: string | undefined;
  let work: string;
  let term: Terminal | undefined;

  before(async () => {
    skip = await requireConsoleTerminal(CLI);
    work = mkdtempSync(join(tmpdir(), 'drbd-tui-demo-term-'));
  });
  after(async () => {
    await term?.kill();
    // Whatever a failed run left: only processes that name our private TMPDIR.
    if (work) {
      for (const pid of processesMentioning(work)) {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          // already gone
        }
      }
      rmSync(work, { recursive: true, force: true });
    }
  });

  test('shows the sync in progress; q exits 0 and leaves no demo process or file behind', async (t) => {
    if (skip) return t.skip(skip);
    // A private TMPDIR: the demo's temp dir (and so its processes' command lines) lands in it.
    const tmp = join(work, 'tmp');
    const exitFile = join(work, 'exit');
    mkdirSync(tmp);
    term = await openTerminal({ argv: ['env', `TMPDIR=${tmp}`, process.execPath, CLI, 'demo'], cwd: ROOT, exitFile, width: 100, height: 30 });

    const screen = await term.waitFor('both hosts up and a sync row', (s) => /ha-a up/.test(s) && /ha-b up/.test(s) && /SyncSource/.test(s) && /\d+\.\d+%/.test(s), 30_000);
    assert.match(screen, /r0\/0\s+Primary\s+UpToDate\s+SyncSource\s+Secondary\s+Inconsistent\s+SyncTarget/, screen);
    assert.match(screen, /ha-a→ha-b \[[█░]+\] \d+\.\d+%/, screen);
    const demoDirs = readdirSync(tmp).filter((d) => d.startsWith('drbd-tui-demo-'));
    assert.equal(demoDirs.length, 1, `one demo dir in ${tmp}: ${demoDirs.join(' ')}`);
    const demoDir = join(tmp, demoDirs[0]!);
    assert.ok(processesMentioning(demoDir).length >= 2, 'the demo runs its agents');

    // The sync advances on screen without a key press (the screen follows events).
    const pct = (s: string) => Number(/(\d+\.\d+)%/.exec(s)?.[1]);
    const first = pct(screen);
    await term.waitFor('the sync percentage to move', (s) => pct(s) > first || /UpToDate\s+Established/.test(s), 20_000);

    await term.keys('q', { literal: true });
    assert.equal(await term.waitExit(20_000), 0);
    assert.equal(existsSync(demoDir), false, 'the demo removed its temp dir');
    const deadline = Date.now() + 5_000;
    while (processesMentioning(demoDir).length > 0 && Date.now() < deadline) await sleep(50);
    assert.deepEqual(processesMentioning(demoDir), [], 'no demo agent or watchdog left');
  });

  test('a typed confirmation takes what a real terminal sends in one burst: "r1⏎" says it does not match, Backspaces and Delete erase, "r0⏎" runs', async (t) => {
    if (skip) return t.skip(skip);
    const tmp = join(work, 'tmp-typed');
    mkdirSync(tmp);
    const typing = await openTerminal({ argv: ['env', `TMPDIR=${tmp}`, process.execPath, CLI, 'demo'], cwd: ROOT, exitFile: join(work, 'exit-typed'), width: 100, height: 30 });
    try {
      await typing.waitFor('both hosts up', (s) => /ha-a up/.test(s) && /ha-b up/.test(s) && /r0\/0/.test(s), 30_000);
      // Disconnect ha-b, so that connecting it with --discard-my-data is allowed (and destructive).
      await typing.keys('Tab');
      await typing.keys('d', { literal: true });
      await typing.waitFor('the disconnect dialog', (s) => /Disconnect r0 on ha-b/.test(s));
      await typing.keys('y', { literal: true });
      await typing.waitFor('ha-b disconnected', (s) => /✔ ha-b: drbd-agent disconnect r0: done/.test(s), 20_000);
      await typing.keys('X', { literal: true });
      await typing.waitFor('the typed confirmation', (s) => /DESTRUCTIVE\. Type the resource name \(r0\)/.test(s));

      // Each keys() below is ONE send-keys: the console reads the burst in one read.
      await typing.keys('r1\r', { literal: true });
      await typing.waitFor('the mismatch after Enter', (s) => /✗ "r1" does not match r0: type r0 exactly/.test(s));
      await typing.keys('\x7f\x7f\x7fzz\x7f\x7f\x07r0x\x1b[3~', { literal: true });
      await typing.waitFor('r0 typed, the rest erased', (s) => /> r0 /.test(s) && /✓ r0: Enter to confirm/.test(s));
      await typing.keys('\x15r0\r', { literal: true });
      await typing.waitFor('the destructive connect run', (s) => /✔ ha-b: drbd-agent connect --discard-my-data r0: no split brain: nothing discarded/.test(s), 20_000);

      await typing.keys('q', { literal: true });
      assert.equal(await typing.waitExit(20_000), 0);
    } finally {
      await typing.kill();
    }
  });

  test('closing the terminal (SIGHUP, then EIO on the next frame) still cleans up', async (t) => {
    if (skip) return t.skip(skip);
    const tmp = join(work, 'tmp-hup');
    mkdirSync(tmp);
    const closing = await openTerminal({ argv: ['env', `TMPDIR=${tmp}`, process.execPath, CLI, 'demo'], cwd: ROOT, exitFile: join(work, 'exit-hup'), width: 80, height: 24 });
    try {
      await closing.waitFor('both hosts up', (s) => /ha-a up/.test(s) && /ha-b up/.test(s), 30_000);
    } catch (e) {
      await closing.kill();
      throw e;
    }
    const demoDir = join(tmp, readdirSync(tmp).find((d) => d.startsWith('drbd-tui-demo-'))!);
    await closing.kill();
    const deadline = Date.now() + 10_000;
    while ((existsSync(demoDir) || processesMentioning(demoDir).length > 0) && Date.now() < deadline) await sleep(50);
    assert.equal(existsSync(demoDir), false, 'the demo removed its temp dir');
    assert.deepEqual(processesMentioning(demoDir), []);
  });
});
