// Node-ids in a file that contradict the metadata, on two real daemons (dist/agent.mjs): `up`
// is refused with DRBD's words, both ids and the fixes, and `status` says the same for the
// resource that is not up; the disk is left as it was, and the file's own ids bring it up.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createAgentPair, type AgentPair } from '../support/agent-daemons.js';
import { readRange } from '../support/files.js';

let p: AgentPair;
before(async () => {
  p = await createAgentPair();
});
after(async () => {
  await p?.close();
});

test('explicit node-ids swapped after create-md: up refused naming both ids and the fix; status says it; the right ids come up', async () => {
  for (const h of [p.a, p.b]) assert.equal((await h.cli('create-md', 'r0')).code, 0);
  const file = join(p.a.root, 'etc', 'r0.yaml');
  const text = await readFile(file, 'utf8');
  const swapped = text.replace('ha-a: { node-id: 0,', 'ha-a: { node-id: 9,').replace('ha-b: { node-id: 1,', 'ha-b: { node-id: 0,').replace('ha-a: { node-id: 9,', 'ha-a: { node-id: 1,');
  assert.notEqual(swapped, text);
  await writeFile(file, swapped, { mode: 0o600 });
  const disk = join(p.dir, 'a.img');
  const image = await readRange(disk, 0, 64 * 1024);

  const up = await p.a.cli('up', 'r0');
  assert.notEqual(up.code, 0);
  assert.match(up.stderr, /r0: ambiguous node id: meta-data: 0, config: 1 — the metadata on .*a\.img was written as node-id 0, but .*r0\.yaml makes ha-a node-id 1: if this disk is ha-a's, give ha-a node-id 0 in the file on both hosts .*else run create-md r0/);
  const status = (await p.a.cli('status')).stdout;
  assert.match(status, /^# not up: r0 .*ambiguous node id: meta-data: 0, config: 1/m);
  assert.deepEqual(await readRange(disk, 0, 64 * 1024), image, 'nothing written to the disk');

  await writeFile(file, text, { mode: 0o600 });
  assert.equal((await p.a.cli('up', 'r0')).code, 0);
});
