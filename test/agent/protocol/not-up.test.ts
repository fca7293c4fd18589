import { test } from 'node:test';
import assert from 'node:assert/strict';
import { judgeNotUp, notUpLine, notUpPhrase, type DiskProbe, type NotUpFacts } from '../../../agent/protocol/not-up.js';

const FILE = '/etc/drbd-tui/r0.yaml';
const DISK = '/var/lib/drbd-tui/disks/r0-0.img';
const facts = (probe: DiskProbe, more: Partial<NotUpFacts> = {}): NotUpFacts => ({
  name: 'r0',
  file: FILE,
  volumes: [{ volume: 0, disk: DISK, sizeSet: false, probe }],
  ...more,
});

test('judgeNotUp: the cause, its words and the next step, for each thing that can stand in the way', () => {
  const table: Array<[string, NotUpFacts, string, RegExp, RegExp]> = [
    ['nothing in the way', facts({ kind: 'ok' }), 'down', /^$/, /^drbd-agent up r0$/],
    ['missing file disk with size: create-md creates it', facts({ kind: 'missing' }, { volumes: [{ volume: 0, disk: DISK, sizeSet: true, probe: { kind: 'missing' } }] }), 'backing-disk-missing', /^backing disk \/var\/lib\/drbd-tui\/disks\/r0-0\.img does not exist$/, /^drbd-agent create-md r0 \(creates .*r0-0\.img\), then: drbd-agent up r0$/],
    ['missing disk without size', facts({ kind: 'missing' }), 'backing-disk-missing', /does not exist$/, /^attach the disk or correct disk: in \/etc\/drbd-tui\/r0\.yaml, then: drbd-agent up r0$/],
    ['unreadable disk', facts({ kind: 'failed', error: `cannot read backing disk ${DISK}: EIO: i/o error` }), 'backing-disk-failed', /^cannot read backing disk .*: EIO/, /^check .*r0-0\.img \(kernel log, SMART\)/],
    ['blank disk', facts({ kind: 'no-metadata' }), 'metadata-missing', /^no metadata on .*r0-0\.img$/, /^drbd-agent create-md r0, then: drbd-agent up r0$/],
    ['damaged metadata: force only over a copy the peer holds', facts({ kind: 'bad-metadata', problem: 'damaged', message: `metadata on ${DISK} is damaged (checksum mismatch)` }), 'metadata-invalid', /damaged \(checksum mismatch\)/, /^if the peer holds good data: drbd-agent create-md --force r0.*never when this disk holds the only copy$/],
    ['newer format', facts({ kind: 'bad-metadata', problem: 'newer-format', message: 'metadata … is format version 2' }), 'metadata-invalid', /format version 2/, /newer drbd-agent/],
    ['another node\'s metadata', facts({ kind: 'bad-metadata', problem: 'other-node', message: 'metadata … belongs to node-id 1' }), 'metadata-invalid', /node-id 1/, /^check hosts: in \/etc\/drbd-tui\/r0\.yaml/],
    ['file does not load', { name: 'r0', file: FILE, configError: { file: FILE, line: 3, col: 11, message: 'protocol: expected A, B or C' }, volumes: [] }, 'config-error', /^\/etc\/drbd-tui\/r0\.yaml:3:11: protocol: expected A, B or C$/, /^fix \/etc\/drbd-tui\/r0\.yaml:3:11, then: drbd-agent adjust$/],
    ['host not in the file', facts({ kind: 'ok' }, { notAHost: 'ha-c is not one of the hosts (ha-a, ha-b)' }), 'not-a-host', /ha-c is not one of/, /^add this host to hosts: in/],
  ];
  for (const [what, f, cause, reason, next] of table) {
    const n = judgeNotUp(f);
    assert.equal(n.cause, cause, what);
    assert.match(n.reason, reason, what);
    assert.match(n.next, next, what);
    assert.equal(n.file, FILE, what);
  }
});

test('judgeNotUp: the first volume with a problem wins; volumes are listed; the failed up is kept', () => {
  const n = judgeNotUp({
    name: 'r1',
    file: FILE,
    upError: 'cannot open backing disk: backing disk /d1 does not exist',
    volumes: [
      { volume: 0, disk: '/d0', sizeSet: false, probe: { kind: 'ok' } },
      { volume: 1, disk: '/d1', sizeSet: false, probe: { kind: 'missing' } },
    ],
  });
  assert.deepEqual([n.cause, n.reason, n.volumes, n.upError], ['backing-disk-missing', 'backing disk /d1 does not exist', [0, 1], 'cannot open backing disk: backing disk /d1 does not exist']);
});

test('notUpPhrase and notUpLine: the state with its cause, and the next step', () => {
  const down = judgeNotUp(facts({ kind: 'ok' }));
  assert.equal(notUpPhrase(down), 'configured, down');
  assert.equal(notUpLine(down), 'r0 (/etc/drbd-tui/r0.yaml): configured, down; next: drbd-agent up r0');
  const missing = judgeNotUp(facts({ kind: 'missing' }));
  assert.equal(notUpPhrase(missing), `broken: backing disk ${DISK} does not exist`);
  const tried = judgeNotUp(facts({ kind: 'ok' }, { upError: 'port 7789 in use' }));
  assert.match(notUpLine(tried), /configured, down \(up failed: port 7789 in use\); next: drbd-agent up r0$/);
  // A broken one says what the look found; the up's own error would only repeat it, less precisely.
  const noMd = judgeNotUp(facts({ kind: 'no-metadata' }, { upError: 'no valid metadata; run create-md first' }));
  assert.equal(notUpPhrase(noMd), `broken: no metadata on ${DISK}`);
  assert.equal(noMd.upError, 'no valid metadata; run create-md first');
});
