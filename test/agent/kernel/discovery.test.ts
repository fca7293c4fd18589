import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { discoverKernelDrbd, parseVersionCode, type KernelDrbdKind } from '../../../agent/kernel/discovery.js';

// `drbdadm --version` as drbd-utils prints it (the printf in user/v9/drbdadm_main.c).
const version = (kernelCode: string, utilsCode: string, utils: string) =>
  `DRBDADM_BUILDTAG=GIT-hash:\\ 409097fe02187f83790b88ac3e0d94f3c167adab\\ reproducible\\ build\\,\\ 2023-01-09\\ 14:51:18\nDRBDADM_API_VERSION=2\nDRBD_KERNEL_VERSION_CODE=${kernelCode}\nDRBDADM_VERSION_CODE=${utilsCode}\nDRBDADM_VERSION=${utils}\n`;

describe('kernel DRBD discovery', () => {
  const cases: Array<{ name: string; text: string | undefined; module: boolean; kind: KernelDrbdKind; says: RegExp }> = [
    { name: 'utils 9.22 and module 9.2.2', text: version('0x090202', '0x091600', '9.22.0'), module: true, kind: 'kernel-9', says: /drbd-utils 9\.22\.0, DRBD module 9\.2\.2: the kernel engine can serve/ },
    { name: 'utils 9.1.1 and module 9.0.9 (an issue report)', text: version('0x090009', '0x090101', '9.1.1'), module: true, kind: 'kernel-9', says: /module 9\.0\.9/ },
    { name: 'utils without the module (code 0)', text: version('0x000000', '0x091600', '9.22.0'), module: false, kind: 'utils-without-module', says: /not loaded .*modprobe drbd/ },
    { name: 'a module dir but no version read', text: version('0x000000', '0x091600', '9.22.0'), module: true, kind: 'utils-without-module', says: /reads no module version .*rmmod drbd && modprobe drbd/ },
    { name: 'a version but no module dir (stale /proc)', text: version('0x090202', '0x091600', '9.22.0'), module: false, kind: 'utils-without-module', says: /\/sys\/module\/drbd is missing/ },
    { name: 'utils 9 with module 8.4.11', text: version('0x08040b', '0x091600', '9.22.0'), module: true, kind: 'drbd-8', says: /DRBD module 8\.4\.11: DRBD 8\.4 is loaded .*upgrade the module to DRBD 9/ },
    { name: 'utils 8.9.6 with module 8.4.7', text: version('0x080407', '0x080906', '8.9.6'), module: true, kind: 'drbd-8', says: /drbd-utils 8\.9\.6.*upgrade to drbd-utils 9/ },
    { name: 'no drbdadm', text: undefined, module: false, kind: 'none', says: /drbdadm not found: install drbd-utils/ },
    { name: 'something else answering to drbdadm', text: 'usage: drbdadm [options]\n', module: true, kind: 'none', says: /no DRBDADM_VERSION_CODE=0x/ },
  ];
  for (const c of cases) {
    test(c.name, () => {
      const d = discoverKernelDrbd({ versionText: c.text, moduleLoaded: c.module });
      assert.equal(d.kind, c.kind);
      assert.match(d.message, c.says);
    });
  }

  test('version codes are major<<16 | minor<<8 | patch', () => {
    assert.deepEqual(parseVersionCode('0x091600'), { major: 9, minor: 22, patch: 0 });
    assert.equal(parseVersionCode('9.22.0'), undefined);
  });
});
