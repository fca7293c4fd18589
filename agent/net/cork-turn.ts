// Everything written to a socket in one turn of the event loop leaves in one writev: at queue
// depth 32 many messages are produced per turn, and a syscall per message is what costs.
// The socket is uncorked in the check phase, after this turn's I/O callbacks have run.
import type { Writable } from 'node:stream';

const corked = new WeakSet<Writable>();

export function corkForTurn(socket: Writable): void {
  if (corked.has(socket)) return;
  corked.add(socket);
  socket.cork();
  setImmediate(() => {
    corked.delete(socket);
    socket.uncork();
  });
}
