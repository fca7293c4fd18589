// The login phase against real loopback sockets: what a refused or abandoned login leaves
// behind (nothing), the caps on connections that have not logged in, and the deadlines.
import { test, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { IscsiTarget, type IscsiTargetOptions } from '../../../agent/iscsi/target.js';
import { LoginError, TestInitiator } from '../../support/iscsi-initiator.js';
import { MemoryBlockDevice } from '../../support/memory-block-device.js';
import { waitFor } from '../../support/wait.js';

const IQN = 'iqn.2026-11.test:login-phase';
const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()?.();
});

async function serve(over: Partial<IscsiTargetOptions> = {}) {
  const log: string[] = [];
  const target = new IscsiTarget({ iqn: IQN, host: '127.0.0.1', port: 0, luns: [new MemoryBlockDevice(1 << 20)], logoutGrace: 0, log: (m) => log.push(m), ...over });
  await target.start();
  cleanups.push(() => target.stop());
  return { target, log };
}

test('refused logins leave no connection registered in the target', async () => {
  const { target } = await serve();
  for (let k = 0; k < 50; k++) {
    await assert.rejects(TestInitiator.login({ port: target.port, target: 'iqn.2026-11.test:nobody' }), (e) => e instanceof LoginError && e.status === 0x0203);
  }
  await waitFor(() => target.connectionCount === 0, 'refused connections forgotten', 5000);
});

test('allowed-initiators: another initiator name gets 0x0202, an allowed one logs in', async () => {
  const { target } = await serve({ allowedInitiators: ['iqn.2026-11.test:yes'] });
  await assert.rejects(TestInitiator.login({ port: target.port, target: IQN, initiatorName: 'iqn.2026-11.test:no' }), (e) => e instanceof LoginError && e.status === 0x0202);
  const ok = await TestInitiator.login({ port: target.port, target: IQN, initiatorName: 'iqn.2026-11.test:yes' });
  cleanups.push(() => ok.close());
  assert.equal(target.sessions().length, 1);
});

test('login-phase caps: beyond the per-address cap and the total cap new connections are closed at once; a finished login frees a place', async () => {
  const { target, log } = await serve({ loginLimits: { maxLoginConnections: 6, maxLoginConnectionsPerAddress: 3 } });
  const idle: TestInitiator[] = [];
  const connect = async (from: string) => {
    const i = await TestInitiator.connect({ port: target.port, localAddress: from, target: IQN });
    cleanups.push(() => i.close());
    idle.push(i);
    return i;
  };
  for (let k = 0; k < 3; k++) await connect('127.0.0.1');
  const over = await connect('127.0.0.1');
  assert.ok(await over.waitClosed(2000), 'the 4th from one address is closed');
  for (let k = 0; k < 3; k++) await connect('127.0.0.2');
  const overTotal = await connect('127.0.0.3');
  assert.ok(await overTotal.waitClosed(2000), 'the 7th in all is closed');
  // One line when a cap starts refusing and one when it admits again, not one per connection.
  assert.equal(log.filter((l) => /login-phase cap/.test(l)).length, 3, log.join(' | '));
  idle[0]!.close();
  await waitFor(() => target.connectionCount === 5, 'a place freed', 2000);
  const good = await TestInitiator.login({ port: target.port, localAddress: '127.0.0.3', target: IQN });
  cleanups.push(() => good.close());
  assert.equal(target.sessions().length, 1);
  assert.ok(log.some((l) => /admitting again after closing 1 /.test(l)), log.join(' | '));
});

test('a connection that does not complete login is closed at the login deadline; one stuck mid-PDU after login at the stalled-PDU timeout', async () => {
  const { target, log } = await serve({ loginLimits: { loginTimeoutMs: 300, stalledPduTimeoutMs: 300 } });
  const silent = await TestInitiator.connect({ port: target.port, target: IQN });
  cleanups.push(() => silent.close());
  assert.ok(await silent.waitClosed(3000), 'closed by the login deadline');
  assert.ok(log.some((l) => /login from .* not completed in 300 ms/.test(l)), log.join(' | '));
  const stuck = await TestInitiator.login({ port: target.port, target: IQN });
  cleanups.push(() => stuck.close());
  // Half a BHS, then nothing.
  stuck.sendRaw(Buffer.alloc(20));
  assert.ok(await stuck.waitClosed(3000), 'closed after stalling mid-PDU');
  assert.ok(log.some((l) => /stopped in the middle of a PDU/.test(l)), log.join(' | '));
  const idle = await TestInitiator.login({ port: target.port, target: IQN });
  cleanups.push(() => idle.close());
  assert.equal(await idle.waitClosed(1000), false, 'an idle session between PDUs stays');
  await waitFor(() => target.connectionCount === 1, 'only the idle session is held', 2000);
});
