import { MONITOR_GROUP } from '../protocol/socket-paths.js';
// Who may open the monitor socket, pure: the operator's choice (--monitor-access) and the
// host's groups in, the socket's mode and group out. The monitor socket shows every resource's
// state and iSCSI sessions to whoever connects; the default is the members of a group, not
// every local user, and the admin socket stays root's alone whatever is chosen.

/** `group`: the drbd-tui group; `world`: every local user; `root`: root only; anything else names a group. */
export type MonitorAccess = 'group' | 'world' | 'root' | { group: string };

export interface SocketAccess {
  mode: number;
  /** The group to give the socket; absent: leave it (root's). */
  gid?: number;
  /** Said once at startup when the choice could not be had as asked. */
  note?: string;
}

const GROUP_NAME = /^[a-z_][a-z0-9_.-]*\$?$/i;

/** The --monitor-access value, or a message naming the problem and the fix. */
export function parseMonitorAccess(v: string): MonitorAccess | { error: string } {
  if (v === 'group' || v === 'world' || v === 'root') return v;
  if (GROUP_NAME.test(v) && v.length <= 32) return { group: v };
  return { error: `--monitor-access must be group (the ${MONITOR_GROUP} group), world, root or a group name (got ${JSON.stringify(v)})` };
}

export function monitorSocketAccess(access: MonitorAccess, gidOf: (group: string) => number | undefined): SocketAccess {
  if (access === 'world') return { mode: 0o666 };
  if (access === 'root') return { mode: 0o600 };
  const group = access === 'group' ? MONITOR_GROUP : access.group;
  const gid = gidOf(group);
  if (gid !== undefined) return { mode: 0o660, gid };
  return {
    mode: 0o600,
    note: `group ${group} does not exist, so the monitor socket is root only; to let users read status: groupadd ${group} && usermod -aG ${group} USER, then restart the daemon (or start it with --monitor-access world)`,
  };
}

/** A group's id from /etc/group's text (name:password:gid:members). */
export function gidInGroupFile(text: string, group: string): number | undefined {
  for (const line of text.split('\n')) {
    const [name, , gid] = line.split(':');
    if (name === group && gid !== undefined && /^\d+$/.test(gid)) return Number(gid);
  }
  return undefined;
}
