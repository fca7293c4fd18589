// Where the daemon listens: the admin socket (root's, every verb) and the monitor socket beside
// it (read-only, for the drbd-tui group by default). The console forwards to them over SSH.

export const ADMIN_SOCKET = '/run/drbd-tui/agent.sock';

/** The monitor socket's path beside the admin socket: agent.sock → agent.ro.sock. */
export function monitorSocketPath(adminSocket: string): string {
  return adminSocket.replace(/(\.sock)?$/, '.ro.sock');
}

export const MONITOR_SOCKET = monitorSocketPath(ADMIN_SOCKET);

/** The group whose members may open the monitor socket when --monitor-access is `group` (the default). */
export const MONITOR_GROUP = 'drbd-tui';
