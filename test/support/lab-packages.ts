// Suites that drive Debian-packaged tools check for them first: under CI a missing tool is a
// failure with the package to install; elsewhere the suite is skipped with that reason.
import { access } from 'node:fs/promises';

export interface NeededTool {
  path: string;
  pkg: string;
}

export async function missingTools(tools: NeededTool[]): Promise<string | undefined> {
  const missing: NeededTool[] = [];
  for (const t of tools) {
    try {
      await access(t.path);
    } catch {
      missing.push(t);
    }
  }
  if (missing.length === 0) return undefined;
  const pkgs = [...new Set(missing.map((m) => m.pkg))].join(' ');
  return `missing ${missing.map((m) => m.path).join(', ')} (apt-get install ${pkgs})`;
}

/** Returns a skip reason outside CI; throws under CI=true so the run fails loudly. */
export async function requireTools(tools: NeededTool[]): Promise<string | undefined> {
  const reason = await missingTools(tools);
  if (reason && process.env.CI === 'true') throw new Error(`cannot run: ${reason}`);
  if (reason) console.log(`# SKIP: ${reason}`);
  return reason;
}

export const ISCSI_TOOLS: NeededTool[] = [
  { path: '/usr/bin/iscsi-ls', pkg: 'libiscsi-bin' },
  { path: '/usr/bin/iscsi-inq', pkg: 'libiscsi-bin' },
  { path: '/usr/bin/iscsi-readcapacity16', pkg: 'libiscsi-bin' },
  { path: '/usr/bin/iscsi-test-cu', pkg: 'libiscsi-bin' },
  { path: '/usr/bin/qemu-io', pkg: 'qemu-utils' },
  { path: '/usr/bin/qemu-img', pkg: 'qemu-utils' },
  { path: '/usr/lib/x86_64-linux-gnu/qemu/block-iscsi.so', pkg: 'qemu-block-extra' },
];

/** Debian's prometheus package: the server (lab scrapes) and promtool (rules, exposition format). */
export const PROMETHEUS_TOOLS: NeededTool[] = [
  { path: '/usr/bin/prometheus', pkg: 'prometheus' },
  { path: '/usr/bin/promtool', pkg: 'prometheus' },
];

/** Debian's drbd-utils: drbdadm, the reference for DRBD's config grammar and version codes (no kernel module needed). */
export const DRBD_UTILS_TOOLS: NeededTool[] = [
  { path: '/usr/sbin/drbdadm', pkg: 'drbd-utils' },
  { path: '/usr/sbin/drbdsetup', pkg: 'drbd-utils' },
];
