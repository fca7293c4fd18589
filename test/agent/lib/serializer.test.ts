import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Serializer } from '../../../agent/lib/serializer.js';

const tick = () => new Promise((r) => setImmediate(r));

test('tasks run one at a time in the order queued, though the first one takes longest', async () => {
  const s = new Serializer();
  const log: string[] = [];
  const task = (name: string, turns: number) => async () => {
    log.push(`${name} start`);
    for (let i = 0; i < turns; i++) await tick();
    log.push(`${name} end`);
    return name;
  };
  const results = await Promise.all([s.run(task('a', 3)), s.run(task('b', 0)), s.run(task('c', 1))]);
  assert.deepEqual(results, ['a', 'b', 'c']);
  assert.deepEqual(log, ['a start', 'a end', 'b start', 'b end', 'c start', 'c end']);
});

test('a failed task rejects its own caller; the next one still runs', async () => {
  const s = new Serializer();
  const failed = s.run(() => Promise.reject(new Error('disk gone')));
  const next = s.run(() => Promise.resolve('ran'));
  await assert.rejects(failed, /disk gone/);
  assert.equal(await next, 'ran');
});

test('idle resolves once every task queued before it has finished, failed ones included', async () => {
  const s = new Serializer();
  let done = 0;
  void s.run(async () => {
    await tick();
    done++;
  });
  s.run(() => Promise.reject(new Error('refused'))).catch(() => undefined);
  await s.idle();
  assert.equal(done, 1);
});
