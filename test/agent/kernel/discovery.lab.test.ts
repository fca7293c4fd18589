// Discovery over the real `drbdadm --version` of Debian's drbd-utils. A lab suite because drbdadm
// is a Debian package (installed for the lab suites; missing under CI=true is a failure); it
// needs no root and no kernel module.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { discoverKernelDrbd, formatVersion } from '../../../agent/kernel/discovery.js';
import { DRBD_UTILS_TOOLS, requireTools } from '../../support/lab-packages.js';

const skip = await requireTools(DRBD_UTILS_TOOLS);

test('the installed drbdadm --version: our parse agrees with its DRBDADM_VERSION line', { skip }, () => {
  const text = execFileSync(DRBD_UTILS_TOOLS[0]!.path, ['--version'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
  const printed = /^DRBDADM_VERSION=(\S+)$/m.exec(text)?.[1];
  assert.ok(printed, `no DRBDADM_VERSION line in:\n${text}`);
  const moduleLoaded = existsSync('/sys/module/drbd');
  const d = discoverKernelDrbd({ versionText: text, moduleLoaded });
  assert.ok(d.utils);
  assert.equal(formatVersion(d.utils), printed.replace(/-.*$/, ''));
  if (!moduleLoaded) assert.equal(d.kind, 'utils-without-module');
});
