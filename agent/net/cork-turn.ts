// Everything written to a socket in one turn of the event loop leaves in one writev: at queue
// depth 32 many messages are produced per turn, and a syscall per message is what costs.
// The socket is uncorked in the check phase, after this turn's I/O callbacks have run.
//
// A turn's batch is cut at CORK_BATCH_BYTES: Node reports a writev done (writableLength
// shrinks) only when all of it reached the kernel, and the peer link's liveness reads that as
// the peer's progress. One 8 MiB writev to a peer reading at 12 MB/s (a 100 Mbit link) shows
// no progress for 0.7 s, longer than a ping timeout, and a live peer would be declared dead.
import type { Writable } from 'node:stream';

export const CORK_BATCH_BYTES = 2 << 20;

/** Bytes corked so far in this turn, per socket. */
const corked = new WeakMap<Writable, number>();

/** Call before writing `bytes` to `socket`. */
export function corkForTurn(socket: Writable, bytes = 0): void {
  const held = corked.get(socket);
  if (held === undefined) {
    corked.set(socket, bytes);
    socket.cork();
    setImmediate(() => {
      corked.delete(socket);
      socket.uncork();
    });
    return;
  }
  if (held > 0 && held + bytes > CORK_BATCH_BYTES) {
    // What is held leaves as one writev now; this message starts the next batch.
    socket.uncork();
    socket.cork();
    corked.set(socket, bytes);
  } else corked.set(socket, held + bytes);
}
