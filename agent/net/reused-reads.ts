// Socket reads into one buffer per connection, reused for every read, instead of a new
// Buffer per read: on a replication link that is most of the memory a Secondary allocates,
// and so most of its garbage collection (see engine/buffer-pool.ts). The chunk handed to
// onChunk is valid only until it returns; whoever keeps bytes must copy them.
//
// Node 20 offers this (`onread`) to sockets it dials, not to accepted ones; an accepted
// socket's handle is adopted by a new Socket that has it. Where that is not possible the
// socket's ordinary 'data' events are used, with the same contract.
import { Socket, type OnReadOpts } from 'node:net';

type OnChunk = (chunk: Buffer) => void;

/** Each connection's read buffer: what one read takes at most. */
const READ_BUFFER_BYTES = 256 << 10;
const readBuffer = (): Buffer => Buffer.allocUnsafeSlow(READ_BUFFER_BYTES);

/** The `onread` option for net.connect(). */
export function onreadInto(onChunk: OnChunk, buffer = readBuffer()): OnReadOpts {
  return {
    buffer,
    callback: (n) => {
      onChunk(buffer.subarray(0, n));
      return true;
    },
  };
}

/**
 * Takes over a socket accepted by a server created with `pauseOnConnect: true`; use the
 * returned socket from then on. The server no longer counts it among its connections.
 */
export function adoptAccepted(accepted: Socket, onChunk: OnChunk, buffer = readBuffer()): Socket {
  const holder = accepted as unknown as { _handle?: { readStart?: unknown } | null };
  const handle = holder._handle;
  if (!handle || typeof handle.readStart !== 'function' || accepted.destroyed) {
    accepted.on('data', onChunk);
    accepted.resume();
    return accepted;
  }
  holder._handle = null;
  // Without a handle, destroy() only settles the server's connection count and closes the shell.
  accepted.destroy();
  return new Socket({ handle, readable: true, writable: true, onread: onreadInto(onChunk, buffer) } as ConstructorParameters<typeof Socket>[0] & { onread: OnReadOpts });
}
