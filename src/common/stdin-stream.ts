// The write end of a proc's stdin as a stream: non-blocking in the event loop (a proc
// that stops reading cannot tie up the threadpool), and a write after the proc is gone
// (EPIPE) is not an unhandled 'error'.
import { Socket } from 'node:net';
import type { Writable } from 'node:stream';

export function writableFromFd(fd: number): Writable {
  const stream = new Socket({ fd, readable: false, writable: true });
  stream.on('error', (error: NodeJS.ErrnoException) => {
    // The reader left: what was not written is dropped, as with a shell pipeline. A write
    // still pending when the proc exited is cancelled by our closing the pipe (ECANCELED).
    if (error.code === 'EPIPE' || error.code === 'ECONNRESET' || error.code === 'ECANCELED') return;
    // Anything else stays an error for whoever listens; with nobody else, as loud as usual.
    if (stream.listenerCount('error') === 1) throw error;
  });
  return stream;
}

/** Once the proc has exited nobody can read the pipe: close our end so no fd outlives the proc. */
export function closeAtExit(stdin: Writable | null, exit: Promise<unknown>): void {
  if (stdin !== null) void exit.then(() => stdin.destroy());
}
