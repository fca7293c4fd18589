import { test } from 'node:test';
import assert from 'node:assert/strict';
import { gidInGroupFile, monitorSocketAccess, parseMonitorAccess, type MonitorAccess } from '../../../agent/control/monitor-access.js';

const GROUPS = 'root:x:0:\nadm:x:4:syslog\ndrbd-tui:x:998:alice,bob\nstorage-ops:x:1005:\nbroken:x:\n';
const gidOf = (g: string) => gidInGroupFile(GROUPS, g);

test('the socket mode and group for each choice', () => {
  const cases: Array<[MonitorAccess, number, number | undefined, RegExp | undefined]> = [
    ['group', 0o660, 998, undefined],
    ['world', 0o666, undefined, undefined],
    ['root', 0o600, undefined, undefined],
    [{ group: 'storage-ops' }, 0o660, 1005, undefined],
    [{ group: 'nobody-here' }, 0o600, undefined, /group nobody-here does not exist, so the monitor socket is root only; .*groupadd nobody-here && usermod -aG nobody-here USER/],
  ];
  for (const [access, mode, gid, note] of cases) {
    const a = monitorSocketAccess(access, gidOf);
    assert.equal(a.mode, mode, JSON.stringify(access));
    assert.equal(a.gid, gid, JSON.stringify(access));
    if (note) assert.match(a.note ?? '', note);
    else assert.equal(a.note, undefined);
  }
  assert.match(monitorSocketAccess('group', () => undefined).note ?? '', /group drbd-tui does not exist.*--monitor-access world/);
});

test('--monitor-access values; a bad one says what is allowed', () => {
  assert.equal(parseMonitorAccess('group'), 'group');
  assert.deepEqual(parseMonitorAccess('storage-ops'), { group: 'storage-ops' });
  assert.match((parseMonitorAccess('a b') as { error: string }).error, /must be group \(the drbd-tui group\), world, root or a group name \(got "a b"\)/);
});

test('/etc/group: by name, a line without a gid is no group', () => {
  assert.equal(gidInGroupFile(GROUPS, 'adm'), 4);
  assert.equal(gidInGroupFile(GROUPS, 'broken'), undefined);
  assert.equal(gidInGroupFile(GROUPS, 'drbd'), undefined);
});
