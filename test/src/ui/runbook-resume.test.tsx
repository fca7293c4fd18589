// The App with agents that keep runbook runs (in memory, as the real ones do over events):
// a run is recorded as it goes, Esc leaves it active and r resumes it; X abandons it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runbookToEvent } from '../../../agent/protocol/events2.js';
import type { RunbookLogEntry, RunbookRecord } from '../../../agent/protocol/messages.js';
import { parseEventLine } from '../../../src/cluster/events2.js';
import { applyHostEvent, setReachability, type ClusterModel } from '../../../src/cluster/model.js';
import { App } from '../../../src/ui/App.js';
import type { ConsoleActions } from '../../../src/ui/actions.js';
import { loadScenario } from '../cluster/fixtures.js';
import { KEY, renderApp, type Harness } from './harness.js';
import { setTimeout as sleep } from 'node:timers/promises';

/** Two agents in memory: each put lands on both (by seq), and every console's model hears it. */
function agents(initial: ClusterModel) {
  const a = {
    model: initial,
    puts: [] as Array<{ record: RunbookRecord; entry?: RunbookLogEntry }>,
    log: [] as RunbookLogEntry[],
    h: undefined as Harness | undefined,
    actions: {} as Partial<ConsoleActions>,
  };
  a.actions = {
    recordRunbook: async (record, entry) => {
      const stamped = { ...record, by: 'root@laptop' };
      a.puts.push({ record: stamped, ...(entry ? { entry } : {}) });
      if (entry) a.log.push({ ...entry, user: 'root@laptop' });
      const stored = a.model.hosts[0].view.runbooks.find((r) => r.resource === record.resource);
      if (stored && stored.started === record.started && stored.seq >= record.seq) return;
      for (const i of [0, 1] as const) a.model = applyHostEvent(a.model, i, runbookToEvent(stamped, { verb: 'change' }));
    },
    runbookLog: async () => a.log,
  };
  return a;
}

test('a switchover run: recorded step by step; Esc leaves it active; r resumes it where it stood; X and abandon end it', async () => {
  const ag = agents(loadScenario('healthy'));
  const h = await renderApp(ag.model, { width: 120, height: 30, actions: ag.actions });
  const sync = () => h.rerender(<App model={ag.model} actions={{ run: async () => ({ ok: true, message: 'done' }), quit: () => undefined, ...ag.actions }} width={120} height={30} minFrameMs={0} />);
  await h.press('r', KEY.enter);
  assert.match(h.text(), /Planned switchover r0: ha-a → ha-b/);
  // The first step that runs starts the run: `started`, then the step with its command.
  await h.press(KEY.enter);
  await sleep(20);
  await sync();
  assert.deepEqual(ag.puts.map((p) => p.entry?.result), ['started', 'ran']);
  const ran = ag.puts[1]!;
  assert.equal(ran.entry!.host, 'ha-a');
  assert.match(ran.entry!.command ?? '', /^drbd-agent /);
  assert.equal(ran.record.state, 'active');
  assert.ok(ran.record.completed.length >= 1);
  const at = ran.record.completed.length + 1;

  await h.press(KEY.esc);
  assert.match(h.text(), new RegExp(`runbook active: Planned switchover r0 on ha-a \\(step ${at}/5\\) — r to resume`));
  await h.press('r');
  // The menu is 80 columns wide: the label's end may be cut.
  assert.match(h.text(), new RegExp(`▶ Resume: Planned switchover on ha-a — at step ${at} of 5 \\(started \\d\\d:\\d\\d by ro`));
  await h.press(KEY.enter);
  await sleep(20);
  await sync();
  assert.match(h.text(), new RegExp(`resumed at step ${at}, started \\d\\d:\\d\\d by root@laptop · X abandon · L log`));
  assert.equal(ag.puts.at(-1)!.entry!.result, 'resumed');

  await h.press('L');
  await sleep(20);
  assert.match(h.text(), /runbook audit log of r0/);
  assert.match(h.text(), /\d\d:\d\d:\d\d {2}switchover\(ha-a\) step \S+ on ha-a: drbd-agent [^→]+ r0 → ran \(root@laptop\)/);
  await h.press(KEY.esc);
  assert.match(h.text(), /resumed at step/);

  await h.press('X');
  assert.match(h.text(), new RegExp(`abandon Planned switchover r0 at step ${at}\\? type abandon`));
  for (const c of 'abandon') await h.press(c);
  await h.press(KEY.enter);
  await sleep(20);
  await sync();
  const last = ag.puts.at(-1)!;
  assert.equal(last.record.state, 'abandoned');
  assert.equal(last.entry!.result, 'abandoned');
  assert.doesNotMatch(h.text(), /runbook active/);
  await h.press('r');
  assert.doesNotMatch(h.text(), /Resume:/);
  await h.unmount();
});

test('a confirm step is recorded as confirmed, with the host it is about and no command', async () => {
  let m = setReachability(loadScenario('healthy'), 0, { state: 'unreachable', error: 'no route' });
  m = applyHostEvent(m, 1, parseEventLine('2026-11-22T04:00:00.000000+00:00 change connection name:r0 peer-node-id:0 conn-name:ha-a connection:Connecting role:Unknown')!);
  const ag = agents(m);
  const h = await renderApp(m, { width: 120, height: 30, actions: ag.actions });
  await h.press('r', KEY.enter);
  assert.match(h.text(), /Failover after a power loss r0/);
  for (const c of 'ha-a') await h.press(c);
  await h.press(KEY.enter);
  await sleep(20);
  assert.deepEqual(
    ag.puts.map((p) => [p.entry?.result, p.entry?.step, p.entry?.host, p.entry?.command]),
    [
      ['started', undefined, undefined, undefined],
      ['confirmed', 'confirm-down', 'ha-a', undefined],
    ],
  );
  assert.deepEqual(ag.puts[1]!.record.completed, ['confirm-down']);
  await h.unmount();
});
