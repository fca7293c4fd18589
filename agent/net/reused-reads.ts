// Socket reads into one buffer per connection, reused for every read, instead of a new
// Buffer per read: on a replication link that is most of the memory a Secondary allocates,
// and so most of its garbage collection (see lib/buffer-pool.ts). The chunk handed to
// onChunk is valid only until it returns; whoever keeps bytes must copy them.
//
// A consumer in the middle of a large payload (a 1 MiB replicated write, a 256 KiB Data-Out)
// may name where the rest of it goes (directTarget): the next read lands there, and the bytes
// are not copied out of the shared buffer a second time.
//
// Node 20 offers this (`onread`) to sockets it dials, not to accepted ones; an accepted
// socket's handle is adopted by a new Socket that has it. Where that is not possible the
// socket's ordinary 'data' events are used, with the same contract (and no direct reads).
import { Socket, type OnReadOpts } from 'node:net';

export interface ReadSink {
  /** Bytes read into the shared buffer; valid only until this returns. */
  onChunk(chunk: Buffer): void;
  /**
   * Where the next read may land instead: the rest of a payload being assembled, when at least
   * DIRECT_READ_MIN and when no bytes received earlier wait to be consumed. Asked after every read.
   */
  directTarget?(): Buffer | undefined;
  /** n bytes landed at the start of what directTarget() returned. */
  onPlaced?(n: number): void;
}

/** Each connection's read buffer: what one read takes at most. */
const READ_BUFFER_BYTES = 256 << 10;
const readBuffer = (): Buffer => Buffer.allocUnsafeSlow(READ_BUFFER_BYTES);
/** Below this a payload's rest is copied: a read of its own would cost more than the copy. */
export const DIRECT_READ_MIN = 64 << 10;

/** The `onread` option for net.connect(). */
export function onreadInto(sink: ReadSink, buffer = readBuffer()): OnReadOpts {
  return {
    buffer: () => sink.directTarget?.() ?? buffer,
    callback: (n, into) => {
      if (into === buffer) sink.onChunk(buffer.subarray(0, n));
      else sink.onPlaced?.(n);
      return true;
    },
  };
}

/**
 * The same contract through 'data' events, for a socket whose bytes are not its handle's
 * (a TLSSocket decrypts them): every chunk is fresh, there are no direct reads.
 */
export function readByEvents(socket: Socket, sink: ReadSink): void {
  socket.on('data', (chunk: Buffer) => sink.onChunk(chunk));
}

/**
 * Takes over a socket accepted by a server created with `pauseOnConnect: true`; use the
 * returned socket from then on. The server no longer counts it among its connections.
 */
export function adoptAccepted(accepted: Socket, sink: ReadSink, buffer = readBuffer()): Socket {
  const holder = accepted as unknown as { _handle?: { readStart?: unknown } | null };
  const handle = holder._handle;
  if (!handle || typeof handle.readStart !== 'function' || accepted.destroyed) {
    readByEvents(accepted, sink);
    accepted.resume();
    return accepted;
  }
  holder._handle = null;
  // Without a handle, destroy() only settles the server's connection count and closes the shell.
  accepted.destroy();
  return new Socket({ handle, readable: true, writable: true, onread: onreadInto(sink, buffer) } as ConstructorParameters<typeof Socket>[0] & { onread: OnReadOpts });
}
