// A backing disk that fails flushes or metadata writes on demand (test/support/faulty-disk.ts):
// the runtime reports the failure where it used to report success.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { IoError } from '../../../agent/block/block-device.js';
import { upToDatePair } from '../../support/two-runtimes.js';
import { waitFor } from '../../support/wait.js';
import { injectFaults } from '../../support/faulty-disk.js';

test('a failed fdatasync fails the flush (SYNCHRONIZE CACHE), marks its extent out of sync on both nodes and alerts', async () => {
  const p = await upToDatePair({ size: '16M' });
  try {
    const faults = injectFaults(p.a.stores[0]!);
    const alerts: string[] = [];
    p.a.on('log', (l) => l.level === 'alert' && alerts.push(l.text));
    const dev = p.a.blockDevice(0);
    await dev.write(5 << 20, Buffer.alloc(4096, 7));
    faults.flush = true;
    await assert.rejects(dev.flush(), (e: unknown) => e instanceof IoError && e.code === 'io' && /EIO/.test(e.message));
    assert.ok(alerts.some((t) => /flush \(fdatasync\) failed/.test(t)), alerts.join('\n'));
    assert.ok(p.a.state.volumes[0]!.bitmap.test((5 << 20) / 4096));
    await waitFor(() => p.b.state.volumes[0]!.bitmap.test((5 << 20) / 4096), 'the peer to mark the extent');
    faults.flush = false;
    await dev.flush();
  } finally {
    await p.close();
  }
});

test('a failed metadata write is not taken as persisted: the disk is Failed, writes are refused, the peer is left', async () => {
  const p = await upToDatePair({ size: '16M' });
  try {
    const faults = injectFaults(p.a.stores[0]!);
    const dev = p.a.blockDevice(0);
    faults.meta = true;
    // A reservation change persists the superblock before it completes.
    await assert.rejects(p.a.reservationStore(0).save(Buffer.from('reservations')), /EIO/);
    assert.equal(p.a.state.volumes[0]!.disk, 'Failed');
    assert.equal(p.a.state.conn, 'StandAlone');
    assert.match(p.a.state.lastError ?? '', /metadata write failed/);
    await assert.rejects(dev.write(0, Buffer.alloc(4096, 1)), /local disk is Failed/);
    await assert.rejects(p.a.admin({ cmd: 'connect', discardMyData: false }), /Failed/);
    faults.meta = false;
  } finally {
    await p.a.abandon();
    await p.close();
  }
});
