// Reading `ss -xpn` (iproute2: every unix socket of this network namespace from sock_diag, with
// the processes holding it) for what SO_PEERCRED would tell and Node cannot ask: which socket is
// at the other end of one we accepted, and who holds that one. Pure; peer-uid.ts runs ss.
//
// ss prints socket names as they are, newlines included, and a client names its own socket (and
// its process), so any text in the output may be forged. Only two things are relied on: the
// line that ends with our own process's pid and fd (ours to print, so a second such line is a
// forgery and makes the answer unknown), and pid/fd pairs that /proc confirms hold the inode.
// `a -> b` below is a record's `local-inode * peer-inode users:((…))`:
//   u_str ESTAB 0 0 /run/drbd-tui/agent.ro.sock 4657584 * 4657583 users:(("node",pid=10936,fd=20))
//   u_str ESTAB 0 0 * 4657583 * 4657584 users:(("drbd-agent",pid=10947,fd=18))

export interface ProcessFd {
  pid: number;
  fd: number;
}

/** Candidates checked at most per lookup: forged lines cannot make us stat without end. */
export const MAX_HOLDER_CANDIDATES = 16;

/** The inode of the socket at the other end of the one `own` holds; undefined unless exactly one is printed. */
export function peerInodeIn(ssText: string, own: ProcessFd): number | undefined {
  const ending = new RegExp(`(\\d+) +users:\\(\\("[^\\n]*",pid=${own.pid},fd=${own.fd}\\)\\) *$`, 'gm');
  const inodes = new Set<number>();
  for (const m of ssText.matchAll(ending)) inodes.add(Number(m[1]));
  return inodes.size === 1 ? [...inodes][0] : undefined;
}

/** pid/fd pairs on lines that name `inode`, at most MAX_HOLDER_CANDIDATES: to be confirmed against /proc before they are believed. */
export function holderCandidates(ssText: string, inode: number): ProcessFd[] {
  const token = String(inode);
  const found: ProcessFd[] = [];
  for (const line of ssText.split('\n')) {
    if (!line.split(/\s+/).includes(token)) continue;
    for (const m of line.matchAll(/pid=(\d+),fd=(\d+)\)/g)) {
      found.push({ pid: Number(m[1]), fd: Number(m[2]) });
      if (found.length === MAX_HOLDER_CANDIDATES) return found;
    }
  }
  return found;
}
