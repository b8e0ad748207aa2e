// Turns the parent's pipe ends into Node streams, and tees stderr into a line tail.
import { Socket } from 'node:net';
import { PassThrough, type Readable } from 'node:stream';

import type { LineTail } from '../common/line-tail.js';

/** A readable stream over a pipe fd (non-blocking, in the event loop, no threadpool). */
export function readableFromFd(fd: number): Socket {
  return new Socket({ fd, readable: true, writable: false });
}

/**
 * Feeds `source` into `tail` and returns the stream the user reads: `source` itself
 * when nobody else reads it (`forwardTo` given: data is copied there), else a
 * PassThrough that respects backpressure. `ended` settles when the source is done.
 */
export function teeIntoTail(
  source: Socket,
  tail: LineTail,
  forwardTo: NodeJS.WritableStream | null,
): { userStream: Readable | null; ended: Promise<void> } {
  const ended = new Promise<void>((resolve) => {
    source.once('close', () => {
      tail.end();
      resolve();
    });
  });
  source.on('error', () => {}); // a broken pipe ends the tail; 'close' follows
  if (forwardTo !== null) {
    source.on('data', (chunk: Buffer) => {
      tail.push(chunk);
      forwardTo.write(chunk);
    });
    return { userStream: null, ended };
  }
  const user = new PassThrough();
  source.on('data', (chunk: Buffer) => {
    tail.push(chunk);
    if (!user.write(chunk)) {
      source.pause();
      user.once('drain', () => source.resume());
    }
  });
  source.once('end', () => user.end());
  return { userStream: user, ended };
}
