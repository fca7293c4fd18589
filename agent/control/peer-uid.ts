// The uids of the clients at the other end of accepted unix sockets, without a native module:
// one `ss -xpn` answers for every socket asked at once (ss-unix.ts reads it), and the uid is the
// owner of the client's socket inode, stat'ed through /proc/PID/fd/FD — the socket's creator,
// which no unprivileged client can change, and what SO_PEERCRED reports for an ordinary client.
// A client in another network namespace (sock_diag does not list its socket), one that closed,
// or output that names our socket twice gives `unknown`.
import { execFile } from 'node:child_process';
import { stat } from 'node:fs/promises';
import type { Socket } from 'node:net';
import type { ClientUid } from './monitor-admission.js';
import { holderCandidates, peerInodeIn } from './ss-unix.js';

const SS_TIMEOUT_MS = 5000;
/** Every unix socket on the host is printed: a host with very many needs room (~150 bytes each). */
const SS_MAX_OUTPUT = 32 << 20;

function runSs(ss: string): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(ss, ['-xpnH'], { timeout: SS_TIMEOUT_MS, maxBuffer: SS_MAX_OUTPUT, encoding: 'utf8' }, (err, stdout, stderr) => {
      if (err) reject(new Error(`${ss} -xpnH: ${stderr.trim() || err.message}`));
      else resolve(stdout);
    });
  });
}

function fdOf(sock: Socket): number | undefined {
  const fd = (sock as unknown as { _handle?: { fd?: unknown } })._handle?.fd;
  return typeof fd === 'number' && fd >= 0 ? fd : undefined;
}

async function uidOf(ssText: string, fd: number): Promise<ClientUid> {
  const peer = peerInodeIn(ssText, { pid: process.pid, fd });
  if (peer === undefined) return 'unknown';
  for (const c of holderCandidates(ssText, peer)) {
    const st = await stat(`/proc/${c.pid}/fd/${c.fd}`).catch(() => undefined);
    if (st?.isSocket() && st.ino === peer) return st.uid;
  }
  return 'unknown';
}

/** Each open socket's client uid; rejects when ss cannot be run or fails (the caller falls back to the total cap). */
export async function peerUids(ss: string, socks: readonly Socket[]): Promise<Map<Socket, ClientUid>> {
  const text = await runSs(ss);
  const uids = new Map<Socket, ClientUid>();
  for (const sock of socks) {
    const fd = fdOf(sock);
    if (fd !== undefined && !sock.destroyed) uids.set(sock, await uidOf(text, fd));
  }
  return uids;
}
