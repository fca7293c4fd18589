// Whether this host can run resources on the kernel's DRBD 9, from what `drbdadm --version`
// prints and whether the module is loaded (/sys/module/drbd). Pure: the caller runs the tool
// and looks at sysfs.
//
// drbdadm (drbd-utils, user/v9/drbdadm_main.c) prints shell assignments, one a line:
//   DRBDADM_BUILDTAG=GIT-hash:\ 409097fe…\ reproducible\ build\,\ 2023-01-09\ 14:51:18
//   DRBDADM_API_VERSION=2
//   DRBD_KERNEL_VERSION_CODE=0x090202     (0x%06x: major<<16 | minor<<8 | patch; 0 without the module)
//   DRBD_KERNEL_VERSION=9.2.2
//   DRBDADM_VERSION_CODE=0x091600
//   DRBDADM_VERSION=9.22.0
// drbd-utils 8.9 prints the same *_CODE lines; DRBD_KERNEL_VERSION is missing from older ones,
// so only the codes are trusted.

export interface DrbdVersion {
  major: number;
  minor: number;
  patch: number;
}

export type KernelDrbdKind =
  /** drbd-utils 9 and a loaded DRBD 9 module: the kernel engine can serve resources here. */
  | 'kernel-9'
  /** drbd-utils installed, the module not loaded (or not installed). */
  | 'utils-without-module'
  /** DRBD 8 (module 8.4, or drbd-utils 8.x): refused, its events and state names differ. */
  | 'drbd-8'
  /** No usable drbd-utils. */
  | 'none';

export interface KernelDrbd {
  kind: KernelDrbdKind;
  utils?: DrbdVersion;
  kernel?: DrbdVersion;
  /** What was found and, unless usable, the fix. */
  message: string;
}

export interface DiscoveryInput {
  /** stdout of `drbdadm --version`; undefined when drbdadm is not installed or did not run. */
  versionText: string | undefined;
  /** /sys/module/drbd exists. */
  moduleLoaded: boolean;
}

export function parseVersionCode(code: string): DrbdVersion | undefined {
  const m = /^0x([0-9a-f]{1,6})$/i.exec(code.trim());
  if (!m) return undefined;
  const n = parseInt(m[1]!, 16);
  return { major: n >> 16, minor: (n >> 8) & 0xff, patch: n & 0xff };
}

export function formatVersion(v: DrbdVersion): string {
  return `${v.major}.${v.minor}.${v.patch}`;
}

/** The KEY=VALUE lines of `drbdadm --version` (values as printed, shell escapes kept). */
export function versionAssignments(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const line of text.split('\n')) {
    const m = /^([A-Z0-9_]+)=(.*)$/.exec(line.trim());
    if (m) out.set(m[1]!, m[2]!);
  }
  return out;
}

const INSTALL_UTILS = 'install drbd-utils 9 (Debian/Ubuntu: apt install drbd-utils; RHEL: LINBIT\'s drbd-utils package)';
const LOAD_MODULE = 'load the DRBD 9 module: modprobe drbd (install it first if missing: drbd-dkms from LINBIT\'s PPA, or kmod-drbd9x)';

export function discoverKernelDrbd(input: DiscoveryInput): KernelDrbd {
  if (input.versionText === undefined) return { kind: 'none', message: `drbdadm not found: ${INSTALL_UTILS}` };
  const vars = versionAssignments(input.versionText);
  const utilsCode = vars.get('DRBDADM_VERSION_CODE');
  const utils = utilsCode === undefined ? undefined : parseVersionCode(utilsCode);
  if (!utils) {
    return { kind: 'none', message: `drbdadm --version printed no DRBDADM_VERSION_CODE=0x…… line (is it drbd-utils?): ${INSTALL_UTILS}` };
  }
  const kernelCode = vars.get('DRBD_KERNEL_VERSION_CODE');
  const parsedKernel = kernelCode === undefined ? undefined : parseVersionCode(kernelCode);
  // drbdadm prints 0x000000 when it finds no module; only a real version counts.
  const kernel = parsedKernel && parsedKernel.major > 0 ? parsedKernel : undefined;
  const found = `drbd-utils ${formatVersion(utils)}` + (kernel ? `, DRBD module ${formatVersion(kernel)}` : '');
  if (utils.major < 9) {
    return { kind: 'drbd-8', utils, kernel, message: `${found}: drbd-tui's kernel engine needs DRBD 9 (drbd-utils 8 speaks only DRBD 8.4): upgrade to drbd-utils 9 and the DRBD 9 module, or use the builtin engine` };
  }
  if (kernel && kernel.major < 9) {
    return { kind: 'drbd-8', utils, kernel, message: `${found}: DRBD 8.4 is loaded and drbd-tui's kernel engine needs DRBD 9 (events2 and the state names differ): upgrade the module to DRBD 9, or use the builtin engine` };
  }
  if (input.moduleLoaded && !kernel) {
    return { kind: 'utils-without-module', utils, message: `${found}: /sys/module/drbd exists but drbdadm reads no module version (DRBD_KERNEL_VERSION_CODE=${kernelCode ?? 'missing'}): check /proc/drbd and dmesg, then reload it: rmmod drbd && modprobe drbd` };
  }
  if (!input.moduleLoaded || !kernel) {
    return { kind: 'utils-without-module', utils, kernel, message: `${found}, but the drbd kernel module is not loaded (/sys/module/drbd is missing): ${LOAD_MODULE}` };
  }
  return { kind: 'kernel-9', utils, kernel, message: `${found}: the kernel engine can serve resources here` };
}
