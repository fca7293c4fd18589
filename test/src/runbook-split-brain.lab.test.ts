// The split-brain runbook end to end (issue 17), driven through the console in tmux. The fault
// is the set-up, made with the agent CLI: ha-a's link cut while it serves r0, ha-b promoted
// too, each side written through its own target (ha-a more than ha-b), the link back. The
// console shows the split brain; `r` offers a recovery for either victim with what each would
// discard; the one discarding the side with fewer changes (ha-b) runs: its target stopped,
// demoted, connected discarding its data, the survivor connected, the resync waited for. Both
// backing disks then hold the survivor's data, and qemu-io reads it back through ha-a's target.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { describeLab, type Lab } from '../lab/lab.js';
import { conn, disconnected, inSync, jsonWhen, qemuIo, type LabAgent } from '../support/lab-agents.js';
import { assertReadsBack, consoleLabHooks, holdsPattern, MiB, openRunbook, r0Url, runStep, SEED_PATTERN, servingPair, writeInside, writesOf, type ConsoleLab } from '../support/console-lab.js';
import { flatScreen, type Terminal } from '../support/tmux.js';

/** Written by ha-a's clients after the cut (2 MiB) and by ha-b's after its promotion (1 MiB). */
const ON_A = [
  { offset: 1 * MiB, byte: 0x77 },
  { offset: 2 * MiB, byte: 0x78 },
] as const;
const ON_B = [{ offset: 5 * MiB, byte: 0x99 }] as const;
/** What ha-a holds where ha-b wrote: never written there. */
const A_UNDER_B = [{ offset: 5 * MiB, byte: 0 }] as const;

describeLab('the split-brain runbook: the side with fewer changes discarded, the other kept', () => {
  let c: ConsoleLab;
  let lab: Lab;
  let a: LabAgent;
  let b: LabAgent;
  let term: Terminal;
  const suite = consoleLabHooks('runbook-split-brain', (x) => ({ lab, a, b, term } = c = x));

  test('r0 in sync, ha-a Primary, the pattern written through its target', async (t) => {
    if (suite.skip) return t.skip(suite.skip);
    await servingPair(c);
  });

  test('the split made with the agent CLI: link cut, both Primary, each written through its own target, the link back', async (t) => {
    if (suite.skip) return t.skip(suite.skip);
    lab.a.cutLink();
    await disconnected(b, 'r0');
    // ha-a's clients reach its target from inside ha-a: the cut link does not stop them.
    await writeInside(a, ON_A);
    // ha-b's agent lost its peer: a plain primary takes (the console would have asked for ha-a typed).
    const p = await b.cli('primary', 'r0');
    assert.equal(p.code, 0, p.stderr);
    assert.equal((await b.cli('target', 'start', 'r0')).code, 0);
    const wb = qemuIo(r0Url(b), writesOf(ON_B));
    assert.equal(wb.code, 0, wb.out);
    lab.a.restoreLink();
    for (const h of [a, b]) await jsonWhen(h, 'r0', (s) => conn(s)['split-brain'] && conn(s)['connection-state'] === 'StandAlone', `split brain seen on ${h.host.name}`, 30_000);
    await term.waitFor('the split brain on screen', (x) => /ha-a up/.test(x) && /SPLIT BRAIN on r0/.test(x), 60_000);
  });

  test('r offers either victim with its changes; the one with fewer (ha-b) runs to the end; both disks hold ha-a\'s data', async (t) => {
    if (suite.skip) return t.skip(suite.skip);
    const menu = flatScreen(await openRunbook(term, /Split-brain recovery: victim ha-b/));
    const kib = (h: string) => Number(new RegExp(`victim ${h} \\((\\d+) KiB changed there\\), keep`).exec(menu)?.[1]);
    assert.ok(kib('ha-b') > 0 && kib('ha-a') > kib('ha-b'), `ha-a changed more than ha-b: ${menu}`);
    assert.doesNotMatch(menu, /Failover|Disk replacement|Planned switchover/);

    const stop = flatScreen(await runStep(term, 1, /stop the iSCSI target on ha-b/));
    assert.match(stop, new RegExp(`Split-brain recovery r0: discard ha-b's changes \\(${kib('ha-b')} KiB\\), keep ha-a's`));
    assert.match(stop, /✓ no initiator logged in on ha-b/);
    await runStep(term, 2, /demote ha-b to Secondary/);
    // Destructive: r0 typed; a wrong text in one burst runs nothing.
    await term.waitFor('the discard step', (x) => /▶ 3\. connect ha-b discarding its/.test(x) && /Type r0 and press Enter/.test(x), 30_000);
    await term.keys('ha-b\r', { literal: true });
    await term.waitFor('"ha-b" refused', (x) => x.includes('"ha-b" does not match r0'));
    assert.equal(conn(await b.json('r0'))['connection-state'], 'StandAlone', 'nothing ran');
    const discard = flatScreen(await runStep(term, 3, /connect ha-b discarding its/, ['\x15r0']));
    assert.match(discard, /runs on ha-b: drbd-agent connect --discard-my-data r0/);
    assert.match(discard, /✓ ha-b is Secondary \(the victim must be\)/);
    assert.match(discard, /⇄ r0\/0: on connect ha-a → ha-b, resync of the changed blocks/);
    await runStep(term, 4, /connect ha-a \(the survivor\)/);
    await term.waitFor('the runbook complete', (x) => /runbook complete/.test(x), 60_000);
    await term.keys('Enter');
    await inSync(b, 'r0', 'ha-b resynced from ha-a');
    const survivor = [...SEED_PATTERN, ...ON_A, ...A_UNDER_B];
    assert.ok(await holdsPattern(a, survivor), "ha-a's data kept as it was");
    assert.ok(await holdsPattern(b, survivor), "ha-b holds ha-a's data: its own changes gone");
    assert.equal((await a.json('r0')).role, 'Primary');
    assert.equal((await b.json('r0')).role, 'Secondary');
    assertReadsBack(r0Url(a), survivor);
  });

  test('the victim kept a copy of what it discarded (split-brain-copies)', async (t) => {
    if (suite.skip) return t.skip(suite.skip);
    const r = await b.cli('split-brain-copies', 'r0');
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /\br0\/0\s+\S+\s+.*\branges\b/, r.stdout);
  });
});
